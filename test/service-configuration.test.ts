import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
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

describe('service configuration: each rule', () => {
  const WARNING_ID = '[ack: restate-cloud-cdk:journalRetentionCapped]';

  function journalWarnings(stack: Stack): string[] {
    return Annotations.fromStack(stack)
      .findWarning('*', Match.anyValue())
      .map((w) => String(w.entry.data))
      .filter((w) => w.includes(WARNING_ID));
  }

  test('every option, under its field, in whole seconds', () => {
    const s = scene();
    s.deployer.registerHttp('https://a.example.com', s.env, {
      defaultServiceConfiguration: {
        idempotencyRetention: Duration.hours(3),
        journalRetention: Duration.hours(2),
        workflowCompletionRetention: Duration.days(1),
        inactivityTimeout: Duration.seconds(90),
        abortTimeout: Duration.minutes(10),
      },
    });
    expect(registration(s.stack).ServiceConfiguration).toEqual({
      Default: {
        IdempotencyRetentionSeconds: '10800',
        JournalRetentionSeconds: '7200',
        WorkflowCompletionRetentionSeconds: '86400',
        InactivityTimeoutSeconds: '90',
        AbortTimeoutSeconds: '600',
      },
    });
  });

  test('the retentions may be 0; the timeouts may not', () => {
    const s = scene();
    s.deployer.registerHttp('https://a.example.com', s.env, {
      defaultServiceConfiguration: {
        idempotencyRetention: Duration.seconds(0),
        journalRetention: Duration.seconds(0),
        workflowCompletionRetention: Duration.seconds(0),
      },
    });
    expect(registration(s.stack).ServiceConfiguration).toEqual({
      Default: { IdempotencyRetentionSeconds: '0', JournalRetentionSeconds: '0', WorkflowCompletionRetentionSeconds: '0' },
    });
    expect(() => s.deployer.registerHttp('https://b.example.com', s.env, { defaultServiceConfiguration: { inactivityTimeout: Duration.seconds(0) } })).toThrow(
      'defaultServiceConfiguration.inactivityTimeout is 0 seconds: it must be a whole number of seconds, more than 0 (e.g. Duration.hours(2)).',
    );
  });

  test('a fractional retention: the exact message, for a per-service configuration too', () => {
    const s = scene();
    expect(() =>
      s.deployer.registerHttp('https://a.example.com', s.env, { serviceConfigurations: { Orders: { workflowCompletionRetention: Duration.millis(2500) } } }),
    ).toThrow("serviceConfigurations['Orders'].workflowCompletionRetention is 2 seconds 500 millis: it must be a whole number of seconds, 0 or more (e.g. Duration.hours(2)).");
  });

  test('a token duration is refused, naming the option', () => {
    const s = scene();
    const seconds = new CfnParameter(s.stack, 'Seconds', { type: 'Number' }).valueAsNumber;
    expect(() => s.deployer.registerHttp('https://a.example.com', s.env, { defaultServiceConfiguration: { abortTimeout: Duration.seconds(seconds) } })).toThrow(
      'defaultServiceConfiguration.abortTimeout is a token: service configuration is checked at synth, so give a literal Duration.',
    );
  });

  test('an empty default configuration renders nothing; per-service configurations alone render only Services', () => {
    const a = scene();
    a.deployer.registerHttp('https://a.example.com', a.env, { defaultServiceConfiguration: {} });
    expect(registration(a.stack).ServiceConfiguration).toBeUndefined();

    const b = scene();
    b.deployer.registerHttp('https://a.example.com', b.env, { defaultServiceConfiguration: {}, serviceConfigurations: { Orders: { abortTimeout: Duration.minutes(1) } } });
    expect(registration(b.stack).ServiceConfiguration).toEqual({ Services: { Orders: { AbortTimeoutSeconds: '60' } } });
  });

  test.each([['Greeter'], ['_private'], ['orders.v2'], ['my-service_1'], ['x']])('%j is a service name', (name) => {
    const s = scene();
    s.deployer.registerHttp('https://a.example.com', s.env, { serviceConfigurations: { [name]: { abortTimeout: Duration.minutes(1) } } });
    expect(Object.keys(registration(s.stack).ServiceConfiguration.Services)).toEqual([name]);
  });

  test.each([['1orders'], ['-orders'], ['.orders'], ['orders!'], ['or ders'], ['']])('%j is not a service name: the exact message', (name) => {
    const s = scene();
    expect(() => s.deployer.registerHttp('https://a.example.com', s.env, { serviceConfigurations: { [name]: {} } })).toThrow(
      `serviceConfigurations: ${JSON.stringify(name)} is not a service name: use the name the service is bound with in code (e.g. 'Greeter').`,
    );
  });

  test('journal retention equal to the idempotency retention, or either one alone: no warning', () => {
    const s = scene();
    s.deployer.registerHttp('https://a.example.com', s.env, {
      defaultServiceConfiguration: { journalRetention: Duration.days(1), idempotencyRetention: Duration.hours(24) },
      serviceConfigurations: { Orders: { journalRetention: Duration.days(30) }, Audit: { idempotencyRetention: Duration.seconds(1) } },
    });
    expect(journalWarnings(s.stack)).toEqual([]);
  });

  test('journal retention longer than the idempotency retention in the defaults: the warning, with its id and full text', () => {
    const s = scene();
    s.deployer.registerHttp('https://a.example.com', s.env, {
      defaultServiceConfiguration: { journalRetention: Duration.seconds(61), idempotencyRetention: Duration.minutes(1) },
    });
    expect(journalWarnings(s.stack)).toEqual([
      'defaultServiceConfiguration: journalRetention (1 minute 1 second) is longer than idempotencyRetention (1 minute), which caps it for requests with an idempotency key. ' +
        WARNING_ID,
    ]);
  });
});
