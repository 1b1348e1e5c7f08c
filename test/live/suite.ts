import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AwsClients } from './aws-clients';
import { AwsLeftovers, StackResource } from './aws-signed';
import { LiveConfig, SECRET_NAME_PREFIX } from './config';
import { Assembly, deployExample, destroyExample, ExampleOutputs, ExampleParameters, localProblems, synthExample } from './example-app';
import { message, Report } from './report';
import { OWNER_METADATA_KEY, RestateCloudApi, STACK_METADATA_KEY, truncate } from './restate-api';

/** Set by the signal handler; the suite stops at the next step and cleans up. */
export interface Interruption {
  interrupted: boolean;
}

class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

/** What exists right now, so that `finally` removes exactly that. */
interface RunState {
  secretCreated?: string;
  assembly?: Assembly;
  stackMayExist?: boolean;
  destroyed?: boolean;
  restate?: RestateCloudApi;
  deploymentId?: string;
  /** The stack's resources, listed after the deploy (also after a failed one). */
  resources: StackResource[];
  leftoverLogGroups: string[];
}

/**
 * The live suite: deploy the Lambda example to a real account and Restate Cloud environment,
 * check it end to end, destroy it and check nothing is left behind. Every check prints one
 * PASS or FAIL line; cleanup always runs.
 */
export async function runLiveSuite(config: LiveConfig, report: Report, interruption: Interruption): Promise<void> {
  const { environmentId, restateRegion, awsRegion, stackName, runId, removalPolicy } = config;
  report.info(
    `live run ${runId}: stack ${stackName} in AWS region ${awsRegion} (from ${config.awsRegionSource}), credentials from ${config.credentialSource}; ` +
      `Restate Cloud environment ${environmentId} (${restateRegion}); removal policy ${removalPolicy}`,
  );
  const problems = localProblems();
  if (problems.length > 0) {
    for (const problem of problems) report.fail('local prerequisites', problem);
    return;
  }

  const checkpoint = () => {
    if (interruption.interrupted) throw new Interrupted();
  };
  const aws = new AwsClients(awsRegion);
  const leftovers = new AwsLeftovers(aws.credentials, awsRegion);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'restate-cloud-cdk-live-'));
  const state: RunState = { resources: [], leftoverLogGroups: [] };
  let params: ExampleParameters | undefined;

  try {
    const identity = await report.check('sts:GetCallerIdentity', async () => {
      const id = await aws.callerIdentity();
      return { detail: `running in AWS account ${id.account} as ${id.arn}, region ${awsRegion}`, value: id };
    });
    checkpoint();
    if (!identity) return;

    // The API key: stored in a secret for this run, or read from the secret the user named.
    let apiKey: string | undefined;
    let secretName: string;
    if (config.apiKey) {
      secretName = `${SECRET_NAME_PREFIX}${runId}`;
      const created = await report.check('API key secret created', async () => {
        const arn = await aws.createSecret(secretName, config.apiKey!, runId);
        state.secretCreated = secretName;
        return { detail: `Secrets Manager secret ${arn}`, value: true };
      });
      checkpoint();
      if (!created) return;
      apiKey = config.apiKey;
    } else {
      secretName = config.apiKeySecretName!;
      apiKey = await report.check('API key secret read', async () => ({
        detail: `Secrets Manager secret ${secretName}`,
        value: await aws.readSecret(secretName),
      }));
      checkpoint();
      if (!apiKey) return;
    }
    const restate = new RestateCloudApi(environmentId, restateRegion, apiKey);
    state.restate = restate;
    checkpoint();

    const reachable = await report.check('admin API accepts the key', async () => {
      const deployments = await restate.deployments();
      return { detail: `GET ${restate.adminUrl}/deployments: ${deployments.length} deployment(s) before the run`, value: true };
    });
    checkpoint();
    if (!reachable) return;

    const example: ExampleParameters = { environmentId, apiKeySecretName: secretName, restateRegion, stackName, removalPolicy, awsRegion, workDir };
    params = example;
    const assembly = await report.check('cdk synth', async () => {
      const a = await synthExample(example);
      const kept = a.retained.map((r) => `${r.logicalId} (${r.type}, DeletionPolicy ${r.deletionPolicy})`);
      if (kept.length > 0) report.info(`the template keeps these after cdk destroy: ${kept.join(', ')}`);
      return { detail: `one stack ${stackName}, registration removal policy ${removalPolicy}, outputs as expected`, value: a };
    });
    checkpoint();
    if (!assembly) return;
    state.assembly = assembly;

    state.stackMayExist = true;
    const outputs = await report.check('cdk deploy', async () => {
      const o = await deployExample(example, assembly);
      return { detail: `stack ${stackName}: deployment ${o.deploymentId}, invoker role ${o.invokerRoleArn}`, value: o };
    });
    // What the stack holds, to check after destroy that its deletion removed it.
    try {
      state.resources = await leftovers.stackResources(stackName);
    } catch (e) {
      report.info(`could not list the stack's resources (${message(e)}); only the stack itself is checked after destroy`);
    }
    checkpoint();

    if (outputs) {
      state.deploymentId = outputs.deploymentId;
      await checkRegistered(report, restate, outputs, stackName);
      checkpoint();
      await checkIngress(report, restate, outputs, runId);
      checkpoint();
      await checkConfusedDeputy(report, aws, outputs, environmentId, runId);
      checkpoint();
    }

    const destroyed = await report.check('cdk destroy', async () => {
      await destroyExample(example, assembly);
      return { detail: `cdk destroy --force ${stackName} succeeded`, value: true };
    });
    state.destroyed = destroyed === true;
    checkpoint();
    if (!destroyed) return;

    await report.check('stack gone', async () => {
      const status = await leftovers.stackStatus(stackName);
      if (status !== undefined && status !== 'DELETE_COMPLETE') throw new Error(`CloudFormation still has ${stackName} in status ${status}`);
      return { detail: `CloudFormation: ${stackName} ${status ?? 'does not exist'}`, value: true };
    });
    await checkResourcesGone(report, leftovers, state.resources, assembly, state);
    if (outputs) await checkRemovalPolicy(report, restate, outputs.deploymentId, removalPolicy);
  } catch (e) {
    if (e instanceof Interrupted) report.fail('run', 'interrupted by a signal; cleaning up');
    else report.fail('run', `unexpected error: ${message(e)}`);
  } finally {
    await cleanUp(report, aws, leftovers, state, params, stackName);
    fs.rmSync(workDir, { recursive: true, force: true });
    aws.destroy();
  }
}

