/**
 * The deployer driven the way an attacker would drive it: anyone who may invoke the deployer
 * (or a stack naming it as ServiceToken) chooses every field of the event, including the
 * ResponseURL the answer goes to. The deployer is configured (RESTATE_TRUSTED_TARGETS, as
 * ServiceDeployer writes it) for ONE environment: admin API A with API key secret S, and one
 * HTTP endpoint with secret header H. Every crafted event must be refused before any secret is
 * read and before any request is made (Delete answers SUCCESS, since deletes never block), with
 * a reason naming what was refused; the API key never reaches any listener but A.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { deploymentEvent, RecordedRequest, RecordingServer, Route, secretsManagerRoute, servedBy, trustProps, useFakeAwsCredentials } from './fakes';
import { handler } from '../../src/deployer/deployer.lambda';
import { DeploymentResourceProperties } from '../../src/deployer/properties';
import { forgetAllSecrets } from '../../src/deployer/secrets';

const TRUSTED_TARGETS_ENV = 'RESTATE_TRUSTED_TARGETS';
/** S: the environment's API key secret. */
const API_KEY_SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:restate/api-key-AbCdEf';
const API_KEY = 'key_crafted_0123456789abcdef';
/** H: the secret of the trusted endpoint's header. */
const HEADER_SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:services/header-GhIjKl';
const HEADER_VALUE = 'hdr_crafted_fedcba9876543210';
/** Another secret the deployer's role may happen to read (another environment's key). */
const OTHER_SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:other-env/api-key-MnOpQr';
const OTHER_KEY = 'key_other_env_5555555555';
const SECRET_VALUES = [API_KEY, HEADER_VALUE, OTHER_KEY];

const LAMBDA_ARN = 'arn:aws:lambda:us-east-1:111111111111:function:greeter:7';
const ROLE_ARN = 'arn:aws:iam::111111111111:role/RestateInvoker';
const SERVICE_URI = 'https://services.example.com/greeter';
const DEPLOYMENT_ID = 'dp_1';
const FAILED_CREATE_ID = 'restate-failed-create-req-0';
const OTHER_CA = [
  '-----BEGIN CERTIFICATE-----',
  'MIIBhTCCASugAwIBAgIUQXR0YWNrZXIgQ0EgZm9yIGNyYWZ0ZWQgZXZlbnRzMAoG',
  'CCqGSM49BAMCMBgxFjAUBgNVBAMMDWF0dGFja2VyLWNhLTEwHhcNMjYwMTAxMDAw',
  '-----END CERTIFICATE-----',
].join('\n');

type RequestType = 'Create' | 'Update' | 'Delete';
const REQUEST_TYPES: RequestType[] = ['Create', 'Update', 'Delete'];
type Props = Record<string, unknown>;

let admin: RecordingServer; // A
let attacker: RecordingServer; // B
let secrets: RecordingServer;
let lambdaApi: RecordingServer;
let cfn: RecordingServer;
let logs: string[];

/** A healthy admin API (A's, and B's too: B plays along, so that nothing but the deployer stops a leak). */
const adminRoute: Route = (req) => {
  if (req.path === '/health') return { status: 200 };
  if (req.method === 'POST' && req.path === '/deployments') {
    return { status: 201, body: { id: DEPLOYMENT_ID, services: [{ name: 'Greeter', public: true }] } };
  }
  if (req.method === 'GET' && req.path === '/deployments') return { status: 200, body: { deployments: [] } };
  if (req.path === '/query') return { status: 200, body: { rows: [{ count: 0 }] } };
  if (req.method === 'DELETE') return { status: 202 };
  return servedBy(DEPLOYMENT_ID)(req);
};

/** Lambda's AddPermission and RemovePermission. */
const lambdaRoute: Route = (req) => {
  if (!req.path.startsWith('/2015-03-31/functions/')) return undefined;
  if (req.method === 'POST') return { status: 201, body: { Statement: JSON.stringify({ Sid: req.body?.StatementId, Effect: 'Allow' }) } };
  if (req.method === 'DELETE') return { status: 204 };
  return undefined;
};

