import * as http from 'node:http';
import * as http2 from 'node:http2';
import { loopbackUrl, readAll } from './servers';

export interface HttpResult {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/**
 * A plain HTTP/1.1 request without connection reuse (so stopped servers and toggled proxies
 * never see a stale pooled socket). For the tests' own calls to the admin API and ingress.
 */
export function httpRequest(
  method: string,
  url: string,
  { body, headers = {}, timeoutMs = 10_000 }: {
    /** A string is sent as is (it must already be JSON); anything else is JSON-encoded. */
    body?: unknown;
    headers?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const u = loopbackUrl(url);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = http.request(
      {
        method,
        hostname: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        agent: false,
        headers: {
          ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
          accept: 'application/json',
          connection: 'close',
          ...headers,
        },
        timeout: timeoutMs,
      },
      (res) => {
        readAll(res).then((responseBody) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: responseBody.toString('utf8') }), reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/**
 * One HTTP/2 cleartext (h2c) request, as restate-server talks to services: for the tests'
 * direct requests to an SDK endpoint (which speaks only HTTP/2). 127.0.0.1 only.
 */
export function http2Request(
  method: string,
  url: string,
  { body, headers = {}, timeoutMs = 10_000 }: { body?: string | Buffer; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const u = loopbackUrl(url);
    const session = http2.connect(`http://${u.host}`);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`${method} ${url} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      session.destroy();
      reject(e);
    };
    session.on('error', fail);
    const req = session.request({ ':method': method, ':path': `${u.pathname}${u.search}`, ...headers });
    let status = 0;
    let responseHeaders: http.IncomingHttpHeaders = {};
    req.on('response', (h) => {
      status = Number(h[':status'] ?? 0);
      responseHeaders = h as http.IncomingHttpHeaders;
    });
    readAll(req).then((responseBody) => {
      clearTimeout(timer);
      session.close();
      resolve({ status, headers: responseHeaders, body: responseBody.toString('utf8') });
    }, fail);
    req.end(body);
  });
}
