import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { RestateCloudInvokerRole, RestateCloudRegion } from '../src';

const ENV_ID = 'env_201hy10cd3h6426jy80tb32n6en';
const ENV_ID_2 = 'env_0abc123def456ghi789jkl0mno';
const WARNING_ID = 'restate-cloud-cdk:multipleTokenEnvironmentIds';

function newStack(): Stack {
  return new Stack(new App(), 'Stack');
}

/** The warnings recorded on the role so far (without synthesizing). */
function warningsOn(role: RestateCloudInvokerRole): string[] {
  return role.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
}

function tokenId(stack: Stack, id: string): string {
  return new CfnParameter(stack, id).valueAsString;
}

function trustPolicy(stack: Stack): any {
  const roles = Template.fromStack(stack).findResources('AWS::IAM::Role');
  const ids = Object.keys(roles);
  expect(ids).toHaveLength(1);
  return roles[ids[0]].Properties.AssumeRolePolicyDocument;
}

describe('the warning for several unresolved token environment ids', () => {
  test('appears exactly when a second token id is added, with its id and text', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [tokenId(stack, 'A')] });
    expect(warningsOn(role)).toEqual([]);
    role.trustEnvironment(tokenId(stack, 'B'));
    expect(warningsOn(role)).toEqual([
      `Several environment ids are unresolved tokens; they cannot be deduplicated at synth time. [ack: ${WARNING_ID}]`,
    ]);
    Annotations.fromStack(stack).hasWarning('/Stack/Role', Match.stringLikeRegexp(`\\[ack: ${WARNING_ID}\\]`));
  });

  test('a token plus a literal: no warning, in either order', () => {
    const stack = newStack();
    const tokenFirst = new RestateCloudInvokerRole(stack, 'TokenFirst', { environmentIds: [tokenId(stack, 'A'), ENV_ID] });
    const literalFirst = new RestateCloudInvokerRole(stack, 'LiteralFirst', { environmentIds: [ENV_ID] });
    literalFirst.trustEnvironment(tokenId(stack, 'B'));
    expect(warningsOn(tokenFirst)).toEqual([]);
    expect(warningsOn(literalFirst)).toEqual([]);
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });

  test('two literals: no warning', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID, ENV_ID_2] });
    expect(warningsOn(role)).toEqual([]);
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });

  test('a literal then two tokens: the warning comes with the second token, not the first', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID, tokenId(stack, 'A')] });
    expect(warningsOn(role)).toEqual([]);
    role.trustEnvironment(tokenId(stack, 'B'));
    expect(warningsOn(role)).toHaveLength(1);
    expect(warningsOn(role)[0]).toContain(WARNING_ID);
  });

  test('the same token added twice is deduplicated and not warned about', () => {
    const stack = newStack();
    const id = tokenId(stack, 'A');
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [id] });
    role.trustEnvironment(id);
    expect(role.environmentIds).toEqual([id]);
    expect(warningsOn(role)).toEqual([]);
  });

  test('a literal added after a token gives no warning', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [tokenId(stack, 'A')] });
    role.trustEnvironment(ENV_ID);
    expect(warningsOn(role)).toEqual([]);
  });
});

describe('the trust policy, statement by statement', () => {
  test('eu region, two ids: AssumeRole bound to both ids and the RestateCloud role, then TagSession', () => {
    const stack = newStack();
    new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID, ENV_ID_2], region: RestateCloudRegion.EU });
    const doc = trustPolicy(stack);
    const account = RestateCloudRegion.EU.accountId;
    expect(doc.Statement).toHaveLength(2);
    expect(doc.Statement[0]).toEqual({
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Principal: { AWS: `arn:aws:iam::${account}:root` },
      Condition: {
        StringEquals: {
          'aws:PrincipalArn': `arn:aws:iam::${account}:role/RestateCloud`,
          'sts:ExternalId': [ENV_ID, ENV_ID_2],
        },
      },
    });
    expect(doc.Statement[1]).toEqual({
      Effect: 'Allow',
      Action: 'sts:TagSession',
      Principal: { AWS: `arn:aws:iam::${account}:root` },
    });
  });

  test('environmentIds left out (a caller without types): synth fails for want of an id, and trusts nothing else', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', {} as any);
    expect(role.environmentIds).toEqual([]);
    let message = '';
    try {
      Template.fromStack(stack);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('RestateCloudInvokerRole trusts no environment: pass environmentIds, or call trustEnvironment(environmentId).');
    expect(message).not.toContain('invalid Restate Cloud environment id');
  });

  test('environmentIds lists the trusted ids in order and is a copy', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    role.trustEnvironment(ENV_ID_2);
    const ids = role.environmentIds;
    ids.push('env_other');
    expect(role.environmentIds).toEqual([ENV_ID, ENV_ID_2]);
  });

  test('the default description', () => {
    const stack = newStack();
    new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', {
      Description: 'Lets Restate Cloud invoke registered Lambda handlers',
    });
  });
});

describe('ids validated elsewhere', () => {
  test('an id marked as validated elsewhere is not reported by the role; others still are', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: ['ENV_CHECKED', 'ENV_UNCHECKED'] });
    role._validatedElsewhere('ENV_CHECKED');
    let message = '';
    try {
      Template.fromStack(stack);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('"ENV_UNCHECKED"');
    expect(message).not.toContain('"ENV_CHECKED"');
    expect(message).toContain('RestateCloudInvokerRole: invalid Restate Cloud environment id "ENV_UNCHECKED"');
  });

  test('with every malformed id validated elsewhere, the role itself reports nothing', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: ['ENV_CHECKED'] });
    role._validatedElsewhere('ENV_CHECKED');
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});

describe('allowInvoke and grantInvoke', () => {
  test('grantInvoke gives the permission allowInvoke gives, for a plain function too', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    const fn = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });
    const viaDeprecated = role.grantInvoke(fn);
    expect(viaDeprecated).toBeInstanceOf(lambda.CfnPermission);
    expect(role.allowInvoke(fn)).toBe(viaDeprecated);
    Template.fromStack(stack).resourcePropertiesCountIs(
      'AWS::Lambda::Permission',
      { Action: 'lambda:InvokeFunction', FunctionName: stack.resolve(fn.functionArn), Principal: stack.resolve(role.roleArn) },
      1,
    );
  });
});
