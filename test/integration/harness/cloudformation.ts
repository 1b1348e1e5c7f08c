import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { LOOPBACK } from './ports';
import { closeServer, listenOnLoopback, readAll } from './servers';

/** What the deployer Lambda gets as its second argument (the parts it uses). */
export interface LambdaContextLike {
  readonly awsRequestId: string;
  readonly logStreamName: string;
  readonly functionName: string;
  getRemainingTimeInMillis(): number;
}

export type DeployerHandler = (event: CloudFormationCustomResourceEvent, context: LambdaContextLike) => Promise<unknown>;

export type RequestType = 'Create' | 'Update' | 'Delete';

/** The document a custom resource PUTs to the pre-signed ResponseURL. */
export interface CloudFormationResponseDocument {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly NoEcho?: boolean;
  readonly Data?: Record<string, string>;
}

export interface InvokeOptions {
  /** Required for Update and Delete. */
  readonly physicalResourceId?: string;
  /** Update only: the properties of the previous deployment. */
  readonly oldProperties?: Record<string, unknown>;
  /** What context.getRemainingTimeInMillis() starts at. Default: 5 minutes (the deployer's timeout). */
  readonly remainingMs?: number;
  readonly logicalResourceId?: string;
  /** The StackId the event names (another stack than this stand-in's). Default: `stackId`. */
  readonly stackId?: string;
}

export interface CloudFormationInvocation {
  readonly event: CloudFormationCustomResourceEvent;
  /** The (first) response document PUT to the ResponseURL. */
  readonly response: CloudFormationResponseDocument;
  /** From invocation to the response PUT arriving. */
  readonly elapsedMs: number;
  /** From invocation to the handler's promise settling. */
  readonly handlerSettledMs: number;
  /** The handler's rejection, if any (Lambda would retry the invocation). */
  readonly handlerError?: unknown;
  /** How many PUTs arrived for this request (must be exactly 1). */
  readonly putCount: number;
  /** Whether the PUT arrived before the handler's promise settled (Lambda freezes after). */
  readonly respondedBeforeReturn: boolean;
  /** Whether the PUT arrived before getRemainingTimeInMillis() reached 0. */
  readonly respondedBeforeDeadline: boolean;
  /** Protocol problems CloudFormation would reject (size, missing fields, ...). */
  readonly problems: string[];
  /** Requests to the stand-in during this invocation that were not a valid PUT of it. */
  readonly strayRequests: string[];
  readonly rawBody: string;
}

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
/** CloudFormation rejects response bodies over 4096 bytes. */
const MAX_RESPONSE_BYTES = 4096;

interface PendingRequest {
  readonly expectedPath: string;
  readonly event: CloudFormationCustomResourceEvent;
  readonly puts: Array<{ body: string; at: number; problems: string[] }>;
  notify?: () => void;
}

/**
 * Plays CloudFormation for the deployer Lambda running in this process: builds realistic
 * custom resource events, and receives the response PUT on an https server on 127.0.0.1 that
 * serves the throwaway certificate from run.sh (the handler trusts it via NODE_EXTRA_CA_CERTS),
 * like the pre-signed S3 URL CloudFormation hands out.
 */
export class CloudFormationStandIn {
  /**
   * `port`: listen on this port instead of one the OS picks. 443 serves a handler that drops the
   * port of the ResponseURL (e.g. @restatedev/restate-cdk 1.7's, which PUTs to
   * `hostname` + `path` only, as a pre-signed S3 URL never has one); binding it needs root in
   * the private network namespace.
   */
  public static async start(
    tls: { cert: string; key: string },
    handler: DeployerHandler,
    { port }: { port?: number } = {},
  ): Promise<CloudFormationStandIn> {
    const standIn = new CloudFormationStandIn(tls, handler);
    await listenOnLoopback(standIn.server, 'https', port);
    return standIn;
  }

  public readonly stackName = 'IntegStack';
  public readonly stackId = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/IntegStack/${randomUUID()}`;
  public readonly serviceToken = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:IntegStack-DeployerFunction-${randomBytes(6).toString('hex').toUpperCase()}`;
  private readonly server: https.Server;
  private readonly pending = new Map<string, PendingRequest>();
  /** Every response body received, for leak checks. */
  public readonly responseBodies: string[] = [];
  /** PUTs that matched no request issued by this stand-in. */
  public readonly strayRequests: string[] = [];

