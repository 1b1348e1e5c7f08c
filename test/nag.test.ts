import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { RestateCloudEnvironment, RestateCloudTunnel, RestateInProcessTunnel, ServiceDeployer } from '../src';

/** The library acknowledges cdk-nag findings on what it creates, so its users need not. */
function findings(withVpc: boolean): string[] {
  const app = new App();
  const stack = new Stack(app, 'Stack');
  const environment = new RestateCloudEnvironment(stack, 'Restate', {
    environmentId: 'env_201hy10cd3h6426jy80tb32n6en',
    apiKey: secretsmanager.Secret.fromSecretNameV2(stack, 'ApiKey', 'restate/api-key'),
  });
  // Imported: the stack then holds only what the library creates.
  const vpc = withVpc
    ? ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['us-east-1a'],
      privateSubnetIds: ['subnet-0123456789abcdef0'],
      privateSubnetRouteTableIds: ['rtb-0123456789abcdef0'],
    })
    : undefined;
  const deployer = new ServiceDeployer(stack, 'Deployer', { vpc });
  const version = lambda.Version.fromVersionArn(stack, 'Greeter', 'arn:aws:lambda:us-east-1:123456789012:function:greeter:3');
  deployer.register(version, environment);
  app.synth();
  const report = new AwsSolutionsChecks().validateScope(stack);
  return report.violations.map((v) => v.ruleName);
}

test('the deployer and invoker role raise no unacknowledged AwsSolutions finding', () => {
  expect(findings(false)).toEqual([]);
});

test('in a VPC, the managed ENI policy is acknowledged too', () => {
  expect(findings(true)).toEqual([]);
});

test("environment, deployer and handler in three stacks: the grant made from the handler's stack is acknowledged there", () => {
  const app = new App();
  const platform = new Stack(app, 'Platform');
  const environment = new RestateCloudEnvironment(platform, 'Restate', {
    environmentId: 'env_201hy10cd3h6426jy80tb32n6en',
    apiKey: secretsmanager.Secret.fromSecretNameV2(platform, 'ApiKey', 'restate/api-key'),
  });
  const deployer = new ServiceDeployer(new Stack(app, 'Deployers'), 'Deployer');
  const service = new Stack(app, 'Service');
  deployer.register(lambda.Version.fromVersionArn(service, 'Greeter', 'arn:aws:lambda:us-east-1:123456789012:function:greeter:3'), environment);
  app.synth();
  const report = new AwsSolutionsChecks().validateScope(app);
  expect(report.violations.map((v) => v.ruleName)).toEqual([]);
});

test('a tunnel (its own cluster, task definition, roles, log group) raises no unacknowledged finding; an in-process container leaves only ECS2 on the user\'s task definition', () => {
  const app = new App();
  const stack = new Stack(app, 'Stack');
  const environment = new RestateCloudEnvironment(stack, 'Restate', {
    environmentId: 'env_201hy10cd3h6426jy80tb32n6en',
    apiKey: secretsmanager.Secret.fromSecretNameV2(stack, 'ApiKey', 'restate/api-key'),
    requestSigningPublicKeys: ['publickeyv1_73SG4ZRmRySfQZiRcP3fkyAFXEpfe3MZD2AhimecM9Lc'],
  });
  // Imported: the stack then holds only what the library creates (and the in-process service).
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
    privateSubnetRouteTableIds: ['rtb-0123456789abcdef0', 'rtb-0123456789abcdef1'],
  });
  const deployer = new ServiceDeployer(stack, 'Deployer');
  const tunnel = new RestateCloudTunnel(stack, 'Tunnel', { environment, tunnelName: 'prod-vpc', vpc });
  tunnel.register(deployer, 'greeter.restate.internal', 9080);

  // The in-process container's task definition is the user's; only its logging is set here.
  const task = new ecs.FargateTaskDefinition(stack, 'Greeter');
  const container = task.addContainer('App', {
    image: ecs.ContainerImage.fromRegistry('example/greeter:1'),
    logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'greeter' }),
  });
  const inProcess = new RestateInProcessTunnel({ environment, tunnelName: 'greeter-v1' });
  inProcess.addToContainer(container);
  app.synth();
  const report = new AwsSolutionsChecks().validateScope(stack);
  // ECS2 (environment variables) is the user's to acknowledge on their own task definition.
  expect(report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(',')}`)).toEqual([
    expect.stringMatching(/^AwsSolutions-ECS2 .*Stack\/Greeter/),
  ]);
});
