/**
 * The contract between the `ServiceDeployer` construct (which writes these properties into
 * the template) and the deployer Lambda (which reads them). CloudFormation passes every
 * scalar as a string, so booleans are `'true'`/`'false'` and numbers are decimal strings.
 * Not part of the jsii API.
 */

/** A header whose value is read from Secrets Manager at deploy time. */
export interface SecretHeaderProperty {
  readonly Name: string;
  readonly SecretArn: string;
  readonly JsonField?: string;
}

export interface DeploymentResourceProperties {
  readonly ServiceToken?: string;
  /** Admin API base URL, no trailing slash. */
  readonly AdminUrl: string;
  /** Secret holding the admin API bearer token. */
  readonly AuthTokenSecretArn?: string;
  readonly AuthTokenJsonField?: string;
  /** 'true': the endpoint URI must be https (Restate Cloud). */
  readonly RequireHttps?: string;
  /** Accept a self-signed admin API certificate. */
  readonly InsecureSkipTlsVerify?: string;

  /** Lambda deployments: qualified function ARN (version or alias). */
  readonly LambdaArn?: string;
  readonly AssumeRoleArn?: string;
  /**
   * 'true': the deployer keeps a statement in the handler's resource policy that lets
   * AssumeRoleArn invoke it, for as long as a deployment points at the handler.
   */
  readonly GrantInvoke?: string;

  /** HTTP deployments: the endpoint URI. */
  readonly Uri?: string;
  readonly AdditionalHeaders?: Record<string, string>;
  readonly SecretHeaders?: SecretHeaderProperty[];
  readonly UseHttp11?: string;

  /** Service names discovery must produce. */
  readonly ExpectedServices?: string[];
  /** 'true': services are made private (not reachable through ingress). */
  readonly Private?: string;
  readonly Force?: string;
  readonly Breaking?: string;
  /** 'retain' | 'destroy' */
  readonly RemovalPolicy?: string;
  /** 'true': remove this owner's older deployments once drained, keeping RevisionHistoryLimit. */
  readonly PruneDrained?: string;
  readonly RevisionHistoryLimit?: string;
  /** Changes to this value make discovery rerun. */
  readonly ConfigurationVersion?: string;
  readonly Metadata?: Record<string, string>;
  /** Identifies the registration (stack name + construct path) for pruning. */
  readonly Owner?: string;
  /** How long to wait for the admin API's /health at most. */
  readonly HealthTimeoutSeconds?: string;
}

/** Attributes returned to CloudFormation (`Fn::GetAtt`). */
export interface DeploymentResourceData {
  readonly DeploymentId: string;
  /** Comma-separated service names. */
  readonly ServiceNames: string;
}

/**
 * Metadata keys the deployer writes on every deployment it registers: the owner (stack name
 * and construct path, which pruning matches on), the stack name, and the construct path.
 */
export const OWNER_METADATA_KEY = 'restate-cloud-cdk.owner';
export const STACK_METADATA_KEY = 'restate-cloud-cdk.stack';
export const CONSTRUCT_METADATA_KEY = 'restate-cloud-cdk.construct';

/** The metadata recorded on a deployment: the user's, then ownership from `Owner`. */
export function deploymentMetadata(props: DeploymentResourceProperties): Record<string, string> {
  const metadata: Record<string, string> = { ...props.Metadata };
  if (props.Owner) {
    // Owner is `<stack name>/<construct path inside the stack>`; stack names have no '/'.
    const slash = props.Owner.indexOf('/');
    metadata[OWNER_METADATA_KEY] = props.Owner;
    metadata[STACK_METADATA_KEY] = slash < 0 ? props.Owner : props.Owner.slice(0, slash);
    if (slash >= 0) metadata[CONSTRUCT_METADATA_KEY] = props.Owner.slice(slash + 1);
  }
  return metadata;
}
