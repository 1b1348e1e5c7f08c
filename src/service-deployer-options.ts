import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { InvokeGrant } from './invoke-grant';
import { ServiceConfiguration } from './service-configuration';

/**
 * Properties of a `ServiceDeployer`.
 */
export interface ServiceDeployerProps {
  /**
   * The VPC to run the deployer in, e.g. when the admin API is only reachable privately.
   *
   * @default - not in a VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Where in `vpc` to place the deployer.
   *
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security groups of the deployer, when in a VPC.
   *
   * @default - a security group is created
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * Allow placing the deployer in public subnets (it then has no internet access unless the
   * subnets give it a public IP, which Lambda never does).
   *
   * @default false
   */
  readonly allowPublicSubnet?: boolean;

  /**
   * How long one registration may take, waiting for the admin API included. CloudFormation
   * always gets an answer before this runs out.
   *
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;

  /**
   * How long the deployer's logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The log group the deployer writes to; when given, `logRetention` is ignored.
   *
   * @default - a log group kept for `logRetention`, removed with the stack
   */
  readonly logGroup?: logs.ILogGroup;

  /**
   * What happens to the log group the deployer creates when it is removed from the stack.
   * Ignored when `logGroup` is given.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * A name for the deployer function.
   *
   * @default - CloudFormation generates a unique name
   */
  readonly functionName?: string;

  /**
   * The deployer's execution role. When given, the deployer still adds what it needs (read
   * the environments' secrets, write its logs, keep invoke grants for the invoker roles) to it.
   *
   * @default - a role that may write the deployer's own logs, read the secrets it is given and
   * keep invoke grants for the invoker roles (see `invokeGrant`)
   */
  readonly role?: iam.IRole;

  /**
   * How Lambda handlers registered by this deployer are made invokable by the environment's
   * invoker role, unless a registration says otherwise.
   *
   * @default InvokeGrant.TEMPLATE
   */
  readonly invokeGrant?: InvokeGrant;

  /**
   * Memory of the deployer function, in MiB.
   *
   * @default 128
   */
  readonly memorySize?: number;
}

/**
 * Options common to every registration.
 */
export interface RegistrationOptions {
  /**
   * Service names discovery must produce; the deployment fails, naming the missing ones,
   * when it does not.
   *
   * @default - any services are accepted
   */
  readonly expectedServices?: string[];

  /**
   * Make the deployment's services private: reachable from other services, not through ingress.
   *
   * @default false
   */
  readonly private?: boolean;

  /**
   * Override an existing deployment at the same endpoint. Restate's API defaults this to
   * true when omitted; this library always sends it explicitly.
   *
   * @default false
   */
  readonly force?: boolean;

  /**
   * Allow service revisions whose schema is incompatible with the previous revision.
   *
   * @default false
   */
  readonly breaking?: boolean;

  /**
   * What happens to the Restate deployment when the registration is removed or replaced:
   * `RemovalPolicy.RETAIN` keeps it; `RemovalPolicy.DESTROY` deletes it once no in-flight
   * invocation is pinned to it (or at once with `force`).
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * After registering, delete this registration's older deployments that no invocation is
   * pinned to any more, keeping the `revisionHistoryLimit` most recent ones.
   *
   * @default false
   */
  readonly pruneDrainedDeployments?: boolean;

  /**
   * How many older deployments of this registration pruning keeps.
   *
   * @default 0
   */
  readonly revisionHistoryLimit?: number;

  /**
   * How many deployments pruning removes at most per registration run; the rest are removed by
   * later runs. Only applies with `pruneDrainedDeployments`.
   *
   * @default - no cap: every drained deployment beyond `revisionHistoryLimit`, within the
   * deployer's time
   */
  readonly maxPrunedPerRun?: number;

  /**
   * Change this value to make discovery run again although nothing else changed.
   *
   * @default - none; a fresh value on every synth when registering `$LATEST`
   */
  readonly configurationVersion?: string;

  /**
   * The admin API URL to use instead of the environment's, e.g. a private endpoint.
   *
   * @default - the environment's `adminUrl`
   */
  readonly adminUrl?: string;

