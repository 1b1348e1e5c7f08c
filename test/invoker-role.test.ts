import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { RestateCloudInvokerRole, RestateCloudRegion } from '../src';

const ENV_ID = 'env_201hy10cd3h6426jy80tb32n6en';
const ENV_ID_2 = 'env_0abc123def456ghi789jkl0mno';

/** The trust policy Restate Cloud documents, for an account and environment id. */
function documentedTrustPolicy(accountId: string, externalId: unknown) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: {
            'aws:PrincipalArn': `arn:aws:iam::${accountId}:role/RestateCloud`,
            'sts:ExternalId': externalId,
          },
        },
      },
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: 'sts:TagSession',
      },
    ],
  };
}

function newStack(): Stack {
  return new Stack(new App(), 'Stack');
}

/** All resources of one type in the synthesized template, by logical id. */
function resourcesOfType(stack: Stack, type: string): Record<string, any> {
  const resources = Template.fromStack(stack).toJSON().Resources ?? {};
  return Object.fromEntries(Object.entries(resources).filter(([, r]: [string, any]) => r.Type === type));
}

/** The invoker role's resource in the stack's template. */
function roleResource(stack: Stack, role: RestateCloudInvokerRole): { logicalId: string; resource: any } {
  const logicalId = stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
  return { logicalId, resource: Template.fromStack(stack).toJSON().Resources[logicalId] };
}

/** The one AWS::IAM::Role in the stack's template. */
function onlyRole(stack: Stack): { logicalId: string; resource: any } {
  const roles = Object.entries(resourcesOfType(stack, 'AWS::IAM::Role'));
  expect(roles).toHaveLength(1);
  return { logicalId: roles[0][0], resource: roles[0][1] };
}

function newFunction(stack: Stack, id = 'Fn'): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {};'),
  });
}

