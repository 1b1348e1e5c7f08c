/**
 * The invoke statement the deployer keeps for an Update: a grant the old properties had it keep
 * and the new ones no longer use on the same deployment is removed (unless another deployment
 * still uses it); a new deployment id leaves it to the Delete of the old one. And retries of the
 * grant itself.
 */
import { createHash } from 'crypto';
import { DEPLOYMENT_ID, healthyAdmin, invoke, isLambda, LAMBDA_ARN, lambdaProps, listing, ROLE_ARN, useFakes } from './harness';
import { usersOf } from '../../src/deployer/kept-grants';

const fakes = useFakes();
const OLD_ROLE = 'arn:aws:iam::111111111111:role/OldInvoker';
const props = (extra = {}) => lambdaProps(fakes.admin.url, { GrantInvoke: 'true', ...extra });
const sid = (role: string) => `restate-invoke-${createHash('sha256').update(`${role}|${fakes.admin.url}`).digest('hex').slice(0, 16)}`;
const policy = `/2015-03-31/functions/${encodeURIComponent(LAMBDA_ARN)}/policy`;
const lambdaCalls = () => fakes.admin.calls().filter((c) => isLambda(c.split(' ')[1]));

describe('Update of the same deployment', () => {
  test('to another invoker role: the new role is granted, the old statement removed', async () => {
    const response = await invoke(fakes, 'Update', props(), { physicalResourceId: DEPLOYMENT_ID, oldProps: props({ AssumeRoleArn: OLD_ROLE }) });
    expect(response.Status).toBe('SUCCESS');
    expect(lambdaCalls()).toEqual([`POST ${policy}`, `DELETE ${policy}/${sid(OLD_ROLE)}`]);
    expect(response.Reason).toMatch(new RegExp(`; removed the invoker role's invoke permission on ${LAMBDA_ARN}$`));
  });

  test('to GrantInvoke false: the old statement is removed, nothing granted', async () => {
    const response = await invoke(fakes, 'Update', props({ GrantInvoke: 'false' }), { physicalResourceId: DEPLOYMENT_ID, oldProps: props() });
    expect(lambdaCalls()).toEqual([`DELETE ${policy}/${sid(ROLE_ARN)}`]);
    expect(response.Status).toBe('SUCCESS');
  });

  test('the deployment itself, still listed with the old role, does not keep the old statement', async () => {
    fakes.admin.route = healthyAdmin(listing([{ id: DEPLOYMENT_ID, arn: LAMBDA_ARN, assume_role_arn: OLD_ROLE }]));
    await invoke(fakes, 'Update', props(), { physicalResourceId: DEPLOYMENT_ID, oldProps: props({ AssumeRoleArn: OLD_ROLE }) });
    expect(lambdaCalls()).toEqual([`POST ${policy}`, `DELETE ${policy}/${sid(OLD_ROLE)}`]);
  });

  test('to another environment (admin URL): the old environment\'s statement is removed', async () => {
    const oldUrl = 'https://old.example.com:9070';
    const oldSid = `restate-invoke-${createHash('sha256').update(`${ROLE_ARN}|${oldUrl}`).digest('hex').slice(0, 16)}`;
    await invoke(fakes, 'Update', props(), { physicalResourceId: DEPLOYMENT_ID, oldProps: props({ AdminUrl: oldUrl }) });
    expect(lambdaCalls()).toEqual([`POST ${policy}`, `DELETE ${policy}/${oldSid}`]);
  });

  test('with the same grant: nothing is removed', async () => {
    const response = await invoke(fakes, 'Update', props(), { physicalResourceId: DEPLOYMENT_ID, oldProps: props() });
    expect(lambdaCalls()).toEqual([`POST ${policy}`]);
    expect(response.Reason).not.toContain('permission');
  });

  test('when the old properties kept no grant: nothing is removed', async () => {
    await invoke(fakes, 'Update', props(), { physicalResourceId: DEPLOYMENT_ID, oldProps: props({ GrantInvoke: 'false', AssumeRoleArn: OLD_ROLE }) });
    expect(lambdaCalls()).toEqual([`POST ${policy}`]);
  });

  test('the old statement stays while another deployment still uses it', async () => {
    const other = (id: string) => ({ id, arn: LAMBDA_ARN, assume_role_arn: OLD_ROLE });
    fakes.admin.route = healthyAdmin(listing([other('dp_other'), other('dp_third')]));
    const response = await invoke(fakes, 'Update', props(), { physicalResourceId: DEPLOYMENT_ID, oldProps: props({ AssumeRoleArn: OLD_ROLE }) });
    expect(lambdaCalls()).toEqual([`POST ${policy}`]);
    expect(response.Reason).toMatch(new RegExp(`; kept the invoker role's invoke permission on ${LAMBDA_ARN}, which dp_other, dp_third still use\\(s\\)$`));
  });

  test('the old statement stays when the other deployments cannot be listed', async () => {
    fakes.admin.route = healthyAdmin((r) => (r.method === 'GET' && r.path === '/deployments' ? { status: 500, body: { message: 'down' } } : undefined));
    const response = await invoke(fakes, 'Update', props(), { physicalResourceId: DEPLOYMENT_ID, oldProps: props({ AssumeRoleArn: OLD_ROLE }) });
    expect(lambdaCalls()).toEqual([`POST ${policy}`]);
    expect(response.Reason).toContain(`; kept the invoker role's invoke permission on ${LAMBDA_ARN}, since other deployments could not be listed (GET `);
  });
});

