/**
 * Services in private VPCs through Restate Cloud's tunnel (issue 19), end to end on loopback.
 *
 * Restate Cloud's tunnel server and the tunnel client cannot run here; `TunnelServerStandIn`
 * (harness/tunnel-server.ts) plays both on 127.0.0.1: an h2c server that takes
 * `/<environment id without env_>/<tunnel name>/http/<host>/<port>/<rest>` and forwards `/<rest>` to
 * `http://<host>:<port>`, as the tunnel does for an `http` destination. Restate's routing of
 * tunnel URLs is the part under test: the URL form, discovery and invocations under a path prefix.
 *
 * The stack is synthesized the way a user writes it: a `RestateCloudEnvironment`, a
 * `RestateCloudTunnel` and `tunnel.register(deployer, host, port)`. The registration URL comes from
 * `tunnel.urlFor()`, whose base is set to the stand-in with `tunnelServerUrl` (the option for
 * tests); everything after the base is the URL Restate Cloud would be given. The registration's
 * properties and the deployer's environment come from that template and are played through the
 * CloudFormation stand-in (harness/lifecycle.ts) against a real restate-server, which stands in
 * for the environment's admin API (`adminUrl`, plain HTTP on loopback).
 *
 * The server signs requests (request identity, as Restate Cloud does) and the service verifies
 * them with the keys `RestateRequestIdentity.addToContainer` put into the same template: behind a
 * tunnel, which strips its path prefix, verification still works (and refuses a wrong key).
 *
 * Run with `npm run test:integration` (test/integration/run.sh).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RestateCloudEnvironment, RestateCloudTunnel, RestateRequestIdentity, TunnelRegistrationOptions } from '../../src';
import { normalize } from './harness/admin-api';
import { IntegrationEnvironment } from './harness/integration-environment';
import { CfnTemplate, LifecycleStack, removeAllDeployments, StackDefinition, Step } from './harness/lifecycle';
import { freePort, LOOPBACK } from './harness/ports';
import { generateSigningKeyPair } from './harness/request-identity';
import { freshDir, runEnvironment } from './harness/run-env';
import { TunnelServerStandIn } from './harness/tunnel-server';

jest.setTimeout(150_000);

const ENV_ID = 'env_201hy10cd3h6426jy80tb32n6en';
const HOST_ID = '201hy10cd3h6426jy80tb32n6en';
const TUNNEL_NAME = 'integ-vpc';
/** How late the stand-in comes up in the "not connected yet" cases. */
const LATE_MS = 5_000;

/** The environment's signing key: the server signs with it, services verify with its public half. */
const serverKey = generateSigningKeyPair();

let env: IntegrationEnvironment;
/** The service's port, fixed before the first synthesis: the tunnel URL names it. */
let servicePort: number;
let standIns: TunnelServerStandIn[] = [];
let stacks = 0;

