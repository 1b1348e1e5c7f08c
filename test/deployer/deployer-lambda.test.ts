import { deploymentEvent, RecordedRequest, RecordingServer, Route, secretsManagerRoute, servedBy, trustProps, useFakeAwsCredentials } from './fakes';
import { handler } from '../../src/deployer/deployer.lambda';
import { DeploymentResourceProperties } from '../../src/deployer/properties';
import { forgetAllSecrets } from '../../src/deployer/secrets';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:restate/api-key-AbCdEf';
const JSON_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:restate/json-key-AbCdEf';
const API_KEY = 'key_test_0123456789abcdef';
const LAMBDA_ARN = 'arn:aws:lambda:us-east-1:111111111111:function:greeter:7';
const ROLE_ARN = 'arn:aws:iam::111111111111:role/RestateInvoker';

let secrets: RecordingServer;
let cfn: RecordingServer;
let admin: RecordingServer;
let logs: string[];

/**
 * The admin API of a healthy environment, whose services are served by the deployment last
 * registered; `overrides` answer first.
 */
function adminRoute(overrides: Route = () => undefined): Route {
  let latest = 'dp_11pXug0mWsff2NOoRBZbOcV';
  return (req) => {
    const answer =
      overrides(req) ??
      (req.path === '/health'
        ? { status: 200 }
        : req.method === 'POST' && req.path === '/deployments'
          ? { status: 201, body: { id: 'dp_11pXug0mWsff2NOoRBZbOcV', services: [{ name: 'Greeter', revision: 1, public: true }] } }
          : req.path === '/query'
            ? { status: 200, body: { rows: [{ count: 0 }] } }
            : undefined);
    const id = (answer?.body as { id?: unknown } | undefined)?.id;
    if (req.method === 'POST' && req.path === '/deployments' && typeof id === 'string') latest = id;
    return answer ?? servedBy(() => latest)(req);
  };
}

function props(extra: Partial<DeploymentResourceProperties> = {}): DeploymentResourceProperties {
  return {
    AdminUrl: admin.url,
    AuthTokenSecretArn: SECRET_ARN,
    LambdaArn: LAMBDA_ARN,
    AssumeRoleArn: ROLE_ARN,
    Private: 'false',
    Force: 'false',
    Breaking: 'false',
    RemovalPolicy: 'retain',
    PruneDrained: 'false',
    RevisionHistoryLimit: '0',
    Owner: 'App/Stack/Handler/CurrentVersion/RestateRegistrationABCD1234',
    Metadata: { team: 'payments' },
    HealthTimeoutSeconds: '10',
    ...extra,
  };
}

async function invoke(
  requestType: 'Create' | 'Update' | 'Delete',
  resourceProps: DeploymentResourceProperties,
  opts: { physicalResourceId?: string; remainingMs?: number } = {},
): Promise<{ response: any; elapsedMs: number }> {
  const event = deploymentEvent(requestType, resourceProps, cfn.url, opts.physicalResourceId);
  trustProps(resourceProps);
  const endsAt = Date.now() + (opts.remainingMs ?? 60_000);
  const before = cfn.requests.length;
  const started = Date.now();
  await handler(event, { getRemainingTimeInMillis: () => endsAt - Date.now(), logStreamName: '2026/11/26/[$LATEST]abc' });
  const elapsedMs = Date.now() - started;
  const responses = cfn.requests.slice(before);
  expect(responses).toHaveLength(1);
  expect(responses[0].method).toBe('PUT');
  return { response: responses[0].body, elapsedMs };
}

const registerBodies = () => admin.requests.filter((r) => r.method === 'POST' && r.path === '/deployments').map((r) => r.body);

beforeAll(async () => {
  secrets = await RecordingServer.start(
    secretsManagerRoute({ [SECRET_ARN]: API_KEY, [JSON_SECRET_ARN]: JSON.stringify({ apiKey: API_KEY }) }),
  );
  cfn = await RecordingServer.start(() => ({ status: 200 }));
  admin = await RecordingServer.start(adminRoute());
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secrets.url;
  useFakeAwsCredentials();
});

beforeEach(() => {
  // Each test starts cold: the deployer caches secrets across invocations of a warm Lambda.
  forgetAllSecrets();
  admin.requests.length = 0;
  admin.route = adminRoute();
  logs = [];
  jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    logs.push(args.map(String).join(' '));
  });
});

