import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * Decides, from environment variables and local files only (never the network), whether the
 * live suite can run, and gathers its configuration.
 */

export type RemovalPolicyName = 'retain' | 'destroy';

export interface LiveConfig {
  /** `env_...`, from RESTATE_ENV_ID. */
  readonly environmentId: string;
  /** Restate Cloud region (`us`, `eu`), from RESTATE_CLOUD_REGION. */
  readonly restateRegion: string;
  /** The API key itself, from RESTATE_API_KEY: the suite stores it in a secret for the run. */
  readonly apiKey?: string;
  /** An existing Secrets Manager secret holding the API key, from RESTATE_API_KEY_SECRET_NAME. */
  readonly apiKeySecretName?: string;
  /** The AWS region to deploy to. */
  readonly awsRegion: string;
  /** Where the AWS region came from, for the log. */
  readonly awsRegionSource: string;
  /** Where the AWS credentials will come from, for the log (no secrets in it). */
  readonly credentialSource: string;
  /** Removal policy of the registration, from RESTATE_LIVE_REMOVAL_POLICY. */
  readonly removalPolicy: RemovalPolicyName;
  /** Identifies this run in every name it creates. */
  readonly runId: string;
  /** Unique CloudFormation stack name of this run. */
  readonly stackName: string;
}

export type Preflight =
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly problems: string[] }
  | { readonly kind: 'run'; readonly config: LiveConfig };

/** All stacks of the live suite start with this; the README's cleanup section relies on it. */
export const STACK_NAME_PREFIX = 'RestateCloudCdkLive-';

/** Secrets the suite creates for a run are named `<prefix><runId>`. */
export const SECRET_NAME_PREFIX = 'restate-cloud-cdk-live/';

const ENVIRONMENT_ID = /^env_[a-z0-9]+$/;
const RESTATE_REGION = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

type Env = Readonly<Record<string, string | undefined>>;

export function preflight(env: Env = process.env, home: string = os.homedir()): Preflight {
  const creds = detectCredentials(env, home);
  const environmentId = nonEmpty(env.RESTATE_ENV_ID);

  const missing: string[] = [];
  if (!creds.source) missing.push(`AWS credentials (${creds.why})`);
  if (!environmentId) missing.push('RESTATE_ENV_ID');
  if (missing.length > 0 || !creds.source || !environmentId) {
    return { kind: 'skip', reason: `skipped: no AWS credentials / RESTATE_ENV_ID (missing: ${missing.join('; ')})` };
  }

  // Both opt-in signals are present: from here on, anything incomplete is an error, not a skip.
  const problems: string[] = [];
  if (!ENVIRONMENT_ID.test(environmentId)) {
    problems.push(`RESTATE_ENV_ID ${JSON.stringify(environmentId)} is not an environment id: expected env_ followed by lowercase letters and digits, as shown in the Restate Cloud UI.`);
  }
  const restateRegion = nonEmpty(env.RESTATE_CLOUD_REGION) ?? 'us';
  if (!RESTATE_REGION.test(restateRegion)) {
    problems.push(`RESTATE_CLOUD_REGION ${JSON.stringify(restateRegion)} is not a Restate Cloud region name, e.g. us or eu.`);
  }
  const apiKey = nonEmpty(env.RESTATE_API_KEY);
  const apiKeySecretName = nonEmpty(env.RESTATE_API_KEY_SECRET_NAME);
  if (!apiKey && !apiKeySecretName) {
    problems.push('Set RESTATE_API_KEY (an API key with the Admin role; the suite stores it in a Secrets Manager secret for the run) or RESTATE_API_KEY_SECRET_NAME (an existing secret holding the key as a plain string).');
  }
  if (apiKey && apiKeySecretName) {
    problems.push('Set only one of RESTATE_API_KEY and RESTATE_API_KEY_SECRET_NAME.');
  }
  const removalPolicy = (nonEmpty(env.RESTATE_LIVE_REMOVAL_POLICY) ?? 'retain').toLowerCase();
  if (removalPolicy !== 'retain' && removalPolicy !== 'destroy') {
    problems.push(`RESTATE_LIVE_REMOVAL_POLICY ${JSON.stringify(removalPolicy)} must be retain or destroy.`);
  }
  const region = resolveRegion(env, home, creds.profile);
  if (!region) {
    problems.push(`No AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), or region in profile '${creds.profile ?? 'default'}' of ${configFile(env, home)}.`);
  } else if (!AWS_REGION.test(region.region)) {
    problems.push(`AWS region ${JSON.stringify(region.region)} (from ${region.source}) does not look like an AWS region, e.g. eu-central-1.`);
  }
  if (problems.length > 0 || !region) return { kind: 'invalid', problems };

  const runId = `${timestamp(new Date())}-${crypto.randomBytes(3).toString('hex')}`;
  return {
    kind: 'run',
    config: {
      environmentId,
      restateRegion,
      apiKey,
      apiKeySecretName,
      awsRegion: region.region,
      awsRegionSource: region.source,
      credentialSource: creds.source,
      removalPolicy: removalPolicy as RemovalPolicyName,
      runId,
      stackName: `${STACK_NAME_PREFIX}${runId}`,
    },
  };
}