describe('Update to a new deployment', () => {
  test('leaves the old grant to the Delete of the old deployment', async () => {
    await invoke(fakes, 'Update', props(), { physicalResourceId: 'dp_previous', oldProps: props({ AssumeRoleArn: OLD_ROLE }) });
    expect(lambdaCalls()).toEqual([`POST ${policy}`]);
  });

  test('of another function version leaves the old version\'s grant alone', async () => {
    const oldArn = 'arn:aws:lambda:us-east-1:111111111111:function:greeter:6';
    await invoke(fakes, 'Update', props(), { physicalResourceId: DEPLOYMENT_ID, oldProps: props({ LambdaArn: oldArn, AssumeRoleArn: OLD_ROLE }) });
    expect(lambdaCalls()).toEqual([`POST ${policy}`]);
  });
});

describe('granting', () => {
  test('a throttled grant is retried', async () => {
    let n = 0;
    fakes.admin.route = healthyAdmin((r) =>
      r.method === 'POST' && isLambda(r.path) && n++ === 0 ? { status: 429, body: { __type: 'TooManyRequestsException', message: 'Rate exceeded', Type: 'User' } } : undefined,
    );
    const response = await invoke(fakes, 'Create', props());
    expect(response.Status).toBe('SUCCESS');
    expect(lambdaCalls().filter((c) => c.startsWith('POST'))).toHaveLength(2);
  });

  test('a failed registration after a grant that was already there leaves it', async () => {
    fakes.admin.route = healthyAdmin((r) =>
      r.method === 'POST' && isLambda(r.path)
        ? { status: 409, body: { __type: 'ResourceConflictException', message: `The statement id (${sid(ROLE_ARN)}) provided already exists.`, Type: 'User' } }
        : r.method === 'POST' && r.path === '/deployments'
          ? { status: 409, body: { message: 'conflict' } }
          : undefined,
    );
    const response = await invoke(fakes, 'Create', props());
    expect(response.Status).toBe('FAILED');
    expect(lambdaCalls()).toEqual([`POST ${policy}`]);
  });
});

