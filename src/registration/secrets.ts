import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

let client: SecretsManagerClient | undefined;

/** A secret could not be read or had no usable value; the message never contains the value. */
export class SecretError extends Error {}

/**
 * Reads a secret's string; with `jsonField`, the named field of the JSON document it holds.
 */
export async function readSecret(secretArn: string, jsonField?: string): Promise<string> {
  client = client ?? new SecretsManagerClient({});
  let value: string | undefined;
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    value = out.SecretString;
  } catch (e) {
    const err = e as { name?: string; message?: string };
    throw new SecretError(`could not read secret ${secretArn}: ${err.name ?? 'Error'}: ${err.message ?? String(e)}`);
  }
  if (value === undefined) throw new SecretError(`secret ${secretArn} has no string value (binary secrets are not supported)`);
  if (jsonField === undefined) {
    const trimmed = value.trim();
    if (trimmed.length === 0) throw new SecretError(`secret ${secretArn} is empty`);
    return trimmed;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch {
    throw new SecretError(`secret ${secretArn} is not a JSON document, but field '${jsonField}' was asked for`);
  }
  const field = (doc as Record<string, unknown>)?.[jsonField];
  if (typeof field !== 'string' || field.trim().length === 0) {
    throw new SecretError(`secret ${secretArn} has no non-empty string field '${jsonField}'`);
  }
  return field.trim();
}
