import { CfnParameter, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RestateEnvironment } from '../src';

const PUBLIC_KEY = 'publickeyv1_ChjENKeMvCtRnqG2mrBK1HmPKufgFUc98K8B3ZZSqbBk';

describe('RestateEnvironment.fromAttributes', () => {
  test('a local admin URL', () => {
    const env = RestateEnvironment.fromAttributes({ adminUrl: 'http://localhost:9070' });
    expect(env.adminUrl).toBe('http://localhost:9070');
    expect(env.authToken).toBeUndefined();
    expect(env.invokerRole).toBeUndefined();
    expect(env.requireHttps).toBeUndefined();
    expect(env.requestSigningPublicKeys).toBeUndefined();
  });

  test.each([
    ['http://localhost:9070/', 'http://localhost:9070'],
    ['http://localhost:9070//', 'http://localhost:9070'],
    ['https://restate.internal:9070/admin/', 'https://restate.internal:9070/admin'],
  ])('trailing slashes are stripped: %s', (given, expected) => {
    expect(RestateEnvironment.fromAttributes({ adminUrl: given }).adminUrl).toBe(expected);
  });

  test.each([['localhost:9070'], ['not a url'], [''], ['ftp://restate.internal:9070'], ['/admin']])(
    'bad URL %j throws naming it',
    (bad) => {
      let message = '';
      try {
        RestateEnvironment.fromAttributes({ adminUrl: bad });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toContain(`invalid Restate admin URL ${JSON.stringify(bad)}`);
      expect(message).toContain('http(s)');
    },
  );

  test('a token URL passes through unchanged', () => {
    const stack = new Stack();
    const param = new CfnParameter(stack, 'AdminUrl');
    const env = RestateEnvironment.fromAttributes({ adminUrl: param.valueAsString });
    expect(env.adminUrl).toBe(param.valueAsString);
    expect(stack.resolve(env.adminUrl)).toEqual({ Ref: 'AdminUrl' });
  });

  test('other attributes pass through', () => {
    const stack = new Stack();
    const authToken = secretsmanager.Secret.fromSecretNameV2(stack, 'Token', 'restate/token');
    const invokerRole = iam.Role.fromRoleArn(stack, 'Invoker', 'arn:aws:iam::111111111111:role/invoker');
    const env = RestateEnvironment.fromAttributes({
      adminUrl: 'https://restate.internal:9070',
      authToken,
      authTokenJsonField: 'token',
      invokerRole,
      requireHttps: true,
      requestSigningPublicKeys: [PUBLIC_KEY],
    });
    expect(env).toEqual({
      adminUrl: 'https://restate.internal:9070',
      authToken,
      authTokenJsonField: 'token',
      invokerRole,
      requireHttps: true,
      requestSigningPublicKeys: [PUBLIC_KEY],
    });
  });

  test('a bad request-signing key throws naming it', () => {
    expect(() =>
      RestateEnvironment.fromAttributes({ adminUrl: 'http://localhost:9070', requestSigningPublicKeys: ['publickeyv1_x'] }),
    ).toThrow(/invalid request-signing public key "publickeyv1_x"/);
  });
});
