import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RestateCloudEnvironment, RestateCloudInvokerRole, RestateCloudRegion } from '../src';

const ENV_ID = 'env_201hy10cd3h6426jy80tb32n6en';
const HOST_ID = '201hy10cd3h6426jy80tb32n6en';
const PUBLIC_KEY = 'publickeyv1_ChjENKeMvCtRnqG2mrBK1HmPKufgFUc98K8B3ZZSqbBk';

function newStack(): { app: App; stack: Stack; apiKey: secretsmanager.ISecret } {
  const app = new App();
  const stack = new Stack(app, 'Stack');
  const apiKey = secretsmanager.Secret.fromSecretNameV2(stack, 'ApiKey', 'restate/api-key');
  return { app, stack, apiKey };
}

function rolesOf(stack: Stack): Record<string, any> {
  return Template.fromStack(stack).findResources('AWS::IAM::Role');
}

describe('URLs', () => {
  test('us', () => {
    const { stack, apiKey } = newStack();
    const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: ENV_ID, apiKey, region: RestateCloudRegion.US });
    expect(env.adminUrl).toBe(`https://${HOST_ID}.env.us.restate.cloud:9070`);
    expect(env.ingressUrl).toBe(`https://${HOST_ID}.env.us.restate.cloud:8080`);
    expect(env.adminUrl).toBe('https://201hy10cd3h6426jy80tb32n6en.env.us.restate.cloud:9070');
    expect(env.ingressUrl).toBe('https://201hy10cd3h6426jy80tb32n6en.env.us.restate.cloud:8080');
  });

  test('eu', () => {
    const { stack, apiKey } = newStack();
    const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: ENV_ID, apiKey, region: RestateCloudRegion.EU });
    expect(env.adminUrl).toBe('https://201hy10cd3h6426jy80tb32n6en.env.eu.restate.cloud:9070');
    expect(env.ingressUrl).toBe('https://201hy10cd3h6426jy80tb32n6en.env.eu.restate.cloud:8080');
  });

  test('a region described with of()', () => {
    const { stack, apiKey } = newStack();
    const region = RestateCloudRegion.of({ name: 'ap-south', accountId: '123456789012' });
    const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: ENV_ID, apiKey, region });
    expect(env.adminUrl).toBe(`https://${HOST_ID}.env.ap-south.restate.cloud:9070`);
    expect(env.region).toBe(region);
  });

  test('default region is US', () => {
    const { stack, apiKey } = newStack();
    const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: ENV_ID, apiKey });
    expect(env.region).toBe(RestateCloudRegion.US);
    expect(env.adminUrl).toBe(`https://${HOST_ID}.env.us.restate.cloud:9070`);
  });

  test('an unresolved token id passes validation and gives token URLs', () => {
    const { stack, apiKey } = newStack();
    const param = new CfnParameter(stack, 'EnvId');
    const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: param.valueAsString, apiKey });
    expect(stack.resolve(env.adminUrl)).toEqual({
      'Fn::Join': [
        '',
        ['https://', { 'Fn::Select': [1, { 'Fn::Split': ['env_', { Ref: 'EnvId' }] }] }, '.env.us.restate.cloud:9070'],
      ],
    });
    expect(stack.resolve(env.ingressUrl)).toEqual({
      'Fn::Join': [
        '',
        ['https://', { 'Fn::Select': [1, { 'Fn::Split': ['env_', { Ref: 'EnvId' }] }] }, '.env.us.restate.cloud:8080'],
      ],
    });
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});

describe('attributes', () => {
  test('environmentId, authToken and requireHttps', () => {
    const { stack, apiKey } = newStack();
    const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: ENV_ID, apiKey, apiKeyJsonField: 'key' });
    expect(env.environmentId).toBe(ENV_ID);
    expect(env.authToken).toBe(apiKey);
    expect(env.authTokenJsonField).toBe('key');
    expect(env.requireHttps).toBe(true);
    expect(env.requestSigningPublicKeys).toBeUndefined();
  });

  test('missing apiKey throws', () => {
    const { stack } = newStack();
    expect(
      () => new RestateCloudEnvironment(stack, 'Env', { environmentId: ENV_ID, apiKey: undefined as any }),
    ).toThrow(/apiKey is required/);
  });
});