/** The trusted Lambda registration: A, S, an invoker role and a grant, removed on delete. */
function legit(extra: Props = {}): Props {
  return {
    AdminUrl: admin.url,
    AuthTokenSecretArn: API_KEY_SECRET,
    LambdaArn: LAMBDA_ARN,
    AssumeRoleArn: ROLE_ARN,
    GrantInvoke: 'true',
    Private: 'false',
    Force: 'false',
    Breaking: 'false',
    RemovalPolicy: 'destroy',
    PruneDrained: 'false',
    RevisionHistoryLimit: '0',
    Owner: 'App/Stack/Handler/RestateRegistrationABCD1234',
    HealthTimeoutSeconds: '5',
    ...extra,
  };
}

/** The trusted HTTP registration in the same environment: SERVICE_URI with header secret H. */
function legitHttp(extra: Props = {}): Props {
  return legit({
    LambdaArn: undefined,
    AssumeRoleArn: undefined,
    GrantInvoke: undefined,
    Uri: SERVICE_URI,
    SecretHeaders: [{ Name: 'x-api-key', SecretArn: HEADER_SECRET }],
    ...extra,
  });
}

/** Leaves out the properties set to undefined, as a JSON event would. */
const defined = (p: Props): Props => Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));

interface Answer {
  readonly Status: string;
  readonly Reason: string;
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/**
 * Sends one event to the handler and returns its answer to the ResponseURL. Update and Delete
 * are for DEPLOYMENT_ID (unless `physicalResourceId` says otherwise); an Update's old
 * properties are the legitimate ones. `edit` changes the event after it is built.
 */
async function send(
  requestType: RequestType,
  resourceProps: Props,
  opts: { physicalResourceId?: string; edit?: (event: Record<string, unknown>) => void } = {},
): Promise<Answer> {
  const physicalId = requestType === 'Create' ? undefined : (opts.physicalResourceId ?? DEPLOYMENT_ID);
  const event = deploymentEvent(requestType, defined(resourceProps), cfn.url, physicalId) as unknown as Record<string, unknown>;
  if (requestType === 'Update') event.OldResourceProperties = { ServiceToken: 'x', ...defined(legit()) };
  opts.edit?.(event);
  const before = cfn.requests.length;
  const endsAt = Date.now() + 30_000;
  await handler(event as unknown as CloudFormationCustomResourceEvent, { getRemainingTimeInMillis: () => endsAt - Date.now() });
  const answers = cfn.requests.slice(before);
  expect(answers).toHaveLength(1);
  expect(answers[0].method).toBe('PUT');
  return answers[0].body as Answer;
}

const calls = (server: RecordingServer) => server.requests.map((r) => `${r.method} ${r.path}`);
const text = (r: RecordedRequest) => `${r.path}\n${JSON.stringify(r.headers)}\n${typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? '')}`;

/** Every listener but A, and every request each received that carries `value` (path, headers or body). */
function reachedOtherThanA(value: string): string[] {
  const others: [string, RecordingServer][] = [['B (attacker)', attacker], ['Secrets Manager', secrets], ['Lambda API', lambdaApi], ['ResponseURL', cfn]];
  return others.flatMap(([name, server]) => server.requests.filter((r) => text(r).includes(value)).map((r) => `${name}: ${r.method} ${r.path}`));
}

/**
 * Sends the event and checks that it was refused: the answer CloudFormation gets, the reason
 * naming each of `names`, no secret read, no request to A, B or the Lambda API, and no
 * secret value on any listener.
 */
async function expectRefused(
  requestType: RequestType,
  resourceProps: Props,
  names: string[],
  opts: { physicalResourceId?: string; edit?: (event: Record<string, unknown>) => void } = {},
): Promise<Answer> {
  const answer = await send(requestType, resourceProps, opts);
  expect({
    status: answer.Status,
    physicalResourceId: answer.PhysicalResourceId,
    secretsManagerCalls: calls(secrets),
    lambdaApiCalls: calls(lambdaApi),
    adminCalls: calls(admin),
    attackerCalls: calls(attacker),
    secretValuesOtherThanA: SECRET_VALUES.flatMap(reachedOtherThanA),
  }).toEqual({
    status: requestType === 'Delete' ? 'SUCCESS' : 'FAILED',
    physicalResourceId: requestType === 'Create' ? 'restate-failed-create-req-1' : (opts.physicalResourceId ?? DEPLOYMENT_ID),
    secretsManagerCalls: [],
    lambdaApiCalls: [],
    adminCalls: [],
    attackerCalls: [],
    secretValuesOtherThanA: [],
  });
  for (const name of names) expect(answer.Reason).toEqual(expect.stringContaining(name));
  return answer;
}

beforeAll(async () => {
  admin = await RecordingServer.start(adminRoute);
  attacker = await RecordingServer.start(adminRoute);
  secrets = await RecordingServer.start(
    secretsManagerRoute({ [API_KEY_SECRET]: API_KEY, [HEADER_SECRET]: HEADER_VALUE, [OTHER_SECRET]: OTHER_KEY }),
  );
  lambdaApi = await RecordingServer.start(lambdaRoute);
  cfn = await RecordingServer.start(() => ({ status: 200 }));
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secrets.url;
  process.env.AWS_ENDPOINT_URL_LAMBDA = lambdaApi.url;
  useFakeAwsCredentials();
});

beforeEach(() => {
  // Each test starts cold: the deployer caches secrets across invocations of a warm Lambda.
  forgetAllSecrets();
  for (const server of [admin, attacker, secrets, lambdaApi, cfn]) server.requests.length = 0;
  // One environment: A with S (both registrations), and H for SERVICE_URI only.
  trustProps(legit() as unknown as DeploymentResourceProperties, legitHttp() as unknown as DeploymentResourceProperties);
  logs = [];
  jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    logs.push(args.map(String).join(' '));
  });
});

