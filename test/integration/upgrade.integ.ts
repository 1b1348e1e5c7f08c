/**
 * Upgrading a deployed stack from @restatedev/restate-cdk 1.7.0 (README, "Upgrading a deployed
 * stack"), played as CloudFormation plays the switch, against a real restate-server through the
 * AWS stand-ins:
 *
 *   1. the reference's template is deployed: its InvocationPolicy (lambda:InvokeFunction on `fn`
 *      and `fn:*`, an identity policy of the invoker role) and its registration, created by its
 *      own deployer handler as the package ships it (bench/src/reference-deployer.ts);
 *   2. the ported template is deployed: its `AWS::Lambda::Permission` for the version, then the
 *      Create of the new registration (our deployer), then CloudFormation's cleanup phase: the
 *      Delete of the old registration by the OLD deployer, with its removal policy, and the
 *      InvocationPolicy goes away.
 *
 * Under RETAIN (step 1 of the README) the deployment the new registration adopted keeps serving
 * the same code. Under DESTROY the old deployer's Delete removes it by Lambda ARN, although the
 * new registration owns it now: the README's first risk, pinned here.
 *
 * Needs the reference installed (npm run bench once, or BENCH_REF_LIB); skipped without it.
 * Run with `npm run test:integration` (test/integration/run.sh).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { referenceLibrary, referenceProperties, ReferenceTarget } from '../../bench/src/reference-deployer';
import { RestateEnvironment, ServiceDeployer } from '../../src';
import { AwsStandIn, CloudFormationTemplate, functionArn, resolveValue, roleArn } from './harness/aws-standins';
import { CloudFormationStandIn, DeployerHandler } from './harness/cloudformation';
import { IntegrationEnvironment } from './harness/integration-environment';
import { restateLambda } from './harness/lambda-functions';
import { removeAllDeployments } from './harness/lifecycle';
import { freshDir, runEnvironment } from './harness/run-env';
import { trustDeployerOf } from './harness/trust';

jest.setTimeout(120_000);

const DEFAULT_REF = path.resolve(__dirname, '..', '..', 'bench', '.work', 'ref', 'node_modules', '@restatedev', 'restate-cdk');
if (!process.env.BENCH_REF_LIB && fs.existsSync(DEFAULT_REF)) process.env.BENCH_REF_LIB = DEFAULT_REF;
const refLib = referenceLibrary();
const describeWithRef = refLib ? describe : describe.skip;

/**
 * The reference's handler as its function runs it (`entrypoint.handler`, ES modules), in a
 * node process of its own per invocation, as a Lambda runtime would (jest cannot import() ES
 * modules in-process). It inherits this process's environment: the stand-ins' endpoints, the
 * dummy credentials and the CA that the response URL's certificate chains to.
 */
function referenceHandlerInChildProcess(lib: string): DeployerHandler {
  const entry = pathToFileURL(path.join(lib, 'dist', 'register-service-handler', 'entrypoint.mjs')).href;
  const code = [
    `import { handler } from ${JSON.stringify(entry)};`,
    'const event = JSON.parse(process.env.REF_EVENT);',
    'const deadline = Number(process.env.REF_DEADLINE);',
    'const context = { ...JSON.parse(process.env.REF_CONTEXT), getRemainingTimeInMillis: () => deadline - Date.now() };',
    'handler(event, context).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });',
  ].join('\n');
  return (event, context) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
        env: {
          ...process.env,
          REF_EVENT: JSON.stringify(event),
          REF_DEADLINE: String(Date.now() + context.getRemainingTimeInMillis()),
          REF_CONTEXT: JSON.stringify({
            awsRequestId: context.awsRequestId,
            logStreamName: context.logStreamName,
            functionName: context.functionName,
          }),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      child.on('error', reject);
      child.on('exit', (status) => {
        if (status === 0) resolve(undefined);
        else reject(new Error(`the reference handler exited with ${status}: ${output}`));
      });
    });
}

let env: IntegrationEnvironment;
let aws: AwsStandIn;
let refCfn: CloudFormationStandIn;
let refProps: (t: ReferenceTarget) => Record<string, unknown>;
const invoker = roleArn('UpgradeInvoker');
const savedEnv: Record<string, string | undefined> = {};

function setEnv(name: string, value: string): void {
  if (!(name in savedEnv)) savedEnv[name] = process.env[name];
  process.env[name] = value;
}

