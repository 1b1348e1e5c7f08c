// Restate Cloud + services in private subnets, reached through Restate Cloud's tunnel: no load
// balancer, no public endpoint, no inbound rule from the internet.
//
// - Greeter: a plain Restate SDK service (HTTP/2 on port 9080) behind the tunnel client, which
//   runs as its own ECS service (RestateCloudTunnel) and forwards to greeter.restate.internal.
// - Counter: a service that holds its own tunnel (@restatedev/restate-sdk-tunnel, connectTunnel),
//   wired by RestateInProcessTunnel; it needs no tunnel client at all.
//
// `cdk synth` needs no AWS credentials: the stack is environment-agnostic and looks nothing up.
// Settings come from cdk.json's context (override them with `-c tunnelName=...`).
import {
  App,
  CfnOutput,
  Duration,
  IPolicyValidationContext,
  IPolicyValidationPlugin,
  PolicyValidationPluginReport,
  Stack,
  StackProps,
  Validations,
} from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks, NagPack } from 'cdk-nag';
import { Construct } from 'constructs';
import {
  RestateCloudEnvironment,
  RestateCloudTunnel,
  RestateInProcessTunnel,
  RestateRequestIdentity,
  ServiceDeployer,
} from 'restate-cloud-cdk';

export class RestatePrivateServiceExampleStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // The environment's request-signing key: the tunnel accepts only requests signed with it.
    const environment = new RestateCloudEnvironment(this, 'Restate', {
      environmentId: this.node.getContext('environmentId'),
      apiKey: secretsmanager.Secret.fromSecretNameV2(this, 'ApiKey', this.node.getContext('apiKeySecretName')),
      requestSigningPublicKeys: this.node.getContext('requestSigningPublicKeys'),
    });

    // Private subnets in two Availability Zones; one NAT gateway for the tunnels' outbound
    // connections to Restate Cloud (and for pulling images).
    const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 1 });
    vpc.addFlowLog('FlowLog');
    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      defaultCloudMapNamespace: { name: 'restate.internal' },
    });

    // --- Greeter, behind the tunnel client ------------------------------------------------
    const greeterTask = new ecs.FargateTaskDefinition(this, 'GreeterTask', {
      cpu: 256,
      memoryLimitMiB: 512,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    const greeterContainer = greeterTask.addContainer('Greeter', {
      image: ecs.ContainerImage.fromRegistry(this.node.getContext('greeterImage')),
      portMappings: [{ containerPort: 9080 }],
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: 'greeter',
        logGroup: new logs.LogGroup(this, 'GreeterLogs', { retention: logs.RetentionDays.ONE_MONTH }),
      }),
    });
    // Defence in depth: the service too accepts only requests signed by the environment.
    RestateRequestIdentity.addToContainer(greeterContainer, environment);
    const greeter = new ecs.FargateService(this, 'Greeter', {
      cluster,
      taskDefinition: greeterTask,
      desiredCount: 2,
      minHealthyPercent: 100,
      circuitBreaker: { rollback: true },
      // greeter.restate.internal: the host the tunnel forwards to.
      cloudMapOptions: { name: 'greeter' },
    });

    // The tunnel client: two tasks, outbound only. Only it may reach the Greeter's port.
    const tunnel = new RestateCloudTunnel(this, 'Tunnel', {
      environment,
      tunnelName: this.node.getContext('tunnelName'),
      cluster,
    });
    greeter.connections.allowFrom(tunnel, ec2.Port.tcp(9080), 'Restate Cloud, through the tunnel');

    const deployer = new ServiceDeployer(this, 'ServiceDeployer');
    // https://tunnel.us.restate.cloud:9080/<env id>/<tunnel name>/http/greeter.restate.internal/9080/,
    // registered once the tunnel is deployed; discovery is retried while it connects.
    const greeterRegistration = tunnel.register(deployer, 'greeter.restate.internal', 9080, { expectedServices: ['Greeter'] });
    greeterRegistration.node.addDependency(greeter);

    // --- Counter, with its own in-process tunnel --------------------------------------------
    // One tunnel name per deployment: change counterVersion with each release of its code.
    const counterTunnel = new RestateInProcessTunnel({
      environment,
      tunnelName: `counter-${this.node.getContext('counterVersion')}`,
    });
    const counterTask = new ecs.FargateTaskDefinition(this, 'CounterTask', {
      cpu: 256,
      memoryLimitMiB: 512,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    const counterContainer = counterTask.addContainer('Counter', {
      image: ecs.ContainerImage.fromRegistry(this.node.getContext('counterImage')),
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: 'counter',
        logGroup: new logs.LogGroup(this, 'CounterLogs', { retention: logs.RetentionDays.ONE_MONTH }),
      }),
      // Fargate's longest: the SDK drains in-flight invocations on SIGTERM (drainGraceMs, set it
      // below this).
      stopTimeout: Duration.seconds(120),
    });
    // RESTATE_INPROC_* and the API key (RESTATE_AUTH_TOKEN, an ECS secret): the service calls
    // connectTunnel({ services: [counter], authToken: process.env.RESTATE_AUTH_TOKEN }).
    counterTunnel.addToContainer(counterContainer);
    const counterSecurityGroup = new ec2.SecurityGroup(this, 'CounterSecurityGroup', {
      vpc,
      description: 'Counter: no inbound rules; its tunnel connects out to Restate Cloud',
      allowAllOutbound: true,
    });
    const counter = new ecs.FargateService(this, 'Counter', {
      cluster,
      taskDefinition: counterTask,
      desiredCount: 2,
      minHealthyPercent: 100,
      circuitBreaker: { rollback: true },
      securityGroups: [counterSecurityGroup],
    });
    const counterRegistration = counterTunnel.register(deployer, counter, { expectedServices: ['Counter'] });

    new CfnOutput(this, 'GreeterDeploymentId', { value: greeterRegistration.deploymentId });
    new CfnOutput(this, 'CounterDeploymentId', { value: counterRegistration.deploymentId });
    new CfnOutput(this, 'GreeterUrl', { value: tunnel.urlFor('greeter.restate.internal', 9080) });
    new CfnOutput(this, 'CounterUrl', { value: counterTunnel.deploymentUrl });
    new CfnOutput(this, 'IngressUrl', { value: environment.ingressUrl });

    // Findings on this example's own resources that are intended, each with its reason.
    Validations.of(greeterTask).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The only environment variable is RESTATE_IDENTITY_KEYS: public request-signing keys, not secrets.',
    });
    Validations.of(counterTask).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The environment variables are RESTATE_INPROC_* (tunnel name, environment id, region, public signing key); the API key is an ECS secret.',
    });
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
new RestatePrivateServiceExampleStack(app, 'RestatePrivateServiceExample', {
  description: 'restate-cloud-cdk example: Restate Cloud + private services reached through the tunnel',
});
// Any unacknowledged AwsSolutions finding fails `cdk synth`.
Validations.of(app).addPlugins(new NagChecks(app, new AwsSolutionsChecks(app, { verbose: true })));