afterEach(() => {
  // No secret value is ever logged, whatever the event.
  for (const value of SECRET_VALUES) expect(logs.join('\n')).not.toContain(value);
  jest.restoreAllMocks();
});

afterAll(async () => {
  delete process.env[TRUSTED_TARGETS_ENV];
  await Promise.all([admin, attacker, secrets, lambdaApi, cfn].map((s) => s.stop()));
});

describe('1. the API key secret sent to another admin URL', () => {
  test.each(REQUEST_TYPES)('%s with AdminUrl = B and secret S is refused, naming B and S', async (requestType) => {
    await expectRefused(requestType, legit({ AdminUrl: attacker.url }), [attacker.url, API_KEY_SECRET]);
  });

  test('Delete after a failed Create, with AdminUrl = B, is refused naming B', async () => {
    await expectRefused('Delete', legit({ AdminUrl: attacker.url }), [attacker.url, API_KEY_SECRET], { physicalResourceId: FAILED_CREATE_ID });
  });

  test.each(REQUEST_TYPES)('%s with AdminUrl = B under another path, or with user info naming A, is refused', async (requestType) => {
    const hostA = admin.url.replace('http://', '');
    for (const adminUrl of [`${attacker.url}/restate`, `http://${hostA}@${attacker.url.replace('http://', '')}`]) {
      await expectRefused(requestType, legit({ AdminUrl: adminUrl }), [adminUrl, API_KEY_SECRET]);
    }
  });

  test.each(REQUEST_TYPES)('%s with AdminUrl = B and no API key at all is refused, naming B', async (requestType) => {
    await expectRefused(requestType, legit({ AdminUrl: attacker.url, AuthTokenSecretArn: undefined }), [attacker.url, 'without an API key']);
  });

  test.each(REQUEST_TYPES)('%s with AdminUrl = A and another secret is refused, naming that secret', async (requestType) => {
    await expectRefused(requestType, legit({ AuthTokenSecretArn: OTHER_SECRET }), [OTHER_SECRET, admin.url]);
  });
});

