import { App, CfnDeletionPolicy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { RestateCloudInvokerRole } from '../src';

// The AWS::Lambda::Permission that RestateCloudInvokerRole.allowInvoke() adds to a handler.

const ENV_ID = 'env_201hy10cd3h6426jy80tb32n6en';
const ENV_ID_2 = 'env_0abc123def456ghi789jkl0mno';

function newStack(): Stack {
  return new Stack(new App(), 'Stack');
}

function newFunction(scope: Construct, id = 'Fn', code = 'exports.handler = async () => 1;'): lambda.Function {
  return new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline(code),
  });
}

function resources(stack: Stack, type: string): Array<[string, any]> {
  return Object.entries(Template.fromStack(stack).findResources(type));
}

/** The suffix every permission of `role` carries: RestateInvoke and the first 10 characters of its address. */
function suffixOf(role: RestateCloudInvokerRole): string {
  return `RestateInvoke${role.node.addr.slice(0, 10)}`;
}

describe('the logical id of the permission', () => {
  test("for a version: exactly the version's logical id followed by RestateInvoke and the role's address", () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    const version = newFunction(stack).currentVersion;
    const permission = role.allowInvoke(version);
    const [[versionId]] = resources(stack, 'AWS::Lambda::Version');
    const [[permissionId]] = resources(stack, 'AWS::Lambda::Permission');
    expect(permissionId).toBe(`${versionId}${suffixOf(role)}`);
    expect(stack.resolve(permission.logicalId)).toBe(permissionId);
    expect(permission.node.id).toBe(suffixOf(role));
  });

  test("a very long version logical id is cut at its start, so the permission's id is at most 255 characters and ends like the version's", () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    let scope: Construct = stack;
    for (let i = 0; i < 6; i++) scope = new Construct(scope, `${'Nested'.repeat(8)}Level${i}`);
    role.allowInvoke(newFunction(scope, `${'Handler'.repeat(6)}`).currentVersion);
    const [[versionId]] = resources(stack, 'AWS::Lambda::Version');
    const [[permissionId]] = resources(stack, 'AWS::Lambda::Permission');
    const suffix = suffixOf(role);
    expect(versionId.length + suffix.length).toBeGreaterThan(255);
    expect(permissionId).toHaveLength(255);
    expect(permissionId).toBe(`${versionId.slice(versionId.length + suffix.length - 255)}${suffix}`);
  });

  test('a version logical id that fits is kept whole', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    role.allowInvoke(newFunction(stack, 'F').currentVersion);
    const [[versionId]] = resources(stack, 'AWS::Lambda::Version');
    const [[permissionId]] = resources(stack, 'AWS::Lambda::Permission');
    expect(permissionId.length).toBeLessThan(255);
    expect(permissionId.startsWith(versionId)).toBe(true);
  });

  test('new code, new version: a new logical id, so CloudFormation adds a statement instead of replacing it', () => {
    const ids = ['exports.handler = async () => 1;', 'exports.handler = async () => 2;'].map((code) => {
      const stack = newStack();
      const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
      role.allowInvoke(newFunction(stack, 'Fn', code).currentVersion);
      return resources(stack, 'AWS::Lambda::Permission')[0][0];
    });
    expect(ids[0]).not.toBe(ids[1]);
  });

  test('for a function that is not a version (an alias, the function itself): the usual construct-path id, no policy copied', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    const fn = newFunction(stack);
    fn.applyRemovalPolicy(RemovalPolicy.RETAIN);
    role.allowInvoke(fn);
    const [[permissionId, permission]] = resources(stack, 'AWS::Lambda::Permission');
    expect(permissionId).toBe(stack.getLogicalId(fn.node.findChild(suffixOf(role)) as lambda.CfnPermission));
    expect(permissionId.startsWith('Fn')).toBe(true);
    expect(permission.DeletionPolicy).toBeUndefined();
    expect(permission.UpdateReplacePolicy).toBeUndefined();
  });
});

describe('deletion and update-replace policies follow the version', () => {
  test.each([
    [RemovalPolicy.RETAIN, 'Retain'],
    [RemovalPolicy.DESTROY, 'Delete'],
    [RemovalPolicy.SNAPSHOT, 'Snapshot'],
  ])('a version created with %s', (removalPolicy, expected) => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    const fn = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => 1;'),
      currentVersionOptions: { removalPolicy },
    });
    role.allowInvoke(fn.currentVersion);
    const [[, permission]] = resources(stack, 'AWS::Lambda::Permission');
    expect(permission.DeletionPolicy).toBe(expected);
    expect(permission.UpdateReplacePolicy).toBe(expected);
  });

  test('a policy applied to the version after the grant, deletion and update-replace both', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    const version = newFunction(stack).currentVersion;
    role.allowInvoke(version);
    const cfnVersion = version.node.defaultChild as lambda.CfnVersion;
    cfnVersion.cfnOptions.deletionPolicy = CfnDeletionPolicy.RETAIN_EXCEPT_ON_CREATE;
    cfnVersion.cfnOptions.updateReplacePolicy = CfnDeletionPolicy.SNAPSHOT;
    const [[, permission]] = resources(stack, 'AWS::Lambda::Permission');
    expect(permission.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(permission.UpdateReplacePolicy).toBe('Snapshot');
  });

  test("a policy applied to the permission itself is ignored: the version's wins", () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    const version = newFunction(stack).currentVersion;
    version.applyRemovalPolicy(RemovalPolicy.RETAIN);
    const permission = role.allowInvoke(version);
    permission.applyRemovalPolicy(RemovalPolicy.DESTROY);
    const [[, rendered]] = resources(stack, 'AWS::Lambda::Permission');
    expect(rendered.DeletionPolicy).toBe('Retain');
    expect(rendered.UpdateReplacePolicy).toBe('Retain');
  });
});

describe('one permission per role and handler', () => {
  test('granting twice returns the same permission; a second role gets its own, with its own suffix', () => {
    const stack = newStack();
    const a = new RestateCloudInvokerRole(stack, 'A', { environmentIds: [ENV_ID] });
    const b = new RestateCloudInvokerRole(stack, 'B', { environmentIds: [ENV_ID_2] });
    const version = newFunction(stack).currentVersion;
    const first = a.allowInvoke(version);
    expect(a.allowInvoke(version)).toBe(first);
    const other = b.allowInvoke(version);
    expect(other).not.toBe(first);
    expect(b.allowInvoke(version)).toBe(other);
    const ids = resources(stack, 'AWS::Lambda::Permission').map(([id]) => id).sort();
    const [[versionId]] = resources(stack, 'AWS::Lambda::Version');
    expect(ids).toEqual([`${versionId}${suffixOf(a)}`, `${versionId}${suffixOf(b)}`].sort());
  });

  test('each permission grants exactly lambda:InvokeFunction on the handler to its role', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    const version = newFunction(stack).currentVersion;
    const permission = role.allowInvoke(version);
    expect(permission.action).toBe('lambda:InvokeFunction');
    expect(stack.resolve(permission.functionName)).toEqual(stack.resolve(version.functionArn));
    expect(stack.resolve(permission.principal)).toEqual(stack.resolve(role.roleArn));
  });
});
