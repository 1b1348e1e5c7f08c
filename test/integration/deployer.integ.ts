/**
 * The deployer custom-resource Lambda against a real restate-server and real SDK services.
 *
 * Run with `npm run test:integration` (test/integration/run.sh): it provides the TLS material,
 * fake AWS credentials and the private network namespace this file relies on.
 *
 * Cases build on each other in file order within a describe block (a → b → c share
 * deployments, c3 → c5 too), as a stack's lifecycle would, so filter with `-t` by describe
 * block, not by single case. `k` checks the output of every case before it: run it last.
 */
import * as http from 'node:http';
import { normalize } from './harness/admin-api';
import { CloudFormationInvocation, CloudFormationStandIn } from './harness/cloudformation';
import { IntegrationEnvironment } from './harness/integration-environment';
import { leakedSecrets } from './harness/output-capture';
import { freePort, LOOPBACK, waitUntil } from './harness/ports';
import { httpRegistrationProperties, HttpRegistrationInput, secretArn } from './harness/registration';
import { closeServer, listenOnLoopback } from './harness/servers';
import { ServiceProcess } from './harness/services';
import { trustProperties } from './harness/trust';
import { CONSTRUCT_METADATA_KEY, OWNER_METADATA_KEY, STACK_METADATA_KEY } from '../../src/deployer/properties';

jest.setTimeout(90_000);

let env: IntegrationEnvironment;

/** Values that must never appear in a log line or a CloudFormation response. */
const secretValues: string[] = [];

