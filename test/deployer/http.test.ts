/**
 * One HTTP request with a hard timeout, on loopback: any status resolves, no answer at all
 * (refused, reset, timed out, aborted) rejects with a TransportError that says which.
 */
import * as http from 'http';
import * as https from 'https';
import { AddressInfo } from 'net';
import { closedPort } from './harness';
import { AdminClient } from '../../src/deployer/admin-client';
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

test('an answer cut off in its body is a TransportError, not a hang', async () => {
  const cutting = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('{"partial":');
    setTimeout(() => res.socket?.destroy(), 20);
  });
  await new Promise<void>((r) => cutting.listen(0, '127.0.0.1', r));
  try {
    const target = `http://127.0.0.1:${(cutting.address() as AddressInfo).port}/`;
    const started = Date.now();
    const e = await request({ method: 'GET', url: target, timeoutMs: 5_000 }).catch((x) => x);
    expect(e).toBeInstanceOf(TransportError);
    expect(e.message).toContain(`(${target})`);
    expect(Date.now() - started).toBeLessThan(2_000);
  } finally {
    cutting.closeAllConnections();
    await new Promise<void>((r) => cutting.close(() => r()));
  }
});

test('a signal that is never aborted changes nothing', async () => {
  const res = await request({ method: 'GET', url: `${url}/`, timeoutMs: 2_000, signal: new AbortController().signal });
  expect(res.status).toBe(200);
});

/** The certificate of another, unrelated CA. */
const OTHER_CA = [
  '-----BEGIN CERTIFICATE-----',
  'MIIBdzCCAR2gAwIBAgIUe8vNhQ5fzi6v21q66CNyeAouVAQwCgYIKoZIzj0EAwIw',
  'EDEOMAwGA1UEAwwFb3RoZXIwIBcNMjYxMjAyMDIyMzMzWhgPMjEyNjExMDgwMjIz',
  'MzNaMBAxDjAMBgNVBAMMBW90aGVyMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE',
  'o+Igb6zFxT2oJ/uSJVaWQxZioV3Q9shl0g/+fBl6coKF7ZvLYmpFTuNOmPB7/CSZ',
  'ectU6XT86WM+LNTnnP6W06NTMFEwHQYDVR0OBBYEFMDdFaxJTFFUdsHYZm5FlQtY',
  'woWjMB8GA1UdIwQYMBaAFMDdFaxJTFFUdsHYZm5FlQtYwoWjMA8GA1UdEwEB/wQF',
  'MAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAN8GelI0HGoV6FIgwNfECygYYN0gD0+i',
  '2qYJGsfIU65+AiBYwzdjVkT0dgMVZl8z7PxaM1THpkvKSiYxE1NbOY4qHg==',
  '-----END CERTIFICATE-----',
].join('\n');

describe('https', () => {
  // A self-signed certificate for 127.0.0.1 (valid for 100 years), made for this test only.
  const CERT = [
    '-----BEGIN CERTIFICATE-----',
    'MIIBkTCCATagAwIBAgIUIfc0c5ImFImeKfB3KXHPRzwmzKswCgYIKoZIzj0EAwIw',
    'FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTIwMjAyMjMyNloYDzIxMjYxMTA4',
    'MDIyMzI2WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO',
    'PQMBBwNCAAQGiPI0VR1RoHpQorD+nqhB7+9p+Kb+pt44JQD4MEv844OKDRH4OChh',
    'RZ5SaV6v38HxKI3LRJQUPCjslXc7hg+lo2QwYjAdBgNVHQ4EFgQUtI/TtFakmLFS',
    'WXolC4vdbVioI2QwHwYDVR0jBBgwFoAUtI/TtFakmLFSWXolC4vdbVioI2QwDwYD',
    'VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0kAMEYC',
    'IQCVDEcNNMYsGK24YDobdnri2iLPtz94LPi9c86uuZ8cwwIhAMKmKfz/VMlJytkW',
    'JiB6Mi6myz7X48MrU995MoXQDOp0',
    '-----END CERTIFICATE-----',
  ].join('\n');
  const KEY = [
    '-----BEGIN PRIVATE KEY-----',
    'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgIsUYJbXyiJLxKgcA',
    'SfURQUA2PfsWzZ/rhhhCXxN46PqhRANCAAQGiPI0VR1RoHpQorD+nqhB7+9p+Kb+',
    'pt44JQD4MEv844OKDRH4OChhRZ5SaV6v38HxKI3LRJQUPCjslXc7hg+l',
    '-----END PRIVATE KEY-----',
  ].join('\n');
  let tls: https.Server;
  let tlsUrl: string;
  beforeAll(async () => {
    tls = https.createServer({ cert: CERT, key: KEY }, (_req, res) => {
      res.writeHead(200);
      res.end('secure');
    });
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    tlsUrl = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    tls.closeAllConnections();
    await new Promise<void>((r) => tls.close(() => r()));
  });

  test('a certificate no trusted CA signed is refused by default', async () => {
    const e = await request({ method: 'GET', url: tlsUrl, timeoutMs: 2_000 }).catch((x) => x);
    expect(e).toBeInstanceOf(TransportError);
    expect(e.cause).toMatch(/^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN): /);
  });

  test('insecure accepts it', async () => {
    await expect(request({ method: 'GET', url: tlsUrl, timeoutMs: 2_000, insecure: true })).resolves.toEqual({ status: 200, body: 'secure' });
  });

  test('a pinned CA that signed it accepts it; another CA does not', async () => {
    await expect(request({ method: 'GET', url: tlsUrl, timeoutMs: 2_000, ca: CERT })).resolves.toEqual({ status: 200, body: 'secure' });
    const other = await request({ method: 'GET', url: tlsUrl, timeoutMs: 2_000, ca: OTHER_CA }).catch((x) => x);
    expect(other).toBeInstanceOf(TransportError);
  });

  test('the admin client passes insecure and its pinned CA on to every request', async () => {
    await expect(new AdminClient({ adminUrl: tlsUrl, insecure: true }).healthStatus(2_000)).resolves.toBe(200);
    await expect(new AdminClient({ adminUrl: tlsUrl, ca: CERT }).healthStatus(2_000)).resolves.toBe(200);
    await expect(new AdminClient({ adminUrl: tlsUrl, ca: OTHER_CA }).healthStatus(2_000)).rejects.toBeInstanceOf(TransportError);
    await expect(new AdminClient({ adminUrl: tlsUrl }).healthStatus(2_000)).rejects.toBeInstanceOf(TransportError);
  });

  test('insecure and a CA do not apply to plain http', async () => {
    await expect(request({ method: 'GET', url: `${url}/`, timeoutMs: 2_000, insecure: true, ca: 'not a pem' })).resolves.toMatchObject({ status: 200 });
  });
});
