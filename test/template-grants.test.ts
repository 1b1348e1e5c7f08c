import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { InvokeGrant, RestateCloudEnvironment, RestateEnvironment, ServiceDeployer } from '../src';

// Grants in the template (the default), the deployer's trust list, TLS and imported handlers.

const ENV_ID = 'env_201hy10cd3h6426jy80tb32n6en';
const API_KEY_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:restate/api-key-AbCdEf';
const ACCOUNT = '111111111111';
const REGION = 'us-east-1';
const CA = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2xhc3NpYw==\n-----END CERTIFICATE-----\n';

function scene(code = 'exports.handler = async () => 1;', versionRemoval?: RemovalPolicy) {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: { account: ACCOUNT, region: REGION } });
  const apiKey = secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', API_KEY_ARN);
  const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: ENV_ID, apiKey });
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline(code),
    currentVersionOptions: versionRemoval ? { removalPolicy: versionRemoval } : undefined,
  });
  const deployer = new ServiceDeployer(stack, 'Deployer');
  return { app, stack, env, fn, deployer };
}

function resources(stack: Stack, type: string): Array<[string, any]> {
  return Object.entries(Template.fromStack(stack).findResources(type));
}

describe('InvokeGrant.TEMPLATE (the default): a permission per registered version', () => {
  test("the permission's logical id follows the version's, so new code adds a statement instead of replacing the old one", () => {
    const ids = ['exports.handler = async () => 1;', 'exports.handler = async () => 2;'].map((code) => {
      const s = scene(code, RemovalPolicy.RETAIN);
      s.deployer.register(s.fn.currentVersion, s.env);
      const [[versionId]] = resources(s.stack, 'AWS::Lambda::Version');
      const [[permissionId, permission]] = resources(s.stack, 'AWS::Lambda::Permission');
      expect(permissionId.startsWith(versionId)).toBe(true);
      expect(permission.Properties.FunctionName).toEqual({ Ref: versionId });
      const [[, registration]] = resources(s.stack, 'Custom::RestateDeployment');
      expect(registration.DependsOn).toEqual([permissionId]);
      return permissionId;
    });
    expect(ids[0]).not.toBe(ids[1]);
  });

  test.each([
    [RemovalPolicy.RETAIN, 'Retain'],
    [RemovalPolicy.DESTROY, 'Delete'],
    [undefined, undefined],
  ])('the deletion policy follows the version\'s (%s)', (removal, expected) => {
    const s = scene(undefined, removal);
    s.deployer.register(s.fn.currentVersion, s.env);
    const [[, version]] = resources(s.stack, 'AWS::Lambda::Version');
    const [[, permission]] = resources(s.stack, 'AWS::Lambda::Permission');
    expect(permission.DeletionPolicy).toBe(expected);
    expect(permission.DeletionPolicy).toBe(version.DeletionPolicy);
    expect(permission.UpdateReplacePolicy).toBe(version.UpdateReplacePolicy);
  });

  test('a removal policy applied to the version after registering is followed too', () => {
    const s = scene();
    const version = s.fn.currentVersion;
    s.deployer.register(version, s.env);
    version.applyRemovalPolicy(RemovalPolicy.RETAIN);
    const [[, permission]] = resources(s.stack, 'AWS::Lambda::Permission');
    expect(permission.DeletionPolicy).toBe('Retain');
  });

  test('an alias keeps one permission with a stable logical id', () => {
    const ids = ['1', '2'].map((n) => {
      const s = scene(`exports.handler = async () => ${n};`);
      s.deployer.register(new lambda.Alias(s.stack, 'Live', { aliasName: 'live', version: s.fn.currentVersion }), s.env);
      const [[permissionId, permission]] = resources(s.stack, 'AWS::Lambda::Permission');
      expect(permission.Properties.FunctionName).toEqual({ Ref: expect.stringMatching(/^Live/) });
      return permissionId;
    });
    expect(ids[0]).toBe(ids[1]);
  });

  test('no lambda:* right for the deployer, and registrations carry no GrantInvoke', () => {
    const s = scene();
    s.deployer.register(s.fn.currentVersion, s.env);
    const statements = resources(s.stack, 'AWS::IAM::Policy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    expect(JSON.stringify(statements)).not.toContain('lambda:');
    const [[, registration]] = resources(s.stack, 'Custom::RestateDeployment');
    expect(registration.Properties.GrantInvoke).toBeUndefined();
  });
});

describe('InvokeGrant.DEPLOYER: opt-in and narrowed', () => {
  test('the statement names versions and aliases only (function:*:*), for the invoker role only', () => {
    const s = scene();
    s.deployer.register(s.fn.currentVersion, s.env, { invokeGrant: InvokeGrant.DEPLOYER });
    const statements = resources(s.stack, 'AWS::IAM::Policy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    const lambdaStatements = statements.filter((st: any) => JSON.stringify(st.Action).includes('lambda:'));
    expect(lambdaStatements).toEqual([
      {
        Action: ['lambda:AddPermission', 'lambda:RemovePermission'],
        Condition: { StringEquals: { 'lambda:Principal': s.stack.resolve(s.env.invokerRole!.roleArn) } },
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:lambda:${REGION}:${ACCOUNT}:function:*:*`]] },
      },
    ]);
  });

  test('$LATEST cannot be granted by the deployer: synth fails naming the fix', () => {
    const s = scene();
    expect(() => s.deployer.register(s.fn.latestVersion, s.env, { invokeGrant: InvokeGrant.DEPLOYER })).toThrow(
      /is \$LATEST, but InvokeGrant.DEPLOYER grants only versions and aliases \(function:\*:\*\).*InvokeGrant.TEMPLATE/,
    );
  });
});

describe('the deployer trusts only the pairings the app declares', () => {
  function trusted(stack: Stack): any {
    const [[, fn]] = resources(stack, 'AWS::Lambda::Function').filter(([, f]) => f.Properties.Environment?.Variables?.RESTATE_TRUSTED_TARGETS);
    return JSON.parse(stack.resolve(fn.Properties.Environment.Variables.RESTATE_TRUSTED_TARGETS));
  }

  test('each admin URL with its API key secret and TLS setting, each secret header with its endpoint, once each', () => {
    const s = scene();
    const selfHosted = RestateEnvironment.fromAttributes({ adminUrl: 'https://restate.internal:9070/' });
    const header = secretsmanager.Secret.fromSecretCompleteArn(s.stack, 'Header', 'arn:aws:secretsmanager:us-east-1:111111111111:secret:hdr-AbCdEf');
    s.deployer.register(s.fn.currentVersion, s.env);
    s.deployer.registerHttp('https://a.example.com', s.env, { secretHeaders: { 'x-key': header } });
    s.deployer.registerHttp('https://b.example.com', selfHosted, { adminCaCertificate: CA });
    expect(trusted(s.stack)).toEqual({
      admin: [
        ['https://201hy10cd3h6426jy80tb32n6en.env.us.restate.cloud:9070', API_KEY_ARN, '', ''],
        ['https://restate.internal:9070', '', '', expect.stringMatching(/^ca:[0-9a-f]{64}$/)],
      ],
      headers: [['https://a.example.com', 'arn:aws:secretsmanager:us-east-1:111111111111:secret:hdr-AbCdEf', '']],
    });
  });

  test('the CA certificate travels in the registration, pinned by its hash', () => {
    const s = scene();
    s.deployer.registerHttp('https://b.example.com', RestateEnvironment.fromAttributes({ adminUrl: 'https://restate.internal:9070' }), { adminCaCertificate: CA });
    const [[, registration]] = resources(s.stack, 'Custom::RestateDeployment');
    expect(registration.Properties.AdminCaCertificate).toBe(CA);
  });
});

describe('every registration bounds how long CloudFormation waits', () => {
  test('ServiceTimeout is the deployer timeout plus a minute', () => {
    const s = scene();
    s.deployer.register(s.fn.currentVersion, s.env);
    const [[, registration]] = resources(s.stack, 'Custom::RestateDeployment');
    expect(registration.Properties.ServiceTimeout).toBe('360');
  });
});

describe('TLS for Restate Cloud', () => {
  test('insecureSkipTlsVerify is refused for a Cloud environment', () => {
    const s = scene();
    expect(() => s.deployer.registerHttp('https://a.example.com', s.env, { insecureSkipTlsVerify: true })).toThrow(
      /insecureSkipTlsVerify is refused for https:\/\/201hy10cd3h6426jy80tb32n6en.env.us.restate.cloud:9070.*adminCaCertificate/,
    );
  });

  test('an http:// admin URL override fails unless allowInsecureAdminUrl', () => {
    const s = scene();
    expect(() => s.deployer.registerHttp('https://a.example.com', s.env, { adminUrl: 'http://proxy.internal:9070' })).toThrow(
      /admin URL http:\/\/proxy.internal:9070 is plain HTTP.*allowInsecureAdminUrl: true/,
    );
    expect(() => s.deployer.registerHttp('https://b.example.com', s.env, { adminUrl: 'http://proxy.internal:9070', allowInsecureAdminUrl: true })).not.toThrow();
  });

  test('a self-hosted environment may skip verification (with a warning-free synth) or trust a CA, not both', () => {
    const s = scene();
    const selfHosted = RestateEnvironment.fromAttributes({ adminUrl: 'https://restate.internal:9070' });
    expect(() => s.deployer.registerHttp('https://a.example.com', selfHosted, { insecureSkipTlsVerify: true, adminCaCertificate: CA })).toThrow(/exclude each other/);
    expect(() => s.deployer.registerHttp('https://b.example.com', selfHosted, { adminCaCertificate: 'not a pem' })).toThrow(/must be a PEM certificate/);
  });
});

describe('imported handlers', () => {
  test('a function imported by a qualified ARN is registered as that version', () => {
    const s = scene();
    const imported = lambda.Function.fromFunctionArn(s.stack, 'Imported', `arn:aws:lambda:${REGION}:${ACCOUNT}:function:orders:7`);
    s.deployer.register(imported, s.env);
    const [[, registration]] = resources(s.stack, 'Custom::RestateDeployment');
    expect(registration.Properties.LambdaArn).toBe(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:orders:7`);
  });

  test('an unqualified imported function is refused, naming the qualified form', () => {
    const s = scene();
    const imported = lambda.Function.fromFunctionArn(s.stack, 'Imported', `arn:aws:lambda:${REGION}:${ACCOUNT}:function:orders`);
    expect(() => s.deployer.register(imported, s.env)).toThrow(/unqualified function.*function:name:3/);
  });

  test.each([
    ['another account', `arn:aws:lambda:${REGION}:222222222222:function:orders:7`],
    ['another region', `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:orders:7`],
  ])('a handler in %s fails synth, naming both and the fix', (_what, arn) => {
    const s = scene();
    const imported = lambda.Function.fromFunctionArn(s.stack, 'Imported', arn);
    expect(() => s.deployer.register(imported, s.env)).toThrow(/is in account \d{12}, region [a-z0-9-]+, but the deployer's stack is in account 111111111111, region us-east-1.*Create a ServiceDeployer/);
  });

  test('no warning for a handler of the same account and region', () => {
    const s = scene();
    s.deployer.register(s.fn.currentVersion, s.env, { removalPolicy: RemovalPolicy.DESTROY });
    Annotations.fromStack(s.stack).hasNoWarning('*', '*');
  });
});
