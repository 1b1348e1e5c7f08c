import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { RestateCloudEnvironment, ServiceDeployer } from '../src';

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
