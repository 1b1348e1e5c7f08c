/**
 * The answer to CloudFormation: the response body (fields, default reason, a reason cut to fit
 * 4096 bytes) and its delivery to the pre-signed URL (a 5xx is retried, a 4xx is not).
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { deploymentEvent, RecordingServer } from './fakes';
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
  beforeEach(() => {
    cfn.requests.length = 0;
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
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

  test('a 5xx is retried; the first 2xx ends it', async () => {
    let n = 0;
    cfn.route = () => ({ status: n++ === 0 ? 503 : 200 });
    await sendResponse(event(cfn.url), { status: 'SUCCESS', physicalResourceId: 'dp_1', reason: 'ok' });
    expect(cfn.requests).toHaveLength(2);
  });

  test('a 4xx (an expired or wrong URL) is not retried', async () => {
    cfn.route = () => ({ status: 403 });
    await sendResponse(event(cfn.url), { status: 'SUCCESS', physicalResourceId: 'dp_1', reason: 'ok' });
    expect(cfn.requests).toHaveLength(1);
  });

  test('the log names the host and path, never the pre-signed query', async () => {
    const lines: string[] = [];
    (console.log as jest.Mock).mockImplementation((l: string) => lines.push(l));
    cfn.route = () => ({ status: 200 });
    await sendResponse(event(cfn.url), { status: 'SUCCESS', physicalResourceId: 'dp_1', reason: 'ok' });
    expect(lines.join('\n')).toContain(`${cfn.url}/cfn-response`);
    expect(lines.join('\n')).not.toContain('X-Amz-Signature');
  });
});