describe('2. the API key sent to A with another TLS setting', () => {
  test.each(REQUEST_TYPES)("%s with InsecureSkipTlsVerify 'true' is refused, naming the setting", async (requestType) => {
    await expectRefused(requestType, legit({ InsecureSkipTlsVerify: 'true' }), [admin.url, "TLS setting 'insecure'"]);
  });

  test.each(REQUEST_TYPES)('%s with the certificate of another CA is refused, naming the setting', async (requestType) => {
    await expectRefused(requestType, legit({ AdminCaCertificate: OTHER_CA }), [admin.url, "TLS setting 'ca"]);
  });

  test.each(REQUEST_TYPES)('%s with both is refused', async (requestType) => {
    await expectRefused(requestType, legit({ InsecureSkipTlsVerify: 'true', AdminCaCertificate: OTHER_CA }), [admin.url, "TLS setting 'ca"]);
  });
});

describe('3. the API key read from another JSON field', () => {
  test.each(REQUEST_TYPES)('%s with AuthTokenJsonField changed is refused, naming the field', async (requestType) => {
    await expectRefused(requestType, legit({ AuthTokenJsonField: 'apiKey' }), [API_KEY_SECRET, "field 'apiKey'"]);
  });
});

describe('4. a secret header paired with an endpoint it was not configured for', () => {
  const cases: [string, () => Props, () => string[]][] = [
    ['H to endpoint B', () => legitHttp({ Uri: attacker.url }), () => [HEADER_SECRET, attacker.url, "'x-api-key'"]],
    [
      'the API key secret S as a header to endpoint B',
      () => legitHttp({ Uri: `${attacker.url}/greeter`, SecretHeaders: [{ Name: 'authorization', SecretArn: API_KEY_SECRET }] }),
      () => [API_KEY_SECRET, `${attacker.url}/greeter`, "'authorization'"],
    ],
    [
      'the API key secret S as a header to the trusted endpoint',
      () => legitHttp({ SecretHeaders: [{ Name: 'x-api-key', SecretArn: API_KEY_SECRET }] }),
      () => [API_KEY_SECRET, SERVICE_URI],
    ],
    [
      'a second header with another secret, after the trusted one',
      () => legitHttp({ SecretHeaders: [{ Name: 'x-api-key', SecretArn: HEADER_SECRET }, { Name: 'x-other', SecretArn: OTHER_SECRET }] }),
      () => [OTHER_SECRET, SERVICE_URI, "'x-other'"],
    ],
    [
      'H with a JSON field it was not configured with',
      () => legitHttp({ SecretHeaders: [{ Name: 'x-api-key', SecretArn: HEADER_SECRET, JsonField: 'apiKey' }] }),
      () => [HEADER_SECRET, SERVICE_URI, "'apiKey'"],
    ],
    [
      'H to the trusted host with user info of another',
      () => legitHttp({ Uri: `https://services.example.com@${attacker.url.replace('http://', '')}/greeter` }),
      () => [HEADER_SECRET, `https://services.example.com@${attacker.url.replace('http://', '')}/greeter`],
    ],
    [
      'H on a Lambda deployment',
      () => legit({ SecretHeaders: [{ Name: 'x-api-key', SecretArn: HEADER_SECRET }] }),
      () => [HEADER_SECRET, LAMBDA_ARN],
    ],
  ];
  describe.each(REQUEST_TYPES)('%s', (requestType) => {
    test.each(cases)('%s is refused, naming the secret and the endpoint', async (_, props, names) => {
      await expectRefused(requestType, props(), names());
    });
  });
});

