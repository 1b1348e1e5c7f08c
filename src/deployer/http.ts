import * as http from 'http';
import * as https from 'https';

export interface HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Abort the request after this many milliseconds. */
  readonly timeoutMs: number;
  /** Accept any TLS certificate (self-signed test environments only). */
  readonly insecure?: boolean;
  /** Trust only this CA (PEM) for https. */
  readonly ca?: string;
  /** Hang up when this aborts: a registration the deployer stops waiting for is cancelled. */
  readonly signal?: AbortSignal;
}

export interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

/** Raised when no HTTP response arrived at all (refused, reset, DNS, timeout). */
export class TransportError extends Error {
  constructor(
    readonly url: string,
    readonly cause: string,
  ) {
    super(`${cause} (${url})`);
  }
}

/** One HTTP(S) request with a hard timeout; resolves with any status, rejects with TransportError. */
export function request(req: HttpRequest): Promise<HttpResponse> {
  const url = new URL(req.url);
  const lib = url.protocol === 'https:' ? https : http;
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  return new Promise((resolve, reject) => {
    // An already aborted signal fails the request at once, before anything is sent.
    const r = lib.request(
      url,
      {
        method: req.method,
        headers: { ...req.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
        timeout: req.timeoutMs,
        // TLS options only (plain http ignores them).
        ...(req.insecure ? { rejectUnauthorized: false } : {}),
        ...(req.ca ? { ca: req.ca } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => reject(new TransportError(req.url, describe(e))));
      },
    );
    r.on('timeout', () => r.destroy(new Error(`no response within ${req.timeoutMs} ms`)));
    r.on('error', (e) => reject(new TransportError(req.url, describe(e))));
    if (body) r.write(body);
    r.end();
  });
}

function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.name === 'AbortError') return 'aborted: the deployer stopped waiting';
  return err.code ? `${err.code}: ${err.message}` : String(err.message ?? e);
}
