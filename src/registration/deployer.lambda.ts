import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Deadline } from './backoff';
import { CfnResult, sendResponse } from './cfn-response';
import { message, Progress, registerDeployment, removeDeployment } from './deployer';
import { log } from './log';
import { DeploymentResourceProperties } from './properties';

export interface LambdaContext {
  readonly logStreamName?: string;
  getRemainingTimeInMillis(): number;
}

/** Time kept back to deliver the response to CloudFormation before the Lambda is cut off. */
const RESPONSE_RESERVE_MS = 6_000;

/**
 * The `Custom::RestateDeployment` handler. It always answers CloudFormation: on success, on
 * any error, and when time runs out (FAILED for Create/Update, SUCCESS for Delete so that
 * stack deletion and rollback are never blocked).
 */
export async function handler(event: CloudFormationCustomResourceEvent, context: LambdaContext): Promise<void> {
  const props = (event.ResourceProperties ?? {}) as unknown as DeploymentResourceProperties;
  const isDelete = event.RequestType === 'Delete';
  const priorId = event.RequestType === 'Create' ? undefined : event.PhysicalResourceId;
  // A failed Create still needs a physical id; one that is clearly not a deployment id makes
  // the Delete CloudFormation then sends a no-op.
  const fallbackId = priorId ?? `restate-failed-${event.RequestId}`;
  const remaining = context.getRemainingTimeInMillis();
  const workMs = Math.max(remaining - RESPONSE_RESERVE_MS, Math.floor(remaining / 2));
  const deadline = Deadline.in(workMs);
  const progress: Progress = { phase: 'starting' };
  log('request', {
    requestType: event.RequestType,
    logicalResourceId: event.LogicalResourceId,
    physicalResourceId: priorId,
    adminUrl: props.AdminUrl,
    endpoint: props.LambdaArn ?? props.Uri,
  });

  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<CfnResult>((resolve) => {
    timer = setTimeout(() => {
      const doing = `${progress.phase}${progress.last ? ` (last: ${progress.last})` : ''}`;
      resolve(
        isDelete
          ? { status: 'SUCCESS', physicalResourceId: fallbackId, reason: `Ran out of time while ${doing}; the deployment was left in place.` }
          : { status: 'FAILED', physicalResourceId: fallbackId, reason: `The deployer ran out of time while ${doing}. Raise the ServiceDeployer timeout or check the admin API.` },
      );
    }, workMs);
  });

  const work = (async (): Promise<CfnResult> => {
    try {
      if (isDelete) return await removeDeployment(props, event.PhysicalResourceId, deadline, progress);
      return await registerDeployment(props, deadline, progress);
    } catch (e) {
      if (isDelete) {
        return { status: 'SUCCESS', physicalResourceId: fallbackId, reason: `Delete was not completed (${message(e)}); the stack goes on.` };
      }
      return { status: 'FAILED', physicalResourceId: fallbackId, reason: message(e) };
    }
  })();

  const result = await Promise.race([work, outOfTime]);
  clearTimeout(timer);
  if (result.status === 'FAILED') log('failed', { reason: result.reason });
  await sendResponse(event, result, context.logStreamName);
}
