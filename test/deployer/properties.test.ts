/**
 * The custom resource's properties as the deployer reads them: every property ServiceDeployer
 * writes, of the form it writes it, is accepted; anything else is refused with a reason naming
 * it. And the metadata recorded on each deployment.
 */
import {
  decodeProperties,
  DEFAULTS,
  deploymentMetadata,
  encodeBoolean,
  encodeFlag,
  encodeOptionalBoolean,
  encodeRemovalPolicy,
  encodeSeconds,
  numberOr,
  PropertyError,
  SERVICE_CONFIGURATION_FIELDS,
} from '../../src/deployer/properties';

const LAMBDA_ARN = 'arn:aws:lambda:us-east-1:111111111111:function:greeter:7';
const ROLE_ARN = 'arn:aws:iam::111111111111:role/RestateInvoker';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:restate/api-key-AbCdEf';
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const SUFFIX = '. The custom resource was not written by ServiceDeployer; nothing was done.';

const lambda = (extra: Record<string, unknown> = {}) => ({ AdminUrl: 'https://admin.example.com:9070', LambdaArn: LAMBDA_ARN, ...extra });
const http = (extra: Record<string, unknown> = {}) => ({ AdminUrl: 'https://admin.example.com:9070', Uri: 'https://svc.example.com/greeter', ...extra });
const refusal = (raw: unknown): string => {
  try {
    decodeProperties(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(PropertyError);
    expect((e as Error).message.endsWith(SUFFIX)).toBe(true);
    return (e as Error).message.slice(0, -SUFFIX.length);
  }
  throw new Error('accepted');
};

describe('accepted', () => {
  test('everything ServiceDeployer writes, returned as it is', () => {
    const all = lambda({
      ServiceToken: 'arn:aws:lambda:us-east-1:111111111111:function:deployer',
      AuthTokenSecretArn: SECRET_ARN,
      AuthTokenJsonField: 'apiKey',
      RequireHttps: 'true',
      InsecureSkipTlsVerify: 'false',
      AdminCaCertificate: PEM,
      AssumeRoleArn: ROLE_ARN,
      GrantInvoke: 'true',
      AuthRetrySeconds: '60',
      AdditionalHeaders: { 'x-a': 'b' },
      SecretHeaders: [{ Name: 'x-key', SecretArn: SECRET_ARN, JsonField: 'k' }, { Name: 'x-other', SecretArn: SECRET_ARN }],
      ExpectedServices: ['Greeter'],
      ServiceConfiguration: { Default: { JournalRetentionSeconds: '60' }, Services: { Greeter: { AbortTimeoutSeconds: '1' } } },
      Private: 'false',
      Force: 'false',
      Breaking: 'true',
      RemovalPolicy: 'destroy',
      PruneDrained: 'true',
      RevisionHistoryLimit: '3',
      MaxPrunedPerRun: '10',
      ConfigurationVersion: '2',
      Metadata: { team: 'payments' },
      Owner: 'App/Stack/X',
      HealthTimeoutSeconds: '120',
      ServiceTimeout: '900',
    });
    expect(decodeProperties(all)).toEqual(all);
  });

  test('HTTP registrations, http:// admin URLs with a path, and the minimal set', () => {
    expect(() => decodeProperties(http({ DiscoveryRetrySeconds: '30', UseHttp11: 'true' }))).not.toThrow();
    expect(() => decodeProperties(http({ AdminUrl: 'http://10.0.0.1:9070/admin' }))).not.toThrow();
    expect(() => decodeProperties(http({ Uri: 'http://svc.local:9080/a/b?c=d' }))).not.toThrow();
    expect(() => decodeProperties(lambda({ LambdaArn: 'arn:aws-cn:lambda:cn-north-1:111111111111:function:f:$LATEST' }))).not.toThrow();
    expect(() => decodeProperties(lambda({ LambdaArn: 'arn:aws:lambda:us-east-1:111111111111:function:f:live', AssumeRoleArn: 'arn:aws:iam::111111111111:role/path/to/R' }))).not.toThrow();
  });
});

describe('refused, naming what', () => {
  test.each([
    ['not an object', 'x', 'ResourceProperties is not an object'],
    ['null', null, 'ResourceProperties is not an object'],
    ['a list', [], 'ResourceProperties is not an object'],
    ['an unknown property', lambda({ Evil: 'x' }), 'unknown property Evil'],
    ['no AdminUrl', { LambdaArn: LAMBDA_ARN }, 'property AdminUrl is missing'],
    ['an AdminUrl with a query', lambda({ AdminUrl: 'https://a.example.com/?x=1' }), 'property AdminUrl is not an http(s) URL without query or fragment: "https://a.example.com/?x=1"'],
    ['an AdminUrl with a fragment', lambda({ AdminUrl: 'https://a.example.com#x' }), 'property AdminUrl is not an http(s) URL without query or fragment: "https://a.example.com#x"'],
    ['an AdminUrl of another scheme', lambda({ AdminUrl: 'file:///etc/passwd' }), 'property AdminUrl is not an http(s) URL without query or fragment: "file:///etc/passwd"'],
    ['an AdminUrl with text before it', lambda({ AdminUrl: 'x https://a.example.com' }), 'property AdminUrl is not an http(s) URL without query or fragment: "x https://a.example.com"'],
    ['an AdminUrl with a space', lambda({ AdminUrl: 'https://a.example.com/a b' }), 'property AdminUrl is not an http(s) URL without query or fragment: "https://a.example.com/a b"'],
    ['an AdminUrl without host', lambda({ AdminUrl: 'https://' }), 'property AdminUrl is not an http(s) URL without query or fragment: "https://"'],
    ['a number AdminUrl', lambda({ AdminUrl: 9070 }), 'property AdminUrl must be a string, got 9070'],
    ['a Uri with a fragment', http({ Uri: 'https://svc.example.com/#x' }), 'property Uri is not an http(s) URL: "https://svc.example.com/#x"'],
    ['a Uri of another scheme', http({ Uri: 'ftp://svc.example.com' }), 'property Uri is not an http(s) URL: "ftp://svc.example.com"'],
    ['an unqualified function ARN', lambda({ LambdaArn: 'arn:aws:lambda:us-east-1:111111111111:function:greeter' }), 'property LambdaArn is not a qualified Lambda function ARN (version or alias): "arn:aws:lambda:us-east-1:111111111111:function:greeter"'],
    ['a function ARN with text after it', lambda({ LambdaArn: `${LAMBDA_ARN} x` }), `property LambdaArn is not a qualified Lambda function ARN (version or alias): "${LAMBDA_ARN} x"`],
    ['a function ARN with text before it', lambda({ LambdaArn: `x${LAMBDA_ARN}` }), `property LambdaArn is not a qualified Lambda function ARN (version or alias): "x${LAMBDA_ARN}"`],
    ['a role ARN of a user', lambda({ AssumeRoleArn: 'arn:aws:iam::111111111111:user/Bob' }), 'property AssumeRoleArn is not an IAM role ARN: "arn:aws:iam::111111111111:user/Bob"'],
    ['a role ARN with text around it', lambda({ AssumeRoleArn: ` ${ROLE_ARN} ` }), `property AssumeRoleArn is not an IAM role ARN: " ${ROLE_ARN} "`],
    ['a secret ARN of another service', lambda({ AuthTokenSecretArn: 'arn:aws:ssm:us-east-1:111111111111:parameter/x' }), 'property AuthTokenSecretArn is not a Secrets Manager secret ARN: "arn:aws:ssm:us-east-1:111111111111:parameter/x"'],
    ['a secret ARN with text around it', lambda({ AuthTokenSecretArn: `${SECRET_ARN} ` }), `property AuthTokenSecretArn is not a Secrets Manager secret ARN: "${SECRET_ARN} "`],
    ['a CA that is not PEM', lambda({ AdminCaCertificate: 'MIIB' }), 'property AdminCaCertificate is not a PEM certificate: "MIIB"'],
    ['a CA with text after it', lambda({ AdminCaCertificate: `${PEM}x` }), `property AdminCaCertificate is not a PEM certificate: ${JSON.stringify(`${PEM}x`)}`],
    ['another removal policy', lambda({ RemovalPolicy: 'snapshot' }), "property RemovalPolicy is not 'retain' or 'destroy': \"snapshot\""],
    ['a boolean that is not true/false', lambda({ Force: 'yes' }), "property Force is not 'true' or 'false': \"yes\""],
    ['a boolean with text around it', lambda({ Private: 'truex' }), "property Private is not 'true' or 'false': \"truex\""],
    ['a real boolean', lambda({ Breaking: true }), 'property Breaking must be a string, got true'],
    ['a number that is not whole', lambda({ HealthTimeoutSeconds: '1.5' }), 'property HealthTimeoutSeconds is not a whole number of at most 6 digits: "1.5"'],
    ['a number of 7 digits', lambda({ MaxPrunedPerRun: '1000000' }), 'property MaxPrunedPerRun is not a whole number of at most 6 digits: "1000000"'],
    ['an empty number', lambda({ AuthRetrySeconds: '' }), 'property AuthRetrySeconds is not a whole number of at most 6 digits: ""'],
    ['a string that is not', lambda({ Owner: 42 }), 'property Owner must be a string, got 42'],
    ['both LambdaArn and Uri', lambda({ Uri: 'https://svc.example.com' }), 'exactly one of the properties LambdaArn and Uri must be set'],
    ['neither LambdaArn nor Uri', { AdminUrl: 'https://a.example.com' }, 'exactly one of the properties LambdaArn and Uri must be set'],
    ['a role without a function', http({ AssumeRoleArn: ROLE_ARN }), 'property AssumeRoleArn is set without LambdaArn'],
    ['GrantInvoke without a role', lambda({ GrantInvoke: 'true' }), 'property GrantInvoke is true without AssumeRoleArn'],
    ['DiscoveryRetrySeconds for a function', lambda({ DiscoveryRetrySeconds: '10' }), 'property DiscoveryRetrySeconds is set without Uri'],
    [
      'GrantInvoke on $LATEST',
      lambda({ LambdaArn: 'arn:aws:lambda:us-east-1:111111111111:function:f:$LATEST', AssumeRoleArn: ROLE_ARN, GrantInvoke: 'true' }),
      'property GrantInvoke is true for arn:aws:lambda:us-east-1:111111111111:function:f:$LATEST: the deployer grants versions and aliases only',
    ],
    ['headers that are not a map', http({ AdditionalHeaders: ['x'] }), 'property AdditionalHeaders must be a map of strings'],
    ['headers that are null', http({ AdditionalHeaders: null }), 'property AdditionalHeaders must be a map of strings'],
    ['a header value that is not a string', http({ AdditionalHeaders: { 'x-a': 1 } }), 'property AdditionalHeaders.x-a must be a string'],
    ['a header name with a space', http({ AdditionalHeaders: { 'x a': 'b' } }), 'property AdditionalHeaders has an invalid name "x a"'],
    ['a header name with a colon', http({ AdditionalHeaders: { 'x:a': 'b' } }), 'property AdditionalHeaders has an invalid name "x:a"'],
    ['metadata that is not a map', lambda({ Metadata: 'x' }), 'property Metadata must be a map of strings'],
    ['a metadata value that is not a string', lambda({ Metadata: { a: {} } }), 'property Metadata.a must be a string'],
    ['expected services that are not a list', lambda({ ExpectedServices: 'Greeter' }), 'property ExpectedServices must be a list of service names'],
    ['an expected service that is not a string', lambda({ ExpectedServices: ['Greeter', 1] }), 'property ExpectedServices must be a list of service names'],
    ['secret headers that are not a list', http({ SecretHeaders: {} }), 'property SecretHeaders must be a list'],
    ['a secret header with another key', http({ SecretHeaders: [{ Name: 'x', SecretArn: SECRET_ARN, Value: 'v' }] }), `property SecretHeaders has an entry that is not {Name, SecretArn, JsonField?}: {"Name":"x","SecretArn":"${SECRET_ARN}","Value":"v"}`],
    ['a secret header that is null', http({ SecretHeaders: [null] }), 'property SecretHeaders has an entry that is not {Name, SecretArn, JsonField?}: null'],
    ['a secret header name that is invalid', http({ SecretHeaders: [{ Name: 'x y', SecretArn: SECRET_ARN }] }), 'property SecretHeaders has an invalid header name "x y"'],
    ['a secret header name that is missing', http({ SecretHeaders: [{ SecretArn: SECRET_ARN }] }), 'property SecretHeaders has an invalid header name undefined'],
    ['a secret header ARN that is not a secret', http({ SecretHeaders: [{ Name: 'x', SecretArn: 'arn:aws:s3:::b' }] }), 'property SecretHeaders.x is not a Secrets Manager secret ARN: "arn:aws:s3:::b"'],
    ['a secret header ARN that is missing', http({ SecretHeaders: [{ Name: 'x' }] }), 'property SecretHeaders.x is not a Secrets Manager secret ARN: undefined'],
    ['a secret header field that is not a string', http({ SecretHeaders: [{ Name: 'x', SecretArn: SECRET_ARN, JsonField: 1 }] }), 'property SecretHeaders.x.JsonField must be a string'],
    ['a configuration that is not {Default, Services}', lambda({ ServiceConfiguration: { Other: {} } }), 'property ServiceConfiguration must be {Default?, Services?}'],
    ['a configuration that is a list', lambda({ ServiceConfiguration: [] }), 'property ServiceConfiguration must be {Default?, Services?}'],
    ['a default that is not an object', lambda({ ServiceConfiguration: { Default: 'x' } }), 'property ServiceConfiguration.Default must be an object'],
    ['a default with an unknown field', lambda({ ServiceConfiguration: { Default: { Retention: '1' } } }), 'property ServiceConfiguration.Default has an unknown field Retention'],
    ['a default that is not whole seconds', lambda({ ServiceConfiguration: { Default: { JournalRetentionSeconds: '1h' } } }), 'property ServiceConfiguration.Default.JournalRetentionSeconds is not a whole number of seconds: "1h"'],
    ['a default that is a number', lambda({ ServiceConfiguration: { Default: { JournalRetentionSeconds: 60 } } }), 'property ServiceConfiguration.Default.JournalRetentionSeconds is not a whole number of seconds: 60'],
    ['seconds of 11 digits', lambda({ ServiceConfiguration: { Default: { AbortTimeoutSeconds: '12345678901' } } }), 'property ServiceConfiguration.Default.AbortTimeoutSeconds is not a whole number of seconds: "12345678901"'],
    ['services that are not an object', lambda({ ServiceConfiguration: { Services: [] } }), 'property ServiceConfiguration.Services must be an object'],
    ['a service entry that is not an object', lambda({ ServiceConfiguration: { Services: { Greeter: 1 } } }), 'property ServiceConfiguration.Services.Greeter must be an object'],
    ['a service entry with an unknown field', lambda({ ServiceConfiguration: { Services: { Greeter: { X: '1' } } } }), 'property ServiceConfiguration.Services.Greeter has an unknown field X'],
    ['a configuration that is null', lambda({ ServiceConfiguration: null }), 'property ServiceConfiguration must be {Default?, Services?}'],
    ['a default that is null', lambda({ ServiceConfiguration: { Default: null } }), 'property ServiceConfiguration.Default must be an object'],
    ['services that are null', lambda({ ServiceConfiguration: { Services: null } }), 'property ServiceConfiguration.Services must be an object'],
    ['a configuration with a default and another key', lambda({ ServiceConfiguration: { Default: {}, Other: {} } }), 'property ServiceConfiguration must be {Default?, Services?}'],
    ['a secret header that is a number', http({ SecretHeaders: [5] }), 'property SecretHeaders has an entry that is not {Name, SecretArn, JsonField?}: 5'],
    ['a secret header name that is a number', http({ SecretHeaders: [{ Name: 5, SecretArn: SECRET_ARN }] }), 'property SecretHeaders has an invalid header name 5'],
    // A list of one ARN reads as that ARN to a pattern: only its type tells it apart.
    ['a secret header ARN in a list', http({ SecretHeaders: [{ Name: 'x', SecretArn: [SECRET_ARN] }] }), `property SecretHeaders.x is not a Secrets Manager secret ARN: ["${SECRET_ARN}"]`],
    ['a boolean with text before it', lambda({ Force: 'xtrue' }), "property Force is not 'true' or 'false': \"xtrue\""],
    ['a Uri with text before it', http({ Uri: 'x https://svc.example.com' }), 'property Uri is not an http(s) URL: "x https://svc.example.com"'],
    ['a CA with text before it', lambda({ AdminCaCertificate: `x${PEM}` }), `property AdminCaCertificate is not a PEM certificate: ${JSON.stringify(`x${PEM}`)}`],
    ['a removal policy with text before it', lambda({ RemovalPolicy: 'xretain' }), "property RemovalPolicy is not 'retain' or 'destroy': \"xretain\""],
    ['a removal policy with text after it', lambda({ RemovalPolicy: 'destroyx' }), "property RemovalPolicy is not 'retain' or 'destroy': \"destroyx\""],
    ['a role ARN with text before it', lambda({ AssumeRoleArn: `x${ROLE_ARN}` }), `property AssumeRoleArn is not an IAM role ARN: "x${ROLE_ARN}"`],
    ['a role ARN with text after it', lambda({ AssumeRoleArn: `${ROLE_ARN} x` }), `property AssumeRoleArn is not an IAM role ARN: "${ROLE_ARN} x"`],
    ['a secret ARN with text before it', lambda({ AuthTokenSecretArn: `x${SECRET_ARN}` }), `property AuthTokenSecretArn is not a Secrets Manager secret ARN: "x${SECRET_ARN}"`],
  ])('%s', (_what, raw, reason) => {
    expect(refusal(raw)).toBe(reason);
  });
});

describe('also accepted', () => {
  test('other partitions, a configuration with only a default or none, JSON fields of secret headers', () => {
    const cn = { LambdaArn: 'arn:aws-cn:lambda:cn-north-1:111111111111:function:f:1', AssumeRoleArn: 'arn:aws-cn:iam::111111111111:role/R' };
    for (const raw of [
      lambda(cn),
      lambda({ AuthTokenSecretArn: 'arn:aws-us-gov:secretsmanager:us-gov-west-1:111111111111:secret:k-AbCdEf' }),
      lambda({ ServiceConfiguration: { Default: { JournalRetentionSeconds: '60' } } }),
      lambda({ ServiceConfiguration: {} }),
      http({ SecretHeaders: [{ Name: 'x-key', SecretArn: SECRET_ARN, JsonField: 'key' }] }),
    ]) {
      expect(decodeProperties(raw)).toEqual(raw);
    }
  });
});

describe('encoding, as the constructs write the properties', () => {
  test('flags, booleans and optional booleans', () => {
    expect([encodeFlag(true), encodeFlag(false), encodeFlag(undefined)]).toEqual(['true', undefined, undefined]);
    expect([encodeBoolean(true), encodeBoolean(false), encodeBoolean(undefined)]).toEqual(['true', 'false', 'false']);
    expect([encodeOptionalBoolean(true), encodeOptionalBoolean(false), encodeOptionalBoolean(undefined)]).toEqual(['true', 'false', undefined]);
  });

  test('seconds, left out when unset or the default', () => {
    expect([encodeSeconds(30), encodeSeconds(0), encodeSeconds(undefined), encodeSeconds(undefined, 60)]).toEqual(['30', '0', undefined, undefined]);
    expect([encodeSeconds(60, 60), encodeSeconds(61, 60)]).toEqual([undefined, '61']);
  });

  test('removal policies: RETAIN by default, DESTROY, and nothing else', () => {
    expect([encodeRemovalPolicy(undefined), encodeRemovalPolicy('retain'), encodeRemovalPolicy('destroy')]).toEqual(['retain', 'retain', 'destroy']);
    expect(() => encodeRemovalPolicy('snapshot')).toThrow(
      'removalPolicy snapshot is not supported for Restate deployments: use RemovalPolicy.RETAIN or RemovalPolicy.DESTROY.',
    );
  });

  test('numbers read back, or their default when unset', () => {
    expect([numberOr('5', 7), numberOr('0', 7), numberOr(undefined, 7)]).toEqual([5, 0, 7]);
  });

  test('the defaults both sides apply, and the admin API\'s name of each service setting', () => {
    expect(DEFAULTS).toEqual({ healthTimeoutSeconds: 120, authRetrySeconds: 60, revisionHistoryLimit: 0, removalPolicy: 'retain' });
    expect(Object.fromEntries(SERVICE_CONFIGURATION_FIELDS)).toEqual({
      IdempotencyRetentionSeconds: 'idempotency_retention',
      JournalRetentionSeconds: 'journal_retention',
      WorkflowCompletionRetentionSeconds: 'workflow_completion_retention',
      InactivityTimeoutSeconds: 'inactivity_timeout',
      AbortTimeoutSeconds: 'abort_timeout',
    });
  });
});

describe('deploymentMetadata', () => {
  const resource = { stackId: 'arn:aws:cloudformation:us-east-1:111111111111:stack/App/1', logicalId: 'Registration', requestId: 'req-9' };

  test("the user's metadata, the owner split into stack and construct path, and the resource", () => {
    expect(deploymentMetadata({ AdminUrl: 'x', Owner: 'App/Stack/Handler', Metadata: { team: 'a' } }, resource, 'req-1')).toEqual({
      'team': 'a',
      'restate-cloud-cdk.owner': 'App/Stack/Handler',
      'restate-cloud-cdk.stack': 'App',
      'restate-cloud-cdk.construct': 'Stack/Handler',
      'restate-cloud-cdk.stack-id': resource.stackId,
      'restate-cloud-cdk.logical-id': 'Registration',
      'restate-cloud-cdk.created-by': 'req-1',
    });
  });

  test('an owner starting with a slash has an empty stack name', () => {
    expect(deploymentMetadata({ AdminUrl: 'x', Owner: '/Handler' }, resource, '')).toMatchObject({
      'restate-cloud-cdk.stack': '',
      'restate-cloud-cdk.construct': 'Handler',
    });
  });

  test('an owner without a slash is the stack alone; without an owner, only the resource', () => {
    expect(deploymentMetadata({ AdminUrl: 'x', Owner: 'App' }, resource, '')).toEqual({
      'restate-cloud-cdk.owner': 'App',
      'restate-cloud-cdk.stack': 'App',
      'restate-cloud-cdk.stack-id': resource.stackId,
      'restate-cloud-cdk.logical-id': 'Registration',
      'restate-cloud-cdk.created-by': '',
    });
    expect(deploymentMetadata({ AdminUrl: 'x' }, resource, 'r')).toEqual({
      'restate-cloud-cdk.stack-id': resource.stackId,
      'restate-cloud-cdk.logical-id': 'Registration',
      'restate-cloud-cdk.created-by': 'r',
    });
  });

  test("ownership keys win over the user's metadata of the same name", () => {
    const m = deploymentMetadata({ AdminUrl: 'x', Metadata: { 'restate-cloud-cdk.created-by': 'forged' } }, resource, 'req-1');
    expect(m['restate-cloud-cdk.created-by']).toBe('req-1');
  });
});
