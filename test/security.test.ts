/**
 * Securing services (issue 6), as unit tests:
 *
 * (a) secret hygiene: an app whose API key and header secrets have KNOWN values (known only to
 *     a fake Secrets Manager, as in a real account) synthesizes to a cloud assembly that holds
 *     none of them, in any file; the deployer, given the synthesized properties, still reads
 *     and uses them, and never logs them;
 * (b) least privilege, statement by statement: the invoker role and the deployer's role;
 * (c) HTTPS for Restate Cloud: at synth for literal URLs, at deploy time (the handler) for tokens;
 * (d) RestateRequestIdentity: handing the request-signing public keys to a service.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnOutput, CfnParameter, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import {
  InvokeGrant,
  IRestateEnvironment,
  RestateCloudEnvironment,
  RestateCloudInvokerRole,
  RestateEnvironment,
  RestateRequestIdentity,
  ServiceDeployer,
} from '../src';
import { RecordingServer, secretsManagerRoute, servedBy, trustProps, useFakeAwsCredentials } from './deployer/fakes';
import { handler } from '../src/deployer/deployer.lambda';
import { DeploymentResourceProperties } from '../src/deployer/properties';
import { forgetAllSecrets } from '../src/deployer/secrets';

const ACCOUNT = '111111111111';
const REGION = 'us-east-1';
const ENV_ID = 'env_201hy10cd3h6426jy80tb32n6en';
/** Valid request-signing public keys (32-byte Ed25519 keys, base58). */
const PUBLIC_KEY = 'publickeyv1_73SG4ZRmRySfQZiRcP3fkyAFXEpfe3MZD2AhimecM9Lc';
const PUBLIC_KEY_2 = 'publickeyv1_2G8dCQhArfvGpzPw5Vx2ALciR4xCLHfS5YaT93XjNxX9';

// Secrets and the values only the fake Secrets Manager knows. Names and ARNs deliberately share
// nothing with the values, so finding a value in cdk.out can only mean a leak.
const API_KEY_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:restate/cloud-admin-AbCdEf`;
const KNOWN_API_KEY = 'known-api-key-VALUE-123';
const SELF_HOSTED_TOKEN_NAME = 'restate/self-hosted-admin';
const KNOWN_JSON_TOKEN = 'known-json-token-VALUE-789';
const HEADER_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:restate/greeter-header-GhIjKl`;
const KNOWN_HEADER = 'known-header-VALUE-456';
const HEADER_NAME = 'restate/named-header';
const KNOWN_NAMED_HEADER = 'known-named-header-VALUE-246';
/** What the fake "generates" for the Secret created with generateSecretString. */
const KNOWN_GENERATED = 'known-generated-VALUE-135';
const KNOWN_VALUES = [KNOWN_API_KEY, KNOWN_JSON_TOKEN, KNOWN_HEADER, KNOWN_NAMED_HEADER, KNOWN_GENERATED, 'known-api-key'];

const tmpDirs: string[] = [];
afterAll(() => {
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'restate-security-'));
  tmpDirs.push(dir);
  return dir;
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.isFile() ? [p] : [];
  });
}

/** Every [key, value] pair in a JSON value, recursively. */
function allEntries(value: unknown): Array<[string, unknown]> {
  if (Array.isArray(value)) return value.flatMap(allEntries);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [[k, v] as [string, unknown], ...allEntries(v)]);
  }
  return [];
}

function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(allStrings);
  return [];
}

type Resources = Record<string, { Type: string; Properties?: any }>;

/**
 * The few intrinsics the registrations' properties use, resolved as CloudFormation would
 * (Ref of a pseudo parameter or resource, Fn::GetAtt, Fn::Join); anything else is an error,
 * so the handler gets exactly what a deployment would pass.
 */
function resolveLikeCloudFormation(value: unknown, refs: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveLikeCloudFormation(v, refs));
  if (!value || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  if (entries.length === 1) {
    const [key, arg] = entries[0] as [string, any];
    const lookup = (name: string) => {
      if (!(name in refs)) throw new Error(`no value for ${key} ${name}`);
      return refs[name];
    };
    if (key === 'Ref') return lookup(arg);
    if (key === 'Fn::GetAtt') return lookup(`${arg[0]}.${arg[1]}`);
    if (key === 'Fn::Join') return (resolveLikeCloudFormation(arg[1], refs) as string[]).join(arg[0]);
    if (key.startsWith('Fn::')) throw new Error(`unexpected intrinsic ${key}`);
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveLikeCloudFormation(v, refs)]));
}

// --- the deployer handler against fakes (as in test/deployer/deployer-lambda.test.ts) -------

let secrets: RecordingServer;
let cfn: RecordingServer;
let admin: RecordingServer;
let lambdaApi: RecordingServer;
let output: string[];

