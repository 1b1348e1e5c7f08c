import * as http from 'http';
import { AddressInfo } from 'net';
import { deploymentEvent, RecordingServer, Route, secretsManagerRoute, trustProps, useFakeAwsCredentials } from './fakes';
import { handler } from '../../src/deployer/deployer.lambda';
import { DeploymentResourceProperties } from '../../src/deployer/properties';
import { forgetAllSecrets } from '../../src/deployer/secrets';

/**
 * A recording fake of the admin API, the Lambda API and the CloudFormation response URL, all on
 * loopback, for tests that drive the deployer's handler from the outside.
 */

export const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:restate/api-key-AbCdEf';
export const API_KEY = 'key_test_0123456789abcdef';
export const LAMBDA_ARN = 'arn:aws:lambda:us-east-1:111111111111:function:greeter:7';
export const ROLE_ARN = 'arn:aws:iam::111111111111:role/RestateInvoker';
export const OWNER = 'App/Stack/Handler/CurrentVersion/RestateRegistrationABCD1234';
export const STACK_ID = 'arn:aws:cloudformation:us-east-1:111111111111:stack/App/1';
export const LOGICAL_ID = 'Registration';
export const REQUEST_ID = 'req-1';
export const DEPLOYMENT_ID = 'dp_11pXug0mWsff2NOoRBZbOcV';
export const FAILED_CREATE_ID = `restate-failed-create-${REQUEST_ID}`;

export const isLambda = (path: string) => path.startsWith('/2015-03-31/');

/** Metadata of a deployment that the events' resource owns, created by `createdBy`. */
export function ownedMetadata(createdBy = 'req-0', extra: Record<string, string> = {}): Record<string, string> {
  return {
    'restate-cloud-cdk.owner': OWNER,
    'restate-cloud-cdk.stack-id': STACK_ID,
    'restate-cloud-cdk.logical-id': LOGICAL_ID,
    'restate-cloud-cdk.created-by': createdBy,
    ...extra,
  };
}

export interface Fakes {
  /** The admin API and the Lambda API (one server, so the order of calls across both shows). */
  readonly admin: RecordingServer;
  readonly cfn: RecordingServer;
  readonly secrets: RecordingServer;
  /** The deployer's log lines of the current test, parsed (`message` and its fields). */
  readonly logs: Record<string, any>[];
}

/**
 * A healthy admin API whose registration creates DEPLOYMENT_ID serving Greeter, with no other
 * deployments, no invocations in flight, and a Lambda API that grants and revokes; `overrides`
 * answer first.
 */
export function healthyAdmin(overrides: Route = () => undefined, opts: { deploymentId?: string; services?: object[] } = {}): Route {
  const id = opts.deploymentId ?? DEPLOYMENT_ID;
  const services = opts.services ?? [{ name: 'Greeter', revision: 1, public: true }];
  return (req) => {
    const answer = overrides(req);
    if (answer) return answer;
    if (req.method === 'POST' && isLambda(req.path)) {
      return { status: 201, body: { Statement: JSON.stringify({ Sid: req.body.StatementId, Effect: 'Allow' }) } };
    }
    if (req.method === 'DELETE' && isLambda(req.path)) return { status: 204 };
    if (req.path === '/health') return { status: 200 };
    if (req.method === 'POST' && req.path === '/deployments') return { status: 201, body: { id, services } };
    if (req.method === 'GET' && req.path === '/deployments') return { status: 200, body: { deployments: [] } };
    if (req.method === 'POST' && req.path === '/query') return { status: 200, body: { rows: [{ count: 0 }] } };
    if (req.method === 'DELETE' && req.path.startsWith('/deployments/')) return { status: 202 };
    if (req.method === 'PATCH' && req.path.startsWith('/services/')) return { status: 200, body: {} };
    const service = /^\/services\/([^/?]+)$/.exec(req.path);
    if (req.method === 'GET' && service) {
      return { status: 200, body: { name: decodeURIComponent(service[1]), deployment_id: id, revision: 1, public: true } };
    }
    const deployment = /^\/deployments\/([^/?]+)$/.exec(req.path);
    if (req.method === 'GET' && deployment) {
      return { status: 200, body: { id: decodeURIComponent(deployment[1]), arn: LAMBDA_ARN, assume_role_arn: ROLE_ARN, metadata: ownedMetadata() } };
    }
    return undefined;
  };
}

/** Answers GET /deployments with `deployments`. */
export const listing = (deployments: object[]): Route => (r) =>
  r.method === 'GET' && r.path === '/deployments' ? { status: 200, body: { deployments } } : undefined;

