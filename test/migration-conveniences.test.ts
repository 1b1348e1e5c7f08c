import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RestateCloudEnvironment, RestateCloudRegion, ServiceDeployer } from '../src';

// The small additions that make rows of the migration table one-to-one (README, "Migrating from
// @restatedev/restate-cdk").

const API_KEY_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:restate/api-key-AbCdEf';

function fixture() {
  const stack = new Stack(new App(), 'Stack');
  const apiKey = secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', API_KEY_ARN);
  const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: 'env_201hy10cd3h6426jy80tb32n6en', apiKey });
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {};'),
    currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
  });
  return { stack, env, fn };
}

describe('RestateCloudRegion.fromName', () => {
  test("'us' and 'eu' are the built-in regions", () => {
    expect(RestateCloudRegion.fromName('us')).toBe(RestateCloudRegion.US);
    expect(RestateCloudRegion.fromName('eu')).toBe(RestateCloudRegion.EU);
  });

  test('any other name throws, pointing to RestateCloudRegion.of()', () => {
    expect(() => RestateCloudRegion.fromName('EU')).toThrow(/unknown region "EU": expected 'us' or 'eu'.*RestateCloudRegion\.of/);
    expect(() => RestateCloudRegion.fromName('ap')).toThrow(/unknown region "ap"/);
  });

  test('an environment in a region from its name has that region in its URLs', () => {
    const stack = new Stack(new App(), 'Stack');
    const apiKey = secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', API_KEY_ARN);
    const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: 'env_201hy10cd3h6426jy80tb32n6en', apiKey, region: RestateCloudRegion.fromName('eu') });
    expect(env.adminUrl).toBe('https://201hy10cd3h6426jy80tb32n6en.env.eu.restate.cloud:9070');
    expect(env.ingressUrl).toBe('https://201hy10cd3h6426jy80tb32n6en.env.eu.restate.cloud:8080');
  });
});

describe('ServiceDeployer removalPolicy', () => {
  const logGroupPolicy = (stack: Stack) => Object.values(Template.fromStack(stack).findResources('AWS::Logs::LogGroup')).map((r: any) => r.DeletionPolicy);

  test('defaults to DESTROY for the log group the deployer creates', () => {
    const { stack } = fixture();
    new ServiceDeployer(stack, 'Deployer');
    expect(logGroupPolicy(stack)).toEqual(['Delete']);
  });

  test('RETAIN keeps the log group', () => {
    const { stack } = fixture();
    new ServiceDeployer(stack, 'Deployer', { removalPolicy: RemovalPolicy.RETAIN });
    expect(logGroupPolicy(stack)).toEqual(['Retain']);
  });

  test('is ignored with a logGroup of its own', () => {
    const { stack } = fixture();
    const logGroup = new logs.LogGroup(stack, 'Logs', { removalPolicy: RemovalPolicy.DESTROY });
    new ServiceDeployer(stack, 'Deployer', { removalPolicy: RemovalPolicy.RETAIN, logGroup });
    expect(logGroupPolicy(stack)).toEqual(['Delete']);
  });
});

describe('maxPrunedPerRun', () => {
  const registrationProps = (stack: Stack) => (Object.values(Template.fromStack(stack).findResources('Custom::RestateDeployment'))[0] as any).Properties;

  test('is rendered with pruning, and left out without it or when unset (no cap)', () => {
    const a = fixture();
    new ServiceDeployer(a.stack, 'Deployer').register(a.fn.currentVersion, a.env, { pruneDrainedDeployments: true, maxPrunedPerRun: 10 });
    expect(registrationProps(a.stack)).toMatchObject({ PruneDrained: 'true', MaxPrunedPerRun: '10' });

    const b = fixture();
    new ServiceDeployer(b.stack, 'Deployer').register(b.fn.currentVersion, b.env, { maxPrunedPerRun: 10 });
    expect(registrationProps(b.stack).MaxPrunedPerRun).toBeUndefined();

    const c = fixture();
    new ServiceDeployer(c.stack, 'Deployer').register(c.fn.currentVersion, c.env, { pruneDrainedDeployments: true });
    expect(registrationProps(c.stack).MaxPrunedPerRun).toBeUndefined();
  });

  test.each([0, -1, 1.5, 1e6])('%p is refused', (value) => {
    const { stack, env, fn } = fixture();
    expect(() => new ServiceDeployer(stack, 'Deployer').register(fn.currentVersion, env, { pruneDrainedDeployments: true, maxPrunedPerRun: value })).toThrow(
      /maxPrunedPerRun must be a whole number from 1 to 999999/,
    );
  });
});
