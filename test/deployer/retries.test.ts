/**
 * Retries of the registration call (`POST /deployments`): transport errors and 5xx answers are
 * retried a bounded number of times and only while the deployer has time; 4xx answers, 501 and
 * discovery failures are final.
 */
import { API_KEY, DEPLOYMENT_ID, healthyAdmin, invoke, lambdaProps, registerCount, resettingServer, SECRET_ARN, useFakes } from './harness';

const fakes = useFakes();
const props = (extra = {}) => lambdaProps(fakes.admin.url, extra);
const onRegister = (answer: { status: number; body?: unknown }) =>
  healthyAdmin((r) => (r.method === 'POST' && r.path === '/deployments' ? answer : undefined));

describe('5xx answers to POST /deployments', () => {
  test('are retried at most four times (five attempts), then fail with the last answer', async () => {
    fakes.admin.route = onRegister({ status: 503, body: { message: 'partition unavailable' } });
    // Enough time for many more attempts than the cap allows.
    const response = await invoke(fakes, 'Create', props(), { remainingMs: 6_000 });
    expect(registerCount(fakes.admin)).toBe(5);
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toBe(
      `registering Lambda ${props().LambdaArn} failed: POST ${fakes.admin.url}/deployments answered HTTP 503: partition unavailable.`,
    );
  });

  test('a 500 without a discovery code is retried, and a later 201 succeeds', async () => {
    let n = 0;
    fakes.admin.route = healthyAdmin((r) => (r.method === 'POST' && r.path === '/deployments' && n++ < 4 ? { status: 500, body: { message: 'boom' } } : undefined));
    const response = await invoke(fakes, 'Create', props());
    expect(registerCount(fakes.admin)).toBe(5);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: DEPLOYMENT_ID });
  });

  test('are not retried when the deployer has less than a second left after the backoff', async () => {
    fakes.admin.route = onRegister({ status: 503, body: { message: 'partition unavailable' } });
    // 2 s left: the deployer works for 1 s (it keeps the rest to answer), so no retry fits.
    const response = await invoke(fakes, 'Create', props(), { remainingMs: 2_000 });
    expect(registerCount(fakes.admin)).toBe(1);
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('answered HTTP 503: partition unavailable');
  });

  test('501 (not implemented) is final', async () => {
    fakes.admin.route = onRegister({ status: 501, body: { message: 'not implemented' } });
    const response = await invoke(fakes, 'Create', props());
    expect(registerCount(fakes.admin)).toBe(1);
    expect(response.Reason).toContain('answered HTTP 501: not implemented');
  });
});

describe('4xx answers to POST /deployments are final', () => {
  test('409: one attempt, and the reason suggests breaking or a new version', async () => {
    fakes.admin.route = onRegister({ status: 409, body: { message: 'breaking change in service Greeter' } });
    const response = await invoke(fakes, 'Create', props());
    expect(registerCount(fakes.admin)).toBe(1);
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toBe(
      `registering Lambda ${props().LambdaArn} failed: POST ${fakes.admin.url}/deployments answered HTTP 409: breaking change in service Greeter. ` +
        'The new revision conflicts with the registered one: register it as a new version/URL, or set breaking: true (or force: true) if that is intended.',
    );
  });

  test.each([401, 403])('%i: one attempt, failing with the auth reason naming the secret', async (status) => {
    fakes.admin.route = onRegister({ status, body: { message: 'role may not register deployments' } });
    const response = await invoke(fakes, 'Create', props());
    expect(registerCount(fakes.admin)).toBe(1);
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toBe(
      `the admin API rejected the API key in secret ${SECRET_ARN}: POST ${fakes.admin.url}/deployments answered HTTP ${status}: role may not register deployments. ` +
        'Put a valid API key with a role that may manage deployments into the secret.',
    );
    expect(response.Reason).not.toContain(API_KEY);
  });

  test('401 with a key from a JSON field names the field', async () => {
    fakes.secrets.route = (r) => ({ status: 200, body: { ARN: r.body.SecretId, Name: 'n', SecretString: JSON.stringify({ apiKey: API_KEY }), VersionId: 'v1' } });
    fakes.admin.route = onRegister({ status: 401, body: { message: 'invalid token' } });
    try {
      const response = await invoke(fakes, 'Create', props({ AuthTokenJsonField: 'apiKey' }));
      expect(registerCount(fakes.admin)).toBe(1);
      expect(response.Reason).toContain(`the admin API rejected the API key in secret ${SECRET_ARN} (field 'apiKey'): POST`);
    } finally {
      fakes.secrets.route = (r) => ({ status: 200, body: { ARN: r.body.SecretId, Name: 'n', SecretString: API_KEY, VersionId: 'v1' } });
    }
  });

  test('401 without an API key says that there is none', async () => {
    fakes.admin.route = onRegister({ status: 401, body: { message: 'unauthorized' } });
    const response = await invoke(fakes, 'Create', props({ AuthTokenSecretArn: undefined }));
    expect(registerCount(fakes.admin)).toBe(1);
    expect(response.Reason).toMatch(/^the admin API rejected no API key \(the environment has no authToken secret\): POST /);
  });

  test('422: one attempt, with the admin API message in the reason', async () => {
    fakes.admin.route = onRegister({ status: 422, body: { message: 'bad request body' } });
    const response = await invoke(fakes, 'Create', props());
    expect(registerCount(fakes.admin)).toBe(1);
    expect(response.Reason).toBe(`registering Lambda ${props().LambdaArn} failed: POST ${fakes.admin.url}/deployments answered HTTP 422: bad request body.`);
  });
});

describe('transport errors of POST /deployments', () => {
  test('are retried up to the cap, and fail saying that the admin API did not answer', async () => {
    const server = await resettingServer(healthyAdmin(), (method, path) => method === 'POST' && path === '/deployments');
    try {
      const p = props({ AdminUrl: server.url });
      const response = await invoke(fakes, 'Create', p, { remainingMs: 6_000 });
      expect(server.resets()).toBe(5);
      expect(response.Status).toBe('FAILED');
      expect(response.Reason).toMatch(
        new RegExp(`^registering Lambda ${p.LambdaArn} failed: no answer from the admin API: .*ECONNRESET.* \\(${server.url}/deployments\\)\\.$`),
      );
    } finally {
      await server.stop();
    }
  });

  test('a reset followed by an answer succeeds', async () => {
    let n = 0;
    const server = await resettingServer(healthyAdmin(), (method, path) => method === 'POST' && path === '/deployments' && n++ < 2);
    try {
      const response = await invoke(fakes, 'Create', props({ AdminUrl: server.url }));
      expect(server.resets()).toBe(2);
      expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: DEPLOYMENT_ID });
    } finally {
      await server.stop();
    }
  });
});
