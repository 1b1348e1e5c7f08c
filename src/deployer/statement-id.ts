import * as crypto from 'crypto';

/**
 * Naming of the statement the deployer keeps in a handler's resource policy (no AWS SDK here:
 * the scale tests and the benchmark size these statements without loading it).
 */

/**
 * One statement id per invoker role and environment (admin URL): re-granting is idempotent,
 * and removing one environment's grant never removes another's that shares the role.
 */
export function statementId(roleArn: string, environment: string): string {
  return `restate-invoke-${crypto.createHash('sha256').update(`${roleArn}|${environment}`).digest('hex').slice(0, 16)}`;
}

/**
 * The function name AddPermission and RemovePermission take: the qualified ARN, except that
 * `$LATEST` has no policy of its own (Lambda refuses it): its grant is the function's.
 */
export function permissionFunctionName(lambdaArn: string): string {
  return lambdaArn.endsWith(':$LATEST') ? lambdaArn.slice(0, -':$LATEST'.length) : lambdaArn;
}
