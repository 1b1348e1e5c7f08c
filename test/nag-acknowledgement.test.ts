/**
 * cdk-nag acknowledgements across aws-cdk-lib versions (issue 18): from 2.257 (cdk-nag 3.x) only
 * `Validations` metadata, templates unchanged; below 2.257, where users run cdk-nag 2.x, also
 * cdk-nag 2.x's `cdk_nag` template metadata on the resources concerned. The version is read from
 * aws-cdk-lib's jsii type information, which these tests set; scripts/check-min-cdk.sh runs them,
 * and cdk-nag 2.x over an example app, on the real minimum release too.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { InvokeGrant, RestateCloudEnvironment, RestateCloudTunnel, ServiceDeployer } from '../src';
import { asVersion } from './support/as-version';

interface Suppression { id: string; reason: string; applies_to?: string[] }
type Resources = Record<string, { Type: string; Metadata?: { cdk_nag?: { rules_to_suppress: Suppression[] } } }>;

/** A deployer in a VPC granting invokes itself (L1, IAM4, IAM5) and a tunnel (ECS2, and ECS4 for a cluster of its own). */
function synth(options: { userCluster?: boolean } = {}): Resources {
  const app = new App();
  const stack = new Stack(app, 'Stack');
  const environment = new RestateCloudEnvironment(stack, 'Restate', {
    environmentId: 'env_201hy10cd3h6426jy80tb32n6en',
    apiKey: secretsmanager.Secret.fromSecretNameV2(stack, 'ApiKey', 'restate/api-key'),
    requestSigningPublicKeys: ['publickeyv1_73SG4ZRmRySfQZiRcP3fkyAFXEpfe3MZD2AhimecM9Lc'],
  });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
    privateSubnetRouteTableIds: ['rtb-0123456789abcdef0', 'rtb-0123456789abcdef1'],
  });
  const deployer = new ServiceDeployer(stack, 'Deployer', { vpc, invokeGrant: InvokeGrant.DEPLOYER });
  for (const version of ['3', '4']) {
    deployer.register(lambda.Version.fromVersionArn(stack, `Greeter${version}`, `arn:aws:lambda:us-east-1:123456789012:function:greeter:${version}`), environment);
  }
  const cluster = options.userCluster ? new ecs.Cluster(stack, 'Cluster', { vpc }) : undefined;
  const tunnel = new RestateCloudTunnel(stack, 'Tunnel', { environment, tunnelName: 'prod-vpc', ...(cluster ? { cluster } : { vpc }) });
  tunnel.register(deployer, 'greeter.restate.internal', 9080);
  return Template.fromStack(stack).toJSON().Resources as Resources;
}

/** `Type: [suppression, ...]` for each resource that carries cdk_nag metadata. */
function suppressions(resources: Resources): string[] {
  return Object.values(resources)
    .filter((r) => r.Metadata?.cdk_nag)
    .flatMap((r) => r.Metadata!.cdk_nag!.rules_to_suppress.map((s) => `${r.Type} ${s.id}${s.applies_to ? ` ${s.applies_to.join(',')}` : ''}`))
    .sort();
}

test('from aws-cdk-lib 2.257 (cdk-nag 3.x): no cdk_nag template metadata, templates as before', () => {
  expect(suppressions(asVersion('2.257.0', synth))).toEqual([]);
});

test('below aws-cdk-lib 2.257 (cdk-nag 2.x): each acknowledgement is cdk_nag metadata on the resources concerned, findings as applies_to', () => {
  const found = suppressions(asVersion('2.168.0', synth));
  expect(found).toEqual(expect.arrayContaining([
    'AWS::Lambda::Function AwsSolutions-L1',
    'AWS::IAM::Role AwsSolutions-IAM4 Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole',
    'AWS::IAM::Policy AwsSolutions-IAM5 Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:*:*',
    'AWS::ECS::TaskDefinition AwsSolutions-ECS2',
    'AWS::ECS::Cluster AwsSolutions-ECS4',
  ]));
  // Each rule once per resource, however many registrations share the grant.
  const perResource = Object.values(asVersion('2.168.0', synth))
    .map((r) => (r.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((s) => JSON.stringify(s)));
  for (const rules of perResource) expect(new Set(rules).size).toBe(rules.length);
});

test('every acknowledgement gives its reason, at least the 10 characters cdk-nag asks for', () => {
  const rules = Object.values(asVersion('2.168.0', synth)).flatMap((r) => r.Metadata?.cdk_nag?.rules_to_suppress ?? []);
  expect(rules.length).toBeGreaterThanOrEqual(5);
  for (const rule of rules) expect(rule.reason.length).toBeGreaterThanOrEqual(10);
});

test('a cluster the user passes keeps its findings: the tunnel acknowledges ECS4 only on a cluster of its own', () => {
  const found = suppressions(asVersion('2.168.0', () => synth({ userCluster: true })));
  expect(found).toContain('AWS::ECS::TaskDefinition AwsSolutions-ECS2');
  expect(found).not.toContain('AWS::ECS::Cluster AwsSolutions-ECS4');
});

test('a deployer outside a VPC acknowledges no VPC access policy: it has none', () => {
  const found = suppressions(asVersion('2.168.0', () => {
    const stack = new Stack(new App(), 'Stack');
    new ServiceDeployer(stack, 'Deployer');
    return Template.fromStack(stack).toJSON().Resources as Resources;
  }));
  expect(found).toEqual(['AWS::Lambda::Function AwsSolutions-L1']);
});
