import { Lazy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * Grants `lambda:InvokeFunction` on exactly `fn` (a function, version or alias) to `role`,
 * as a statement in the function's own resource policy.
 *
 * Why a resource policy rather than the role's identity policy: each function carries its
 * own statement (well under Lambda's 20 KB per-function limit), so the role's inline policy
 * stays empty and the number of handlers is not bounded by IAM's 10 KB inline limit.
 *
 * For a version, the permission follows it: its logical id is the version's plus a suffix, so
 * a new version (new code) adds a new statement instead of replacing the old one, and its
 * deletion policy is the version's, so the statement is kept exactly as long as the version.
 * Idempotent: granting the same function to the same role twice returns the same permission.
 * @internal
 */
export function addInvokePermission(role: iam.IRole, fn: lambda.IFunction): lambda.CfnPermission {
  const id = `RestateInvoke${role.node.addr.slice(0, 10)}`;
  const existing = fn.node.tryFindChild(id);
  if (existing instanceof lambda.CfnPermission) return existing;
  const permission = new lambda.CfnPermission(fn, id, {
    action: 'lambda:InvokeFunction',
    functionName: fn.functionArn,
    principal: role.roleArn,
  });
  const version = fn.node.defaultChild;
  if (version instanceof lambda.CfnVersion) {
    const stack = Stack.of(version);
    permission.overrideLogicalId(
      // Cached: the version's id derives from its code's hash, which costs a resolve per handler.
      Lazy.string({
        produce: () => {
          const versionId: string = stack.resolve(version.logicalId);
          return `${versionId.slice(Math.max(0, versionId.length + id.length - 255))}${id}`;
        },
      }),
    );
    // Read when the template is written, so that a removal policy applied later counts too.
    Object.defineProperty(permission.cfnOptions, 'deletionPolicy', { get: () => version.cfnOptions.deletionPolicy, set: () => undefined });
    Object.defineProperty(permission.cfnOptions, 'updateReplacePolicy', { get: () => version.cfnOptions.updateReplacePolicy, set: () => undefined });
  }
  return permission;
}
