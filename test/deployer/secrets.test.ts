/**
 * Reading secrets (a fake Secrets Manager on loopback): the value trimmed, or a JSON field of
 * it; reasons that name the secret and never the value; a cache of one minute that a rejected
 * key can clear.
 */
import { RecordingServer, secretsManagerRoute, useFakeAwsCredentials } from './fakes';
import { forgetAllSecrets, forgetSecret, readSecret, readSecretEntry, SecretError } from '../../src/deployer/secrets';

const ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:s-AbCdEf';
let sm: RecordingServer;
let values: Record<string, string>;

beforeAll(async () => {
  values = {};
  sm = await RecordingServer.start((r) => secretsManagerRoute(values)(r));
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = sm.url;
  useFakeAwsCredentials();
});
beforeEach(() => {
  forgetAllSecrets();
  sm.requests.length = 0;
});
afterEach(() => jest.useRealTimers());
afterAll(() => sm.stop());

test('the value, trimmed', async () => {
  values[ARN] = '  key_1\n';
  await expect(readSecret(ARN)).resolves.toBe('key_1');
  expect(sm.requests.map((r) => r.body)).toEqual([{ SecretId: ARN }]);
});

test('a JSON field, trimmed', async () => {
  values[ARN] = JSON.stringify({ apiKey: ' key_2 ', other: 'x' });
  await expect(readSecret(ARN, 'apiKey')).resolves.toBe('key_2');
});

test.each([
  ['   ', undefined, `secret ${ARN} is empty`],
  ['not json', 'apiKey', `secret ${ARN} is not a JSON document, but field 'apiKey' was asked for`],
  ['{"other":"x"}', 'apiKey', `secret ${ARN} has no non-empty string field 'apiKey'`],
  ['{"apiKey":42}', 'apiKey', `secret ${ARN} has no non-empty string field 'apiKey'`],
  ['{"apiKey":"  "}', 'apiKey', `secret ${ARN} has no non-empty string field 'apiKey'`],
  ['null', 'apiKey', `secret ${ARN} has no non-empty string field 'apiKey'`],
])('%j (field %s) fails: %s', async (value, field, reason) => {
  values[ARN] = value;
  const e = await readSecret(ARN, field).catch((x) => x);
  expect(e).toBeInstanceOf(SecretError);
  expect(e.message).toBe(reason);
});

test('a secret that cannot be read names it and the AWS error', async () => {
  const missing = `${ARN}x`;
  const e = await readSecret(missing).catch((x) => x);
  expect(e).toBeInstanceOf(SecretError);
  expect(e.message).toBe(`could not read secret ${missing}: ResourceNotFoundException: Secrets Manager can't find the specified secret.`);
});

test('a binary secret (no SecretString) is refused', async () => {
  const binary = `${ARN}-bin`;
  const route = sm.route;
  sm.route = () => ({ status: 200, body: { ARN: binary, Name: 'n', SecretBinary: 'AAAA', VersionId: 'v1' } });
  try {
    await expect(readSecret(binary)).rejects.toThrow(`secret ${binary} has no string value (binary secrets are not supported)`);
  } finally {
    sm.route = route;
  }
});

test('read once a minute: the second read comes from the cache, and says so', async () => {
  values[ARN] = 'key_3';
  await expect(readSecretEntry(ARN)).resolves.toEqual({ value: 'key_3', cached: false });
  await expect(readSecretEntry(ARN)).resolves.toEqual({ value: 'key_3', cached: true });
  expect(sm.requests).toHaveLength(1);
});

test('a failed read is not cached', async () => {
  delete values[ARN];
  await expect(readSecret(ARN)).rejects.toThrow(SecretError);
  values[ARN] = 'key_ok';
  await expect(readSecret(ARN)).resolves.toBe('key_ok');
  expect(sm.requests).toHaveLength(2);
});

test('forgetSecret makes the next read go to Secrets Manager', async () => {
  values[ARN] = 'key_4';
  await readSecret(ARN);
  values[ARN] = 'key_5';
  forgetSecret(`${ARN}-other`);
  await expect(readSecret(ARN)).resolves.toBe('key_4');
  forgetSecret(ARN);
  await expect(readSecretEntry(ARN)).resolves.toEqual({ value: 'key_5', cached: false });
});

test('after a minute the secret is read again', async () => {
  values[ARN] = 'key_6';
  const start = Date.now();
  const now = jest.spyOn(Date, 'now').mockReturnValue(start);
  try {
    await readSecret(ARN);
    values[ARN] = 'key_7';
    now.mockReturnValue(start + 59_999);
    await expect(readSecret(ARN)).resolves.toBe('key_6');
    now.mockReturnValue(start + 60_000);
    await expect(readSecret(ARN)).resolves.toBe('key_7');
  } finally {
    now.mockRestore();
  }
});
