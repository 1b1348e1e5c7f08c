/**
 * The Lambda path end to end: the deployer registers a Lambda version with a real
 * restate-server, which assumes the invoker role (STS `AssumeRole`) and invokes the function
 * (Lambda `Invoke`) at loopback AWS stand-ins (harness/aws-standins.ts) that check trust
 * policies, sessions and resource policies the way AWS does, and run the function's real code
 * (a Restate SDK Lambda handler, harness/lambda-functions.ts) in this process.
 *
 * Both ways the invoker role gets its grant are covered: InvokeGrant.TEMPLATE (the
 * `AWS::Lambda::Permission` resources of a synthesized stack are deployed into the stand-in
 * before the registration, as CloudFormation would) and InvokeGrant.DEPLOYER (the deployer calls
 * `AddPermission` at the stand-in, through AWS_ENDPOINT_URL_LAMBDA).
 *
 * The deployer runs with the `Environment.Variables` its function has in a synthesized
 * template (e.g. the trusted admin targets), as Lambda would run it.
 *
 * Run with `npm run test:integration` (test/integration/run.sh). Within a mode, b builds on a.
 * e and f run their registrations concurrently (as CloudFormation runs independent resources),
 * since each waits for IAM. h and h2 pin what restate-server itself answers: its texts for every
 * Lambda-path failure are written to `<run dir>/lambda-failure-texts.json` and echoed as
 * `[integ]` lines, with the reasons and timings of the other cases.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { InvokeGrant, RestateEnvironment, ServiceDeployer } from '../../src';
import { AwsRequestRecord, AwsStandIn, CloudFormationTemplate, functionArn, resolveValue, roleArn } from './harness/aws-standins';
import { CloudFormationInvocation } from './harness/cloudformation';
import { httpRequest } from './harness/http';
import { IntegrationEnvironment } from './harness/integration-environment';
import { plainLambda, restateLambda, throwingLambda } from './harness/lambda-functions';
import { lambdaRegistrationProperties, LambdaRegistrationInput } from './harness/lambda-registration';
import { waitUntil } from './harness/ports';
import { freshDir, runEnvironment } from './harness/run-env';

jest.setTimeout(90_000);

type Mode = 'TEMPLATE' | 'DEPLOYER';

let env: IntegrationEnvironment;
let aws: AwsStandIn;
/** The invoker role of the environment: trusts restate-server's identity. */
const invoker = roleArn('RestateInvoker');
/** process.env values this file replaces, restored in afterAll. */
const savedEnv: Record<string, string | undefined> = {};

function setEnv(name: string, value: string): void {
  if (!(name in savedEnv)) savedEnv[name] = process.env[name];
  process.env[name] = value;
}

beforeAll(async () => {
  aws = await AwsStandIn.start();
  // The deployer (in this process) reaches the stand-in for AddPermission/RemovePermission.
  setEnv('AWS_ENDPOINT_URL_LAMBDA', aws.url);
  env = await IntegrationEnvironment.start({ server: { environment: aws.serverEnvironment() } });
  aws.putRole(invoker, { trustedPrincipals: [aws.restateServer.principalArn] });
  // The deployer runs with the environment its function has in the template.
  for (const [key, value] of Object.entries(synthesize('Environment', 1).deployerVariables)) setEnv(key, value);
}, 120_000);