async function checkRegistered(report: Report, restate: RestateCloudApi, outputs: ExampleOutputs, stackName: string): Promise<void> {
  await report.check('deployment registered', async () => {
    const d = await restate.deployment(outputs.deploymentId);
    if (!d) throw new Error(`${outputs.deploymentId} (stack output DeploymentId) is not listed by GET ${restate.adminUrl}/deployments`);
    const problems: string[] = [];
    if (!d.arn) problems.push(`it is not a Lambda deployment (uri ${d.uri})`);
    else if (!/:function:[^:]+:[^:]+$/.test(d.arn)) problems.push(`its ARN ${d.arn} is not a version or alias`);
    if (outputs.handlerArn && d.arn !== outputs.handlerArn) problems.push(`its ARN ${d.arn} is not the stack output HandlerArn ${outputs.handlerArn}`);
    if (d.assume_role_arn !== outputs.invokerRoleArn) problems.push(`assume_role_arn ${d.assume_role_arn} is not the invoker role ${outputs.invokerRoleArn}`);
    const services = d.services.map((s) => s.name);
    if (!services.includes(outputs.serviceName)) problems.push(`its services [${services.join(', ')}] lack ${outputs.serviceName}`);
    const owner = d.metadata?.[OWNER_METADATA_KEY];
    if (!owner?.startsWith(`${stackName}/`)) problems.push(`metadata ${OWNER_METADATA_KEY} is ${JSON.stringify(owner)}, expected ${stackName}/...`);
    if (problems.length > 0) throw new Error(`${d.id}: ${problems.join('; ')}`);
    return { detail: `${d.id}: ${d.arn} via ${d.assume_role_arn}, services [${services.join(', ')}], owner ${owner}`, value: true };
  });
}