afterEach(() => {
  // The API key is never logged, whatever happened.
  expect(logs.join('\n')).not.toContain(API_KEY);
  jest.restoreAllMocks();
});

afterAll(async () => {
  await Promise.all([secrets.stop(), cfn.stop(), admin.stop()]);
});

describe('Create of a Lambda deployment', () => {
  test('sends exactly the documented request body, with force and breaking explicit', async () => {
    const { response } = await invoke('Create', props());
    expect(registerBodies()).toEqual([
      {
        arn: LAMBDA_ARN,
        assume_role_arn: ROLE_ARN,
        force: false,
        breaking: false,
        metadata: {
          'team': 'payments',
          'restate-cloud-cdk.owner': 'App/Stack/Handler/CurrentVersion/RestateRegistrationABCD1234',
          'restate-cloud-cdk.stack': 'App',
          'restate-cloud-cdk.construct': 'Stack/Handler/CurrentVersion/RestateRegistrationABCD1234',
          'restate-cloud-cdk.stack-id': 'arn:aws:cloudformation:us-east-1:111111111111:stack/App/1',
          'restate-cloud-cdk.logical-id': 'Registration',
          'restate-cloud-cdk.created-by': 'req-1',
        },
      },
    ]);
    const post = admin.requests.find((r) => r.method === 'POST')!;
    expect(post.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(post.headers['content-type']).toBe('application/json');
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'dp_11pXug0mWsff2NOoRBZbOcV',
      StackId: 'arn:aws:cloudformation:us-east-1:111111111111:stack/App/1',
      RequestId: 'req-1',
      LogicalResourceId: 'Registration',
      Data: { DeploymentId: 'dp_11pXug0mWsff2NOoRBZbOcV', ServiceNames: 'Greeter' },
    });
    expect(response.Reason).toContain(LAMBDA_ARN);
    // Public already: no visibility change, no pruning, no other calls.
    expect(admin.calls()).toEqual(['POST /deployments', 'GET /services/Greeter']);
  });

  test('force and breaking true are sent as true', async () => {
    await invoke('Create', props({ Force: 'true', Breaking: 'true' }));
    expect(registerBodies()[0]).toMatchObject({ force: true, breaking: true });
  });

  test('reads the key from a JSON field of the secret', async () => {
    await invoke('Create', props({ AuthTokenSecretArn: JSON_SECRET_ARN, AuthTokenJsonField: 'apiKey' }));
    expect(admin.requests[0].headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  test('a missing JSON field fails naming the secret and the field', async () => {
    const { response } = await invoke('Create', props({ AuthTokenSecretArn: JSON_SECRET_ARN, AuthTokenJsonField: 'token' }));
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain(JSON_SECRET_ARN);
    expect(response.Reason).toContain("'token'");
    expect(admin.requests).toHaveLength(0);
  });

  test('an unreadable secret fails naming it, before any admin call', async () => {
    const missing = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:nope-XyZ123';
    const { response } = await invoke('Create', props({ AuthTokenSecretArn: missing }));
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain(missing);
    expect(response.Reason).toContain('ResourceNotFoundException');
    expect(response.PhysicalResourceId).toBe('restate-failed-create-req-1');
    expect(admin.requests).toHaveLength(0);
  });

  test('an already registered deployment (200) is reused', async () => {
    admin.route = adminRoute((r) =>
      r.method === 'POST'
        ? { status: 200, body: { id: 'dp_existing', services: [{ name: 'Greeter', public: true }] } }
        : r.path === '/deployments/dp_existing'
          ? { status: 200, body: { id: 'dp_existing', arn: LAMBDA_ARN, assume_role_arn: ROLE_ARN, metadata: { 'restate-cloud-cdk.stack-id': 'arn:aws:cloudformation:us-east-1:111111111111:stack/App/1', 'restate-cloud-cdk.logical-id': 'Registration' } } }
          : undefined,
    );
    const { response } = await invoke('Create', props());
    expect(response.PhysicalResourceId).toBe('dp_existing');
    expect(response.Reason).toMatch(/^Already registered/);
    // It already serves, is owned by this resource and uses this role: registered once.
    // The services were just seen served by it: not asked for again.
    expect(admin.calls()).toEqual(['POST /deployments', 'GET /services/Greeter', 'GET /deployments/dp_existing']);
  });

  test('private services are made private, public ones public again', async () => {
    await invoke('Create', props({ Private: 'true' }));
    const patch = admin.requests.find((r) => r.method === 'PATCH')!;
    expect(patch.path).toBe('/services/Greeter');
    expect(patch.body).toEqual({ public: false });

    admin.requests.length = 0;
    admin.route = adminRoute((r) =>
      r.method === 'POST' ? { status: 201, body: { id: 'dp_a', services: [{ name: 'Greeter', public: false }] } } : undefined,
    );
    await invoke('Update', props({ Private: 'false' }), { physicalResourceId: 'dp_a' });
    expect(admin.requests.find((r) => r.method === 'PATCH')!.body).toEqual({ public: true });
  });

  test('missing expected services fail naming them, and the new deployment is removed', async () => {
    const { response } = await invoke('Create', props({ ExpectedServices: ['Greeter', 'Counter'] }));
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('[Counter]');
    expect(response.Reason).toContain('found service(s) [Greeter]');
    expect(admin.calls()).toEqual(['POST /deployments', 'GET /services/Greeter', 'POST /query', 'DELETE /deployments/dp_11pXug0mWsff2NOoRBZbOcV?force=true']);
  });

  test('discovery failure (400) names the URL, the status and the admin API message', async () => {
    admin.route = adminRoute((r) =>
      r.method === 'POST' ? { status: 400, body: { message: 'bad status code: 403 Forbidden', restate_code: 'META0003' } } : undefined,
    );
    const { response } = await invoke('Create', props());
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain(`${admin.url}/deployments`);
    expect(response.Reason).toContain('HTTP 400');
    expect(response.Reason).toContain('answered HTTP 400 (META0003): bad status code: 403 Forbidden');
    expect(response.Reason).toContain('invoker role');
    expect(registerBodies()).toHaveLength(1); // 4xx is not retried
  });

  test('an unreachable endpoint (500 META0003) is a discovery failure and is not retried', async () => {
    admin.route = adminRoute((r) =>
      r.method === 'POST'
        ? { status: 500, body: { message: "error when calling 'http://127.0.0.1:1/': Connection refused", restate_code: 'META0003' } }
        : undefined,
    );
    const { response } = await invoke('Create', props());
    expect(response.Reason).toContain('HTTP 500');
    expect(response.Reason).toContain('Connection refused');
    expect(response.Reason).toContain('(META0003)');
    expect(response.Reason).toContain('Restate could not discover the service');
    expect(registerBodies()).toHaveLength(1);
  });

  test('a conflict (409) suggests breaking or a new version', async () => {
    admin.route = adminRoute((r) => (r.method === 'POST' ? { status: 409, body: { message: 'breaking change' } } : undefined));
    const { response } = await invoke('Create', props());
    expect(response.Reason).toContain('HTTP 409: breaking change');
    expect(response.Reason).toContain('breaking: true');
  });

  test('5xx answers are retried a bounded number of times', async () => {
    let n = 0;
    admin.route = adminRoute((r) => (r.method === 'POST' && n++ < 2 ? { status: 503, body: { message: 'unavailable' } } : undefined));
    const { response } = await invoke('Create', props());
    expect(response.Status).toBe('SUCCESS');
    expect(registerBodies()).toHaveLength(3);
  });

  test('a warm deployer reads the API key once for registrations in a row', async () => {
    secrets.requests.length = 0;
    await invoke('Create', props());
    await invoke('Create', props());
    expect(secrets.requests.map((r) => r.body.SecretId)).toEqual([SECRET_ARN]);
  });

  test('a cached key the admin API rejects is read again once (a rotated key), then used', async () => {
    await invoke('Create', props()); // caches the key
    let rotated = false;
    secrets.route = secretsManagerRoute({ [SECRET_ARN]: 'key_rotated', [JSON_SECRET_ARN]: '{}' });
    admin.route = adminRoute((r) => {
      if (r.headers.authorization === 'Bearer key_rotated') rotated = true;
      return r.path === '/health' && r.headers.authorization !== 'Bearer key_rotated' ? { status: 401, body: { message: 'invalid token' } } : undefined;
    });
    admin.requests.length = 0;
    const { response } = await invoke('Create', props());
    secrets.route = secretsManagerRoute({ [SECRET_ARN]: API_KEY, [JSON_SECRET_ARN]: JSON.stringify({ apiKey: API_KEY }) });
    expect(response.Status).toBe('SUCCESS');
    expect(rotated).toBe(true);
    expect(admin.requests.filter((r) => r.path === '/health').map((r) => r.headers.authorization)).toEqual([`Bearer ${API_KEY}`, 'Bearer key_rotated']);
    const logged = (console.log as jest.Mock).mock.calls.map(([line]) => JSON.parse(line));
    expect(logged.filter((l) => l.message.startsWith('admin API rejected'))).toEqual([
      { message: 'admin API rejected the cached key; reading it again', url: `${admin.url}/health`, status: 401 },
    ]);
    // Reading the key again is no failed probe.
    expect(logged.filter((l) => l.message === 'admin API not healthy yet')).toEqual([]);
  });

  test('401 fails fast, naming the secret, without retries', async () => {
    admin.route = () => ({ status: 401, body: { message: 'invalid token' } });
    const { response, elapsedMs } = await invoke('Create', props());
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain(SECRET_ARN);
    expect(response.Reason).toContain('HTTP 401: invalid token');
    expect(admin.requests).toHaveLength(1);
    expect(elapsedMs).toBeLessThan(5_000);
  });

  test('waits for /health with backoff, then registers', async () => {
    let n = 0;
    admin.route = adminRoute((r) => (r.path === '/health' && n++ < 3 ? { status: 503 } : undefined));
    const { response } = await invoke('Create', props());
    expect(response.Status).toBe('SUCCESS');
    expect(admin.requests.filter((r) => r.path === '/health')).toHaveLength(4);
  });

  test('probes /health about every quarter second at first, so a deploy goes on soon after the admin API is up', async () => {
    const upAt = Date.now() + 2_000;
    admin.route = adminRoute((r) => (r.path === '/health' && Date.now() < upAt ? { status: 503 } : undefined));
    const { response, elapsedMs } = await invoke('Create', props());
    expect(response.Status).toBe('SUCCESS');
    const probes = admin.requests.filter((r) => r.path === '/health').length;
    // Full jitter below a 0.5 s cap: between 4 and 20 probes in 2 s, and success within 0.5 s of it.
    expect(probes).toBeGreaterThanOrEqual(4);
    expect(probes).toBeLessThanOrEqual(21);
    expect(elapsedMs).toBeLessThan(2_000 + 600);
  });

  test('an admin API that never gets healthy fails within the bound, naming URL and last status', async () => {
    admin.route = () => ({ status: 503 });
    const { response, elapsedMs } = await invoke('Create', props({ HealthTimeoutSeconds: '2' }));
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain(`${admin.url}/health`);
    expect(response.Reason).toContain('last: HTTP 503');
    expect(elapsedMs).toBeLessThan(4_000);
  });

  test('an unqualified endpoint property set is rejected with a reason', async () => {
    const { response } = await invoke('Create', props({ Uri: 'https://x.example.com' }));
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('exactly one of the properties LambdaArn and Uri');
  });

  test('a failed Update keeps the old physical id', async () => {
    admin.route = adminRoute((r) => (r.method === 'POST' ? { status: 400, body: { message: 'nope' } } : undefined));
    const { response } = await invoke('Update', props(), { physicalResourceId: 'dp_old' });
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'dp_old' });
  });

  test('answers FAILED before the Lambda runs out of time', async () => {
    admin.route = () => ({ status: 503 });
    const { response, elapsedMs } = await invoke('Create', props({ HealthTimeoutSeconds: '600' }), { remainingMs: 3_000 });
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('ran out of time');
    expect(elapsedMs).toBeLessThan(3_000);
  });
});

