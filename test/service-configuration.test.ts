import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RestateCloudEnvironment, ServiceDeployer } from '../src';

// Service configuration as typed props (checked at synth), and headers on Lambda registrations.

const ENV_ID = 'env_201hy10cd3h6426jy80tb32n6en';
const API_KEY_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:restate/api-key-AbCdEf';

function scene() {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: { account: '111111111111', region: 'us-east-1' } });
  const apiKey = secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', API_KEY_ARN);
  const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: ENV_ID, apiKey });
  const deployer = new ServiceDeployer(stack, 'Deployer');
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => 1;'),
  });
  return { app, stack, env, deployer, fn };
}

function registration(stack: Stack): any {
  const [resource] = Object.values(Template.fromStack(stack).findResources('Custom::RestateDeployment'));
  return (resource as any).Properties;
}

describe('service configuration', () => {
  test('defaults and per-service overrides are rendered in whole seconds', () => {
    const s = scene();
    s.deployer.registerHttp('https://a.example.com', s.env, {
      defaultServiceConfiguration: {
        idempotencyRetention: Duration.days(2),
        journalRetention: Duration.hours(12),
        inactivityTimeout: Duration.minutes(5),
      },
      serviceConfigurations: { Orders: { abortTimeout: Duration.minutes(20), journalRetention: Duration.seconds(0) }, Audit: {} },
    });
    expect(registration(s.stack).ServiceConfiguration).toEqual({
      Default: { IdempotencyRetentionSeconds: '172800', JournalRetentionSeconds: '43200', InactivityTimeoutSeconds: '300' },
      Services: { Orders: { AbortTimeoutSeconds: '1200', JournalRetentionSeconds: '0' }, Audit: {} },
    });
  });

  test('nothing configured: no property at all', () => {
    const s = scene();
    s.deployer.registerHttp('https://a.example.com', s.env);
    expect(registration(s.stack).ServiceConfiguration).toBeUndefined();
  });

  test.each([
    [{ inactivityTimeout: Duration.millis(1500) }, /defaultServiceConfiguration.inactivityTimeout is 1 second 500 millis: it must be a whole number of seconds, more than 0/],
    [{ abortTimeout: Duration.seconds(0) }, /defaultServiceConfiguration.abortTimeout is 0 seconds: it must be a whole number of seconds, more than 0/],
    [{ idempotencyRetention: Duration.millis(10) }, /idempotencyRetention is 10 millis: it must be a whole number of seconds, 0 or more/],
  ])('invalid values fail synth, naming the option and the value (%#)', (config, message) => {
    const s = scene();
    expect(() => s.deployer.registerHttp('https://a.example.com', s.env, { defaultServiceConfiguration: config })).toThrow(message);
  });

  test('an invalid service name fails synth, naming it', () => {
    const s = scene();
    expect(() => s.deployer.registerHttp('https://a.example.com', s.env, { serviceConfigurations: { 'my service': {} } })).toThrow(
      /serviceConfigurations: "my service" is not a service name/,
    );
  });

  test('a journal retention longer than the idempotency retention warns that it is capped', () => {
    const s = scene();
    s.deployer.registerHttp('https://a.example.com', s.env, {
      serviceConfigurations: { Orders: { journalRetention: Duration.days(7), idempotencyRetention: Duration.days(1) } },
    });
    Annotations.fromStack(s.stack).hasWarning('*', Match.stringLikeRegexp("serviceConfigurations\\['Orders'\\]: journalRetention \\(7 days\\) is longer than idempotencyRetention \\(1 day\\)"));
  });

  test('Lambda registrations take service configuration too', () => {
    const s = scene();
    s.deployer.register(s.fn.currentVersion, s.env, { defaultServiceConfiguration: { journalRetention: Duration.hours(1) } });
    expect(registration(s.stack).ServiceConfiguration).toEqual({ Default: { JournalRetentionSeconds: '3600' } });
  });
});

describe('headers on Lambda registrations', () => {
  test('additional and secret headers, each secret pinned to the function for the deployer', () => {
    const s = scene();
    const secret = secretsmanager.Secret.fromSecretCompleteArn(s.stack, 'Hdr', 'arn:aws:secretsmanager:us-east-1:111111111111:secret:hdr-AbCdEf');
    const version = s.fn.currentVersion;
    s.deployer.register(version, s.env, { additionalHeaders: { 'x-team': 'payments' }, secretHeaders: { 'x-key': secret } });
    expect(registration(s.stack)).toMatchObject({
      AdditionalHeaders: { 'x-team': 'payments' },
      SecretHeaders: [{ Name: 'x-key', SecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:hdr-AbCdEf' }],
    });
    const [fn] = Object.values(Template.fromStack(s.stack).findResources('AWS::Lambda::Function')).filter((f: any) => f.Properties.Environment?.Variables?.RESTATE_TRUSTED_TARGETS) as any[];
    const trusted = JSON.stringify(s.stack.resolve(fn.Properties.Environment.Variables.RESTATE_TRUSTED_TARGETS));
    expect(trusted).toContain('secret:hdr-AbCdEf');
    expect(trusted).toContain(s.stack.getLogicalId(version.node.defaultChild as lambda.CfnVersion));
  });

  test('a secret header for a function of another stack than the deployer fails synth, naming the fix', () => {
    const s = scene();
    const service = new Stack(s.app, 'Service', { env: { account: '111111111111', region: 'us-east-1' } });
    const fn = new lambda.Function(service, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => 1;'),
    });
    const secret = secretsmanager.Secret.fromSecretCompleteArn(s.stack, 'Hdr', 'arn:aws:secretsmanager:us-east-1:111111111111:secret:hdr-AbCdEf');
    expect(() => s.deployer.register(fn.currentVersion, s.env, { secretHeaders: { 'x-key': secret } })).toThrow(
      /the secret of header 'x-key' and the function ARN it goes to must be known to the deployer's stack Stack.*belongs to stack Service. Create the ServiceDeployer in that stack/,
    );
  });
});
