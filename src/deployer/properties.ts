/**
 * The contract between the `ServiceDeployer` construct (which writes these properties into
 * the template) and the deployer Lambda (which reads them). CloudFormation passes every
 * scalar as a string, so booleans are `'true'`/`'false'` and numbers are decimal strings.
 * Not part of the jsii API; no AWS SDK here, since the constructs import it too.
 */

/** A header whose value is read from Secrets Manager at deploy time. */
export interface SecretHeaderProperty {
  readonly Name: string;
  readonly SecretArn: string;
  readonly JsonField?: string;
}

export type BooleanString = 'true' | 'false';

/** Service configuration, in whole seconds (decimal strings). */
export interface ServiceConfigurationFields {
  readonly IdempotencyRetentionSeconds?: string;
  readonly JournalRetentionSeconds?: string;
  readonly WorkflowCompletionRetentionSeconds?: string;
  readonly InactivityTimeoutSeconds?: string;
  readonly AbortTimeoutSeconds?: string;
}

/** `Default` applies to every service the registration discovers; `Services` by name, over it. */
export interface ServiceConfigurationProperty {
  readonly Default?: ServiceConfigurationFields;
  readonly Services?: Record<string, ServiceConfigurationFields>;
}

/** Each field and the admin API's name for it (`PATCH /services/{name}`). */
export const SERVICE_CONFIGURATION_FIELDS: ReadonlyArray<[keyof ServiceConfigurationFields, string]> = [
  ['IdempotencyRetentionSeconds', 'idempotency_retention'],
  ['JournalRetentionSeconds', 'journal_retention'],
  ['WorkflowCompletionRetentionSeconds', 'workflow_completion_retention'],
  ['InactivityTimeoutSeconds', 'inactivity_timeout'],
  ['AbortTimeoutSeconds', 'abort_timeout'],
];
export type RemovalPolicyString = 'retain' | 'destroy';

export interface DeploymentResourceProperties {
  readonly ServiceToken?: string;
  /** Admin API base URL, no trailing slash. */
  readonly AdminUrl: string;
  /** Secret holding the admin API bearer token. */
  readonly AuthTokenSecretArn?: string;
  readonly AuthTokenJsonField?: string;
  /** 'true': the endpoint URI must be https (Restate Cloud). */
  readonly RequireHttps?: BooleanString;
  /** Accept a self-signed admin API certificate. */
  readonly InsecureSkipTlsVerify?: BooleanString;
  /** PEM of the only CA the admin API's certificate may chain to. */
  readonly AdminCaCertificate?: string;

  /** Lambda deployments: qualified function ARN (version or alias). */
  readonly LambdaArn?: string;
  readonly AssumeRoleArn?: string;
  /**
   * 'true': the deployer keeps a statement in the handler's resource policy that lets
   * AssumeRoleArn invoke it, for as long as a deployment points at the handler.
   */
  readonly GrantInvoke?: BooleanString;
  /** How long discovery failures that are AWS authorization errors are retried. */
  readonly AuthRetrySeconds?: string;
  /**
   * HTTP deployments: how long any discovery failure is retried, e.g. for an endpoint behind a
   * tunnel that is not connected yet.
   */
  readonly DiscoveryRetrySeconds?: string;

  /** HTTP deployments: the endpoint URI. */
  readonly Uri?: string;
  readonly AdditionalHeaders?: Record<string, string>;
  readonly SecretHeaders?: SecretHeaderProperty[];
  readonly UseHttp11?: BooleanString;

  /** Service names discovery must produce. */
  readonly ExpectedServices?: string[];
  /** Applied to the discovered services after every registration. */
  readonly ServiceConfiguration?: ServiceConfigurationProperty;
  /** 'true': services are made private (not reachable through ingress). */
  readonly Private?: BooleanString;
  readonly Force?: BooleanString;
  readonly Breaking?: BooleanString;
  readonly RemovalPolicy?: RemovalPolicyString;
  /** 'true': remove this owner's older deployments once drained, keeping RevisionHistoryLimit. */
  readonly PruneDrained?: BooleanString;
  readonly RevisionHistoryLimit?: string;
  /** At most this many deployments are pruned per run; the rest wait for the next one. */
  readonly MaxPrunedPerRun?: string;
  /** Changes to this value make discovery rerun. */
  readonly ConfigurationVersion?: string;
  readonly Metadata?: Record<string, string>;
  /** Identifies the registration (stack name + construct path) for pruning. */
  readonly Owner?: string;
  /** How long to wait for the admin API's /health at most. */
  readonly HealthTimeoutSeconds?: string;
  /** CloudFormation's own: how long it waits for the answer. Read by CloudFormation only. */
  readonly ServiceTimeout?: string;
}