describe('grant retries and failures', () => {
  const conflict = { status: 409, body: { __type: 'ResourceConflictException', message: 'An update is in progress for resource', Type: 'User' } };
  const onGrant = (answer: { status: number; body: unknown }) => healthyAdmin((r) => (r.method === 'POST' && isLambda(r.path) ? answer : undefined));

  test('an update in progress that persists is tried seven times at most, then fails naming it', async () => {
    fakes.admin.route = onGrant(conflict);
    const response = await invoke(fakes, 'Create', props(), { remainingMs: 8_000 });
    expect(lambdaCalls()).toEqual(Array(7).fill(`POST ${policy}`));
    expect(response.Reason).toMatch(/^could not grant .* lambda:AddPermission failed with ResourceConflictException: An update is in progress for resource\.$/);
    expect(fakes.admin.calls()).not.toContain('POST /deployments');
  });

  test('no retry when less than a second would be left after the backoff', async () => {
    fakes.admin.route = onGrant(conflict);
    // 2 s left: the deployer works for 1 s of it.
    const response = await invoke(fakes, 'Create', props(), { remainingMs: 2_000 });
    expect(lambdaCalls()).toEqual([`POST ${policy}`]);
    expect(response.Status).toBe('FAILED');
  });

  test('a full resource policy says so', async () => {
    fakes.admin.route = onGrant({ status: 400, body: { __type: 'PolicyLengthExceededException', message: 'policy too long', Type: 'User' } });
    const response = await invoke(fakes, 'Create', props());
    expect(response.Reason).toBe(
      `could not grant ${ROLE_ARN} lambda:InvokeFunction on ${LAMBDA_ARN}: lambda:AddPermission failed with PolicyLengthExceededException: policy too long. ` +
        "The handler's resource policy is full (20 KB): remove statements it no longer needs.",
    );
  });

  test('another error is named as it is, without a hint', async () => {
    fakes.admin.route = onGrant({ status: 400, body: { __type: 'InvalidParameterValueException', message: 'bad principal', Type: 'User' } });
    const response = await invoke(fakes, 'Create', props());
    expect(response.Reason).toBe(
      `could not grant ${ROLE_ARN} lambda:InvokeFunction on ${LAMBDA_ARN}: lambda:AddPermission failed with InvalidParameterValueException: bad principal.`,
    );
  });
});

describe('the region of the Lambda API calls', () => {
  test("is the function's own, whatever the deployer's region", async () => {
    const regionOf = (r: { headers: Record<string, unknown> }) => /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\/lambda\//.exec(String(r.headers.authorization))?.[1];
    for (const region of ['eu-west-1', 'ap-southeast-2', 'eu-west-1']) {
      fakes.admin.requests.length = 0;
      const arn = `arn:aws:lambda:${region}:111111111111:function:greeter:7`;
      await invoke(fakes, 'Create', props({ LambdaArn: arn }));
      const grants = fakes.admin.requests.filter((r) => r.method === 'POST' && isLambda(r.path));
      expect(grants.map(regionOf)).toEqual([region]);
    }
  });
});

describe('events CloudFormation does not send', () => {
  test('a failed Create that carries a physical id still answers with the failed-create id', async () => {
    fakes.admin.route = healthyAdmin((r) => (r.method === 'POST' && r.path === '/deployments' ? { status: 409, body: { message: 'conflict' } } : undefined));
    const response = await invoke(fakes, 'Create', props(), { physicalResourceId: 'dp_crafted' });
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'restate-failed-create-req-1' });
  });
});

describe('which deployments use a grant', () => {
  const target = { lambdaArn: LAMBDA_ARN, roleArn: ROLE_ARN, environment: 'https://admin.example.com' };
  test('the same version through the same role, its own or else the registration\'s, unless gone', () => {
    const deployments = [
      { id: 'dp_same', arn: LAMBDA_ARN, assume_role_arn: ROLE_ARN },
      { id: 'dp_default', arn: LAMBDA_ARN },
      { id: 'dp_gone', arn: LAMBDA_ARN, assume_role_arn: ROLE_ARN },
      { id: 'dp_otherVersion', arn: `${LAMBDA_ARN.slice(0, -1)}6`, assume_role_arn: ROLE_ARN },
      { id: 'dp_otherRole', arn: LAMBDA_ARN, assume_role_arn: OLD_ROLE },
      { id: 'dp_http', uri: 'https://svc.example.com/' },
    ];
    expect(usersOf(target, deployments, ['dp_gone'], ROLE_ARN)).toEqual(['dp_same', 'dp_default']);
    expect(usersOf(target, deployments, ['dp_gone'], OLD_ROLE)).toEqual(['dp_same']);
    expect(usersOf(target, deployments, ['dp_gone'], undefined)).toEqual(['dp_same']);
  });
});
