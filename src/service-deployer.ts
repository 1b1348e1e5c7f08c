import * as crypto from 'crypto';
import { Annotations, ArnFormat, CfnDeletionPolicy, Duration, Lazy, Reference, RemovalPolicy, Stack, Token, Tokenization } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IConstruct } from 'constructs';
import { IRestateEnvironment, validateAdminUrl } from './environment';
import { grantInvokeViaResourcePolicy } from './template-permission';
import { InvokeGrant } from './invoke-grant';
import { acknowledgeFindings } from './nag-acknowledgement';
import { DeployerFunction } from './deployer/deployer-function';
import { DEFAULTS, DeploymentResourceProperties } from './deployer/properties';
import { AdminTarget, HeaderTarget, normalizeUrl, tlsSetting, TRUSTED_TARGETS_ENV } from './deployer/trust';
import { renderServiceConfiguration, ServiceConfiguration } from './service-configuration';
import { ServiceRegistration } from './service-registration';
import { protocolOf } from './url';

/** CloudFormation waits this much longer than the deployer may run before it gives up. */
const SERVICE_TIMEOUT_MARGIN_SECONDS = 60;

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

/**
 * Registers service deployments with a Restate environment's admin API during `cdk deploy`,
 * and removes or prunes them by policy.
 *
 * One deployer serves any number of registrations, also from other stacks.
 */
export class ServiceDeployer extends Construct {
  /** The deployer Lambda function: the custom resources' service token. */
  public readonly deployerFunction: lambda.IFunction;

  /** The deployer's execution role. */
  public readonly role: iam.IRole;

  private readonly invokeGrant: InvokeGrant;
  private readonly deployerGrants = new Map<string, iam.Grant>();
  private readonly serviceTimeoutSeconds: string;
  /** Which secret may go where: fixed here, read by the deployer from its environment. */
  private readonly trustedAdmin = new Map<string, AdminTarget>();
  private readonly trustedHeaders = new Map<string, HeaderTarget>();
  private warnedAboutVersions = false;

