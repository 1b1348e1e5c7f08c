/**
 * The admin API client on its own, against a recording fake on loopback: the requests it makes
 * (method, path, headers, body), how it reads answers, and the errors it raises.
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import { RecordingServer, Route } from './fakes';
import { closedPort } from './harness';
import { AdminApiError, AdminClient, TransportError } from '../../src/deployer/admin-client';

let server: RecordingServer;
const answer = (r: { status: number; body?: unknown }): Route => () => r;

beforeAll(async () => {
  server = await RecordingServer.start(answer({ status: 200, body: {} }));
});
beforeEach(() => {
  server.requests.length = 0;
  server.route = answer({ status: 200, body: {} });
});
afterAll(async () => {
  await server.stop();
});

/** A server of its own that answers every request with `status` and the raw `text` (not JSON). */
async function withRawAnswer<T>(status: number, text: string, use: (adminUrl: string) => Promise<T>): Promise<T> {
  const s = http.createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(text);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  try {
    return await use(`http://127.0.0.1:${(s.address() as AddressInfo).port}`);
  } finally {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

const client = (token?: string) => new AdminClient({ adminUrl: `${server.url}//`, token });
const only = () => {
  expect(server.requests).toHaveLength(1);
  return server.requests[0];
};

describe('requests', () => {
  test('strip trailing slashes of the admin URL, and send JSON headers and the bearer token', async () => {
    const c = client('key_1');
    expect(c.adminUrl).toBe(server.url);
    await c.listDeployments(1_000);
    const r = only();
    expect(r.method).toBe('GET');
    expect(r.path).toBe('/deployments');
    expect(r.headers.authorization).toBe('Bearer key_1');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers.accept).toBe('application/json');
    expect(r.body).toBeUndefined();
  });

  test.each([undefined, ''])('without a token (%j) there is no Authorization header at all', async (token) => {
    await client(token).healthStatus(1_000);
    expect(only().headers).not.toHaveProperty('authorization');
  });

  test('register POSTs the request body as JSON and returns status and response', async () => {
    server.route = answer({ status: 201, body: { id: 'dp_1', services: [{ name: 'Greeter' }] } });
    const result = await client().register({ uri: 'https://x.example.com', force: true, breaking: false }, 1_000);
    expect(result).toEqual({ status: 201, response: { id: 'dp_1', services: [{ name: 'Greeter' }] } });
    const r = only();
    expect(`${r.method} ${r.path}`).toBe('POST /deployments');
    expect(r.body).toEqual({ uri: 'https://x.example.com', force: true, breaking: false });
    expect(r.headers['content-length']).toBe(String(Buffer.byteLength(JSON.stringify(r.body))));
  });

  test('getService, getDeployment and deleteDeployment encode the name or id into the path', async () => {
    const c = client();
    await c.getService('my service/1', 1_000);
    await c.getDeployment('dp_1', 1_000);
    await c.deleteDeployment('dp_1', 1_000);
    expect(server.calls()).toEqual(['GET /services/my%20service%2F1', 'GET /deployments/dp_1', 'DELETE /deployments/dp_1?force=true']);
  });

  test('modifyService and setServicePublic PATCH the service with the changes', async () => {
    const c = client();
    await c.modifyService('Greeter', { journal_retention: 'PT60S' }, 1_000);
    await c.setServicePublic('Greeter', false, 1_000);
    expect(server.requests.map((r) => [r.method, r.path, r.body])).toEqual([
      ['PATCH', '/services/Greeter', { journal_retention: 'PT60S' }],
      ['PATCH', '/services/Greeter', { public: false }],
    ]);
  });
});

describe('answers', () => {
  test('getDeployment: 404 is undefined, 200 the deployment', async () => {
    server.route = answer({ status: 404, body: { message: 'no such deployment' } });
    await expect(client().getDeployment('dp_1', 1_000)).resolves.toBeUndefined();
    server.route = answer({ status: 200, body: { id: 'dp_1', arn: 'a' } });
    await expect(client().getDeployment('dp_1', 1_000)).resolves.toEqual({ id: 'dp_1', arn: 'a' });
  });

  test('deleteDeployment: resolves with the status, 404 included', async () => {
    server.route = answer({ status: 202 });
    await expect(client().deleteDeployment('dp_1', 1_000)).resolves.toBe(202);
    server.route = answer({ status: 404, body: { message: 'gone' } });
    await expect(client().deleteDeployment('dp_1', 1_000)).resolves.toBe(404);
  });

  test('listDeployments: the deployments, or none when the answer has no list or no body', async () => {
    server.route = answer({ status: 200, body: { deployments: [{ id: 'dp_1' }] } });
    await expect(client().listDeployments(1_000)).resolves.toEqual([{ id: 'dp_1' }]);
    server.route = answer({ status: 200, body: {} });
    await expect(client().listDeployments(1_000)).resolves.toEqual([]);
    server.route = answer({ status: 200 });
    await expect(client().listDeployments(1_000)).resolves.toEqual([]);
  });

  test('a 2xx body that is not JSON reads as empty', async () => {
    await expect(withRawAnswer(200, 'OK, not JSON', (url) => new AdminClient({ adminUrl: url }).listDeployments(1_000))).resolves.toEqual([]);
    await expect(withRawAnswer(200, 'OK', (url) => new AdminClient({ adminUrl: url }).inFlightInvocations('dp_1', 1_000))).resolves.toBe(0);
  });

  test('healthStatus: any status, except 401/403 which are AdminApiErrors', async () => {
    server.route = answer({ status: 503 });
    await expect(client().healthStatus(1_000)).resolves.toBe(503);
    server.route = answer({ status: 200 });
    await expect(client().healthStatus(1_000)).resolves.toBe(200);
    for (const status of [401, 403]) {
      server.route = answer({ status, body: { message: 'invalid token' } });
      const e = await client().healthStatus(1_000).catch((x) => x);
      expect(e).toBeInstanceOf(AdminApiError);
      expect(e).toMatchObject({ method: 'GET', url: `${server.url}/health`, status, apiMessage: 'invalid token', isAuthError: true });
    }
  });

  test('an unreachable admin API is a TransportError naming the URL', async () => {
    const port = await closedPort();
    const e = await new AdminClient({ adminUrl: `http://127.0.0.1:${port}` }).healthStatus(1_000).catch((x) => x);
    expect(e).toBeInstanceOf(TransportError);
    expect(e.url).toBe(`http://127.0.0.1:${port}/health`);
    expect(e.cause).toMatch(/^ECONNREFUSED: /);
  });
});

describe('errors', () => {
  const failWith = async (status: number, body?: unknown, raw?: string): Promise<AdminApiError> => {
    if (raw !== undefined) return withRawAnswer(status, raw, (url) => new AdminClient({ adminUrl: url }).listDeployments(1_000).catch((x) => x));
    server.route = answer({ status, body });
    return client().listDeployments(1_000).catch((x) => x);
  };

  test('carry method, URL, status, the API message and the Restate code', async () => {
    const e = await failWith(500, { message: 'boom', restate_code: 'META0003' });
    expect(e).toBeInstanceOf(AdminApiError);
    expect(e).toMatchObject({ method: 'GET', url: `${server.url}/deployments`, status: 500, apiMessage: 'boom', restateCode: 'META0003' });
    expect(e.message).toBe(`GET ${server.url}/deployments answered HTTP 500: boom (META0003)`);
  });

  test('name the Restate code once, when the message already has it', async () => {
    const e = await failWith(500, { message: '[META0013] not a Restate endpoint', restate_code: 'META0013' });
    expect(e.message).toBe(`GET ${server.url}/deployments answered HTTP 500: [META0013] not a Restate endpoint`);
  });

  test('without a code: none is named, and a null code is none', async () => {
    expect((await failWith(500, { message: 'boom' })).message).toBe(`GET ${server.url}/deployments answered HTTP 500: boom`);
    const e = await failWith(500, { message: 'boom', restate_code: null });
    expect(e.restateCode).toBeUndefined();
    expect(e.isDiscoveryFailure).toBe(false);
  });

  test('a body that is not JSON, or JSON without a message, gives its start; an empty one says so', async () => {
    expect((await failWith(502, undefined, '  Bad Gateway from the proxy  ')).apiMessage).toBe('Bad Gateway from the proxy');
    expect((await failWith(502, undefined, 'x'.repeat(400))).apiMessage).toBe('x'.repeat(300));
    expect((await failWith(502, undefined, '{"error":"nope"}')).apiMessage).toBe('{"error":"nope"}');
    expect((await failWith(502, undefined, '')).apiMessage).toBe('(empty body)');
    expect((await failWith(502, undefined, '   ')).apiMessage).toBe('(empty body)');
  });

  test.each([
    [400, undefined, true],
    [500, 'META0003', true],
    [500, 'META0013', true],
    [500, 'META0004', false],
    [500, undefined, false],
    [409, undefined, false],
  ])('HTTP %i with code %s: isDiscoveryFailure %s', async (status, code, expected) => {
    const e = await failWith(status, { message: 'x', ...(code ? { restate_code: code } : {}) });
    expect(e.isDiscoveryFailure).toBe(expected);
  });

  test.each([
    [401, true],
    [403, true],
    [400, false],
    [404, false],
    [500, false],
  ])('HTTP %i: isAuthError %s', async (status, expected) => {
    expect((await failWith(status, { message: 'x' })).isAuthError).toBe(expected);
  });

  test.each([300, 304])('3xx answers (%i) are errors too', async (status) => {
    const e = await failWith(status, undefined, '');
    expect(e).toBeInstanceOf(AdminApiError);
    expect(e.status).toBe(status);
  });

  test('each call names its method and URL', async () => {
    server.route = answer({ status: 500, body: { message: 'down' } });
    const messages = await Promise.all([
      client().getService('Greeter', 1_000).catch((e) => e.message),
      client().getDeployment('dp_1', 1_000).catch((e) => e.message),
      client().listDeployments(1_000).catch((e) => e.message),
      client().setServicePublic('Greeter', true, 1_000).catch((e) => e.message),
      client().register({ uri: 'http://x', force: false, breaking: false }, 1_000).catch((e) => e.message),
    ]);
    expect(messages).toEqual([
      `GET ${server.url}/services/Greeter answered HTTP 500: down`,
      `GET ${server.url}/deployments/dp_1 answered HTTP 500: down`,
      `GET ${server.url}/deployments answered HTTP 500: down`,
      `PATCH ${server.url}/services/Greeter answered HTTP 500: down`,
      `POST ${server.url}/deployments answered HTTP 500: down`,
    ]);
  });

  test('a client whose signal was aborted sends nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    const e = await new AdminClient({ adminUrl: server.url, signal: controller.signal }).listDeployments(1_000).catch((x) => x);
    expect(e).toBeInstanceOf(TransportError);
    expect(e.message).toContain('aborted: the deployer stopped waiting');
    expect(server.requests).toEqual([]);
  });
});

