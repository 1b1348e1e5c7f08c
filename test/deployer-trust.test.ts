import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RestateCloudEnvironment, RestateEnvironment, ServiceDeployer } from '../src';

// The deployer's trust list (RESTATE_TRUSTED_TARGETS): which admin URL goes with which API key
// secret, which secret header with which endpoint, as the app declares them.

const ENV_ID = 'env_201hy10cd3h6426jy80tb32n6en';
const ADMIN_URL = 'https://201hy10cd3h6426jy80tb32n6en.env.us.restate.cloud:9070';
const API_KEY_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:restate/api-key-AbCdEf';
const HEADER_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:hdr-AbCdEf';

function platform() {
  const app = new App();
  const stack = new Stack(app, 'Platform');
  const apiKey = secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', API_KEY_ARN);
  const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: ENV_ID, apiKey });
  const deployer = new ServiceDeployer(stack, 'Deployer');
  return { app, stack, env, deployer };
}

/** The trust list as rendered into the deployer function's environment, resolved. */
function trustedTargets(stack: Stack): any {
  const fns = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')) as any[];
  const [fn] = fns.filter((f) => f.Properties.Environment?.Variables?.RESTATE_TRUSTED_TARGETS);
  return fn.Properties.Environment.Variables.RESTATE_TRUSTED_TARGETS;
}

describe('the trust list', () => {
  test('an admin URL and an endpoint that differ only in case and trailing slashes are one entry each, normalized', () => {
    const { stack, env, deployer } = platform();
    const header = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Header', HEADER_ARN);
    deployer.registerHttp('https://a.example.com/x', env, { secretHeaders: { 'x-key': header }, adminUrl: 'HTTPS://Restate.Internal:9070/' });
    deployer.registerHttp('https://b.example.com', env, { adminUrl: 'https://restate.internal:9070' });
    deployer.registerHttp('https://b.example.com/', env, { id: 'Again', secretHeaders: { 'x-key': header } });
    deployer.registerHttp('HTTPS://B.EXAMPLE.COM', env, { id: 'Upper', secretHeaders: { 'x-key': header } });
    expect(JSON.parse(trustedTargets(stack))).toEqual({
      admin: [
        ['https://restate.internal:9070', API_KEY_ARN, '', ''],
        [ADMIN_URL, API_KEY_ARN, '', ''],
      ],
      headers: [
        ['https://a.example.com/x', HEADER_ARN, ''],
        ['https://b.example.com', HEADER_ARN, ''],
      ],
    });
  });

  test('a token admin URL is kept as the token, not normalized', () => {
    const { stack, deployer } = platform();
    const url = new CfnParameter(stack, 'AdminUrl').valueAsString;
    const selfHosted = RestateEnvironment.fromAttributes({ adminUrl: url });
    deployer.registerHttp('https://a.example.com', selfHosted);
    deployer.registerHttp('https://b.example.com', selfHosted);
    const rendered = trustedTargets(stack);
    expect(rendered['Fn::Join']).toBeDefined();
    const parts: unknown[] = rendered['Fn::Join'][1];
    expect(parts.filter((p) => JSON.stringify(p) === JSON.stringify({ Ref: 'AdminUrl' }))).toHaveLength(1);
  });

  test('only the URL is normalized for comparison: JSON fields that differ by a trailing slash are two entries', () => {
    const { stack, deployer } = platform();
    const apiKey = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Key2', API_KEY_ARN);
    const a = RestateEnvironment.fromAttributes({ adminUrl: 'https://restate.internal:9070', authToken: apiKey, authTokenJsonField: 'token/' });
    const b = RestateEnvironment.fromAttributes({ adminUrl: 'https://restate.internal:9070', authToken: apiKey, authTokenJsonField: 'token' });
    deployer.registerHttp('https://a.example.com', a);
    deployer.registerHttp('https://b.example.com', b);
    expect(JSON.parse(trustedTargets(stack)).admin).toEqual([
      ['https://restate.internal:9070', API_KEY_ARN, 'token/', ''],
      ['https://restate.internal:9070', API_KEY_ARN, 'token', ''],
    ]);
  });

  test('an admin API reached without TLS verification is its own entry, marked insecure', () => {
    const { stack, deployer } = platform();
    const apiKey = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Key2', API_KEY_ARN);
    const env = RestateEnvironment.fromAttributes({ adminUrl: 'https://restate.internal:9070', authToken: apiKey });
    deployer.registerHttp('https://a.example.com', env);
    deployer.registerHttp('https://b.example.com', env, { insecureSkipTlsVerify: true });
    expect(JSON.parse(trustedTargets(stack)).admin).toEqual([
      ['https://restate.internal:9070', API_KEY_ARN, '', ''],
      ['https://restate.internal:9070', API_KEY_ARN, '', 'insecure'],
    ]);
  });

  test('the same registration target added twice is one entry', () => {
    const { stack, env, deployer } = platform();
    deployer.registerHttp('https://a.example.com', env);
    deployer.registerHttp('https://b.example.com', env);
    expect(JSON.parse(trustedTargets(stack))).toEqual({ admin: [[ADMIN_URL, API_KEY_ARN, '', '']], headers: [] });
  });
});

