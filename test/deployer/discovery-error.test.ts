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

test('only leading Restate codes are dropped, with or without spaces between them', () => {
  expect(describeDiscoveryFailure('[META0003][META0003] boom').summary).toBe('boom');
  expect(describeDiscoveryFailure('[META0003] boom [META0013] twice').summary).toBe('boom [META0013] twice');
});

test('the endpoint called is named only when the message starts with it', () => {
  const aws = 'Error { code: "AccessDenied", message: "no" }';
  expect(describeDiscoveryFailure(`[META0003] error when calling 'arn:x': ${aws}`).summary).toBe("error when calling 'arn:x': AccessDenied: no");
  expect(describeDiscoveryFailure(`[META0003] while retrying: error when calling 'arn:x': ${aws}`).summary).toBe('AccessDenied: no');
});

test('surrounding whitespace is trimmed; a handler error may end with a newline', () => {
  expect(describeDiscoveryFailure("[META0003] error when calling 'http://x/': refused   (DispatchFailure(...))").summary).toBe("error when calling 'http://x/': refused");
  expect(describeDiscoveryFailure('function returned an error during execution: {"errorType":"E","errorMessage":"m"}\n').summary).toBe('the function threw E: m');
});

test('a Restate code that does not lead the message is kept', () => {
  expect(describeDiscoveryFailure('boom [META0013] twice').summary).toBe('boom [META0013] twice');
});

test('a handler error is one only when the JSON ends the message', () => {
  expect(describeDiscoveryFailure('function returned an error during execution: {"errorType":"E"} and then')).toEqual({
    kind: 'other',
    summary: 'function returned an error during execution: {"errorType":"E"} and then',
  });
});

test('a repeated ResourceNotFoundException is said once only when the repetition ends the summary', () => {
  const once = 'ResourceNotFoundException: Function not found: arn:x';
  expect(describeDiscoveryFailure(`${once}: ${once}`).summary).toBe(once);
  expect(describeDiscoveryFailure(`${once}: ${once}: later`).summary).toBe(`${once}: ${once}: later`);
});
