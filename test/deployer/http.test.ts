/**
 * One HTTP request with a hard timeout, on loopback: any status resolves, no answer at all
 * (refused, reset, timed out, aborted) rejects with a TransportError that says which.
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import { closedPort } from './harness';
import { request, TransportError } from '../../src/deployer/http';

let server: http.Server;
let url: string;
let seen: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }[];
let behaviour: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      behaviour(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
beforeEach(() => {
  seen = [];
  behaviour = (_req, res) => {
    res.writeHead(200);
    res.end('hello');
  };
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

test('resolves with status and body, and sends method, path, headers and body with its length', async () => {
  behaviour = (_req, res) => {
    res.writeHead(418);
    res.end('täpot');
  };
  const res = await request({ method: 'PUT', url: `${url}/a/b?x=1`, headers: { 'x-test': 'yes' }, body: 'grüße', timeoutMs: 2_000 });
  expect(res).toEqual({ status: 418, body: 'täpot' });
  expect(seen).toHaveLength(1);
  expect(seen[0]).toMatchObject({ method: 'PUT', url: '/a/b?x=1', body: 'grüße' });
  expect(seen[0].headers['x-test']).toBe('yes');
  expect(seen[0].headers['content-length']).toBe(String(Buffer.byteLength('grüße')));
});

test('without a body, no content-length is sent and nothing is written', async () => {
  await request({ method: 'GET', url: `${url}/`, timeoutMs: 2_000 });
  expect(seen[0].headers).not.toHaveProperty('content-length');
  expect(seen[0].body).toBe('');
});

test('a refused connection is a TransportError with the error code', async () => {
  const port = await closedPort();
  const target = `http://127.0.0.1:${port}/health`;
  const e = await request({ method: 'GET', url: target, timeoutMs: 2_000 }).catch((x) => x);
  expect(e).toBeInstanceOf(TransportError);
  expect(e.url).toBe(target);
  expect(e.cause).toBe(`ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port}`);
  expect(e.message).toBe(`ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port} (${target})`);
});

test('no answer within the timeout is a TransportError saying so', async () => {
  behaviour = () => undefined; // never answers
  const e = await request({ method: 'GET', url: `${url}/slow`, timeoutMs: 100 }).catch((x) => x);
  expect(e).toBeInstanceOf(TransportError);
  expect(e.cause).toBe('no response within 100 ms');
});

test('a reset connection is a TransportError', async () => {
  behaviour = (req) => req.socket.destroy();
  const e = await request({ method: 'POST', url: `${url}/reset`, body: '{}', timeoutMs: 2_000 }).catch((x) => x);
  expect(e).toBeInstanceOf(TransportError);
  expect(e.cause).toMatch(/^ECONNRESET: /);
});

test('an already aborted signal rejects before anything is sent', async () => {
  const controller = new AbortController();
  controller.abort();
  const e = await request({ method: 'GET', url: `${url}/`, timeoutMs: 2_000, signal: controller.signal }).catch((x) => x);
  expect(e).toBeInstanceOf(TransportError);
  expect(e.cause).toBe('aborted: the deployer stopped waiting');
  expect(seen).toHaveLength(0);
});

test('aborting while waiting for the answer hangs up', async () => {
  const controller = new AbortController();
  behaviour = () => controller.abort(); // the deployer stops waiting while the server works
  const e = await request({ method: 'GET', url: `${url}/`, timeoutMs: 5_000, signal: controller.signal }).catch((x) => x);
  expect(e).toBeInstanceOf(TransportError);
  expect(e.cause).toBe('aborted: the deployer stopped waiting');
});

test('a signal that is never aborted changes nothing', async () => {
  const res = await request({ method: 'GET', url: `${url}/`, timeoutMs: 2_000, signal: new AbortController().signal });
  expect(res.status).toBe(200);
});
