import { App, CfnDeletionPolicy, CfnParameter, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RestateCloudEnvironment, RestateEnvironment, ServiceDeployer } from '../src';

// What ServiceDeployer.register() and registerHttp() check before a registration is made.

const ENV_ID = 'env_201hy10cd3h6426jy80tb32n6en';
const ADMIN_URL = 'https://201hy10cd3h6426jy80tb32n6en.env.us.restate.cloud:9070';
const API_KEY_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:restate/api-key-AbCdEf';
const CA = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2xhc3NpYw==\n-----END CERTIFICATE-----';

function scene(props: StackProps = {}) {
  const app = new App();
  const stack = new Stack(app, 'Stack', props);
  const apiKey = secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', API_KEY_ARN);
  const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: ENV_ID, apiKey });
  const deployer = new ServiceDeployer(stack, 'Deployer');
  return { app, stack, env, deployer };
}

function newFunction(stack: Stack, id = 'Fn', removalPolicy?: RemovalPolicy): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => 1;'),
    currentVersionOptions: removalPolicy ? { removalPolicy } : undefined,
  });
}

function warnings(stack: Stack): string[] {
  return Annotations.fromStack(stack).findWarning('*', Match.anyValue()).map((w) => String(w.entry.data));
}

function registrations(stack: Stack): any[] {
  return Object.values(Template.fromStack(stack).findResources('Custom::RestateDeployment'));
}

describe('a version deleted under a retained deployment', () => {
  const VERSION_WARNING = '[ack: restate-cloud-cdk:versionNotRetained]';

  test('the default (RETAIN) deployment of a version that is deleted on code change: the warning, with its id and the fix, once per deployer', () => {
    const { stack, env, deployer } = scene();
    deployer.register(newFunction(stack, 'A').currentVersion, env);
    deployer.register(newFunction(stack, 'B').currentVersion, env);
    const found = warnings(stack).filter((w) => w.includes(VERSION_WARNING));
    expect(found).toHaveLength(1);
    expect(found[0]).toBe(
      'This version (and possibly others registered with this deployer) is deleted when the code changes, but its Restate deployment is retained and in-flight invocations stay pinned to it: ' +
        `create versions with currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN } (or register an alias). ${VERSION_WARNING}`,
    );
  });

  test('an explicitly RETAINed deployment warns the same', () => {
    const { stack, env, deployer } = scene();
    deployer.register(newFunction(stack).currentVersion, env, { removalPolicy: RemovalPolicy.RETAIN });
    expect(warnings(stack).filter((w) => w.includes(VERSION_WARNING))).toHaveLength(1);
  });

  test('a deployment that is destroyed with the stack: no warning', () => {
    const { stack, env, deployer } = scene();
    deployer.register(newFunction(stack).currentVersion, env, { removalPolicy: RemovalPolicy.DESTROY });
    expect(warnings(stack)).toEqual([]);
  });

  test.each([
    [CfnDeletionPolicy.RETAIN, []],
    [CfnDeletionPolicy.RETAIN_EXCEPT_ON_CREATE, []],
    [CfnDeletionPolicy.DELETE, [VERSION_WARNING]],
    [CfnDeletionPolicy.SNAPSHOT, [VERSION_WARNING]],
  ])('a version with deletion policy %s', (policy, expected) => {
    const { stack, env, deployer } = scene();
    const version = newFunction(stack).currentVersion;
    (version.node.defaultChild as lambda.CfnVersion).cfnOptions.deletionPolicy = policy;
    deployer.register(version, env);
    expect(warnings(stack).map((w) => w.slice(w.indexOf('[ack:')))).toEqual(expected);
  });

  test('an alias (not a version): no warning', () => {
    const { stack, env, deployer } = scene();
    const fn = newFunction(stack);
    deployer.register(new lambda.Alias(stack, 'Live', { aliasName: 'live', version: fn.currentVersion }), env);
    expect(warnings(stack)).toEqual([]);
  });
});

