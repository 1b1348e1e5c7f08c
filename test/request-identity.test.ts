import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RestateCloudEnvironment, RestateEnvironment, RestateRequestIdentity } from '../src';

// RestateRequestIdentity: the environment's request-signing public keys handed to a service.

const ENV_ID = 'env_201hy10cd3h6426jy80tb32n6en';
const KEY_1 = 'publickeyv1_ChjENKeMvCtRnqG2mrBK1HmPKufgFUc98K8B3ZZSqbBk';
const KEY_2 = 'publickeyv1_5Wqe4Gv3aC2RjJr6J4vMZT2yrx8bNpE2RgMbJpGq1HmP';

function scene(keys?: string[]) {
  const stack = new Stack(new App(), 'Stack');
  const apiKey = secretsmanager.Secret.fromSecretNameV2(stack, 'ApiKey', 'restate/api-key');
  const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: ENV_ID, apiKey, requestSigningPublicKeys: keys });
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {};'),
  });
  const task = new ecs.FargateTaskDefinition(stack, 'Task');
  const container = task.addContainer('App', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/example/app:1') });
  return { stack, env, fn, container };
}

function functionVariables(stack: Stack): Record<string, unknown> {
  const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')) as any[];
  return fn.Properties.Environment?.Variables ?? {};
}

function containerVariables(stack: Stack): Array<{ Name: string; Value: unknown }> {
  const [task] = Object.values(Template.fromStack(stack).findResources('AWS::ECS::TaskDefinition')) as any[];
  return task.Properties.ContainerDefinitions[0].Environment ?? [];
}

describe('keysOf', () => {
  test('the keys joined by commas, in order', () => {
    const { env } = scene([KEY_1, KEY_2]);
    expect(RestateRequestIdentity.keysOf(env)).toBe(`${KEY_1},${KEY_2}`);
  });

  test('one key: just that key', () => {
    const { env } = scene([KEY_1]);
    expect(RestateRequestIdentity.keysOf(env)).toBe(KEY_1);
  });

  test.each([[undefined], [[] as string[]]])('no keys (%j): throws naming the admin URL and where the keys come from', (keys) => {
    const env = RestateEnvironment.fromAttributes({ adminUrl: 'https://restate.example.com:9070', requestSigningPublicKeys: keys });
    expect(() => RestateRequestIdentity.keysOf(env)).toThrow(
      'the Restate environment at https://restate.example.com:9070 has no request-signing public keys: pass requestSigningPublicKeys ' +
        "(the 'publickeyv1_...' keys from the environment's security settings) to RestateCloudEnvironment or RestateEnvironment.fromAttributes.",
    );
  });
});

describe('addToFunction', () => {
  test('sets RESTATE_IDENTITY_KEYS by default', () => {
    const { stack, env, fn } = scene([KEY_1, KEY_2]);
    RestateRequestIdentity.addToFunction(fn, env);
    expect(RestateRequestIdentity.DEFAULT_VARIABLE_NAME).toBe('RESTATE_IDENTITY_KEYS');
    expect(functionVariables(stack)).toEqual({ RESTATE_IDENTITY_KEYS: `${KEY_1},${KEY_2}` });
  });

  test('or the variable named in the options', () => {
    const { stack, env, fn } = scene([KEY_1]);
    RestateRequestIdentity.addToFunction(fn, env, { variableName: 'MY_KEYS' });
    expect(functionVariables(stack)).toEqual({ MY_KEYS: KEY_1 });
  });

  test('token keys stay tokens in the variable', () => {
    const { stack, fn } = scene();
    const param = new CfnParameter(stack, 'Key');
    const env = RestateEnvironment.fromAttributes({ adminUrl: 'https://restate.example.com:9070', requestSigningPublicKeys: [param.valueAsString] });
    RestateRequestIdentity.addToFunction(fn, env);
    expect(functionVariables(stack)).toEqual({ RESTATE_IDENTITY_KEYS: { Ref: 'Key' } });
  });

  test('an environment without keys: throws, and the function is left unchanged', () => {
    const { stack, env, fn } = scene();
    expect(() => RestateRequestIdentity.addToFunction(fn, env)).toThrow(/has no request-signing public keys/);
    expect(functionVariables(stack)).toEqual({});
  });
});

describe('addToContainer', () => {
  test('sets RESTATE_IDENTITY_KEYS by default', () => {
    const { stack, env, container } = scene([KEY_1, KEY_2]);
    RestateRequestIdentity.addToContainer(container, env);
    expect(containerVariables(stack)).toEqual([{ Name: 'RESTATE_IDENTITY_KEYS', Value: `${KEY_1},${KEY_2}` }]);
  });

  test('or the variable named in the options', () => {
    const { stack, env, container } = scene([KEY_1]);
    RestateRequestIdentity.addToContainer(container, env, { variableName: 'MY_KEYS' });
    expect(containerVariables(stack)).toEqual([{ Name: 'MY_KEYS', Value: KEY_1 }]);
  });

  test('an environment without keys: throws', () => {
    const { env, container } = scene();
    expect(() => RestateRequestIdentity.addToContainer(container, env)).toThrow(/https:\/\/.*\.restate\.cloud:9070 has no request-signing public keys/);
  });
});
