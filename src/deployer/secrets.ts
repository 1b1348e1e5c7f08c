import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

let client: SecretsManagerClient | undefined;

/**
 * A warm deployer serves many registrations in a row (CloudFormation creates them in parallel):
 * secrets are read once per minute at most. A key the admin API rejects is read again at once
 * (`forgetSecret`), so a rotated key is picked up without waiting.
 */
const CACHE_TTL_MS = 60_000;
const cache = new Map<string, { value: string; readAt: number }>();

export function forgetSecret(secretArn: string): void {
  cache.delete(secretArn);
}

/** Empties the cache (a cold start), for tests. */
export function forgetAllSecrets(): void {
  cache.clear();
}

/** A secret could not be read or had no usable value; the message never contains the value. */
export class SecretError extends Error {}

/**
 * Reads a secret's string; with `jsonField`, the named field of the JSON document it holds.
 */
export async function readSecret(secretArn: string, jsonField?: string): Promise<string> {
  return (await readSecretEntry(secretArn, jsonField)).value;
}

/** `readSecret`, saying whether the value came from the cache. */
export async function readSecretEntry(secretArn: string, jsonField?: string): Promise<{ value: string; cached: boolean }> {
  const { value: raw, cached } = await secretString(secretArn);
  return { value: fieldOf(secretArn, raw, jsonField), cached };
}

function fieldOf(secretArn: string, value: string, jsonField: string | undefined): string {
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

async function secretString(secretArn: string): Promise<{ value: string; cached: boolean }> {
  const hit = cache.get(secretArn);
  if (hit && Date.now() - hit.readAt < CACHE_TTL_MS) return { value: hit.value, cached: true };
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
  cache.set(secretArn, { value, readAt: Date.now() });
  return { value, cached: false };
}
