/**
 * Which secret may go where: the deployer's trusted targets, fixed at synth, against what an
 * event asks for; URL normalization and the TLS setting that goes with an admin URL.
 */
import { createHash } from 'crypto';
import { DeploymentResourceProperties, PropertyError } from '../../src/deployer/properties';
import { adminTarget, checkTrusted, normalizeUrl, tlsSetting, TRUSTED_TARGETS_ENV } from '../../src/deployer/trust';

const SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:key-AbCdEf';
const HEADER_SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:hdr-AbCdEf';
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

const props = (extra: Partial<DeploymentResourceProperties> = {}): DeploymentResourceProperties => ({
  AdminUrl: 'https://admin.example.com:9070',
  AuthTokenSecretArn: SECRET,
  Uri: 'https://svc.example.com/greeter',
  ...extra,
});
const env = (admin: unknown, headers: unknown = []) => ({ [TRUSTED_TARGETS_ENV]: JSON.stringify({ admin, headers }) });

describe('normalizeUrl', () => {
  test.each([
    ['HTTPS://Admin.Example.COM/Path/', 'https://admin.example.com/Path'],
    ['https://admin.example.com///', 'https://admin.example.com'],
    ['http://x:9070', 'http://x:9070'],
    ['https://x/a?Q=1', 'https://x/a?Q=1'],
    ['not a url/', 'not a url'],
    ['  https://X/', '  https://X'],
    ['HTTPS://X/a\nb', 'HTTPS://X/a\nb'],
  ])('%s -> %s', (url, normalized) => {
    expect(normalizeUrl(url)).toBe(normalized);
  });
});

describe('tlsSetting', () => {
  test('none, insecure, or the CA pinned by the hash of the trimmed PEM', () => {
    expect(tlsSetting(false, undefined)).toBe('');
    expect(tlsSetting(true, undefined)).toBe('insecure');
    const hash = createHash('sha256').update(PEM.trim()).digest('hex');
    expect(tlsSetting(false, PEM)).toBe(`ca:${hash}`);
    expect(tlsSetting(true, `  ${PEM}  `)).toBe(`ca:${hash}`);
  });

  test('adminTarget puts URL, secret, field and TLS setting together', () => {
    expect(adminTarget(props({ AdminUrl: 'HTTPS://Admin.example.com/', AuthTokenJsonField: 'key', InsecureSkipTlsVerify: 'true' }))).toEqual([
      'https://admin.example.com',
      SECRET,
      'key',
      'insecure',
    ]);
    expect(adminTarget({ AdminUrl: 'https://a' })).toEqual(['https://a', '', '', '']);
    expect(adminTarget({ AdminUrl: 'https://a', InsecureSkipTlsVerify: 'false' })).toEqual(['https://a', '', '', '']);
  });
});

