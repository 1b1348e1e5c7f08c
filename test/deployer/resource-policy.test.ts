import { createHash } from 'crypto';
import { deploymentEvent, RecordingServer, Route, servedBy, trustProps, useFakeAwsCredentials } from './fakes';
import { handler } from '../../src/deployer/deployer.lambda';
import { DeploymentResourceProperties } from '../../src/deployer/properties';
import { forgetAllSecrets } from '../../src/deployer/secrets';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:111111111111:function:greeter';
const LAMBDA_ARN = `${FUNCTION_ARN}:7`;
const OLD_LAMBDA_ARN = `${FUNCTION_ARN}:6`;
const ROLE_ARN = 'arn:aws:iam::111111111111:role/RestateInvoker';
const OTHER_ROLE_ARN = 'arn:aws:iam::111111111111:role/OtherInvoker';
const DEPLOYMENT_ID = 'dp_11pXug0mWsff2NOoRBZbOcV';
const OWNER = 'App/Stack/Handler/CurrentVersion/RestateRegistrationABCD1234';
// Computed here rather than imported: the id is part of the contract with existing stacks.
// One statement per role and environment (the admin URL, known once the fake listens).
let SID = '';
const sidFor = (roleArn: string, adminUrl: string) => `restate-invoke-${createHash('sha256').update(`${roleArn}|${adminUrl}`).digest('hex').slice(0, 16)}`;

const policyPath = (fn: string) => `/2015-03-31/functions/${encodeURIComponent(fn)}/policy`;
const addPermission = (fn = LAMBDA_ARN) => `POST ${policyPath(fn)}`;
const removePermission = (fn = LAMBDA_ARN) => `DELETE ${policyPath(fn)}/${SID}`;
const isLambda = (path: string) => path.startsWith('/2015-03-31/');

/**
 * A Lambda error as Lambda's REST API sends it, less the x-amzn-errortype header the fake
 * server cannot set: the SDK then takes the error name from `__type`.
 */
const lambdaError = (status: number, name: string, message: string) => ({ status, body: { Type: 'User', message, __type: name } });
const alreadyExists = () => lambdaError(
  409,
  'ResourceConflictException',
  `The statement id (${SID}) provided already exists. Please provide a new statement id, or remove the existing statement.`,
);

// One server plays both the admin API and the Lambda API, so that the order of calls across
// the two is visible; it lives as long as the file, since the deployer caches its LambdaClient.
let server: RecordingServer;
let cfn: RecordingServer;
/** The deployer's log lines of the current test whose message is `message`. */
let logs: Record<string, unknown>[] = [];
const logged = (message: string) => logs.filter((l) => l.message === message);

/** A healthy admin API with no other deployments, and a Lambda API that grants; `overrides` answer first. */
function route(overrides: Route = () => undefined): Route {
  return (req) => {
    const answer = overrides(req);
    if (answer) return answer;
    if (req.method === 'POST' && isLambda(req.path)) {
      return { status: 201, body: { Statement: JSON.stringify({ Sid: req.body.StatementId, Effect: 'Allow' }) } };
    }
    if (req.method === 'DELETE' && isLambda(req.path)) return { status: 204 };
    if (req.path === '/health') return { status: 200 };
    if (req.method === 'POST' && req.path === '/deployments') {
      return { status: 201, body: { id: DEPLOYMENT_ID, services: [{ name: 'Greeter', revision: 1, public: true }] } };
    }
    if (req.method === 'GET' && req.path === '/deployments') return { status: 200, body: { deployments: [] } };
    if (req.path === '/query') return { status: 200, body: { rows: [{ count: 0 }] } };
    if (req.method === 'DELETE') return { status: 202 };
    return servedBy(DEPLOYMENT_ID)(req);
  };
}

/** Answers GET /deployments with `deployments`. */
const listing = (deployments: object[]): Route => (r) =>
  r.method === 'GET' && r.path === '/deployments' ? { status: 200, body: { deployments } } : undefined;

function props(extra: Partial<DeploymentResourceProperties> = {}): DeploymentResourceProperties {
  return {
    AdminUrl: server.url,
    LambdaArn: LAMBDA_ARN,
    AssumeRoleArn: ROLE_ARN,
    GrantInvoke: 'true',
    Private: 'false',
    Force: 'false',
    Breaking: 'false',
    RemovalPolicy: 'destroy',
    PruneDrained: 'false',
    RevisionHistoryLimit: '0',
    Owner: OWNER,
    HealthTimeoutSeconds: '10',
    ...extra,
  };
}