describe('trust policy', () => {
  test('us: exactly the documented trust policy', () => {
    const stack = newStack();
    new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID], region: RestateCloudRegion.US });
    const { resource } = onlyRole(stack);
    expect(resource.Properties.AssumeRolePolicyDocument).toEqual(documentedTrustPolicy('654654156625', ENV_ID));
  });

  test('the principal and role are the documented literal strings', () => {
    const stack = newStack();
    new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    const doc = onlyRole(stack).resource.Properties.AssumeRolePolicyDocument;
    expect(doc.Statement[0].Principal.AWS).toBe('arn:aws:iam::654654156625:root');
    expect(doc.Statement[0].Condition.StringEquals['aws:PrincipalArn']).toBe('arn:aws:iam::654654156625:role/RestateCloud');
    expect(doc.Statement[1].Principal.AWS).toBe('arn:aws:iam::654654156625:root');
  });

  test('default region is us', () => {
    const stack = newStack();
    new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    expect(onlyRole(stack).resource.Properties.AssumeRolePolicyDocument).toEqual(
      documentedTrustPolicy('654654156625', ENV_ID),
    );
  });

  test('eu: exactly the documented trust policy', () => {
    const stack = newStack();
    new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID], region: RestateCloudRegion.EU });
    expect(onlyRole(stack).resource.Properties.AssumeRolePolicyDocument).toEqual(
      documentedTrustPolicy('654654156625', ENV_ID),
    );
  });

  test('a region described with of() uses its account', () => {
    const stack = newStack();
    const region = RestateCloudRegion.of({ name: 'ap', accountId: '123456789012' });
    new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID], region });
    expect(onlyRole(stack).resource.Properties.AssumeRolePolicyDocument).toEqual(
      documentedTrustPolicy('123456789012', ENV_ID),
    );
  });

  test('unchanged under the feature flags of a new CDK project (e.g. minimizePolicies)', () => {
    const app = new App({ context: { ...cxapi.CURRENTLY_RECOMMENDED_FLAGS, ...cxapi.NEW_PROJECT_DEFAULT_CONTEXT } });
    const stack = new Stack(app, 'Stack');
    const one = new RestateCloudInvokerRole(stack, 'One', { environmentIds: [ENV_ID] });
    const two = new RestateCloudInvokerRole(stack, 'Two', { environmentIds: [ENV_ID, ENV_ID_2], region: RestateCloudRegion.EU });
    expect(roleResource(stack, one).resource.Properties.AssumeRolePolicyDocument).toEqual(
      documentedTrustPolicy('654654156625', ENV_ID),
    );
    expect(roleResource(stack, two).resource.Properties.AssumeRolePolicyDocument).toEqual(
      documentedTrustPolicy('654654156625', [ENV_ID, ENV_ID_2]),
    );
  });

  test('several environment ids: sts:ExternalId lists each, still StringEquals', () => {
    const stack = newStack();
    new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID, ENV_ID_2] });
    const doc = onlyRole(stack).resource.Properties.AssumeRolePolicyDocument;
    expect(doc).toEqual(documentedTrustPolicy('654654156625', [ENV_ID, ENV_ID_2]));
    expect(Object.keys(doc.Statement[0].Condition)).toEqual(['StringEquals']);
  });

  test('trustEnvironment adds an id; duplicates are ignored', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID, ENV_ID] });
    role.trustEnvironment(ENV_ID_2);
    role.trustEnvironment(ENV_ID);
    role.trustEnvironment(ENV_ID_2);
    expect(role.environmentIds).toEqual([ENV_ID, ENV_ID_2]);
    expect(onlyRole(stack).resource.Properties.AssumeRolePolicyDocument).toEqual(
      documentedTrustPolicy('654654156625', [ENV_ID, ENV_ID_2]),
    );
  });

  test('trustEnvironment on a role built with one id turns the single id into a list', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    role.trustEnvironment(ENV_ID_2);
    const doc = onlyRole(stack).resource.Properties.AssumeRolePolicyDocument;
    expect(doc.Statement[0].Condition.StringEquals['sts:ExternalId']).toEqual([ENV_ID, ENV_ID_2]);
  });

  test('an unresolved token environment id is placed as is', () => {
    const stack = newStack();
    const param = new CfnParameter(stack, 'EnvId');
    new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [param.valueAsString] });
    const doc = onlyRole(stack).resource.Properties.AssumeRolePolicyDocument;
    expect(doc).toEqual(documentedTrustPolicy('654654156625', { Ref: 'EnvId' }));
  });

  test('several unresolved token ids give a warning', () => {
    const stack = newStack();
    const a = new CfnParameter(stack, 'A');
    const b = new CfnParameter(stack, 'B');
    new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [a.valueAsString, b.valueAsString] });
    Annotations.fromStack(stack).hasWarning('/Stack/Role', Match.stringLikeRegexp('unresolved tokens'));
  });

  test('no environment id: synth fails naming the fix', () => {
    const stack = newStack();
    new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [] });
    expect(() => Template.fromStack(stack)).toThrow(/trusts no environment.*trustEnvironment/);
  });

  test('a malformed environment id: synth fails naming it', () => {
    const stack = newStack();
    new RestateCloudInvokerRole(stack, 'Role', { environmentIds: ['ENV_ABC'] });
    expect(() => Template.fromStack(stack)).toThrow(/"ENV_ABC".*env_/);
  });
});

describe('permissions', () => {
  test('no Policies, no ManagedPolicyArns and no AWS::IAM::Policy until something is granted', () => {
    const stack = newStack();
    new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    const { resource } = onlyRole(stack);
    expect(resource.Properties.Policies).toBeUndefined();
    expect(resource.Properties.ManagedPolicyArns).toBeUndefined();
    expect(resourcesOfType(stack, 'AWS::IAM::Policy')).toEqual({});
    expect(resourcesOfType(stack, 'AWS::IAM::ManagedPolicy')).toEqual({});
  });

  test('the role has only the expected properties by default', () => {
    const stack = newStack();
    new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    const { resource } = onlyRole(stack);
    expect(Object.keys(resource.Properties).sort()).toEqual(['AssumeRolePolicyDocument', 'Description']);
    expect(resource.Properties.Description).toBe('Lets Restate Cloud invoke registered Lambda handlers');
  });
});

describe('iam.Role options pass through', () => {
  test('roleName, description, path, permissionsBoundary, maxSessionDuration', () => {
    const stack = newStack();
    const boundary = iam.ManagedPolicy.fromManagedPolicyArn(
      stack,
      'Boundary',
      'arn:aws:iam::111111111111:policy/boundary',
    );
    new RestateCloudInvokerRole(stack, 'Role', {
      environmentIds: [ENV_ID],
      roleName: 'restate-invoker',
      description: 'my description',
      path: '/restate/',
      permissionsBoundary: boundary,
      maxSessionDuration: Duration.hours(2),
    });
    const { resource } = onlyRole(stack);
    expect(resource.Properties).toEqual({
      AssumeRolePolicyDocument: documentedTrustPolicy('654654156625', ENV_ID),
      RoleName: 'restate-invoker',
      Description: 'my description',
      Path: '/restate/',
      PermissionsBoundary: 'arn:aws:iam::111111111111:policy/boundary',
      MaxSessionDuration: 7200,
    });
  });

  test('the role is an iam.Role and exposes its region', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID], region: RestateCloudRegion.EU });
    expect(role).toBeInstanceOf(iam.Role);
    expect(role.region).toBe(RestateCloudRegion.EU);
  });
});

