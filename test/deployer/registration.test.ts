/**
 * A registration from health to answer: the request body, the reason and attributes given to
 * CloudFormation, when an existing deployment (200) is re-registered with force and why, the
 * visibility and the checks after registering.
 */
import { Route } from './fakes';
import {
  DEPLOYMENT_ID,
  deletes,
  healthyAdmin,
  invoke,
  LAMBDA_ARN,
  lambdaProps,
  logged,
  LOGICAL_ID,
  ownedMetadata,
  REQUEST_ID,
  ROLE_ARN,
  STACK_ID,
  useFakes,
} from './harness';

const fakes = useFakes();
const props = (extra = {}) => lambdaProps(fakes.admin.url, extra);
const registerBodies = () => fakes.admin.requests.filter((r) => r.method === 'POST' && r.path === '/deployments').map((r) => r.body);
const existing = (deployment: object, services: object[] = [{ name: 'Greeter', revision: 1, public: true }]): Route =>
  healthyAdmin((r) =>
    r.method === 'POST' && r.path === '/deployments'
      ? { status: 200, body: { id: DEPLOYMENT_ID, services } }
      : r.method === 'GET' && r.path === `/deployments/${DEPLOYMENT_ID}`
        ? { status: 200, body: { id: DEPLOYMENT_ID, arn: LAMBDA_ARN, assume_role_arn: ROLE_ARN, metadata: ownedMetadata('req-0'), ...deployment } }
        : undefined,
  );

describe('a new deployment (201)', () => {
  test('is reported with its services and attributes', async () => {
    fakes.admin.route = healthyAdmin(undefined, { services: [{ name: 'Greeter', revision: 1, public: true }, { name: 'Counter', revision: 1, public: true }] });
    const response = await invoke(fakes, 'Create', props());
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: DEPLOYMENT_ID,
      Reason: `Registered Lambda ${LAMBDA_ARN} as ${DEPLOYMENT_ID} with services [Greeter, Counter]`,
      Data: { DeploymentId: DEPLOYMENT_ID, ServiceNames: 'Greeter,Counter' },
    });
    expect(registerBodies()).toHaveLength(1);
    expect(registerBodies()[0]).toMatchObject({ arn: LAMBDA_ARN, assume_role_arn: ROLE_ARN, force: false, breaking: false });
    expect(registerBodies()[0]).not.toHaveProperty('uri');
    expect(registerBodies()[0]).not.toHaveProperty('additional_headers');
    expect(registerBodies()[0]).not.toHaveProperty('use_http_11');
  });

  test("the server's notes are appended, with their codes", async () => {
    fakes.admin.route = healthyAdmin((r) =>
      r.method === 'POST' && r.path === '/deployments'
        ? { status: 201, body: { id: DEPLOYMENT_ID, services: [{ name: 'Greeter', public: true }], info: [{ code: 'META0020', message: 'a' }, { code: null, message: 'b' }] } }
        : undefined,
    );
    const response = await invoke(fakes, 'Create', props());
    expect(response.Reason).toBe(`Registered Lambda ${LAMBDA_ARN} as ${DEPLOYMENT_ID} with services [Greeter]; Restate noted: [META0020] a; b`);
    expect(logged(fakes, 'restate notes')).toEqual([{ message: 'restate notes', info: [{ code: 'META0020', message: 'a' }, { code: null, message: 'b' }] }]);
  });

  test('an HTTP endpoint sends uri, no arn or role; use_http_11 false when asked', async () => {
    const uri = 'https://svc.example.com/greeter';
    await invoke(fakes, 'Create', props({ LambdaArn: undefined, AssumeRoleArn: undefined, Uri: uri, UseHttp11: 'false', AdditionalHeaders: { 'x-a': 'b' } }));
    expect(registerBodies()[0]).toMatchObject({ uri, use_http_11: false, additional_headers: { 'x-a': 'b' } });
    expect(registerBodies()[0]).not.toHaveProperty('arn');
    expect(registerBodies()[0]).not.toHaveProperty('assume_role_arn');
  });

  test('a Lambda endpoint never sends use_http_11, and HTTPS is only required of URIs', async () => {
    await invoke(fakes, 'Create', props({ RequireHttps: 'true' }));
    expect(registerBodies()[0]).not.toHaveProperty('use_http_11');
  });

  test('plain HTTP where HTTPS is required is refused with the fix', async () => {
    const response = await invoke(fakes, 'Create', props({ LambdaArn: undefined, AssumeRoleArn: undefined, Uri: 'http://svc.example.com', RequireHttps: 'true' }));
    expect(response.Reason).toBe(
      'endpoint http://svc.example.com is not HTTPS, but the environment requires HTTPS: serve it over https://, or register with allowInsecureHttp: true.',
    );
    expect(fakes.admin.requests).toHaveLength(0);
    const ok = await invoke(fakes, 'Create', props({ LambdaArn: undefined, AssumeRoleArn: undefined, Uri: 'http://svc.example.com', RequireHttps: 'false' }));
    expect(ok.Status).toBe('SUCCESS');
  });

  test('a secret header that cannot be read fails naming the header, before registering', async () => {
    const missing = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:missing-AbCdEf';
    const response = await invoke(fakes, 'Create', props({ LambdaArn: undefined, AssumeRoleArn: undefined, Uri: 'https://svc.example.com', SecretHeaders: [{ Name: 'x-key', SecretArn: missing }] }));
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toMatch(new RegExp(`^header 'x-key': could not read secret ${missing}: ResourceNotFoundException`));
    expect(registerBodies()).toHaveLength(0);
  });
});