async function invoke(
  requestType: 'Create' | 'Delete',
  resourceProps: DeploymentResourceProperties,
  opts: { physicalResourceId?: string; remainingMs?: number } = {},
): Promise<any> {
  const event = deploymentEvent(requestType, resourceProps, cfn.url, opts.physicalResourceId);
  trustProps(resourceProps);
  const endsAt = Date.now() + (opts.remainingMs ?? 30_000);
  const before = cfn.requests.length;
  await handler(event, { getRemainingTimeInMillis: () => endsAt - Date.now() });
  const responses = cfn.requests.slice(before);
  expect(responses).toHaveLength(1);
  return responses[0].body;
}

const deleteOf = (extra: Partial<DeploymentResourceProperties> = {}) => invoke('Delete', props(extra), { physicalResourceId: 'dp_abc' });
const lambdaCalls = () => server.calls().filter((c) => isLambda(c.split(' ')[1]));
const addBodies = () => server.requests.filter((r) => r.method === 'POST' && isLambda(r.path)).map((r) => r.body);

beforeAll(async () => {
  server = await RecordingServer.start(route());
  SID = sidFor(ROLE_ARN, server.url);
  cfn = await RecordingServer.start(() => ({ status: 200 }));
  process.env.AWS_ENDPOINT_URL_LAMBDA = server.url;
  useFakeAwsCredentials();
});

beforeEach(() => {
  // Each test starts cold: the deployer caches secrets across invocations of a warm Lambda.
  forgetAllSecrets();
  server.requests.length = 0;
  server.route = route();
  logs = [];
  jest.spyOn(console, 'log').mockImplementation((line: string) => void logs.push(JSON.parse(line)));
});

afterEach(() => {
  jest.restoreAllMocks();
});

afterAll(async () => {
  await Promise.all([server.stop(), cfn.stop()]);
});