beforeAll(async () => {
  secrets = await RecordingServer.start(() => undefined);
  cfn = await RecordingServer.start(() => ({ status: 200 }));
  admin = await RecordingServer.start((req) =>
    req.path === '/health'
      ? { status: 200 }
      : req.method === 'POST' && req.path === '/deployments'
        ? { status: 201, body: { id: 'dp_11pXug0mWsff2NOoRBZbOcV', services: [{ name: 'Greeter', revision: 1, public: true }] } }
        : servedBy('dp_11pXug0mWsff2NOoRBZbOcV')(req),
  );
  // AddPermission: the deployer's invoke grant (InvokeGrant.DEPLOYER).
  lambdaApi = await RecordingServer.start((req) => (req.method === 'POST' && req.path.endsWith('/policy') ? { status: 201, body: { Statement: '{}' } } : undefined));
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secrets.url;
  process.env.AWS_ENDPOINT_URL_LAMBDA = lambdaApi.url;
  useFakeAwsCredentials(REGION);
});

afterAll(async () => {
  await Promise.all([secrets?.stop(), cfn?.stop(), admin?.stop(), lambdaApi?.stop()]);
});

beforeEach(() => {
  // Each test starts cold: the deployer caches secrets across invocations of a warm Lambda.
  forgetAllSecrets();
  secrets.requests.length = 0;
  admin.requests.length = 0;
  output = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      output.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    });
  }
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    jest.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
      output.push(String(chunk));
      return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write);
  }
});

afterEach(() => {
  jest.restoreAllMocks();
});

async function invokeHandler(properties: Record<string, unknown>): Promise<{ Status: string; Reason?: string; PhysicalResourceId: string }> {
  const event = {
    RequestType: 'Create',
    ServiceToken: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:deployer`,
    ResponseURL: `${cfn.url}/cfn-response?X-Amz-Signature=abc`,
    StackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/Services/1`,
    RequestId: `req-${Math.random().toString(36).slice(2)}`,
    LogicalResourceId: 'Registration',
    ResourceType: 'Custom::RestateDeployment',
    ResourceProperties: { ServiceToken: 'x', ...properties },
  } as unknown as CloudFormationCustomResourceEvent;
  // The deployer's environment, as ServiceDeployer writes it for these properties.
  trustProps(properties as unknown as DeploymentResourceProperties);
  const before = cfn.requests.length;
  const endsAt = Date.now() + 60_000;
  await handler(event, { getRemainingTimeInMillis: () => endsAt - Date.now(), logStreamName: '2026/11/26/[$LATEST]abc' });
  const responses = cfn.requests.slice(before);
  expect(responses).toHaveLength(1);
  return responses[0].body;
}

// --- (a) secret hygiene -------------------------------------------------------------------