describe('5. no valid RESTATE_TRUSTED_TARGETS', () => {
  const malformed: [string, string | undefined][] = [
    ['unset', undefined],
    ['empty', ''],
    ['not JSON', 'not json'],
    ['null', 'null'],
    ['a list', '[]'],
    ['an empty object', '{}'],
    ['without headers', JSON.stringify({ admin: [] })],
    ['with admin not a list', JSON.stringify({ admin: {}, headers: [] })],
    ['with a null admin target', JSON.stringify({ admin: [null], headers: [] })],
    ['with an admin target whose URL is not a string', JSON.stringify({ admin: [[1, API_KEY_SECRET, '', '']], headers: [] })],
  ];
  describe.each(REQUEST_TYPES)('%s', (requestType) => {
    test.each(malformed)('%s: refused, naming the variable', async (_, value) => {
      if (value === undefined) delete process.env[TRUSTED_TARGETS_ENV];
      else process.env[TRUSTED_TARGETS_ENV] = value;
      await expectRefused(requestType, legit(), [TRUSTED_TARGETS_ENV]);
    });

    test('a null header target: refused, naming the variable', async () => {
      process.env[TRUSTED_TARGETS_ENV] = JSON.stringify({ admin: [[admin.url, API_KEY_SECRET, '', '']], headers: [null] });
      await expectRefused(requestType, legitHttp(), [TRUSTED_TARGETS_ENV]);
    });

    test('valid but trusting nothing: refused, naming A and S', async () => {
      process.env[TRUSTED_TARGETS_ENV] = JSON.stringify({ admin: [], headers: [] });
      await expectRefused(requestType, legit(), [admin.url, API_KEY_SECRET]);
    });
  });
});

describe('6. LambdaArn not a qualified function ARN', () => {
  const arns: [string, string][] = [
    ['unqualified, with GrantInvoke', 'arn:aws:lambda:us-east-1:111111111111:function:victim'],
    ['an S3 ARN', 'arn:aws:s3:::victim-bucket'],
    ['$LATEST with a trailing space', 'arn:aws:lambda:us-east-1:111111111111:function:victim:$LATEST '],
    ['a version with a trailing newline', 'arn:aws:lambda:us-east-1:111111111111:function:victim:7\n'],
    ['a version and one more segment', 'arn:aws:lambda:us-east-1:111111111111:function:victim:7:extra'],
    ['a layer version', 'arn:aws:lambda:us-east-1:111111111111:layer:victim:1'],
    ['a partial ARN', 'victim:7'],
    ['a function URL', 'https://abcdefghij.lambda-url.us-east-1.on.aws/'],
  ];
  describe.each(REQUEST_TYPES)('%s', (requestType) => {
    test.each(arns)('%s is refused before any call, naming it', async (_, arn) => {
      await expectRefused(requestType, legit({ LambdaArn: arn }), ['LambdaArn', JSON.stringify(arn)]);
    });
  });
});