describe('checkTrusted', () => {
  const trusted = env([['https://admin.example.com:9070', SECRET, '', '']]);

  test('accepts the configured target, comparing URLs normalized', () => {
    expect(() => checkTrusted(props(), trusted)).not.toThrow();
    expect(() => checkTrusted(props({ AdminUrl: 'HTTPS://ADMIN.example.com:9070/' }), trusted)).not.toThrow();
    expect(() => checkTrusted(props(), env([['HTTPS://admin.example.com:9070/', SECRET, '', '']]))).not.toThrow();
  });

  test.each([
    ['no variable', {}],
    ['not JSON', { [TRUSTED_TARGETS_ENV]: '{' }],
    ['null', { [TRUSTED_TARGETS_ENV]: 'null' }],
    ['admin not a list', env('x')],
    ['headers missing', { [TRUSTED_TARGETS_ENV]: JSON.stringify({ admin: [] }) }],
    ['an admin target of the wrong width', env([['https://admin.example.com:9070', SECRET, '']])],
    ['an admin target with a number', env([['https://admin.example.com:9070', SECRET, '', 1]])],
    ['an admin target that is not a list', env(['https://admin.example.com:9070'])],
    ['a header target of the wrong width', env([['https://admin.example.com:9070', SECRET, '', '']], [['a', 'b']])],
  ])('refuses everything when the variable is malformed (%s)', (_what, e) => {
    expect(() => checkTrusted(props(), e as NodeJS.ProcessEnv)).toThrow(
      new PropertyError(
        `the deployer has no valid ${TRUSTED_TARGETS_ENV} environment variable, so it sends no API key anywhere. It is set by ServiceDeployer: redeploy the deployer's stack.`,
      ),
    );
  });

  test('refuses another admin URL, naming the secret and URL', () => {
    expect(() => checkTrusted(props({ AdminUrl: 'https://evil.example.com' }), trusted)).toThrow(
      `refused: this deployer was not configured to send the API key in secret ${SECRET} to the admin API at https://evil.example.com. ` +
        "Each environment's admin URL, API key secret and TLS settings are fixed when the app is synthesized: register through ServiceDeployer, then deploy the deployer's stack too.",
    );
  });

  test('refuses another secret, another field, or another TLS setting for the same URL', () => {
    expect(() => checkTrusted(props({ AuthTokenSecretArn: `${SECRET}x` }), trusted)).toThrow(PropertyError);
    expect(() => checkTrusted(props({ AuthTokenJsonField: 'apiKey' }), trusted)).toThrow(
      `to send the API key in secret ${SECRET} (field 'apiKey') to the admin API at https://admin.example.com:9070.`,
    );
    expect(() => checkTrusted(props({ InsecureSkipTlsVerify: 'true' }), trusted)).toThrow(
      "to the admin API at https://admin.example.com:9070 with TLS setting 'insecure'.",
    );
  });

  test('without a key, says that requests without one were not configured', () => {
    expect(() => checkTrusted(props({ AuthTokenSecretArn: undefined }), trusted)).toThrow(
      'refused: this deployer was not configured to send requests without an API key to the admin API at https://admin.example.com:9070.',
    );
  });

  test('secret headers go only to the endpoint they were configured for', () => {
    const withHeader = env([['https://admin.example.com:9070', SECRET, '', '']], [['https://svc.example.com/greeter', HEADER_SECRET, 'token']]);
    const header = { Name: 'x-api-key', SecretArn: HEADER_SECRET, JsonField: 'token' };
    expect(() => checkTrusted(props({ SecretHeaders: [header] }), withHeader)).not.toThrow();
    expect(() => checkTrusted(props({ Uri: 'HTTPS://SVC.example.com/greeter/', SecretHeaders: [header] }), withHeader)).not.toThrow();
    expect(() => checkTrusted(props({ Uri: 'https://evil.example.com/', SecretHeaders: [header] }), withHeader)).toThrow(
      `refused: this deployer was not configured to send secret ${HEADER_SECRET} (field 'token') as header 'x-api-key' to https://evil.example.com. ` +
        "Secret headers are fixed to their endpoint when the app is synthesized: register through ServiceDeployer, then deploy the deployer's stack too.",
    );
    expect(() => checkTrusted(props({ SecretHeaders: [{ ...header, JsonField: undefined }] }), withHeader)).toThrow(
      `refused: this deployer was not configured to send secret ${HEADER_SECRET} as header 'x-api-key' to https://svc.example.com/greeter.`,
    );
    expect(() => checkTrusted(props({ SecretHeaders: [{ ...header, SecretArn: SECRET }] }), withHeader)).toThrow(PropertyError);
  });

  test('several environments and endpoints: any one configured target is enough', () => {
    const other = 'https://other.example.com:9070';
    const several = env(
      [[other, `${SECRET}2`, '', ''], ['https://admin.example.com:9070', SECRET, '', '']],
      [['https://elsewhere.example.com', HEADER_SECRET, ''], ['https://svc.example.com/greeter', HEADER_SECRET, '']],
    );
    expect(() => checkTrusted(props({ SecretHeaders: [{ Name: 'x-api-key', SecretArn: HEADER_SECRET }] }), several)).not.toThrow();
    expect(() => checkTrusted(props({ AdminUrl: other, AuthTokenSecretArn: `${SECRET}2` }), several)).not.toThrow();
  });

  test('only the URL of a target is compared normalized; secrets and fields exactly', () => {
    expect(() => checkTrusted(props({ AuthTokenSecretArn: SECRET.toUpperCase() }), env([['https://admin.example.com:9070', SECRET.toUpperCase(), '', '']]))).not.toThrow();
    expect(() => checkTrusted(props(), env([['https://admin.example.com:9070', SECRET.replace('key', 'KEY'), '', '']]))).toThrow(PropertyError);
    expect(() => checkTrusted(props({ AuthTokenJsonField: 'Key' }), env([['https://admin.example.com:9070', SECRET, 'key', '']]))).toThrow(PropertyError);
    expect(() => checkTrusted(props({ AuthTokenJsonField: 'key/' }), env([['https://admin.example.com:9070', SECRET, 'key', '']]))).toThrow(PropertyError);
  });

  test('a trust list of another shape is refused as malformed', () => {
    expect(() => checkTrusted(props(), { [TRUSTED_TARGETS_ENV]: JSON.stringify({ headers: [] }) })).toThrow(/has no valid RESTATE_TRUSTED_TARGETS/);
    expect(() => checkTrusted(props(), { [TRUSTED_TARGETS_ENV]: '"x"' })).toThrow(/has no valid RESTATE_TRUSTED_TARGETS/);
  });

  test('a secret header of a Lambda registration is bound to the function ARN', () => {
    const lambdaArn = 'arn:aws:lambda:us-east-1:111111111111:function:f:1';
    const withHeader = env([['https://admin.example.com:9070', SECRET, '', '']], [[lambdaArn, HEADER_SECRET, '']]);
    const header = { Name: 'x-api-key', SecretArn: HEADER_SECRET };
    expect(() => checkTrusted(props({ Uri: undefined, LambdaArn: lambdaArn, SecretHeaders: [header] }), withHeader)).not.toThrow();
  });

  test('reads process.env by default', () => {
    const saved = process.env[TRUSTED_TARGETS_ENV];
    process.env[TRUSTED_TARGETS_ENV] = trusted[TRUSTED_TARGETS_ENV];
    try {
      expect(() => checkTrusted(props())).not.toThrow();
    } finally {
      if (saved === undefined) delete process.env[TRUSTED_TARGETS_ENV];
      else process.env[TRUSTED_TARGETS_ENV] = saved;
    }
  });
});
