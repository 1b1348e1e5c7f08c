/**
 * Pruning: removing a registration's older deployments once drained, keeping the most recent.
 */
import { AdminClient } from './admin-client';
import { CALL_TIMEOUT_MS, message } from './context';
import { usersOf } from './kept-grants';
import { log } from './log';
import { DeploymentResourceProperties, isTrue, OWNER_METADATA_KEY } from './properties';
import { revokeInvoke } from './resource-policy';
import { Deadline } from './retry';
import { normalizeUrl } from './trust';

export async function pruneDrained(
  client: AdminClient,
  props: DeploymentResourceProperties,
  currentId: string,
  keep: number,
  deadline: Deadline,
  maxPruned: number = Infinity,
): Promise<string> {
  const owner = props.Owner!;
  const removed: string[] = [];
  const kept: string[] = [];
  const revoked: string[] = [];
  let deferred = 0;
  try {
    const deployments = await client.listDeployments(deadline.cap(CALL_TIMEOUT_MS));
    const older = deployments
      .filter((d) => d.id !== currentId && d.metadata?.[OWNER_METADATA_KEY] === owner)
      .sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? ''))
      .slice(keep);
    for (const d of older) {
      if (removed.length >= maxPruned) {
        // The per-run cap: the rest are pruned by the next registrations.
        deferred++;
        continue;
      }
      const inFlight = await client.inFlightInvocations(d.id, deadline.cap(CALL_TIMEOUT_MS));
      if (inFlight > 0) {
        kept.push(`${d.id} (${inFlight} in flight)`);
        continue;
      }
      await client.deleteDeployment(d.id, deadline.cap(CALL_TIMEOUT_MS));
      removed.push(d.id);
      // The pruned version's grant goes with it, unless another deployment still uses it.
      const roleArn = d.assume_role_arn ?? props.AssumeRoleArn;
      if (isTrue(props.GrantInvoke) && d.arn && roleArn) {
        const prunedTarget = { lambdaArn: d.arn, roleArn, environment: normalizeUrl(props.AdminUrl) };
        if (usersOf(prunedTarget, deployments, removed, props.AssumeRoleArn).length === 0) revoked.push(await revokeInvoke(prunedTarget, deadline));
      }
    }
  } catch (e) {
    log('pruning stopped', { error: message(e) });
    return `; pruning stopped: ${message(e)}`;
  }
  log('pruned', { removed, kept, deferred });
  return removed.length || kept.length
    ? `; pruned [${removed.join(', ')}]${kept.length ? `, kept draining [${kept.join(', ')}]` : ''}` +
        `${deferred ? `, ${deferred} more left for the next run (maxPrunedPerRun ${maxPruned})` : ''}${revoked.length ? `; ${revoked.join('; ')}` : ''}`
    : '';
}
