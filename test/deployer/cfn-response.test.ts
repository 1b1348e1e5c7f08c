/**
 * The answer to CloudFormation: the response body (fields, default reason, a reason cut to fit
 * 4096 bytes) and its delivery to the pre-signed URL (a 5xx is retried, a 4xx is not).
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { deploymentEvent, RecordingServer } from './fakes';
import { closedPort } from './harness';
import { responseBody, sendResponse } from '../../src/deployer/cfn-response';

const event = (cfnUrl = 'http://127.0.0.1:9') =>
  deploymentEvent('Create', { AdminUrl: 'https://a' }, cfnUrl) as CloudFormationCustomResourceEvent;

describe('responseBody', () => {
  test('carries status, reason, ids and data; never NoEcho', () => {
    const body = JSON.parse(responseBody(event(), { status: 'SUCCESS', physicalResourceId: 'dp_1', reason: 'done', data: { DeploymentId: 'dp_1' } }));
    expect(body).toEqual({
      Status: 'SUCCESS',
      Reason: 'done',
      PhysicalResourceId: 'dp_1',
      StackId: 'arn:aws:cloudformation:us-east-1:111111111111:stack/App/1',
      RequestId: 'req-1',
      LogicalResourceId: 'Registration',
      NoEcho: false,
      Data: { DeploymentId: 'dp_1' },
    });
  });

  test('without a reason: the log stream if known, else OK; without data: {}', () => {
    expect(JSON.parse(responseBody(event(), { status: 'FAILED', physicalResourceId: 'x' }, 'stream-1'))).toMatchObject({
      Reason: 'See CloudWatch log stream stream-1',
      Data: {},
    });
    expect(JSON.parse(responseBody(event(), { status: 'FAILED', physicalResourceId: 'x' })).Reason).toBe('OK');
  });

  test('a reason too long for 4096 bytes is cut to just fit, and says so', () => {
    const reason = 'x'.repeat(5_000);
    const body = responseBody(event(), { status: 'FAILED', physicalResourceId: 'x', reason });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(4096);
    expect(Buffer.byteLength(body)).toBeGreaterThan(4_050);
    const parsed = JSON.parse(body);
    expect(parsed.Reason.endsWith(' [truncated]')).toBe(true);
    expect(reason.startsWith(parsed.Reason.slice(0, -' [truncated]'.length))).toBe(true);
    expect(parsed.Status).toBe('FAILED');
  });

  test('multi-byte reasons are cut until the body fits in bytes', () => {
    const body = responseBody(event(), { status: 'FAILED', physicalResourceId: 'x', reason: 'é'.repeat(3_000) });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(4096);
    expect(JSON.parse(body).Reason.endsWith(' [truncated]')).toBe(true);
  });

  test('a body of exactly 4096 bytes is sent whole', () => {
    const fill = (n: number) => responseBody(event(), { status: 'FAILED', physicalResourceId: 'x', reason: 'x'.repeat(n) });
    const overhead = Buffer.byteLength(fill(0));
    const exact = fill(4096 - overhead);
    expect(Buffer.byteLength(exact)).toBe(4096);
    expect(JSON.parse(exact).Reason).toBe('x'.repeat(4096 - overhead));
    expect(JSON.parse(fill(4097 - overhead)).Reason.endsWith(' [truncated]')).toBe(true);
  });

  test('characters JSON escapes (two bytes each) are cut until the body fits', () => {
    const body = responseBody(event(), { status: 'FAILED', physicalResourceId: 'x', reason: '"'.repeat(3_000) });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(4096);
    expect(JSON.parse(body).Reason).toMatch(/^"+ \[truncated\]$/);
  });

  test('data too large for any reason beside it is left out, and the reason says so', () => {
    const ServiceNames = Array.from({ length: 400 }, (_, i) => `Service${i}`).join(',');
    const body = responseBody(event(), { status: 'SUCCESS', physicalResourceId: 'dp_1', reason: 'Registered', data: { DeploymentId: 'dp_1', ServiceNames } });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(4096);
    const parsed = JSON.parse(body);
    expect(parsed.Data).toEqual({});
    expect(parsed.Reason).toBe("The response's Data (DeploymentId, ServiceNames) was left out: it exceeds CloudFormation's 4096-byte limit. Registered");
  });

  test('ids too large for any body still give an answer (which CloudFormation then refuses)', () => {
    const body = responseBody(event(), { status: 'FAILED', physicalResourceId: 'x'.repeat(5_000), reason: 'boom' });
    expect(JSON.parse(body).Reason).toBe(' [truncated]');
  });

  test('a reason that fits is sent whole', () => {
    const reason = 'x'.repeat(3_500);
    expect(JSON.parse(responseBody(event(), { status: 'FAILED', physicalResourceId: 'x', reason })).Reason).toBe(reason);
  });
});

describe('sendResponse', () => {
  let cfn: RecordingServer;
  beforeAll(async () => {
    cfn = await RecordingServer.start(() => ({ status: 200 }));
  });
  let logs: Record<string, unknown>[] = [];
  beforeEach(() => {
    cfn.requests.length = 0;
    cfn.route = () => ({ status: 200 });
    logs = [];
    jest.spyOn(console, 'log').mockImplementation((l: string) => void logs.push(JSON.parse(l)));
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(() => cfn.stop());

  test('PUTs the body to the response URL with an empty content type', async () => {
    await sendResponse(event(cfn.url), { status: 'SUCCESS', physicalResourceId: 'dp_1', reason: 'ok' });
    expect(cfn.requests).toHaveLength(1);
    const r = cfn.requests[0];
    expect(r.method).toBe('PUT');
    expect(r.path).toBe('/cfn-response?X-Amz-Signature=abc');
    expect(r.headers['content-type']).toBe('');
    expect(r.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'dp_1', Reason: 'ok' });
  });

  const send = () => sendResponse(event(cfn.url), { status: 'SUCCESS', physicalResourceId: 'dp_1', reason: 'ok' });
  const to = () => `${cfn.url}/cfn-response`;

  test('a 5xx is retried; the first 2xx ends it; each step is logged', async () => {
    let n = 0;
    cfn.route = () => ({ status: n++ === 0 ? 500 : 299 });
    await send();
    expect(cfn.requests).toHaveLength(2);
    expect(logs).toEqual([
      { message: 'response rejected', httpStatus: 500, attempt: 1, to: to() },
      { message: 'response not delivered; retrying', error: 'HTTP 500', attempt: 1, to: to() },
      { message: 'responded', status: 'SUCCESS', physicalResourceId: 'dp_1', to: to() },
    ]);
  });

  test('three attempts in all, about half a second and a second apart, then it gives up saying so', async () => {
    cfn.route = () => ({ status: 502 });
    const started = Date.now();
    await send();
    expect(cfn.requests).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    expect(logs.at(-1)).toEqual({ message: 'response not delivered', error: 'HTTP 502', to: to() });
  });

  test.each([403, 499, 300])('a %i (e.g. an expired or used URL) is not retried, and is logged', async (status) => {
    cfn.route = () => ({ status });
    await send();
    expect(cfn.requests).toHaveLength(1);
    expect(logs).toEqual([{ message: 'response rejected', httpStatus: status, attempt: 1, to: to() }]);
  });

  test('an unreachable URL is retried, then given up on', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/cfn-response?X-Amz-Signature=abc`;
    await sendResponse({ ...event(), ResponseURL: url }, { status: 'SUCCESS', physicalResourceId: 'dp_1' });
    expect(logs.map((l) => l.message)).toEqual(['response not delivered; retrying', 'response not delivered; retrying', 'response not delivered']);
    expect(logs.at(-1)!.to).toBe(`http://127.0.0.1:${port}/cfn-response`);
  });

  test('the log names the host and path, never the pre-signed query; a URL that does not parse is not logged', async () => {
    await send();
    expect(JSON.stringify(logs)).toContain(to());
    expect(JSON.stringify(logs)).not.toContain('X-Amz-Signature');
    logs = [];
    await sendResponse({ ...event(), ResponseURL: 'not a url?X-Amz-Signature=abc' }, { status: 'SUCCESS', physicalResourceId: 'dp_1' });
    expect(logs.at(-1)).toMatchObject({ message: 'response not delivered', to: '(invalid ResponseURL)' });
    expect(JSON.stringify(logs)).not.toContain('X-Amz-Signature');
  });
});
