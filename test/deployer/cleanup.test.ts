/**
 * What a failed registration, and the Delete that follows a failed Create, remove again: only
 * what this request created, only when nothing is pinned to it, and never anything else.
 */
import {
  DEPLOYMENT_ID,
  deletes,
  FAILED_CREATE_ID,
  healthyAdmin,
  invoke,
  lambdaProps,
  listing,
  LOGICAL_ID,
  logged,
  ownedMetadata,
  REQUEST_ID,
  STACK_ID,
  useFakes,
} from './harness';
import { ownerElsewhere } from '../../src/deployer/removal';

const fakes = useFakes();
const props = (extra = {}) => lambdaProps(fakes.admin.url, extra);
const queries = () => fakes.admin.requests.filter((r) => r.path === '/query').map((r) => r.body.query as string);

describe('expected services missing after registering', () => {
  test('a deployment this request created (201) is removed again, and the reason says so', async () => {
    const response = await invoke(fakes, 'Create', props({ ExpectedServices: ['Greeter', 'Counter'] }));
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toBe(
      `discovery of Lambda ${props().LambdaArn} found service(s) [Greeter], but expected service(s) [Counter] were missing. ` +
        'Check that the deployed code binds these services, or correct expectedServices; ' +
        `the new deployment ${DEPLOYMENT_ID} was removed again.`,
    );
    expect(queries()).toEqual([
      `SELECT COUNT(*) AS count FROM sys_invocation_status WHERE pinned_deployment_id = '${DEPLOYMENT_ID}' AND status != 'completed'`,
    ]);
    expect(deletes(fakes.admin)).toEqual([`/deployments/${DEPLOYMENT_ID}?force=true`]);
  });

  test('an existing deployment (200) is never removed: nothing is deleted or counted', async () => {
    fakes.admin.route = healthyAdmin((r) =>
      r.method === 'POST' && r.path === '/deployments'
        ? { status: 200, body: { id: DEPLOYMENT_ID, services: [{ name: 'Greeter', revision: 1, public: true }] } }
        : r.method === 'GET' && r.path === `/deployments/${DEPLOYMENT_ID}`
          ? { status: 200, body: { id: DEPLOYMENT_ID, arn: props().LambdaArn, assume_role_arn: props().AssumeRoleArn, metadata: ownedMetadata('req-0') } }
          : undefined,
    );
    const response = await invoke(fakes, 'Create', props({ ExpectedServices: ['Greeter', 'Counter'] }));
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toMatch(/expected service\(s\) \[Counter\] were missing\. Check that the deployed code binds these services, or correct expectedServices\.$/);
    expect(response.Reason).not.toContain('removed');
    expect(deletes(fakes.admin)).toEqual([]);
    expect(queries()).toEqual([]);
  });

  test('a new deployment with invocations pinned to it is kept, and the reason says how many', async () => {
    fakes.admin.route = healthyAdmin((r) => (r.path === '/query' ? { status: 200, body: { rows: [{ count: 3 }] } } : undefined));
    const response = await invoke(fakes, 'Create', props({ ExpectedServices: ['Counter'] }));
    expect(response.Reason).toMatch(new RegExp(`; the new deployment ${DEPLOYMENT_ID} was kept: 3 invocation\\(s\\) are pinned to it\\.$`));
    expect(deletes(fakes.admin)).toEqual([]);
  });

  test('an in-flight count the query engine answers as a string is honoured', async () => {
    fakes.admin.route = healthyAdmin((r) => (r.path === '/query' ? { status: 200, body: { rows: [{ count: '1' }] } } : undefined));
    const response = await invoke(fakes, 'Create', props({ ExpectedServices: ['Counter'] }));
    expect(response.Reason).toContain('was kept: 1 invocation(s) are pinned to it.');
    expect(deletes(fakes.admin)).toEqual([]);
  });

  test('a 5xx of the in-flight query is retried before removing', async () => {
    let n = 0;
    fakes.admin.route = healthyAdmin((r) => (r.path === '/query' && n++ < 2 ? { status: 500, body: { message: 'partition moving' } } : undefined));
    const response = await invoke(fakes, 'Create', props({ ExpectedServices: ['Counter'] }));
    expect(queries()).toHaveLength(3);
    expect(response.Reason).toMatch(/was removed again\.$/);
    expect(deletes(fakes.admin)).toEqual([`/deployments/${DEPLOYMENT_ID}?force=true`]);
    expect(logged(fakes, 'retrying').map((l) => [l.phase, l.attempt])).toEqual([
      [`counting invocations pinned to ${DEPLOYMENT_ID}`, 1],
      [`counting invocations pinned to ${DEPLOYMENT_ID}`, 2],
    ]);
  });

  test('a deployment already gone (404) is said to be removed already', async () => {
    fakes.admin.route = healthyAdmin((r) => (r.method === 'DELETE' ? { status: 404, body: { message: 'not found' } } : undefined));
    const response = await invoke(fakes, 'Create', props({ ExpectedServices: ['Counter'] }));
    expect(response.Reason).toMatch(new RegExp(`the new deployment ${DEPLOYMENT_ID} was removed already\\.$`));
  });

  test('a removal that fails leaves the deployment, and the reason asks to remove it by hand', async () => {
    fakes.admin.route = healthyAdmin((r) => (r.method === 'DELETE' ? { status: 409, body: { message: 'still in use' } } : undefined));
    const response = await invoke(fakes, 'Create', props({ ExpectedServices: ['Counter'] }));
    expect(response.Reason).toMatch(new RegExp(`the new deployment ${DEPLOYMENT_ID} was not removed \\(DELETE .* answered HTTP 409: still in use\\); remove it by hand\\.$`));
    expect(logged(fakes, 'could not remove deployment')).toEqual([
      { message: 'could not remove deployment', deploymentId: DEPLOYMENT_ID, error: `DELETE ${fakes.admin.url}/deployments/${DEPLOYMENT_ID}?force=true answered HTTP 409: still in use` },
    ]);
  });
});

