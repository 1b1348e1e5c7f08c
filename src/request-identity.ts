import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IRestateEnvironment } from './environment';

/**
 * Options for handing request-signing public keys to a service.
 */
export interface RequestIdentityOptions {
  /**
   * The environment variable that carries the keys, comma-separated.
   *
   * @default 'RESTATE_IDENTITY_KEYS'
   */
  readonly variableName?: string;
}

/**
 * Hands an environment's request-signing public keys to a service, so that it accepts
 * requests only from that environment.
 *
 * The service reads them with one line of SDK code, e.g. in TypeScript:
 * `restate.endpoint().withIdentityV1(...process.env.RESTATE_IDENTITY_KEYS!.split(','))`.
 */
export class RestateRequestIdentity {
  /** The default environment variable name, `RESTATE_IDENTITY_KEYS`. */
  public static readonly DEFAULT_VARIABLE_NAME = 'RESTATE_IDENTITY_KEYS';

  /**
   * Sets the keys as an environment variable of a Lambda function.
   */
  public static addToFunction(fn: lambda.Function, environment: IRestateEnvironment, options: RequestIdentityOptions = {}): void {
    fn.addEnvironment(options.variableName ?? RestateRequestIdentity.DEFAULT_VARIABLE_NAME, RestateRequestIdentity.keysOf(environment));
  }

  /**
   * Sets the keys as an environment variable of a container.
   */
  public static addToContainer(
    container: ecs.ContainerDefinition,
    environment: IRestateEnvironment,
    options: RequestIdentityOptions = {},
  ): void {
    container.addEnvironment(options.variableName ?? RestateRequestIdentity.DEFAULT_VARIABLE_NAME, RestateRequestIdentity.keysOf(environment));
  }

  /**
   * The environment's keys, comma-separated. Throws when the environment has none.
   */
  public static keysOf(environment: IRestateEnvironment): string {
    const keys = environment.requestSigningPublicKeys ?? [];
    if (keys.length === 0) {
      throw new Error(
        `the Restate environment at ${environment.adminUrl} has no request-signing public keys: pass requestSigningPublicKeys ` +
          "(the 'publickeyv1_...' keys from the environment's security settings) to RestateCloudEnvironment or RestateEnvironment.fromAttributes.",
      );
    }
    return keys.join(',');
  }

  private constructor() {}
}