const greeterTokenArn = secretArn('integ/greeter-token');
const greeterToken = `hdr_${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
const jsonKeySecretArn = secretArn('integ/api-key-json');
const wrongKeySecretArn = secretArn('integ/wrong-api-key');
const wrongKey = `rst_wrong_${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
const missingSecretArn = secretArn('integ/does-not-exist');
const deniedSecretArn = secretArn('integ/not-granted');

beforeAll(async () => {
  env = await IntegrationEnvironment.start();
  env.secrets.putSecret(greeterTokenArn, greeterToken);
  env.secrets.putSecret(jsonKeySecretArn, JSON.stringify({ apiKey: env.apiKey, note: 'json field' }));
  env.secrets.putSecret(wrongKeySecretArn, wrongKey);
  env.secrets.deny(deniedSecretArn);
  secretValues.push(env.apiKey, greeterToken, wrongKey);
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

/** Properties of an HTTP registration that goes through the authenticating proxy. */
function viaCloud(input: Omit<HttpRegistrationInput, 'adminUrl'> & { adminUrl?: string }): Record<string, unknown> {
  return httpRegistrationProperties({ adminUrl: env.authProxy.url, authTokenSecretArn: env.apiKeySecretArn, ...input });
}

/** Properties of an HTTP registration that goes through the toggleable TCP proxy (no auth). */
function viaGate(input: Omit<HttpRegistrationInput, 'adminUrl'>): Record<string, unknown> {
  return httpRegistrationProperties({ adminUrl: env.adminGate.url, ...input });
}

/** Sends an event as CloudFormation does, to a deployer synthesized with these properties. */
function invoke(...args: Parameters<CloudFormationStandIn['invokeAsCloudFormation']>): ReturnType<CloudFormationStandIn['invokeAsCloudFormation']> {
  trustProperties(args[1]);
  return env.cfn.invokeAsCloudFormation(...args);
}

/** The answer obeys CloudFormation's protocol, whatever the outcome. */
function expectAnswered(inv: CloudFormationInvocation): void {
  expect({
    problems: inv.problems,
    putCount: inv.putCount,
    handlerError: inv.handlerError === undefined ? undefined : String(inv.handlerError),
    respondedBeforeReturn: inv.respondedBeforeReturn,
    respondedBeforeDeadline: inv.respondedBeforeDeadline,
    strayRequests: inv.strayRequests,
  }).toEqual({
    problems: [],
    putCount: 1,
    handlerError: undefined,
    respondedBeforeReturn: true,
    respondedBeforeDeadline: true,
    strayRequests: [],
  });
}

function expectStatus(inv: CloudFormationInvocation, status: 'SUCCESS' | 'FAILED'): void {
  expectAnswered(inv);
  // Status and Reason together, so a failure shows the handler's reason.
  expect({ Status: inv.response.Status, Reason: inv.response.Reason }).toEqual({ Status: status, Reason: expect.any(String) });
}

describe('registering an HTTP deployment', () => {
  let v1: ServiceProcess;
  let v1Props: Record<string, unknown>;
  let v1Id: string;
  let v2Props: Record<string, unknown>;
  let v2Id: string;

  test('a. Create registers the endpoint; the service answers through ingress', async () => {
    v1 = await env.startService({ name: 'Greeter', version: 1, requiredHeader: { name: 'x-greeter-token', value: greeterToken } });
    v1Props = viaCloud({
      id: 'Greeter',
      uri: v1.uri,
      expectedServices: ['Greeter'],
      additionalHeaders: { 'x-team': 'integ' },
      secretHeaders: [{ Name: 'x-greeter-token', SecretArn: greeterTokenArn }],
    });
    const mark = env.authProxy.mark();

    const inv = await invoke('Create', v1Props);

    expectStatus(inv, 'SUCCESS');
    v1Id = inv.response.PhysicalResourceId;
    expect(v1Id).toMatch(/^dp_[A-Za-z0-9]+$/);
    expect(inv.response.Data).toMatchObject({ DeploymentId: v1Id, ServiceNames: 'Greeter' });

    const deployment = await env.admin.deployment(v1Id);
    expect(deployment).toBeDefined();
    expect(normalize(deployment!.uri!)).toBe(v1.uri);
    expect(deployment!.services.map((s) => s.name)).toEqual(['Greeter']);
    expect(deployment!.metadata).toMatchObject({
      [OWNER_METADATA_KEY]: v1Props.Owner,
      [STACK_METADATA_KEY]: 'IntegStack',
      [CONSTRUCT_METADATA_KEY]: 'IntegStack/Deployer/Greeter',
    });

    // What reached the admin API: authenticated, force/breaking explicit, headers resolved.
    const seen = env.authProxy.since(mark);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((r) => !r.authorized)).toEqual([]);
    const registrations = seen.filter((r) => r.method === 'POST' && r.path === '/deployments');
    expect(registrations).toHaveLength(1);
    const body = JSON.parse(registrations[0].body) as Record<string, unknown>;
    expect(body).toMatchObject({
      uri: v1.uri,
      force: false,
      breaking: false,
      additional_headers: { 'x-team': 'integ', 'x-greeter-token': greeterToken },
    });

    const res = await env.admin.invoke('Greeter', 'greet', 'World');
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: JSON.stringify('Hello, World! (Greeter v1)') });
  });

  test('b. repeating the same Create answers with the same deployment, no duplicate', async () => {
    const before = await env.admin.deployments();

    const inv = await invoke('Create', v1Props);

    expectStatus(inv, 'SUCCESS');
    expect(inv.response.PhysicalResourceId).toBe(v1Id);
    expect(inv.response.Data).toMatchObject({ DeploymentId: v1Id, ServiceNames: 'Greeter' });
    expect(await env.admin.deploymentsAt(v1.uri)).toHaveLength(1);
    expect((await env.admin.deployments()).length).toBe(before.length);
  });

  test('b2. Update that only bumps ConfigurationVersion keeps the physical id (CloudFormation sends no Delete)', async () => {
    const bumped = { ...v1Props, ConfigurationVersion: 'bump-1' };

    const inv = await invoke('Update', bumped, { physicalResourceId: v1Id, oldProperties: v1Props });

    expectStatus(inv, 'SUCCESS');
    expect(inv.response.PhysicalResourceId).toBe(v1Id);
    expect(await env.admin.deploymentsAt(v1.uri)).toHaveLength(1);
    v1Props = bumped;
  });

  test('c1. Update to a new version registers a new deployment; Delete of the old one retains it (RemovalPolicy retain)', async () => {
    const v2 = await env.startService({ name: 'Greeter', version: 2, requiredHeader: { name: 'x-greeter-token', value: greeterToken } });
    v2Props = viaCloud({
      id: 'Greeter',
      uri: v2.uri,
      expectedServices: ['Greeter'],
      additionalHeaders: { 'x-team': 'integ' },
      secretHeaders: [{ Name: 'x-greeter-token', SecretArn: greeterTokenArn }],
      removalPolicy: 'destroy',
    });

    const update = await invoke('Update', v2Props, { physicalResourceId: v1Id, oldProperties: v1Props });

    expectStatus(update, 'SUCCESS');
    v2Id = update.response.PhysicalResourceId;
    expect(v2Id).toMatch(/^dp_/);
    expect(v2Id).not.toBe(v1Id);
    expect(update.response.Data).toMatchObject({ DeploymentId: v2Id, ServiceNames: 'Greeter' });
    const greeter = await env.admin.service('Greeter');
    expect(greeter).toMatchObject({ deployment_id: v2Id, revision: 2 });
    const farewell = await env.admin.invoke('Greeter', 'farewell', 'World');
    expect({ status: farewell.status, body: farewell.body }).toEqual({ status: 200, body: JSON.stringify('Goodbye, World! (Greeter v2)') });

    // CloudFormation cleans up the replaced resource with its old properties (retain).
    const cleanup = await invoke('Delete', v1Props, { physicalResourceId: v1Id });

    expectStatus(cleanup, 'SUCCESS');
    expect(cleanup.response.PhysicalResourceId).toBe(v1Id);
    expect(await env.admin.deployment(v1Id)).toBeDefined();
  });

  test('c2. Delete of a replaced deployment with RemovalPolicy destroy removes it (completed invocations do not pin it)', async () => {
    // v2 served `farewell` above: a completed invocation is pinned to it.
    const v3 = await env.startService({ name: 'Greeter', version: 2, requiredHeader: { name: 'x-greeter-token', value: greeterToken } });
    const v3Props = viaCloud({
      id: 'Greeter',
      uri: v3.uri,
      expectedServices: ['Greeter'],
      additionalHeaders: { 'x-team': 'integ' },
      secretHeaders: [{ Name: 'x-greeter-token', SecretArn: greeterTokenArn }],
      removalPolicy: 'destroy',
    });
    const update = await invoke('Update', v3Props, { physicalResourceId: v2Id, oldProperties: v2Props });
    expectStatus(update, 'SUCCESS');
    const v3Id = update.response.PhysicalResourceId;
    expect(v3Id).not.toBe(v2Id);

    const cleanup = await invoke('Delete', v2Props, { physicalResourceId: v2Id });

    expectStatus(cleanup, 'SUCCESS');
    expect(cleanup.response.PhysicalResourceId).toBe(v2Id);
    expect(await env.admin.deployment(v2Id)).toBeUndefined();
    expect(await env.admin.deployment(v1Id)).toBeDefined();
    expect(await env.admin.deployment(v3Id)).toBeDefined();
    const res = await env.admin.invoke('Greeter', 'greet', 'again');
    expect(res.status).toBe(200);
  });
});