describe('an existing deployment (200)', () => {
  test('that serves, is owned by this resource and unchanged: no second registration', async () => {
    fakes.admin.route = existing({});
    const response = await invoke(fakes, 'Create', props());
    expect(registerBodies()).toHaveLength(1);
    expect(response.Reason).toBe(`Already registered Lambda ${LAMBDA_ARN} as ${DEPLOYMENT_ID} with services [Greeter]`);
  });

  test.each([
    ['its invoker role changed', { assume_role_arn: 'arn:aws:iam::111111111111:role/Old' }, 'req-0'],
    ['its invoker role changed', { assume_role_arn: null }, 'req-0'],
    ['its headers changed', { additional_headers: { 'x-a': 'b' } }, 'req-0'],
    [`adopted from Other of stack App ('${lambdaProps('x').Owner}')`, { metadata: { ...ownedMetadata('req-7'), 'restate-cloud-cdk.logical-id': 'Other' } }, 'req-7'],
    ["adopted from 'someone/else'", { metadata: { 'restate-cloud-cdk.owner': 'someone/else' } }, ''],
    ['adopted from a registration made outside this stack', { metadata: {} }, ''],
    ['adopted from a registration made outside this stack', { metadata: undefined }, ''],
  ])('is re-registered with force when %s, keeping who created it', async (why, deployment, createdBy) => {
    fakes.admin.route = existing(deployment);
    const response = await invoke(fakes, 'Create', props());
    const bodies = registerBodies();
    expect(bodies.map((b) => b.force)).toEqual([false, true]);
    expect(bodies[1].metadata['restate-cloud-cdk.created-by']).toBe(createdBy);
    expect(response.Reason).toBe(
      `Re-registered Lambda ${LAMBDA_ARN} as ${DEPLOYMENT_ID} with services [Greeter]; promoted ${DEPLOYMENT_ID} (${why}), so that it serves [Greeter]`,
    );
  });

  test('headers are compared without regard to case of their names', async () => {
    const uri = 'https://svc.example.com/greeter';
    fakes.admin.route = existing({ arn: undefined, assume_role_arn: undefined, uri, additional_headers: { 'X-A': 'b' } });
    const response = await invoke(fakes, 'Create', props({ LambdaArn: undefined, AssumeRoleArn: undefined, Uri: uri, AdditionalHeaders: { 'x-a': 'b' } }));
    expect(registerBodies()).toHaveLength(1);
    expect(response.Reason).toMatch(/^Already registered/);
  });

  test('an HTTP deployment whose HTTP version changed is re-registered', async () => {
    const uri = 'https://svc.example.com/greeter';
    fakes.admin.route = existing({ arn: undefined, assume_role_arn: undefined, uri });
    const response = await invoke(fakes, 'Create', props({ LambdaArn: undefined, AssumeRoleArn: undefined, Uri: uri, UseHttp11: 'true' }));
    expect(registerBodies().map((b) => b.force)).toEqual([false, true]);
    expect(response.Reason).toContain('(its HTTP version changed)');
    // The same version: left alone.
    fakes.admin.requests.length = 0;
    fakes.admin.route = existing({ arn: undefined, assume_role_arn: undefined, uri, use_http_11: true });
    await invoke(fakes, 'Create', props({ LambdaArn: undefined, AssumeRoleArn: undefined, Uri: uri, UseHttp11: 'true' }));
    expect(registerBodies()).toHaveLength(1);
    // Not set: whatever version it has is left alone.
    fakes.admin.requests.length = 0;
    await invoke(fakes, 'Create', props({ LambdaArn: undefined, AssumeRoleArn: undefined, Uri: uri }));
    expect(registerBodies()).toHaveLength(1);
  });

  test('with Force set, the first registration is already forced, and nothing is compared', async () => {
    fakes.admin.route = existing({ assume_role_arn: 'arn:aws:iam::111111111111:role/Old' });
    const response = await invoke(fakes, 'Create', props({ Force: 'true' }));
    expect(registerBodies().map((b) => b.force)).toEqual([true]);
    expect(fakes.admin.calls()).not.toContain(`GET /deployments/${DEPLOYMENT_ID}`);
    expect(response.Reason).toMatch(/^Already registered/);
  });

  test('a re-registration that answers another deployment fails, naming both', async () => {
    let n = 0;
    fakes.admin.route = healthyAdmin((r) =>
      r.method === 'POST' && r.path === '/deployments'
        ? { status: 200, body: { id: n++ === 0 ? DEPLOYMENT_ID : 'dp_other', services: [{ name: 'Greeter', public: true }] } }
        : r.method === 'GET' && r.path === `/deployments/${DEPLOYMENT_ID}`
          ? { status: 200, body: { id: DEPLOYMENT_ID, arn: LAMBDA_ARN, metadata: ownedMetadata() } }
          : undefined,
    );
    const response = await invoke(fakes, 'Create', props());
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toBe(
      `re-registering Lambda ${LAMBDA_ARN} with force answered deployment dp_other, not ${DEPLOYMENT_ID}; check the admin API's deployments.`,
    );
  });

  test('a deployment the admin API no longer finds is not re-registered for ownership', async () => {
    fakes.admin.route = healthyAdmin((r) =>
      r.method === 'POST' && r.path === '/deployments'
        ? { status: 200, body: { id: DEPLOYMENT_ID, services: [{ name: 'Greeter', public: true }] } }
        : r.method === 'GET' && r.path === `/deployments/${DEPLOYMENT_ID}`
          ? { status: 404, body: { message: 'gone' } }
          : undefined,
    );
    const response = await invoke(fakes, 'Create', props());
    expect(registerBodies()).toHaveLength(1);
    expect(response.Status).toBe('SUCCESS');
  });

  test('a failure after re-registering says that it still serves, and removes nothing', async () => {
    fakes.admin.route = existing({ assume_role_arn: 'arn:aws:iam::111111111111:role/Old' });
    const response = await invoke(fakes, 'Create', props({ ExpectedServices: ['Counter'] }));
    expect(response.Reason).toMatch(new RegExp(`or correct expectedServices; ${DEPLOYMENT_ID} had already been re-registered to serve, and still does\\.$`));
    expect(deletes(fakes.admin)).toEqual([]);
  });
});

