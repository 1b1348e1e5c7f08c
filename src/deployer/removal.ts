/**
 * Delete: removing a deployment by ownership and removal policy, and what a failed Create left.
 * Best effort and bounded: a Delete always succeeds, so stacks are never held up.
 */
import { AdminClient, Deployment } from './admin-client';
import { withRetries } from './admin-retries';
import { CfnResult } from './cfn-response';
import { adminClient } from './connection';
import { CALL_TIMEOUT_MS, DELETE_BUDGET_MS, describeOwner, message, Progress, RequestContext } from './context';
import { invokeTarget, revokeUnlessUsed } from './kept-grants';
import { log } from './log';
import {
  CREATED_BY_METADATA_KEY,
  DEFAULTS,
  DeploymentResourceProperties,
  FAILED_CREATE_PREFIX,
  isTrue,
  LOGICAL_ID_METADATA_KEY,
  ResourceIdentity,
  STACK_ID_METADATA_KEY,
} from './properties';
import { Deadline } from './retry';
import { checkTrusted } from './trust';

const DEPLOYMENT_ID = /^dp_[A-Za-z0-9]+$/;

/** Deletes a deployment no invocation is pinned to; says what happened, never throws. */
export async function removeIfDrained(client: AdminClient, deploymentId: string, deadline: Deadline): Promise<string> {
  try {
    // The query engine may answer 5xx while a partition moves (seen under load): retried.
    const inFlight = await withRetries(new Progress(`counting invocations pinned to ${deploymentId}`), deadline, () =>
      client.inFlightInvocations(deploymentId, deadline.cap(CALL_TIMEOUT_MS)),
    );
    if (inFlight > 0) return `kept: ${inFlight} invocation(s) are pinned to it`;
    const status = await client.deleteDeployment(deploymentId, deadline.cap(CALL_TIMEOUT_MS));
    return status === 404 ? 'removed already' : 'removed again';
  } catch (e) {
    log('could not remove deployment', { deploymentId, error: message(e) });
    return `not removed (${message(e)}); remove it by hand`;
  }
}

/** Delete: honour ownership and the removal policy; best effort, bounded, always SUCCESS. */
export async function removeDeployment(
  props: DeploymentResourceProperties,
  physicalId: string,
  ctx: RequestContext,
  deadline: Deadline,
  progress: Progress,
): Promise<CfnResult> {
  const ok = (reason: string): CfnResult => {
    log('delete', { deploymentId: physicalId, outcome: reason });
    return { status: 'SUCCESS', physicalResourceId: physicalId, reason };
  };
  if (physicalId.startsWith(FAILED_CREATE_PREFIX)) {
    return ok(await removeFailedCreate(props, physicalId.slice(FAILED_CREATE_PREFIX.length), ctx, deadline, progress));
  }
  if (!DEPLOYMENT_ID.test(physicalId)) return ok(`Nothing to remove: ${physicalId} is not a Restate deployment id.`);
  const target = invokeTarget(props);
  const keepsGrant = target ? ', with the invoker role\'s permission to invoke its handler' : '';
  if ((props.RemovalPolicy ?? DEFAULTS.removalPolicy) !== 'destroy') return ok(`Retained deployment ${physicalId} (removal policy RETAIN)${keepsGrant}.`);

  const budget = deadline.within(DELETE_BUDGET_MS);
  try {
    checkTrusted(props);
    progress.phase = 'reading the admin API key';
    const { client } = await adminClient(props, ctx.signal);
    progress.phase = `removing deployment ${physicalId} at ${client.adminUrl}`;
    const deployment = await client.getDeployment(physicalId, budget.cap(CALL_TIMEOUT_MS));
    const owner = deployment && ownerElsewhere(deployment, ctx.resource);
    // A replacement (new logical id) re-registered the same endpoint and took it over.
    if (owner) return ok(`Kept deployment ${physicalId}: it is owned by ${owner}, which replaced this resource.`);
    if (deployment && !isTrue(props.Force)) {
      const inFlight = await client.inFlightInvocations(physicalId, budget.cap(CALL_TIMEOUT_MS));
      if (inFlight > 0) {
        return ok(
          `Kept deployment ${physicalId}${keepsGrant}: ${inFlight} invocation(s) are still pinned to it. Remove it once drained, or register with force: true to remove it regardless.`,
        );
      }
    }
    const status = deployment ? await client.deleteDeployment(physicalId, budget.cap(CALL_TIMEOUT_MS)) : 404;
    const removed = status === 404 ? `Deployment ${physicalId} was already gone` : `Removed deployment ${physicalId}`;
    if (!target) return ok(`${removed}.`);
    progress.phase = `removing the invoke permission on ${target.lambdaArn}`;
    return ok(`${removed}; ${await revokeUnlessUsed(client, target, [physicalId], budget)}.`);
  } catch (e) {
    return ok(`Deployment ${physicalId} was not removed (${message(e)}); the stack goes on. Remove it by hand if it is no longer needed.`);
  }
}

/**
 * The Delete after a failed Create: removes every deployment that Create created (also one the
 * admin API completed after the deployer stopped waiting), whatever the removal policy, since
 * the resource never existed; and the grant it added. Never throws.
 */
export async function removeFailedCreate(
  props: DeploymentResourceProperties,
  requestId: string,
  ctx: RequestContext,
  deadline: Deadline,
  progress: Progress,
): Promise<string> {
  const budget = deadline.within(DELETE_BUDGET_MS);
  try {
    checkTrusted(props);
    progress.phase = 'reading the admin API key';
    const { client } = await adminClient(props, ctx.signal);
    progress.phase = `looking for deployments of the failed create at ${client.adminUrl}`;
    const deployments = await client.listDeployments(budget.cap(CALL_TIMEOUT_MS));
    const leftovers = deployments.filter(({ metadata = {} }) =>
      metadata[CREATED_BY_METADATA_KEY] === requestId &&
      metadata[LOGICAL_ID_METADATA_KEY] === ctx.resource.logicalId &&
      metadata[STACK_ID_METADATA_KEY] === ctx.resource.stackId,
    );
    const notes = [];
    const gone: string[] = [];
    for (const d of leftovers) {
      const outcome = await removeIfDrained(client, d.id, budget);
      if (outcome.startsWith('removed')) gone.push(d.id);
      notes.push(`deployment ${d.id} ${outcome}`);
    }
    const target = invokeTarget(props);
    if (target && gone.length === leftovers.length) notes.push(await revokeUnlessUsed(client, target, gone, budget));
    return notes.length > 0 ? `Undid the failed create: ${notes.join('; ')}.` : 'Nothing to remove: the failed create left no deployment.';
  } catch (e) {
    return `Could not check what the failed create left (${message(e)}); the stack goes on. Look for deployments with metadata ${CREATED_BY_METADATA_KEY}=${requestId}.`;
  }
}

/** Who else owns `deployment`, when its metadata names another CloudFormation resource. */
export function ownerElsewhere(deployment: Deployment, resource: ResourceIdentity): string | undefined {
  const meta = deployment.metadata ?? {};
  const stackId = meta[STACK_ID_METADATA_KEY];
  const logicalId = meta[LOGICAL_ID_METADATA_KEY];
  if (stackId === undefined || logicalId === undefined) return undefined;
  if (stackId === resource.stackId && logicalId === resource.logicalId) return undefined;
  return describeOwner(meta);
}