afterAll(async () => {
  await env?.stop();
  await aws?.close();
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

/** A registration's properties, as ServiceDeployer writes them for `mode`. */
function registration(mode: Mode, input: Omit<LambdaRegistrationInput, 'adminUrl'>): Record<string, unknown> {
  return lambdaRegistrationProperties({
    adminUrl: env.authProxy.url,
    authTokenSecretArn: env.apiKeySecretArn,
    grantInvoke: mode === 'DEPLOYER',
    ...input,
  });
}

/** Create as CloudFormation sends it, for a resource of its own logical id. */
function create(props: Record<string, unknown>, logicalId: string): Promise<CloudFormationInvocation> {
  return env.cfn.invokeAsCloudFormation('Create', props, { logicalResourceId: logicalId });
}

function expectStatus(inv: CloudFormationInvocation, status: 'SUCCESS' | 'FAILED'): void {
  expect({
    problems: inv.problems,
    putCount: inv.putCount,
    handlerError: inv.handlerError === undefined ? undefined : String(inv.handlerError),
    respondedBeforeReturn: inv.respondedBeforeReturn,
    respondedBeforeDeadline: inv.respondedBeforeDeadline,
    strayRequests: inv.strayRequests,
    Status: inv.response.Status,
    Reason: inv.response.Reason,
  }).toEqual({
    problems: [],
    putCount: 1,
    handlerError: undefined,
    respondedBeforeReturn: true,
    respondedBeforeDeadline: true,
    strayRequests: [],
    Status: status,
    Reason: expect.any(String),
  });
}

/** The role sessions restate-server got for `role` among `records`, by access key id. */
function sessionsOf(records: AwsRequestRecord[], role: string): string[] {
  return records
    .filter((r) => r.action === 'AssumeRole' && r.target === role && r.status === 200 && r.caller === aws.restateServer.arn)
    .map((r) => r.issuedAccessKeyId!);
}

function invokes(records: AwsRequestRecord[], target: string): AwsRequestRecord[] {
  return records.filter((r) => r.action === 'Invoke' && r.target === target);
}

/** What AWS said to the last denied request for `target` (a role or function ARN). */
function lastDenial(records: AwsRequestRecord[], target: string): AwsRequestRecord | undefined {
  return records.filter((r) => r.target === target && r.status >= 400).pop();
}

interface Synthesized {
  readonly template: CloudFormationTemplate;
  /** What deploying the stack would make of its versions' `Ref`s. */
  readonly refs: Record<string, string>;
  readonly registrationLogicalId: string;
  /** The registration's ResourceProperties (ServiceToken left out), references resolved. */
  readonly registration: Record<string, unknown>;
  /** The deployer function's `Environment.Variables`. */
  readonly deployerVariables: Record<string, string>;
}

/**
 * A stack as a user writes it for InvokeGrant.TEMPLATE: a function whose versions are retained,
 * its current version registered with an environment that has an invoker role. `version`
 * changes the code, so a new version (with a new logical id) is published.
 */
function synthesize(name: string, version: 1 | 2): Synthesized {
  const app = new App({ outdir: freshDir(runEnvironment(), 'cdk.out') });
  const stack = new Stack(app, `${name}Stack`, { env: { account: '123456789012', region: 'us-east-1' } });
  const restate = RestateEnvironment.fromAttributes({
    adminUrl: env.authProxy.url,
    authToken: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', env.apiKeySecretArn),
    invokerRole: iam.Role.fromRoleArn(stack, 'Invoker', invoker, { mutable: false }),
  });
  const fn = new lambda.Function(stack, name, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline(`// ${name} v${version}\nexports.handler = async () => ({});`),
    currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
  });
  const deployer = new ServiceDeployer(stack, 'Deployer', { invokeGrant: InvokeGrant.TEMPLATE });
  deployer.register(fn.currentVersion, restate, { expectedServices: [name] });
  const template = app.synth().getStackByName(stack.stackName).template as CloudFormationTemplate;
  const deployerFunction = template.Resources[stack.resolve((deployer.deployerFunction.node.defaultChild as lambda.CfnFunction).logicalId) as string];
  const deployerVariables = ((deployerFunction.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
  for (const [key, value] of Object.entries(deployerVariables)) {
    if (typeof value !== 'string') throw new Error(`the deployer's ${key} is not a literal in the template: ${JSON.stringify(value)}`);
  }
  const versionId = stack.resolve((fn.currentVersion.node.defaultChild as lambda.CfnVersion).logicalId) as string;
  const refs = { [versionId]: functionArn(name, version) };
  const [registrationLogicalId, resource] = Object.entries(template.Resources).find(([, r]) => r.Type === 'Custom::RestateDeployment')!;
  const { ServiceToken: _token, ...props } = resource.Properties ?? {};
  return {
    template,
    refs,
    registrationLogicalId,
    registration: { ...props, LambdaArn: resolveValue(props.LambdaArn, refs) },
    deployerVariables: deployerVariables as Record<string, string>,
  };
}

describe.each<[Mode]>([['TEMPLATE'], ['DEPLOYER']])('InvokeGrant.%s', (mode) => {
  const name = mode === 'TEMPLATE' ? 'TemplateGreeter' : 'DeployerGreeter';
  const logicalId = `${name}Registration`;
  const v1 = functionArn(name, 1);
  const v2 = functionArn(name, 2);
  let v1Props: Record<string, unknown>;
  let v1Id: string;

  test('a. register a version: discovery goes through the assumed role; a call through the ingress runs the handler code', async () => {
    aws.putFunction(v1, restateLambda(name, 1));
    v1Props = registration(mode, { id: name, lambdaArn: v1, assumeRoleArn: invoker, expectedServices: [name] });
    let registrationLogicalId = logicalId;
    if (mode === 'TEMPLATE') {
      const synthesized = synthesize(name, 1);
      // The template registers what the helper describes, and asks the deployer for no grant.
      expect(synthesized.registration).toMatchObject({ LambdaArn: v1, AssumeRoleArn: invoker, AdminUrl: env.authProxy.url });
      expect(synthesized.registration.GrantInvoke).toBeUndefined();
      registrationLogicalId = synthesized.registrationLogicalId;
      const deployed = aws.deployTemplate(`${name}Stack`, synthesized.template, { refs: synthesized.refs });
      expect(deployed.added.map((s) => [s.resource, s.principal])).toEqual([[v1, invoker]]);
    }
    const mark = aws.mark();

    const inv = await create(v1Props, registrationLogicalId);

    expectStatus(inv, 'SUCCESS');
    v1Id = inv.response.PhysicalResourceId;
    expect(v1Id).toMatch(/^dp_/);
    expect(inv.response.Data).toMatchObject({ DeploymentId: v1Id, ServiceNames: name });
    expect(await env.admin.deployment(v1Id)).toMatchObject({ arn: v1, assume_role_arn: invoker });
    const seen = aws.since(mark);
    // DEPLOYER: the deployer granted the role, before discovery; TEMPLATE: nobody touched the policy.
    const grants = seen.filter((r) => r.action === 'AddPermission');
    if (mode === 'DEPLOYER') {
      expect(grants.map((r) => [r.target, r.caller, r.status])).toEqual([[v1, aws.deployer.arn, 201]]);
      expect(aws.policy(v1).map((s) => [s.principal, s.source])).toEqual([[invoker, 'api']]);
    } else {
      expect(grants).toEqual([]);
      expect(aws.policy(v1).map((s) => [s.principal, s.source.startsWith(`template:${name}Stack/`)])).toEqual([[invoker, true]]);
    }
    // Discovery: restate-server assumed the invoker role and invoked v1 with that session.
    const sessions = sessionsOf(seen, invoker);
    expect(sessions.length).toBeGreaterThan(0);
    const discovery = invokes(seen, v1).filter((r) => r.restateRequest === 'GET /discover');
    expect(discovery.map((r) => [r.status, r.sessionOf, r.functionResult])).toContainEqual([200, invoker, '200']);
    expect(sessions).toContain(discovery.find((r) => r.status === 200)!.accessKeyId);

    const callMark = aws.mark();
    const res = await env.admin.invoke(name, 'greet', 'World');

    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: JSON.stringify(`Hello, World! (${name} v1)`) });
    const call = invokes(aws.since(callMark), v1).filter((r) => r.restateRequest === `POST /invoke/${name}/greet`);
    expect(call.map((r) => [r.status, r.sessionOf, r.functionResult])).toEqual([[200, invoker, '200']]);
    expect(aws.requests.filter((r) => r.action === 'AssumeRole' && r.status === 200).map((r) => r.issuedAccessKeyId)).toContain(call[0].accessKeyId);
  });

  test('b. a new version while the retained one has an invocation pinned: both stay invocable; the pinned invocation completes on v1', async () => {
    expect(v1Id).toBeDefined();
    // A durable sleep: the invocation suspends, pinned to v1's deployment, and resumes on v1.
    const idempotencyKey = `nap-${mode}-${Date.now()}`;
    const send = await httpRequest('POST', `${env.server.ingressUrl}/${name}/nap/send`, {
      body: JSON.stringify(6_000),
      headers: { 'idempotency-key': idempotencyKey },
      timeoutMs: 30_000,
    });
    expect(send.status).toBeLessThan(300);
    const invocationId = (JSON.parse(send.body) as { invocationId: string }).invocationId;
    await waitUntil(`${invocationId} to be pinned to ${v1Id}`, async () => {
      const rows = await env.admin.query(`SELECT status, pinned_deployment_id FROM sys_invocation_status WHERE id = '${invocationId}'`);
      return rows.length === 1 && rows[0].pinned_deployment_id === v1Id && rows[0].status !== 'completed';
    }, { timeoutMs: 10_000, intervalMs: 100 });

    aws.putFunction(v2, restateLambda(name, 2));
    const v2Props = registration(mode, { id: name, lambdaArn: v2, assumeRoleArn: invoker, expectedServices: [name] });
    let registrationLogicalId = logicalId;
    let cleanupTemplate: (() => { removed: unknown[]; retained: unknown[] }) | undefined;
    if (mode === 'TEMPLATE') {
      const synthesized = synthesize(name, 2);
      registrationLogicalId = synthesized.registrationLogicalId;
      const deployed = aws.deployTemplate(`${name}Stack`, synthesized.template, { refs: synthesized.refs });
      expect(deployed.added.map((s) => s.resource)).toEqual([v2]);
      cleanupTemplate = deployed.cleanup;
    }

    const update = await env.cfn.invokeAsCloudFormation('Update', v2Props, { physicalResourceId: v1Id, oldProperties: v1Props, logicalResourceId: registrationLogicalId });

    expectStatus(update, 'SUCCESS');
    const v2Id = update.response.PhysicalResourceId;
    expect(v2Id).not.toBe(v1Id);
    // CloudFormation's cleanup phase: Delete of the old registration (retained), and of the
    // resources the new template dropped (v1's permission: its deletion policy decides).
    const cleanup = await env.cfn.invokeAsCloudFormation('Delete', v1Props, { physicalResourceId: v1Id, logicalResourceId: registrationLogicalId });
    expectStatus(cleanup, 'SUCCESS');
    const templateCleanup = cleanupTemplate?.();
    const cleanedUpAt = Date.now();
    note(`b (${mode}): cleanup ${JSON.stringify(cleanup.response.Reason)}${templateCleanup ? `; template cleanup removed ${templateCleanup.removed.length}, retained ${templateCleanup.retained.length} permission(s)` : ''}`);

    expect(await env.admin.deployment(v1Id)).toBeDefined();
    expect(await env.admin.service(name)).toMatchObject({ deployment_id: v2Id });
    const farewell = await env.admin.invoke(name, 'farewell', 'World');
    expect({ status: farewell.status, body: farewell.body }).toEqual({ status: 200, body: JSON.stringify(`Goodbye, World! (${name} v2)`) });
    // Both versions stay invocable by the role.
    expect({ v1: aws.mayInvoke(invoker, v1), v2: aws.mayInvoke(invoker, v2) }).toEqual({ v1: true, v2: true });

    let last: unknown;
    await waitUntil(`${invocationId} to complete on ${v1Id}`, async () => {
      const rows = await env.admin.query(`SELECT status, pinned_deployment_id FROM sys_invocation_status WHERE id = '${invocationId}'`);
      last = { rows, lastV1Invoke: invokes(aws.requests, v1).pop() };
      return rows.length === 1 && rows[0].status === 'completed';
    }, { timeoutMs: 20_000, intervalMs: 200 }).catch((e: Error) => {
      throw new Error(`${e.message}; last seen: ${JSON.stringify(last)}`);
    });
    const rows = await env.admin.query(`SELECT status, pinned_deployment_id FROM sys_invocation_status WHERE id = '${invocationId}'`);
    expect(rows).toEqual([expect.objectContaining({ status: 'completed', pinned_deployment_id: v1Id })]);
    const output = await httpRequest('GET', `${env.server.ingressUrl}/restate/invocation/${invocationId}/output`);
    expect({ status: output.status, body: output.body }).toEqual({ status: 200, body: JSON.stringify('rested') });
    // It resumed on v1's code, through the role, after the stack had moved on to v2.
    const resumed = invokes(aws.requests, v1).filter((r) => r.restateRequest === `POST /invoke/${name}/nap` && r.at >= cleanedUpAt);
    expect(resumed.map((r) => [r.status, r.sessionOf])).toContainEqual([200, invoker]);
  });

  test('c. no grant: FAILED, the reason names the role, the function and what is missing', async () => {
    const arn = functionArn(`${name}NoGrant`, 1);
    aws.putFunction(arn, restateLambda(`${name}NoGrant`, 1));
    // TEMPLATE: the permission never reached the stack (e.g. registered with InvokeGrant.NONE);
    // DEPLOYER: the deployer may not add it.
    if (mode === 'DEPLOYER') aws.denyPolicyChanges(arn);
    const mark = aws.mark();

    const inv = await create(registration(mode, { id: `${name}NoGrant`, lambdaArn: arn, assumeRoleArn: invoker, authRetrySeconds: 0 }), `${name}NoGrantRegistration`);

    expectStatus(inv, 'FAILED');
    const reason = inv.response.Reason!;
    note(`c (${mode}): FAILED after ${inv.elapsedMs} ms: ${reason}`);
    expect(inv.elapsedMs).toBeLessThan(10_000);
    expect(reason).toContain(invoker);
    expect(reason).toContain(arn);
    const seen = aws.since(mark);
    if (mode === 'TEMPLATE') {
      expect(reason).toContain('lambda:InvokeFunction');
      expect(lastDenial(seen, arn)).toMatchObject({ action: 'Invoke', errorCode: 'AccessDeniedException' });
    } else {
      expect(reason).toContain('lambda:AddPermission');
      // Without the grant there is no point in discovery.
      expect(invokes(seen, arn)).toEqual([]);
    }
    expect((await env.admin.deployments()).filter((d) => d.arn === arn)).toEqual([]);
  });

  test('d. role not assumable: FAILED, the reason names the role; no grant is left behind', async () => {
    const role = roleArn(`${name}Untrusting`);
    aws.putRole(role, { trustedPrincipals: [`arn:aws:iam::${'111122223333'}:role/SomeoneElse`] });
    const arn = functionArn(`${name}Untrusted`, 1);
    aws.putFunction(arn, restateLambda(`${name}Untrusted`, 1));
    if (mode === 'TEMPLATE') aws.addPermission(arn, role, { source: 'template' });
    const mark = aws.mark();

    const inv = await create(registration(mode, { id: `${name}Untrusted`, lambdaArn: arn, assumeRoleArn: role, authRetrySeconds: 0 }), `${name}UntrustedRegistration`);

    expectStatus(inv, 'FAILED');
    const reason = inv.response.Reason!;
    note(`d (${mode}): FAILED after ${inv.elapsedMs} ms: ${reason}`);
    expect(inv.elapsedMs).toBeLessThan(10_000);
    expect(reason).toContain(role);
    expect(reason).toMatch(/sts:AssumeRole|assume/i);
    expect(lastDenial(aws.since(mark), role)).toMatchObject({ action: 'AssumeRole', errorCode: 'AccessDenied' });
    expect(invokes(aws.since(mark), arn)).toEqual([]);
    // A failed Create leaves no grant the deployer made behind.
    if (mode === 'DEPLOYER') expect(aws.policy(arn)).toEqual([]);
    expect((await env.admin.deployments()).filter((d) => d.arn === arn)).toEqual([]);
  });
});

describe('IAM propagation (AuthRetrySeconds)', () => {
  test('e. grant or role effective only 10 s after it was made: SUCCESS once it takes effect, within the bound', async () => {
    const delaySeconds = 10;
    const lateRole = roleArn('LateInvoker');
    const cases = [
      { label: 'TEMPLATE grant', mode: 'TEMPLATE' as Mode, name: 'LateTemplateGrant', role: invoker },
      { label: 'DEPLOYER grant', mode: 'DEPLOYER' as Mode, name: 'LateDeployerGrant', role: invoker },
      { label: 'role', mode: 'TEMPLATE' as Mode, name: 'LateRole', role: lateRole },
    ];
    const mark = aws.mark();
    const started = Date.now();
    const results = await Promise.all(
      cases.map(async (c) => {
        const arn = functionArn(c.name, 1);
        aws.putFunction(arn, restateLambda(c.name, 1));
        let effectiveAt: () => number;
        if (c.label === 'role') {
          aws.putRole(lateRole, { trustedPrincipals: [aws.restateServer.principalArn], effectiveAfterSeconds: delaySeconds });
          aws.addPermission(arn, lateRole, { source: 'template' });
          effectiveAt = () => aws.roleEffectiveAt(lateRole)!;
        } else if (c.mode === 'TEMPLATE') {
          aws.addPermission(arn, c.role, { source: 'template', effectiveAfterSeconds: delaySeconds });
          effectiveAt = () => aws.policy(arn)[0].effectiveAt;
        } else {
          aws.setGrantPropagation(arn, delaySeconds);
          effectiveAt = () => aws.policy(arn)[0]?.effectiveAt ?? Number.NaN;
        }
        // The default bound (AuthRetrySeconds left out, as the construct writes it).
        const invokedAt = Date.now();
        const inv = await create(registration(c.mode, { id: c.name, lambdaArn: arn, assumeRoleArn: c.role, expectedServices: [c.name] }), `${c.name}Registration`);
        return { ...c, arn, inv, effectiveAt: effectiveAt(), answeredAt: invokedAt + inv.elapsedMs };
      }),
    );

    const seen = aws.since(mark);
    for (const r of results) {
      const lagMs = r.answeredAt - r.effectiveAt;
      const denied = seen.filter((x) => (x.target === r.arn || (r.label === 'role' && x.target === lateRole)) && x.status >= 400);
      note(
        `e (${r.label}): ${r.inv.response.Status} after ${r.inv.elapsedMs} ms; effective ${r.effectiveAt - started} ms after the start; ` +
          `answered ${lagMs} ms after it took effect; ${denied.length} denied AWS request(s) before; reason: ${r.inv.response.Reason}`,
      );
      expectStatus(r.inv, 'SUCCESS');
      expect(r.inv.response.Data).toMatchObject({ ServiceNames: r.name });
      // Not before it took effect, and soon after (backoff), well within the 60 s default.
      expect(lagMs).toBeGreaterThanOrEqual(0);
      expect(lagMs).toBeLessThan(15_000);
      expect(denied.length).toBeGreaterThan(0);
      const res = await env.admin.invoke(r.name, 'greet', 'late');
      expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: JSON.stringify(`Hello, late! (${r.name} v1)`) });
    }
  });

  test('f. never effective: FAILED within the bound (AuthRetrySeconds 20), with the last error', async () => {
    const boundSeconds = 20;
    const neverRole = roleArn('NeverInvoker');
    aws.putRole(neverRole, { trustedPrincipals: [aws.restateServer.principalArn], effectiveAfterSeconds: Infinity });
    const cases = [
      { label: 'TEMPLATE grant', mode: 'TEMPLATE' as Mode, name: 'NeverTemplateGrant', role: invoker, denied: 'lambda:InvokeFunction' },
      { label: 'DEPLOYER grant', mode: 'DEPLOYER' as Mode, name: 'NeverDeployerGrant', role: invoker, denied: 'lambda:InvokeFunction' },
      { label: 'role', mode: 'TEMPLATE' as Mode, name: 'NeverRole', role: neverRole, denied: 'sts:AssumeRole' },
    ];
    const mark = aws.mark();
    const results = await Promise.all(
      cases.map(async (c) => {
        const arn = functionArn(c.name, 1);
        aws.putFunction(arn, restateLambda(c.name, 1));
        if (c.label === 'DEPLOYER grant') aws.setGrantPropagation(arn, Infinity);
        else aws.addPermission(arn, c.role, { source: 'template', effectiveAfterSeconds: c.label === 'role' ? 0 : Infinity });
        const inv = await create(
          registration(c.mode, { id: c.name, lambdaArn: arn, assumeRoleArn: c.role, expectedServices: [c.name], authRetrySeconds: boundSeconds }),
          `${c.name}Registration`,
        );
        return { ...c, arn, inv };
      }),
    );

    const seen = aws.since(mark);
    for (const r of results) {
      const target = r.label === 'role' ? neverRole : r.arn;
      const denials = seen.filter((x) => x.target === target && x.status >= 400);
      const last = denials[denials.length - 1];
      note(`f (${r.label}): ${r.inv.response.Status} after ${r.inv.elapsedMs} ms, ${denials.length} denied AWS request(s) over ${denials.length ? last.at - denials[0].at : 0} ms; reason: ${r.inv.response.Reason}`);
      expectStatus(r.inv, 'FAILED');
      // It kept trying for a good part of the bound (a backoff step that would overrun it is not
      // taken), and not longer than the bound plus one attempt.
      expect(r.inv.elapsedMs).toBeGreaterThanOrEqual(boundSeconds * 1000 * 0.5);
      expect(r.inv.elapsedMs).toBeLessThan(boundSeconds * 1000 + 8_000);
      expect(last.at - denials[0].at).toBeGreaterThanOrEqual(boundSeconds * 1000 * 0.4);
      // The reason carries the last error: AWS's own words.
      const reason = r.inv.response.Reason!;
      expect(reason).toContain(r.role);
      expect(reason).toContain(r.arn);
      expect(reason).toContain(`not authorized to perform: ${r.denied}`);
      if (r.mode === 'DEPLOYER') expect(aws.policy(r.arn)).toEqual([]);
      expect((await env.admin.deployments()).filter((d) => d.arn === r.arn)).toEqual([]);
    }
  });
});