describe('inFlightInvocations', () => {
  test('queries the count of not completed invocations pinned to the deployment', async () => {
    server.route = answer({ status: 200, body: { rows: [{ count: 7 }] } });
    await expect(client().inFlightInvocations('dp_Ab1_2', 1_000)).resolves.toBe(7);
    const r = only();
    expect(`${r.method} ${r.path}`).toBe('POST /query');
    expect(r.body).toEqual({
      query: "SELECT COUNT(*) AS count FROM sys_invocation_status WHERE pinned_deployment_id = 'dp_Ab1_2' AND status != 'completed'",
    });
  });

  test('reads a count given as a string, and no rows or no count as 0', async () => {
    server.route = answer({ status: 200, body: { rows: [{ count: '12' }] } });
    await expect(client().inFlightInvocations('dp_1', 1_000)).resolves.toBe(12);
    server.route = answer({ status: 200, body: { rows: [] } });
    await expect(client().inFlightInvocations('dp_1', 1_000)).resolves.toBe(0);
    server.route = answer({ status: 200, body: { rows: [{}] } });
    await expect(client().inFlightInvocations('dp_1', 1_000)).resolves.toBe(0);
    server.route = answer({ status: 200, body: {} });
    await expect(client().inFlightInvocations('dp_1', 1_000)).resolves.toBe(0);
  });

  test.each(["dp_x' OR '1'='1", "dp_ok'", "'dp_ok", 'dp-1', 'dp 1', '', 'dp_1\n', "dp_1'; --"])(
    'refuses the id %j without sending anything',
    async (id) => {
      await expect(client().inFlightInvocations(id, 1_000)).rejects.toThrow(`unexpected deployment id ${JSON.stringify(id)}`);
      expect(server.requests).toHaveLength(0);
    },
  );

  test('a failing query is an AdminApiError', async () => {
    server.route = answer({ status: 500, body: { message: 'partition moving' } });
    await expect(client().inFlightInvocations('dp_1', 1_000)).rejects.toBeInstanceOf(AdminApiError);
  });
});