describe('HTTP deployments', () => {
  const uri = 'https://services.example.com/greeter';

  test('send uri, headers (secret ones resolved), use_http_11 and explicit force/breaking', async () => {
    await invoke(
      'Create',
      props({
        LambdaArn: undefined,
        AssumeRoleArn: undefined,
        Uri: uri,
        AdditionalHeaders: { 'x-env': 'prod' },
        SecretHeaders: [{ Name: 'x-api-key', SecretArn: JSON_SECRET_ARN, JsonField: 'apiKey' }],
        UseHttp11: 'true',
      }),
    );
    expect(registerBodies()[0]).toEqual({
      uri,
      additional_headers: { 'x-env': 'prod', 'x-api-key': API_KEY },
      use_http_11: true,
      force: false,
      breaking: false,
      metadata: expect.any(Object),
    });
  });

  test('with DiscoveryRetrySeconds, discovery failures are retried until the endpoint answers (a tunnel connecting late)', async () => {
    let refusals = 2;
    const unreachable = { status: 500, body: { message: "[META0003] error when calling 'https://services.example.com/greeter/': h2 pool connection error: Connection refused", restate_code: 'META0003' } };
    admin.route = adminRoute((r) => (r.method === 'POST' && r.path === '/deployments' && refusals-- > 0 ? unreachable : undefined));
    const { response } = await invoke('Create', props({ LambdaArn: undefined, AssumeRoleArn: undefined, Uri: uri, DiscoveryRetrySeconds: '30' }));
    expect(response.Status).toBe('SUCCESS');
    expect(registerBodies()).toHaveLength(3);
  });

  test('without it, a discovery failure is final: one attempt, and the reason says why', async () => {
    const unreachable = { status: 500, body: { message: "[META0003] error when calling 'https://services.example.com/greeter/': h2 pool connection error: Connection refused", restate_code: 'META0003' } };
    admin.route = adminRoute((r) => (r.method === 'POST' && r.path === '/deployments' ? unreachable : undefined));
    const { response } = await invoke('Create', props({ LambdaArn: undefined, AssumeRoleArn: undefined, Uri: uri }));
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain("answered HTTP 500 (META0003): error when calling 'https://services.example.com/greeter/': h2 pool connection error: Connection refused");
    expect(registerBodies()).toHaveLength(1);
  });

  test('plain HTTP for an environment requiring HTTPS fails without calling the admin API', async () => {
    const { response } = await invoke(
      'Create',
      props({ LambdaArn: undefined, AssumeRoleArn: undefined, Uri: 'http://services.example.com', RequireHttps: 'true' }),
    );
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('http://services.example.com is not HTTPS');
    expect(admin.requests).toHaveLength(0);
  });
});