describe('secret hygiene: known secret values never reach cdk.out', () => {
  let outdir: string;
  let stack: Stack;
  let resources: Resources;
  let templates: Record<string, any>;
  let generated: secretsmanager.Secret;
  let fn: lambda.Function;

  beforeAll(() => {
    outdir = tempDir();
    const app = new App({ outdir });
    stack = new Stack(app, 'Services', { env: { account: ACCOUNT, region: REGION } });
    const apiKey = secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', API_KEY_ARN);
    const cloud = new RestateCloudEnvironment(stack, 'Cloud', { environmentId: ENV_ID, apiKey, requestSigningPublicKeys: [PUBLIC_KEY] });
    const selfHosted = RestateEnvironment.fromAttributes({
      adminUrl: 'https://restate.internal:9070',
      authToken: secretsmanager.Secret.fromSecretNameV2(stack, 'SelfHostedToken', SELF_HOSTED_TOKEN_NAME),
      authTokenJsonField: 'token',
    });
    const byArn = secretsmanager.Secret.fromSecretCompleteArn(stack, 'HeaderByArn', HEADER_ARN);
    const byName = secretsmanager.Secret.fromSecretNameV2(stack, 'HeaderByName', HEADER_NAME);
    generated = new secretsmanager.Secret(stack, 'GeneratedHeader', { generateSecretString: { passwordLength: 40, excludePunctuation: true } });

    fn = new lambda.Function(stack, 'Greeter', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({});'),
    });
    RestateRequestIdentity.addToFunction(fn, cloud);
    const deployer = new ServiceDeployer(stack, 'Deployer');
    const registrations = [
      deployer.register(fn.currentVersion, cloud),
      deployer.registerHttp('https://services.example.com/greeter', cloud, {
        id: 'Greeter',
        additionalHeaders: { 'x-team': 'payments' },
        secretHeaders: { 'x-api-key': byArn, 'x-named': byName, 'x-generated': generated },
      }),
      deployer.registerHttp('https://services.internal/greeter', selfHosted, { id: 'SelfHosted', secretHeaders: { 'x-api-key': byArn } }),
    ];
    // What users typically export.
    registrations.forEach((r, i) => {
      new CfnOutput(stack, `DeploymentId${i}`, { value: r.deploymentId });
      new CfnOutput(stack, `ServiceNames${i}`, { value: r.serviceNames });
    });
    new CfnOutput(stack, 'AdminUrl', { value: cloud.adminUrl });

    const assembly = app.synth();
    templates = Object.fromEntries(assembly.stacks.map((s) => [s.stackName, s.template]));
    resources = templates.Services.Resources;
  });

  test('no file of cdk.out, asset directories included, contains a known secret value', () => {
    const files = walk(outdir);
    // The walk sees the whole assembly: templates, manifests, the deployer's bundled code.
    expect(files.map((f) => path.relative(outdir, f))).toEqual(
      expect.arrayContaining(['Services.template.json', 'manifest.json', 'tree.json', expect.stringMatching(/^asset\.[0-9a-f]{64}[^/]*\/index\.js$/)]),
    );
    const leaks = files.flatMap((file) => {
      const text = fs.readFileSync(file, 'latin1');
      return KNOWN_VALUES.filter((v) => text.includes(v)).map((v) => `${path.relative(outdir, file)}: ${v}`);
    });
    expect(leaks).toEqual([]);
  });

  test('no template holds a secret value property or a dynamic reference to a secret', () => {
    for (const [name, template] of Object.entries(templates)) {
      const keys = allEntries(template).map(([k]) => k);
      expect({ name, secretStrings: keys.filter((k) => k === 'SecretString' || k === 'SecretStringValue') }).toEqual({ name, secretStrings: [] });
      const text = JSON.stringify(template);
      expect({ name, found: text.match(/(?<!Generate)SecretString/g) }).toEqual({ name, found: null });
      expect({ name, found: allStrings(template).filter((s) => /\{\{resolve:(secretsmanager|ssm-secure):/.test(s)) }).toEqual({ name, found: [] });
    }
    // The generated secret's value is created by CloudFormation, not written by CDK.
    expect(resources[stack.getLogicalId(generated.node.defaultChild as secretsmanager.CfnSecret)].Properties).toEqual({
      GenerateSecretString: { ExcludePunctuation: true, PasswordLength: 40 },
    });
  });

  test('outputs carry only deployment ids, service names and the admin URL, never a secret or a reference to one', () => {
    const outputs = templates.Services.Outputs as Record<string, { Value: unknown }>;
    const secretLogicalIds = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret').map(([id]) => id);
    const secretArns = [API_KEY_ARN, HEADER_ARN, SELF_HOSTED_TOKEN_NAME, HEADER_NAME];
    for (const [name, out] of Object.entries(outputs)) {
      const text = JSON.stringify(out.Value);
      expect({ name, text, secretRef: secretLogicalIds.some((id) => text.includes(id)), arn: secretArns.some((a) => text.includes(a)) }).toEqual({
        name,
        text,
        secretRef: false,
        arn: false,
      });
      expect(text).not.toMatch(/Fn::Sub|resolve:/);
      if (name !== 'AdminUrl') {
        const [id, attribute] = (out.Value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
        expect(resources[id].Type).toBe('Custom::RestateDeployment');
        expect(['DeploymentId', 'ServiceNames']).toContain(attribute);
      }
    }
  });

  test('registrations reference secrets only by ARN, in AuthTokenSecretArn and SecretHeaders[].SecretArn', () => {
    const registrations = Object.values(resources).filter((r) => r.Type === 'Custom::RestateDeployment');
    expect(registrations).toHaveLength(3);
    const secretIds = new Set(Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret').map(([id]) => id));
    for (const r of registrations) {
      const { AuthTokenSecretArn, SecretHeaders, ...rest } = r.Properties;
      const restText = JSON.stringify(rest);
      expect(restText).not.toMatch(/secretsmanager|secret:/);
      for (const id of secretIds) expect(restText).not.toContain(`"${id}"`);
      expect(AuthTokenSecretArn).toBeDefined();
      for (const h of SecretHeaders ?? []) expect(Object.keys(h).sort()).toEqual(['Name', 'SecretArn']);
    }
  });

  test('the deployer, given the synthesized properties, reads the values at deploy time, sends them to the admin API only, and never logs them', async () => {
    const generatedArn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:GeneratedHeader-XyZ123`;
    const partialArn = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}`;
    secrets.route = secretsManagerRoute({
      [API_KEY_ARN]: KNOWN_API_KEY,
      [partialArn(SELF_HOSTED_TOKEN_NAME)]: JSON.stringify({ token: KNOWN_JSON_TOKEN }),
      [HEADER_ARN]: KNOWN_HEADER,
      [partialArn(HEADER_NAME)]: KNOWN_NAMED_HEADER,
      [generatedArn]: KNOWN_GENERATED,
    });
    const refs: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::Region': REGION,
      'AWS::AccountId': ACCOUNT,
      'AWS::URLSuffix': 'amazonaws.com',
      [stack.getLogicalId(generated.node.defaultChild as secretsmanager.CfnSecret)]: generatedArn,
    };
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type === 'AWS::IAM::Role') refs[`${id}.Arn`] = `arn:aws:iam::${ACCOUNT}:role/${id}`;
      if (r.Type === 'AWS::Lambda::Version') refs[id] = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Greeter:1`;
    }
    const registrations = Object.values(resources).filter((r) => r.Type === 'Custom::RestateDeployment');
    for (const r of registrations) {
      const { ServiceToken: _token, ...template } = r.Properties as Record<string, unknown>;
      const properties = resolveLikeCloudFormation(template, refs) as Record<string, unknown>;
      // The fake admin API stands in for the environment's.
      const response = await invokeHandler({ ...properties, AdminUrl: admin.url });
      expect({ Status: response.Status, Reason: response.Reason }).toEqual({ Status: 'SUCCESS', Reason: expect.any(String) });
    }

    const posts = admin.requests.filter((r) => r.method === 'POST' && r.path === '/deployments');
    expect(posts.map((p) => p.headers.authorization)).toEqual([`Bearer ${KNOWN_API_KEY}`, `Bearer ${KNOWN_API_KEY}`, `Bearer ${KNOWN_JSON_TOKEN}`]);
    expect(posts.map((p) => p.body.additional_headers)).toEqual([
      undefined,
      { 'x-team': 'payments', 'x-api-key': KNOWN_HEADER, 'x-named': KNOWN_NAMED_HEADER, 'x-generated': KNOWN_GENERATED },
      { 'x-api-key': KNOWN_HEADER },
    ]);
    // Every secret was read from Secrets Manager by ARN.
    expect(new Set(secrets.requests.map((r) => r.body.SecretId))).toEqual(
      new Set([API_KEY_ARN, partialArn(SELF_HOSTED_TOKEN_NAME), HEADER_ARN, partialArn(HEADER_NAME), generatedArn]),
    );
    // The Lambda handler's grant is in the template (InvokeGrant.TEMPLATE): the deployer never calls Lambda.
    expect(lambdaApi.requests).toEqual([]);
    // The capture saw the handler's lines, and none of the values.
    expect(output.join('\n')).toContain('"message":"registered"');
    expect(KNOWN_VALUES.filter((v) => output.join('\n').includes(v))).toEqual([]);
    expect(KNOWN_VALUES.filter((v) => cfn.requests.some((r) => JSON.stringify(r.body).includes(v)))).toEqual([]);
  });
});

// --- (b) least privilege --------------------------------------------------------------------

interface Fixture {
  readonly stack: Stack;
  readonly env: RestateCloudEnvironment;
  readonly deployer: ServiceDeployer;
  readonly fn: lambda.Function;
}

function fixture(deployerProps = {}): Fixture {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: { account: ACCOUNT, region: REGION } });
  const apiKey = secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', API_KEY_ARN);
  const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: ENV_ID, apiKey });
  const fn = newFunction(stack, 'Fn');
  const deployer = new ServiceDeployer(stack, 'Deployer', deployerProps);
  return { stack, env, deployer, fn };
}

function newFunction(stack: Stack, id: string): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline(`exports.handler = async () => ${JSON.stringify(id)};`),
  });
}

function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as any);
}

describe('least privilege: the invoker role may invoke the registered handlers and nothing else', () => {
  /** A version and an alias registered, a version registered without grant, one not registered. */
  function registerScene(f: Fixture) {
    const other = newFunction(f.stack, 'Other');
    const unregistered = newFunction(f.stack, 'Unregistered');
    const alias = new lambda.Alias(f.stack, 'Live', { aliasName: 'live', version: other.currentVersion });
    const notGranted = newFunction(f.stack, 'NotGranted');
    f.deployer.register(f.fn.currentVersion, f.env);
    f.deployer.register(alias, f.env);
    f.deployer.register(notGranted.currentVersion, f.env, { invokeGrant: InvokeGrant.NONE });
    unregistered.currentVersion; // exists, never registered
    return { ...f, alias, notGranted };
  }

  function invokerRoleHasNoIdentityPolicy(resources: Resources, roleId: string): void {
    const role = resources[roleId];
    expect(role.Properties.Policies).toBeUndefined();
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const attached = Object.values(resources).filter(
      (r) => (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') && JSON.stringify(r.Properties.Roles ?? []).includes(`"${roleId}"`),
    );
    expect(attached).toEqual([]);
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::IAM::RolePolicy' || r.Type === 'AWS::IAM::UserToGroupAddition')).toEqual([]);
  }

  test('InvokeGrant.DEPLOYER: each registration has the deployer grant exactly its version or alias to the role; no identity policy', () => {
    const { stack, env, fn, alias, notGranted } = registerScene(fixture({ invokeGrant: InvokeGrant.DEPLOYER }));

    const resources = Template.fromStack(stack).toJSON().Resources as Resources;
    const roleId = logicalId(stack, env.invokerRole as iam.Role);
    const roleArn = { 'Fn::GetAtt': [roleId, 'Arn'] };
    const grants = Object.values(resources)
      .filter((r) => r.Type === 'Custom::RestateDeployment')
      .map((r) => ({ LambdaArn: r.Properties.LambdaArn, AssumeRoleArn: r.Properties.AssumeRoleArn, GrantInvoke: r.Properties.GrantInvoke }));
    expect(grants).toEqual([
      { LambdaArn: stack.resolve(fn.currentVersion.functionArn), AssumeRoleArn: roleArn, GrantInvoke: 'true' },
      { LambdaArn: stack.resolve(alias.functionArn), AssumeRoleArn: roleArn, GrantInvoke: 'true' },
      { LambdaArn: stack.resolve(notGranted.currentVersion.functionArn), AssumeRoleArn: roleArn, GrantInvoke: undefined },
    ]);
    // ... that is: a Ref to the version and the alias, never the unqualified function.
    expect(grants.slice(0, 2).map((g) => resources[g.LambdaArn.Ref]?.Type)).toEqual(['AWS::Lambda::Version', 'AWS::Lambda::Alias']);
    // Nothing in the template grants anything to anyone.
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Permission')).toEqual([]);
    invokerRoleHasNoIdentityPolicy(resources, roleId);
  });

  test('by default (InvokeGrant.TEMPLATE): one Lambda permission per registered version or alias, naming exactly it; no identity policy', () => {
    const { stack, env, fn, alias } = registerScene(fixture());
    // The user's own direct grant through the role's API is the same statement, made once.
    (env.invokerRole as RestateCloudInvokerRole).allowInvoke(fn.currentVersion);

    const resources = Template.fromStack(stack).toJSON().Resources as Resources;
    const roleId = logicalId(stack, env.invokerRole as iam.Role);
    const roleArn = { 'Fn::GetAtt': [roleId, 'Arn'] };
    const permissions = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Permission');
    expect(permissions.map((p) => p.Properties)).toEqual([
      { Action: 'lambda:InvokeFunction', FunctionName: stack.resolve(fn.currentVersion.functionArn), Principal: roleArn },
      { Action: 'lambda:InvokeFunction', FunctionName: stack.resolve(alias.functionArn), Principal: roleArn },
    ]);
    expect(permissions.map((p) => resources[p.Properties.FunctionName.Ref]?.Type)).toEqual(['AWS::Lambda::Version', 'AWS::Lambda::Alias']);
    invokerRoleHasNoIdentityPolicy(resources, roleId);
  });

  test('an imported invoker role (fromAttributes) gets the same deploy-time grants (InvokeGrant.DEPLOYER) and no policy', () => {
    const { stack, deployer, fn } = fixture({ invokeGrant: InvokeGrant.DEPLOYER });
    const invokerRoleArn = `arn:aws:iam::${ACCOUNT}:role/restate-invoker`;
    const env = RestateEnvironment.fromAttributes({
      adminUrl: 'https://restate.internal:9070',
      invokerRole: iam.Role.fromRoleArn(stack, 'Invoker', invokerRoleArn),
    });
    deployer.register(fn.currentVersion, env);
    const resources = Template.fromStack(stack).toJSON().Resources as Resources;
    const registration = Object.values(resources).find((r) => r.Type === 'Custom::RestateDeployment')!;
    expect(registration.Properties).toMatchObject({ AssumeRoleArn: invokerRoleArn, GrantInvoke: 'true' });
    // The only policy that names the role is the deployer's, as the one principal it may grant to.
    const policies = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties).includes('restate-invoker'));
    const naming = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).filter((st: any) => JSON.stringify(st).includes('restate-invoker'));
    expect(naming.map((st: any) => st.Condition)).toEqual([
      { StringEquals: { 'lambda:Principal': invokerRoleArn } },
    ]);
  });
});

describe('least privilege: the deployer reads only its secrets and writes only its own logs', () => {
  function deployerStatements(f: Fixture): any[] {
    const resources = Template.fromStack(f.stack).toJSON().Resources as Resources;
    const roleId = logicalId(f.stack, f.deployer.role as iam.Role);
    const policies = Object.values(resources).filter(
      (r) => (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') && JSON.stringify(r.Properties.Roles ?? []).includes(`"${roleId}"`),
    );
    expect(policies.every((p) => p.Type === 'AWS::IAM::Policy')).toBe(true);
    return policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
  }

  function deployerRole(f: Fixture): any {
    return (Template.fromStack(f.stack).toJSON().Resources as Resources)[logicalId(f.stack, f.deployer.role as iam.Role)].Properties;
  }

  const logStatement = (f: Fixture) => {
    const logGroupId = Object.entries(Template.fromStack(f.stack).toJSON().Resources as Resources).find(([, r]) => r.Type === 'AWS::Logs::LogGroup')![0];
    expect(logGroupId).toMatch(/^DeployerLogGroup/);
    return { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] } };
  };
  const readStatement = (resource: unknown) => ({
    Effect: 'Allow',
    Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
    Resource: resource,
  });

  function registerEverything(f: Fixture) {
    const byArn = secretsmanager.Secret.fromSecretCompleteArn(f.stack, 'HeaderByArn', HEADER_ARN);
    const byName = secretsmanager.Secret.fromSecretNameV2(f.stack, 'HeaderByName', HEADER_NAME);
    const generated = new secretsmanager.Secret(f.stack, 'Generated', { generateSecretString: { passwordLength: 32 } });
    f.deployer.register(f.fn.currentVersion, f.env);
    f.deployer.registerHttp('https://a.example.com', f.env, { secretHeaders: { 'x-a': byArn, 'x-b': byName, 'x-c': generated } });
    f.deployer.registerHttp('https://b.example.com', f.env, { secretHeaders: { 'x-a': byArn } });
    return { byArn, byName, generated };
  }

  const invokeGrantStatement = (f: Fixture) => ({
    Effect: 'Allow',
    Action: ['lambda:AddPermission', 'lambda:RemovePermission'],
    // Every function of the account and region, but only statements naming the invoker role.
    Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:lambda:${REGION}:${ACCOUNT}:function:*:*`]] },
    Condition: { StringEquals: { 'lambda:Principal': f.stack.resolve(f.env.invokerRole!.roleArn) } },
  });

  function expectedStatements(f: Fixture, headerSecrets: ReturnType<typeof registerEverything>) {
    return [
      logStatement(f),
      readStatement(API_KEY_ARN),
      invokeGrantStatement(f),
      readStatement(HEADER_ARN),
      // A secret known by name only: its ARN ends in 6 random characters the deployer cannot know.
      readStatement({
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:secretsmanager:${REGION}:${ACCOUNT}:secret:${HEADER_NAME}-??????`]],
      }),
      readStatement(f.stack.resolve(headerSecrets.generated.secretArn)),
    ];
  }

  test('by default (InvokeGrant.TEMPLATE): its log group and exactly the API key and header secrets, and no Lambda rights', () => {
    const f = fixture();
    const s = registerEverything(f);
    expect(deployerStatements(f)).toEqual(expectedStatements(f, s).filter((st: any) => !st.Condition));
  });

  test('InvokeGrant.DEPLOYER, statement by statement: its log group, then exactly the API key and header secrets, each once, and the invoke grants', () => {
    const f = fixture({ invokeGrant: InvokeGrant.DEPLOYER });
    const s = registerEverything(f);
    const statements = deployerStatements(f);
    expect(statements).toEqual(expectedStatements(f, s));
    for (const statement of statements) {
      for (const a of allStrings(statement.Action)) expect(a).not.toContain('*');
      if (statement.Condition) continue; // the invoke grants, checked whole above
      for (const r of allStrings(statement.Resource)) expect(r).not.toContain('*');
      expect(Object.keys(statement).sort()).toEqual(['Action', 'Effect', 'Resource']);
    }
    const role = deployerRole(f);
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toBeUndefined();
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
  });

  test('in a VPC: the same statements, plus only the AWS managed AWSLambdaVPCAccessExecutionRole', () => {
    const app = new App();
    const vpcStack = new Stack(app, 'Net', { env: { account: ACCOUNT, region: REGION } });
    const vpc = new ec2.Vpc(vpcStack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const f = ((): Fixture => {
      const apiKey = secretsmanager.Secret.fromSecretCompleteArn(vpcStack, 'ApiKey', API_KEY_ARN);
      return {
        stack: vpcStack,
        env: new RestateCloudEnvironment(vpcStack, 'Env', { environmentId: ENV_ID, apiKey }),
        fn: newFunction(vpcStack, 'Fn'),
        deployer: new ServiceDeployer(vpcStack, 'Deployer', { vpc, invokeGrant: InvokeGrant.DEPLOYER }),
      };
    })();
    const s = registerEverything(f);
    expect(deployerStatements(f)).toEqual(expectedStatements(f, s));
    expect(deployerRole(f).ManagedPolicyArns).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']] },
    ]);
  });
});

// --- (c) HTTPS ------------------------------------------------------------------------------

describe('HTTPS for Restate Cloud', () => {
  function registrationProperties(stack: Stack): Record<string, any> {
    const regs = Object.values(Template.fromStack(stack).toJSON().Resources as Resources).filter((r) => r.Type === 'Custom::RestateDeployment');
    expect(regs).toHaveLength(1);
    return regs[0].Properties;
  }

  test('a literal http:// URL throws at synth, naming allowInsecureHttp', () => {
    const { env, deployer } = fixture();
    expect(() => deployer.registerHttp('http://services.example.com/greeter', env)).toThrow(
      /"http:\/\/services\.example\.com\/greeter" is plain HTTP.*allowInsecureHttp/,
    );
  });

  test('the scheme is compared case-insensitively', () => {
    const { env, deployer } = fixture();
    expect(() => deployer.registerHttp('HTTP://services.example.com/greeter', env)).toThrow(/is plain HTTP/);
    expect(() => deployer.registerHttp('HTTPS://services.example.com/greeter', env)).not.toThrow();
  });

  test('with allowInsecureHttp it synthesizes, and the deployer is not told to require HTTPS', () => {
    const { stack, env, deployer } = fixture();
    deployer.registerHttp('http://services.example.com/greeter', env, { allowInsecureHttp: true });
    const props = registrationProperties(stack);
    expect(props.Uri).toBe('http://services.example.com/greeter');
    expect(props).not.toHaveProperty('RequireHttps');
  });

  test('a literal https:// URL: RequireHttps true; an environment not requiring HTTPS: absent', () => {
    const f = fixture();
    f.deployer.registerHttp('https://services.example.com/greeter', f.env);
    expect(registrationProperties(f.stack)).toMatchObject({ Uri: 'https://services.example.com/greeter', RequireHttps: 'true' });

    const g = fixture();
    g.deployer.registerHttp('http://127.0.0.1:9080', RestateEnvironment.fromAttributes({ adminUrl: 'http://127.0.0.1:9070' }));
    expect(registrationProperties(g.stack)).not.toHaveProperty('RequireHttps');
  });

  describe('a token URL is checked at deploy time', () => {
    let tokenProps: Record<string, any>;

    beforeAll(() => {
      const { stack, env, deployer } = fixture();
      const url = new CfnParameter(stack, 'ServiceUrl', { type: 'String' }).valueAsString;
      deployer.registerHttp(url, env, { id: 'FromParameter' });
      tokenProps = registrationProperties(stack);
    });

    function deployedWith(uri: string): Record<string, unknown> {
      const { ServiceToken: _token, ...template } = tokenProps;
      return { ...(resolveLikeCloudFormation(template, { ServiceUrl: uri }) as Record<string, unknown>), AdminUrl: admin.url };
    }

    test('the template sets RequireHttps and passes the parameter through', () => {
      expect(tokenProps).toMatchObject({ Uri: { Ref: 'ServiceUrl' }, RequireHttps: 'true', AuthTokenSecretArn: API_KEY_ARN });
    });

    test('the deployer refuses a plain-http value: FAILED naming the URL, no secret read, no admin call', async () => {
      const response = await invokeHandler(deployedWith('http://services.example.com/greeter'));

      expect(response.Status).toBe('FAILED');
      expect(response.Reason).toContain('http://services.example.com/greeter');
      expect(response.Reason).toMatch(/not HTTPS.*allowInsecureHttp/);
      expect(admin.requests).toEqual([]);
      expect(secrets.requests).toEqual([]);
    });

    test('an upper-case HTTPS scheme is HTTPS', async () => {
      secrets.route = secretsManagerRoute({ [API_KEY_ARN]: KNOWN_API_KEY });
      const response = await invokeHandler(deployedWith('HTTPS://services.example.com/greeter'));
      expect(response.Status).toBe('SUCCESS');
    });

    test('the same properties with an https value register', async () => {
      secrets.route = secretsManagerRoute({ [API_KEY_ARN]: KNOWN_API_KEY });
      const response = await invokeHandler(deployedWith('https://services.example.com/greeter'));

      expect({ Status: response.Status, Reason: response.Reason }).toEqual({ Status: 'SUCCESS', Reason: expect.any(String) });
      const posts = admin.requests.filter((r) => r.method === 'POST' && r.path === '/deployments');
      expect(posts.map((p) => p.body.uri)).toEqual(['https://services.example.com/greeter']);
    });
  });
});

// --- (d) request identity -------------------------------------------------------------------

describe('RestateRequestIdentity', () => {
  function withKeys(keys: string[] | undefined): { stack: Stack; env: IRestateEnvironment } {
    const stack = new Stack(new App(), 'Stack');
    return { stack, env: RestateEnvironment.fromAttributes({ adminUrl: 'https://restate.internal:9070', requestSigningPublicKeys: keys }) };
  }

  test('addToFunction sets RESTATE_IDENTITY_KEYS, comma-separated', () => {
    const { stack, env } = withKeys([PUBLIC_KEY, PUBLIC_KEY_2]);
    const fn = newFunction(stack, 'Fn');
    RestateRequestIdentity.addToFunction(fn, env);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { RESTATE_IDENTITY_KEYS: `${PUBLIC_KEY},${PUBLIC_KEY_2}` } },
    });
    expect(RestateRequestIdentity.DEFAULT_VARIABLE_NAME).toBe('RESTATE_IDENTITY_KEYS');
  });

  test('addToFunction with a custom variable name sets only that one', () => {
    const { stack, env } = withKeys([PUBLIC_KEY]);
    const fn = newFunction(stack, 'Fn');
    RestateRequestIdentity.addToFunction(fn, env, { variableName: 'MY_KEYS' });
    const fns = Object.values(Template.fromStack(stack).toJSON().Resources as Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(fns.map((r) => r.Properties.Environment)).toEqual([{ Variables: { MY_KEYS: PUBLIC_KEY } }]);
  });

  test('the keys of a RestateCloudEnvironment reach the function', () => {
    const stack = new Stack(new App(), 'Stack');
    const env = new RestateCloudEnvironment(stack, 'Env', {
      environmentId: ENV_ID,
      apiKey: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', API_KEY_ARN),
      requestSigningPublicKeys: [PUBLIC_KEY],
    });
    const fn = newFunction(stack, 'Fn');
    RestateRequestIdentity.addToFunction(fn, env);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { RESTATE_IDENTITY_KEYS: PUBLIC_KEY } } });
  });

  test('addToContainer sets the variable on an ECS container, custom name too', () => {
    const { stack, env } = withKeys([PUBLIC_KEY, PUBLIC_KEY_2]);
    const task = new ecs.FargateTaskDefinition(stack, 'Task');
    const container = task.addContainer('Service', { image: ecs.ContainerImage.fromRegistry('example/greeter:1') });
    RestateRequestIdentity.addToContainer(container, env);
    const other = task.addContainer('Sidecar', { image: ecs.ContainerImage.fromRegistry('example/sidecar:1') });
    RestateRequestIdentity.addToContainer(other, env, { variableName: 'SIDECAR_KEYS' });
    const definitions = Template.fromStack(stack).toJSON().Resources[logicalId(stack, task)].Properties.ContainerDefinitions;
    expect(definitions.map((d: any) => [d.Name, d.Environment])).toEqual([
      ['Service', [{ Name: 'RESTATE_IDENTITY_KEYS', Value: `${PUBLIC_KEY},${PUBLIC_KEY_2}` }]],
      ['Sidecar', [{ Name: 'SIDECAR_KEYS', Value: `${PUBLIC_KEY},${PUBLIC_KEY_2}` }]],
    ]);
  });

  test.each([
    ['no keys', undefined],
    ['an empty list', []],
  ])('keysOf throws naming the fix when the environment has %s', (_what, keys) => {
    const { stack, env } = withKeys(keys);
    expect(() => RestateRequestIdentity.keysOf(env)).toThrow(/https:\/\/restate\.internal:9070 has no request-signing public keys: pass requestSigningPublicKeys/);
    expect(() => RestateRequestIdentity.addToFunction(newFunction(stack, 'Fn'), env)).toThrow(/requestSigningPublicKeys/);
  });

  test.each([
    ['a wrong prefix', 'publickeyv2_73SG4ZRmRySfQZiRcP3fkyAFXEpfe3MZD2AhimecM9Lc'],
    ['no prefix', '73SG4ZRmRySfQZiRcP3fkyAFXEpfe3MZD2AhimecM9Lc'],
    ['characters outside base58 (0, O, I, l)', 'publickeyv1_0OIl4ZRmRySfQZiRcP3fkyAFXEpfe3MZD2AhimecM9Lc'],
    ['too short', 'publickeyv1_73SG4ZRmRyS'],
    ['surrounding whitespace', ` ${PUBLIC_KEY} `],
    ['two keys in one string', `${PUBLIC_KEY},${PUBLIC_KEY_2}`],
    ['a private key by mistake', '-----BEGIN PRIVATE KEY-----'],
  ])('an invalid public key (%s) is rejected at construction, naming it', (_what, key) => {
    const quoted = JSON.stringify(key).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const message = new RegExp(`invalid request-signing public key ${quoted}`);
    expect(() => RestateEnvironment.fromAttributes({ adminUrl: 'https://restate.internal:9070', requestSigningPublicKeys: [PUBLIC_KEY, key] })).toThrow(message);
    const stack = new Stack(new App(), 'Stack');
    expect(
      () =>
        new RestateCloudEnvironment(stack, 'Env', {
          environmentId: ENV_ID,
          apiKey: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', API_KEY_ARN),
          requestSigningPublicKeys: [key],
        }),
    ).toThrow(message);
  });

  test('a token key (e.g. a parameter) passes construction and reaches the variable', () => {
    const stack = new Stack(new App(), 'Stack');
    const key = new CfnParameter(stack, 'SigningKey', { type: 'String' }).valueAsString;
    const env = RestateEnvironment.fromAttributes({ adminUrl: 'https://restate.internal:9070', requestSigningPublicKeys: [key, PUBLIC_KEY] });
    RestateRequestIdentity.addToFunction(newFunction(stack, 'Fn'), env);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { RESTATE_IDENTITY_KEYS: { 'Fn::Join': ['', [{ Ref: 'SigningKey' }, `,${PUBLIC_KEY}`]] } } },
    });
  });
});