describe('Create with GrantInvoke', () => {
  test('grants invoke on the exact version before registering', async () => {
    const response = await invoke('Create', props());
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: DEPLOYMENT_ID });
    expect(server.calls()).toEqual([addPermission(), 'POST /deployments', 'GET /services/Greeter']);
    expect(addBodies()).toEqual([{ StatementId: SID, Action: 'lambda:InvokeFunction', Principal: ROLE_ARN }]);
    expect(server.requests.find((r) => r.path === '/deployments')!.body).toMatchObject({ arn: LAMBDA_ARN, assume_role_arn: ROLE_ARN });
    // The health check comes first: a grant is only made for an environment that answers.
    expect(server.requests[0].path).toBe('/health');
  });

  test('$LATEST is refused: the deployer grants versions and aliases only, and calls nothing', async () => {
    const latest = `${FUNCTION_ARN}:$LATEST`;
    const response = await invoke('Create', props({ LambdaArn: latest }));
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain(`GrantInvoke is true for ${latest}: the deployer grants versions and aliases only`);
    expect(server.calls()).toEqual([]);
  });

  test('a statement that already exists counts as granted', async () => {
    server.route = route((r) => (isLambda(r.path) ? alreadyExists() : undefined));
    const response = await invoke('Create', props());
    expect(response.Status).toBe('SUCCESS');
    expect(server.calls()).toEqual([addPermission(), 'POST /deployments', 'GET /services/Greeter']);
    expect(logged('invoke permission present')).toEqual([{ message: 'invoke permission present', functionName: LAMBDA_ARN, statementId: SID }]);
    expect(logged('invoke permission added')).toEqual([]);
  });

  test('"already exists" counts as granted only from a ResourceConflictException', async () => {
    server.route = route((r) => (isLambda(r.path) ? lambdaError(400, 'InvalidParameterValueException', 'The statement id already exists in another form') : undefined));
    const response = await invoke('Create', props());
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('lambda:AddPermission failed with InvalidParameterValueException: The statement id already exists in another form.');
    expect(server.calls()).toEqual([addPermission()]);
  });

  test('AccessDenied fails naming function, role, action and error, without registering', async () => {
    const denied = `User: arn:aws:sts::111111111111:assumed-role/Deployer/fn is not authorized to perform: lambda:AddPermission on resource: ${LAMBDA_ARN}`;
    server.route = route((r) => (isLambda(r.path) ? lambdaError(403, 'AccessDeniedException', denied) : undefined));
    const response = await invoke('Create', props());
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'restate-failed-create-req-1' });
    expect(response.Reason).toContain(
      `could not grant ${ROLE_ARN} lambda:InvokeFunction on ${LAMBDA_ARN}: lambda:AddPermission failed with AccessDeniedException: ${denied}.`,
    );
    expect(response.Reason).toContain('InvokeGrant.TEMPLATE');
    expect(server.calls()).toEqual([addPermission()]);
  });

  test('a function that does not exist fails with a hint, without registering', async () => {
    server.route = route((r) =>
      isLambda(r.path) ? lambdaError(404, 'ResourceNotFoundException', `Function not found: ${LAMBDA_ARN}`) : undefined,
    );
    const response = await invoke('Create', props());
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('failed with ResourceNotFoundException: Function not found');
    expect(response.Reason).toContain('Check that the function version or alias exists');
    expect(server.calls()).toEqual([addPermission()]);
  });

  test('an update in progress is retried', async () => {
    let n = 0;
    server.route = route((r) =>
      isLambda(r.path) && n++ === 0
        ? lambdaError(409, 'ResourceConflictException', `The operation cannot be performed at this time. An update is in progress for resource: ${LAMBDA_ARN}`)
        : undefined,
    );
    const response = await invoke('Create', props(), { remainingMs: 10_000 });
    expect(response.Status).toBe('SUCCESS');
    expect(server.calls()).toEqual([addPermission(), addPermission(), 'POST /deployments', 'GET /services/Greeter']);
    expect(addBodies()[1]).toEqual(addBodies()[0]);
    expect(logged('retrying invoke permission')).toEqual([
      {
        message: 'retrying invoke permission',
        functionName: LAMBDA_ARN,
        attempt: 1,
        error: `ResourceConflictException: The operation cannot be performed at this time. An update is in progress for resource: ${LAMBDA_ARN}`,
      },
    ]);
  });

  test('throttling that outlasts the SDK\'s own retries is retried by the deployer', async () => {
    // The SDK tries three times; the fourth refusal reaches the deployer, which tries again.
    let n = 0;
    server.route = route((r) => (isLambda(r.path) && n++ < 4 ? lambdaError(429, 'TooManyRequestsException', 'Rate exceeded') : undefined));
    const response = await invoke('Create', props(), { remainingMs: 20_000 });
    expect(response.Status).toBe('SUCCESS');
    expect(lambdaCalls().length).toBeGreaterThan(3);
    expect(logged('retrying invoke permission').map((l) => l.error)).toContain('TooManyRequestsException: Rate exceeded');
  });

  test('a conflict that persists fails within the deadline', async () => {
    server.route = route((r) =>
      isLambda(r.path) ? lambdaError(409, 'ResourceConflictException', 'An update is in progress for resource') : undefined,
    );
    const started = Date.now();
    const response = await invoke('Create', props(), { remainingMs: 5_000 });
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('lambda:AddPermission failed with ResourceConflictException: An update is in progress');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(server.calls()).not.toContain('POST /deployments');
  });

  test('a failed registration removes the statement it added', async () => {
    server.route = route((r) =>
      r.method === 'POST' && r.path === '/deployments'
        ? { status: 400, body: { message: 'bad status code: 403 Forbidden', restate_code: 'META0003' } }
        : undefined,
    );
    const response = await invoke('Create', props());
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('Restate could not discover the service');
    expect(server.calls()).toEqual([addPermission(), 'POST /deployments', removePermission()]);
  });

  test('a failure after registering removes the new deployment, then the statement it added', async () => {
    // Making the service private fails: nothing this Create made may stay.
    server.route = route((r) => (r.method === 'PATCH' ? { status: 400, body: { message: 'refused' } } : undefined));
    const response = await invoke('Create', props({ Private: 'true' }));
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain(`registered ${DEPLOYMENT_ID}, but could not make service Greeter private`);
    expect(response.Reason).toContain(`the new deployment ${DEPLOYMENT_ID} was removed again`);
    expect(server.calls()).toEqual([
      addPermission(), 'POST /deployments', 'GET /services/Greeter', 'PATCH /services/Greeter',
      'POST /query', `DELETE /deployments/${DEPLOYMENT_ID}?force=true`, removePermission(),
    ]);
  });

  test('a failure after registering keeps the new deployment and its statement while invocations are pinned to it', async () => {
    server.route = route((r) =>
      r.method === 'PATCH' ? { status: 400, body: { message: 'refused' } } : r.path === '/query' ? { status: 200, body: { rows: [{ count: 1 }] } } : undefined,
    );
    const response = await invoke('Create', props({ Private: 'true' }));
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain(`the new deployment ${DEPLOYMENT_ID} was kept: 1 invocation(s) are pinned to it`);
    expect(server.calls()).toEqual([addPermission(), 'POST /deployments', 'GET /services/Greeter', 'PATCH /services/Greeter', 'POST /query']);
  });

  test('missing expected services: the new deployment is removed, and then the statement', async () => {
    const response = await invoke('Create', props({ ExpectedServices: ['Checkout'] }));
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain(`the new deployment ${DEPLOYMENT_ID} was removed again`);
    expect(server.calls()).toEqual([addPermission(), 'POST /deployments', 'GET /services/Greeter', 'POST /query', `DELETE /deployments/${DEPLOYMENT_ID}?force=true`, removePermission()]);
  });

  test('a failed registration keeps a statement that was there before', async () => {
    server.route = route((r) =>
      isLambda(r.path) ? alreadyExists() : r.method === 'POST' && r.path === '/deployments' ? { status: 400, body: { message: 'nope' } } : undefined,
    );
    const response = await invoke('Create', props());
    expect(response.Status).toBe('FAILED');
    expect(server.calls()).toEqual([addPermission(), 'POST /deployments']);
  });

  test('without GrantInvoke, or without a role, the Lambda API is never called', async () => {
    for (const extra of [{ GrantInvoke: undefined }, { GrantInvoke: 'false' }, { AssumeRoleArn: undefined, GrantInvoke: undefined }] as const) {
      server.requests.length = 0;
      expect((await invoke('Create', props(extra))).Status).toBe('SUCCESS');
      expect(server.calls()).toEqual(['POST /deployments', 'GET /services/Greeter']);
      server.requests.length = 0;
      expect((await deleteOf(extra)).Status).toBe('SUCCESS');
      expect(server.calls()).toEqual(['GET /deployments/dp_abc', 'POST /query', 'DELETE /deployments/dp_abc?force=true']);
    }
  });
});