describe('invoker role', () => {
  test('created when absent, trusting the environment id', () => {
    const { stack, apiKey } = newStack();
    const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: ENV_ID, apiKey, region: RestateCloudRegion.EU });
    expect(env.invokerRole).toBeInstanceOf(RestateCloudInvokerRole);
    expect((env.invokerRole as RestateCloudInvokerRole).environmentIds).toEqual([ENV_ID]);
    expect((env.invokerRole as RestateCloudInvokerRole).region).toBe(RestateCloudRegion.EU);

    const roles = Object.values(rolesOf(stack));
    expect(roles).toHaveLength(1);
    const doc = roles[0].Properties.AssumeRolePolicyDocument;
    expect(doc.Statement).toHaveLength(2);
    expect(doc.Statement[0].Action).toBe('sts:AssumeRole');
    expect(doc.Statement[0].Condition).toEqual({
      StringEquals: {
        'aws:PrincipalArn': 'arn:aws:iam::654654156625:role/RestateCloud',
        'sts:ExternalId': ENV_ID,
      },
    });
  });

  test('a given invokerRole is used and no role is created', () => {
    const { stack, apiKey } = newStack();
    const invokerRole = iam.Role.fromRoleArn(stack, 'Invoker', 'arn:aws:iam::111111111111:role/restate-invoker');
    const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: ENV_ID, apiKey, invokerRole });
    expect(env.invokerRole).toBe(invokerRole);
    expect(rolesOf(stack)).toEqual({});
  });

  test('a given RestateCloudInvokerRole is used as is', () => {
    const { stack, apiKey } = newStack();
    const invokerRole = new RestateCloudInvokerRole(stack, 'Shared', { environmentIds: [ENV_ID] });
    const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: ENV_ID, apiKey, invokerRole });
    expect(env.invokerRole).toBe(invokerRole);
    expect(Object.keys(rolesOf(stack))).toHaveLength(1);
  });
});

describe('synth-time validation of the environment id', () => {
  test.each([['ENV_ABC'], ['env_ABC'], ['env-abc'], ['env_'], [''], [HOST_ID], [' env_abc'], ['env_abc ']])(
    '%j is rejected naming the value and the expected form',
    (bad) => {
      const { app, stack, apiKey } = newStack();
      new RestateCloudEnvironment(stack, 'Env', { environmentId: bad, apiKey });
      let message = '';
      try {
        app.synth();
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toContain(JSON.stringify(bad));
      expect(message).toContain("'env_'");
      expect(message).toContain('RestateCloudEnvironment');
    },
  );

  test('Template.fromStack throws too', () => {
    const { stack, apiKey } = newStack();
    new RestateCloudEnvironment(stack, 'Env', { environmentId: 'env-abc', apiKey });
    expect(() => Template.fromStack(stack)).toThrow(/"env-abc".*'env_'/);
  });

  test('a malformed id is reported once, by the environment, not again by its invoker role', () => {
    const { app, stack, apiKey } = newStack();
    new RestateCloudEnvironment(stack, 'Env', { environmentId: 'env-abc', apiKey });
    let message = '';
    try {
      app.synth();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.match(/"env-abc"/g)).toHaveLength(1);
    expect(message).toContain('RestateCloudEnvironment: invalid Restate Cloud environment id "env-abc"');
  });

  test('an invoker role of its own with another malformed id still reports that one', () => {
    const { app, stack, apiKey } = newStack();
    const invokerRole = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: ['env-other'] });
    new RestateCloudEnvironment(stack, 'Env', { environmentId: 'env-abc', apiKey, invokerRole });
    let message = '';
    try {
      app.synth();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('RestateCloudInvokerRole: invalid Restate Cloud environment id "env-other"');
    expect(message.match(/"env-abc"/g)).toHaveLength(1);
  });

  test('a valid id synthesizes', () => {
    const { app, stack, apiKey } = newStack();
    new RestateCloudEnvironment(stack, 'Env', { environmentId: ENV_ID, apiKey });
    expect(() => app.synth()).not.toThrow();
  });
});