  constructor(scope: Construct, id: string, props: ServiceDeployerProps = {}) {
    super(scope, id);
    this.invokeGrant = props.invokeGrant ?? InvokeGrant.TEMPLATE;
    const timeout = props.timeout ?? Duration.minutes(5);
    this.serviceTimeoutSeconds = String(Math.min(3600, timeout.toSeconds() + SERVICE_TIMEOUT_MARGIN_SECONDS));
    const logGroup =
      props.logGroup ??
      new logs.LogGroup(this, 'LogGroup', {
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
      });
    this.role =
      props.role ??
      new iam.Role(this, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: 'Restate service deployer: reads the API key secrets it is given and writes its own logs',
      });
    logGroup.grantWrite(this.role);
    const fn = new DeployerFunction(this, 'Function', {
      description: 'Registers service deployments with Restate admin APIs (restate-cloud-cdk)',
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 128,
      timeout,
      role: this.role,
      logGroup,
      functionName: props.functionName,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
      allowPublicSubnet: props.allowPublicSubnet,
    });
    if (props.vpc) {
      // Lambda adds the ENI permissions only to roles it creates; the deployer brings its own.
      this.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
    }
    fn.node.addDependency(this.role);
    fn.addEnvironment(
      TRUSTED_TARGETS_ENV,
      Lazy.string({
        produce: () =>
          Stack.of(this).toJsonString({ admin: [...this.trustedAdmin.values()], headers: [...this.trustedHeaders.values()] }),
      }),
    );
    this.deployerFunction = fn;
    acknowledgeNagFindings(fn, this.role, props.vpc !== undefined);
  }

  /**
   * Registers a Lambda handler, a function version or alias, with `environment`.
   *
   * The environment's invoker role (if any) is granted `lambda:InvokeFunction` on exactly
   * this handler, as `invokeGrant` says.
   */
  public register(
    handler: lambda.IFunction,
    environment: IRestateEnvironment,
    options: LambdaRegistrationOptions = {},
  ): ServiceRegistration {
    const qualifier = qualifierOf(handler);
    if (qualifier === undefined) {
      throw new Error(
        `ServiceDeployer.register(): '${handler.node.path}' is an unqualified function, but Restate must be given a specific version or alias: ` +
          'pass fn.currentVersion, or a lambda.Alias, instead of the function itself (or import a qualified ARN: Function.fromFunctionArn(scope, id, \'arn:...:function:name:3\')).',
      );
    }
    checkSameEnvironment(handler, this);
    let configurationVersion = options.configurationVersion;
    if (qualifier === '$LATEST') {
      Annotations.of(handler).addWarningV2(
        'restate-cloud-cdk:latestVersion',
        'Registering $LATEST: discovery reruns on every deploy, and invocations in flight may hit new code. Register fn.currentVersion or an alias instead.',
      );
      configurationVersion = configurationVersion ?? `latest-${Date.now()}`;
    }

    const scope = handler;
    const id = `RestateRegistration${shortHash(this.node.path, Stack.of(this).resolve(environment.adminUrl))}`;
    if (scope.node.tryFindChild(id)) {
      throw new Error(
        `ServiceDeployer.register(): '${handler.node.path}' is already registered with ${environment.adminUrl} by this deployer: register each handler once per environment.`,
      );
    }
    if (!this.warnedAboutVersions && versionIsDeletedUnderRetainedDeployment(handler, options.removalPolicy)) {
      // Once per deployer: with hundreds of handlers, one warning says it all.
      this.warnedAboutVersions = true;
      Annotations.of(handler).addWarningV2(
        'restate-cloud-cdk:versionNotRetained',
        'This version (and possibly others registered with this deployer) is deleted when the code changes, but its Restate deployment is retained and in-flight invocations stay pinned to it: ' +
          'create versions with currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN } (or register an alias).',
      );
    }

    const invokerRole = environment.invokerRole;
    const invokeGrant = invokerRole ? (options.invokeGrant ?? this.invokeGrant) : InvokeGrant.NONE;
    if (invokeGrant === InvokeGrant.DEPLOYER && qualifier === '$LATEST') {
      throw new Error(
        `ServiceDeployer.register(): '${handler.node.path}' is $LATEST, but InvokeGrant.DEPLOYER grants only versions and aliases (function:*:*): ` +
          'register fn.currentVersion or an alias, or use InvokeGrant.TEMPLATE.',
      );
    }
    const authRetry = options.authRetryTimeout?.toSeconds();
    if (authRetry !== undefined && authRetry > 900) {
      throw new Error(`ServiceDeployer.register(): authRetryTimeout must be at most 15 minutes (a Lambda's longest run), got ${authRetry} s.`);
    }
    const headerSecrets = this.secretHeaders(handler.functionArn, options, 'the function ARN');
    const registration = this.createRegistration(scope, id, environment, options, Object.values(options.secretHeaders ?? {}), {
      LambdaArn: handler.functionArn,
      ...headerSecrets,
      AssumeRoleArn: invokerRole?.roleArn,
      GrantInvoke: invokeGrant === InvokeGrant.DEPLOYER ? 'true' : undefined,
      AuthRetrySeconds: authRetry === undefined || authRetry === DEFAULTS.authRetrySeconds ? undefined : String(authRetry),
      ConfigurationVersion: configurationVersion,
    });
    if (invokerRole && invokeGrant === InvokeGrant.DEPLOYER) {
      this.allowInvokeGrants(invokerRole, registration);
    } else if (invokerRole && invokeGrant === InvokeGrant.TEMPLATE) {
      // Discovery invokes the handler through the role: the grant must exist first.
      const permission = grantInvokeViaResourcePolicy(invokerRole, handler);
      // Resource to resource: cheaper at synth than a construct-level dependency, per handler.
      registration.resource.addDependency(permission);
    }
    return registration;
  }

  /**
   * Registers an HTTP(S) endpoint, e.g. a service behind a load balancer, with `environment`.
   */
  public registerHttp(url: string, environment: IRestateEnvironment, options: HttpRegistrationOptions = {}): ServiceRegistration {
    // A token URL is checked by the deployer at deploy time.
    const protocol = Token.isUnresolved(url) ? undefined : protocolOf(url);
    if (!Token.isUnresolved(url) && protocol !== 'http:' && protocol !== 'https:') {
      throw new Error(`ServiceDeployer.registerHttp(): invalid endpoint URL ${JSON.stringify(url)}: expected an absolute http(s) URL such as 'https://services.example.com'.`);
    }
    const requireHttps = environment.requireHttps === true && options.allowInsecureHttp !== true;
    if (requireHttps && protocol === 'http:') {
      throw new Error(
        `ServiceDeployer.registerHttp(): ${JSON.stringify(url)} is plain HTTP, but this environment requires HTTPS (Restate Cloud reaches services over the public internet): ` +
          'serve the endpoint over https://, or pass allowInsecureHttp: true if you really mean it.',
      );
    }
    const scope = options.scope ?? this;
    const id = options.id ?? `RestateHttp${shortHash(this.node.path, Stack.of(scope).resolve(url), Stack.of(scope).resolve(environment.adminUrl))}`;
    if (scope.node.tryFindChild(id)) {
      throw new Error(
        `ServiceDeployer.registerHttp(): ${url} is already registered with ${environment.adminUrl} by this deployer (id '${id}'): register each endpoint once per environment, or pass a distinct id.`,
      );
    }
    return this.createRegistration(scope, id, environment, options, Object.values(options.secretHeaders ?? {}), {
      Uri: url,
      ...this.secretHeaders(url, options, 'the URL'),
      UseHttp11: options.useHttp11 === undefined ? undefined : options.useHttp11 ? 'true' : 'false',
      DiscoveryRetrySeconds: options.discoveryRetryTimeout === undefined ? undefined : String(options.discoveryRetryTimeout.toSeconds()),
      RequireHttps: requireHttps ? 'true' : undefined,
      ConfigurationVersion: options.configurationVersion,
    });
  }

  /** The header properties, each secret pinned to the endpoint it may be sent to. */
  private secretHeaders(endpoint: string, options: RegistrationOptions, what: string): Partial<DeploymentResourceProperties> {
    const secretHeaders = Object.entries(options.secretHeaders ?? {}).map(([name, secret]) => {
      this.trust(this.trustedHeaders, [endpoint, secret.secretArn, ''], `the secret of header '${name}' and ${what} it goes to`);
      return { Name: name, SecretArn: secret.secretArn };
    });
    return { AdditionalHeaders: options.additionalHeaders, SecretHeaders: secretHeaders.length > 0 ? secretHeaders : undefined };
  }

  private createRegistration(
    scope: Construct,
    id: string,
    environment: IRestateEnvironment,
    options: RegistrationOptions,
    headerSecrets: secretsmanager.ISecret[],
    endpoint: Partial<DeploymentResourceProperties>,
  ): ServiceRegistration {
    const adminUrl = validateAdminUrl(options.adminUrl ?? environment.adminUrl);
    checkAdminTls(adminUrl, environment, options);
    this.trust(
      this.trustedAdmin,
      [adminUrl, environment.authToken?.secretArn ?? '', environment.authTokenJsonField ?? '', tlsSetting(options.insecureSkipTlsVerify === true, options.adminCaCertificate)],
      'the admin URL and API key secret',
    );
    const revisionHistoryLimit = options.revisionHistoryLimit;
    if (revisionHistoryLimit !== undefined && (!Number.isInteger(revisionHistoryLimit) || revisionHistoryLimit < 0)) {
      throw new Error(`revisionHistoryLimit must be a whole number >= 0, got ${revisionHistoryLimit}.`);
    }
    const maxPrunedPerRun = options.maxPrunedPerRun;
    if (maxPrunedPerRun !== undefined && (!Number.isInteger(maxPrunedPerRun) || maxPrunedPerRun < 1 || maxPrunedPerRun > 999999)) {
      throw new Error(`maxPrunedPerRun must be a whole number from 1 to 999999, got ${maxPrunedPerRun}.`);
    }
    const removalPolicy = options.removalPolicy ?? RemovalPolicy.RETAIN;
    if (removalPolicy !== RemovalPolicy.RETAIN && removalPolicy !== RemovalPolicy.DESTROY) {
      throw new Error(`removalPolicy ${removalPolicy} is not supported for Restate deployments: use RemovalPolicy.RETAIN or RemovalPolicy.DESTROY.`);
    }
    const healthTimeout = options.healthCheckTimeout?.toSeconds() ?? DEFAULTS.healthTimeoutSeconds;
    const stack = Stack.of(scope);
    const stackName = stack.stackName;
    const path = `${scope.node.path}/${id}`;
    // Unique per account and region: the stack's name, then the path inside the stack.
    const owner = `${stackName}/${path.slice(stack.node.path.length).replace(/^\//, '')}`;
    const registration = ServiceRegistration._create(scope, id, this.deployerFunction.functionArn, {
      AdminUrl: adminUrl,
      AuthTokenSecretArn: environment.authToken?.secretArn,
      AuthTokenJsonField: environment.authTokenJsonField,
      InsecureSkipTlsVerify: options.insecureSkipTlsVerify ? 'true' : undefined,
      AdminCaCertificate: options.adminCaCertificate,
      ...endpoint,
      ExpectedServices: options.expectedServices,
      ServiceConfiguration: renderServiceConfiguration(scope, options.defaultServiceConfiguration, options.serviceConfigurations),
      // Defaults are left out (the deployer applies them), except force and breaking, which
      // the template states as the deployer sends them: explicitly.
      Private: options.private ? 'true' : undefined,
      Force: options.force ? 'true' : 'false',
      Breaking: options.breaking ? 'true' : 'false',
      RemovalPolicy: removalPolicy === RemovalPolicy.DESTROY ? 'destroy' : 'retain',
      PruneDrained: options.pruneDrainedDeployments ? 'true' : undefined,
      RevisionHistoryLimit: options.pruneDrainedDeployments ? String(revisionHistoryLimit ?? 0) : undefined,
      MaxPrunedPerRun: options.pruneDrainedDeployments && maxPrunedPerRun !== undefined ? String(maxPrunedPerRun) : undefined,
      // The deployer records it, with the stack name, as deployment metadata.
      Owner: owner,
      Metadata: options.metadata,
      HealthTimeoutSeconds: healthTimeout === DEFAULTS.healthTimeoutSeconds ? undefined : String(healthTimeout),
      // Without it, CloudFormation waits an hour for a deployer that never answers.
      ServiceTimeout: this.serviceTimeoutSeconds,
    });
    for (const secret of environment.authToken ? [environment.authToken, ...headerSecrets] : headerSecrets) {
      this.grantSecretRead(secret, registration);
    }
    return registration;
  }

  /**
   * Adds a pairing of secret and URL the deployer will accept. Values resolve in the deployer's
   * stack: a token of another stack (e.g. a secret created there) would make the deployer's
   * stack depend on it, so it is refused with the fix instead.
   */
  private trust<T extends string[]>(into: Map<string, T>, target: T, what: string): void {
    const deployerStack = Stack.of(this);
    for (const value of target) {
      if (!Token.isUnresolved(value)) continue;
      // Pseudo parameters (a stack's account, region, partition) resolve in any stack.
      const foreign = Tokenization.reverseString(value).tokens.find(
        (t) => t instanceof Reference && !(t.target instanceof Stack) && Stack.of(t.target) !== deployerStack,
      ) as Reference | undefined;
      if (foreign) {
        throw new Error(
          `ServiceDeployer: ${what} must be known to the deployer's stack ${deployerStack.stackName}, which pins each secret to the URL it may be sent to, ` +
            `but ${foreign.target.node.path} belongs to stack ${Stack.of(foreign.target).stackName}. ` +
            (foreign.target instanceof secretsmanager.CfnSecret
              ? 'Import the secret in the deployer\'s stack by its ARN or name (Secret.fromSecretCompleteArn / fromSecretNameV2), or create the ServiceDeployer in that stack.'
              : 'Create the ServiceDeployer in that stack, or pass a literal value.'),
        );
      }
    }
    const key = JSON.stringify(deployerStack.resolve(target.map((v, i) => (i === 0 ? normalizeUrl(v) : v))));
    if (!into.has(key)) into.set(key, target.map((v, i) => (i === 0 && !Token.isUnresolved(v) ? normalizeUrl(v) : v)) as T);
  }

  /**
   * Lets the deployer read `secret` before `registration` is deployed.
   */
  private grantSecretRead(secret: secretsmanager.ISecret, registration: ServiceRegistration): void {
    this.grantBefore(`secret|${secret.node.path}`, secret, registration, (grantee) => secret.grantRead(grantee));
  }

  /**
   * Lets the deployer add and remove resource-policy statements whose principal is
   * `invokerRole` (and no other), on functions of its account and region, before
   * `registration` is deployed. One statement per invoker role, however many handlers.
   */
  private allowInvokeGrants(invokerRole: iam.IRole, registration: ServiceRegistration): void {
    this.grantBefore(`invoke|${invokerRole.node.path}`, invokerRole, registration, (grantee) => {
      const stack = Stack.of(this);
      // Versions and aliases only (function:NAME:QUALIFIER): never an unqualified function.
      const functions = stack.formatArn({ service: 'lambda', resource: 'function', resourceName: '*:*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      const grant = iam.Grant.addToPrincipal({
        grantee,
        actions: ['lambda:AddPermission', 'lambda:RemovePermission'],
        resourceArns: [functions],
        conditions: { StringEquals: { 'lambda:Principal': invokerRole.roleArn } },
      });
      // After the grant: on aws-cdk-lib < 2.257 the policy it lands in is acknowledged too.
      acknowledgeFunctionWildcard(grantee, stack);
      return grant;
    });
  }

  /**
   * Makes one grant to the deployer's role, in place before `registration` is deployed. When
   * the registration and what is granted (`resource`) both live outside the deployer's stack,
   * the grant is made from the registration's stack (through an imported view of the role),
   * so that the deployer's stack never depends on a service's stack.
   */
  private grantBefore(key: string, resource: IConstruct, registration: ServiceRegistration, grant: (grantee: iam.IRole) => iam.Grant): void {
    const deployerStack = Stack.of(this);
    const registrationStack = Stack.of(registration);
    const local = registrationStack === deployerStack || Stack.of(resource) === deployerStack;
    const fullKey = `${local ? '' : registrationStack.node.path}|${key}`;
    // A local grant lands in the role's default policy, which the deployer function (and so
    // every registration) already depends on; a remote one needs its own ordering.
    const existing = this.deployerGrants.get(fullKey);
    if (existing) {
      if (!local) existing.applyBefore(registration);
      return;
    }
    let grantee: iam.IRole = this.role;
    if (!local) {
      const id = `RestateDeployerRole${shortHash(this.node.path)}`;
      grantee =
        (registrationStack.node.tryFindChild(id) as iam.IRole | undefined) ??
        iam.Role.fromRoleArn(registrationStack, id, this.role.roleArn, { mutable: true });
    }
    const made = grant(grantee);
    if (!local) made.applyBefore(registration);
    this.deployerGrants.set(fullKey, made);
  }
}