describe('Delete with GrantInvoke', () => {
  test('DESTROY removes the deployment, then the statement no other deployment needs', async () => {
    // Same version through another role, or another version through this role: neither needs it.
    server.route = route(
      listing([
        { id: 'dp_abc', arn: LAMBDA_ARN, assume_role_arn: ROLE_ARN },
        { id: 'dp_role', arn: LAMBDA_ARN, assume_role_arn: OTHER_ROLE_ARN },
        { id: 'dp_version', arn: OLD_LAMBDA_ARN, assume_role_arn: ROLE_ARN },
      ]),
    );
    const response = await deleteOf();
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'dp_abc' });
    expect(server.calls()).toEqual(['GET /deployments/dp_abc', 'POST /query', 'DELETE /deployments/dp_abc?force=true', 'GET /deployments', removePermission()]);
    expect(response.Reason).toBe(`Removed deployment dp_abc; removed the invoker role's invoke permission on ${LAMBDA_ARN}.`);
  });

  test('a deployment already gone still has its statement removed', async () => {
    server.route = route((r) => (r.method === 'DELETE' && r.path.startsWith('/deployments/') ? { status: 404, body: { message: 'not found' } } : undefined));
    const response = await deleteOf();
    expect(server.calls()).toEqual(['GET /deployments/dp_abc', 'POST /query', 'DELETE /deployments/dp_abc?force=true', 'GET /deployments', removePermission()]);
    expect(response.Reason).toBe(`Deployment dp_abc was already gone; removed the invoker role's invoke permission on ${LAMBDA_ARN}.`);
  });

  test('DESTROY keeps the statement while another deployment uses the version', async () => {
    // A role left out of the listing is the registration's own.
    server.route = route(listing([{ id: 'dp_abc', arn: LAMBDA_ARN }, { id: 'dp_forced', arn: LAMBDA_ARN }]));
    const response = await deleteOf();
    expect(response.Status).toBe('SUCCESS');
    expect(lambdaCalls()).toEqual([]);
    expect(response.Reason).toBe(`Removed deployment dp_abc; kept the invoker role's invoke permission on ${LAMBDA_ARN}, which dp_forced still use(s).`);
  });

  test('DESTROY keeps the statement when the other deployments cannot be listed', async () => {
    server.route = route((r) => (r.method === 'GET' && r.path === '/deployments' ? { status: 500, body: { message: 'down' } } : undefined));
    const response = await invoke('Delete', props({ Force: 'true' }), { physicalResourceId: 'dp_abc', remainingMs: 10_000 });
    expect(response.Status).toBe('SUCCESS');
    expect(lambdaCalls()).toEqual([]);
    expect(response.Reason).toContain(`Removed deployment dp_abc; kept the invoker role's invoke permission on ${LAMBDA_ARN}, since other deployments could not be listed`);
  });

  test('RETAIN keeps deployment and statement without any call', async () => {
    const response = await deleteOf({ RemovalPolicy: 'retain' });
    expect(response.Status).toBe('SUCCESS');
    expect(server.requests).toHaveLength(0);
    expect(response.Reason).toBe("Retained deployment dp_abc (removal policy RETAIN), with the invoker role's permission to invoke its handler.");
  });

  test('in-flight invocations keep deployment and statement', async () => {
    server.route = route((r) => (r.path === '/query' ? { status: 200, body: { rows: [{ count: 2 }] } } : undefined));
    const response = await deleteOf();
    expect(response.Status).toBe('SUCCESS');
    expect(server.calls()).toEqual(['GET /deployments/dp_abc', 'POST /query']);
    expect(response.Reason).toContain("Kept deployment dp_abc, with the invoker role's permission to invoke its handler: 2 invocation(s) are still pinned");
  });

  test('a statement already gone is a success', async () => {
    server.route = route((r) =>
      r.method === 'DELETE' && isLambda(r.path) ? lambdaError(404, 'ResourceNotFoundException', 'No policy is associated with the given resource.') : undefined,
    );
    const response = await deleteOf();
    expect(response.Status).toBe('SUCCESS');
    expect(lambdaCalls()).toEqual([removePermission()]);
    expect(response.Reason).toBe(`Removed deployment dp_abc; the invoker role's invoke permission on ${LAMBDA_ARN} was already gone.`);
    expect(logged('invoke permission already gone')).toEqual([{ message: 'invoke permission already gone', functionName: LAMBDA_ARN, statementId: SID }]);
  });

  test('a statement that cannot be removed is reported, and Delete still succeeds', async () => {
    server.route = route((r) => (r.method === 'DELETE' && isLambda(r.path) ? lambdaError(500, 'ServiceException', 'internal failure') : undefined));
    const response = await invoke('Delete', props(), { physicalResourceId: 'dp_abc', remainingMs: 10_000 });
    expect(response.Status).toBe('SUCCESS');
    // The SDK retries a 5xx itself: only RemovePermission calls, however many.
    expect(new Set(lambdaCalls())).toEqual(new Set([removePermission()]));
    expect(response.Reason).toBe(
      `Removed deployment dp_abc; the invoker role's invoke permission on ${LAMBDA_ARN} was not removed (ServiceException: internal failure); ` +
        `remove statement ${SID} by hand if it is no longer needed.`,
    );
    expect(logged('invoke permission not removed')).toEqual([
      { message: 'invoke permission not removed', functionName: LAMBDA_ARN, statementId: SID, error: 'ServiceException: internal failure' },
    ]);
  });
});

