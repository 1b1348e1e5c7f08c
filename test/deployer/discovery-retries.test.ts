/**
 * Discovery failures at registration: for a Lambda, only AWS refusing (AssumeRole or Invoke
 * denied, a grant not effective yet) is retried, for AuthRetrySeconds; for an HTTP endpoint,
 * any discovery failure, for DiscoveryRetrySeconds when set. The others are final at once.
 */
import { capturedFailure } from './discovery-messages';
import { DEPLOYMENT_ID, healthyAdmin, invoke, lambdaProps, logged, registerCount, ROLE_ARN, useFakes } from './harness';
import { DiscoveryFailureKind } from '../../src/deployer/discovery-error';

const fakes = useFakes();
const props = (extra = {}) => lambdaProps(fakes.admin.url, extra);
const httpProps = (extra = {}) => props({ LambdaArn: undefined, AssumeRoleArn: undefined, Uri: 'https://services.example.com/greeter/', ...extra });

/** The first `times` registrations fail discovery with the captured `kind` (all of them when undefined). */
function failDiscovery(kind: DiscoveryFailureKind, times = Infinity) {
  const f = capturedFailure(kind);
  let n = 0;
  fakes.admin.route = healthyAdmin((r) =>
    r.method === 'POST' && r.path === '/deployments' && n++ < times ? { status: 500, body: { message: f.message, restate_code: f.code } } : undefined,
  );
}

describe('a Lambda', () => {
  test.each<DiscoveryFailureKind>(['assume-role-denied', 'invoke-denied'])('%s is retried until the grant takes effect, and logged as such', async (kind) => {
    failDiscovery(kind, 2);
    const response = await invoke(fakes, 'Create', props());
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: DEPLOYMENT_ID });
    expect(registerCount(fakes.admin)).toBe(3);
    const retries = logged(fakes, 'discovery failed; retrying');
    expect(retries.map((l) => l.attempt)).toEqual([1, 2]);
    expect(retries[0]).toMatchObject({ phase: expect.stringContaining('registering Lambda'), last: `HTTP 500: ${capturedFailure(kind).summary}` });
    expect(logged(fakes, 'retrying')).toEqual([]);
  });

  test('refused for longer than AuthRetrySeconds fails, naming the role and the time tried', async () => {
    failDiscovery('assume-role-denied');
    const started = Date.now();
    const response = await invoke(fakes, 'Create', props({ AuthRetrySeconds: '1' }));
    const tookMs = Date.now() - started;
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain(`Restate could not assume role ${ROLE_ARN}, for 1 s: check`);
    // Attempts every 250 ms (the backoff floor, no jitter here) within the second.
    expect(registerCount(fakes.admin)).toBeGreaterThanOrEqual(3);
    expect(registerCount(fakes.admin)).toBeLessThanOrEqual(6);
    expect(tookMs).toBeGreaterThanOrEqual(700);
    expect(tookMs).toBeLessThan(5_000);
  });

  test('AuthRetrySeconds 0: one attempt', async () => {
    failDiscovery('invoke-denied');
    const response = await invoke(fakes, 'Create', props({ AuthRetrySeconds: '0' }));
    expect(response.Reason).toContain(`Role ${ROLE_ARN} may not invoke ${props().LambdaArn}: the version's resource policy`);
    expect(registerCount(fakes.admin)).toBe(1);
  });

  test.each<DiscoveryFailureKind>(['function-not-found', 'handler-error', 'not-restate', 'other'])('%s is final: one attempt', async (kind) => {
    failDiscovery(kind);
    const response = await invoke(fakes, 'Create', props());
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain(capturedFailure(kind).summary);
    expect(registerCount(fakes.admin)).toBe(1);
    expect(logged(fakes, 'discovery failed; retrying')).toEqual([]);
  });
});

describe('an HTTP endpoint', () => {
  test('without DiscoveryRetrySeconds, a discovery failure is final', async () => {
    failDiscovery('other');
    const response = await invoke(fakes, 'Create', httpProps());
    expect(response.Reason).toContain('Restate could not discover the service');
    expect(registerCount(fakes.admin)).toBe(1);
  });

  test('with DiscoveryRetrySeconds, any discovery failure is retried within that time', async () => {
    failDiscovery('not-restate');
    const response = await invoke(fakes, 'Create', httpProps({ DiscoveryRetrySeconds: '1' }));
    expect(response.Reason).toContain('answered, but not as a Restate endpoint');
    expect(registerCount(fakes.admin)).toBeGreaterThanOrEqual(3);
    expect(registerCount(fakes.admin)).toBeLessThanOrEqual(6);
  });

  test('with DiscoveryRetrySeconds, 5xx answers that are not discovery failures keep their own cap of four retries', async () => {
    fakes.admin.route = healthyAdmin((r) => (r.method === 'POST' && r.path === '/deployments' ? { status: 503, body: { message: 'partition unavailable' } } : undefined));
    const response = await invoke(fakes, 'Create', httpProps({ DiscoveryRetrySeconds: '30' }), { remainingMs: 20_000 });
    expect(response.Reason).toContain('answered HTTP 503: partition unavailable');
    expect(registerCount(fakes.admin)).toBe(5);
    expect(logged(fakes, 'retrying').map((l) => l.attempt)).toEqual([1, 2, 3, 4]);
    expect(logged(fakes, 'retrying')[0].last).toBe(`POST ${fakes.admin.url}/deployments answered HTTP 503: partition unavailable`);
  });
});