/** Attributes returned to CloudFormation (`Fn::GetAtt`). */
export interface DeploymentResourceData {
  readonly DeploymentId: string;
  /** Comma-separated service names. */
  readonly ServiceNames: string;
}

/**
 * Defaults shared by the constructs (which leave them out of the template) and the deployer
 * (which applies them): defined here only.
 */
export const DEFAULTS = {
  healthTimeoutSeconds: 120,
  authRetrySeconds: 60,
  revisionHistoryLimit: 0,
  removalPolicy: 'retain' as RemovalPolicyString,
};

// --- Encoding: what the constructs write ------------------------------------------------------

/** A flag that is left out unless set: `'true'` or nothing. */
export function encodeFlag(value: boolean | undefined): BooleanString | undefined {
  return value ? 'true' : undefined;
}

/** A boolean the template always states: `'true'` or `'false'`. */
export function encodeBoolean(value: boolean | undefined): BooleanString {
  return value ? 'true' : 'false';
}

/** A boolean stated only when given. */
export function encodeOptionalBoolean(value: boolean | undefined): BooleanString | undefined {
  return value === undefined ? undefined : encodeBoolean(value);
}

/** Whole seconds, left out when unset or equal to the default the deployer applies. */
export function encodeSeconds(seconds: number | undefined, defaultSeconds?: number): string | undefined {
  return seconds === undefined || seconds === defaultSeconds ? undefined : String(seconds);
}

/**
 * A removal policy (the values of aws-cdk-lib's `RemovalPolicy`, which are these strings), or
 * the default. Only RETAIN and DESTROY mean something for a Restate deployment.
 */
export function encodeRemovalPolicy(policy: string | undefined): RemovalPolicyString {
  const value = policy ?? DEFAULTS.removalPolicy;
  if (value !== 'retain' && value !== 'destroy') {
    throw new Error(`removalPolicy ${value} is not supported for Restate deployments: use RemovalPolicy.RETAIN or RemovalPolicy.DESTROY.`);
  }
  return value;
}

// --- Decoding helpers: what the deployer reads (after decodeProperties validated it) ----------

/** A boolean property: unset is false. */
export function isTrue(value: BooleanString | undefined): boolean {
  return value === 'true';
}

/** A whole-number property, or its default. */
export function numberOr(value: string | undefined, defaultValue: number): number {
  return value === undefined ? defaultValue : Number(value);
}

/**
 * Metadata keys the deployer writes on every deployment it registers: the owner (stack name
 * and construct path, which pruning matches on), the stack name, and the construct path; the
 * CloudFormation resource that owns it (stack id and logical id), which decides whether a
 * Delete may remove it; and the request that created it, which the Delete after a failed
 * Create looks for.
 */
export const OWNER_METADATA_KEY = 'restate-cloud-cdk.owner';
export const STACK_METADATA_KEY = 'restate-cloud-cdk.stack';
export const CONSTRUCT_METADATA_KEY = 'restate-cloud-cdk.construct';
export const STACK_ID_METADATA_KEY = 'restate-cloud-cdk.stack-id';
export const LOGICAL_ID_METADATA_KEY = 'restate-cloud-cdk.logical-id';
export const CREATED_BY_METADATA_KEY = 'restate-cloud-cdk.created-by';

/** The CloudFormation resource a request is about. */
export interface ResourceIdentity {
  readonly stackId: string;
  readonly logicalId: string;
  readonly requestId: string;
}

