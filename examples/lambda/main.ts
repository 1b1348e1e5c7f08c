// Restate Cloud + one Lambda handler.
//
// `cdk synth` needs no AWS credentials: the stack is environment-agnostic and looks nothing up.
// Settings come from cdk.json's context (override them with `-c environmentId=env_...`):
//   environmentId     the Restate Cloud environment id, env_...
//   apiKeySecretName  the Secrets Manager secret that holds the Restate Cloud API key
//   restateRegion     us or eu
//   removalPolicy     retain (keep the Restate deployment when the registration goes away) or destroy
//   handlerDir        the directory with the bundled handler (./handler holds a placeholder)
//   stackName         (optional) the CloudFormation stack name
import {
  App,
  CfnOutput,
  Duration,
  IPolicyValidationContext,
  IPolicyValidationPlugin,
  PolicyValidationPluginReport,
  RemovalPolicy,
  Stack,
  StackProps,
  Validations,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks, NagPack } from 'cdk-nag';
import { Construct } from 'constructs';
import { RestateCloudEnvironment, RestateCloudRegion, ServiceDeployer } from 'restate-cloud-cdk';

export class RestateLambdaExampleStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    let region = RestateCloudRegion.US;
    if (this.node.getContext('restateRegion') === 'eu') {
      region = RestateCloudRegion.EU;
    }
    let removalPolicy = RemovalPolicy.RETAIN;
    if (this.node.getContext('removalPolicy') === 'destroy') {
      removalPolicy = RemovalPolicy.DESTROY;
    }

    // The environment is created in the Restate Cloud UI; its API key (with a role that may
    // manage deployments) is stored in Secrets Manager under this name.
    const environment = new RestateCloudEnvironment(this, 'Restate', {
      environmentId: this.node.getContext('environmentId'),
      apiKey: secretsmanager.Secret.fromSecretNameV2(this, 'ApiKey', this.node.getContext('apiKeySecretName')),
      region,
    });

    // The handler: your Restate service bundled into one file (see service/greeter.ts and the
    // README). Its role may write its own log group and nothing else.
    const logGroup = new logs.LogGroup(this, 'GreeterLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'GreeterRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    const greeter = new lambda.Function(this, 'Greeter', {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(this.node.getContext('handlerDir')), // relative to this directory
      timeout: Duration.seconds(30),
      role,
      logGroup,
      // A retained Restate deployment keeps its version: invocations in flight stay pinned to it.
      currentVersionOptions: { removalPolicy },
    });

    // Register a specific version (never $LATEST): the environment's invoker role is granted
    // lambda:InvokeFunction on exactly this version.
    const deployer = new ServiceDeployer(this, 'ServiceDeployer');
    const registration = deployer.register(greeter.currentVersion, environment, {
      expectedServices: ['Greeter'],
      removalPolicy,
    });

    new CfnOutput(this, 'DeploymentId', { value: registration.deploymentId });
    new CfnOutput(this, 'ServiceNames', { value: registration.serviceNames });
    new CfnOutput(this, 'HandlerArn', { value: greeter.currentVersion.functionArn });
    new CfnOutput(this, 'IngressUrl', { value: environment.ingressUrl });
    new CfnOutput(this, 'InvokerRoleArn', { value: environment.invokerRole!.roleArn });
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
new RestateLambdaExampleStack(app, 'RestateLambdaExample', {
  stackName: app.node.tryGetContext('stackName'),
  description: 'restate-cloud-cdk example: Restate Cloud environment + one Lambda handler',
});
// Any unacknowledged AwsSolutions finding fails `cdk synth`.
Validations.of(app).addPlugins(new NagChecks(app, new AwsSolutionsChecks(app, { verbose: true })));
