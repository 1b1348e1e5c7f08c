import * as http from 'http';
import { AddressInfo } from 'net';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { DeploymentResourceProperties } from '../../src/deployer/properties';
import { adminTarget, TRUSTED_TARGETS_ENV } from '../../src/deployer/trust';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: any;
}

export type Route = (req: RecordedRequest) => { status: number; body?: unknown } | undefined;

/** An HTTP server on loopback that records every request and answers from `route`. */
export class RecordingServer {
  static async start(route: Route): Promise<RecordingServer> {
    const s = new RecordingServer(route);
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
    return s;
  }

  readonly requests: RecordedRequest[] = [];
  private readonly server: http.Server;

  private constructor(public route: Route) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: any = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // keep text
        }
        const recorded = { method: req.method!, path: req.url!, headers: req.headers, body };
        this.requests.push(recorded);
        const answer = this.route(recorded) ?? { status: 404, body: { message: `no route for ${req.method} ${req.url}` } };
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Requests other than health checks, as "METHOD path". */
  calls(): string[] {
    return this.requests.filter((r) => r.path !== '/health').map((r) => `${r.method} ${r.path}`);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** A stand-in for Secrets Manager's GetSecretValue (AWS JSON protocol). */
export function secretsManagerRoute(secrets: Record<string, string>): Route {
  return (req) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target !== 'secretsmanager.GetSecretValue') return { status: 400, body: { __type: 'UnknownOperationException' } };
    const id = req.body?.SecretId;
    if (!(id in secrets)) {
      return { status: 400, body: { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." } };
    }
    return { status: 200, body: { ARN: id, Name: 'n', SecretString: secrets[id], VersionId: 'v1' } };
  };
}

/** A CloudFormation event for the `Custom::RestateDeployment` handler, answered to `cfnUrl`. */
export function deploymentEvent(
  requestType: 'Create' | 'Update' | 'Delete',
  resourceProps: object,
  cfnUrl: string,
  physicalResourceId?: string,
): CloudFormationCustomResourceEvent {
  return {
    RequestType: requestType,
    ServiceToken: 'arn:aws:lambda:us-east-1:111111111111:function:deployer',
    ResponseURL: `${cfnUrl}/cfn-response?X-Amz-Signature=abc`,
    StackId: 'arn:aws:cloudformation:us-east-1:111111111111:stack/App/1',
    RequestId: 'req-1',
    LogicalResourceId: 'Registration',
    ResourceType: 'Custom::RestateDeployment',
    ResourceProperties: { ServiceToken: 'x', ...resourceProps },
    ...(physicalResourceId ? { PhysicalResourceId: physicalResourceId } : {}),
    ...(requestType === 'Update' ? { OldResourceProperties: {} } : {}),
  } as unknown as CloudFormationCustomResourceEvent;
}

/** Fake credentials and region for the deployer's AWS SDK clients, whose endpoints are fakes. */
export function useFakeAwsCredentials(region = 'us-east-1'): void {
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.AWS_REGION = region;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
}

/**
 * Configures the deployer (its environment variable, as ServiceDeployer writes it) to accept
 * exactly the admin URL, API key secret, TLS setting and secret headers of `props`.
 */
export function trustProps(...all: DeploymentResourceProperties[]): void {
  process.env[TRUSTED_TARGETS_ENV] = JSON.stringify({
    admin: all.map((p) => adminTarget(p)),
    headers: all.flatMap((p) => (p.SecretHeaders ?? []).map((h) => [p.Uri ?? '', h.SecretArn, h.JsonField ?? ''])),
  });
}

/** The StackId and LogicalResourceId of `deploymentEvent`'s events. */
export const EVENT_STACK_ID = 'arn:aws:cloudformation:us-east-1:111111111111:stack/App/1';
export const EVENT_LOGICAL_ID = 'Registration';

/**
 * Answers what the deployer reads back after registering: `GET /services/{name}` served by
 * `deploymentId` (or the one it returns when called), and `GET /deployments/{id}` of any deployment, owned by the events' resource.
 */
export function servedBy(deploymentId: string | (() => string)): Route {
  return (req) => {
    if (req.method !== 'GET') return undefined;
    const service = /^\/services\/([^/?]+)$/.exec(req.path);
    const id = typeof deploymentId === 'string' ? deploymentId : deploymentId();
    if (service) return { status: 200, body: { name: decodeURIComponent(service[1]), deployment_id: id, revision: 1, public: true } };
    const deployment = /^\/deployments\/(dp_[A-Za-z0-9]+)$/.exec(req.path);
    if (deployment) {
      return {
        status: 200,
        body: {
          id: deployment[1],
          metadata: { 'restate-cloud-cdk.stack-id': EVENT_STACK_ID, 'restate-cloud-cdk.logical-id': EVENT_LOGICAL_ID, 'restate-cloud-cdk.created-by': 'req-0' },
        },
      };
    }
    return undefined;
  };
}