beforeAll(async () => {
  const pemFile = path.join(freshDir(runEnvironment(), 'identity-key'), 'request-identity.pem');
  fs.writeFileSync(pemFile, serverKey.privateKeyPem, { mode: 0o600 });
  env = await IntegrationEnvironment.start({ server: { requestIdentityPrivateKeyPemFile: pemFile } });
  servicePort = await freePort();
  // The service runs with its container's environment from the template, as ECS would start it.
  const template = new LifecycleStack(env, { stackName: 'TunnelService' }).synth(tunnelStack(await standIn(), {})).template;
  // Stopped with the environment.
  await env.startService({ name: 'Greeter', version: 1, port: servicePort, environment: containerEnvironment(template, 'Greeter') });
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

afterEach(async () => {
  await removeAllDeployments(env);
  await Promise.all(standIns.map((s) => s.close()));
  standIns = [];
});

async function standIn(): Promise<TunnelServerStandIn> {
  const s = new TunnelServerStandIn(await freePort(), HOST_ID, TUNNEL_NAME);
  standIns.push(s);
  return s;
}

interface Synthesized {
  /** What `tunnel.urlFor(LOOPBACK, port)` returned while the stack was built. */
  urlFor?: string;
}

/**
 * The user's stack: the Cloud environment, a tunnel in a VPC, the service registered through it.
 * Its admin API is the real server behind the authenticating proxy, over plain HTTP on loopback
 * (hence allowInsecureAdminUrl), and the stand-in's base is http (hence allowInsecureHttp).
 */
function tunnelStack(tunnelServer: TunnelServerStandIn, seen: Synthesized, options: TunnelRegistrationOptions = {}): StackDefinition {
  return ({ stack, deployer }) => {
    const environment = new RestateCloudEnvironment(stack, 'Restate', {
      environmentId: ENV_ID,
      apiKey: secretsmanager.Secret.fromSecretCompleteArn(stack, 'CloudApiKey', env.apiKeySecretArn),
      requestSigningPublicKeys: [serverKey.publicKey],
    });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
    });
    const tunnel = new RestateCloudTunnel(stack, 'Tunnel', { environment, tunnelName: TUNNEL_NAME, vpc, tunnelServerUrl: tunnelServer.url });
    // The private service: its container verifies that requests come from the environment.
    const task = new ecs.FargateTaskDefinition(stack, 'GreeterTask');
    const greeter = task.addContainer('Greeter', { image: ecs.ContainerImage.fromRegistry('example/greeter:1') });
    RestateRequestIdentity.addToContainer(greeter, environment);
    seen.urlFor = tunnel.urlFor(LOOPBACK, servicePort);
    tunnel.register(deployer, LOOPBACK, servicePort, {
      id: 'Greeter',
      expectedServices: ['Greeter'],
      removalPolicy: RemovalPolicy.DESTROY,
      adminUrl: env.authProxy.url,
      allowInsecureAdminUrl: true,
      allowInsecureHttp: true,
      ...options,
    });
  };
}

/** The path Restate Cloud's tunnel would be given, after the base URL. */
const tunnelPath = () => `/${HOST_ID}/${TUNNEL_NAME}/http/${LOOPBACK}/${servicePort}/`;

interface ContainerDefinition {
  readonly Name: string;
  readonly Environment?: Array<{ Name: string; Value: unknown }>;
}

/** `Environment` of the container named `name` in the template, as a map (literals only). */
function containerEnvironment(template: CfnTemplate, name: string): Record<string, string> {
  const containers = Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::ECS::TaskDefinition')
    .flatMap((r) => (r.Properties as { ContainerDefinitions: ContainerDefinition[] }).ContainerDefinitions)
    .filter((c) => c.Name === name);
  if (containers.length !== 1) throw new Error(`expected one container named ${name}, found ${containers.length}`);
  return Object.fromEntries((containers[0].Environment ?? []).map((e) => {
    if (typeof e.Value !== 'string') throw new Error(`${name}: ${e.Name} is not a literal: ${JSON.stringify(e.Value)}`);
    return [e.Name, e.Value];
  }));
}

/** `<path as received> -> <forwarded path>` of what the stand-in forwarded (methods left out). */
const forwardedPaths = (s: TunnelServerStandIn) => s.forwarded.map((f) => f.replace(/^\S+ /, ''));

function summary(step: Step) {
  return {
    request: step.label,
    status: step.status,
    problems: [...step.invocation.problems, ...step.invocation.strayRequests],
    putCount: step.invocation.putCount,
    handlerError: step.invocation.handlerError === undefined ? undefined : String(step.invocation.handlerError),
  };
}

async function greet(): Promise<{ status: number; body: string }> {
  const res = await env.admin.invoke('Greeter', 'greet', 'World');
  return { status: res.status, body: res.body };
}