/**
 * A version replaced on the next code change is deleted by CloudFormation unless retained,
 * while a RETAINed Restate deployment may still have invocations pinned to it.
 */
function versionIsDeletedUnderRetainedDeployment(handler: lambda.IFunction, removalPolicy: RemovalPolicy | undefined): boolean {
  if ((removalPolicy ?? RemovalPolicy.RETAIN) !== RemovalPolicy.RETAIN) return false;
  const cfn = handler.node.defaultChild;
  if (!(cfn instanceof lambda.CfnVersion)) return false;
  const policy = cfn.cfnOptions.deletionPolicy;
  return policy !== CfnDeletionPolicy.RETAIN && policy !== CfnDeletionPolicy.RETAIN_EXCEPT_ON_CREATE;
}

/**
 * Acknowledges the cdk-nag (AwsSolutions) findings on what the deployer creates, so that users
 * who run cdk-nag need not: plain construct metadata (`Validations`, in aws-cdk-lib; below
 * aws-cdk-lib 2.257 also cdk-nag 2.x's), no dependency on cdk-nag. See `acknowledgeFindings`.
 */
function acknowledgeNagFindings(fn: lambda.Function, role: iam.IRole, inVpc: boolean): void {
  acknowledgeFindings(fn, [{
    id: 'AwsSolutions-L1',
    reason:
      'The deployer runtime is pinned by restate-cloud-cdk for stable templates and moves to newer Node.js runtimes with library releases; the function runs only during deployments.',
  }]);
  if (inVpc) {
    acknowledgeFindings(role, [{
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      reason:
        'AWS-managed policy with exactly the network-interface permissions a Lambda function in a VPC needs (ec2:CreateNetworkInterface and friends, which support no resource-level scoping).',
    }]);
  }
}

