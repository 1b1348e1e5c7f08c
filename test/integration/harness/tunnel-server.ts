import * as http2 from 'node:http2';
import { LOOPBACK } from './ports';

/** Request headers that belong to one HTTP/2 hop (RFC 9113 8.2.2), never forwarded. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings', 'te']);

/**
 * A loopback stand-in of Restate Cloud's tunnel server, with the tunnel client folded in: an h2c
 * server that takes `/<environment id without env_>/<tunnel name>/<scheme>/<host>/<port>/<rest>`
 * and forwards `/<rest>` to `<scheme>://<host>:<port>` over HTTP/2 cleartext, streams piped both
 * ways, as the tunnel does for an `http` destination.
 *
 * - Another environment or tunnel name: 404, as for a tunnel that is not connected.
 * - Destinations other than `http://127.0.0.1:<port>`: 502, never dialled (loopback only).
 * - `listen()` may come late: until then, connections to its port are refused, as registrations
 *   see a tunnel that has not connected yet.
 */
export class TunnelServerStandIn {
  /** `<method> <path as received> -> <forwarded path>` of every request it forwarded. */
  public readonly forwarded: string[] = [];
  /** `<method> <path> -> <status>` of every request it refused. */
  public readonly refused: string[] = [];
  private readonly server: http2.Http2Server;
  private readonly sessions = new Map<string, http2.ClientHttp2Session>();
  /** Connections from restate-server, which keeps them pooled: cut on close. */
  private readonly incoming = new Set<http2.ServerHttp2Session>();
  private listening = false;

  /**
   * @param port the port to listen on once `listen()` is called (e.g. from `freePort()`), so that
   *             URLs can name it before the stand-in is up
   */
  constructor(public readonly port: number, private readonly environmentId: string, private readonly tunnelName: string) {
    this.server = http2.createServer();
    this.server.on('stream', (stream, headers) => this.onStream(stream, headers));
    this.server.on('session', (session) => {
      this.incoming.add(session);
      session.on('close', () => this.incoming.delete(session));
    });
  }

  /** The base URL registrations start with, as `tunnelServerUrl`. */
  public get url(): string {
    return `http://${LOOPBACK}:${this.port}`;
  }

  public async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, LOOPBACK, () => resolve());
    });
    this.listening = true;
  }

  public async close(): Promise<void> {
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
    for (const s of this.incoming) s.destroy();
    this.incoming.clear();
    if (!this.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.listening = false;
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    const method = String(headers[':method'] ?? '');
    const path = String(headers[':path'] ?? '');
    const [pathname, query] = splitQuery(path);
    const [, environmentId, tunnelName, scheme, host, port, ...rest] = pathname.split('/');
    const refuse = (status: number, why: string) => {
      this.refused.push(`${method} ${path} -> ${status}`);
      if (!stream.destroyed) stream.respond({ ':status': status, 'content-type': 'text/plain' });
      stream.end(why);
    };
    if (environmentId !== this.environmentId || tunnelName !== this.tunnelName) return refuse(404, `no tunnel ${environmentId}/${tunnelName} is connected`);
    if (scheme !== 'http' || host !== LOOPBACK || !/^\d+$/.test(port ?? '')) return refuse(502, `the stand-in forwards to http://${LOOPBACK}:<port> only`);
    const target = `/${rest.join('/')}${query}`;
    this.forwarded.push(`${method} ${path} -> ${target}`);

    const forwardedHeaders: http2.OutgoingHttpHeaders = { ':method': method, ':path': target };
    for (const [name, value] of Object.entries(headers)) {
      if (!name.startsWith(':') && !HOP_HEADERS.has(name) && value !== undefined) forwardedHeaders[name] = value;
    }
    const upstream = this.session(Number(port)).request(forwardedHeaders);
    stream.pipe(upstream);
    upstream.on('response', (response) => {
      const out: http2.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(response)) {
        if (!HOP_HEADERS.has(name) && value !== undefined) out[name] = value;
      }
      if (!stream.destroyed) stream.respond(out);
      upstream.pipe(stream);
    });
    upstream.on('error', () => {
      if (stream.headersSent) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      else refuse(502, `the destination http://${LOOPBACK}:${port} did not answer`);
    });
    stream.on('error', () => upstream.close(http2.constants.NGHTTP2_CANCEL));
    stream.on('close', () => {
      if (!upstream.closed) upstream.close(http2.constants.NGHTTP2_CANCEL);
    });
  }

  /** One HTTP/2 session per destination, made again once it closed. */
  private session(port: number): http2.ClientHttp2Session {
    const key = String(port);
    const existing = this.sessions.get(key);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const session = http2.connect(`http://${LOOPBACK}:${port}`);
    session.on('error', () => session.destroy());
    session.on('close', () => {
      if (this.sessions.get(key) === session) this.sessions.delete(key);
    });
    this.sessions.set(key, session);
    return session;
  }
}

function splitQuery(path: string): [string, string] {
  const i = path.indexOf('?');
  return i < 0 ? [path, ''] : [path.slice(0, i), path.slice(i)];
}
