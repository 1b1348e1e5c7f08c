/**
 * The wait for the admin API's /health before anything else: an unreachable admin API, one that
 * is not healthy within HealthTimeoutSeconds, one that the deployer runs out of time for, and a
 * rejected key, each with its own reason; requests never carry a token that does not exist.
 */
import { closedPort, healthyAdmin, invoke, lambdaProps, logged, registerCount, SECRET_ARN, useFakes } from './harness';

const fakes = useFakes();
const props = (extra = {}) => lambdaProps(fakes.admin.url, extra);
const healthProbes = () => fakes.admin.requests.filter((r) => r.path === '/health');

describe('an unreachable admin API (connection refused)', () => {
  test('fails with the not-healthy reason naming the URL and the transport error, and registers nothing', async () => {
    const port = await closedPort();
    const adminUrl = `http://127.0.0.1:${port}`;
    const response = await invoke(fakes, 'Create', props({ AdminUrl: adminUrl, HealthTimeoutSeconds: '1' }));
    expect(response.Status).toBe('FAILED');
    expect(response.PhysicalResourceId).toBe('restate-failed-create-req-1');
    expect(response.Reason).toMatch(
      new RegExp(
        `^the admin API at ${adminUrl}/health was not healthy within \\d+ s \\(last: ECONNREFUSED: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)\\. ` +
          'Check the admin URL, that the environment is running, and that the deployer can reach it \\(VPC, NAT, security groups\\)\\.$',
      ),
    );
    expect(fakes.admin.requests).toHaveLength(0);
  });
});

describe('an admin API that answers, but not 200', () => {
  test('not healthy within the bound: the reason gives the bound-limited wait and the last status', async () => {
    fakes.admin.route = () => ({ status: 503 });
    const response = await invoke(fakes, 'Create', props({ HealthTimeoutSeconds: '1' }));
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toMatch(
      new RegExp(`^the admin API at ${fakes.admin.url}/health was not healthy within [01] s \\(last: HTTP 503\\)\\. Check the admin URL`),
    );
    expect(response.Reason).not.toContain('ran out of time');
    // Nothing else was called.
    expect(fakes.admin.calls()).toEqual([]);
  });

  test('the deployer runs out of time first: the reason says so, and names the bound it did not reach', async () => {
    fakes.admin.route = () => ({ status: 503 });
    // 3 s left: the deployer works for 1.5 s, less than the 30 s health bound.
    const response = await invoke(fakes, 'Create', props({ HealthTimeoutSeconds: '30' }), { remainingMs: 3_000 });
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toMatch(
      new RegExp(
        `^the deployer ran out of time after waiting [01] s for the admin API at ${fakes.admin.url}/health \\(last: HTTP 503\\), ` +
          'before the health check bound of 30 s\\. Raise the ServiceDeployer timeout, and check that the environment is running and reachable from the deployer\\.$',
      ),
    );
    expect(registerCount(fakes.admin)).toBe(0);
  });

  test('a bound shorter than the time left is what ends the wait, even when the time left is short', async () => {
    fakes.admin.route = () => ({ status: 502 });
    const response = await invoke(fakes, 'Create', props({ HealthTimeoutSeconds: '1' }), { remainingMs: 8_000 });
    expect(response.Reason).toMatch(/^the admin API at .* was not healthy within 0 s \(last: HTTP 502\)/);
  });

  test('becoming healthy after a few probes goes on to register', async () => {
    let n = 0;
    fakes.admin.route = healthyAdmin((r) => (r.path === '/health' && n++ < 3 ? { status: 503 } : undefined));
    const response = await invoke(fakes, 'Create', props());
    expect(response.Status).toBe('SUCCESS');
    expect(healthProbes()).toHaveLength(4);
    expect(registerCount(fakes.admin)).toBe(1);
    const url = `${fakes.admin.url}/health`;
    expect(logged(fakes, 'admin API not healthy yet')).toEqual([1, 2, 3].map((attempt) => ({ message: 'admin API not healthy yet', url, attempt, last: 'HTTP 503' })));
    expect(logged(fakes, 'admin API healthy')).toEqual([{ message: 'admin API healthy', url, attempts: 4, waitedMs: expect.any(Number) }]);
  });
});

describe('a rejected key at /health', () => {
  test.each([401, 403])('%i fails at once with the auth reason, without probing again or registering', async (status) => {
    fakes.admin.route = healthyAdmin((r) => (r.path === '/health' ? { status, body: { message: 'invalid token' } } : undefined));
    const response = await invoke(fakes, 'Create', props());
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toBe(
      `the admin API rejected the API key in secret ${SECRET_ARN}: GET ${fakes.admin.url}/health answered HTTP ${status}: invalid token. ` +
        'Put a valid API key with a role that may manage deployments into the secret.',
    );
    // A key read just now (not from the cache) is not read again.
    expect(healthProbes()).toHaveLength(1);
    expect(fakes.secrets.requests).toHaveLength(1);
    expect(registerCount(fakes.admin)).toBe(0);
  });

  test.each([
    ['its field', 'apiKey', " in field 'apiKey'"],
    ['no field', undefined, ''],
  ])('a key that cannot be read fails before any request, naming the secret, %s and the fix', async (_what, field, inField) => {
    const missing = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:missing-AbCdEf';
    const response = await invoke(fakes, 'Create', props({ AuthTokenSecretArn: missing, AuthTokenJsonField: field }));
    expect(response.Reason).toMatch(
      new RegExp(
        `^could not read secret ${missing}: ResourceNotFoundException: .*\\. The admin API key is read from this secret at deploy time: ` +
          `check that it exists, holds the key${inField}, and that the deployer's role may read it\\.$`,
      ),
    );
    expect(fakes.admin.requests).toEqual([]);
  });

  test('without an API key, 401 says that there is none', async () => {
    fakes.admin.route = healthyAdmin((r) => (r.path === '/health' ? { status: 401, body: { message: 'unauthorized' } } : undefined));
    const response = await invoke(fakes, 'Create', props({ AuthTokenSecretArn: undefined }));
    expect(response.Reason).toMatch(/^the admin API rejected no API key \(the environment has no authToken secret\): GET .*\/health answered HTTP 401: unauthorized\./);
    expect(healthProbes()).toHaveLength(1);
  });
});

describe('the Authorization header', () => {
  test('is never sent when there is no API key (no "Bearer undefined")', async () => {
    fakes.admin.route = healthyAdmin(undefined);
    const response = await invoke(fakes, 'Create', props({ AuthTokenSecretArn: undefined, ExpectedServices: ['Greeter'] }));
    expect(response.Status).toBe('SUCCESS');
    expect(fakes.admin.requests.length).toBeGreaterThan(2);
    for (const r of fakes.admin.requests) expect(r.headers).not.toHaveProperty('authorization');
    expect(fakes.secrets.requests).toHaveLength(0);
  });

  test('carries the key as a bearer token, with JSON content and accept headers, on every admin call', async () => {
    const response = await invoke(fakes, 'Create', props({ PruneDrained: 'true' }));
    expect(response.Status).toBe('SUCCESS');
    expect(fakes.admin.requests.map((r) => r.path)).toEqual(['/health', '/deployments', '/services/Greeter', '/deployments']);
    for (const r of fakes.admin.requests) {
      expect(r.headers.authorization).toBe('Bearer key_test_0123456789abcdef');
      expect(r.headers.accept).toBe('application/json');
      expect(r.headers['content-type']).toBe('application/json');
    }
  });
});
