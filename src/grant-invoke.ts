import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';

/**
 * Grants `lambda:InvokeFunction` on exactly `fn` (a function, version or alias) to `role`,
 * as a statement in the function's own resource policy.
 *
 * Why a resource policy rather than the role's identity policy: each function carries its
 * own statement (well under Lambda's 20 KB per-function limit), so the role's inline policy
 * stays empty and the number of handlers is not bounded by IAM's 10 KB inline limit.
 * Idempotent: granting the same function to the same role twice returns the same permission.
 * @internal
 */
export function grantInvokeViaResourcePolicy(role: iam.IRole, roleScope: IConstruct, fn: lambda.IFunction): lambda.CfnPermission {
  const id = `RestateInvoke${roleScope.node.addr.slice(0, 10)}`;
  const existing = fn.node.tryFindChild(id);
  if (existing instanceof lambda.CfnPermission) return existing;
  return new lambda.CfnPermission(fn, id, {
    action: 'lambda:InvokeFunction',
    functionName: fn.functionArn,
    principal: role.roleArn,
  });
}