async function checkIngress(report: Report, restate: RestateCloudApi, outputs: ExampleOutputs, runId: string): Promise<void> {
  const input = `live-${runId}`;
  const target = `${restate.ingressUrl}/${outputs.serviceName}/${outputs.handlerName}`;
  await report.check('service answers through ingress', async () => {
    const res = await restate.invoke(outputs.serviceName, outputs.handlerName, input);
    if (res.status !== 200) throw new Error(`POST ${target}: HTTP ${res.status}: ${truncate(res.body)}`);
    let answer: unknown;
    try {
      answer = JSON.parse(res.body);
    } catch {
      answer = res.body;
    }
    const text = typeof answer === 'string' ? answer : JSON.stringify(answer);
    if (!text.includes(input)) throw new Error(`POST ${target} with ${JSON.stringify(input)}: the answer ${truncate(res.body)} does not contain the input`);
    return { detail: `POST ${target} ${JSON.stringify(input)} -> ${truncate(res.body, 120)}`, value: true };
  });
}

/**
 * The deploying identity (typically an administrator of the account) must not be able to
 * assume the invoker role, neither without an external id nor with the right one: only
 * Restate Cloud's principal may. Otherwise anyone able to guess the environment id and holding
 * sts:AssumeRole could act as Restate Cloud.
 */
async function checkConfusedDeputy(report: Report, aws: AwsClients, outputs: ExampleOutputs, environmentId: string, runId: string): Promise<void> {
  const session = `restate-live-${runId}`;
  await report.check('confused deputy: AssumeRole without ExternalId denied', async () => ({
    detail: `${outputs.invokerRoleArn}: ${await aws.expectAssumeRoleDenied(outputs.invokerRoleArn, session)}`,
    value: true,
  }));
  await report.check('confused deputy: AssumeRole with ExternalId=environment id denied', async () => ({
    detail: `${outputs.invokerRoleArn} with ExternalId ${environmentId}: ${await aws.expectAssumeRoleDenied(outputs.invokerRoleArn, session, environmentId)}`,
    value: true,
  }));
}

/**
 * CloudFormation deleted the stack; check that the Lambda functions, IAM roles and log groups it
 * held are gone, including the log groups Lambda creates by itself (`/aws/lambda/<name>`), and
 * that no resource was kept by a DeletionPolicy. Leftover log groups are deleted in cleanup.
 */
async function checkResourcesGone(
  report: Report,
  leftovers: AwsLeftovers,
  resources: StackResource[],
  assembly: Assembly,
  state: RunState,
): Promise<void> {
  await report.check('nothing left behind in AWS', async () => {
    const remaining: string[] = [];
    let checked = 0;
    for (const r of resources) {
      if (!r.physicalId) continue;
      if (r.type === 'AWS::Lambda::Function') {
        checked += 2;
        if (await leftovers.functionExists(r.physicalId)) remaining.push(`Lambda function ${r.physicalId}`);
        const implicit = `/aws/lambda/${r.physicalId}`;
        if (await leftovers.logGroupExists(implicit)) {
          remaining.push(`log group ${implicit} (created by Lambda itself: give the function a logGroup that the stack deletes)`);
          state.leftoverLogGroups.push(implicit);
        }
      } else if (r.type === 'AWS::IAM::Role') {
        checked++;
        if (await leftovers.roleExists(r.physicalId)) remaining.push(`IAM role ${r.physicalId}`);
      } else if (r.type === 'AWS::Logs::LogGroup') {
        checked++;
        if (await leftovers.logGroupExists(r.physicalId)) {
          const kept = assembly.retained.some((k) => k.logicalId === r.logicalId) ? ', kept by its DeletionPolicy' : '';
          remaining.push(`log group ${r.physicalId} (${r.logicalId}${kept})`);
          state.leftoverLogGroups.push(r.physicalId);
        }
      }
    }
    // Kept by a DeletionPolicy: the types above were looked up; any other type stays for sure.
    const lookedUp = ['AWS::Lambda::Function', 'AWS::IAM::Role', 'AWS::Logs::LogGroup'];
    for (const kept of assembly.retained) {
      if (lookedUp.includes(kept.type) && resources.some((r) => r.logicalId === kept.logicalId)) continue;
      // A retained version goes with its function, which was confirmed absent above.
      if (kept.type === 'AWS::Lambda::Version') continue;
      remaining.push(`${kept.logicalId} (${kept.type}, kept by DeletionPolicy ${kept.deletionPolicy})`);
    }
    if (remaining.length > 0) throw new Error(`left behind: ${remaining.join('; ')}`);
    return {
      detail: resources.length > 0
        ? `${resources.length} stack resources deleted; ${checked} Lambda functions, roles and log groups (incl. /aws/lambda/*) confirmed absent`
        : 'no resource list was available; the stack itself is gone',
      value: true,
    };
  });
}