/** The metadata recorded on a deployment: the user's, then ownership. */
export function deploymentMetadata(props: DeploymentResourceProperties, resource: ResourceIdentity, createdBy: string): Record<string, string> {
  const metadata: Record<string, string> = { ...props.Metadata };
  if (props.Owner) {
    // Owner is `<stack name>/<construct path inside the stack>`; stack names have no '/'.
    const slash = props.Owner.indexOf('/');
    metadata[OWNER_METADATA_KEY] = props.Owner;
    metadata[STACK_METADATA_KEY] = slash < 0 ? props.Owner : props.Owner.slice(0, slash);
    if (slash >= 0) metadata[CONSTRUCT_METADATA_KEY] = props.Owner.slice(slash + 1);
  }
  metadata[STACK_ID_METADATA_KEY] = resource.stackId;
  metadata[LOGICAL_ID_METADATA_KEY] = resource.logicalId;
  metadata[CREATED_BY_METADATA_KEY] = createdBy;
  return metadata;
}

/** The physical id a failed Create answers with: the Delete that follows finds its leftovers by it. */
export const FAILED_CREATE_PREFIX = 'restate-failed-create-';

/** A property the deployer refuses; the message is the whole reason CloudFormation shows. */
export class PropertyError extends Error {}

const BOOLEAN_KEYS = ['RequireHttps', 'InsecureSkipTlsVerify', 'GrantInvoke', 'UseHttp11', 'Private', 'Force', 'Breaking', 'PruneDrained'] as const;
const NUMBER_KEYS = ['AuthRetrySeconds', 'DiscoveryRetrySeconds', 'RevisionHistoryLimit', 'MaxPrunedPerRun', 'HealthTimeoutSeconds', 'ServiceTimeout'] as const;
const STRING_KEYS = ['ServiceToken', 'AuthTokenJsonField', 'ConfigurationVersion', 'Owner'] as const;
const KNOWN_KEYS = new Set<string>([
  ...BOOLEAN_KEYS, ...NUMBER_KEYS, ...STRING_KEYS,
  'AdminUrl', 'AuthTokenSecretArn', 'AdminCaCertificate', 'LambdaArn', 'AssumeRoleArn', 'Uri',
  'AdditionalHeaders', 'SecretHeaders', 'ExpectedServices', 'RemovalPolicy', 'Metadata', 'ServiceConfiguration',
]);

/** A qualified function ARN: version, alias or `$LATEST`. Unqualified ARNs are refused. */
export const QUALIFIED_FUNCTION_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}:(\$LATEST|[A-Za-z0-9_-]{1,128})$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]{1,512}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;

/**
 * Validates what arrived as ResourceProperties: every property one `ServiceDeployer` writes,
 * of the form it writes it; anything else is refused with a reason naming it.
 */