describe('Delete', () => {
  const inFlight = (count: number): Route =>
    adminRoute((r: RecordedRequest) => (r.path === '/query' ? { status: 200, body: { rows: [{ count }] } } : r.method === 'DELETE' ? { status: 202 } : undefined));

  test('RETAIN makes no admin call', async () => {
    const { response } = await invoke('Delete', props(), { physicalResourceId: 'dp_abc' });
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'dp_abc' });
    expect(response.Reason).toContain('Retained deployment dp_abc');
    expect(admin.requests).toHaveLength(0);
  });

  test('DESTROY removes a drained deployment with force=true', async () => {
    admin.route = inFlight(0);
    const { response } = await invoke('Delete', props({ RemovalPolicy: 'destroy' }), { physicalResourceId: 'dp_abc' });
    expect(response.Status).toBe('SUCCESS');
    expect(admin.calls()).toEqual(['GET /deployments/dp_abc', 'POST /query', 'DELETE /deployments/dp_abc?force=true']);
    expect(admin.requests[1].body.query).toContain("pinned_deployment_id = 'dp_abc'");
  });

  test('DESTROY keeps a deployment with in-flight invocations unless forced', async () => {
    admin.route = inFlight(3);
    const { response } = await invoke('Delete', props({ RemovalPolicy: 'destroy' }), { physicalResourceId: 'dp_abc' });
    expect(response.Status).toBe('SUCCESS');
    expect(response.Reason).toContain('3 invocation(s) are still pinned');
    expect(admin.calls()).toEqual(['GET /deployments/dp_abc', 'POST /query']);

    admin.requests.length = 0;
    await invoke('Delete', props({ RemovalPolicy: 'destroy', Force: 'true' }), { physicalResourceId: 'dp_abc' });
    expect(admin.calls()).toEqual(['GET /deployments/dp_abc', 'DELETE /deployments/dp_abc?force=true']);
  });

  test('the id of a failed Create is a no-op', async () => {
    const { response } = await invoke('Delete', props({ RemovalPolicy: 'destroy' }), { physicalResourceId: 'restate-failed-req-0' });
    expect(response.Status).toBe('SUCCESS');
    expect(admin.requests).toHaveLength(0);
  });

  test('an unreachable admin API still answers SUCCESS, quickly', async () => {
    const { response, elapsedMs } = await invoke(
      'Delete',
      props({ RemovalPolicy: 'destroy', AdminUrl: 'http://127.0.0.1:1' }),
      { physicalResourceId: 'dp_abc' },
    );
    expect(response.Status).toBe('SUCCESS');
    expect(response.Reason).toContain('was not removed');
    expect(elapsedMs).toBeLessThan(3_000);
  });
});

