import { Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { protocolOf } from './url';

/**
 * A Restate environment that services can be registered with: Restate Cloud, self-hosted or local.
 */
export interface IRestateEnvironment {
  /**
   * The admin API's base URL, e.g. `https://201hy10cd3h6426jy80tb32n6en.env.us.restate.cloud:9070`.
   */
  readonly adminUrl: string;

  /**
   * The Secrets Manager secret holding the bearer token sent to the admin API.
   *
   * @default - requests carry no Authorization header
   */
  readonly authToken?: secretsmanager.ISecret;

  /**
   * The JSON field of `authToken` that holds the token, when the secret is a JSON document.
   *
   * @default - the whole secret string is the token
   */
  readonly authTokenJsonField?: string;

  /**
   * The role Restate assumes to invoke Lambda handlers; registered handlers are granted to it.
   *
   * @default - Restate invokes Lambda handlers with its own credentials; nothing is granted
   */
  readonly invokerRole?: iam.IRole;

  /**
   * Whether service endpoints registered with this environment must use HTTPS.
   *
   * @default false
   */
  readonly requireHttps?: boolean;

  /**
   * The public keys (`publickeyv1_...`) with which services verify that requests come from
   * this environment.
   *
   * @default - none
   */
  readonly requestSigningPublicKeys?: string[];
}

/**
 * Attributes of a Restate environment that is not a Restate Cloud environment: self-hosted,
 * local, or a Cloud environment described by hand.
 */
export interface RestateEnvironmentAttributes {
  /**
   * The admin API's base URL, e.g. `http://localhost:9070` or `https://restate.internal:9070`.
   */
  readonly adminUrl: string;

  /**
   * The Secrets Manager secret holding the bearer token sent to the admin API.
   *
   * @default - requests carry no Authorization header
   */
  readonly authToken?: secretsmanager.ISecret;

  /**
   * The JSON field of `authToken` that holds the token, when the secret is a JSON document.
   *
   * @default - the whole secret string is the token
   */
  readonly authTokenJsonField?: string;

  /**
   * The role Restate assumes to invoke Lambda handlers; registered handlers are granted to it.
   *
   * @default - nothing is granted; Restate invokes handlers with its own credentials
   */
  readonly invokerRole?: iam.IRole;

  /**
   * Whether service endpoints registered with this environment must use HTTPS.
   *
   * @default false
   */
  readonly requireHttps?: boolean;

  /**
   * The public keys (`publickeyv1_...`) with which services verify that requests come from
   * this environment.
   *
   * @default - none
   */
  readonly requestSigningPublicKeys?: string[];
}

/**
 * Restate environments that are not Restate Cloud environments.
 */
export class RestateEnvironment {
  /**
   * Describes an existing Restate environment (self-hosted, local, or any other) by its admin
   * URL. Literal URLs are validated here; tokens pass through.
   */
  public static fromAttributes(attrs: RestateEnvironmentAttributes): IRestateEnvironment {
    const adminUrl = validateAdminUrl(attrs.adminUrl);
    const keys = attrs.requestSigningPublicKeys ? validatePublicKeys(attrs.requestSigningPublicKeys) : undefined;
    return {
      adminUrl,
      authToken: attrs.authToken,
      authTokenJsonField: attrs.authTokenJsonField,
      invokerRole: attrs.invokerRole,
      requireHttps: attrs.requireHttps,
      requestSigningPublicKeys: keys,
    };
  }

  private constructor() {}
}

/** @internal */
export function validateAdminUrl(adminUrl: string): string {
  if (Token.isUnresolved(adminUrl)) return adminUrl;
  const protocol = protocolOf(adminUrl);
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new Error(
      `invalid Restate admin URL ${JSON.stringify(adminUrl)}: expected an absolute http(s) URL such as 'https://restate.example.com:9070'.`,
    );
  }
  return adminUrl.replace(/\/+$/, '');
}

const PUBLIC_KEY = /^publickeyv1_[1-9A-HJ-NP-Za-km-z]{32,64}$/;

/** @internal */
export function validatePublicKeys(keys: string[]): string[] {
  for (const key of keys) {
    if (Token.isUnresolved(key)) continue;
    if (!PUBLIC_KEY.test(key)) {
      throw new Error(
        `invalid request-signing public key ${JSON.stringify(key)}: expected 'publickeyv1_' followed by base58 characters, as shown under the environment's security settings in Restate Cloud.`,
      );
    }
  }
  return [...keys];
}