describe('7. malformed values', () => {
  // Names that depend on the listeners' ports are given as functions: they exist only once the tests run.
  const cases: [string, () => Props, string[] | (() => string[])][] = [
    ["a boolean 'yes'", () => legit({ Force: 'yes' }), ['Force', '"yes"']],
    ["a boolean 'TRUE'", () => legit({ GrantInvoke: 'TRUE' }), ['GrantInvoke', '"TRUE"']],
    ['a JSON boolean true', () => legit({ Private: true }), ['Private', 'true']],
    ["InsecureSkipTlsVerify 'yes'", () => legit({ InsecureSkipTlsVerify: 'yes' }), ['InsecureSkipTlsVerify', '"yes"']],
    ["HealthTimeoutSeconds '1e9'", () => legit({ HealthTimeoutSeconds: '1e9' }), ['HealthTimeoutSeconds', '"1e9"']],
    ["HealthTimeoutSeconds '-1'", () => legit({ HealthTimeoutSeconds: '-1' }), ['HealthTimeoutSeconds', '"-1"']],
    ["HealthTimeoutSeconds 'abc'", () => legit({ HealthTimeoutSeconds: 'abc' }), ['HealthTimeoutSeconds', '"abc"']],
    ['HealthTimeoutSeconds a JSON number', () => legit({ HealthTimeoutSeconds: 5 }), ['HealthTimeoutSeconds', '5']],
    ["RevisionHistoryLimit '1e9'", () => legit({ RevisionHistoryLimit: '1e9' }), ['RevisionHistoryLimit', '"1e9"']],
    ["RevisionHistoryLimit '-1'", () => legit({ RevisionHistoryLimit: '-1' }), ['RevisionHistoryLimit', '"-1"']],
    ["RevisionHistoryLimit 'abc'", () => legit({ RevisionHistoryLimit: 'abc' }), ['RevisionHistoryLimit', '"abc"']],
    ["RemovalPolicy 'snapshot'", () => legit({ RemovalPolicy: 'snapshot' }), ['RemovalPolicy', '"snapshot"']],
    ["AdminUrl 'ftp://x'", () => legit({ AdminUrl: 'ftp://x' }), ['AdminUrl', '"ftp://x"']],
    ['AdminUrl A with a query string', () => legit({ AdminUrl: `${admin.url}/?next=${attacker.url}` }), () => ['AdminUrl', `/?next=${attacker.url}`]],
    ['AdminUrl A with a fragment', () => legit({ AdminUrl: `${admin.url}#x` }), () => ['AdminUrl', `${admin.url}#x`]],
    ['AdminUrl missing', () => legit({ AdminUrl: undefined }), ['AdminUrl']],
    ['AssumeRoleArn an IAM user', () => legit({ AssumeRoleArn: 'arn:aws:iam::111111111111:user/bob' }), ['AssumeRoleArn', 'user/bob']],
    ['AssumeRoleArn an STS session', () => legit({ AssumeRoleArn: 'arn:aws:sts::111111111111:assumed-role/X/y' }), ['AssumeRoleArn', 'assumed-role/X/y']],
    ['AuthTokenSecretArn a secret name, not an ARN', () => legit({ AuthTokenSecretArn: 'restate/api-key' }), ['AuthTokenSecretArn', '"restate/api-key"']],
    ['an unknown property', () => legit({ Evil: 'x' }), ['unknown property Evil']],
    ['a property spelled in another case', () => legit({ AdminURL: attacker.url }), ['unknown property AdminURL']],
    ['Metadata with a non-string value', () => legit({ Metadata: { team: 1 } }), ['Metadata.team']],
    ['Metadata not a map', () => legit({ Metadata: 'team=payments' }), ['Metadata']],
    ['ExpectedServices not a list', () => legit({ ExpectedServices: 'Greeter' }), ['ExpectedServices']],
    ['ExpectedServices with a non-string', () => legit({ ExpectedServices: ['Greeter', 1] }), ['ExpectedServices']],
    ['SecretHeaders with an invalid header name', () => legitHttp({ SecretHeaders: [{ Name: 'x api key', SecretArn: HEADER_SECRET }] }), ['SecretHeaders', '"x api key"']],
    [
      'SecretHeaders with a header name carrying CRLF',
      () => legitHttp({ SecretHeaders: [{ Name: 'x-api-key\r\nx-evil', SecretArn: HEADER_SECRET }] }),
      ['SecretHeaders', JSON.stringify('x-api-key\r\nx-evil')],
    ],
    [
      'SecretHeaders with a non-secret ARN',
      () => legitHttp({ SecretHeaders: [{ Name: 'x-api-key', SecretArn: 'arn:aws:ssm:us-east-1:111111111111:parameter/key' }] }),
      ['SecretHeaders', 'arn:aws:ssm:us-east-1:111111111111:parameter/key'],
    ],
    ['SecretHeaders not a list', () => legitHttp({ SecretHeaders: { Name: 'x-api-key', SecretArn: HEADER_SECRET } }), ['SecretHeaders']],
    [
      'SecretHeaders with an extra key',
      () => legitHttp({ SecretHeaders: [{ Name: 'x-api-key', SecretArn: HEADER_SECRET, Uri: attacker.url }] }),
      () => ['SecretHeaders', attacker.url],
    ],
    ['AdditionalHeaders with an invalid name', () => legitHttp({ AdditionalHeaders: { 'x evil': '1' } }), ['AdditionalHeaders', '"x evil"']],
    ["Uri 'file:///etc/passwd'", () => legitHttp({ Uri: 'file:///etc/passwd' }), ['Uri', '"file:///etc/passwd"']],
  ];
  describe.each(REQUEST_TYPES)('%s', (requestType) => {
    test.each(cases)('%s is refused, naming it', async (_, props, names) => {
      await expectRefused(requestType, props(), typeof names === 'function' ? names() : names);
    });

    test.each([
      ['a string', 'AdminUrl=http://b'],
      ['a list', [{ AdminUrl: 'http://b' }]],
      ['null', null],
      ['a number', 42],
    ])('ResourceProperties %s is refused', async (_, value) => {
      await expectRefused(requestType, legit(), ['ResourceProperties'], {
        edit: (event) => {
          event.ResourceProperties = value;
        },
      });
    });
  });
});