describe('pruning drained deployments (PruneDrained, RevisionHistoryLimit)', () => {
  const owner = 'IntegStack/IntegStack/Deployer/Pruned';
  let foreignId: string;
  const ids: string[] = [];
  const props: Array<Record<string, unknown>> = [];

  async function registerVersion(n: number, input: Partial<HttpRegistrationInput>): Promise<CloudFormationInvocation> {
    const service = await env.startService({ name: 'Pruned', version: n === 1 ? 1 : 2 });
    const p = viaCloud({ id: 'Pruned', uri: service.uri, expectedServices: ['Pruned'], ...input });
    const inv =
      ids.length === 0
        ? await invoke('Create', p)
        : await invoke('Update', p, { physicalResourceId: ids[ids.length - 1], oldProperties: props[props.length - 1] });
    expectStatus(inv, 'SUCCESS');
    ids.push(inv.response.PhysicalResourceId);
    props.push(p);
    return inv;
  }

  test('c3. PruneDrained with RevisionHistoryLimit 0 removes this owner\'s older deployments, and only those', async () => {
    // A deployment of the same service that someone registered by hand: not ours to prune.
    const foreign = await env.startService({ name: 'Pruned', version: 1 });
    foreignId = await env.admin.register(foreign.uri);

    await registerVersion(1, {});
    expect(ids[0]).not.toBe(foreignId);
    const greeterBefore = (await env.admin.deployments()).filter((d) => d.services.some((s) => s.name === 'Greeter')).map((d) => d.id);

    await registerVersion(2, { pruneDrained: true, revisionHistoryLimit: 0 });

    const remaining = (await env.admin.deployments()).map((d) => d.id);
    expect(remaining).toContain(ids[1]);
    expect(remaining).not.toContain(ids[0]);
    expect(remaining).toContain(foreignId);
    for (const id of greeterBefore) expect(remaining).toContain(id);
    const owned = (await env.admin.deployments()).filter((d) => d.metadata?.[OWNER_METADATA_KEY] === owner).map((d) => d.id);
    expect(owned).toEqual([ids[1]]);
  });

  test('c4. RevisionHistoryLimit 1 keeps the most recent older deployment', async () => {
    await registerVersion(3, { pruneDrained: true, revisionHistoryLimit: 1 });

    const remaining = (await env.admin.deployments()).map((d) => d.id);
    expect(remaining).toEqual(expect.arrayContaining([ids[1], ids[2], foreignId]));
  });

  test('c5. a deployment with an invocation in flight is neither pruned nor destroyed', async () => {
    // Pin an invocation to the latest deployment (ids[2]): a durable sleep of a minute.
    const send = await env.admin.invoke('Pruned', 'nap/send', 60_000);
    expect(send.status).toBeLessThan(300);
    const invocationId = (JSON.parse(send.body) as { invocationId: string }).invocationId;
    let last: unknown;
    await waitUntil(`invocation ${invocationId} to be pinned to ${ids[2]} and in flight`, async () => {
      const rows = await env.admin.query(`SELECT status, pinned_deployment_id FROM sys_invocation_status WHERE id = '${invocationId}'`);
      last = rows;
      return rows.length === 1 && rows[0].pinned_deployment_id === ids[2] && rows[0].status !== 'completed';
    }, { timeoutMs: 20_000, intervalMs: 200 }).catch((e: Error) => {
      throw new Error(`${e.message}; last seen: ${JSON.stringify(last)}`);
    });

    const prune = await registerVersion(4, { pruneDrained: true, revisionHistoryLimit: 0 });

    let remaining = (await env.admin.deployments()).map((d) => d.id);
    expect(remaining).toContain(ids[2]);
    expect(remaining).not.toContain(ids[1]);
    expect(prune.response.Reason ?? '').toContain(ids[2]);

    const destroyProps = { ...props[2], RemovalPolicy: 'destroy' };
    const cleanup = await invoke('Delete', destroyProps, { physicalResourceId: ids[2] });

    expectStatus(cleanup, 'SUCCESS');
    remaining = (await env.admin.deployments()).map((d) => d.id);
    expect(remaining).toContain(ids[2]);
  });
});

