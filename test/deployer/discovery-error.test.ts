import { DISCOVERY_FAILURES } from './discovery-messages';
import { describeDiscoveryFailure } from '../../src/deployer/discovery-error';

test.each(DISCOVERY_FAILURES.map((f) => [f.what, f] as const))('%s: kind and summary', (_what, f) => {
  expect(describeDiscoveryFailure(f.message, f.code)).toEqual({ kind: f.kind, summary: f.summary });
});

test('another AWS error is reported by its code and message, unclassified', () => {
  const message = '[META0003] error when calling \'arn:x\': lambda service returned error: Error { code: "TooManyRequestsException", message: "Rate \\"exceeded\\"", aws_request_id: "1" }';
  expect(describeDiscoveryFailure(message, 'META0003')).toEqual({ kind: 'other', summary: 'error when calling \'arn:x\': TooManyRequestsException: Rate "exceeded"' });
  expect(describeDiscoveryFailure('Error { code: "KMSAccessDeniedException", message: "no key" }')).toEqual({ kind: 'other', summary: 'KMSAccessDeniedException: no key' });
});

test('a handler error that is not JSON is quoted raw; missing fields are named generically', () => {
  expect(describeDiscoveryFailure('function returned an error during execution: {oops}')).toEqual({ kind: 'handler-error', summary: 'the function threw {oops}' });
  expect(describeDiscoveryFailure('function returned an error during execution: {"trace":[]}')).toEqual({ kind: 'handler-error', summary: 'the function threw Error' });
  expect(describeDiscoveryFailure('function returned an error during execution: {"errorMessage":"boom"}').summary).toBe('the function threw Error: boom');
});

test('META0013 without an AWS error or a handler error is an answer that was not a Restate endpoint', () => {
  expect(describeDiscoveryFailure('[META0013] bad response', 'META0013').kind).toBe('not-restate');
  expect(describeDiscoveryFailure('[META0013] bad response', 'META0003').kind).toBe('other');
});