export function decodeProperties(raw: unknown): DeploymentResourceProperties {
  const refuse = (what: string): never => {
    throw new PropertyError(`${what}. The custom resource was not written by ServiceDeployer; nothing was done.`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return refuse('ResourceProperties is not an object');
  const p = raw as Record<string, unknown>;
  for (const key of Object.keys(p)) if (!KNOWN_KEYS.has(key)) refuse(`unknown property ${key}`);
  const str = (key: string, pattern?: RegExp, form?: string) => {
    const v = p[key];
    if (v === undefined) return;
    if (typeof v !== 'string') refuse(`property ${key} must be a string, got ${JSON.stringify(v)}`);
    if (pattern && !pattern.test(v as string)) refuse(`property ${key} is not ${form}: ${JSON.stringify(v)}`);
  };
  for (const key of BOOLEAN_KEYS) str(key, /^(true|false)$/, "'true' or 'false'");
  for (const key of NUMBER_KEYS) str(key, /^\d{1,6}$/, 'a whole number of at most 6 digits');
  for (const key of STRING_KEYS) str(key);
  str('AdminUrl', /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/i, 'an http(s) URL without query or fragment');
  if (p.AdminUrl === undefined) refuse('property AdminUrl is missing');
  str('Uri', /^https?:\/\/[^\s/?#]+(\/[^\s#]*)?$/i, 'an http(s) URL');
  str('LambdaArn', QUALIFIED_FUNCTION_ARN, 'a qualified Lambda function ARN (version or alias)');
  str('AssumeRoleArn', ROLE_ARN, 'an IAM role ARN');
  str('AuthTokenSecretArn', SECRET_ARN, 'a Secrets Manager secret ARN');
  str('AdminCaCertificate', /^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/, 'a PEM certificate');
  str('RemovalPolicy', /^(retain|destroy)$/, "'retain' or 'destroy'");
  if ((p.LambdaArn === undefined) === (p.Uri === undefined)) refuse('exactly one of the properties LambdaArn and Uri must be set');
  if (p.AssumeRoleArn !== undefined && p.LambdaArn === undefined) refuse('property AssumeRoleArn is set without LambdaArn');
  if (p.GrantInvoke === 'true' && p.AssumeRoleArn === undefined) refuse('property GrantInvoke is true without AssumeRoleArn');
  if (p.DiscoveryRetrySeconds !== undefined && p.Uri === undefined) refuse('property DiscoveryRetrySeconds is set without Uri');
  // The deployer may grant versions and aliases only (function:*:*), never the whole function.
  if (p.GrantInvoke === 'true' && String(p.LambdaArn).endsWith(':$LATEST')) refuse(`property GrantInvoke is true for ${String(p.LambdaArn)}: the deployer grants versions and aliases only`);
  const map = (key: string, keyPattern?: RegExp) => {
    const v = p[key];
    if (v === undefined) return;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return refuse(`property ${key} must be a map of strings`);
    for (const [k, value] of Object.entries(v)) {
      if (typeof value !== 'string') refuse(`property ${key}.${k} must be a string`);
      if (keyPattern && !keyPattern.test(k)) refuse(`property ${key} has an invalid name ${JSON.stringify(k)}`);
    }
  };
  map('AdditionalHeaders', HEADER_NAME);
  map('Metadata');
  if (p.ExpectedServices !== undefined && (!Array.isArray(p.ExpectedServices) || p.ExpectedServices.some((s) => typeof s !== 'string'))) {
    refuse('property ExpectedServices must be a list of service names');
  }
  if (p.ServiceConfiguration !== undefined) decodeServiceConfiguration(p.ServiceConfiguration, refuse);
  if (p.SecretHeaders !== undefined) {
    if (!Array.isArray(p.SecretHeaders)) refuse('property SecretHeaders must be a list');
    for (const h of p.SecretHeaders as unknown[]) {
      const header = h as Record<string, unknown>;
      if (typeof h !== 'object' || h === null || Object.keys(header).some((k) => !['Name', 'SecretArn', 'JsonField'].includes(k))) {
        refuse(`property SecretHeaders has an entry that is not {Name, SecretArn, JsonField?}: ${JSON.stringify(h)}`);
      }
      if (typeof header.Name !== 'string' || !HEADER_NAME.test(header.Name)) refuse(`property SecretHeaders has an invalid header name ${JSON.stringify(header.Name)}`);
      if (typeof header.SecretArn !== 'string' || !SECRET_ARN.test(header.SecretArn)) {
        refuse(`property SecretHeaders.${String(header.Name)} is not a Secrets Manager secret ARN: ${JSON.stringify(header.SecretArn)}`);
      }
      if (header.JsonField !== undefined && typeof header.JsonField !== 'string') refuse(`property SecretHeaders.${String(header.Name)}.JsonField must be a string`);
    }
  }
  return p as unknown as DeploymentResourceProperties;
}

function decodeServiceConfiguration(raw: unknown, refuse: (what: string) => never): void {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const fields = (v: unknown, where: string) => {
    if (!isObject(v)) refuse(`property ${where} must be an object`);
    for (const [k, value] of Object.entries(v as Record<string, unknown>)) {
      if (!SERVICE_CONFIGURATION_FIELDS.some(([name]) => name === k)) refuse(`property ${where} has an unknown field ${k}`);
      if (typeof value !== 'string' || !/^\d{1,10}$/.test(value)) refuse(`property ${where}.${k} is not a whole number of seconds: ${JSON.stringify(value)}`);
    }
  };
  if (!isObject(raw) || Object.keys(raw).some((k) => k !== 'Default' && k !== 'Services')) refuse('property ServiceConfiguration must be {Default?, Services?}');
  const config = raw as Record<string, unknown>;
  if (config.Default !== undefined) fields(config.Default, 'ServiceConfiguration.Default');
  if (config.Services !== undefined) {
    if (!isObject(config.Services)) refuse('property ServiceConfiguration.Services must be an object');
    for (const [name, v] of Object.entries(config.Services as Record<string, unknown>)) fields(v, `ServiceConfiguration.Services.${name}`);
  }
}