describe('a service registered through a tunnel (loopback stand-in of the tunnel server)', () => {
  test('the synthesized registration: the tunnel URL from urlFor, discovery retried for 3 minutes', async () => {
    const tunnelServer = await standIn();
    const seen: Synthesized = {};
    const synthesized = new LifecycleStack(env, { stackName: `Tunnel${++stacks}` }).synth(tunnelStack(tunnelServer, seen));
    expect(seen.urlFor).toBe(`${tunnelServer.url}${tunnelPath()}`);
    expect(synthesized.registrations.map((r) => [r.constructId, r.properties.Uri, r.properties.DiscoveryRetrySeconds])).toEqual([
      ['Greeter', seen.urlFor, '180'],
    ]);
    // The tunnel client's task (what the real client would be started with) and the service's:
    // both hold the public half of the key the environment (here: the server) signs with.
    expect(containerEnvironment(synthesized.template, 'restate-cloud-tunnel-client')).toMatchObject({
      RESTATE_TUNNEL_NAME: TUNNEL_NAME,
      RESTATE_ENVIRONMENT_ID: ENV_ID,
      RESTATE_CLOUD_REGION: 'us',
      RESTATE_SIGNING_PUBLIC_KEY: serverKey.publicKey,
    });
    expect(containerEnvironment(synthesized.template, 'Greeter')).toEqual({ RESTATE_IDENTITY_KEYS: serverKey.publicKey });
  });

  test('Create discovers the service through the tunnel path, the ingress reaches it through the stand-in, Delete removes it', async () => {
    const tunnelServer = await standIn();
    await tunnelServer.listen();
    const seen: Synthesized = {};
    const stack = new LifecycleStack(env, { stackName: `Tunnel${++stacks}` });

    const created = await stack.deploy(tunnelStack(tunnelServer, seen));
    expect({ status: created.status, steps: created.steps.map(summary) }).toEqual({
      status: 'CREATE_COMPLETE',
      steps: [{ request: 'Create Greeter', status: 'SUCCESS', problems: [], putCount: 1, handlerError: undefined }],
    });
    const [step] = created.steps;
    expect(step.reason).toMatch(new RegExp(`^Registered endpoint ${seen.urlFor!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} as dp_\\w+ with services \\[Greeter\\]`));

    // Restate stores the tunnel URL as given and serves the service from it.
    const deployments = await env.admin.deploymentsAt(seen.urlFor!);
    expect(deployments.map((d) => [d.id, normalize(d.uri!)])).toEqual([[step.physicalId, normalize(seen.urlFor!)]]);
    expect((await env.admin.service('Greeter'))?.deployment_id).toBe(step.physicalId);

    // An ingress call goes through the stand-in, under the tunnel path, to the service.
    const before = tunnelServer.forwarded.length;
    expect(await greet()).toEqual({ status: 200, body: JSON.stringify('Hello, World! (Greeter v1)') });
    expect(forwardedPaths(tunnelServer)[0]).toBe(`${tunnelPath()}discover -> /discover`);
    expect(forwardedPaths(tunnelServer).slice(before)).toContain(`${tunnelPath()}invoke/Greeter/greet -> /invoke/Greeter/greet`);
    expect(tunnelServer.refused).toEqual([]);

    const destroyed = await stack.destroy();
    expect(destroyed.steps.map(summary)).toEqual([{ request: 'Delete Greeter (stack deletion)', status: 'SUCCESS', problems: [], putCount: 1, handlerError: undefined }]);
    expect(await env.admin.deploymentsAt(seen.urlFor!)).toEqual([]);
  });
});