/** Starts the fakes, points the AWS SDK at them and quiets the deployer's log; call in a describe or file scope. */
export function useFakes(): Fakes {
  const fakes = { logs: [] } as unknown as { admin: RecordingServer; cfn: RecordingServer; secrets: RecordingServer; logs: Record<string, any>[] };
  beforeAll(async () => {
    fakes.admin = await RecordingServer.start(healthyAdmin());
    fakes.cfn = await RecordingServer.start(() => ({ status: 200 }));
    fakes.secrets = await RecordingServer.start(secretsManagerRoute({ [SECRET_ARN]: API_KEY }));
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = fakes.secrets.url;
    process.env.AWS_ENDPOINT_URL_LAMBDA = fakes.admin.url;
    useFakeAwsCredentials();
  });
  beforeEach(() => {
    forgetAllSecrets();
    fakes.admin.requests.length = 0;
    fakes.secrets.requests.length = 0;
    fakes.admin.route = healthyAdmin();
    fakes.logs.length = 0;
    jest.spyOn(console, 'log').mockImplementation((line: string) => void fakes.logs.push(parseLogLine(line)));
    // Backoff without jitter: every retry and probe waits the 100 ms floor, so tests stay fast.
    jest.spyOn(Math, 'random').mockReturnValue(0);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });
  afterAll(async () => {
    await Promise.all([fakes.admin.stop(), fakes.cfn.stop(), fakes.secrets.stop()]);
  });
  return fakes;
}

function parseLogLine(line: string): Record<string, any> {
  try {
    return JSON.parse(line);
  } catch {
    return { message: line };
  }
}

/** The deployer's log lines of the current test whose message is `message`. */
export const logged = (fakes: Fakes, message: string) => fakes.logs.filter((l) => l.message === message);

/** Properties of a Lambda registration against `adminUrl`, with an API key. */
export function lambdaProps(adminUrl: string, extra: Partial<DeploymentResourceProperties> = {}): DeploymentResourceProperties {
  return {
    AdminUrl: adminUrl,
    AuthTokenSecretArn: SECRET_ARN,
    LambdaArn: LAMBDA_ARN,
    AssumeRoleArn: ROLE_ARN,
    Private: 'false',
    Force: 'false',
    Breaking: 'false',
    RemovalPolicy: 'retain',
    PruneDrained: 'false',
    RevisionHistoryLimit: '0',
    Owner: OWNER,
    HealthTimeoutSeconds: '5',
    ...extra,
  };
}

/** The CloudFormation response of one invocation of the handler. */
export interface CfnAnswer {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason: string;
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/**
 * Invokes the handler with a CloudFormation event (RequestId req-1) and returns what it sent to
 * the response URL; the deployer is trusted with exactly `props`' targets.
 */
export async function invoke(
  fakes: Fakes,
  requestType: 'Create' | 'Update' | 'Delete',
  props: DeploymentResourceProperties,
  opts: { physicalResourceId?: string; remainingMs?: number; oldProps?: object } = {},
): Promise<CfnAnswer> {
  const event = deploymentEvent(requestType, props, fakes.cfn.url, opts.physicalResourceId);
  if (opts.oldProps) (event as { OldResourceProperties?: object }).OldResourceProperties = { ServiceToken: 'x', ...opts.oldProps };
  trustProps(props);
  const endsAt = Date.now() + (opts.remainingMs ?? 60_000);
  const before = fakes.cfn.requests.length;
  await handler(event, { getRemainingTimeInMillis: () => endsAt - Date.now() });
  const responses = fakes.cfn.requests.slice(before);
  expect(responses).toHaveLength(1);
  return responses[0].body as CfnAnswer;
}

/** The admin API calls other than health checks and Lambda API calls, as "METHOD path". */
export const adminCalls = (admin: RecordingServer) => admin.calls().filter((c) => !isLambda(c.split(' ')[1]));
export const registerCount = (admin: RecordingServer) => admin.requests.filter((r) => r.method === 'POST' && r.path === '/deployments').length;
export const deletes = (admin: RecordingServer) =>
  admin.requests.filter((r) => r.method === 'DELETE' && r.path.startsWith('/deployments/')).map((r) => r.path);

/** A loopback port nothing listens on (it was just closed). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/**
 * A loopback server that answers like `route`, except that requests `reset` picks are answered
 * by resetting the connection (no HTTP answer at all).
 */
export async function resettingServer(
  route: Route,
  reset: (method: string, path: string) => boolean,
): Promise<{ url: string; stop: () => Promise<void>; resets: () => number; requests: string[] }> {
  let n = 0;
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}`);
      if (reset(req.method!, req.url!)) {
        n++;
        req.socket.destroy();
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? JSON.parse(text) : undefined;
      const answer = route({ method: req.method!, path: req.url!, headers: req.headers, body }) ?? { status: 404 };
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    resets: () => n,
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * An admin API (and Lambda API) that answers like `route`, except that it never answers the
 * requests `hangs` picks; says which of those the client hung up on. Both can be changed later.
 */
export async function hangingAdmin(hangs: (method: string, path: string, body: any) => boolean, route: Route = healthyAdmin()) {
  const hungUp: string[] = [];
  const pending: (() => void)[] = [];
  const state = { hangs, route };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? JSON.parse(text) : undefined;
      const respond = () => {
        const answer = state.route({ method: req.method!, path: req.url!, headers: req.headers, body }) ?? { status: 404 };
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      };
      if (state.hangs(req.method!, req.url!, body)) {
        res.on('close', () => {
          if (!res.writableEnded) hungUp.push(`${req.method} ${req.url}`);
        });
        pending.push(respond);
        return;
      }
      respond();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hungUp,
    state,
    /** Answers the requests held so far (as `route` would have). */
    release: () => pending.splice(0).forEach((respond) => respond()),
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
