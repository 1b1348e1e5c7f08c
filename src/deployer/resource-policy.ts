import { AddPermissionCommand, LambdaClient, RemovePermissionCommand } from '@aws-sdk/client-lambda';
import { log } from './log';
import { backoffDelay, Deadline, withRetry } from './retry';
import { permissionFunctionName, statementId } from './statement-id';

/**
 * The statement the deployer keeps in a handler's resource policy: `lambda:InvokeFunction` for
 * the invoker role, on exactly the registered version or alias. It exists for as long as a
 * Restate deployment points at the handler, so invocations still pinned to a retained
 * deployment keep working after CloudFormation has moved on.
 */

/** A grant could not be made; the message is the whole reason CloudFormation shows. */
export class InvokePermissionError extends Error {}

export interface InvokePermissionTarget {
  /** The registered handler: a qualified function ARN (version or alias). */
  readonly lambdaArn: string;
  /** The role Restate assumes to invoke it. */
  readonly roleArn: string;
  /** The environment (normalized admin URL) the grant is for. */
  readonly environment: string;
}

const clients = new Map<string, LambdaClient>();

/**
 * Adds the statement unless it is there already; true when it added it (and so may take it back).
 * Conflicting updates and throttling are retried in time.
 */
export async function grantInvoke(target: InvokePermissionTarget, deadline: Deadline): Promise<boolean> {
  const functionName = permissionFunctionName(target.lambdaArn);
  const sid = statementId(target.roleArn, target.environment);
  const add = async (): Promise<boolean> => {
    try {
      await client(functionName).send(
        new AddPermissionCommand({
          FunctionName: functionName,
          StatementId: sid,
          Action: 'lambda:InvokeFunction',
          Principal: target.roleArn,
        }),
        // Stryker disable next-line ObjectLiteral: killed by test/deployer/hung-lambda-api.test.ts, which mutation runs leave out (10 s per test)
        { abortSignal: AbortSignal.timeout(deadline.cap(10_000)) },
      );
    } catch (e) {
      const err = awsError(e);
      if (err.name === 'ResourceConflictException' && /already exists/i.test(err.message)) {
        log('invoke permission present', { functionName, statementId: sid });
        return false;
      }
      throw e;
    }
    log('invoke permission added', { functionName, statementId: sid, principal: target.roleArn });
    return true;
  };
  // Another change to the function is in progress, or throttling: Lambda asks to try again.
  const retriable = (e: unknown) => ['ResourceConflictException', 'TooManyRequestsException'].includes(awsError(e).name);
  try {
    return await withRetry(add, [{ retries: retriable, maxRetries: 6, delayMs: (n) => backoffDelay(n, 500), until: deadline }], (e, attempt) => {
      const err = awsError(e);
      log('retrying invoke permission', { functionName, attempt: attempt + 1, error: `${err.name}: ${err.message}` });
    });
  } catch (e) {
    throw new InvokePermissionError(explainGrantFailure(functionName, target.roleArn, awsError(e)));
  }
}

/**
 * Removes the statement. Never throws: a statement or function already gone is the goal, and
 * anything else is reported in the returned text for the reason and the log.
 */
export async function revokeInvoke(target: InvokePermissionTarget, deadline: Deadline): Promise<string> {
  const functionName = permissionFunctionName(target.lambdaArn);
  const sid = statementId(target.roleArn, target.environment);
  try {
    const command = new RemovePermissionCommand({ FunctionName: functionName, StatementId: sid });
    // Stryker disable next-line ObjectLiteral: killed by test/deployer/hung-lambda-api.test.ts, which mutation runs leave out (10 s per test)
    await client(functionName).send(command, { abortSignal: AbortSignal.timeout(deadline.cap(10_000)) });
    log('invoke permission removed', { functionName, statementId: sid });
    return `removed the invoker role's invoke permission on ${functionName}`;
  } catch (e) {
    const err = awsError(e);
    if (err.name === 'ResourceNotFoundException') {
      log('invoke permission already gone', { functionName, statementId: sid });
      return `the invoker role's invoke permission on ${functionName} was already gone`;
    }
    log('invoke permission not removed', { functionName, statementId: sid, error: `${err.name}: ${err.message}` });
    return `the invoker role's invoke permission on ${functionName} was not removed (${err.name}: ${err.message}); remove statement ${sid} by hand if it is no longer needed`;
  }
}

function explainGrantFailure(functionName: string, roleArn: string, err: { name: string; message: string }): string {
  const what = `could not grant ${roleArn} lambda:InvokeFunction on ${functionName}: lambda:AddPermission failed with ${err.name}: ${err.message}.`;
  switch (err.name) {
    case 'AccessDeniedException':
      return (
        `${what} The deployer's role needs lambda:AddPermission on the function for this principal; ServiceDeployer grants it to the role it creates. ` +
        'With a role of your own, grant it (condition lambda:Principal = the invoker role), or register with invokeGrant: InvokeGrant.TEMPLATE.'
      );
    case 'ResourceNotFoundException':
      return `${what} Check that the function version or alias exists in this account and region.`;
    case 'PolicyLengthExceededException':
      return `${what} The handler's resource policy is full (20 KB): remove statements it no longer needs.`;
    default:
      return what;
  }
}

function client(lambdaArn: string): LambdaClient {
  // The function's own region: field 4 of its ARN (validated with the properties).
  const region = lambdaArn.split(':')[3];
  const c = clients.get(region) ?? new LambdaClient({ region });
  // Stryker disable next-line CallExpression: equivalent, a cache only: a new client per call makes the same requests
  clients.set(region, c);
  return c;
}

function awsError(e: unknown): { name: string; message: string } {
  const err = e as { name?: string; message?: string };
  // Stryker disable next-line OptionalChaining,StringLiteral: equivalent, the AWS SDK rejects only with Errors, which have a name
  return { name: err?.name ?? 'Error', message: err?.message ?? String(e) };
}