  private constructor(tls: { cert: string; key: string }, private readonly handler: DeployerHandler) {
    this.server = https.createServer({ cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) }, (req, res) => {
      void readAll(req).then((body) => {
        this.responseBodies.push(body.toString('utf8'));
        const url = req.url ?? '';
        const requestId = decodeURIComponent(url.split('?')[0]).split('|').pop() ?? '';
        const pending = this.pending.get(requestId);
        if (!pending || req.method !== 'PUT') {
          this.strayRequests.push(`${req.method} ${url}`);
          res.writeHead(pending ? 405 : 404).end();
          return;
        }
        if (url !== pending.expectedPath) {
          // S3 checks the signature over the exact path and query: a re-encoded URL fails.
          this.strayRequests.push(`${req.method} ${url} (expected ${pending.expectedPath})`);
          res.writeHead(403, { 'content-type': 'application/xml' }).end('<Error><Code>SignatureDoesNotMatch</Code></Error>');
          return;
        }
        if (req.headers['content-length'] === undefined) {
          this.strayRequests.push(`${req.method} ${url} without Content-Length`);
          res.writeHead(411, { 'content-type': 'application/xml' }).end('<Error><Code>MissingContentLength</Code></Error>');
          return;
        }
        pending.puts.push({ body: body.toString('utf8'), at: Date.now(), problems: validate(body, pending.event) });
        res.writeHead(200, { etag: '"0123456789abcdef"' }).end();
        pending.notify?.();
      });
    });
  }

  public get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /**
   * Sends the handler one CloudFormation custom resource event, the way CloudFormation's
   * Lambda invocation would, and waits for the response PUT.
   */
  public async invokeAsCloudFormation(
    requestType: RequestType,
    properties: Record<string, unknown>,
    options: InvokeOptions = {},
  ): Promise<CloudFormationInvocation> {
    const requestId = randomUUID();
    const logicalResourceId = options.logicalResourceId ?? 'RegistrationHttp1A2B3C4D';
    const stackId = options.stackId ?? this.stackId;
    const objectKey = encodeURIComponent(`${stackId}|${logicalResourceId}|${requestId}`);
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const query = [
      'X-Amz-Algorithm=AWS4-HMAC-SHA256',
      `X-Amz-Date=${stamp}`,
      'X-Amz-SignedHeaders=host',
      'X-Amz-Expires=7200',
      `X-Amz-Credential=AKIA6ODU5DHT7EXAMPLE%2F${stamp.slice(0, 8)}%2F${REGION}%2Fs3%2Faws4_request`,
      `X-Amz-Signature=${randomBytes(32).toString('hex')}`,
    ].join('&');
    const expectedPath = `/cloudformation-custom-resource-response-useast1/${objectKey}?${query}`;
    const base = {
      ServiceToken: this.serviceToken,
      ResponseURL: `https://${LOOPBACK}:${this.port}${expectedPath}`,
      StackId: stackId,
      RequestId: requestId,
      LogicalResourceId: logicalResourceId,
      ResourceType: 'Custom::RestateDeployment',
      ResourceProperties: { ServiceToken: this.serviceToken, ...properties },
    };
    let event: CloudFormationCustomResourceEvent;
    if (requestType === 'Create') {
      event = { ...base, RequestType: 'Create' } as CloudFormationCustomResourceEvent;
    } else {
      if (!options.physicalResourceId) throw new Error(`${requestType} needs a physicalResourceId`);
      event =
        requestType === 'Update'
          ? ({
            ...base,
            RequestType: 'Update',
            PhysicalResourceId: options.physicalResourceId,
            OldResourceProperties: { ServiceToken: this.serviceToken, ...(options.oldProperties ?? {}) },
          } as CloudFormationCustomResourceEvent)
          : ({ ...base, RequestType: 'Delete', PhysicalResourceId: options.physicalResourceId } as CloudFormationCustomResourceEvent);
    }

    const pending: PendingRequest = { expectedPath, event, puts: [] };
    const strayMark = this.strayRequests.length;
    this.pending.set(requestId, pending);
    const remainingMs = options.remainingMs ?? 5 * 60_000;
    const started = Date.now();
    const deadline = started + remainingMs;
    const context: LambdaContextLike = {
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      awsRequestId: randomUUID(),
      logStreamName: '2026/11/26/[$LATEST]0123456789abcdef0123456789abcdef',
      functionName: this.serviceToken.split(':').pop() ?? 'deployer',
    };

    let handlerSettledAt: number | undefined;
    let handlerError: unknown;
    const settled = (async () => {
      try {
        await this.handler(event, context);
      } catch (e) {
        handlerError = e ?? new Error('handler rejected with no reason');
      } finally {
        handlerSettledAt = Date.now();
      }
    })();

    // Wait until the handler has settled and a PUT arrived; give a PUT fired without being
    // awaited 2 s to land; give up 5 s after the Lambda's deadline (it would be killed).
    const hardStop = deadline + 5_000;
    await Promise.race([settled, sleepUntil(hardStop)]);
    if (handlerSettledAt !== undefined && pending.puts.length === 0) {
      await Promise.race([new Promise<void>((resolve) => (pending.notify = resolve)), sleepUntil(Math.min(hardStop, Date.now() + 2_000))]);
    }
    this.pending.delete(requestId);
    const first = pending.puts[0];
    if (!first) {
      const why =
        handlerSettledAt === undefined
          ? `the handler was still running ${Date.now() - started} ms after the invocation, ${remainingMs} ms remaining at start (Lambda would have killed it)`
          : `the handler settled after ${handlerSettledAt - started} ms${handlerError ? ` with error: ${String(handlerError)}` : ''}`;
      throw new Error(`no response was PUT to the ResponseURL for ${requestType}: ${why}; stray requests: ${JSON.stringify(this.strayRequests)}`);
    }
    let response: CloudFormationResponseDocument;
    try {
      response = JSON.parse(first.body) as CloudFormationResponseDocument;
    } catch {
      throw new Error(`the response body is not JSON: ${first.body}`);
    }
    return {
      event,
      response,
      rawBody: first.body,
      elapsedMs: first.at - started,
      handlerSettledMs: (handlerSettledAt ?? Date.now()) - started,
      handlerError,
      putCount: pending.puts.length,
      respondedBeforeReturn: handlerSettledAt === undefined || first.at <= handlerSettledAt,
      respondedBeforeDeadline: first.at <= deadline,
      problems: first.problems,
      strayRequests: this.strayRequests.slice(strayMark),
    };
  }

  public async close(): Promise<void> {
    await closeServer(this.server);
  }
}