interface CredentialDetection {
  /** Set when credentials are configured: a description without secrets. */
  readonly source?: string;
  /** Why none were found. */
  readonly why: string;
  /** The shared-config profile in use, when one applies. */
  readonly profile?: string;
}

/**
 * Mirrors the order of the AWS SDK's default credential chain, as far as it can be decided
 * without calling anything: an explicit AWS_PROFILE wins (as in the SDK and the CDK CLI), then
 * static keys, web identity, container credentials, then the default profile. Instance
 * metadata (EC2) is never probed: that would be a network call.
 */
export function detectCredentials(env: Env, home: string): CredentialDetection {
  const explicitProfile = nonEmpty(env.AWS_PROFILE);
  if (explicitProfile) {
    const found = findProfile(env, home, explicitProfile);
    return found
      ? { source: `profile '${explicitProfile}' (${found})`, why: '', profile: explicitProfile }
      : { why: `AWS_PROFILE '${explicitProfile}' not found in ${credentialsFile(env, home)} or ${configFile(env, home)}`, profile: explicitProfile };
  }
  if (nonEmpty(env.AWS_ACCESS_KEY_ID) && nonEmpty(env.AWS_SECRET_ACCESS_KEY)) {
    return { source: `AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY${nonEmpty(env.AWS_SESSION_TOKEN) ? ' with AWS_SESSION_TOKEN' : ''}`, why: '' };
  }
  const tokenFile = nonEmpty(env.AWS_WEB_IDENTITY_TOKEN_FILE);
  if (tokenFile && nonEmpty(env.AWS_ROLE_ARN) && fs.existsSync(tokenFile)) {
    return { source: 'AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN', why: '' };
  }
  if (nonEmpty(env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) || nonEmpty(env.AWS_CONTAINER_CREDENTIALS_FULL_URI)) {
    return { source: 'container credentials (AWS_CONTAINER_CREDENTIALS_*)', why: '' };
  }
  const found = findProfile(env, home, 'default');
  if (found) return { source: `profile 'default' (${found})`, why: '', profile: 'default' };
  return {
    why: 'no AWS_PROFILE, AWS_ACCESS_KEY_ID, web identity or container credentials, and no default profile',
  };
}

/** Keys of a shared-config profile that make it a source of credentials. */
const CREDENTIAL_KEYS = [
  'aws_access_key_id',
  'role_arn',
  'sso_session',
  'sso_start_url',
  'credential_process',
  'credential_source',
  'web_identity_token_file',
  'login_session',
];

/** Where the profile's credentials are configured, or undefined. */
function findProfile(env: Env, home: string, profile: string): string | undefined {
  const credentials = readIni(credentialsFile(env, home));
  if (hasCredentials(credentials[profile])) return credentialsFile(env, home);
  const config = readIni(configFile(env, home));
  const section = config[`profile ${profile}`] ?? (profile === 'default' ? config.default : undefined);
  if (hasCredentials(section)) return configFile(env, home);
  return undefined;
}

function hasCredentials(section: Record<string, string> | undefined): boolean {
  return section !== undefined && CREDENTIAL_KEYS.some((k) => nonEmpty(section[k]) !== undefined);
}

function resolveRegion(env: Env, home: string, profile: string | undefined): { region: string; source: string } | undefined {
  for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION']) {
    const value = nonEmpty(env[name]);
    if (value) return { region: value, source: name };
  }
  const name = profile ?? 'default';
  const config = readIni(configFile(env, home));
  const section = config[`profile ${name}`] ?? (name === 'default' ? config.default : undefined);
  const region = nonEmpty(section?.region);
  return region ? { region, source: `profile '${name}' in ${configFile(env, home)}` } : undefined;
}

function credentialsFile(env: Env, home: string): string {
  return nonEmpty(env.AWS_SHARED_CREDENTIALS_FILE) ?? path.join(home, '.aws', 'credentials');
}

function configFile(env: Env, home: string): string {
  return nonEmpty(env.AWS_CONFIG_FILE) ?? path.join(home, '.aws', 'config');
}

/** A minimal reader for the AWS shared config/credentials INI format (top-level keys only). */
export function parseIni(text: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  let current: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s/.test(raw)) continue; // nested settings (e.g. under `s3 =`) and blank lines
    const line = raw.replace(/\s+[#;].*$/, '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      const name = header[1].replace(/\s+/g, ' ');
      current = sections[name] ?? (sections[name] = {});
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0 && current) current[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  return sections;
}

function readIni(file: string): Record<string, Record<string, string>> {
  try {
    return parseIni(fs.readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function timestamp(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}