describe('the qualifier of a handler', () => {
  test('an alias registers as the alias, a version as its version', () => {
    const { stack, env, deployer } = scene();
    const fn = newFunction(stack);
    deployer.register(new lambda.Alias(stack, 'Live', { aliasName: 'live', version: fn.currentVersion }), env);
    deployer.register(newFunction(stack, 'Other', RemovalPolicy.RETAIN).currentVersion, env);
    expect(registrations(stack)).toHaveLength(2);
  });

  test.each([
    ['arn:aws:lambda:us-east-1:111111111111:function:orders:7', true],
    ['arn:aws:lambda:us-east-1:111111111111:function:orders:live', true],
    ['arn:aws:lambda:us-east-1:111111111111:function:orders', false],
    ['arn:aws:lambda:us-east-1:111111111111:function:orders:', false],
  ])('an imported function %s: qualified %s', (arn, qualified) => {
    const { stack, env, deployer } = scene({ env: { account: '111111111111', region: 'us-east-1' } });
    const imported = lambda.Function.fromFunctionArn(stack, 'Imported', arn);
    if (qualified) {
      deployer.register(imported, env);
      expect(registrations(stack)[0].Properties.LambdaArn).toBe(arn);
    } else {
      expect(() => deployer.register(imported, env)).toThrow(
        "ServiceDeployer.register(): 'Stack/Imported' is an unqualified function, but Restate must be given a specific version or alias",
      );
    }
  });

  test('the unqualified function itself is refused, naming currentVersion', () => {
    const { stack, env, deployer } = scene();
    expect(() => deployer.register(newFunction(stack), env)).toThrow(/'Stack\/Fn' is an unqualified function.*pass fn\.currentVersion/);
  });

  test('a function imported by a token ARN is refused as unqualified', () => {
    const { stack, env, deployer } = scene();
    const arn = new CfnParameter(stack, 'Arn').valueAsString;
    expect(() => deployer.register(lambda.Function.fromFunctionArn(stack, 'Imported', arn), env)).toThrow(/is an unqualified function/);
  });

  test('an ARN with an unresolved part is refused as unqualified, even with a literal qualifier at its end', () => {
    const { stack, env, deployer } = scene();
    const account = new CfnParameter(stack, 'Account').valueAsString;
    const imported = lambda.Function.fromFunctionArn(stack, 'Imported', `arn:aws:lambda:us-east-1:${account}:function:orders:7`);
    expect(() => deployer.register(imported, env)).toThrow(/'Stack\/Imported' is an unqualified function/);
  });

  test('an ARN of eight parts that is not a function\'s (a layer version) has no qualifier', () => {
    const { stack, env, deployer } = scene({ env: { account: '111111111111', region: 'us-east-1' } });
    const imported = lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:us-east-1:111111111111:layer:orders:7');
    expect(() => deployer.register(imported, env)).toThrow(/'Stack\/Imported' is an unqualified function/);
  });

  test('$LATEST is a qualifier: registered, with the latestVersion warning', () => {
    const { stack, env, deployer } = scene();
    deployer.register(newFunction(stack).latestVersion, env);
    expect(warnings(stack).some((w) => w.includes('[ack: restate-cloud-cdk:latestVersion]'))).toBe(true);
  });
});

