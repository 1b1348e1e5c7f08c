/**
 * ResourceProperties the way the ServiceDeployer construct writes them into the template
 * (src/service-deployer.ts `createRegistration`): every scalar a string, defaults spelled out,
 * undefined keys dropped (CloudFormation omits them).
 */
export interface HttpRegistrationInput {
  readonly adminUrl: string;
  readonly uri: string;
  /** Construct id of the registration; Owner and Metadata derive from it. */
  readonly id: string;
  readonly stackName?: string;
  readonly authTokenSecretArn?: string;
  readonly authTokenJsonField?: string;
  readonly additionalHeaders?: Record<string, string>;
  readonly secretHeaders?: Array<{ Name: string; SecretArn: string; JsonField?: string }>;
  readonly expectedServices?: string[];
  readonly private?: boolean;
  readonly force?: boolean;
  readonly breaking?: boolean;
  readonly removalPolicy?: 'retain' | 'destroy';
  readonly pruneDrained?: boolean;
  readonly revisionHistoryLimit?: number;
  readonly healthTimeoutSeconds?: number;
  readonly configurationVersion?: string;
  readonly metadata?: Record<string, string>;
  /** Raw overrides, applied last. */
  readonly overrides?: Record<string, unknown>;
}

export function httpRegistrationProperties(input: HttpRegistrationInput): Record<string, unknown> {
  const stackName = input.stackName ?? 'IntegStack';
  const path = `${stackName}/Deployer/${input.id}`;
  const props: Record<string, unknown> = {
    AdminUrl: input.adminUrl,
    AuthTokenSecretArn: input.authTokenSecretArn,
    AuthTokenJsonField: input.authTokenJsonField,
    Uri: input.uri,
    AdditionalHeaders: input.additionalHeaders,
    SecretHeaders: input.secretHeaders,
    ConfigurationVersion: input.configurationVersion,
    ExpectedServices: input.expectedServices,
    Private: String(input.private ?? false),
    Force: String(input.force ?? false),
    Breaking: String(input.breaking ?? false),
    RemovalPolicy: input.removalPolicy ?? 'retain',
    PruneDrained: String(input.pruneDrained ?? false),
    RevisionHistoryLimit: String(input.revisionHistoryLimit ?? 0),
    Owner: `${stackName}/${path}`,
    Metadata: {
      ...input.metadata,
      'restate-cloud-cdk.stack': stackName,
      'restate-cloud-cdk.construct': path,
    },
    HealthTimeoutSeconds: String(input.healthTimeoutSeconds ?? 120),
    ...input.overrides,
  };
  for (const key of Object.keys(props)) if (props[key] === undefined) delete props[key];
  return props;
}

export function secretArn(name: string): string {
  return `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
}