  /**
   * Accept any admin API certificate. Only for self-hosted test environments; refused for
   * environments that require HTTPS (Restate Cloud). Prefer `adminCaCertificate`.
   *
   * @default false
   */
  readonly insecureSkipTlsVerify?: boolean;

  /**
   * The CA certificate (PEM) that the admin API's certificate must chain to, instead of the
   * public CAs: for self-hosted admin APIs with a private CA.
   *
   * @default - the public CAs that Node.js trusts
   */
  readonly adminCaCertificate?: string;

  /**
   * Allow an `http://` admin URL for an environment that requires HTTPS (Restate Cloud), e.g.
   * a private proxy that terminates TLS. The API key then travels unencrypted to that URL.
   *
   * @default false
   */
  readonly allowInsecureAdminUrl?: boolean;

  /**
   * Extra metadata recorded on the deployment. The stack name and construct path are
   * always recorded.
   *
   * @default - none
   */
  readonly metadata?: { [key: string]: string };

  /**
   * How long to wait at most for the admin API to become healthy. Always bounded by the
   * deployer's remaining time.
   *
   * @default Duration.minutes(2)
   */
  readonly healthCheckTimeout?: Duration;

  /**
   * Headers Restate adds to every request to the endpoint or function.
   *
   * @default - none
   */
  readonly additionalHeaders?: { [name: string]: string };

  /**
   * Headers whose values are read from Secrets Manager at deploy time (the whole secret
   * string), so they never appear in the template. Restate stores them with the deployment:
   * whoever can read the admin API can read them.
   *
   * @default - none
   */
  readonly secretHeaders?: { [name: string]: secretsmanager.ISecret };

  /**
   * Configuration applied to every service the registration discovers, after every
   * registration (Restate resets it when a new revision registers). It wins over the same
   * options set in the service's code.
   *
   * @default - Restate's defaults, or the options in the service's code
   */
  readonly defaultServiceConfiguration?: ServiceConfiguration;

  /**
   * Configuration per service name, over `defaultServiceConfiguration`. Naming a service that
   * discovery does not produce fails the registration.
   *
   * @default - none
   */
  readonly serviceConfigurations?: { [serviceName: string]: ServiceConfiguration };
}

/**
 * Options of a Lambda registration.
 */
export interface LambdaRegistrationOptions extends RegistrationOptions {
  /**
   * How the environment's invoker role is given `lambda:InvokeFunction` on exactly this
   * handler. Ignored for environments without an invoker role.
   *
   * @default - the deployer's `invokeGrant`, which defaults to InvokeGrant.TEMPLATE
   */
  readonly invokeGrant?: InvokeGrant;

  /**
   * How long to keep retrying discovery that AWS refuses (the invoker role cannot be assumed,
   * or may not invoke the handler), since a grant or role made moments before may not be
   * effective yet. Bounded by the deployer's remaining time.
   *
   * @default Duration.minutes(1)
   */
  readonly authRetryTimeout?: Duration;
}

/**
 * Options of an HTTP(S) registration.
 */
export interface HttpRegistrationOptions extends RegistrationOptions {

  /**
   * Talk to the endpoint over HTTP/1.1 instead of HTTP/2 (e.g. behind a load balancer that
   * does not speak HTTP/2 to its targets).
   *
   * @default false
   */
  readonly useHttp11?: boolean;

  /**
   * Allow an `http://` endpoint for an environment that requires HTTPS (Restate Cloud).
   *
   * @default false
   */
  readonly allowInsecureHttp?: boolean;

  /**
   * How long to keep retrying when Restate cannot discover the endpoint, e.g. one behind a
   * tunnel that connects only after the deploy started. Bounded by the deployer's remaining time.
   *
   * @default - no retry: discovery failures are final (Restate has already retried)
   */
  readonly discoveryRetryTimeout?: Duration;

  /**
   * The construct id of the registration.
   *
   * @default - derived from the URL and the environment
   */
  readonly id?: string;

  /**
   * The construct the registration is created under. Pass a construct of the stack that
   * defines the endpoint (or its header secrets) when the deployer lives in another stack, so
   * that the deployer's stack never depends on the service's stack.
   *
   * @default - the deployer
   */
  readonly scope?: Construct;
}
