// Restate Cloud + an HTTPS service on ECS Fargate behind an Application Load Balancer.
//
// `cdk synth` needs no AWS credentials: the stack names its region (load balancer access logs and
// the certificate are regional) but no account, and looks nothing up. Settings come from
// cdk.json's context (override them with `-c domainName=...`).
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
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as ecsPatterns from 'aws-cdk-lib/aws-ecs-patterns';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks, NagPack } from 'cdk-nag';
import { Construct } from 'constructs';
import { RestateCloudEnvironment, RestateRequestIdentity, ServiceDeployer } from 'restate-cloud-cdk';

export class RestateHttpServiceExampleStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const domainName: string = this.node.getContext('domainName');
    const requestSigningPublicKeys: string[] = this.node.getContext('requestSigningPublicKeys');

    const environment = new RestateCloudEnvironment(this, 'Restate', {
      environmentId: this.node.getContext('environmentId'),
      apiKey: secretsmanager.Secret.fromSecretNameV2(this, 'ApiKey', this.node.getContext('apiKeySecretName')),
      requestSigningPublicKeys,
    });

    // Network: public subnets only, so that the example needs no NAT gateway; the tasks accept
    // traffic from the load balancer only. Production setups put the tasks in private subnets.
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
    });
    vpc.addFlowLog('FlowLog');
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });

    // The service: a Restate SDK endpoint listening on port 9080, from a public registry.
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: this.node.getContext('hostedZoneId'),
      zoneName: this.node.getContext('zoneName'),
    });
    const service = new ecsPatterns.ApplicationLoadBalancedFargateService(this, 'Greeter', {
      cluster,
      cpu: 256,
      memoryLimitMiB: 512,
      desiredCount: 1,
      minHealthyPercent: 100,
      assignPublicIp: true,
      taskSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      taskImageOptions: {
        image: ecs.ContainerImage.fromRegistry(this.node.getContext('image')),
        containerPort: 9080,
        logDriver: ecs.LogDrivers.awsLogs({
          streamPrefix: 'greeter',
          logGroup: new logs.LogGroup(this, 'GreeterLogs', { retention: logs.RetentionDays.ONE_MONTH }),
        }),
      },
      // HTTPS from Restate Cloud to the load balancer; HTTP/1.1 from the load balancer to the
      // tasks (hence `useHttp11` below).
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', this.node.getContext('certificateArn')),
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      domainName,
      domainZone: zone,
      publicLoadBalancer: true,
      circuitBreaker: { rollback: true },
    });
    service.targetGroup.configureHealthCheck({ path: '/health', healthyHttpCodes: '200' });
    service.targetGroup.setAttribute('deregistration_delay.timeout_seconds', '30');

    // Load balancer access logs.
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    service.loadBalancer.logAccessLogs(accessLogs, 'greeter-alb');

    // Only Restate should call the service: with the environment's request-signing keys, the
    // service (SDK `withIdentityV1`) rejects requests that do not come from the environment.
    if (requestSigningPublicKeys.length > 0) {
      RestateRequestIdentity.addToContainer(service.taskDefinition.defaultContainer!, environment);
    }

    // Register the endpoint once the service (and its DNS record) is up.
    const deployer = new ServiceDeployer(this, 'ServiceDeployer');
    const registration = deployer.registerHttp(`https://${domainName}`, environment, {
      useHttp11: true,
      expectedServices: ['Greeter'],
    });
    registration.node.addDependency(service);

    new CfnOutput(this, 'DeploymentId', { value: registration.deploymentId });
    new CfnOutput(this, 'ServiceNames', { value: registration.serviceNames });
    new CfnOutput(this, 'ServiceUrl', { value: `https://${domainName}` });
    new CfnOutput(this, 'IngressUrl', { value: environment.ingressUrl });

    // Findings on this example's own resources that are intended, each with its reason.
    Validations.of(service.loadBalancer).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: 'Restate Cloud calls the service over the public internet; the listener accepts HTTPS (443) only.',
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket holds the load balancer access logs; logging access to it would need yet another bucket.',
    });
    Validations.of(service.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The only environment variable is RESTATE_IDENTITY_KEYS: public request-signing keys, not secrets.',
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
new RestateHttpServiceExampleStack(app, 'RestateHttpServiceExample', {
  env: { region: app.node.getContext('region') },
  description: 'restate-cloud-cdk example: Restate Cloud + an HTTPS service behind an Application Load Balancer',
});
// Any unacknowledged AwsSolutions finding fails `cdk synth`.
Validations.of(app).addPlugins(new NagChecks(app, new AwsSolutionsChecks(app, { verbose: true })));