describeWithRef('upgrading from @restatedev/restate-cdk 1.7.0', () => {
  beforeAll(async () => {
    aws = await AwsStandIn.start();
    setEnv('AWS_ENDPOINT_URL_LAMBDA', aws.url);
    env = await IntegrationEnvironment.start({ server: { environment: aws.serverEnvironment() } });
    const run = runEnvironment();
    // Its response PUT drops the ResponseURL's port: its CloudFormation stand-in listens on 443.
    refCfn = await CloudFormationStandIn.start({ cert: run.tlsCert, key: run.tlsKey }, referenceHandlerInChildProcess(refLib!), { port: 443 });
    refProps = referenceProperties(refLib!);
  }, 120_000);

  afterAll(async () => {
    await refCfn?.close();
    await env?.stop();
    await aws?.close();
    for (const [key, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  afterEach(async () => {
    await removeAllDeployments(env);
  });

  /** The ported stack: the same version registered by this library (InvokeGrant.TEMPLATE). */
  function ported(name: string) {
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
      code: lambda.Code.fromInline(`// ${name} v1\nexports.handler = async () => ({});`),
      currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
    });
    new ServiceDeployer(stack, 'Deployer').register(fn.currentVersion, restate, { expectedServices: [name] });
    const template = app.synth().getStackByName(stack.stackName).template as CloudFormationTemplate;
    const versionId = stack.resolve((fn.currentVersion.node.defaultChild as lambda.CfnVersion).logicalId) as string;
    const refs = { [versionId]: functionArn(name, 2) };
    const [logicalId, resource] = Object.entries(template.Resources).find(([, r]) => r.Type === 'Custom::RestateDeployment')!;
    const { ServiceToken: _token, ...props } = resource.Properties ?? {};
    return { template, refs, logicalId, props: { ...props, LambdaArn: resolveValue(props.LambdaArn, refs) } };
  }

  async function deploymentsOf(arn: string): Promise<string[]> {
    return (await env.admin.deployments()).filter((d) => d.arn === arn).map((d) => d.id);
  }

  async function greet(name: string): Promise<string> {
    const res = await env.admin.invoke(name, 'greet', 'World');
    return res.status === 200 ? String(JSON.parse(res.body)) : `HTTP ${res.status}`;
  }

  test.each([['retain'], ['destroy']] as const)('the switch with the old registration under %s', async (policy) => {
    const name = `Upgrade${policy === 'retain' ? 'Retained' : 'Destroyed'}`;
    // The version both templates register (the code did not change in the switch), and an
    // older one that invocations from before the switch may still be pinned to.
    const v1 = functionArn(name, 2);
    const pinned = functionArn(name, 1);
    aws.putFunction(v1, restateLambda(name, 1));

    // 1. The reference's stack: its InvocationPolicy (fn and fn:*), then its registration.
    aws.putRole(invoker, { trustedPrincipals: [aws.restateServer.principalArn], invokeAllowedOn: [functionArn(name), `${functionArn(name)}:*`] });
    const oldProps = {
      ...refProps({ adminUrl: env.authProxy.url, authTokenSecretArn: env.apiKeySecretArn, lambdaArn: v1, invokerRoleArn: invoker }),
      removalPolicy: policy,
    };
    const oldCreate = await refCfn.invokeAsCloudFormation('Create', oldProps, { logicalResourceId: `${name}RestateServiceDeployment` });
    expect({ status: oldCreate.response.Status, reason: oldCreate.response.Reason }).toMatchObject({ status: 'SUCCESS' });
    const before = await deploymentsOf(v1);
    expect(before.length).toBe(1);
    const deploymentId = before[0];
    expect(await greet(name)).toBe(`Hello, World! (${name} v1)`);
    expect(aws.mayInvoke(invoker, pinned)).toBe(true);

    // 2. The ported stack: its Lambda permission, then the new registration's Create.
    const next = ported(name);
    trustDeployerOf(next.template);
    const deployed = aws.deployTemplate(`${name}Stack`, next.template, { refs: next.refs });
    expect(deployed.added.map((s) => [s.resource, s.principal])).toEqual([[v1, invoker]]);
    const newCreate = await env.cfn.invokeAsCloudFormation('Create', next.props, { logicalResourceId: next.logicalId });
    expect({ status: newCreate.response.Status, physicalId: newCreate.response.PhysicalResourceId }).toEqual({ status: 'SUCCESS', physicalId: deploymentId });
    expect(newCreate.response.Reason).toContain(`promoted ${deploymentId} (adopted from a registration made outside this stack)`);
    expect((await env.admin.deployment(deploymentId))?.metadata?.['restate-cloud-cdk.logical-id']).toBe(next.logicalId);

    // Cleanup phase: the old registration's Delete by the old deployer, then its policy goes.
    const oldDelete = await refCfn.invokeAsCloudFormation('Delete', oldProps, {
      logicalResourceId: `${name}RestateServiceDeployment`,
      physicalResourceId: oldCreate.response.PhysicalResourceId,
    });
    expect(oldDelete.response.Status).toBe('SUCCESS');
    aws.putRole(invoker, { trustedPrincipals: [aws.restateServer.principalArn] });
    // The README's second risk: versions from before the switch lose their grant (the ported
    // template grants only the version it registers), unless the app keeps fn.grantInvoke().
    expect({ current: aws.mayInvoke(invoker, v1), pinned: aws.mayInvoke(invoker, pinned) }).toEqual({ current: true, pinned: false });

    const after = await deploymentsOf(v1);
    const greeting = await greet(name);
    if (policy === 'retain') {
      // No deployment lost; the same code serves, invoked through the template's permission.
      expect({ after, greeting }).toEqual({ after: [deploymentId], greeting: `Hello, World! (${name} v1)` });
    } else {
      // The old deployer removed, by Lambda ARN, the deployment the new registration owns.
      expect(after).toEqual([]);
      // The services lost their deployment: the ingress no longer knows them.
      expect(greeting).toBe('HTTP 404');
    }
  });
});