describe('visibility and expectations', () => {
  test('d. Private=true: the service is registered but the ingress refuses it', async () => {
    const hidden = await env.startService({ name: 'Hidden', version: 1 });
    // The key is read from a JSON secret field here.
    const p = viaCloud({ id: 'Hidden', uri: hidden.uri, private: true, authTokenSecretArn: jsonKeySecretArn, authTokenJsonField: 'apiKey' });
    const mark = env.authProxy.mark();

    const inv = await invoke('Create', p);

    expectStatus(inv, 'SUCCESS');
    expect(inv.response.Data).toMatchObject({ DeploymentId: inv.response.PhysicalResourceId, ServiceNames: 'Hidden' });
    expect(await env.admin.deployment(inv.response.PhysicalResourceId)).toBeDefined();
    expect(await env.admin.service('Hidden')).toMatchObject({ public: false });
    const patches = env.authProxy.since(mark).filter((r) => r.method === 'PATCH' && r.path === '/services/Hidden');
    expect(patches.map((r) => JSON.parse(r.body))).toEqual([{ public: false }]);

    const res = await env.admin.invoke('Hidden', 'greet', 'World');
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  let failedCreate: CloudFormationInvocation;
  let checked: ServiceProcess;

  test('e. ExpectedServices naming a service the endpoint lacks: FAILED, the reason names it', async () => {
    checked = await env.startService({ name: 'Checked', version: 1 });
    const p = viaCloud({ id: 'Checked', uri: checked.uri, expectedServices: ['Checked', 'MissingService'] });

    failedCreate = await invoke('Create', p);

    expectStatus(failedCreate, 'FAILED');
    expect(failedCreate.response.Reason).toContain('MissingService');
    expect(failedCreate.response.Reason).toContain(checked.uri);
  });

  test('e2. after that failed Create and CloudFormation\'s rollback Delete, no deployment of the endpoint is left', async () => {
    const p = failedCreate.event.ResourceProperties as Record<string, unknown>;
    const mark = env.authProxy.mark();

    const rollback = await invoke('Delete', p, { physicalResourceId: failedCreate.response.PhysicalResourceId });

    expectStatus(rollback, 'SUCCESS');
    expect(await env.admin.deploymentsAt(checked.uri)).toEqual([]);
    // The failed Create removed its deployment itself: the rollback only looks for leftovers.
    expect(failedCreate.response.PhysicalResourceId).toBe(`restate-failed-create-${failedCreate.event.RequestId}`);
    expect(env.authProxy.since(mark).map((r) => `${r.method} ${r.path}`)).toEqual(['GET /deployments']);
    expect(rollback.response.Reason).toBe('Nothing to remove: the failed create left no deployment.');
  });
});

describe('failures a human must be able to act on', () => {
  test('h. endpoint unreachable: FAILED, the reason mentions discovery and the admin API\'s message', async () => {
    const deadPort = await freePort();
    const uri = `http://${LOOPBACK}:${deadPort}`;
    const mark = env.authProxy.mark();

    const inv = await invoke('Create', viaCloud({ id: 'Unreachable', uri }));

    expectStatus(inv, 'FAILED');
    const registrations = env.authProxy.since(mark).filter((r) => r.method === 'POST' && r.path === '/deployments');
    expect(registrations.length).toBeGreaterThan(0);
    const adminMessage = (JSON.parse(registrations[registrations.length - 1].responseBody) as { message: string }).message;
    note(`h: ${registrations.length} registration attempt(s), answered after ${inv.elapsedMs} ms; admin API said HTTP ${registrations[0].status}: ${adminMessage}`);
    const reason = inv.response.Reason ?? '';
    expect(reason).toContain(uri);
    expect(reason).toMatch(/discover/i);
    // The server's words, without its doubled [META0003] prefix.
    expect(reason).toContain(adminMessage.replace(/^(\[META\d{4}\]\s*)+/, '').slice(0, 60));
    expect(await env.admin.deploymentsAt(uri)).toEqual([]);
  });

  test('i. wrong API key: FAILED fast, no retry storm, the reason names the secret and 401', async () => {
    const service = await env.startService({ name: 'Locked', version: 1 });
    const mark = env.authProxy.mark();

    const inv = await invoke(
      'Create',
      viaCloud({ id: 'Locked', uri: service.uri, authTokenSecretArn: wrongKeySecretArn, healthTimeoutSeconds: 60 }),
    );

    expectStatus(inv, 'FAILED');
    expect(inv.elapsedMs).toBeLessThan(3_000);
    const seen = env.authProxy.since(mark);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.length).toBeLessThanOrEqual(3);
    expect(seen.every((r) => r.authHeaderPresent && !r.authorized)).toBe(true);
    expect(inv.response.Reason).toContain(wrongKeySecretArn);
    expect(inv.response.Reason).toContain('401');
    expect(await env.admin.deploymentsAt(service.uri)).toEqual([]);
  });

  test('i2. API key secret missing: FAILED fast, the reason names the secret', async () => {
    const mark = env.authProxy.mark();
    const inv = await invoke(
      'Create',
      viaCloud({ id: 'NoSecret', uri: `http://${LOOPBACK}:${await freePort()}`, authTokenSecretArn: missingSecretArn }),
    );

    expectStatus(inv, 'FAILED');
    expect(inv.elapsedMs).toBeLessThan(3_000);
    expect(inv.response.Reason).toContain(missingSecretArn);
    expect(inv.response.Reason).toMatch(/ResourceNotFound|can't find/);
    expect(env.authProxy.since(mark)).toEqual([]);
  });

  test('i3. API key secret not readable by the deployer: FAILED fast, the reason names the secret', async () => {
    const inv = await invoke(
      'Create',
      viaCloud({ id: 'Denied', uri: `http://${LOOPBACK}:${await freePort()}`, authTokenSecretArn: deniedSecretArn }),
    );

    expectStatus(inv, 'FAILED');
    expect(inv.elapsedMs).toBeLessThan(3_000);
    expect(inv.response.Reason).toContain(deniedSecretArn);
    expect(inv.response.Reason).toMatch(/AccessDenied|not authorized/);
  });
});

describe('admin API outages', () => {
  afterEach(async () => {
    await env.adminGate.setMode('forward');
  });

  test('f. admin API down for ~3 s at Create: SUCCESS once it is up', async () => {
    const service = await env.startService({ name: 'Patient', version: 1 });
    await env.adminGate.setMode('refuse');
    const reopen = setTimeout(() => void env.adminGate.setMode('forward'), 3_000);

    try {
      const inv = await invoke('Create', viaGate({ id: 'Patient', uri: service.uri, healthTimeoutSeconds: 30 }));

      expectStatus(inv, 'SUCCESS');
      expect(inv.elapsedMs).toBeGreaterThanOrEqual(2_900);
      expect(inv.elapsedMs).toBeLessThan(3_000 + 8_000);
      expect(inv.response.Data).toMatchObject({ DeploymentId: inv.response.PhysicalResourceId, ServiceNames: 'Patient' });
      expect(await env.admin.deployment(inv.response.PhysicalResourceId)).toBeDefined();
    } finally {
      clearTimeout(reopen);
    }
  });

  test('g. admin API never up (connection refused), HealthTimeoutSeconds 5: FAILED in ~5 s, the reason names the URL and the error', async () => {
    await env.adminGate.setMode('refuse');

    const inv = await invoke(
      'Create',
      viaGate({ id: 'Never', uri: `http://${LOOPBACK}:${await freePort()}`, healthTimeoutSeconds: 5 }),
    );

    expectStatus(inv, 'FAILED');
    // It waited (with jittered backoff it may give up a little before the 5 s).
    expect(inv.elapsedMs).toBeGreaterThanOrEqual(1_000);
    expect(inv.elapsedMs).toBeLessThan(5_000 + 3_000);
    expect(inv.response.Reason).toContain(env.adminGate.url);
    expect(inv.response.Reason).toMatch(/ECONNREFUSED|connection refused/i);
  });

  test('g2. admin API answering 503, HealthTimeoutSeconds 5: FAILED in ~5 s, the reason names the URL and 503', async () => {
    const unhealthy = http.createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"message":"not ready"}');
    });
    const url = await listenOnLoopback(unhealthy);
    try {
      const inv = await invoke(
        'Create',
        httpRegistrationProperties({ adminUrl: url, id: 'Unhealthy', uri: `http://${LOOPBACK}:${await freePort()}`, healthTimeoutSeconds: 5 }),
      );

      expectStatus(inv, 'FAILED');
      expect(inv.elapsedMs).toBeLessThan(5_000 + 3_000);
      expect(inv.response.Reason).toContain(url);
      expect(inv.response.Reason).toContain('503');
    } finally {
      await closeServer(unhealthy);
    }
  });

  test('g3. admin API accepting connections but never answering, HealthTimeoutSeconds 5: FAILED in ~5 s', async () => {
    await env.adminGate.setMode('hang');

    const inv = await invoke(
      'Create',
      viaGate({ id: 'Hanging', uri: `http://${LOOPBACK}:${await freePort()}`, healthTimeoutSeconds: 5 }),
    );

    expectStatus(inv, 'FAILED');
    expect(inv.elapsedMs).toBeLessThan(5_000 + 3_000);
    expect(inv.response.Reason).toContain(env.adminGate.url);
  });

  test('j. Delete with the admin API unreachable: SUCCESS within a few seconds, the deployment stays', async () => {
    const service = await env.startService({ name: 'Orphan', version: 1 });
    const orphanId = await env.admin.register(service.uri);
    await env.adminGate.setMode('refuse');

    // The construct's defaults: HealthTimeoutSeconds 120, here with RemovalPolicy destroy.
    const inv = await invoke('Delete', viaGate({ id: 'Orphan', uri: service.uri, removalPolicy: 'destroy' }), {
      physicalResourceId: orphanId,
    });

    expectStatus(inv, 'SUCCESS');
    expect(inv.response.PhysicalResourceId).toBe(orphanId);
    expect(inv.elapsedMs).toBeLessThan(5_000);
    expect(await env.admin.deployment(orphanId)).toBeDefined();
  });

  test('j2. Delete with the admin API hanging: SUCCESS, bounded in time', async () => {
    const service = await env.startService({ name: 'Orphan2', version: 1 });
    const orphanId = await env.admin.register(service.uri);
    await env.adminGate.setMode('hang');

    const inv = await invoke('Delete', viaGate({ id: 'Orphan2', uri: service.uri, removalPolicy: 'destroy' }), {
      physicalResourceId: orphanId,
    });

    expectStatus(inv, 'SUCCESS');
    expect(inv.elapsedMs).toBeLessThan(25_000);
    expect(await env.admin.deployment(orphanId)).toBeDefined();
    note(`j2: Delete against a hanging admin API answered after ${inv.elapsedMs} ms`);
  });

  test('l. out of time (3 s left, admin API down): Create answers FAILED in time, Delete answers SUCCESS in time', async () => {
    await env.adminGate.setMode('refuse');
    const p = viaGate({ id: 'Hurried', uri: `http://${LOOPBACK}:${await freePort()}`, removalPolicy: 'destroy' });

    const create = await invoke('Create', p, { remainingMs: 3_000 });

    expectStatus(create, 'FAILED');
    expect(create.elapsedMs).toBeLessThan(3_000);
    expect(create.response.Reason).toMatch(/(ran|run) out of time/i);

    const del = await invoke('Delete', p, { physicalResourceId: 'dp_1hurriedNotReal0000000', remainingMs: 3_000 });

    expectStatus(del, 'SUCCESS');
    expect(del.elapsedMs).toBeLessThan(3_000);
  });

  test('l2. out of time with the admin API hanging: Create still answers FAILED before the deadline', async () => {
    await env.adminGate.setMode('hang');
    const p = viaGate({ id: 'Hurried2', uri: `http://${LOOPBACK}:${await freePort()}` });

    const create = await invoke('Create', p, { remainingMs: 3_000 });

    expectStatus(create, 'FAILED');
    expect(create.elapsedMs).toBeLessThan(3_000);
  });
});