describe('pruning with GrantInvoke', () => {
  test("a pruned deployment's statement goes with it, unless a remaining deployment uses the version", async () => {
    const mine = (id: string, arn: string, created: string) => ({ id, arn, assume_role_arn: ROLE_ARN, created_at: created, metadata: { 'restate-cloud-cdk.owner': OWNER } });
    server.route = route(
      listing([
        mine(DEPLOYMENT_ID, LAMBDA_ARN, '2026-11-26T10:00:03Z'),
        // Forced re-registration of the current version: pruned, but the current deployment still needs the grant.
        mine('dp_forced', LAMBDA_ARN, '2026-11-26T10:00:02Z'),
        mine('dp_old', OLD_LAMBDA_ARN, '2026-11-26T10:00:01Z'),
      ]),
    );
    const response = await invoke('Create', props({ PruneDrained: 'true' }));
    expect(response.Status).toBe('SUCCESS');
    expect(server.calls()).toEqual([
      addPermission(),
      'POST /deployments',
      'GET /services/Greeter',
      'GET /deployments',
      'POST /query',
      'DELETE /deployments/dp_forced?force=true',
      'POST /query',
      'DELETE /deployments/dp_old?force=true',
      removePermission(OLD_LAMBDA_ARN),
    ]);
    expect(response.Reason).toContain(`; pruned [dp_forced, dp_old]; removed the invoker role's invoke permission on ${OLD_LAMBDA_ARN}`);
  });
});