describe('the Delete after a failed Create', () => {
  const leftover = (id: string, meta: Record<string, string>) => ({ id, created_at: '2026-01-01T00:00:00Z', metadata: meta });

  test.each(['retain', 'destroy'] as const)(
    'under RemovalPolicy %s removes exactly the deployments that Create created, never its physical id',
    async (removalPolicy) => {
      fakes.admin.route = healthyAdmin(
        listing([
          leftover('dp_mine1', ownedMetadata(REQUEST_ID)),
          leftover('dp_mine2', ownedMetadata(REQUEST_ID)),
          leftover('dp_otherRequest', ownedMetadata('req-0')),
          leftover('dp_otherResource', ownedMetadata(REQUEST_ID, { 'restate-cloud-cdk.logical-id': 'Other' })),
          leftover('dp_otherStack', ownedMetadata(REQUEST_ID, { 'restate-cloud-cdk.stack-id': `${STACK_ID}x` })),
          { id: 'dp_noMetadata' },
        ]),
      );
      const response = await invoke(fakes, 'Delete', props({ RemovalPolicy: removalPolicy }), { physicalResourceId: FAILED_CREATE_ID });
      expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: FAILED_CREATE_ID });
      expect(response.Reason).toBe('Undid the failed create: deployment dp_mine1 removed again; deployment dp_mine2 removed again.');
      expect(deletes(fakes.admin)).toEqual(['/deployments/dp_mine1?force=true', '/deployments/dp_mine2?force=true']);
      expect(fakes.admin.calls().some((c) => c.includes('restate-failed-create'))).toBe(false);
    },
  );

  test('under RemovalPolicy destroy, a failed Create that left nothing removes nothing', async () => {
    fakes.admin.route = healthyAdmin(listing([leftover('dp_other', ownedMetadata('req-0'))]));
    const response = await invoke(fakes, 'Delete', props({ RemovalPolicy: 'destroy' }), { physicalResourceId: FAILED_CREATE_ID });
    expect(response).toMatchObject({ Status: 'SUCCESS', Reason: 'Nothing to remove: the failed create left no deployment.' });
    expect(fakes.admin.calls()).toEqual(['GET /deployments']);
  });

  test('a leftover with invocations pinned to it is kept', async () => {
    fakes.admin.route = healthyAdmin((r) =>
      listing([leftover('dp_mine', ownedMetadata(REQUEST_ID))])(r) ?? (r.path === '/query' ? { status: 200, body: { rows: [{ count: 2 }] } } : undefined),
    );
    const response = await invoke(fakes, 'Delete', props({ RemovalPolicy: 'destroy' }), { physicalResourceId: FAILED_CREATE_ID });
    expect(response.Reason).toBe('Undid the failed create: deployment dp_mine kept: 2 invocation(s) are pinned to it.');
    expect(deletes(fakes.admin)).toEqual([]);
  });

  test('with GrantInvoke, the grant goes once every leftover is gone, and stays while one is kept', async () => {
    const lambdaDeletes = () => fakes.admin.requests.filter((r) => r.method === 'DELETE' && r.path.startsWith('/2015-03-31/')).length;
    const granting = props({ RemovalPolicy: 'destroy', GrantInvoke: 'true' });
    fakes.admin.route = healthyAdmin(listing([leftover('dp_mine', ownedMetadata(REQUEST_ID))]));
    let response = await invoke(fakes, 'Delete', granting, { physicalResourceId: FAILED_CREATE_ID });
    expect(response.Reason).toBe(
      `Undid the failed create: deployment dp_mine removed again; removed the invoker role's invoke permission on ${granting.LambdaArn}.`,
    );
    expect(lambdaDeletes()).toBe(1);

    fakes.admin.requests.length = 0;
    fakes.admin.route = healthyAdmin((r) =>
      listing([leftover('dp_mine', ownedMetadata(REQUEST_ID)), leftover('dp_mine2', ownedMetadata(REQUEST_ID))])(r) ??
      (r.path === '/query' ? { status: 200, body: { rows: [{ count: (r.body.query as string).includes("'dp_mine2'") ? 1 : 0 }] } } : undefined),
    );
    response = await invoke(fakes, 'Delete', granting, { physicalResourceId: FAILED_CREATE_ID });
    expect(response.Reason).toBe('Undid the failed create: deployment dp_mine removed again; deployment dp_mine2 kept: 1 invocation(s) are pinned to it.');
    expect(lambdaDeletes()).toBe(0);
  });

  test('an admin API that cannot list says where to look, and the stack goes on', async () => {
    fakes.admin.route = healthyAdmin((r) => (r.method === 'GET' && r.path === '/deployments' ? { status: 500, body: { message: 'down' } } : undefined));
    const response = await invoke(fakes, 'Delete', props({ RemovalPolicy: 'destroy' }), { physicalResourceId: FAILED_CREATE_ID });
    expect(response.Status).toBe('SUCCESS');
    expect(response.Reason).toBe(
      `Could not check what the failed create left (GET ${fakes.admin.url}/deployments answered HTTP 500: down); the stack goes on. ` +
        `Look for deployments with metadata restate-cloud-cdk.created-by=${REQUEST_ID}.`,
    );
    expect(deletes(fakes.admin)).toEqual([]);
  });
});