describe('handlers that are not (working) Restate endpoints', () => {
  test('g. code that throws, and a plain Lambda handler: FAILED without waiting for IAM, the reason carries the server\'s words and names the function', async () => {
    const cases = [
      { name: 'Throwing', code: throwingLambda('Cannot find module \'restate-config\''), expected: ['the function threw', 'Cannot find module', 'The function failed while answering discovery'] },
      { name: 'Plain', code: plainLambda(), expected: ['META0013', 'bad response from the SDK'] },
    ];
    const results = await Promise.all(
      cases.map(async (c) => {
        const arn = functionArn(c.name, 1);
        aws.putFunction(arn, c.code);
        aws.addPermission(arn, invoker, { source: 'template' });
        const inv = await create(registration('TEMPLATE', { id: c.name, lambdaArn: arn, assumeRoleArn: invoker, expectedServices: [c.name] }), `${c.name}Registration`);
        return { ...c, arn, inv };
      }),
    );
    for (const r of results) {
      const attempts = env.authProxy.requests.filter((q) => q.method === 'POST' && q.path === '/deployments' && q.body.includes(r.arn)).length;
      note(`g (${r.name}): ${r.inv.response.Status} after ${r.inv.elapsedMs} ms, ${attempts} POST /deployments; reason: ${r.inv.response.Reason}`);
      expectStatus(r.inv, 'FAILED');
      // Not an authorization failure: the default 60 s IAM bound does not apply.
      expect(r.inv.elapsedMs).toBeLessThan(10_000);
      expect(r.inv.response.Reason).toContain(r.arn);
      for (const text of r.expected) expect(r.inv.response.Reason).toContain(text);
      expect((await env.admin.deployments()).filter((d) => d.arn === r.arn)).toEqual([]);
    }
  });
});