describe('the handler in another account or region', () => {
  const ENV_UNKNOWN = '[ack: restate-cloud-cdk:handlerEnvironmentUnknown]';

  test('the exact error, naming the handler, both environments and the fix', () => {
    const { stack, env, deployer } = scene({ env: { account: '111111111111', region: 'us-east-1' } });
    const imported = lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:us-east-1:222222222222:function:orders:7');
    expect(() => deployer.register(imported, env)).toThrow(
      "ServiceDeployer.register(): 'Stack/Imported' is in account 222222222222, region us-east-1, but the deployer's stack is in account 111111111111, region us-east-1: " +
        "the invoker role can only be granted, and the deployer only register, handlers of its own account and region. Create a ServiceDeployer (and invoker role) in the handler's account and region.",
    );
  });

  test('same account, other region: refused', () => {
    const { stack, env, deployer } = scene({ env: { account: '111111111111', region: 'us-east-1' } });
    const imported = lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:eu-west-1:111111111111:function:orders:7');
    expect(() => deployer.register(imported, env)).toThrow(/is in account 111111111111, region eu-west-1, but the deployer's stack is in account 111111111111, region us-east-1/);
  });

  test("a deployer stack without a fixed account and a handler of another stack with one: a warning naming the handler's account and region", () => {
    const { app, env, deployer } = scene();
    const other = new Stack(app, 'Other');
    const imported = lambda.Function.fromFunctionArn(other, 'Imported', 'arn:aws:lambda:eu-west-1:222222222222:function:orders:7');
    deployer.register(imported, env, { removalPolicy: RemovalPolicy.DESTROY });
    const found = Annotations.fromStack(other).findWarning('/Other/Imported', Match.anyValue()).map((w) => String(w.entry.data));
    expect(found).toEqual([
      "This handler is in account 222222222222, region eu-west-1; the deployer's stack has no fixed account, so that cannot be checked at synth. Set env on the stack. " +
        ENV_UNKNOWN,
    ]);
  });

  test('a deployer stack without a fixed account and a handler of its own stack: no warning', () => {
    const { stack, env, deployer } = scene();
    const imported = lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:eu-west-1:222222222222:function:orders:7');
    deployer.register(imported, env, { removalPolicy: RemovalPolicy.DESTROY });
    expect(warnings(stack)).toEqual([]);
  });

  test('a deployer stack with a fixed account and a handler whose account is unknown at synth: neither error nor warning', () => {
    const { stack, env, deployer } = scene({ env: { account: '111111111111', region: 'us-east-1' } });
    const account = new CfnParameter(stack, 'Account').valueAsString;
    const fn = lambda.Function.fromFunctionArn(stack, 'Imported', `arn:aws:lambda:us-east-1:${account}:function:orders`);
    const version = lambda.Version.fromVersionAttributes(stack, 'Version', { version: '7', lambda: fn });
    expect(() => deployer.register(version, env, { removalPolicy: RemovalPolicy.DESTROY })).not.toThrow();
    expect(warnings(stack)).toEqual([]);
  });
});

describe('the handlerEnvironmentUnknown warning only when the deployer has no fixed account', () => {
  test('a handler of another stack, both stacks in the same fixed environment: no warning', () => {
    const props = { env: { account: '111111111111', region: 'us-east-1' } };
    const { app, stack, env, deployer } = scene(props);
    const other = new Stack(app, 'Other', props);
    const fn = newFunction(other, 'Fn', RemovalPolicy.RETAIN);
    deployer.register(fn.currentVersion, env);
    expect(Annotations.fromStack(other).findWarning('*', Match.anyValue())).toEqual([]);
    expect(warnings(stack)).toEqual([]);
  });

  test('a handler of another stack, both stacks without a fixed environment: no warning', () => {
    const { app, stack, env, deployer } = scene();
    const other = new Stack(app, 'Other');
    const fn = newFunction(other, 'Fn', RemovalPolicy.RETAIN);
    deployer.register(fn.currentVersion, env);
    expect(Annotations.fromStack(other).findWarning('*', Match.anyValue())).toEqual([]);
    expect(warnings(stack)).toEqual([]);
  });
});

describe('TLS to the admin API', () => {
  const selfHosted = (requireHttps?: boolean) => RestateEnvironment.fromAttributes({ adminUrl: 'https://restate.internal:9070', requireHttps });

  test('insecureSkipTlsVerify with adminCaCertificate: the exact error', () => {
    const { deployer } = scene();
    expect(() => deployer.registerHttp('https://a.example.com', selfHosted(), { insecureSkipTlsVerify: true, adminCaCertificate: CA })).toThrow(
      'ServiceDeployer: insecureSkipTlsVerify and adminCaCertificate exclude each other: pass adminCaCertificate alone, which verifies against that CA.',
    );
  });

  test.each([
    ['a PEM certificate', CA, true],
    ['one with a trailing newline and spaces', `${CA}\n  `, true],
    ['one with leading whitespace', `\n ${CA}`, true],
    ['no body between the markers', '-----BEGIN CERTIFICATE----------END CERTIFICATE-----', false],
    ['text before the certificate', `junk\n${CA}`, false],
    ['text after the certificate', `${CA}\njunk`, false],
    ['text right after the end marker', `${CA}junk`, false],
    ['no end marker', '-----BEGIN CERTIFICATE-----\nMIIB\n', false],
    ['a private key', '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----', false],
  ])('adminCaCertificate: %s', (_what, pem, accepted) => {
    const { deployer } = scene();
    const register = () => deployer.registerHttp('https://a.example.com', selfHosted(), { adminCaCertificate: pem });
    if (accepted) {
      expect(register).not.toThrow();
    } else {
      expect(register).toThrow(
        'ServiceDeployer: adminCaCertificate must be a PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----).',
      );
    }
  });

  test('an environment that does not require HTTPS may skip verification and use a plain HTTP admin URL', () => {
    const { deployer } = scene();
    expect(() => deployer.registerHttp('https://a.example.com', selfHosted(false), { insecureSkipTlsVerify: true })).not.toThrow();
    const plain = RestateEnvironment.fromAttributes({ adminUrl: 'http://restate.internal:9070' });
    expect(() => deployer.registerHttp('https://b.example.com', plain)).not.toThrow();
  });

  test('an environment that requires HTTPS: skipping verification is refused, naming the admin URL and the alternative', () => {
    const { env, deployer } = scene();
    expect(() => deployer.registerHttp('https://a.example.com', env, { insecureSkipTlsVerify: true })).toThrow(
      `ServiceDeployer: insecureSkipTlsVerify is refused for ${ADMIN_URL}: this environment requires HTTPS (Restate Cloud), and the API key must only go to a verified admin API. ` +
        'Remove insecureSkipTlsVerify, or pass adminCaCertificate for a private CA.',
    );
  });

  test('an environment that requires HTTPS: a plain HTTP admin URL is refused with the exact message, whatever its case', () => {
    const { env, deployer } = scene();
    expect(() => deployer.registerHttp('https://a.example.com', env, { adminUrl: 'HTTP://proxy.internal:9070' })).toThrow(
      'ServiceDeployer: admin URL HTTP://proxy.internal:9070 is plain HTTP, but this environment requires HTTPS (Restate Cloud), and the API key would travel unencrypted: ' +
        'use its https:// admin URL, or pass allowInsecureAdminUrl: true if a private proxy terminates TLS.',
    );
  });

  test('an environment that requires HTTPS: an https admin URL and a token admin URL pass', () => {
    const { stack, env, deployer } = scene();
    expect(() => deployer.registerHttp('https://a.example.com', env, { adminUrl: 'https://proxy.internal:9070' })).not.toThrow();
    const tokenUrl = new CfnParameter(stack, 'AdminUrl').valueAsString;
    expect(() => deployer.registerHttp('https://b.example.com', env, { adminUrl: tokenUrl })).not.toThrow();
  });

  test('a self-hosted environment that requires HTTPS refuses skipping verification too', () => {
    const { deployer } = scene();
    expect(() => deployer.registerHttp('https://a.example.com', selfHosted(true), { insecureSkipTlsVerify: true })).toThrow(
      /insecureSkipTlsVerify is refused for https:\/\/restate\.internal:9070/,
    );
  });
});