describe('pruning', () => {
  test('removes drained older deployments of the same owner beyond the history limit', async () => {
    const owner = props().Owner!;
    const mine = (id: string, created: string) => ({ id, created_at: created, metadata: { 'restate-cloud-cdk.owner': owner } });
    admin.route = adminRoute((r) => {
      if (r.method === 'GET' && r.path === '/deployments') {
        return {
          status: 200,
          body: {
            deployments: [
              mine('dp_11pXug0mWsff2NOoRBZbOcV', '2026-11-26T10:00:03Z'),
              mine('dp_old2', '2026-11-26T10:00:02Z'),
              mine('dp_old1', '2026-11-26T10:00:01Z'),
              mine('dp_busy', '2026-11-26T10:00:00Z'),
              { id: 'dp_other', created_at: '2026-11-26T09:00:00Z', metadata: { 'restate-cloud-cdk.owner': 'someone-else' } },
            ],
          },
        };
      }
      if (r.path === '/query') return { status: 200, body: { rows: [{ count: r.body.query.includes('dp_busy') ? 1 : 0 }] } };
      if (r.method === 'DELETE') return { status: 202 };
      return undefined;
    });
    const { response } = await invoke('Create', props({ PruneDrained: 'true', RevisionHistoryLimit: '1' }));
    expect(response.Status).toBe('SUCCESS');
    expect(admin.calls().filter((c) => c.startsWith('DELETE'))).toEqual(['DELETE /deployments/dp_old1?force=true']);
    expect(response.Reason).toContain('pruned [dp_old1], kept draining [dp_busy (1 in flight)]');
  });

  test('pruning removes at most MaxPrunedPerRun deployments per run, newest first, and says how many are left', async () => {
    const owner = props().Owner!;
    const mine = (id: string, created: string) => ({ id, created_at: created, metadata: { 'restate-cloud-cdk.owner': owner } });
    admin.route = adminRoute((r) => {
      if (r.method === 'GET' && r.path === '/deployments') {
        return {
          status: 200,
          body: {
            deployments: [
              mine('dp_11pXug0mWsff2NOoRBZbOcV', '2026-11-26T10:00:04Z'),
              mine('dp_old3', '2026-11-26T10:00:03Z'),
              mine('dp_old2', '2026-11-26T10:00:02Z'),
              mine('dp_old1', '2026-11-26T10:00:01Z'),
            ],
          },
        };
      }
      if (r.path === '/query') return { status: 200, body: { rows: [{ count: 0 }] } };
      if (r.method === 'DELETE') return { status: 202 };
      return undefined;
    });
    const { response } = await invoke('Create', props({ PruneDrained: 'true', MaxPrunedPerRun: '2' }));
    expect(response.Status).toBe('SUCCESS');
    expect(admin.calls().filter((c) => c.startsWith('DELETE'))).toEqual([
      'DELETE /deployments/dp_old3?force=true',
      'DELETE /deployments/dp_old2?force=true',
    ]);
    expect(response.Reason).toContain('pruned [dp_old3, dp_old2], 1 more left for the next run (maxPrunedPerRun 2)');
  });
});

