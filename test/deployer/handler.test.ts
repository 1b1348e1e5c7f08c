/**
 * The handler always answers CloudFormation: properties it refuses (FAILED for Create and
 * Update, SUCCESS for Delete), and running out of time (FAILED for Create with the failed-create
 * id, SUCCESS for Delete, naming what it was doing; a registration in flight is hung up).
 */
import { deploymentEvent, Route, secretsManagerRoute, trustProps } from './fakes';
import { API_KEY, DEPLOYMENT_ID, FAILED_CREATE_ID, hangingAdmin, healthyAdmin, invoke, LAMBDA_ARN, lambdaProps, logged, SECRET_ARN, useFakes } from './harness';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
import { handler } from '../../src/deployer/deployer.lambda';

const fakes = useFakes();
const props = (extra = {}) => lambdaProps(fakes.admin.url, extra);

// The file's Secrets Manager (the deployer keeps its client, and with it the endpoint): it never
// answers for HANGING_SECRET, a read the deployer cannot bound, so that it is the time limit that
// ends the request, deterministically.
const HANGING_SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:restate/hangs-AbCdEf';
let hangingSecrets: Awaited<ReturnType<typeof hangingAdmin>>;
beforeAll(async () => {
  hangingSecrets = await hangingAdmin((_m, _p, body) => body?.SecretId === HANGING_SECRET, secretsManagerRoute({ [SECRET_ARN]: API_KEY }));
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = hangingSecrets.url;
});
afterEach(async () => {
  // The deployer's abandoned read ends (it logs, into a quieted log), before the next test.
  const quiet = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  hangingSecrets.release();
  await new Promise((r) => setTimeout(r, 100));
  quiet.mockRestore();
});
afterAll(async () => {
  await hangingSecrets.stop();
});

describe('refused properties', () => {
  test('Create: FAILED with the reason, the failed-create id, and no admin call', async () => {
    const response = await invoke(fakes, 'Create', props({ Force: 'maybe' }));
    expect(response).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: FAILED_CREATE_ID,
      Reason: "property Force is not 'true' or 'false': \"maybe\". The custom resource was not written by ServiceDeployer; nothing was done.",
    });
    expect(fakes.admin.requests).toHaveLength(0);
  });

  test('Update: FAILED, keeping the physical id', async () => {
    const response = await invoke(fakes, 'Update', props({ Force: 'maybe' }), { physicalResourceId: 'dp_old' });
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'dp_old' });
  });

  test('Delete: SUCCESS, so that the stack goes on, and nothing is removed', async () => {
    const response = await invoke(fakes, 'Delete', props({ Force: 'maybe', RemovalPolicy: 'destroy' }), { physicalResourceId: 'dp_old' });
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'dp_old' });
    expect(response.Reason).toMatch(/^Delete was not completed \(property Force is not 'true' or 'false': "maybe"\. .*\); the stack goes on\.$/);
    expect(fakes.admin.requests).toHaveLength(0);
  });

  test('an Update whose previous properties are not ServiceDeployer\'s still registers', async () => {
    const response = await invoke(fakes, 'Update', props(), { physicalResourceId: DEPLOYMENT_ID, oldProps: { Evil: 'x' } });
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: DEPLOYMENT_ID });
    expect(logged(fakes, 'previous properties not used')).toEqual([{ message: 'previous properties not used', error: expect.stringContaining('Evil') }]);
  });

  test('a Create without ResourceProperties is refused', async () => {
    const event = deploymentEvent('Create', props(), fakes.cfn.url);
    delete (event as { ResourceProperties?: unknown }).ResourceProperties;
    trustProps(props());
    const before = fakes.cfn.requests.length;
    await handler(event, { getRemainingTimeInMillis: () => 60_000 });
    expect(fakes.cfn.requests.slice(before).map((r) => r.body.Reason)).toEqual([
      'ResourceProperties is not an object. The custom resource was not written by ServiceDeployer; nothing was done.',
    ]);
  });
});