describe('values from another stack', () => {
  test("an admin URL made from another stack's resource: the exact error, naming the resource, its stack and the fix", () => {
    const { app, env, deployer } = platform();
    const service = new Stack(app, 'Service');
    const bucket = new s3.Bucket(service, 'Bucket');
    expect(() =>
      deployer.registerHttp('https://orders.example.com', env, { scope: service, adminUrl: `https://${bucket.bucketRegionalDomainName}:9070` }),
    ).toThrow(
      "ServiceDeployer: the admin URL and API key secret must be known to the deployer's stack Platform, which pins each secret to the URL it may be sent to, " +
        'but Service/Bucket/Resource belongs to stack Service. Create the ServiceDeployer in that stack, or pass a literal value.',
    );
  });

  test('a secret header created in another stack: the exact error, pointing to importing the secret by ARN or name', () => {
    const { app, env, deployer } = platform();
    const service = new Stack(app, 'Service');
    const token = new secretsmanager.Secret(service, 'EndpointToken');
    expect(() => deployer.registerHttp('https://orders.example.com', env, { scope: service, secretHeaders: { 'x-token': token } })).toThrow(
      "ServiceDeployer: the secret of header 'x-token' and the URL it goes to must be known to the deployer's stack Platform, which pins each secret to the URL it may be sent to, " +
        'but Service/EndpointToken/Resource belongs to stack Service. ' +
        "Import the secret in the deployer's stack by its ARN or name (Secret.fromSecretCompleteArn / fromSecretNameV2), or create the ServiceDeployer in that stack.",
    );
  });

  test("a secret header for a handler of another stack: the exact error, naming the function's stack", () => {
    const { app, stack, env, deployer } = platform();
    const service = new Stack(app, 'Service');
    const fn = new lambda.Function(service, 'Fn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => {};') });
    const header = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Header', HEADER_ARN);
    expect(() => deployer.register(fn.currentVersion, env, { secretHeaders: { 'x-key': header } })).toThrow(
      "ServiceDeployer: the secret of header 'x-key' and the function ARN it goes to must be known to the deployer's stack Platform, which pins each secret to the URL it may be sent to, " +
        'but Service/Fn/CurrentVersion/Resource belongs to stack Service. Create the ServiceDeployer in that stack, or pass a literal value.',
    );
  });

  test("another stack's pseudo parameters (its region, account) resolve anywhere and are accepted", () => {
    const { app, stack, env, deployer } = platform();
    const service = new Stack(app, 'Service');
    const header = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Header', HEADER_ARN);
    expect(() =>
      deployer.registerHttp(`https://orders.${service.region}.example.com`, env, { scope: service, secretHeaders: { 'x-key': header } }),
    ).not.toThrow();
  });

  test('a token of the deployer\'s own stack is accepted', () => {
    const { stack, env, deployer } = platform();
    const bucket = new s3.Bucket(stack, 'Bucket');
    expect(() => deployer.registerHttp('https://orders.example.com', env, { adminUrl: `https://${bucket.bucketRegionalDomainName}:9070` })).not.toThrow();
  });
});