describe('serving follows the template', () => {
  const OWNED = { 'restate-cloud-cdk.stack-id': 'arn:aws:cloudformation:us-east-1:111111111111:stack/App/1', 'restate-cloud-cdk.logical-id': 'Registration' };

  /** dp_old exists at the endpoint (200 on POST); `servedBy` serves Greeter; its metadata is `metadata`. */
  function existing(servedById: string, metadata: Record<string, string>): Route {
    let latest = servedById;
    return (r) => {
      if (r.method === 'POST' && r.path === '/deployments') {
        if (r.body.force) latest = 'dp_old';
        return { status: 200, body: { id: 'dp_old', services: [{ name: 'Greeter', public: true }] } };
      }
      if (r.method === 'GET' && r.path === '/services/Greeter') return { status: 200, body: { name: 'Greeter', deployment_id: latest, revision: 2 } };
      if (r.method === 'GET' && r.path === '/deployments/dp_old') {
        return { status: 200, body: { id: 'dp_old', arn: LAMBDA_ARN, assume_role_arn: ROLE_ARN, metadata: { ...metadata, 'restate-cloud-cdk.created-by': 'req-0' } } };
      }
      return undefined;
    };
  }

  test('a 200 for a deployment that no longer serves (a rollback) re-registers it with force, keeping who created it', async () => {
    admin.route = adminRoute(existing('dp_new', OWNED));
    const { response } = await invoke('Update', props(), { physicalResourceId: 'dp_new' });
    expect(response.Status).toBe('SUCCESS');
    expect(response.PhysicalResourceId).toBe('dp_old');
    expect(response.Reason).toContain('promoted dp_old ([Greeter was served by dp_new (revision 2)])');
    const bodies = registerBodies();
    expect(bodies.map((b) => b.force)).toEqual([false, true]);
    expect(bodies[1].metadata['restate-cloud-cdk.created-by']).toBe('req-0');
  });

  test('a 200 for a deployment another resource owns (a replacement) adopts it', async () => {
    admin.route = adminRoute(existing('dp_old', { ...OWNED, 'restate-cloud-cdk.logical-id': 'OldRegistration' }));
    const { response } = await invoke('Create', props());
    expect(response.Reason).toContain('adopted from OldRegistration of stack App');
    expect(registerBodies()[1].metadata['restate-cloud-cdk.logical-id']).toBe('Registration');
  });

  test('a deployment that still does not serve after promotion fails, naming what serves', async () => {
    admin.route = adminRoute((r) =>
      r.method === 'GET' && r.path === '/services/Greeter' ? { status: 200, body: { name: 'Greeter', deployment_id: 'dp_other', revision: 9 } } : existing('dp_other', OWNED)(r),
    );
    const { response } = await invoke('Create', props());
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('but [Greeter is served by dp_other (revision 9)]');
  });

  test('a newer revision registered meanwhile (CloudFormation runs registrations at once) is accepted, and said', async () => {
    admin.route = adminRoute((r) =>
      r.method === 'POST' && r.path === '/deployments'
        ? { status: 201, body: { id: 'dp_mine', services: [{ name: 'Greeter', revision: 4, public: true }] } }
        : r.method === 'GET' && r.path === '/services/Greeter'
          ? { status: 200, body: { name: 'Greeter', deployment_id: 'dp_later', revision: 5 } }
          : undefined,
    );
    const { response } = await invoke('Create', props());
    expect(response.Status).toBe('SUCCESS');
    expect(response.PhysicalResourceId).toBe('dp_mine');
    expect(response.Reason).toContain('[Greeter is already served by dp_later (revision 5), registered after this one]');
  });

  test('Delete under DESTROY keeps a deployment whose metadata names another resource', async () => {
    admin.route = adminRoute((r) =>
      r.method === 'GET' && r.path === '/deployments/dp_abc'
        ? { status: 200, body: { id: 'dp_abc', metadata: { ...OWNED, 'restate-cloud-cdk.logical-id': 'NewRegistration' } } }
        : undefined,
    );
    const { response } = await invoke('Delete', props({ RemovalPolicy: 'destroy' }), { physicalResourceId: 'dp_abc' });
    expect(response.Reason).toMatch(/^Kept deployment dp_abc: it is owned by NewRegistration of stack App/);
    expect(admin.calls()).toEqual(['GET /deployments/dp_abc']);
  });

  test("the Delete after a failed Create removes that Create's deployments only, whatever the removal policy", async () => {
    const mine = { ...OWNED, 'restate-cloud-cdk.created-by': 'req-9' };
    admin.route = adminRoute((r) =>
      r.method === 'GET' && r.path === '/deployments'
        ? {
          status: 200,
          body: {
            deployments: [
              { id: 'dp_mine', metadata: mine },
              { id: 'dp_other_request', metadata: { ...mine, 'restate-cloud-cdk.created-by': 'req-8' } },
              { id: 'dp_other_resource', metadata: { ...mine, 'restate-cloud-cdk.logical-id': 'Other' } },
              { id: 'dp_unowned' },
            ],
          },
        }
        : r.method === 'DELETE'
          ? { status: 202 }
          : undefined,
    );
    const { response } = await invoke('Delete', props({ RemovalPolicy: 'retain' }), { physicalResourceId: 'restate-failed-create-req-9' });
    expect(response.Status).toBe('SUCCESS');
    expect(response.Reason).toBe('Undid the failed create: deployment dp_mine removed again.');
    expect(admin.calls()).toEqual(['GET /deployments', 'POST /query', 'DELETE /deployments/dp_mine?force=true']);
  });
});