describe('allowInvoke', () => {
  test('a version: exactly one lambda permission for the role on the version ARN, nothing else', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    const version = newFunction(stack).currentVersion;
    const permission = role.allowInvoke(version);
    expect(permission).toBeInstanceOf(lambda.CfnPermission);

    const permissions = Object.values(resourcesOfType(stack, 'AWS::Lambda::Permission'));
    expect(permissions).toHaveLength(1);
    expect(permissions[0].Properties).toEqual({
      Action: 'lambda:InvokeFunction',
      Principal: stack.resolve(role.roleArn),
      FunctionName: stack.resolve(version.functionArn),
    });
    // The version's ARN is the version resource's Ref, not the function's.
    const versionIds = Object.keys(resourcesOfType(stack, 'AWS::Lambda::Version'));
    expect(versionIds).toHaveLength(1);
    expect(permissions[0].Properties.FunctionName).toEqual({ Ref: versionIds[0] });
    expect(permissions[0].Properties.Principal).toEqual({ 'Fn::GetAtt': [roleResource(stack, role).logicalId, 'Arn'] });

    // Nothing lands in the role's identity policy.
    expect(resourcesOfType(stack, 'AWS::IAM::Policy')).toEqual({});
    expect(roleResource(stack, role).resource.Properties.Policies).toBeUndefined();
    expect(roleResource(stack, role).resource.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('grantInvoke, the deprecated name, is the same grant', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    const version = newFunction(stack).currentVersion;
    expect(role.grantInvoke(version)).toBe(role.allowInvoke(version));
    expect(Object.values(resourcesOfType(stack, 'AWS::Lambda::Permission'))).toHaveLength(1);
  });

  test('granting twice is idempotent', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    const version = newFunction(stack).currentVersion;
    const first = role.allowInvoke(version);
    const second = role.allowInvoke(version);
    expect(second).toBe(first);
    Template.fromStack(stack).resourceCountIs('AWS::Lambda::Permission', 1);
  });

  test('two roles granted on one version get one permission each', () => {
    const stack = newStack();
    const a = new RestateCloudInvokerRole(stack, 'A', { environmentIds: [ENV_ID] });
    const b = new RestateCloudInvokerRole(stack, 'B', { environmentIds: [ENV_ID_2] });
    const version = newFunction(stack).currentVersion;
    a.allowInvoke(version);
    b.allowInvoke(version);
    const principals = Object.values(resourcesOfType(stack, 'AWS::Lambda::Permission')).map((p) => p.Properties.Principal);
    expect(principals).toHaveLength(2);
    expect(principals).toEqual(expect.arrayContaining([stack.resolve(a.roleArn), stack.resolve(b.roleArn)]));
  });

  test('an alias: the permission targets the alias ARN', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    const fn = newFunction(stack);
    const alias = new lambda.Alias(stack, 'Live', { aliasName: 'live', version: fn.currentVersion });
    role.allowInvoke(alias);
    const permissions = Object.values(resourcesOfType(stack, 'AWS::Lambda::Permission'));
    expect(permissions).toHaveLength(1);
    expect(permissions[0].Properties).toEqual({
      Action: 'lambda:InvokeFunction',
      Principal: stack.resolve(role.roleArn),
      FunctionName: stack.resolve(alias.functionArn),
    });
    const aliasIds = Object.keys(resourcesOfType(stack, 'AWS::Lambda::Alias'));
    expect(aliasIds).toHaveLength(1);
    expect(permissions[0].Properties.FunctionName).toEqual({ Ref: aliasIds[0] });
    expect(resourcesOfType(stack, 'AWS::IAM::Policy')).toEqual({});
  });

  test('many handlers: the role policy stays empty', () => {
    const stack = newStack();
    const role = new RestateCloudInvokerRole(stack, 'Role', { environmentIds: [ENV_ID] });
    for (let i = 0; i < 25; i++) role.allowInvoke(newFunction(stack, `Fn${i}`).currentVersion);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Permission', 25);
    template.resourceCountIs('AWS::IAM::Policy', 0);
  });
});
