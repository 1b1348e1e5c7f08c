import { Annotations, Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { RestateCloudEnvironment } from './cloud-environment';
import { acknowledgeFindings } from './nag-acknowledgement';
import { ServiceDeployer } from './service-deployer';
import { HttpRegistrationOptions } from './service-deployer-options';
import { ServiceRegistration } from './service-registration';
import { apiKeySecretOf, signingPublicKeyOf } from './tunnel-identity';
import { registerThroughTunnel } from './tunnel-registration';
import { tunnelEndpointUrl, tunnelServerUrl, validateDestination, validateTunnelName } from './tunnel-url';

/** Fargate stops a task at most 120 s after SIGTERM; the client must finish draining before. */
const MAX_STOP_TIMEOUT_SECONDS = 120;
/** Time left after the drain for the client to close its connections and exit. */
const EXIT_MARGIN_SECONDS = 10;

/**
 * Properties of a `RestateCloudTunnel`.
 */
export interface RestateCloudTunnelProps {
  /**
   * The Restate Cloud environment the tunnel connects to. Its API key (a key with the Full role)
   * authenticates the tunnel; its request-signing public key lets the tunnel accept only requests
   * from the environment.
   */
  readonly environment: RestateCloudEnvironment;

  /**
   * The tunnel's name: lowercase letters, digits and hyphens, e.g. `prod-vpc`. It is part of every
   * registration URL through this tunnel; all tasks of the tunnel share it.
   */
  readonly tunnelName: string;

  /**
   * The VPC to run the tunnel client in. Required unless `cluster` is given.
   *
   * @default - the cluster's VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * The ECS cluster to run the tunnel client in.
   *
   * @default - a cluster is created in `vpc`
   */
  readonly cluster?: ecs.ICluster;

  /**
   * Where in the VPC the tasks run. The client needs outbound internet access (through NAT, or a
   * public IP with `assignPublicIp`) to reach Restate Cloud, and must reach the services it serves.
   *
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Give the tasks public IP addresses (for public subnets without NAT). Inbound traffic is still
   * refused: the security group has no inbound rules.
   *
   * @default false
   */
  readonly assignPublicIp?: boolean;

  /**
   * Security groups of the tasks.
   *
   * @default - one security group without inbound rules, allowing all outbound traffic (the tunnel
   * servers' port comes from a DNS SRV record, and the destinations are the services you register)
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * The request-signing public key (`publickeyv1_...`) the tunnel verifies requests with.
   *
   * @default - the environment's request-signing public key (it must have exactly one)
   */
  readonly signingPublicKey?: string;

  /**
   * The tunnel client's container image.
   *
   * @default - ecs.ContainerImage.fromRegistry(RestateCloudTunnel.DEFAULT_IMAGE)
   */
  readonly image?: ecs.ContainerImage;

  /**
   * The CPU architecture of the tasks; the default image is published for both.
   *
   * @default ecs.CpuArchitecture.ARM64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;

  /**
   * How many tasks run the tunnel. ECS spreads them over the subnets' Availability Zones.
   *
   * @default 2
   */
  readonly desiredCount?: number;

  /**
   * CPU units of a task (1024 = 1 vCPU).
   *
   * @default 1024
   */
  readonly cpu?: number;

  /**
   * Memory of a task, in MiB; must suit `cpu` (Fargate's valid combinations).
   *
   * @default 2048
   */
  readonly memoryLimitMiB?: number;

  /**
   * Also serve the environment's ingress (port 8080) and admin API (port 9070) inside the VPC,
   * without authentication: whoever reaches those ports acts with the API key. No inbound rule
   * is added for them; allow callers through `connections` yourself.
   *
   * @default false
   */
  readonly remoteProxy?: boolean;

  /**
   * How long a stopping task keeps serving in-flight requests (`RESTATE_SHUTDOWN_TIMEOUT`). At
   * most 110 seconds: Fargate kills a task at most 120 seconds after asking it to stop, and the
   * client needs a moment to exit.
   *
   * @default Duration.seconds(110)
   */
  readonly drainTimeout?: Duration;

  /**
   * How long the tunnel client's logs are kept (ignored with `logGroup`).
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The log group the tunnel client writes its JSON logs to.
   *
   * @default - a log group kept for `logRetention`, removed with the stack
   */
  readonly logGroup?: logs.ILogGroup;

  /**
   * The base URL of registration URLs through this tunnel. Only for tests with a stand-in of the
   * tunnel server (or a self-hosted tunnel server): the tunnel client itself always connects to
   * the environment's region.
   *
   * @default - `https://tunnel.<region>.restate.cloud:9080`
   */
  readonly tunnelServerUrl?: string;
}

/**
 * Options of a URL through a tunnel.
 */
export interface TunnelUrlOptions {
  /**
   * The tunnel reaches the service over HTTPS (verifying its certificate) instead of plain HTTP.
   * Over plain HTTP the tunnel speaks HTTP/2 without TLS, unless the registration sets
   * `useHttp11`.
   *
   * @default false
   */
  readonly https?: boolean;
}

/**
 * Options of a registration through a tunnel. `discoveryRetryTimeout` defaults to three minutes
 * here: the tunnel connects shortly after its ECS service counts as deployed.
 */
export interface TunnelRegistrationOptions extends HttpRegistrationOptions, TunnelUrlOptions {}

/**
 * Restate Cloud's tunnel client as an ECS Fargate service: it connects out to Restate Cloud
 * (no inbound rule, no load balancer), so that the environment can call services in a private
 * VPC at `tunnel.urlFor(host, port)`.
 *
 * The API key reaches the tasks as an ECS secret, read from Secrets Manager when they start;
 * it never appears in the task definition.
 */
export class RestateCloudTunnel extends Construct implements ec2.IConnectable {
  /** The tunnel client image this library is tested with (tags carry no `v`). */
  public static readonly DEFAULT_IMAGE = 'ghcr.io/restatedev/restate-cloud-tunnel-client:0.6.0';

  /** The environment the tunnel connects to. */
  public readonly environment: RestateCloudEnvironment;

  /** The tunnel's name. */
  public readonly tunnelName: string;

  /** The cluster the tunnel runs in. */
  public readonly cluster: ecs.ICluster;

  /** The ECS service of the tunnel client. */
  public readonly service: ecs.FargateService;

  /** The task definition of the tunnel client. */
  public readonly taskDefinition: ecs.FargateTaskDefinition;

  /** The tunnel client's container, e.g. to set `RUST_LOG` with `addEnvironment`. */
  public readonly container: ecs.ContainerDefinition;

  /** The log group of the tunnel client. */
  public readonly logGroup: logs.ILogGroup;

  /** The tasks' network connections: allow the tunnel into your services' security groups. */
  public readonly connections: ec2.Connections;

  private readonly baseUrl: string;

  constructor(scope: Construct, id: string, props: RestateCloudTunnelProps) {
    super(scope, id);
    const what = `RestateCloudTunnel '${id}'`;
    this.environment = props.environment;
    this.tunnelName = validateTunnelName(what, props.tunnelName);
    this.baseUrl = tunnelServerUrl(what, props.environment, props.tunnelServerUrl);
    const signingPublicKey = signingPublicKeyOf(what, props.environment, props.signingPublicKey);
    const drainSeconds = props.drainTimeout?.toSeconds({ integral: false }) ?? MAX_STOP_TIMEOUT_SECONDS - EXIT_MARGIN_SECONDS;
    // A Duration is never negative.
    if (!Number.isInteger(drainSeconds) || drainSeconds > MAX_STOP_TIMEOUT_SECONDS - EXIT_MARGIN_SECONDS) {
      throw new Error(
        `${what}: drainTimeout must be a whole number of seconds from 0 to ${MAX_STOP_TIMEOUT_SECONDS - EXIT_MARGIN_SECONDS}, got ${drainSeconds} s: ` +
          `Fargate stops a task at most ${MAX_STOP_TIMEOUT_SECONDS} s after SIGTERM, and the client needs ${EXIT_MARGIN_SECONDS} s to exit.`,
      );
    }

    if (!props.cluster && !props.vpc) {
      throw new Error(`${what}: pass vpc (the VPC of the services to reach), or cluster.`);
    }
    this.cluster = props.cluster ?? new ecs.Cluster(this, 'Cluster', { vpc: props.vpc });
    const vpc = props.vpc ?? this.cluster.vpc;
    const vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    warnIfOneAvailabilityZone(this, vpc, vpcSubnets, props.desiredCount ?? 2);

    this.logGroup =
      props.logGroup ??
      new logs.LogGroup(this, 'LogGroup', {
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: props.cpu ?? 1024,
      memoryLimitMiB: props.memoryLimitMiB ?? 2048,
      runtimePlatform: {
        cpuArchitecture: props.cpuArchitecture ?? ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    const environmentVariables: { [name: string]: string } = {
      RESTATE_TUNNEL_NAME: this.tunnelName,
      RESTATE_ENVIRONMENT_ID: props.environment.environmentId,
      RESTATE_CLOUD_REGION: props.environment.region.name,
      RESTATE_SIGNING_PUBLIC_KEY: signingPublicKey,
      // The client's default is true; unauthenticated proxies to the environment are opt-in here.
      RESTATE_REMOTE_PROXY: props.remoteProxy ? 'true' : 'false',
      // A std::time::Duration in the client's options (0.6.0): set as seconds, not '110s'.
      RESTATE_SHUTDOWN_TIMEOUT__SECS: String(drainSeconds),
    };
    if (props.environment.region.domain !== 'restate.cloud') {
      environmentVariables.RESTATE_CLOUD_SUFFIX = `${props.environment.region.domain}.`;
    }
    // No container health check: the image is distroless (no shell, no curl), and an ECS health
    // check runs a command inside the container. The client's GET :9090/health could only be
    // probed by a load balancer, which an outbound-only tunnel has no other use for. The service's
    // deployment settings below (circuit breaker, 100% minimum healthy) keep old tasks until new
    // ones run, and registrations retry discovery until the tunnel has connected.
    this.container = this.taskDefinition.addContainer('Client', {
      containerName: 'restate-cloud-tunnel-client',
      image: props.image ?? ecs.ContainerImage.fromRegistry(RestateCloudTunnel.DEFAULT_IMAGE),
      environment: environmentVariables,
      // 0.6.0 reads the key only as RESTATE_BEARER_TOKEN; newer clients still accept it.
      secrets: { RESTATE_BEARER_TOKEN: apiKeySecretOf(props.environment) },
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'tunnel' }),
      readonlyRootFilesystem: true,
      stopTimeout: Duration.seconds(drainSeconds + EXIT_MARGIN_SECONDS),
      portMappings: props.remoteProxy
        ? [
          { containerPort: 8080, name: 'ingress' },
          { containerPort: 9070, name: 'admin' },
        ]
        : undefined,
    });

    const securityGroups = props.securityGroups ?? [
      new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc,
        description: 'Restate Cloud tunnel client: no inbound rules; outbound to Restate Cloud and to the services it serves',
        allowAllOutbound: true,
      }),
    ];
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.desiredCount ?? 2,
      vpcSubnets,
      assignPublicIp: props.assignPublicIp ?? false,
      securityGroups,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
    });
    // On the L1: the FargateService prop (availabilityZoneRebalancing) needs aws-cdk-lib >= 2.178.
    (this.service.node.defaultChild as ecs.CfnService).addPropertyOverride('AvailabilityZoneRebalancing', 'ENABLED');
    this.connections = this.service.connections;

    acknowledgeFindings(this.taskDefinition, [{
      id: 'AwsSolutions-ECS2',
      reason:
        'The environment variables hold the tunnel name, environment id, region, public request-signing key and drain settings; the API key is an ECS secret read from Secrets Manager.',
    }]);
    if (!props.cluster) {
      acknowledgeFindings(this.cluster, [{
        id: 'AwsSolutions-ECS4',
        reason:
          'A cluster for the tunnel client only, which logs to CloudWatch and serves Prometheus metrics itself; pass your own cluster to use Container Insights.',
      }]);
    }
  }

  /**
   * The URL through which the environment reaches `host:port` over this tunnel, e.g.
   * `https://tunnel.us.restate.cloud:9080/201hy10cd3h6426jy80tb32n6en/prod-vpc/http/greeter.restate.internal/9080/`.
   *
   * @param host a DNS name or IPv4 address the tunnel client can reach, e.g. a Cloud Map name or an internal load balancer's DNS name
   * @param port the service's port
   */
  public urlFor(host: string, port: number, options: TunnelUrlOptions = {}): string {
    validateDestination(`RestateCloudTunnel '${this.node.id}'.urlFor()`, host, port);
    return tunnelEndpointUrl(this.baseUrl, this.environment, this.tunnelName, options.https ? 'https' : 'http', host, port);
  }

  /**
   * Registers the service at `host:port` with the environment through this tunnel, once the
   * tunnel's ECS service is deployed. Discovery is retried for `discoveryRetryTimeout` (default
   * three minutes), since the tunnel connects only after its tasks have started.
   *
   * The registration is created under this tunnel unless `scope` says otherwise.
   */
  public register(deployer: ServiceDeployer, host: string, port: number, options: TunnelRegistrationOptions = {}): ServiceRegistration {
    const { https, ...registrationOptions } = options;
    const url = this.urlFor(host, port, { https });
    return registerThroughTunnel(deployer, url, this.environment, { ...registrationOptions, scope: options.scope ?? this }, [this.service]);
  }
}

