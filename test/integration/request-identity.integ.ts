/**
 * Request identity end to end: restate-server signs every request to a service with an
 * Ed25519 private key (as Restate Cloud does with its environment key); the service verifies
 * the signature with the public key it was handed THROUGH THE CONSTRUCT
 * (`RestateRequestIdentity.addToFunction` → the function's `RESTATE_IDENTITY_KEYS` in the
 * synthesized template → the SDK's `withIdentityV1(...process.env.RESTATE_IDENTITY_KEYS.split(','))`
 * in harness/fixtures/restate-service.js). Registration goes through the deployer handler with
 * the properties `ServiceDeployer.registerHttp` wrote into the same template.
 *
 * Run with `npm run test:integration` (test/integration/run.sh). Cases build on each other in
 * file order; the last one checks the output of all before it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RestateEnvironment, RestateRequestIdentity, ServiceDeployer } from '../../src';
import { normalize } from './harness/admin-api';
import { CloudFormationInvocation } from './harness/cloudformation';
import { http2Request, httpRequest } from './harness/http';
import { IntegrationEnvironment } from './harness/integration-environment';
import { leakedSecrets } from './harness/output-capture';
import { waitUntil } from './harness/ports';
import { generateSigningKeyPair, signedRequestHeaders, SigningKeyPair } from './harness/request-identity';
import { freshDir, runEnvironment } from './harness/run-env';
import { ServiceProcess } from './harness/services';
import { trustDeployerOf } from './harness/trust';

jest.setTimeout(90_000);

const STACK_NAME = 'IdentityStack';
const DISCOVER_ACCEPT = 'application/vnd.restate.endpointmanifest.v3+json';

/** The key the server signs with, and one it does not know. */
const serverKey: SigningKeyPair = generateSigningKeyPair();
const otherKey: SigningKeyPair = generateSigningKeyPair();

let env: IntegrationEnvironment;
let keyDir: string;
const cdkOutDirs: string[] = [];

beforeAll(async () => {
  keyDir = freshDir(runEnvironment(), 'identity-key');
  const pemFile = path.join(keyDir, 'request-identity.pem');
  fs.writeFileSync(pemFile, serverKey.privateKeyPem, { mode: 0o600 });
  env = await IntegrationEnvironment.start({ server: { requestIdentityPrivateKeyPemFile: pemFile } });
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

interface Synthesized {
  /** The service function's `Environment.Variables`, as CloudFormation would give them to Lambda. */
  readonly functionVariables: Record<string, string>;
  /** The registration's ResourceProperties without ServiceToken, when a URI was given. */
  readonly registration?: Record<string, unknown>;
  readonly outdir: string;
}

/**
 * Synthesizes a stack the way a user writes it: an environment described with its
 * request-signing public keys, a service function handed the keys by RestateRequestIdentity,
 * and (given the service's URI) a ServiceDeployer registering the endpoint.
 */
function synthesize(keys: string[], serviceUri?: string, registrationId = 'Verified'): Synthesized {
  const outdir = freshDir(runEnvironment(), 'cdk.out');
  cdkOutDirs.push(outdir);
  const app = new App({ outdir });
  const stack = new Stack(app, STACK_NAME, { env: { account: '123456789012', region: 'us-east-1' } });
  const restate = RestateEnvironment.fromAttributes({
    adminUrl: env.authProxy.url,
    authToken: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', env.apiKeySecretArn),
    requestSigningPublicKeys: keys,
  });
  const fn = new lambda.Function(stack, 'Service', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({});'),
  });
  RestateRequestIdentity.addToFunction(fn, restate);
  if (serviceUri) {
    new ServiceDeployer(stack, 'Deployer').registerHttp(serviceUri, restate, { id: registrationId, expectedServices: [registrationId] });
  }
  const template = app.synth().getStackByName(STACK_NAME).template as { Resources: Record<string, { Type: string; Properties: any }> };

  const fnResource = template.Resources[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)];
  const functionVariables = fnResource.Properties.Environment.Variables as Record<string, string>;
  for (const [name, value] of Object.entries(functionVariables)) {
    if (typeof value !== 'string') throw new Error(`${name} is not a literal in the template: ${JSON.stringify(value)}`);
  }
  let registration: Record<string, unknown> | undefined;
  if (serviceUri) {
    const registrations = Object.values(template.Resources).filter((r) => r.Type === 'Custom::RestateDeployment');
    expect(registrations).toHaveLength(1);
    const { ServiceToken: _serviceToken, ...properties } = registrations[0].Properties as Record<string, unknown>;
    // Everything else is literal: the handler gets exactly what CloudFormation would pass.
    expect(JSON.stringify(properties)).not.toMatch(/"(Ref|Fn::[A-Za-z]+)"/);
    registration = properties;
    trustDeployerOf(template);
  }
  return { functionVariables, registration, outdir };
}

/** The service as Lambda would run it: with the function's environment variables. */
async function startService(name: string, synthesized: Synthesized, port?: number): Promise<ServiceProcess> {
  return env.startService({ name, version: 1, environment: synthesized.functionVariables, port });
}