describe('what restate-server 1.7.12 answers for each Lambda-path failure', () => {
  test('h. POST /deployments: status, restate_code and message, recorded verbatim', async () => {
    const broad = roleArn('BroadInvoker');
    aws.putRole(broad, { trustedPrincipals: [aws.restateServer.principalArn], invokeAllowedOn: [functionArn('*')] });
    aws.putRole(roleArn('CaptureUntrusting'), { trustedPrincipals: ['arn:aws:iam::111122223333:role/SomeoneElse'] });
    const fn = (n: string, code: ReturnType<typeof restateLambda>) => {
      const arn = functionArn(n, 1);
      aws.putFunction(arn, code);
      return arn;
    };
    const greeterV1 = fn('CaptureGreeter', restateLambda('CaptureGreeter', 1));
    const cases: Record<string, { arn: string; role: string; expect: { status: number; code: string; message: string[] } }> = {
      'AssumeRole denied (role does not trust restate-server)': {
        arn: fn('CaptureAssumeDenied', restateLambda('CaptureAssumeDenied', 1)),
        role: roleArn('CaptureUntrusting'),
        expect: { status: 500, code: 'META0003', message: ['not authorized to perform: sts:AssumeRole', roleArn('CaptureUntrusting')] },
      },
      'role unknown': {
        arn: fn('CaptureRoleUnknown', restateLambda('CaptureRoleUnknown', 1)),
        role: roleArn('CaptureNoSuchRole'),
        expect: { status: 500, code: 'META0003', message: ['not authorized to perform: sts:AssumeRole', roleArn('CaptureNoSuchRole')] },
      },
      'Invoke denied (no grant)': {
        arn: fn('CaptureNoGrant', restateLambda('CaptureNoGrant', 1)),
        role: invoker,
        expect: { status: 500, code: 'META0003', message: ['AccessDeniedException', 'not authorized to perform: lambda:InvokeFunction', functionArn('CaptureNoGrant', 1)] },
      },
      'function not found': {
        arn: functionArn('CaptureMissing', 1),
        role: broad,
        expect: { status: 500, code: 'META0003', message: ['ResourceNotFoundException', `Function not found: ${functionArn('CaptureMissing', 1)}`] },
      },
      'version not found': {
        arn: functionArn('CaptureGreeter', 7),
        role: broad,
        expect: { status: 500, code: 'META0003', message: ['ResourceNotFoundException', `Function not found: ${functionArn('CaptureGreeter', 7)}`] },
      },
      'handler throwing': {
        arn: fn('CaptureThrowing', throwingLambda('Cannot read properties of undefined (reading \'config\')')),
        role: invoker,
        expect: { status: 500, code: 'META0003', message: ['function returned an error during execution', 'Cannot read properties of undefined'] },
      },
      'not a Restate handler': {
        arn: fn('CapturePlain', plainLambda()),
        role: invoker,
        expect: { status: 500, code: 'META0013', message: ['bad response from the SDK'] },
      },
    };
    expect(greeterV1).toBeDefined();
    for (const c of Object.values(cases)) if (c.role === invoker && !c.arn.includes('NoGrant')) aws.addPermission(c.arn, invoker, { source: 'template' });

    const captured = await Promise.all(
      Object.entries(cases).map(async ([label, c]) => {
        const started = Date.now();
        const res = await httpRequest('POST', `${env.server.adminUrl}/deployments`, {
          body: { arn: c.arn, assume_role_arn: c.role, force: false, breaking: false },
          timeoutMs: 60_000,
        });
        const body = JSON.parse(res.body) as { message?: string; restate_code?: string };
        const elapsedMs = Date.now() - started;
        const { arn, role } = c;
        return { label, arn, role, status: res.status, restate_code: body.restate_code, message: body.message, elapsedMs, expected: c.expect };
      }),
    );

    const file = path.join(env.dir, 'lambda-failure-texts.json');
    fs.writeFileSync(file, JSON.stringify(captured.map(({ expected: _e, ...rest }) => rest), null, 2));
    note(`h: the server's answers are in ${file}`);
    for (const c of captured) {
      note(`h (${c.label}): HTTP ${c.status} ${c.restate_code} after ${c.elapsedMs} ms: ${c.message}`);
      const want = c.expected;
      expect({ label: c.label, status: c.status, code: c.restate_code }).toEqual({ label: c.label, status: want.status, code: want.code });
      for (const m of c.expected.message) expect(c.message).toContain(m);
      expect((await env.admin.deployments()).filter((d) => d.arn === c.arn)).toEqual([]);
    }
  });
});

