import * as path from 'node:path';
import { createEndpointHandler, service } from '@restatedev/restate-sdk/lambda';

/**
 * Lambda function code the AWS stand-in runs in-process when it is invoked (`LambdaCode`):
 * a real Restate SDK Lambda handler (`createEndpointHandler` from
 * `@restatedev/restate-sdk/lambda`, which needs Node.js 22 — the integration run's jest runs on
 * it), and the kinds of function that are not one.
 */

/** What the Lambda runtime hands a handler as its second argument (the parts handlers read). */
export interface LambdaInvocationContext {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly awsRequestId: string;
  readonly memoryLimitInMB: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
}

export type LambdaCode = (event: unknown, context: LambdaInvocationContext) => Promise<unknown>;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const greeterHandlers = require(path.join(__dirname, 'fixtures', 'greeter-handlers.js')) as (
  name: string,
  version: number | string,
) => Record<string, (ctx: unknown, input: unknown) => Promise<unknown>>;

/**
 * The test services of fixtures/restate-service.js (same handlers: greet, nap; v2 also
 * farewell) as a Restate SDK Lambda handler, the way a user's function would export it.
 * `version` is what greet reports (`Hello, <who>! (<name> v<version>)`); any value but 2 has
 * the handlers of version 1, so e.g. 'r1', 'r2', ... are compatible revisions.
 */
export function restateLambda(name: string, version: 1 | 2 | string): LambdaCode {
  // The handlers are plain async functions; the SDK's typing of them is not needed here.
  const handlers = greeterHandlers(name, version) as never;
  return createEndpointHandler({ services: [service({ name, handlers })] }) as LambdaCode;
}

/** A function whose code throws on every invocation (an unhandled error in the runtime). */
export function throwingLambda(message: string): LambdaCode {
  return async () => {
    throw new TypeError(message);
  };
}

/** A function that is not a Restate endpoint: the Lambda console's Node.js starter code. */
export function plainLambda(): LambdaCode {
  return async () => ({ statusCode: 200, body: JSON.stringify('Hello from Lambda!') });
}