function validate(body: Buffer, event: CloudFormationCustomResourceEvent): string[] {
  const problems: string[] = [];
  if (body.length > MAX_RESPONSE_BYTES) problems.push(`response is ${body.length} bytes, CloudFormation accepts at most ${MAX_RESPONSE_BYTES}`);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return [...problems, 'response is not JSON'];
  }
  if (doc.Status !== 'SUCCESS' && doc.Status !== 'FAILED') problems.push(`Status is ${JSON.stringify(doc.Status)}`);
  for (const key of ['StackId', 'RequestId', 'LogicalResourceId'] as const) {
    if (doc[key] !== event[key]) problems.push(`${key} is ${JSON.stringify(doc[key])}, expected ${JSON.stringify(event[key])}`);
  }
  if (typeof doc.PhysicalResourceId !== 'string' || doc.PhysicalResourceId.length === 0) {
    problems.push('PhysicalResourceId is missing or empty');
  } else if (doc.PhysicalResourceId.length > 1024) {
    problems.push('PhysicalResourceId is longer than 1 KB');
  }
  if (event.RequestType === 'Delete' && doc.PhysicalResourceId !== event.PhysicalResourceId) {
    problems.push(`Delete must answer with the PhysicalResourceId it was given (${event.PhysicalResourceId}), got ${JSON.stringify(doc.PhysicalResourceId)}`);
  }
  if (doc.Status === 'FAILED' && (typeof doc.Reason !== 'string' || doc.Reason.length === 0)) problems.push('FAILED without a Reason');
  if (doc.Data !== undefined) {
    if (typeof doc.Data !== 'object' || doc.Data === null || Array.isArray(doc.Data)) {
      problems.push('Data is not an object');
    } else {
      for (const [k, v] of Object.entries(doc.Data)) if (typeof v !== 'string') problems.push(`Data.${k} is not a string`);
    }
  }
  return problems;
}

function sleepUntil(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())).unref());
}