describe('Delete of a registered deployment', () => {
  test('under RemovalPolicy retain calls nothing and says it was retained', async () => {
    const response = await invoke(fakes, 'Delete', props(), { physicalResourceId: 'dp_abc' });
    expect(response).toMatchObject({ Status: 'SUCCESS', Reason: 'Retained deployment dp_abc (removal policy RETAIN).' });
    expect(fakes.admin.requests).toHaveLength(0);
  });

  test('a physical id that is not a deployment id is never sent to the admin API', async () => {
    // Anchored at both ends: text before the id is refused as text after it is.
    for (const id of ['dp_abc/../x', 'dp_', 'not-a-deployment', "dp_x' OR '1'='1", '../dp_abc', "x' OR id = 'dp_abc"]) {
      const response = await invoke(fakes, 'Delete', props({ RemovalPolicy: 'destroy' }), { physicalResourceId: id });
      expect(response).toMatchObject({ Status: 'SUCCESS', Reason: `Nothing to remove: ${id} is not a Restate deployment id.` });
    }
    expect(fakes.admin.requests).toHaveLength(0);
  });

  test('under destroy, a drained deployment this resource owns is removed', async () => {
    const response = await invoke(fakes, 'Delete', props({ RemovalPolicy: 'destroy' }), { physicalResourceId: 'dp_abc' });
    expect(response.Reason).toBe('Removed deployment dp_abc.');
    expect(fakes.admin.calls()).toEqual(['GET /deployments/dp_abc', 'POST /query', 'DELETE /deployments/dp_abc?force=true']);
  });

  test('under destroy, a deployment that is gone already is not deleted again', async () => {
    fakes.admin.route = healthyAdmin((r) => (r.method === 'GET' && r.path === '/deployments/dp_abc' ? { status: 404, body: { message: 'no such deployment' } } : undefined));
    const response = await invoke(fakes, 'Delete', props({ RemovalPolicy: 'destroy' }), { physicalResourceId: 'dp_abc' });
    expect(response.Reason).toBe('Deployment dp_abc was already gone.');
    expect(deletes(fakes.admin)).toEqual([]);
  });

  test('under destroy with force, invocations in flight do not keep it', async () => {
    fakes.admin.route = healthyAdmin((r) => (r.path === '/query' ? { status: 200, body: { rows: [{ count: 9 }] } } : undefined));
    const response = await invoke(fakes, 'Delete', props({ RemovalPolicy: 'destroy', Force: 'true' }), { physicalResourceId: 'dp_abc' });
    expect(response.Reason).toBe('Removed deployment dp_abc.');
    expect(fakes.admin.calls()).toEqual(['GET /deployments/dp_abc', 'DELETE /deployments/dp_abc?force=true']);
  });

  test('a deployment without ownership metadata is removed; one owned by another resource is kept', async () => {
    fakes.admin.route = healthyAdmin((r) => (r.method === 'GET' && r.path === '/deployments/dp_abc' ? { status: 200, body: { id: 'dp_abc' } } : undefined));
    expect((await invoke(fakes, 'Delete', props({ RemovalPolicy: 'destroy' }), { physicalResourceId: 'dp_abc' })).Reason).toBe('Removed deployment dp_abc.');

    fakes.admin.requests.length = 0;
    fakes.admin.route = healthyAdmin((r) =>
      r.method === 'GET' && r.path === '/deployments/dp_abc'
        ? { status: 200, body: { id: 'dp_abc', metadata: { ...ownedMetadata(), 'restate-cloud-cdk.logical-id': 'Replacement' } } }
        : undefined,
    );
    const response = await invoke(fakes, 'Delete', props({ RemovalPolicy: 'destroy' }), { physicalResourceId: 'dp_abc' });
    expect(response.Reason).toBe(`Kept deployment dp_abc: it is owned by Replacement of stack App ('${lambdaProps('x').Owner}'), which replaced this resource.`);
    expect(deletes(fakes.admin)).toEqual([]);
  });

  test('the same logical id in another stack is another owner', async () => {
    fakes.admin.route = healthyAdmin((r) =>
      r.method === 'GET' && r.path === '/deployments/dp_abc'
        ? { status: 200, body: { id: 'dp_abc', metadata: { 'restate-cloud-cdk.stack-id': 'arn:aws:cloudformation:us-east-1:111111111111:stack/Other/2', 'restate-cloud-cdk.logical-id': LOGICAL_ID } } }
        : undefined,
    );
    const response = await invoke(fakes, 'Delete', props({ RemovalPolicy: 'destroy' }), { physicalResourceId: 'dp_abc' });
    expect(response.Reason).toBe(`Kept deployment dp_abc: it is owned by ${LOGICAL_ID} of stack Other, which replaced this resource.`);
    expect(deletes(fakes.admin)).toEqual([]);
  });

  test('an admin API error leaves it, and the stack goes on', async () => {
    fakes.admin.route = healthyAdmin((r) => (r.method === 'GET' && r.path === '/deployments/dp_abc' ? { status: 500, body: { message: 'down' } } : undefined));
    const response = await invoke(fakes, 'Delete', props({ RemovalPolicy: 'destroy' }), { physicalResourceId: 'dp_abc' });
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      Reason: `Deployment dp_abc was not removed (GET ${fakes.admin.url}/deployments/dp_abc answered HTTP 500: down); the stack goes on. Remove it by hand if it is no longer needed.`,
    });
  });
});

describe('who else owns a deployment', () => {
  const resource = { stackId: STACK_ID, logicalId: LOGICAL_ID, requestId: REQUEST_ID };
  test('only metadata naming both a stack and a logical id names an owner', () => {
    expect(ownerElsewhere({ id: 'dp_1', metadata: { 'restate-cloud-cdk.stack-id': STACK_ID } }, resource)).toBeUndefined();
    expect(ownerElsewhere({ id: 'dp_1', metadata: { 'restate-cloud-cdk.logical-id': 'Other' } }, resource)).toBeUndefined();
    expect(ownerElsewhere({ id: 'dp_1' }, resource)).toBeUndefined();
    expect(ownerElsewhere({ id: 'dp_1', metadata: ownedMetadata() }, resource)).toBeUndefined();
    expect(ownerElsewhere({ id: 'dp_1', metadata: ownedMetadata('req-0', { 'restate-cloud-cdk.logical-id': 'Other' }) }, resource)).toMatch(/^Other of stack App/);
  });
});