describe('request identity behind the tunnel', () => {
  test('a service holding another key refuses the forwarded requests: the Create fails naming its 401', async () => {
    const tunnelServer = await standIn();
    await tunnelServer.listen();
    const other = await env.startService({ name: 'Greeter', version: 1, environment: { RESTATE_IDENTITY_KEYS: generateSigningKeyPair().publicKey } });
    try {
      const stack = new LifecycleStack(env, { stackName: `Tunnel${++stacks}` });
      const created = await stack.deploy(({ stack: s, deployer }) => {
        const environment = new RestateCloudEnvironment(s, 'Restate', {
          environmentId: ENV_ID,
          apiKey: secretsmanager.Secret.fromSecretCompleteArn(s, 'CloudApiKey', env.apiKeySecretArn),
          requestSigningPublicKeys: [serverKey.publicKey],
        });
        const vpc = ec2.Vpc.fromVpcAttributes(s, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a', 'us-east-1b'], privateSubnetIds: ['subnet-0a', 'subnet-0b'] });
        new RestateCloudTunnel(s, 'Tunnel', { environment, tunnelName: TUNNEL_NAME, vpc, tunnelServerUrl: tunnelServer.url }).register(deployer, LOOPBACK, other.port, {
          id: 'Greeter',
          adminUrl: env.authProxy.url,
          allowInsecureAdminUrl: true,
          allowInsecureHttp: true,
          discoveryRetryTimeout: Duration.seconds(0),
        });
      });
      const [create] = created.steps;
      expect(summary(create)).toMatchObject({ request: 'Create Greeter', status: 'FAILED', problems: [], putCount: 1 });
      expect(create.reason).toMatch(/answered HTTP 500 \(META0003\): .*401 Unauthorized/);
      expect(forwardedPaths(tunnelServer)).toEqual([`/${HOST_ID}/${TUNNEL_NAME}/http/${LOOPBACK}/${other.port}/discover -> /discover`]);
    } finally {
      await other.stop();
    }
  });
});

describe('a tunnel that is not connected yet when the registration runs', () => {
  test(`the stand-in comes up ${LATE_MS / 1000} s late: discovery is retried until it is up, and Create succeeds`, async () => {
    const tunnelServer = await standIn();
    const seen: Synthesized = {};
    const stack = new LifecycleStack(env, { stackName: `Tunnel${++stacks}` });
    const mark = env.output.mark();
    const late = new Promise<void>((resolve, reject) => setTimeout(() => tunnelServer.listen().then(resolve, reject), LATE_MS));

    const created = await stack.deploy(tunnelStack(tunnelServer, seen));
    await late;
    expect({ status: created.status, steps: created.steps.map(summary) }).toEqual({
      status: 'CREATE_COMPLETE',
      steps: [{ request: 'Create Greeter', status: 'SUCCESS', problems: [], putCount: 1, handlerError: undefined }],
    });
    const [step] = created.steps;
    // The Create waited out the outage (it started after synthesis, a moment after the timer),
    // retrying discovery meanwhile; restate-server alone gives up within about 2 s (next case).
    expect(step.invocation.elapsedMs).toBeGreaterThan(LATE_MS - 1_000);
    const retries = env.output.textSince(mark).split('\n').filter((l) => l.includes('discovery failed; retrying'));
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(forwardedPaths(tunnelServer)[0]).toBe(`${tunnelPath()}discover -> /discover`);
    expect(await greet()).toEqual({ status: 200, body: JSON.stringify('Hello, World! (Greeter v1)') });
    await stack.destroy();
  });

  test('without the retry (discoveryRetryTimeout of 0), the same late tunnel fails the Create, naming the unreachable endpoint', async () => {
    const tunnelServer = await standIn();
    const seen: Synthesized = {};
    const stack = new LifecycleStack(env, { stackName: `Tunnel${++stacks}` });
    const timer = setTimeout(() => void tunnelServer.listen(), LATE_MS);
    try {
      const created = await stack.deploy(tunnelStack(tunnelServer, seen, { discoveryRetryTimeout: Duration.seconds(0) }));
      expect(created.status).toBe('ROLLBACK_COMPLETE');
      const [create] = created.steps;
      expect(summary(create)).toMatchObject({ request: 'Create Greeter', status: 'FAILED', problems: [], putCount: 1 });
      expect(create.reason).toContain(`registering endpoint ${seen.urlFor} failed: POST`);
      expect(create.reason).toMatch(/answered HTTP 500 \(META0003\): error when calling .*Connection refused/);
      expect(create.invocation.elapsedMs).toBeLessThan(LATE_MS);
      expect(tunnelServer.forwarded).toEqual([]);
    } finally {
      clearTimeout(timer);
    }
  });
});