/**
 * The deployer's invoke-grant statement names every function of its account and region (the
 * handlers are not known to it in advance), limited by `lambda:Principal` to the invoker role.
 */
function acknowledgeFunctionWildcard(grantee: iam.IRole, stack: Stack): void {
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  acknowledgeFindings(grantee, [{
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lambda:${region}:${account}:function:*:*]`,
    reason:
      'The deployer adds and removes the invoker role\'s invoke statement on each handler it registers, which it learns only at deploy time; the condition lambda:Principal limits it to statements for the invoker role.',
  }]);
}

/**
 * The version or alias name of a qualified handler (a Version, an Alias, or a function imported
 * by a qualified ARN); undefined when unqualified.
 */
function qualifierOf(handler: lambda.IFunction): string | undefined {
  const h = handler as unknown as { version?: unknown; aliasName?: unknown };
  if (typeof h.aliasName === 'string') return h.aliasName;
  if (typeof h.version === 'string') return h.version;
  if (!Token.isUnresolved(handler.functionArn)) {
    // arn:partition:lambda:region:account:function:name[:qualifier]
    const parts = handler.functionArn.split(':');
    if (parts.length === 8 && parts[5] === 'function' && parts[7].length > 0) return parts[7];
  }
  return undefined;
}

/**
 * A handler in another account or region than the deployer can be granted only by its own
 * account (and Restate Cloud assumes the invoker role of this one): say so at synth.
 */
function checkSameEnvironment(handler: lambda.IFunction, deployer: Construct): void {
  const stack = Stack.of(deployer);
  const where = handler.env;
  const differs = (a: string, b: string) => !Token.isUnresolved(a) && !Token.isUnresolved(b) && a !== b;
  if (differs(where.account, stack.account) || differs(where.region, stack.region)) {
    throw new Error(
      `ServiceDeployer.register(): '${handler.node.path}' is in account ${where.account}, region ${where.region}, but the deployer's stack is in account ${stack.account}, region ${stack.region}: ` +
        'the invoker role can only be granted, and the deployer only register, handlers of its own account and region. Create a ServiceDeployer (and invoker role) in the handler\'s account and region.',
    );
  }
  if (Token.isUnresolved(stack.account) && !Token.isUnresolved(where.account) && !handler.node.scopes.includes(stack)) {
    Annotations.of(handler).addWarningV2(
      'restate-cloud-cdk:handlerEnvironmentUnknown',
      `This handler is in account ${where.account}, region ${where.region}; the deployer's stack has no fixed account, so that cannot be checked at synth. Set env on the stack.`,
    );
  }
}