describe('after registering', () => {
  test('services are made private or public as asked; a failure says which', async () => {
    fakes.admin.route = healthyAdmin((r) => (r.method === 'PATCH' ? { status: 500, body: { message: 'nope' } } : undefined));
    const response = await invoke(fakes, 'Create', props({ Private: 'true' }));
    expect(response.Reason).toMatch(
      new RegExp(`^registered ${DEPLOYMENT_ID}, but could not make service Greeter private: PATCH ${fakes.admin.url}/services/Greeter answered HTTP 500: nope; the new deployment ${DEPLOYMENT_ID} was removed again\\.$`),
    );
    fakes.admin.route = healthyAdmin((r) => (r.method === 'PATCH' ? { status: 500, body: { message: 'nope' } } : undefined), { services: [{ name: 'Greeter', public: false }] });
    const again = await invoke(fakes, 'Create', props({ Private: 'false' }));
    expect(again.Reason).toMatch(/could not make service Greeter public: /);
  });

  test('a service already as asked is left alone', async () => {
    fakes.admin.route = healthyAdmin(undefined, { services: [{ name: 'Greeter', public: false }] });
    await invoke(fakes, 'Create', props({ Private: 'true' }));
    expect(fakes.admin.requests.filter((r) => r.method === 'PATCH')).toEqual([]);
  });

  test('an older revision serving fails, naming it; a newer one is accepted and named', async () => {
    fakes.admin.route = healthyAdmin((r) =>
      r.method === 'GET' && r.path === '/services/Greeter' ? { status: 200, body: { name: 'Greeter', deployment_id: 'dp_old', revision: 1 } } : undefined,
    );
    const older = await invoke(fakes, 'Create', props());
    expect(older.Reason).toMatch(
      new RegExp(`^registered Lambda ${LAMBDA_ARN} as ${DEPLOYMENT_ID}, but \\[Greeter is served by dp_old \\(revision 1\\)\\]\\. Another registration of the same services may have run at the same time: deploy again`),
    );
    fakes.admin.route = healthyAdmin((r) =>
      r.method === 'GET' && r.path === '/services/Greeter' ? { status: 200, body: { name: 'Greeter', deployment_id: 'dp_new', revision: 2 } } : undefined,
    );
    const newer = await invoke(fakes, 'Create', props());
    expect(newer.Status).toBe('SUCCESS');
    expect(newer.Reason).toBe(
      `Registered Lambda ${LAMBDA_ARN} as ${DEPLOYMENT_ID} with services [Greeter]; [Greeter is already served by dp_new (revision 2), registered after this one]`,
    );
  });

  test('a service discovered without a revision counts as older than any serving one', async () => {
    fakes.admin.route = healthyAdmin(
      (r) => (r.method === 'GET' && r.path === '/services/Greeter' ? { status: 200, body: { name: 'Greeter', deployment_id: 'dp_x', revision: 5 } } : undefined),
      { services: [{ name: 'Greeter', public: true }] },
    );
    const response = await invoke(fakes, 'Create', props());
    expect(response.Status).toBe('FAILED');
  });

  test('the deployment metadata names this resource and request', async () => {
    await invoke(fakes, 'Create', props());
    expect(registerBodies()[0].metadata).toMatchObject({
      'restate-cloud-cdk.stack-id': STACK_ID,
      'restate-cloud-cdk.logical-id': LOGICAL_ID,
      'restate-cloud-cdk.created-by': 'req-1',
    });
  });
});

