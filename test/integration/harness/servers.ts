import type * as http from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { LOOPBACK } from './ports';

/** Starts `server` on a port of 127.0.0.1 that the OS picks (or `port`); resolves with its base URL. */
export async function listenOnLoopback(server: Server, scheme: 'http' | 'https' = 'http', port = 0): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => resolve());
  });
  return `${scheme}://${LOOPBACK}:${(server.address() as AddressInfo).port}`;
}

/** Stops `server`, cutting its open connections first (a kept-alive one would hold close() up). */
export async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Everything a request or response stream carries, once it has ended. */
export function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** `url` parsed, or an error: the harness talks to 127.0.0.1 only. */
export function loopbackUrl(url: string): URL {
  const u = new URL(url);
  if (u.hostname !== LOOPBACK) throw new Error(`refusing to send a request to ${url}: the harness talks to ${LOOPBACK} only`);
  return u;
}