describe('service configuration', () => {
  /** Greeter (a Service) and Checkout (a Workflow), whose settings read back as last patched. */
  function configurable(): Route {
    const settings: Record<string, Record<string, string>> = { Greeter: {}, Checkout: {} };
    const friendly = (iso: string) => {
      const s = Number(iso.slice(2, -1));
      return s % 3600 === 0 ? `${s / 3600}h` : `${s}s`;
    };
    return (r) => {
      if (r.method === 'POST' && r.path === '/deployments') {
        return {
          status: 201,
          body: {
            id: 'dp_11pXug0mWsff2NOoRBZbOcV',
            services: [{ name: 'Greeter', ty: 'Service', public: true }, { name: 'Checkout', ty: 'Workflow', public: true }],
            info: [{ code: 'RT0017', message: 'the SDK version is deprecated' }],
          },
        };
      }
      const m = /^\/services\/(\w+)$/.exec(r.path);
      if (m && r.method === 'PATCH') {
        for (const [k, v] of Object.entries(r.body as Record<string, string>)) settings[m[1]][k] = friendly(v);
        return { status: 200, body: {} };
      }
      if (m && r.method === 'GET') return { status: 200, body: { name: m[1], deployment_id: 'dp_11pXug0mWsff2NOoRBZbOcV', revision: 1, ...settings[m[1]] } };
      return undefined;
    };
  }

  const config = {
    Default: { JournalRetentionSeconds: '7200', WorkflowCompletionRetentionSeconds: '3600' },
    Services: { Greeter: { JournalRetentionSeconds: '60', InactivityTimeoutSeconds: '90' } },
  };

  test('applied after registering, per-service values over the defaults, read back, and listed in the reason', async () => {
    admin.route = adminRoute(configurable());
    const { response } = await invoke('Create', props({ ServiceConfiguration: config }));
    expect(response.Status).toBe('SUCCESS');
    const patches = admin.requests.filter((r) => r.method === 'PATCH').map((r) => [r.path, r.body]);
    expect(patches).toEqual([
      // The workflow retention default applies to the workflow only.
      ['/services/Greeter', { journal_retention: 'PT60S', inactivity_timeout: 'PT90S' }],
      ['/services/Checkout', { journal_retention: 'PT7200S', workflow_completion_retention: 'PT3600S' }],
    ]);
    expect(response.Reason).toContain(
      'configured Greeter {journal_retention 1m, inactivity_timeout 1m 30s}, Checkout {journal_retention 2h, workflow_completion_retention 1h}',
    );
  });

  test("the server's info notes appear in the reason and the log", async () => {
    admin.route = adminRoute(configurable());
    const { response } = await invoke('Create', props());
    expect(response.Reason).toContain('Restate noted: [RT0017] the SDK version is deprecated');
    expect(logs.join('\n')).toContain('the SDK version is deprecated');
  });

  test('a value that does not read back fails, naming service, setting and both values', async () => {
    const route = configurable();
    admin.route = adminRoute((r) => (r.method === 'GET' && r.path === '/services/Greeter' && admin.requests.some((q) => q.method === 'PATCH')
      ? { status: 200, body: { name: 'Greeter', deployment_id: 'dp_11pXug0mWsff2NOoRBZbOcV', revision: 1, journal_retention: '1d' } }
      : route(r)));
    const { response } = await invoke('Create', props({ ServiceConfiguration: { Services: { Greeter: { JournalRetentionSeconds: '60' } } } }));
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('service Greeter was configured, but reads back journal_retention "1d" instead of 1m');
  });

  test('a service the configuration names that discovery did not produce fails, naming it', async () => {
    admin.route = adminRoute(configurable());
    const { response } = await invoke('Create', props({ ServiceConfiguration: { Services: { Payments: {} } } }));
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('found service(s) [Greeter, Checkout], but serviceConfigurations names [Payments]');
  });

  test('a workflow retention set for a service that is not a workflow fails, naming it', async () => {
    admin.route = adminRoute(configurable());
    const { response } = await invoke('Create', props({ ServiceConfiguration: { Services: { Greeter: { WorkflowCompletionRetentionSeconds: '60' } } } }));
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('service Greeter is a Service, but workflowCompletionRetention applies to workflows only');
  });
});
