import * as net from 'node:net';

/** The only address anything in the integration harness listens on or connects to. */
export const LOOPBACK = '127.0.0.1';

/**
 * A TCP port on 127.0.0.1 that nothing listens on right now (the OS picks it).
 *
 * Used for servers that must be told their port up front (restate-server) and for "nothing
 * listens here" endpoints. The tests run in a private network namespace, so no other process
 * on the machine can take the port between this call and its use.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once `fn()` returns true, polling every `intervalMs`; rejects after `timeoutMs`. */
export async function waitUntil(
  what: string,
  fn: () => Promise<boolean>,
  { timeoutMs = 30_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await fn()) return;
    } catch (e) {
      lastError = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
