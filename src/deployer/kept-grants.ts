/**
 * The invoke statements the deployer keeps in handlers' resource policies (InvokeGrant.DEPLOYER):
 * which one a registration keeps, and removing one once no deployment uses it.
 */
import { AdminClient, Deployment } from './admin-client';
import { CALL_TIMEOUT_MS, message } from './context';
import { DeploymentResourceProperties, isTrue } from './properties';
import { InvokePermissionTarget, revokeInvoke } from './resource-policy';
import { Deadline } from './retry';
import { normalizeUrl } from './trust';

/** The grant this registration keeps for its handler, if it keeps one. */
export function invokeTarget(props: DeploymentResourceProperties): InvokePermissionTarget | undefined {
  if (!isTrue(props.GrantInvoke) || !props.LambdaArn || !props.AssumeRoleArn) return undefined;
  return { lambdaArn: props.LambdaArn, roleArn: props.AssumeRoleArn, environment: normalizeUrl(props.AdminUrl) };
}

/**
 * The ids of the deployments, other than `gone`, that invoke `target`'s handler through its
 * role. A deployment listed without a role is taken to use `defaultRoleArn` (the registration's).
 */
export function usersOf(target: InvokePermissionTarget, deployments: Deployment[], gone: string[], defaultRoleArn: string | undefined): string[] {
  return deployments
    .filter((d) => !gone.includes(d.id) && d.arn === target.lambdaArn && (d.assume_role_arn ?? defaultRoleArn) === target.roleArn)
    .map((d) => d.id);
}

/**
 * Removes the grant once no other deployment invokes the same handler through the same role
 * (re-registering with force can leave a new deployment on the same version). When that
 * cannot be checked, the grant stays: a dangling statement is harmless, a missing one is not.
 */
export async function revokeUnlessUsed(client: AdminClient, target: InvokePermissionTarget, gone: string[], deadline: Deadline): Promise<string> {
  let others: string[];
  try {
    others = usersOf(target, await client.listDeployments(deadline.cap(CALL_TIMEOUT_MS)), gone, target.roleArn);
  } catch (e) {
    return `kept the invoker role's invoke permission on ${target.lambdaArn}, since other deployments could not be listed (${message(e)})`;
  }
  if (others.length > 0) return `kept the invoker role's invoke permission on ${target.lambdaArn}, which ${others.join(', ')} still use(s)`;
  return revokeInvoke(target, deadline);
}