/**
 * Restate Cloud requires HTTPS: the API key is refused an unencrypted or unverified admin API
 * unless explicitly allowed. A private CA is preferred over skipping verification.
 */
function checkAdminTls(adminUrl: string, environment: IRestateEnvironment, options: RegistrationOptions): void {
  if (options.insecureSkipTlsVerify && options.adminCaCertificate) {
    throw new Error('ServiceDeployer: insecureSkipTlsVerify and adminCaCertificate exclude each other: pass adminCaCertificate alone, which verifies against that CA.');
  }
  if (options.adminCaCertificate !== undefined && !/^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/.test(options.adminCaCertificate.trim())) {
    throw new Error('ServiceDeployer: adminCaCertificate must be a PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----).');
  }
  if (!environment.requireHttps) return;
  if (options.insecureSkipTlsVerify) {
    throw new Error(
      `ServiceDeployer: insecureSkipTlsVerify is refused for ${adminUrl}: this environment requires HTTPS (Restate Cloud), and the API key must only go to a verified admin API. ` +
        'Remove insecureSkipTlsVerify, or pass adminCaCertificate for a private CA.',
    );
  }
  if (!Token.isUnresolved(adminUrl) && protocolOf(adminUrl) === 'http:' && !options.allowInsecureAdminUrl) {
    throw new Error(
      `ServiceDeployer: admin URL ${adminUrl} is plain HTTP, but this environment requires HTTPS (Restate Cloud), and the API key would travel unencrypted: ` +
        'use its https:// admin URL, or pass allowInsecureAdminUrl: true if a private proxy terminates TLS.',
    );
  }
}

function shortHash(...parts: unknown[]): string {
  return crypto.createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 8).toUpperCase();
}
