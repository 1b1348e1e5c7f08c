/**
 * Pruning drained deployments after a registration: "keep the N most recent" of this owner's
 * older deployments, whatever order the admin API lists them in; only drained ones are removed;
 * at most MaxPrunedPerRun per run; a failure stops pruning without failing the registration.
 */
import { Route } from './fakes';
import { DEPLOYMENT_ID, deletes, healthyAdmin, invoke, isLambda, LAMBDA_ARN, lambdaProps, listing, logged, OWNER, ROLE_ARN, useFakes } from './harness';
import { statementId } from '../../src/deployer/statement-id';

const fakes = useFakes();
const props = (extra = {}) => lambdaProps(fakes.admin.url, { PruneDrained: 'true', ...extra });
const mine = (id: string, day: number) => ({ id, created_at: `2026-01-${String(day).padStart(2, '0')}T00:00:00Z`, metadata: { 'restate-cloud-cdk.owner': OWNER } });
const pruned = () => deletes(fakes.admin).map((p) => /^\/deployments\/([^?]+)\?force=true$/.exec(p)![1]);

/** Five older deployments of this owner, dp_d1 oldest … dp_d5 newest, and the current one. */
const OLDEST_FIRST = [mine('dp_d1', 1), mine('dp_d2', 2), mine('dp_d3', 3), mine('dp_d4', 4), mine('dp_d5', 5), mine(DEPLOYMENT_ID, 6)];
const SHUFFLED = [OLDEST_FIRST[2], OLDEST_FIRST[5], OLDEST_FIRST[0], OLDEST_FIRST[4], OLDEST_FIRST[1], OLDEST_FIRST[3]];
const NEWEST_FIRST = [...OLDEST_FIRST].reverse();

describe('keep the N most recent', () => {
  test.each([
    ['oldest first', OLDEST_FIRST],
    ['newest first', NEWEST_FIRST],
    ['shuffled', SHUFFLED],
  ])('listed %s: keeps the 2 newest older deployments and removes the rest', async (_order, deployments) => {
    fakes.admin.route = healthyAdmin(listing(deployments));
    const response = await invoke(fakes, 'Create', props({ RevisionHistoryLimit: '2' }));
    expect(response.Status).toBe('SUCCESS');
    expect([...pruned()].sort()).toEqual(['dp_d1', 'dp_d2', 'dp_d3']);
    expect(response.Reason).toMatch(/; pruned \[dp_d3, dp_d2, dp_d1\]$/);
  });

  test.each([
    ['oldest first', OLDEST_FIRST],
    ['shuffled', SHUFFLED],
  ])('listed %s with MaxPrunedPerRun 1: removes the newest beyond the limit first', async (_order, deployments) => {
    fakes.admin.route = healthyAdmin(listing(deployments));
    const response = await invoke(fakes, 'Create', props({ RevisionHistoryLimit: '1', MaxPrunedPerRun: '1' }));
    expect(pruned()).toEqual(['dp_d4']);
    expect(response.Reason).toMatch(/; pruned \[dp_d4\], 3 more left for the next run \(maxPrunedPerRun 1\)$/);
  });

  test('without RevisionHistoryLimit, every older drained deployment is removed, never the current one', async () => {
    fakes.admin.route = healthyAdmin(listing(SHUFFLED));
    const p = props();
    delete (p as { RevisionHistoryLimit?: string }).RevisionHistoryLimit;
    const response = await invoke(fakes, 'Create', p);
    expect([...pruned()].sort()).toEqual(['dp_d1', 'dp_d2', 'dp_d3', 'dp_d4', 'dp_d5']);
    expect(pruned()).not.toContain(DEPLOYMENT_ID);
    expect(response.Reason).toContain('; pruned [dp_d5, dp_d4, dp_d3, dp_d2, dp_d1]');
  });

  test('deployments without created_at count as the oldest', async () => {
    fakes.admin.route = healthyAdmin(listing([{ id: 'dp_undated', metadata: { 'restate-cloud-cdk.owner': OWNER } }, mine('dp_d1', 1), mine('dp_d2', 2)]));
    await invoke(fakes, 'Create', props({ RevisionHistoryLimit: '2' }));
    expect(pruned()).toEqual(['dp_undated']);
  });
});

