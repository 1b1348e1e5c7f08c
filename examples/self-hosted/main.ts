// A self-hosted Restate environment, reachable only inside a VPC, with one Lambda handler and
// one HTTP service registered with it.
//
// `cdk synth` needs no AWS credentials: the stack is environment-agnostic and looks nothing up
// (the VPC is described by its attributes). Settings come from cdk.json's context.
import {
  App,
  CfnOutput,
  Duration,
  RemovalPolicy,
  IPolicyValidationContext,
  IPolicyValidationPlugin,
  PolicyValidationPluginReport,
  Stack,
  StackProps,
  Validations,
} from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks, NagPack } from 'cdk-nag';
import { Construct } from 'constructs';
import { RestateEnvironment, ServiceDeployer } from 'restate-cloud-cdk';

export class RestateSelfHostedExampleStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // The role Restate assumes to invoke Lambda handlers: it trusts the role the restate-server
    // runs with (e.g. its ECS task role or EC2 instance role), and may invoke only what is
    // registered below.
    const invokerRole = new iam.Role(this, 'InvokerRole', {
      assumedBy: new iam.ArnPrincipal(this.node.getContext('restateServerRoleArn')),
      description: 'Lets the self-hosted restate-server invoke registered Lambda handlers',
    });

    // The environment, described by its admin URL. The token is optional: send one when the
    // admin API sits behind something that checks `Authorization: Bearer ...`.
    const environment = RestateEnvironment.fromAttributes({
      adminUrl: this.node.getContext('adminUrl'),
      authToken: secretsmanager.Secret.fromSecretNameV2(this, 'AdminToken', this.node.getContext('adminTokenSecretName')),
      invokerRole,
    });

    // The admin API is reachable only inside the VPC, so the deployer runs there.
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: this.node.getContext('vpcId'),
      availabilityZones: this.node.getContext('availabilityZones'),
      privateSubnetIds: this.node.getContext('privateSubnetIds'),
      privateSubnetRouteTableIds: this.node.getContext('privateSubnetRouteTableIds'),
    });
    const deployer = new ServiceDeployer(this, 'ServiceDeployer', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    });

    // A Lambda handler (inline placeholder code: put your bundled Restate service here).
    const logGroup = new logs.LogGroup(this, 'GreeterLogs', { retention: logs.RetentionDays.ONE_MONTH });
    const role = new iam.Role(this, 'GreeterRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    const greeter = new lambda.Function(this, 'Greeter', {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromInline(
        "exports.handler = async () => { throw new Error('placeholder: deploy your Restate service here'); };",
      ),
      timeout: Duration.seconds(30),
      role,
      logGroup,
      // The Restate deployment is retained (the default): keep its version for invocations in flight.
      currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
    });
    const lambdaRegistration = deployer.register(greeter.currentVersion, environment, {
      expectedServices: ['Greeter'],
    });

    // An HTTP service inside the VPC. A self-hosted environment does not require HTTPS.
    const httpRegistration = deployer.registerHttp(this.node.getContext('serviceUrl'), environment, {
      expectedServices: ['Checkout'],
    });

    new CfnOutput(this, 'LambdaDeploymentId', { value: lambdaRegistration.deploymentId });
    new CfnOutput(this, 'HttpDeploymentId', { value: httpRegistration.deploymentId });
    new CfnOutput(this, 'InvokerRoleArn', { value: invokerRole.roleArn });
  }
}

/**
 * Runs a cdk-nag pack as a policy-validation plugin. cdk-nag 3.0.2 expects the construct tree
 * on the validation context, which aws-cdk-lib 2.257 does not pass yet: this hands it over.
 */
class NagChecks implements IPolicyValidationPlugin {
  public readonly name: string;
  private readonly app: App;
  private readonly pack: NagPack;

  constructor(app: App, pack: NagPack) {
    this.name = pack.name;
    this.app = app;
    this.pack = pack;
  }

  public validate(_context: IPolicyValidationContext): PolicyValidationPluginReport {
    return this.pack.validateScope(this.app);
  }
}

const app = new App({
  // The aws-cdk CLI asks apps not to fail on validation errors and reads the report itself, from
  // a file aws-cdk-lib 2.257 does not write yet: without this, findings would pass silently.
  postCliContext: { '@aws-cdk/core:failSynthOnValidationErrors': true },
});
new RestateSelfHostedExampleStack(app, 'RestateSelfHostedExample', {
  description: 'restate-cloud-cdk example: a self-hosted Restate environment with a Lambda handler and an HTTP service',
});
// Any unacknowledged AwsSolutions finding fails `cdk synth`.
Validations.of(app).addPlugins(new NagChecks(app, new AwsSolutionsChecks(app, { verbose: true })));
