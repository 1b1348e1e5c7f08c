// The example app at the minimum supported aws-cdk-lib (scripts/check-min-cdk.sh runs it): what
// examples/lambda, examples/self-hosted and a tunnel deploy, written against the APIs of that
// release, with cdk-nag 2.x (cdk-nag 3.x needs aws-cdk-lib >= 2.257) as an aspect, so that
// `cdk synth` fails on any AwsSolutions finding nobody acknowledged. Plain JavaScript: it must not
// be type-checked against the aws-cdk-lib and cdk-nag this repository develops with.
const { App, Aspects, CfnOutput, Duration, RemovalPolicy, Stack } = require('aws-cdk-lib');
const ec2 = require('aws-cdk-lib/aws-ec2');
const iam = require('aws-cdk-lib/aws-iam');
const lambda = require('aws-cdk-lib/aws-lambda');
const logs = require('aws-cdk-lib/aws-logs');
const secretsmanager = require('aws-cdk-lib/aws-secretsmanager');
const { AwsSolutionsChecks } = require('cdk-nag');
const { InvokeGrant, RestateCloudEnvironment, RestateCloudTunnel, ServiceDeployer } = require('restate-cloud-cdk');

class RestateMinCdkExampleStack extends Stack {
  constructor(scope, id, props) {
    super(scope, id, props);
    const environment = new RestateCloudEnvironment(this, 'Restate', {
      environmentId: 'env_201hy10cd3h6426jy80tb32n6en',
      apiKey: secretsmanager.Secret.fromSecretNameV2(this, 'ApiKey', 'restate/api-key'),
      requestSigningPublicKeys: ['publickeyv1_73SG4ZRmRySfQZiRcP3fkyAFXEpfe3MZD2AhimecM9Lc'],
    });

    // A Lambda handler with its own role and log group (examples/lambda).
    const logGroup = new logs.LogGroup(this, 'GreeterLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const role = new iam.Role(this, 'GreeterRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    const greeter = new lambda.Function(this, 'Greeter', {
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromInline("exports.handler = async () => { throw new Error('placeholder'); };"),
      timeout: Duration.seconds(30),
      role,
      logGroup,
      currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
    });
    const deployer = new ServiceDeployer(this, 'ServiceDeployer');
    const registration = deployer.register(greeter.currentVersion, environment, { expectedServices: ['Greeter'] });

    // A deployer inside a VPC that grants invokes itself (examples/self-hosted): the VPC policy
    // and the function:*:* statement it acknowledges.
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      privateSubnetRouteTableIds: ['rtb-0123456789abcdef0', 'rtb-0123456789abcdef1'],
    });
    const vpcDeployer = new ServiceDeployer(this, 'VpcServiceDeployer', { vpc, invokeGrant: InvokeGrant.DEPLOYER });
    const alias = new lambda.Alias(this, 'Live', { aliasName: 'live', version: greeter.currentVersion });
    vpcDeployer.register(alias, environment, { expectedServices: ['Greeter'], removalPolicy: RemovalPolicy.DESTROY });

    // An HTTPS service (examples/http-service).
    deployer.registerHttp('https://checkout.example.com', environment, { expectedServices: ['Checkout'] });

    // A service in private subnets, reached through the tunnel client on ECS Fargate.
    const tunnel = new RestateCloudTunnel(this, 'Tunnel', { environment, tunnelName: 'prod-vpc', vpc });
    const httpRegistration = tunnel.register(deployer, 'ledger.restate.internal', 9080, { expectedServices: ['Ledger'] });

    new CfnOutput(this, 'DeploymentId', { value: registration.deploymentId });
    new CfnOutput(this, 'HttpDeploymentId', { value: httpRegistration.deploymentId });
  }
}

const app = new App();
new RestateMinCdkExampleStack(app, 'RestateMinCdkExample', {
  description: 'restate-cloud-cdk at the minimum supported aws-cdk-lib',
});
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