describe('8. control: the legitimate events', () => {
  test('Create of the trusted Lambda registration succeeds; the key goes to A only, as a bearer token', async () => {
    const answer = await send('Create', legit());
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: DEPLOYMENT_ID, Data: { DeploymentId: DEPLOYMENT_ID, ServiceNames: 'Greeter' } });
    expect(calls(admin)).toEqual(['GET /health', 'POST /deployments', 'GET /services/Greeter']);
    for (const r of admin.requests) expect(r.headers.authorization).toBe(`Bearer ${API_KEY}`);
    // The stand-ins are wired: the secret is read once, and the grant is made.
    expect(secrets.requests.map((r) => r.body.SecretId)).toEqual([API_KEY_SECRET]);
    expect(lambdaApi.requests.map((r) => r.method)).toEqual(['POST']);
    expect(attacker.requests).toEqual([]);
    expect(SECRET_VALUES.flatMap(reachedOtherThanA)).toEqual([]);
  });

  test('Update of the trusted HTTP registration succeeds; H goes in the registration to A only', async () => {
    const answer = await send('Update', legitHttp());
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: DEPLOYMENT_ID });
    const post = admin.requests.find((r) => r.method === 'POST')!;
    expect(post.body).toMatchObject({ uri: SERVICE_URI, additional_headers: { 'x-api-key': HEADER_VALUE } });
    for (const r of admin.requests) expect(r.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(secrets.requests.map((r) => r.body.SecretId)).toEqual([API_KEY_SECRET, HEADER_SECRET]);
    expect(attacker.requests).toEqual([]);
    expect(SECRET_VALUES.flatMap(reachedOtherThanA)).toEqual([]);
  });

  test('Delete of the trusted Lambda registration removes it and its grant; the key goes to A only', async () => {
    const answer = await send('Delete', legit());
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: DEPLOYMENT_ID });
    expect(answer.Reason).toContain(`Removed deployment ${DEPLOYMENT_ID}`);
    expect(calls(admin)).toEqual([`GET /deployments/${DEPLOYMENT_ID}`, 'POST /query', `DELETE /deployments/${DEPLOYMENT_ID}?force=true`, 'GET /deployments']);
    for (const r of admin.requests) expect(r.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(lambdaApi.requests.map((r) => r.method)).toEqual(['DELETE']);
    expect(attacker.requests).toEqual([]);
    expect(SECRET_VALUES.flatMap(reachedOtherThanA)).toEqual([]);
  });
});