describe('what is never pruned', () => {
  test("other owners' deployments and deployments without metadata", async () => {
    fakes.admin.route = healthyAdmin(
      listing([
        mine('dp_d1', 1),
        { id: 'dp_theirs', created_at: '2025-01-01T00:00:00Z', metadata: { 'restate-cloud-cdk.owner': `${OWNER}X` } },
        { id: 'dp_bare', created_at: '2025-01-01T00:00:00Z' },
      ]),
    );
    await invoke(fakes, 'Create', props());
    expect(pruned()).toEqual(['dp_d1']);
  });

  test('a deployment with invocations in flight is kept, and the reason says so', async () => {
    fakes.admin.route = healthyAdmin((r) =>
      listing([mine('dp_d1', 1), mine('dp_d2', 2)])(r) ??
      (r.path === '/query' ? { status: 200, body: { rows: [{ count: (r.body.query as string).includes("'dp_d2'") ? 4 : 0 }] } } : undefined),
    );
    const response = await invoke(fakes, 'Create', props());
    expect(pruned()).toEqual(['dp_d1']);
    expect(response.Reason).toMatch(/; pruned \[dp_d1\], kept draining \[dp_d2 \(4 in flight\)\]$/);
    expect(logged(fakes, 'pruned')).toEqual([{ message: 'pruned', removed: ['dp_d1'], kept: ['dp_d2 (4 in flight)'], deferred: 0 }]);
  });

  test('only draining ones older: the reason says they were kept, and nothing was pruned', async () => {
    fakes.admin.route = healthyAdmin((r) => listing([mine('dp_d1', 1)])(r) ?? (r.path === '/query' ? { status: 200, body: { rows: [{ count: 2 }] } } : undefined));
    const response = await invoke(fakes, 'Create', props());
    expect(pruned()).toEqual([]);
    expect(response.Reason).toBe(`Registered Lambda ${LAMBDA_ARN} as ${DEPLOYMENT_ID} with services [Greeter]; pruned [], kept draining [dp_d1 (2 in flight)]`);
  });

  test('without PruneDrained, or without an owner, nothing is listed or removed', async () => {
    fakes.admin.route = healthyAdmin(listing(OLDEST_FIRST));
    await invoke(fakes, 'Create', props({ PruneDrained: 'false' }));
    await invoke(fakes, 'Create', props({ Owner: undefined }));
    expect(fakes.admin.calls().filter((c) => c === 'GET /deployments')).toEqual([]);
    expect(pruned()).toEqual([]);
  });

  test('nothing older: no pruning note in the reason', async () => {
    fakes.admin.route = healthyAdmin(listing([mine(DEPLOYMENT_ID, 6)]));
    const response = await invoke(fakes, 'Create', props());
    expect(response.Reason).toBe(`Registered Lambda ${LAMBDA_ARN} as ${DEPLOYMENT_ID} with services [Greeter]`);
    expect(pruned()).toEqual([]);
    expect(logged(fakes, 'pruned')).toEqual([{ message: 'pruned', removed: [], kept: [], deferred: 0 }]);
  });
});

describe('a failure while pruning', () => {
  test('stops pruning, and the registration still succeeds, saying why', async () => {
    const failing: Route = (r) => (r.method === 'DELETE' && r.path.startsWith('/deployments/dp_d2') ? { status: 500, body: { message: 'locked' } } : undefined);
    fakes.admin.route = healthyAdmin((r) => failing(r) ?? listing(NEWEST_FIRST)(r));
    const response = await invoke(fakes, 'Create', props({ RevisionHistoryLimit: '2' }));
    expect(response.Status).toBe('SUCCESS');
    // Newest first: dp_d3 goes, dp_d2 fails, dp_d1 is not tried.
    expect(deletes(fakes.admin)).toEqual(['/deployments/dp_d3?force=true', '/deployments/dp_d2?force=true']);
    expect(response.Reason).toMatch(new RegExp(`; pruning stopped: DELETE ${fakes.admin.url}/deployments/dp_d2\\?force=true answered HTTP 500: locked$`));
    expect(logged(fakes, 'pruning stopped')).toEqual([
      { message: 'pruning stopped', error: `DELETE ${fakes.admin.url}/deployments/dp_d2?force=true answered HTTP 500: locked` },
    ]);
  });
});

