import { App, CfnParameter, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { InvokeGrant, RestateCloudEnvironment, RestateEnvironment, ServiceDeployer } from '../src';

// The limits ServiceDeployer.register() and registerHttp() put on their options, and how the
// accepted values are rendered.

const ENV_ID = 'env_201hy10cd3h6426jy80tb32n6en';
const ADMIN_URL = 'https://201hy10cd3h6426jy80tb32n6en.env.us.restate.cloud:9070';
const API_KEY_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:restate/api-key-AbCdEf';

function scene() {
  const stack = new Stack(new App(), 'Stack');
  const apiKey = secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', API_KEY_ARN);
  const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: ENV_ID, apiKey });
  const deployer = new ServiceDeployer(stack, 'Deployer');
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => 1;'),
    currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
  });
  return { stack, env, deployer, fn };
}

function registrationProperties(stack: Stack): any[] {
  return Object.values(Template.fromStack(stack).findResources('Custom::RestateDeployment')).map((r: any) => r.Properties);
}

describe('authRetryTimeout', () => {
  test('15 minutes is the most, rendered in seconds; the default (60 s) is left out', () => {
    const a = scene();
    a.deployer.register(a.fn.currentVersion, a.env, { authRetryTimeout: Duration.minutes(15) });
    expect(registrationProperties(a.stack)[0].AuthRetrySeconds).toBe('900');
    const b = scene();
    b.deployer.register(b.fn.currentVersion, b.env, { authRetryTimeout: Duration.seconds(60) });
    expect(registrationProperties(b.stack)[0].AuthRetrySeconds).toBeUndefined();
  });

  test('longer: the exact error, naming the value', () => {
    const { env, deployer, fn } = scene();
    expect(() => deployer.register(fn.currentVersion, env, { authRetryTimeout: Duration.seconds(901) })).toThrow(
      "ServiceDeployer.register(): authRetryTimeout must be at most 15 minutes (a Lambda's longest run), got 901 s.",
    );
  });
});

describe('revisionHistoryLimit', () => {
  test('0 is accepted', () => {
    const { env, deployer } = scene();
    expect(() => deployer.registerHttp('https://a.example.com', env, { revisionHistoryLimit: 0 })).not.toThrow();
  });

  test.each([[-1], [1.5]])('%p: the exact error', (limit) => {
    const { env, deployer } = scene();
    expect(() => deployer.registerHttp('https://a.example.com', env, { revisionHistoryLimit: limit })).toThrow(
      `revisionHistoryLimit must be a whole number >= 0, got ${limit}.`,
    );
  });
});

describe('maxPrunedPerRun bounds', () => {
  test.each([[1], [999999]])('%p is accepted', (value) => {
    const { env, deployer } = scene();
    expect(() => deployer.registerHttp('https://a.example.com', env, { pruneDrainedDeployments: true, maxPrunedPerRun: value })).not.toThrow();
  });

  test('1000000: the exact error', () => {
    const { env, deployer } = scene();
    expect(() => deployer.registerHttp('https://a.example.com', env, { pruneDrainedDeployments: true, maxPrunedPerRun: 1000000 })).toThrow(
      'maxPrunedPerRun must be a whole number from 1 to 999999, got 1000000.',
    );
  });
});

describe('registerHttp endpoints', () => {
  test.each([['services.example.com'], ['ftp://services.example.com'], ['']])('%j: the exact error', (url) => {
    const { env, deployer } = scene();
    expect(() => deployer.registerHttp(url, env)).toThrow(
      `ServiceDeployer.registerHttp(): invalid endpoint URL ${JSON.stringify(url)}: expected an absolute http(s) URL such as 'https://services.example.com'.`,
    );
  });

  test('plain HTTP for an environment requiring HTTPS: the exact error; RequireHttps is rendered only when required', () => {
    const { stack, env, deployer } = scene();
    expect(() => deployer.registerHttp('http://a.example.com', env)).toThrow(
      'ServiceDeployer.registerHttp(): "http://a.example.com" is plain HTTP, but this environment requires HTTPS (Restate Cloud reaches services over the public internet): ' +
        'serve the endpoint over https://, or pass allowInsecureHttp: true if you really mean it.',
    );
    deployer.registerHttp('https://a.example.com', env);
    deployer.registerHttp('http://b.example.com', env, { allowInsecureHttp: true });
    deployer.registerHttp('http://c.example.com', RestateEnvironment.fromAttributes({ adminUrl: 'http://restate.internal:9070' }));
    const byUri = Object.fromEntries(registrationProperties(stack).map((p) => [p.Uri, p.RequireHttps]));
    expect(byUri).toEqual({ 'https://a.example.com': 'true', 'http://b.example.com': undefined, 'http://c.example.com': undefined });
  });

  test('a token URL is left to the deployer', () => {
    const { stack, env, deployer } = scene();
    const url = new CfnParameter(stack, 'Url').valueAsString;
    deployer.registerHttp(url, env);
    expect(registrationProperties(stack)[0].Uri).toEqual({ Ref: 'Url' });
  });

  test('the same URL twice: the exact error naming the id; with a distinct id it is accepted', () => {
    const { stack, env, deployer } = scene();
    const first = deployer.registerHttp('https://a.example.com', env);
    expect(() => deployer.registerHttp('https://a.example.com', env)).toThrow(
      `ServiceDeployer.registerHttp(): https://a.example.com is already registered with ${ADMIN_URL} by this deployer (id '${first.node.id}'): register each endpoint once per environment, or pass a distinct id.`,
    );
    expect(first.node.id).toMatch(/^RestateHttp[0-9A-F]{8}$/);
    deployer.registerHttp('https://a.example.com', env, { id: 'Second' });
    expect(registrationProperties(stack)).toHaveLength(2);
  });

  test('the same URL with another environment is another registration', () => {
    const { stack, env, deployer } = scene();
    deployer.registerHttp('https://a.example.com', env);
    deployer.registerHttp('https://a.example.com', RestateEnvironment.fromAttributes({ adminUrl: 'https://restate.internal:9070' }));
    expect(registrationProperties(stack)).toHaveLength(2);
  });
});

describe('InvokeGrant.DEPLOYER and $LATEST', () => {
  test('the exact error', () => {
    const { env, deployer, fn } = scene();
    expect(() => deployer.register(fn.latestVersion, env, { invokeGrant: InvokeGrant.DEPLOYER })).toThrow(
      "ServiceDeployer.register(): 'Stack/Fn/$LATEST' is $LATEST, but InvokeGrant.DEPLOYER grants only versions and aliases (function:*:*): " +
        'register fn.currentVersion or an alias, or use InvokeGrant.TEMPLATE.',
    );
  });

  test('with InvokeGrant.TEMPLATE $LATEST is registered', () => {
    const { stack, env, deployer, fn } = scene();
    deployer.register(fn.latestVersion, env, { invokeGrant: InvokeGrant.TEMPLATE });
    expect(registrationProperties(stack)).toHaveLength(1);
  });
});
