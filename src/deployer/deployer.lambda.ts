import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { CfnResult, sendResponse } from './cfn-response';
import { message, Progress, RequestContext } from './context';
import { log } from './log';
import { decodeProperties, DeploymentResourceProperties, FAILED_CREATE_PREFIX } from './properties';
import { registerDeployment } from './register';
import { removeDeployment } from './removal';
import { Deadline } from './retry';

export interface LambdaContext {
  readonly logStreamName?: string;
  getRemainingTimeInMillis(): number;
}

/** Time kept back to deliver the response to CloudFormation before the Lambda is cut off. */
const RESPONSE_RESERVE_MS = 6_000;
/**
 * The out-of-time answer comes this long before the deadline every request's timeout is capped
 * by: a hung step then always ends with the reason that names it, never with a request's own
 * timeout racing it.
 */
const HANG_UP_LEAD_MS = 200;

/**
 * The `Custom::RestateDeployment` handler. It always answers CloudFormation: on success, on
 * any error, and when time runs out (FAILED for Create/Update, SUCCESS for Delete so that
 * stack deletion and rollback are never blocked).
 */
export async function handler(event: CloudFormationCustomResourceEvent, context: LambdaContext): Promise<void> {
  const raw = (event.ResourceProperties ?? {}) as unknown as Partial<DeploymentResourceProperties>;
  const isDelete = event.RequestType === 'Delete';
  const priorId = event.RequestType === 'Create' ? undefined : event.PhysicalResourceId;
  // A failed Create answers with an id the Delete that follows it recognizes: it then removes
  // whatever that Create left (see removeDeployment).
  const fallbackId = priorId ?? `${FAILED_CREATE_PREFIX}${event.RequestId}`;
  const remaining = context.getRemainingTimeInMillis();
  const workMs = Math.max(remaining - RESPONSE_RESERVE_MS, Math.floor(remaining / 2));
  const deadline = Deadline.in(workMs);
  // Stryker disable next-line StringLiteral: equivalent, every path sets its phase before its first await, so the timer never reports this one
  const progress = new Progress('starting');
  // Requests still in flight when time runs out hang up: the admin API then cancels a
  // registration instead of completing it after the answer (Lambda freezes open connections).
  const hangUp = new AbortController();
  log('request', {
    requestType: event.RequestType,
    logicalResourceId: event.LogicalResourceId,
    physicalResourceId: priorId,
    adminUrl: raw.AdminUrl,
    endpoint: raw.LambdaArn ?? raw.Uri,
  });

  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<CfnResult>((resolve) => {
    timer = setTimeout(() => {
      hangUp.abort();
      const doing = `${progress.phase}${progress.last ? ` (last: ${progress.last})` : ''}`;
      resolve(
        isDelete
          ? { status: 'SUCCESS', physicalResourceId: fallbackId, reason: `Ran out of time while ${doing}; the deployment was left in place.` }
          : { status: 'FAILED', physicalResourceId: fallbackId, reason: `The deployer ran out of time while ${doing}. Raise the ServiceDeployer timeout or check the admin API.` },
      );
    }, workMs - HANG_UP_LEAD_MS);
  });

  const work = (async (): Promise<CfnResult> => {
    try {
      const props = decodeProperties(event.ResourceProperties);
      const ctx: RequestContext = {
        resource: { stackId: event.StackId, logicalId: event.LogicalResourceId, requestId: event.RequestId },
        oldProps: event.RequestType === 'Update' ? decodeOld(event.OldResourceProperties) : undefined,
        priorId,
        signal: hangUp.signal,
      };
      if (isDelete) return await removeDeployment(props, event.PhysicalResourceId, ctx, deadline, progress);
      return await registerDeployment(props, ctx, deadline, progress);
    } catch (e) {
      if (isDelete) {
        return { status: 'SUCCESS', physicalResourceId: fallbackId, reason: `Delete was not completed (${message(e)}); the stack goes on.` };
      }
      return { status: 'FAILED', physicalResourceId: fallbackId, reason: message(e) };
    }
  })();

  const result = await Promise.race([work, outOfTime]);
  // Stryker disable next-line CallExpression: equivalent in effect, the timer would only fire into a settled race later (and abort nothing in flight)
  clearTimeout(timer);
  if (result.status === 'FAILED') log('failed', { reason: result.reason });
  await sendResponse(event, result, context.logStreamName);
}

/** The previous properties, when they are ones ServiceDeployer wrote; else they are not used. */
function decodeOld(old: unknown): DeploymentResourceProperties | undefined {
  try {
    return decodeProperties(old);
  } catch (e) {
    log('previous properties not used', { error: message(e) });
    return undefined;
  }
}
