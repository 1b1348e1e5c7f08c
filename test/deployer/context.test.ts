/** How the deployer names what it works on, in reasons and progress. */
import { describeEndpoint, describeOwner, message, Progress } from '../../src/deployer/context';

const LAMBDA_ARN = 'arn:aws:lambda:us-east-1:111111111111:function:greeter:7';
const STACK_ID = 'arn:aws:cloudformation:us-east-1:111111111111:stack/Orders/5e1a2b3c';

test('an endpoint is named by its function or its URL', () => {
  expect(describeEndpoint({ AdminUrl: 'x', LambdaArn: LAMBDA_ARN })).toBe(`Lambda ${LAMBDA_ARN}`);
  expect(describeEndpoint({ AdminUrl: 'x', Uri: 'https://services.example.com/' })).toBe('endpoint https://services.example.com/');
  expect(describeEndpoint({ AdminUrl: 'x' })).toBe('endpoint (no Uri)');
});

describe('the owner of a deployment, from its metadata', () => {
  const owner = { 'restate-cloud-cdk.owner': 'Orders/Handler/Registration' };
  test('a CloudFormation resource: its logical id and stack name, and its construct path', () => {
    const meta = { 'restate-cloud-cdk.logical-id': 'Registration', 'restate-cloud-cdk.stack-id': STACK_ID };
    expect(describeOwner(meta)).toBe('Registration of stack Orders');
    expect(describeOwner({ ...meta, ...owner })).toBe("Registration of stack Orders ('Orders/Handler/Registration')");
    expect(describeOwner({ ...meta, 'restate-cloud-cdk.stack-id': 'Orders' })).toBe('Registration of stack Orders');
  });
  test('without both a logical id and a stack id, only the construct path, if any', () => {
    expect(describeOwner({ 'restate-cloud-cdk.logical-id': 'Registration', ...owner })).toBe("'Orders/Handler/Registration'");
    expect(describeOwner({ 'restate-cloud-cdk.stack-id': STACK_ID, ...owner })).toBe("'Orders/Handler/Registration'");
    expect(describeOwner({ 'restate-cloud-cdk.logical-id': 'Registration' })).toBe('a registration made outside this stack');
    expect(describeOwner({})).toBe('a registration made outside this stack');
  });
});

test('the message of anything thrown', () => {
  expect(message(new Error('boom'))).toBe('boom');
  expect(message('text')).toBe('text');
  expect(message(undefined)).toBe('undefined');
});

test('progress: the last failed answer belongs to its phase, and a new phase starts without one', () => {
  const progress = new Progress('waiting for the admin API');
  expect(progress.last).toBeUndefined();
  progress.last = 'HTTP 503';
  expect([progress.phase, progress.last]).toEqual(['waiting for the admin API', 'HTTP 503']);
  progress.phase = 'registering';
  expect([progress.phase, progress.last]).toEqual(['registering', undefined]);
});