describe('the details reasons and requests are made of', () => {
  const http = (extra = {}) => props({ LambdaArn: undefined, AssumeRoleArn: undefined, Uri: 'https://svc.example.com/greeter', ...extra });
  const serving = (byService: Record<string, [string, number]>): Route => (r) => {
    const m = /^\/services\/([^/?]+)$/.exec(r.path);
    if (r.method !== 'GET' || !m) return undefined;
    const [deployment_id, revision] = byService[decodeURIComponent(m[1])] ?? [DEPLOYMENT_ID, 1];
    return { status: 200, body: { name: decodeURIComponent(m[1]), deployment_id, revision } };
  };

  test('a 201 without a service list registers no services', async () => {
    fakes.admin.route = healthyAdmin((r) => (r.method === 'POST' && r.path === '/deployments' ? { status: 201, body: { id: DEPLOYMENT_ID } } : undefined));
    const response = await invoke(fakes, 'Create', props());
    expect(response).toMatchObject({ Status: 'SUCCESS', Reason: `Registered Lambda ${LAMBDA_ARN} as ${DEPLOYMENT_ID} with services []`, Data: { ServiceNames: '' } });
    expect(fakes.admin.requests.filter((r) => r.method === 'PATCH')).toEqual([]);
  });

  test('HTTPS where HTTPS is required registers; use_http_11 is sent only when set, and never for a Lambda', async () => {
    expect((await invoke(fakes, 'Create', http({ RequireHttps: 'true' }))).Status).toBe('SUCCESS');
    expect(registerBodies()[0]).not.toHaveProperty('use_http_11');
    fakes.admin.requests.length = 0;
    await invoke(fakes, 'Create', props({ UseHttp11: 'true' }));
    expect(registerBodies()[0]).not.toHaveProperty('use_http_11');
  });

  test('a Lambda deployment is never re-registered for its HTTP version', async () => {
    fakes.admin.route = existing({ use_http_11: false });
    await invoke(fakes, 'Create', props({ UseHttp11: 'true' }));
    expect(registerBodies()).toHaveLength(1);
  });

  test('adopted from another stack with the same logical id', async () => {
    fakes.admin.route = existing({ metadata: { ...ownedMetadata('req-7'), 'restate-cloud-cdk.stack-id': 'arn:aws:cloudformation:us-east-1:111111111111:stack/Other/2' } });
    const response = await invoke(fakes, 'Create', props());
    expect(response.Reason).toContain(`; promoted ${DEPLOYMENT_ID} (adopted from ${LOGICAL_ID} of stack Other (`);
  });

  test('a deployment the admin API no longer finds, whose services others serve, is re-registered created by no one', async () => {
    fakes.admin.route = healthyAdmin((r) =>
      r.method === 'POST' && r.path === '/deployments'
        ? { status: 200, body: { id: DEPLOYMENT_ID, services: [{ name: 'Greeter', revision: 2 }] } }
        : r.method === 'GET' && r.path === `/deployments/${DEPLOYMENT_ID}`
          ? { status: 404, body: { message: 'gone' } }
          : serving({ Greeter: [registerBodies().length > 1 ? DEPLOYMENT_ID : 'dp_other', 1] })(r),
    );
    const response = await invoke(fakes, 'Create', props());
    expect(response.Status).toBe('SUCCESS');
    expect(registerBodies().map((b) => [b.force, b.metadata['restate-cloud-cdk.created-by']])).toEqual([[false, REQUEST_ID], [true, '']]);
  });

  test('every reason to re-register is named; the services the re-registration answers are the ones reported', async () => {
    let n = 0;
    fakes.admin.route = healthyAdmin((r) => {
      if (r.method === 'POST' && r.path === '/deployments') {
        const services = n++ === 0 ? [{ name: 'Greeter', revision: 2 }, { name: 'Counter', revision: 2 }] : [{ name: 'Greeter', revision: 3 }, { name: 'Counter', revision: 3 }, { name: 'Ticker', revision: 1 }];
        return { status: 200, body: { id: DEPLOYMENT_ID, services } };
      }
      if (r.method === 'GET' && r.path === `/deployments/${DEPLOYMENT_ID}`) {
        return { status: 200, body: { id: DEPLOYMENT_ID, arn: LAMBDA_ARN, assume_role_arn: 'arn:aws:iam::111111111111:role/Old', metadata: ownedMetadata('req-0') } };
      }
      return serving(n > 1 ? {} : { Greeter: ['dp_a', 2], Counter: ['dp_b', 2] })(r);
    });
    const response = await invoke(fakes, 'Create', props());
    const why = '[Greeter was served by dp_a (revision 2), Counter was served by dp_b (revision 2)]; its invoker role changed';
    expect(response.Reason).toBe(
      `Re-registered Lambda ${LAMBDA_ARN} as ${DEPLOYMENT_ID} with services [Greeter, Counter, Ticker]; ` +
        `promoted ${DEPLOYMENT_ID} (${why}), so that it serves [Greeter, Counter, Ticker]`,
    );
    expect(fakes.logs.find((l) => l.message === 're-registered')).toEqual({ message: 're-registered', deploymentId: DEPLOYMENT_ID, why: why.split('; ') });
  });

  test('headers are the same whatever their order and the case of their names', async () => {
    fakes.admin.route = existing({ additional_headers: { 'X-B': '2', 'x-a': '1' } });
    await invoke(fakes, 'Create', props({ AdditionalHeaders: { 'X-A': '1', 'x-b': '2' } }));
    expect(registerBodies()).toHaveLength(1);
    fakes.admin.requests.length = 0;
    fakes.admin.route = existing({ additional_headers: { 'x-a': '1' } });
    await invoke(fakes, 'Create', props({ AdditionalHeaders: { 'x-a': 'other' } }));
    expect(registerBodies()).toHaveLength(2);
  });

  test('older revisions serving several services are all named; newer ones are named and logged', async () => {
    fakes.admin.route = healthyAdmin(serving({ Greeter: ['dp_old', 1], Counter: ['dp_older', 1] }), {
      services: [{ name: 'Greeter', revision: 2 }, { name: 'Counter', revision: 2 }],
    });
    let response = await invoke(fakes, 'Create', props());
    expect(response.Reason).toMatch(
      new RegExp(`^registered Lambda ${LAMBDA_ARN} as ${DEPLOYMENT_ID}, but \\[Greeter is served by dp_old \\(revision 1\\), Counter is served by dp_older \\(revision 1\\)\\]\\. Another registration`),
    );
    fakes.admin.route = healthyAdmin(serving({ Greeter: ['dp_new', 3], Counter: ['dp_newer', 4] }), {
      services: [{ name: 'Greeter', revision: 2 }, { name: 'Counter', revision: 3 }],
    });
    response = await invoke(fakes, 'Create', props());
    expect(response.Reason).toBe(
      `Registered Lambda ${LAMBDA_ARN} as ${DEPLOYMENT_ID} with services [Greeter, Counter]; ` +
        '[Greeter is already served by dp_new (revision 3), registered after this one, Counter is already served by dp_newer (revision 4), registered after this one]',
    );
    expect(fakes.logs.filter((l) => l.message === 'a newer revision serves')).toEqual([
      { message: 'a newer revision serves', deploymentId: DEPLOYMENT_ID, services: ['Greeter: dp_new (revision 3)', 'Counter: dp_newer (revision 4)'] },
    ]);
  });

  test('each service is compared with its own revision', async () => {
    // Greeter: a newer revision (2) than this one's (1) serves, rightly. Counter: an older one
    // (4) than this one's (5) serves, so this registration did not take.
    fakes.admin.route = healthyAdmin(serving({ Greeter: ['dp_x', 2], Counter: ['dp_y', 4] }), {
      services: [{ name: 'Greeter', revision: 1 }, { name: 'Counter', revision: 5 }],
    });
    const response = await invoke(fakes, 'Create', props());
    expect(response.Reason).toMatch(/, but \[Counter is served by dp_y \(revision 4\)\]\. /);
  });

  test('missing expected services and unknown configured services: the whole reason', async () => {
    fakes.admin.route = healthyAdmin(undefined, { services: [{ name: 'Greeter', revision: 1 }, { name: 'Counter', revision: 1 }] });
    let response = await invoke(fakes, 'Create', props({ ExpectedServices: ['Greeter', 'Payments', 'Ledger'] }));
    expect(response.Reason).toMatch(
      new RegExp(
        `^discovery of Lambda ${LAMBDA_ARN} found service\\(s\\) \\[Greeter, Counter\\], but expected service\\(s\\) \\[Payments, Ledger\\] were missing\\. ` +
          'Check that the deployed code binds these services, or correct expectedServices; ',
      ),
    );
    response = await invoke(fakes, 'Create', props({ ServiceConfiguration: { Services: { Payments: {}, Ledger: {} } } }));
    expect(response.Reason).toMatch(
      new RegExp(
        `^discovery of Lambda ${LAMBDA_ARN} found service\\(s\\) \\[Greeter, Counter\\], but serviceConfigurations names \\[Payments, Ledger\\]\\. ` +
          'Check the service names \\(as bound in code\\), or remove those entries; ',
      ),
    );
  });

  test('a failure with nothing to undo is the reason alone', async () => {
    // An existing deployment (200), over HTTP: nothing created, nothing granted.
    fakes.admin.route = existing({ arn: undefined, assume_role_arn: undefined, uri: 'https://svc.example.com/greeter' });
    const response = await invoke(fakes, 'Create', http({ ExpectedServices: ['Payments'] }));
    expect(response.Reason).toBe(
      'discovery of endpoint https://svc.example.com/greeter found service(s) [Greeter], but expected service(s) [Payments] were missing. ' +
        'Check that the deployed code binds these services, or correct expectedServices.',
    );
    expect(deletes(fakes.admin)).toEqual([]);
  });

  test('a failure that is not the admin API\'s still removes what this request created', async () => {
    // A services list that is not a list: reading it fails after the deployment was created.
    fakes.admin.route = healthyAdmin((r) => (r.method === 'POST' && r.path === '/deployments' ? { status: 201, body: { id: DEPLOYMENT_ID, services: 'Greeter' } } : undefined));
    const response = await invoke(fakes, 'Create', props());
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toMatch(new RegExp(`; the new deployment ${DEPLOYMENT_ID} was removed again\\.$`));
    expect(deletes(fakes.admin)).toEqual([`/deployments/${DEPLOYMENT_ID}?force=true`]);
  });
});