describe('what restate-server 1.7.12 does with a registered version and another role', () => {
  test('h2. registering the same ARN with another assume_role_arn answers 200 with the old deployment, which keeps its old role', async () => {
    const arn = functionArn('RoleSwap', 1);
    const other = roleArn('RoleSwapOther');
    aws.putFunction(arn, restateLambda('RoleSwap', 1));
    aws.putRole(other, { trustedPrincipals: [aws.restateServer.principalArn] });
    aws.addPermission(arn, invoker, { source: 'template' });
    aws.addPermission(arn, other, { source: 'template' });
    const register = (role: string) => httpRequest('POST', `${env.server.adminUrl}/deployments`, { body: { arn, assume_role_arn: role, force: false, breaking: false } });

    const first = await register(invoker);
    const mark = aws.mark();
    const second = await register(other);

    const firstId = (JSON.parse(first.body) as { id: string }).id;
    expect({ first: first.status, second: second.status }).toEqual({ first: 201, second: 200 });
    expect((JSON.parse(second.body) as { id: string }).id).toBe(firstId);
    // No discovery ran for the second request, and the deployment still uses the first role.
    expect(aws.since(mark)).toEqual([]);
    expect(await env.admin.deployment(firstId)).toMatchObject({ arn, assume_role_arn: invoker });
    note(`h2: same ARN, other role: HTTP ${second.status}, same deployment ${firstId}, assume_role_arn still ${invoker}`);
  });
});

/** A line in the test output. */
function note(text: string): void {
  process.stderr.write(`    [integ] ${text}\n`);
}