async function checkRemovalPolicy(report: Report, restate: RestateCloudApi, deploymentId: string, removalPolicy: string): Promise<void> {
  if (removalPolicy === 'destroy') {
    await report.check('removal policy DESTROY: deployment removed', async () => {
      if (!(await restate.waitUntilGone(deploymentId))) throw new Error(`${deploymentId} is still registered 60s after cdk destroy`);
      return { detail: `${deploymentId} is no longer listed by the admin API`, value: true };
    });
    return;
  }
  const retained = await report.check('removal policy RETAIN: deployment kept', async () => {
    if (!(await restate.deployment(deploymentId))) throw new Error(`${deploymentId} was removed although the removal policy is RETAIN`);
    return { detail: `${deploymentId} is still registered after cdk destroy`, value: true };
  });
  if (!retained) return;
  await report.check('retained deployment removed via admin API', async () => {
    const status = await restate.deleteDeployment(deploymentId);
    if (!(await restate.waitUntilGone(deploymentId))) throw new Error(`${deploymentId} still listed 60s after DELETE (HTTP ${status})`);
    return { detail: `DELETE ${restate.adminUrl}/deployments/${deploymentId}?force=true: HTTP ${status}, now gone`, value: true };
  });
}

/** Log groups of the stack's resources that still exist: its own and those Lambda created. */
async function existingLogGroups(leftovers: AwsLeftovers, resources: StackResource[]): Promise<string[]> {
  const candidates = resources.flatMap((r) => {
    if (!r.physicalId) return [];
    if (r.type === 'AWS::Logs::LogGroup') return [r.physicalId];
    if (r.type === 'AWS::Lambda::Function') return [`/aws/lambda/${r.physicalId}`];
    return [];
  });
  const existing: string[] = [];
  for (const group of candidates) if (await leftovers.logGroupExists(group)) existing.push(group);
  return existing;
}

/** Removes whatever the run still holds, in dependency order. Failures are FAIL lines. */
async function cleanUp(
  report: Report,
  aws: AwsClients,
  leftovers: AwsLeftovers,
  state: RunState,
  params: ExampleParameters | undefined,
  stackName: string,
): Promise<void> {
  // The stack first: with DESTROY its deployer still needs the API key secret.
  if (state.stackMayExist && !state.destroyed && params && state.assembly) {
    try {
      await destroyExample(params, state.assembly);
      report.pass('cleanup: cdk destroy', `${stackName} destroyed`);
      try {
        state.leftoverLogGroups.push(...(await existingLogGroups(leftovers, state.resources)));
      } catch (e) {
        report.info(`could not look for leftover log groups: ${message(e)}`);
      }
    } catch (e) {
      report.fail('cleanup: cdk destroy', `${message(e)}: destroy ${stackName} by hand (test/live/README.md, "Cleaning up after an interrupted run")`);
    }
  }
  // Restate deployments the stack registered and that are still there (RETAIN, or a failed run).
  if (state.restate && state.stackMayExist) {
    const restate = state.restate;
    try {
      const ids = new Set((await restate.deploymentsOfStack(stackName)).map((d) => d.id));
      if (state.deploymentId && (await restate.deployment(state.deploymentId))) ids.add(state.deploymentId);
      for (const id of ids) {
        await restate.deleteDeployment(id);
        if (!(await restate.waitUntilGone(id))) throw new Error(`${id} still listed 60s after DELETE`);
        report.pass('cleanup: Restate deployment removed', `${id} (DELETE ${restate.adminUrl}/deployments/${id}?force=true)`);
      }
    } catch (e) {
      report.fail('cleanup: Restate deployments', `${message(e)}: remove the deployments whose metadata ${STACK_METADATA_KEY} is ${stackName} by hand`);
    }
  }
  for (const group of state.leftoverLogGroups) {
    try {
      await leftovers.deleteLogGroup(group);
      report.pass('cleanup: log group deleted', group);
    } catch (e) {
      report.fail('cleanup: log group', `${message(e)}: delete ${group} by hand`);
    }
  }
  if (state.secretCreated) {
    try {
      await aws.deleteSecret(state.secretCreated);
      report.pass('cleanup: API key secret deleted', `${state.secretCreated} (without recovery window)`);
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name !== 'ResourceNotFoundException') report.fail('cleanup: API key secret', `${message(e)}: delete ${state.secretCreated} by hand`);
    }
  }
}
