import { Fn, Token } from 'aws-cdk-lib';

const ENVIRONMENT_ID = /^env_[a-z0-9]+$/;

/**
 * Returns an error message when `environmentId` is a literal that is not a Restate Cloud
 * environment id, or `undefined` when it is valid or an unresolved token.
 * @internal
 */
export function validateEnvironmentId(environmentId: string): string | undefined {
  if (Token.isUnresolved(environmentId)) return undefined;
  if (typeof environmentId === 'string' && ENVIRONMENT_ID.test(environmentId)) return undefined;
  return (
    `invalid Restate Cloud environment id ${JSON.stringify(environmentId)}: expected 'env_' followed by lowercase ` +
    "letters and digits, e.g. 'env_201hy10cd3h6426jy80tb32n6en' (copy it from the environment's settings in the Restate Cloud UI)."
  );
}

/**
 * The environment id without its `env_` prefix, as Restate Cloud host names and tunnel URLs use
 * it. A token id (e.g. a parameter) gives a token; a literal one a literal.
 * @internal
 */
export function unprefixedEnvironmentId(environmentId: string): string {
  return Token.isUnresolved(environmentId)
    ? Fn.select(1, Fn.split('env_', environmentId))
    : String(environmentId ?? '').replace(/^env_/, '');
}