describe('running out of time', () => {
  test('Create: FAILED with the failed-create id, naming what it was doing', async () => {
    // 2 s left: the deployer works for 1 s of it, then answers.
    const response = await invoke(fakes, 'Create', props({ AuthTokenSecretArn: HANGING_SECRET }), { remainingMs: 2_000 });
    expect(response).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: FAILED_CREATE_ID,
      Reason: 'The deployer ran out of time while reading the admin API key. Raise the ServiceDeployer timeout or check the admin API.',
    });
    expect(fakes.admin.requests).toHaveLength(0);
  });

  test('Update: FAILED, keeping the physical id', async () => {
    const response = await invoke(fakes, 'Update', props({ AuthTokenSecretArn: HANGING_SECRET }), { remainingMs: 2_000, physicalResourceId: 'dp_old' });
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'dp_old' });
  });

  test('Delete: SUCCESS, leaving the deployment in place, naming what it was doing', async () => {
    const response = await invoke(fakes, 'Delete', props({ AuthTokenSecretArn: HANGING_SECRET, RemovalPolicy: 'destroy' }), {
      remainingMs: 2_000,
      physicalResourceId: 'dp_abc',
    });
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'dp_abc',
      Reason: 'Ran out of time while reading the admin API key; the deployment was left in place.',
    });
    expect(fakes.admin.requests).toHaveLength(0);
  });

  test('the Delete after a failed Create: SUCCESS with that id', async () => {
    const response = await invoke(fakes, 'Delete', props({ AuthTokenSecretArn: HANGING_SECRET }), { remainingMs: 2_000, physicalResourceId: FAILED_CREATE_ID });
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: FAILED_CREATE_ID });
    expect(response.Reason).toBe('Ran out of time while reading the admin API key; the deployment was left in place.');
  });

  // An existing deployment whose service another deployment serves: it is registered again with force.
  const servedByAnother = healthyAdmin((r) => {
    if (r.method === 'POST' && r.path === '/deployments') return { status: 200, body: { id: DEPLOYMENT_ID, services: [{ name: 'Greeter', revision: 1, public: true }] } };
    if (r.method === 'GET' && r.path === '/services/Greeter') return { status: 200, body: { name: 'Greeter', deployment_id: 'dp_other', revision: 2, public: true } };
    return undefined;
  });
  test.each<[string, (method: string, path: string, body: any) => boolean, string, object, Route]>([
    ['checking what it serves', (m, path) => m === 'GET' && path === '/services/Greeter', 'checking that dp_11pXug0mWsff2NOoRBZbOcV serves [Greeter]', { Private: 'true' }, healthyAdmin()],
    ['setting visibility', (m) => m === 'PATCH', 'making service Greeter private', { Private: 'true' }, healthyAdmin()],
    ['configuring', (m) => m === 'PATCH', 'configuring services [Greeter]', { ServiceConfiguration: { Services: { Greeter: { JournalRetentionSeconds: '60' } } } }, healthyAdmin()],
    ['pruning', (m, path) => m === 'GET' && path === '/deployments', 'pruning drained deployments', { PruneDrained: 'true', Owner: 'Stack/Greeter' }, healthyAdmin()],
    [
      're-registering',
      (m, path, body) => m === 'POST' && path === '/deployments' && body.force === true,
      `re-registering Lambda ${LAMBDA_ARN} with force to make ${DEPLOYMENT_ID} serve ([Greeter was served by dp_other (revision 2)])`,
      {},
      servedByAnother,
    ],
  ])('a step that hangs (%s) is named, and its request hung up', async (_what, hangs, phase, extra, route) => {
    const admin = await hangingAdmin(hangs, route);
    try {
      const response = await invoke(fakes, 'Create', props({ AdminUrl: admin.url, ...extra }), { remainingMs: 2_000 });
      expect(response.Reason).toMatch(new RegExp(`^The deployer ran out of time while ${escape(phase)}\\. `));
      await new Promise((r) => setTimeout(r, 50));
      expect(admin.hungUp).toHaveLength(1);
    } finally {
      await admin.stop();
    }
  });

  test.each<[string, 'Create' | 'Delete', string, (method: string, path: string) => boolean, (url: string) => string]>([
    ['the health check', 'Create', DEPLOYMENT_ID, (_m, path) => path === '/health', (url) => `The deployer ran out of time while waiting for the admin API at ${url}/health. `],
    ['a Delete', 'Delete', DEPLOYMENT_ID, (m, path) => m === 'GET' && path.startsWith('/deployments/'), (url) => `Ran out of time while removing deployment ${DEPLOYMENT_ID} at ${url}; `],
    ['the Delete after a failed Create', 'Delete', FAILED_CREATE_ID, (m, path) => m === 'GET' && path === '/deployments', (url) => `Ran out of time while looking for deployments of the failed create at ${url}; `],
  ])('a hung request during %s: the reason names the step', async (_what, requestType, physicalResourceId, hangs, reason) => {
    const admin = await hangingAdmin(hangs);
    try {
      const response = await invoke(fakes, requestType, props({ AdminUrl: admin.url, RemovalPolicy: 'destroy' }), { remainingMs: 2_000, physicalResourceId });
      expect(response.Reason.startsWith(reason(admin.url))).toBe(true);
    } finally {
      await admin.stop();
    }
  });

  test('the last failed answer of the step in progress is named too', async () => {
    let probes = 0;
    const admin = await hangingAdmin((_m, path) => path === '/health' && probes++ > 0, () => ({ status: 503 }));
    try {
      // 8 s left: the deployer works for 4 s; the second probe hangs past that.
      const response = await invoke(fakes, 'Create', props({ AdminUrl: admin.url }), { remainingMs: 8_000 });
      expect(response.Reason).toBe(
        `The deployer ran out of time while waiting for the admin API at ${admin.url}/health (last: HTTP 503). Raise the ServiceDeployer timeout or check the admin API.`,
      );
    } finally {
      await admin.stop();
    }
  }, 15_000);

  test('a Create event that carries a physical id still answers a failure with the failed-create id', async () => {
    const event = deploymentEvent('Create', props({ Force: 'maybe' }), fakes.cfn.url, 'dp_crafted');
    trustProps(props());
    const before = fakes.cfn.requests.length;
    await handler(event, { getRemainingTimeInMillis: () => 60_000 });
    expect(fakes.cfn.requests.slice(before).map((r) => [r.body.Status, r.body.PhysicalResourceId])).toEqual([['FAILED', FAILED_CREATE_ID]]);
  });

  test('a registration still in flight when time runs out is hung up, not left to complete', async () => {
    const admin = await hangingAdmin((method, path) => method === 'POST' && path === '/deployments');
    try {
      const p = props({ AdminUrl: admin.url });
      const response = await invoke(fakes, 'Create', p, { remainingMs: 2_000 });
      expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: FAILED_CREATE_ID });
      // The deployer hangs up just before the request's own timeout: the reason names the step.
      expect(response.Reason).toBe(
        `The deployer ran out of time while registering Lambda ${p.LambdaArn} at ${admin.url}/deployments. Raise the ServiceDeployer timeout or check the admin API.`,
      );
      await new Promise((r) => setTimeout(r, 50));
      expect(admin.hungUp).toEqual(['POST /deployments']);
    } finally {
      await admin.stop();
    }
  });
});
