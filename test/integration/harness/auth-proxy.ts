import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { LOOPBACK } from './ports';
import { closeServer, listenOnLoopback, readAll } from './servers';

export interface RecordedAdminRequest {
  readonly method: string;
  /** Path and query string. */
  readonly path: string;
  readonly body: string;
  readonly authHeaderPresent: boolean;
  readonly authorized: boolean;
  /** Status the proxy answered with (401, or whatever the admin API answered). */
  readonly status: number;
  readonly responseBody: string;
  /** When the answer was recorded. */
  readonly at: number;
  /** When the request arrived. */
  readonly receivedAt: number;
}

/**
 * Stands in for Restate Cloud's bearer check: a reverse proxy in front of the admin API that
 * answers 401 unless the request carries `Authorization: Bearer <apiKey>`, and records every
 * request it saw (never the header's value) so tests can assert what the handler sent.
 */
export class AuthenticatingProxy {
  public static async start(targetBaseUrl: string, apiKey: string): Promise<AuthenticatingProxy> {
    const proxy = new AuthenticatingProxy(targetBaseUrl, apiKey);
    await listenOnLoopback(proxy.server);
    return proxy;
  }

  public readonly requests: RecordedAdminRequest[] = [];
  private readonly server: http.Server;
  private readonly target: URL;

  private constructor(targetBaseUrl: string, private readonly apiKey: string) {
    this.target = new URL(targetBaseUrl);
    if (this.target.hostname !== LOOPBACK) throw new Error(`proxy target must be on ${LOOPBACK}`);
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.keepAliveTimeout = 1_000;
  }

  public get url(): string {
    return `http://${LOOPBACK}:${(this.server.address() as AddressInfo).port}`;
  }

  /** Index to pass to `since()`: requests recorded from now on. */
  public mark(): number {
    return this.requests.length;
  }

  public since(mark: number): RecordedAdminRequest[] {
    return this.requests.slice(mark);
  }

  public async close(): Promise<void> {
    await closeServer(this.server);
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const receivedAt = Date.now();
    void readAll(req).then((body) => {
      const auth = req.headers.authorization;
      const authorized = auth === `Bearer ${this.apiKey}`;
      const record = (status: number, responseBody: string) =>
        this.requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          body: body.toString('utf8'),
          authHeaderPresent: auth !== undefined,
          authorized,
          status,
          responseBody,
          at: Date.now(),
          receivedAt,
        });
      if (!authorized) {
        const message = auth === undefined ? 'missing bearer token' : 'invalid bearer token';
        const payload = JSON.stringify({ message: `Unauthorized: ${message}` });
        record(401, payload);
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
        res.end(payload);
        return;
      }
      const headers = { ...req.headers };
      delete headers.authorization;
      delete headers.host;
      delete headers.connection;
      headers['content-length'] = String(body.length);
      const upstream = http.request(
        {
          method: req.method,
          hostname: this.target.hostname,
          port: this.target.port,
          path: req.url,
          headers,
          agent: false,
        },
        (up) => {
          void readAll(up).then((upBody) => {
            record(up.statusCode ?? 502, upBody.toString('utf8'));
            const outHeaders = { ...up.headers };
            delete outHeaders['transfer-encoding'];
            delete outHeaders.connection;
            outHeaders['content-length'] = String(upBody.length);
            res.writeHead(up.statusCode ?? 502, outHeaders);
            res.end(upBody);
          });
        },
      );
      upstream.on('error', (err) => {
        const payload = JSON.stringify({ message: `bad gateway: ${err.message}` });
        record(502, payload);
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(payload);
      });
      upstream.end(body);
    });
  }
}