describe('region descriptions', () => {
  test('missing accountId throws naming the value', () => {
    expect(() => RestateCloudRegion.of({ name: 'ap' } as any)).toThrow(/'ap'.*invalid accountId undefined/);
  });

  test.each([['12345'], ['1234567890123'], ['12345678901a'], ['']])('bad accountId %j throws naming it', (accountId) => {
    expect(() => RestateCloudRegion.of({ name: 'ap', accountId })).toThrow(
      new RegExp(`invalid accountId ${JSON.stringify(accountId)}.*12-digit`),
    );
  });

  test.each([['AP'], ['ap_south'], [''], ['-ap'], ['ap-'], ['ap.south']])('bad name %j throws naming it', (name) => {
    let message = '';
    try {
      RestateCloudRegion.of({ name, accountId: '123456789012' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`invalid region name ${JSON.stringify(name)}`);
  });

  test('a token accountId passes', () => {
    const stack = new Stack();
    const param = new CfnParameter(stack, 'Account');
    const region = RestateCloudRegion.of({ name: 'ap', accountId: param.valueAsString });
    expect(stack.resolve(region.principalArn)).toEqual({
      'Fn::Join': ['', ['arn:aws:iam::', { Ref: 'Account' }, ':role/RestateCloud']],
    });
  });

  test('roleName, partition and domain', () => {
    const region = RestateCloudRegion.of({
      name: 'cn',
      accountId: '123456789012',
      roleName: 'Other',
      partition: 'aws-cn',
      domain: 'restate.example',
    });
    expect(region.principalArn).toBe('arn:aws-cn:iam::123456789012:role/Other');
    expect(region.accountPrincipalArn).toBe('arn:aws-cn:iam::123456789012:root');
    expect(region.domain).toBe('restate.example');
  });

  test('a BYOC region (<id>.byoc): its own host names, and the invoker role trusts exactly the account given', () => {
    const { stack, apiKey } = newStack();
    const region = RestateCloudRegion.of({ name: 'abc123.byoc', accountId: '123456789012' });
    expect(region.byoc).toBe(true);
    const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: ENV_ID, apiKey, region });
    expect(env.adminUrl).toBe(`https://${HOST_ID}.env.abc123.byoc.restate.cloud:9070`);
    const [role] = Object.values(rolesOf(stack));
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0]).toMatchObject({
      Principal: { AWS: 'arn:aws:iam::123456789012:root' },
      Condition: { StringEquals: { 'aws:PrincipalArn': 'arn:aws:iam::123456789012:role/RestateCloud', 'sts:ExternalId': ENV_ID } },
    });
  });

  test('a BYOC region without accountId: the error says it must be given (Restate does not document it)', () => {
    expect(() => RestateCloudRegion.of({ name: 'abc123.byoc' } as any)).toThrow(
      /'abc123\.byoc': invalid accountId undefined: expected the 12-digit AWS account id your BYOC deployment's Restate calls from \(not documented by Restate Cloud.*must be given explicitly/,
    );
  });

  test.each([['.byoc'], ['abc.byo'], ['a.b.byoc'], ['ABC.byoc'], ['abc.BYOC'], ['abc-.byoc']])('BYOC-like name %j is refused', (name) => {
    expect(() => RestateCloudRegion.of({ name, accountId: '123456789012' })).toThrow(`invalid region name ${JSON.stringify(name)}`);
  });

  test('US and EU', () => {
    expect(RestateCloudRegion.US.name).toBe('us');
    expect(RestateCloudRegion.EU.name).toBe('eu');
    for (const region of [RestateCloudRegion.US, RestateCloudRegion.EU]) {
      expect(region.accountId).toBe('654654156625');
      expect(region.principalArn).toBe('arn:aws:iam::654654156625:role/RestateCloud');
      expect(region.accountPrincipalArn).toBe('arn:aws:iam::654654156625:root');
      expect(region.domain).toBe('restate.cloud');
      expect(region.byoc).toBe(false);
    }
  });
});

describe('request signing public keys', () => {
  test('valid keys are kept', () => {
    const { stack, apiKey } = newStack();
    const env = new RestateCloudEnvironment(stack, 'Env', {
      environmentId: ENV_ID,
      apiKey,
      requestSigningPublicKeys: [PUBLIC_KEY],
    });
    expect(env.requestSigningPublicKeys).toEqual([PUBLIC_KEY]);
  });

  test.each([['pk_abc'], ['publickeyv1_'], ['publickeyv1_0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl'], [`${PUBLIC_KEY} `]])(
    'bad key %j throws naming it',
    (bad) => {
      const { stack, apiKey } = newStack();
      let message = '';
      try {
        new RestateCloudEnvironment(stack, 'Env', {
          environmentId: ENV_ID,
          apiKey,
          requestSigningPublicKeys: [PUBLIC_KEY, bad],
        });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toContain(`invalid request-signing public key ${JSON.stringify(bad)}`);
      expect(message).toContain('publickeyv1_');
    },
  );

  test('a token key passes', () => {
    const { stack, apiKey } = newStack();
    const param = new CfnParameter(stack, 'Key');
    const env = new RestateCloudEnvironment(stack, 'Env', {
      environmentId: ENV_ID,
      apiKey,
      requestSigningPublicKeys: [param.valueAsString],
    });
    expect(stack.resolve(env.requestSigningPublicKeys)).toEqual([{ Ref: 'Key' }]);
  });
});