describe('deployment ids from the listing never reach the SQL query unchecked', () => {
  test.each([
    "dp_x' OR '1'='1",
    "x'; DROP TABLE t; --",
    "dp_ok'--",
    "'--dp_ok",
    'dp_a b',
  ])('%j: pruning stops before any query or delete with it', async (id) => {
    fakes.admin.route = healthyAdmin(listing([{ id, created_at: '2026-01-01T00:00:00Z', metadata: { 'restate-cloud-cdk.owner': OWNER } }]));
    const response = await invoke(fakes, 'Create', props());
    expect(response.Status).toBe('SUCCESS');
    expect(response.Reason).toContain(`; pruning stopped: unexpected deployment id ${JSON.stringify(id)}`);
    expect(fakes.admin.requests.filter((r) => r.path === '/query')).toEqual([]);
    expect(deletes(fakes.admin)).toEqual([]);
  });

  test('well-formed ids (letters, digits, underscore) are queried, quoted, one at a time', async () => {
    fakes.admin.route = healthyAdmin(listing([mine('dp_A1b2', 1), mine('dp_z', 2)]));
    await invoke(fakes, 'Create', props());
    expect(fakes.admin.requests.filter((r) => r.path === '/query').map((r) => r.body)).toEqual([
      { query: "SELECT COUNT(*) AS count FROM sys_invocation_status WHERE pinned_deployment_id = 'dp_z' AND status != 'completed'" },
      { query: "SELECT COUNT(*) AS count FROM sys_invocation_status WHERE pinned_deployment_id = 'dp_A1b2' AND status != 'completed'" },
    ]);
    expect(pruned()).toEqual(['dp_z', 'dp_A1b2']);
  });
});

describe("a pruned version's invoke grant (GrantInvoke)", () => {
  const OLD_ARN = 'arn:aws:lambda:us-east-1:111111111111:function:greeter:6';
  const OTHER_ROLE = 'arn:aws:iam::111111111111:role/OtherInvoker';
  const sid = (role: string) => statementId(role, fakes.admin.url);
  const policyPath = (role: string) => `/2015-03-31/functions/${encodeURIComponent(OLD_ARN)}/policy/${sid(role)}`;
  const revokes = () => fakes.admin.requests.filter((r) => r.method === 'DELETE' && isLambda(r.path)).map((r) => r.path.split('?')[0]);
  const old = (extra: object = {}) => ({ ...mine('dp_d1', 1), arn: OLD_ARN, ...extra });
  const granting = (extra = {}) => props({ GrantInvoke: 'true', ...extra });

  test('goes with the pruned deployment: its own role, or else the registration\'s', async () => {
    fakes.admin.route = healthyAdmin(listing([old({ assume_role_arn: OTHER_ROLE })]));
    let response = await invoke(fakes, 'Create', granting());
    expect(pruned()).toEqual(['dp_d1']);
    expect(revokes()).toEqual([policyPath(OTHER_ROLE)]);
    expect(response.Reason).toBe(
      `Registered Lambda ${LAMBDA_ARN} as ${DEPLOYMENT_ID} with services [Greeter]; pruned [dp_d1]; removed the invoker role's invoke permission on ${OLD_ARN}`,
    );

    fakes.admin.requests.length = 0;
    fakes.admin.route = healthyAdmin(listing([old()]));
    response = await invoke(fakes, 'Create', granting());
    expect(revokes()).toEqual([policyPath(ROLE_ARN)]);
  });

  test('stays while another deployment invokes the same version through the same role', async () => {
    const sharing = { id: 'dp_other', arn: OLD_ARN, assume_role_arn: ROLE_ARN, metadata: { 'restate-cloud-cdk.owner': 'someone/else' } };
    fakes.admin.route = healthyAdmin(listing([old({ assume_role_arn: ROLE_ARN }), sharing]));
    const response = await invoke(fakes, 'Create', granting());
    expect(pruned()).toEqual(['dp_d1']);
    expect(revokes()).toEqual([]);
    expect(response.Reason).toMatch(/; pruned \[dp_d1\]$/);
  });

  test('is not touched without GrantInvoke, nor for an HTTP deployment', async () => {
    fakes.admin.route = healthyAdmin(listing([old({ assume_role_arn: ROLE_ARN })]));
    await invoke(fakes, 'Create', props({ GrantInvoke: 'false' }));
    fakes.admin.route = healthyAdmin(listing([{ ...mine('dp_d1', 1), uri: 'https://services.example.com/' }]));
    await invoke(fakes, 'Create', granting());
    expect(pruned()).toEqual(['dp_d1', 'dp_d1']);
    expect(revokes().filter((p) => p.includes(encodeURIComponent(OLD_ARN)))).toEqual([]);
  });
});
