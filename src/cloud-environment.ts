import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { RestateCloudRegion } from './cloud-region';
import { validatePublicKeys, IRestateEnvironment } from './environment';
import { unprefixedEnvironmentId, validateEnvironmentId } from './environment-id';
import { RestateCloudInvokerRole } from './invoker-role';

/**
 * Properties of a `RestateCloudEnvironment`.
 */
export interface RestateCloudEnvironmentProps {
  /**
   * The environment id, `env_` followed by lowercase letters and digits, as shown in the
   * Restate Cloud UI, e.g. `env_201hy10cd3h6426jy80tb32n6en`.
   */
  readonly environmentId: string;

  /**
   * The Secrets Manager secret holding a Restate Cloud API key (with a role that may manage
   * deployments). It is read by the deployer at deploy time, never placed in a template.
   */
  readonly apiKey: secretsmanager.ISecret;

  /**
   * The JSON field of `apiKey` that holds the key, when the secret is a JSON document.
   *
   * @default - the whole secret string is the key
   */
  readonly apiKeyJsonField?: string;

  /**
   * The Restate Cloud region the environment lives in.
   *
   * @default RestateCloudRegion.US
   */
  readonly region?: RestateCloudRegion;

  /**
   * The role Restate Cloud assumes to invoke Lambda handlers.
   *
   * @default - a `RestateCloudInvokerRole` trusting this environment is created
   */
  readonly invokerRole?: iam.IRole;

  /**
   * The environment's request-signing public keys (`publickeyv1_...`, from the environment's
   * security settings), with which services verify that requests come from this environment.
   * They are public and safe to place in templates and code.
   *
   * @default - none
   */
  readonly requestSigningPublicKeys?: string[];
}

/**
 * A Restate Cloud environment: its id, region, API key, admin and ingress URLs, and the
 * invoker role Restate Cloud assumes to call your Lambda handlers.
 *
 * The environment itself is created in the Restate Cloud UI; this construct describes it and
 * creates the AWS side (the invoker role) unless one is given.
 */
export class RestateCloudEnvironment extends Construct implements IRestateEnvironment {
  /** The environment id, e.g. `env_201hy10cd3h6426jy80tb32n6en`. */
  public readonly environmentId: string;

  /** The Restate Cloud region of the environment. */
  public readonly region: RestateCloudRegion;

  /** The admin API URL, `https://<id without env_>.env.<region>.restate.cloud:9070`. */
  public readonly adminUrl: string;

  /** The ingress URL, `https://<id without env_>.env.<region>.restate.cloud:8080`. */
  public readonly ingressUrl: string;

  /**
   * The role Restate Cloud assumes to invoke Lambda handlers. Always set for a Cloud
   * environment (optional only because `IRestateEnvironment` allows environments without one).
   */
  public readonly invokerRole?: iam.IRole;

  /**
   * The secret holding the API key used as bearer token for the admin API. Always set for a
   * Cloud environment.
   */
  public readonly authToken?: secretsmanager.ISecret;

  /**
   * The JSON field of `authToken` that holds the key.
   *
   * @default - the whole secret string
   */
  public readonly authTokenJsonField?: string;

  /**
   * Restate Cloud reaches services over the public internet: endpoints must use HTTPS.
   *
   * @default true
   */
  public readonly requireHttps?: boolean = true;

  /**
   * The environment's request-signing public keys.
   *
   * @default - none
   */
  public readonly requestSigningPublicKeys?: string[];

  constructor(scope: Construct, id: string, props: RestateCloudEnvironmentProps) {
    super(scope, id);
    if (!props.apiKey) {
      throw new Error(
        `RestateCloudEnvironment '${id}': apiKey is required: pass the Secrets Manager secret that holds a Restate Cloud API key, e.g. secretsmanager.Secret.fromSecretNameV2(this, 'ApiKey', 'restate/api-key').`,
      );
    }
    const environmentId = props.environmentId;
    this.environmentId = environmentId;
    this.region = props.region ?? RestateCloudRegion.US;
    this.authToken = props.apiKey;
    this.authTokenJsonField = props.apiKeyJsonField;
    this.requestSigningPublicKeys = props.requestSigningPublicKeys
      ? validatePublicKeys(props.requestSigningPublicKeys)
      : undefined;

    // A token id (e.g. a parameter) gives token URLs; a literal one gives literal URLs.
    const hostId = unprefixedEnvironmentId(environmentId);
    const host = `${hostId}.env.${this.region.name}.${this.region.domain}`;
    this.adminUrl = `https://${host}:9070`;
    this.ingressUrl = `https://${host}:8080`;

    this.invokerRole =
      props.invokerRole ??
      new RestateCloudInvokerRole(this, 'InvokerRole', { environmentIds: [environmentId], region: this.region });

    // Reported here, in the terms the user wrote it, and not again by the invoker role.
    if (this.invokerRole instanceof RestateCloudInvokerRole) this.invokerRole._validatedElsewhere(environmentId);
    this.node.addValidation({
      validate: () => {
        const error = validateEnvironmentId(environmentId);
        return error ? [`RestateCloudEnvironment: ${error}`] : [];
      },
    });
  }
}
