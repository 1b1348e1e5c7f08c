import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RestateCloudEnvironment, RestateCloudInvokerRole } from '../src';

// The form of a Restate Cloud environment id, and the host id derived from it.

function newStack() {
  const stack = new Stack(new App(), 'Stack');
  const apiKey = secretsmanager.Secret.fromSecretNameV2(stack, 'ApiKey', 'restate/api-key');
  return { stack, apiKey };
}

/** The message synth fails with, or '' when it succeeds. */
function synthError(stack: Stack): string {
  try {
    Template.fromStack(stack);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

function expectedError(who: string, id: unknown): string {
  return (
    `${who}: invalid Restate Cloud environment id ${JSON.stringify(id)}: expected 'env_' followed by lowercase ` +
    "letters and digits, e.g. 'env_201hy10cd3h6426jy80tb32n6en' (copy it from the environment's settings in the Restate Cloud UI)."
  );
}

describe('the form of an environment id', () => {
  test.each([['env_a'], ['env_1'], ['env_201hy10cd3h6426jy80tb32n6en'], ['env_0123456789abcdefghijklmnopqrstuvwxyz']])('%j is valid', (id) => {
    const { stack, apiKey } = newStack();
    new RestateCloudEnvironment(stack, 'Env', { environmentId: id, apiKey });
    new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [id] });
    expect(synthError(stack)).toBe('');
  });

  test.each([
    ['env_'], // nothing after the prefix
    ['env_ABC'], // upper case
    ['env_abc-def'], // a hyphen
    ['env_abc_def'], // a second underscore
    ['xenv_abc'], // something before the prefix
    ['env_abc '], // something after the id
    [' env_abc'],
    ['abc'], // no prefix
    ['ENV_abc'],
    [''],
  ])('%j is refused at synth, naming it, by the invoker role', (id) => {
    const stack = new Stack(new App(), 'Stack');
    new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [id] });
    expect(synthError(stack)).toContain(expectedError('RestateCloudInvokerRole', id));
  });

  test('the environment reports its id in the same terms', () => {
    const { stack, apiKey } = newStack();
    new RestateCloudEnvironment(stack, 'Env', { environmentId: 'env_ABC', apiKey });
    const message = synthError(stack);
    expect(message).toContain(expectedError('RestateCloudEnvironment', 'env_ABC'));
    expect(message).not.toContain('RestateCloudInvokerRole:');
  });

  test('an unresolved token id is not checked at synth', () => {
    const { stack, apiKey } = newStack();
    const param = new CfnParameter(stack, 'EnvId');
    new RestateCloudEnvironment(stack, 'Env', { environmentId: param.valueAsString, apiKey });
    new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [param.valueAsString] });
    expect(synthError(stack)).toBe('');
  });
});

describe('the host id: the environment id without its env_ prefix', () => {
  test('only a leading env_ is removed', () => {
    const { stack, apiKey } = newStack();
    const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: 'xenv_abc', apiKey });
    expect(env.adminUrl).toBe('https://xenv_abc.env.us.restate.cloud:9070');
  });

  test('an id without the prefix is used as is', () => {
    const { stack, apiKey } = newStack();
    const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: 'abc123', apiKey });
    expect(env.ingressUrl).toBe('https://abc123.env.us.restate.cloud:8080');
  });

  test('an id left out (a caller without types) gives an empty host id, and synth fails naming the missing id', () => {
    const { stack, apiKey } = newStack();
    const env = new RestateCloudEnvironment(stack, 'Env', { apiKey } as any);
    expect(env.adminUrl).toBe('https://.env.us.restate.cloud:9070');
    expect(synthError(stack)).toContain('RestateCloudEnvironment: invalid Restate Cloud environment id undefined');
  });

  test('a token id: the second part of the id split at env_', () => {
    const { stack, apiKey } = newStack();
    const param = new CfnParameter(stack, 'EnvId');
    const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: param.valueAsString, apiKey });
    expect(stack.resolve(env.adminUrl)).toEqual({
      'Fn::Join': ['', ['https://', { 'Fn::Select': [1, { 'Fn::Split': ['env_', { Ref: 'EnvId' }] }] }, '.env.us.restate.cloud:9070']],
    });
  });
});

describe('an environment id that is not a string', () => {
  test('is refused even when it reads like a valid id (a caller without types)', () => {
    const stack = new Stack(new App(), 'Stack');
    const id = ['env_abc'] as unknown as string;
    new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [id] });
    expect(synthError(stack)).toContain('RestateCloudInvokerRole: invalid Restate Cloud environment id ["env_abc"]');
  });
});
