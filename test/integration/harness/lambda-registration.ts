import { httpRegistrationProperties, HttpRegistrationInput } from './registration';

/** A Lambda registration: what `ServiceDeployer.register(handler, environment, options)` writes. */
export interface LambdaRegistrationInput extends Omit<HttpRegistrationInput, 'uri' | 'additionalHeaders' | 'secretHeaders'> {
  /** The qualified function ARN (version or alias). */
  readonly lambdaArn: string;
  /** The environment's invoker role. */
  readonly assumeRoleArn?: string;
  /** InvokeGrant.DEPLOYER: the deployer keeps the invoke grant (`GrantInvoke: 'true'`). */
  readonly grantInvoke?: boolean;
  /** How long discovery failures that are AWS authorization errors are retried (deployer default 60). */
  readonly authRetrySeconds?: number;
}

/**
 * ResourceProperties of a Lambda registration, the way the ServiceDeployer construct writes
 * them (src/service-deployer.ts `register`): `LambdaArn`, `AssumeRoleArn`, `GrantInvoke` only
 * when the deployer keeps the grant, and the properties every registration has
 * (registration.ts). Undefined keys are dropped, as CloudFormation omits them.
 */
export function lambdaRegistrationProperties(input: LambdaRegistrationInput): Record<string, unknown> {
  const { lambdaArn, assumeRoleArn, grantInvoke, authRetrySeconds, overrides, ...common } = input;
  const props = httpRegistrationProperties({ ...common, uri: lambdaArn });
  delete props.Uri;
  Object.assign(props, {
    LambdaArn: lambdaArn,
    AssumeRoleArn: assumeRoleArn,
    GrantInvoke: grantInvoke ? 'true' : undefined,
    AuthRetrySeconds: authRetrySeconds === undefined ? undefined : String(authRetrySeconds),
    ...overrides,
  });
  for (const key of Object.keys(props)) if (props[key] === undefined) delete props[key];
  return props;
}