/**
 * Fargate spreads a service's tasks over the Availability Zones of its subnets; with one zone,
 * two tasks do not survive that zone's outage.
 */
function warnIfOneAvailabilityZone(scope: Construct, vpc: ec2.IVpc, selection: ec2.SubnetSelection, desiredCount: number): void {
  let zones: string[];
  try {
    zones = vpc.selectSubnets(selection).availabilityZones;
  } catch (e) {
    throw new Error(
      `RestateCloudTunnel '${scope.node.id}': ${(e as Error).message} The tunnel client needs outbound internet access to reach Restate Cloud: ` +
        'pass vpcSubnets (private subnets with NAT, or public subnets with assignPublicIp: true).',
    );
  }
  // An environment-agnostic stack's zones are tokens (Fn::GetAZs): unknown until deployed.
  // Stryker disable next-line MethodExpression: equivalent, a selection's zones are all tokens or none
  if (desiredCount < 2 || zones.some((z) => Token.isUnresolved(z))) return;
  if (new Set(zones).size === 1) {
    Annotations.of(scope).addWarningV2(
      'restate-cloud-cdk:tunnelOneZone',
      `All ${desiredCount} tunnel tasks run in ${zones[0]}: select subnets in two or more Availability Zones, so that the tunnel survives a zone outage.`,
    );
  }
}