function expectAnswered(inv: CloudFormationInvocation, status: 'SUCCESS' | 'FAILED'): void {
  expect({
    problems: inv.problems,
    putCount: inv.putCount,
    handlerError: inv.handlerError === undefined ? undefined : String(inv.handlerError),
    respondedBeforeReturn: inv.respondedBeforeReturn,
    Status: inv.response.Status,
    Reason: inv.response.Reason,
  }).toEqual({
    problems: [],
    putCount: 1,
    handlerError: undefined,
    respondedBeforeReturn: true,
    Status: status,
    Reason: expect.any(String),
  });
}

describe('request identity (the server signs requests; services verify with the key the construct hands them)', () => {
  let verified: ServiceProcess;
  let verifiedId: string;

  test('a. the public key encoding matches the server\'s: it logs the key id of the private key it loaded', () => {
    expect(serverKey.publicKey).toMatch(/^publickeyv1_[1-9A-HJ-NP-Za-km-z]{43,44}$/);
    expect(otherKey.publicKey).not.toBe(serverKey.publicKey);
    const log = env.server.log();
    expect(log).toContain(`kid: "${serverKey.publicKey}"`);
    expect(log).not.toContain(otherKey.publicKey);
  });

  test('b. RestateRequestIdentity.addToFunction puts the environment\'s key into the function\'s environment', () => {
    const synthesized = synthesize([serverKey.publicKey]);
    expect(synthesized.functionVariables).toEqual({ RESTATE_IDENTITY_KEYS: serverKey.publicKey });
  });

  test('c. a service given that key accepts the server\'s signed requests: Create SUCCESS, the ingress answers', async () => {
    const keysOnly = synthesize([serverKey.publicKey]);
    verified = await startService('Verified', keysOnly);
    const { registration } = synthesize([serverKey.publicKey], verified.uri);
    expect(registration).toMatchObject({ AdminUrl: env.authProxy.url, Uri: verified.uri, AuthTokenSecretArn: env.apiKeySecretArn });

    const inv = await env.cfn.invokeAsCloudFormation('Create', registration!);

    expectAnswered(inv, 'SUCCESS');
    verifiedId = inv.response.PhysicalResourceId;
    expect(verifiedId).toMatch(/^dp_/);
    expect(inv.response.Data).toMatchObject({ DeploymentId: verifiedId, ServiceNames: 'Verified' });
    const res = await env.admin.invoke('Verified', 'greet', 'World');
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: JSON.stringify('Hello, World! (Verified v1)') });
    // The SDK really verified (rather than accepting anything).
    expect(verified.log()).toContain(`Validating requests using signing keys [${serverKey.publicKey}]`);
    expect(verified.log()).not.toContain('Rejecting request');
  });

  test('d. the same service answers 401 to unsigned and wrongly signed requests, 200 to correctly signed ones', async () => {
    const discover = (headers: Record<string, string>) => http2Request('GET', `${verified.uri}/discover`, { headers: { accept: DISCOVER_ACCEPT, ...headers } });

    const unsigned = await discover({});
    expect({ status: unsigned.status, body: unsigned.body }).toEqual({ status: 401, body: expect.stringContaining('Unauthorized') });

    const unsignedInvoke = await http2Request('POST', `${verified.uri}/invoke/Verified/greet`, {
      headers: { 'content-type': 'application/vnd.restate.invocation.v5' },
      body: Buffer.alloc(0),
    });
    expect(unsignedInvoke.status).toBe(401);

    const garbage = await discover({ 'x-restate-signature-scheme': 'v1', 'x-restate-jwt-v1': 'not.a.jwt' });
    expect(garbage.status).toBe(401);

    const wrongKey = await discover(signedRequestHeaders(otherKey, '/discover'));
    expect(wrongKey.status).toBe(401);

    const wrongAudience = await discover(signedRequestHeaders(serverKey, '/invoke/Verified/greet'));
    expect(wrongAudience.status).toBe(401);

    const expired = await discover(signedRequestHeaders(serverKey, '/discover', Math.floor(Date.now() / 1000) - 3_600));
    expect(expired.status).toBe(401);

    const signed = await discover(signedRequestHeaders(serverKey, '/discover'));
    expect(signed.status).toBe(200);
    expect(JSON.parse(signed.body)).toMatchObject({ services: [expect.objectContaining({ name: 'Verified' })] });

    // Health stays open (load balancer checks carry no signature).
    expect((await http2Request('GET', `${verified.uri}/health`)).status).toBe(200);
  });

  test('e. the same service given another key rejects the server\'s requests: Create FAILED with the admin API\'s message, nothing registered', async () => {
    const wrong = synthesize([otherKey.publicKey]);
    expect(wrong.functionVariables).toEqual({ RESTATE_IDENTITY_KEYS: otherKey.publicKey });
    const rejecting = await startService('Rejecting', wrong);
    const { registration } = synthesize([otherKey.publicKey], rejecting.uri, 'Rejecting');
    const mark = env.authProxy.mark();

    const inv = await env.cfn.invokeAsCloudFormation('Create', registration!);

    expectAnswered(inv, 'FAILED');
    const posts = env.authProxy.since(mark).filter((r) => r.method === 'POST' && r.path === '/deployments');
    expect(posts.length).toBeGreaterThan(0);
    const last = posts[posts.length - 1];
    expect(last.status).toBeGreaterThanOrEqual(400);
    const adminMessage = (JSON.parse(last.responseBody) as { message: string }).message;
    note(`e: ${posts.length} registration attempt(s), answered after ${inv.elapsedMs} ms; admin API said HTTP ${last.status}: ${adminMessage}`);
    expect(adminMessage).toMatch(/401|unauthori[sz]ed/i);
    const reason = inv.response.Reason ?? '';
    expect(reason).toContain(rejecting.uri);
    expect(reason).toMatch(/discover/i);
    // The server's words, without its doubled [META0003] prefix.
    expect(reason).toContain(adminMessage.replace(/^(\[META\d{4}\]\s*)+/, '').slice(0, 60));
    expect(await env.admin.deploymentsAt(rejecting.uri)).toEqual([]);
    expect(rejecting.log()).toContain('Rejecting request as its JWT did not validate');
  });

  test('f. a registered service whose key no longer matches rejects invocations (they are retried, never executed)', async () => {
    // The verified deployment's endpoint is replaced, at the same URI, by one given the other key.
    const port = verified.port;
    await verified.stop();
    const rotated = await startService('Verified', synthesize([otherKey.publicKey]), port);
    expect(rotated.uri).toBe(verified.uri);

    const send = await env.admin.invoke('Verified', 'greet/send', 'Mallory');
    expect(send.status).toBeLessThan(300);
    const invocationId = (JSON.parse(send.body) as { invocationId: string }).invocationId;
    let rows: Array<Record<string, unknown>> = [];
    await waitUntil(
      `invocation ${invocationId} to fail with 401`,
      async () => {
        rows = await env.admin.query(`SELECT status, retry_count, last_failure FROM sys_invocation WHERE id = '${invocationId}'`);
        return rows.length === 1 && /401|unauthori[sz]ed/i.test(String(rows[0].last_failure ?? ''));
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    ).catch((e: Error) => {
      throw new Error(`${e.message}; last seen: ${JSON.stringify(rows)}`);
    });
    note(`f: invocation ${invocationId}: ${JSON.stringify(rows[0])}`);
    expect(rows[0].status).not.toBe('completed');
    expect(rotated.log()).toContain('Rejecting request as its JWT did not validate');
    expect(rotated.log()).not.toContain('Mallory');

    // Clean up: the invocation would be retried until the server stops.
    const kill = await httpRequest('PATCH', `${env.server.adminUrl}/invocations/${invocationId}/kill`);
    expect(kill.status).toBeLessThan(300);
    await rotated.stop();
  });

  test('g. keys are comma-separated: a service given both (key rotation) accepts the server\'s requests', async () => {
    const both = synthesize([otherKey.publicKey, serverKey.publicKey]);
    expect(both.functionVariables).toEqual({ RESTATE_IDENTITY_KEYS: `${otherKey.publicKey},${serverKey.publicKey}` });
    const rotating = await startService('Rotating', both);
    const { registration } = synthesize([otherKey.publicKey, serverKey.publicKey], rotating.uri, 'Rotating');

    const inv = await env.cfn.invokeAsCloudFormation('Create', registration!);

    expectAnswered(inv, 'SUCCESS');
    const deployments = await env.admin.deploymentsAt(rotating.uri);
    expect(deployments.map((d) => normalize(d.uri!))).toEqual([rotating.uri]);
    const res = await env.admin.invoke('Rotating', 'greet', 'both');
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: JSON.stringify('Hello, both! (Rotating v1)') });
  });

  test('h. neither the API key nor the private key appears in the handler\'s output, a response, or cdk.out', () => {
    const logs = env.output.text();
    // The capture works: it holds the handler's lines from every Create above.
    expect(logs.match(/"message":"request"/g)?.length ?? 0).toBeGreaterThanOrEqual(env.cfn.responseBodies.length);
    const privateKeyBody = serverKey.privateKeyPem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    const secrets = [env.apiKey, privateKeyBody];
    expect(leakedSecrets(logs, secrets)).toEqual([]);
    expect(leakedSecrets(env.cfn.responseBodies.join('\n'), secrets)).toEqual([]);
    for (const dir of cdkOutDirs) {
      for (const file of walk(dir)) expect({ file, leaked: leakedSecrets(fs.readFileSync(file, 'latin1'), secrets) }).toEqual({ file, leaked: [] });
    }
  });
});

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.isFile() ? [p] : [];
  });
}

/** A line in the test output (console is captured for the leak check). */
function note(text: string): void {
  process.stderr.write(`    [integ] ${text}\n`);
}