describe('secrets', () => {
  test('k. neither the API key nor secret header values appear in any log line or CloudFormation response', () => {
    const logs = env.output.text();
    // The capture holds the handler's output of the whole run, not just some of it: a
    // "request" line for every invocation that answered CloudFormation, and the "failed"
    // lines (with their reasons) of the failing cases.
    const requestLines = logs.match(/"message":"request"/g)?.length ?? 0;
    expect(env.cfn.responseBodies.length).toBeGreaterThan(20);
    expect(requestLines).toBeGreaterThanOrEqual(env.cfn.responseBodies.length);
    expect(logs.match(/"message":"failed"/g)?.length ?? 0).toBeGreaterThanOrEqual(5);
    // The values were in the handler's hands during the run (read from the fake Secrets
    // Manager), so their absence from the logs means something.
    for (const arn of [env.apiKeySecretArn, greeterTokenArn, jsonKeySecretArn, wrongKeySecretArn]) expect(env.secrets.requests).toContain(arn);
    expect(leakedSecrets(logs, secretValues)).toEqual([]);
    // Nor in an encoding a log line could carry them in.
    const encoded = secretValues.flatMap((s) => [Buffer.from(s).toString('base64'), Buffer.from(`Bearer ${s}`).toString('base64'), encodeURIComponent(s)]);
    expect(leakedSecrets(logs, encoded.filter((e) => !secretValues.includes(e)))).toEqual([]);
    expect(leakedSecrets(env.cfn.responseBodies.join('\n'), secretValues)).toEqual([]);
    // Pre-signed ResponseURL query strings are credentials too.
    expect(logs).not.toMatch(/X-Amz-Signature=[0-9a-f]{64}/);
  });
});

/** A line in the test output (console is captured for the leak check). */
function note(text: string): void {
  process.stderr.write(`    [integ] ${text}\n`);
}
