import { Annotations, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DeployerFunction } from './deployer/deployer-function';
import {
  DEFAULTS,
  DeploymentResourceProperties,
  encodeBoolean,
  encodeFlag,
  encodeOptionalBoolean,
  encodeRemovalPolicy,
  encodeSeconds,
} from './deployer/properties';
import { tlsSetting, TRUSTED_TARGETS_ENV } from './deployer/trust';
import { acknowledgeDeployerFindings, DeployerGrants, shortHash } from './deployer-grants';
import { DeployerTrust } from './deployer-trust';
import { IRestateEnvironment, validateAdminUrl } from './environment';
import { InvokeGrant } from './invoke-grant';
import { checkAdminTls, checkSameEnvironment, qualifierOf, versionIsDeletedUnderRetainedDeployment } from './registration-checks';
import { renderServiceConfiguration } from './service-configuration';
import { HttpRegistrationOptions, LambdaRegistrationOptions, RegistrationOptions, ServiceDeployerProps } from './service-deployer-options';
import { ServiceRegistration } from './service-registration';
import { addInvokePermission } from './template-permission';
import { protocolOf } from './url';

/** How long one registration may take, unless `timeout` says otherwise. */
const DEFAULT_TIMEOUT = Duration.minutes(5);
/** CloudFormation waits this much longer than the deployer may run before it gives up. */
const SERVICE_TIMEOUT_MARGIN_SECONDS = 60;

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
  private readonly serviceTimeoutSeconds: string;
  /** Which secret may go where: fixed here, read by the deployer from its environment. */
  private readonly trusted = new DeployerTrust(this);
  private readonly grants: DeployerGrants;
  private warnedAboutVersions = false;

  constructor(scope: Construct, id: string, props: ServiceDeployerProps = {}) {
    super(scope, id);
    this.invokeGrant = props.invokeGrant ?? InvokeGrant.TEMPLATE;
    const timeout = props.timeout ?? DEFAULT_TIMEOUT;
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
    fn.addEnvironment(TRUSTED_TARGETS_ENV, this.trusted.render());
    this.deployerFunction = fn;
    this.grants = new DeployerGrants(this, this.role);
    acknowledgeDeployerFindings(fn, this.role, props.vpc !== undefined);
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
    const authRetry = options.authRetryTimeout?.toSeconds() ?? DEFAULTS.authRetrySeconds;
    if (authRetry > 900) {
      throw new Error(`ServiceDeployer.register(): authRetryTimeout must be at most 15 minutes (a Lambda's longest run), got ${authRetry} s.`);
    }
    const headerSecrets = this.secretHeaders(handler.functionArn, options, 'the function ARN');
    const registration = this.createRegistration(scope, id, environment, options, Object.values(options.secretHeaders ?? {}), {
      LambdaArn: handler.functionArn,
      ...headerSecrets,
      AssumeRoleArn: invokerRole?.roleArn,
      GrantInvoke: encodeFlag(invokeGrant === InvokeGrant.DEPLOYER),
      AuthRetrySeconds: encodeSeconds(authRetry, DEFAULTS.authRetrySeconds),
      ConfigurationVersion: configurationVersion,
    });
    if (invokerRole && invokeGrant === InvokeGrant.DEPLOYER) {
      this.grants.invokeGrants(invokerRole, registration);
    } else if (invokerRole && invokeGrant === InvokeGrant.TEMPLATE) {
      // Discovery invokes the handler through the role: the grant must exist first.
      const permission = addInvokePermission(invokerRole, handler);
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
      UseHttp11: encodeOptionalBoolean(options.useHttp11),
      DiscoveryRetrySeconds: encodeSeconds(options.discoveryRetryTimeout?.toSeconds()),
      RequireHttps: encodeFlag(requireHttps),
      ConfigurationVersion: options.configurationVersion,
    });
  }

  /** The header properties, each secret pinned to the endpoint it may be sent to. */
  private secretHeaders(endpoint: string, options: RegistrationOptions, what: string): Partial<DeploymentResourceProperties> {
    const secretHeaders = Object.entries(options.secretHeaders ?? {}).map(([name, secret]) => {
      this.trusted.trustHeader([endpoint, secret.secretArn, ''], `the secret of header '${name}' and ${what} it goes to`);
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
    this.trusted.trustAdmin([
      adminUrl,
      environment.authToken?.secretArn ?? '',
      environment.authTokenJsonField ?? '',
      tlsSetting(options.insecureSkipTlsVerify === true, options.adminCaCertificate),
    ]);
    const revisionHistoryLimit = options.revisionHistoryLimit;
    if (revisionHistoryLimit !== undefined && (!Number.isInteger(revisionHistoryLimit) || revisionHistoryLimit < 0)) {
      throw new Error(`revisionHistoryLimit must be a whole number >= 0, got ${revisionHistoryLimit}.`);
    }
    const maxPrunedPerRun = options.maxPrunedPerRun;
    if (maxPrunedPerRun !== undefined && (!Number.isInteger(maxPrunedPerRun) || maxPrunedPerRun < 1 || maxPrunedPerRun > 999999)) {
      throw new Error(`maxPrunedPerRun must be a whole number from 1 to 999999, got ${maxPrunedPerRun}.`);
    }
    const removalPolicy = encodeRemovalPolicy(options.removalPolicy);
    const stack = Stack.of(scope);
    const stackName = stack.stackName;
    const path = `${scope.node.path}/${id}`;
    // Unique per account and region: the stack's name, then the path inside the stack.
    const owner = `${stackName}/${path.slice(stack.node.path.length + 1)}`;
    const registration = ServiceRegistration._create(scope, id, this.deployerFunction.functionArn, {
      AdminUrl: adminUrl,
      AuthTokenSecretArn: environment.authToken?.secretArn,
      AuthTokenJsonField: environment.authTokenJsonField,
      InsecureSkipTlsVerify: encodeFlag(options.insecureSkipTlsVerify),
      AdminCaCertificate: options.adminCaCertificate,
      ...endpoint,
      ExpectedServices: options.expectedServices,
      ServiceConfiguration: renderServiceConfiguration(scope, options.defaultServiceConfiguration, options.serviceConfigurations),
      // Defaults are left out (the deployer applies them), except force and breaking, which
      // the template states as the deployer sends them: explicitly.
      Private: encodeFlag(options.private),
      Force: encodeBoolean(options.force),
      Breaking: encodeBoolean(options.breaking),
      RemovalPolicy: removalPolicy,
      PruneDrained: encodeFlag(options.pruneDrainedDeployments),
      RevisionHistoryLimit: options.pruneDrainedDeployments ? String(revisionHistoryLimit ?? DEFAULTS.revisionHistoryLimit) : undefined,
      MaxPrunedPerRun: options.pruneDrainedDeployments && maxPrunedPerRun !== undefined ? String(maxPrunedPerRun) : undefined,
      // The deployer records it, with the stack name, as deployment metadata.
      Owner: owner,
      Metadata: options.metadata,
      HealthTimeoutSeconds: encodeSeconds(options.healthCheckTimeout?.toSeconds(), DEFAULTS.healthTimeoutSeconds),
      // Without it, CloudFormation waits an hour for a deployer that never answers.
      ServiceTimeout: this.serviceTimeoutSeconds,
    });
    for (const secret of environment.authToken ? [environment.authToken, ...headerSecrets] : headerSecrets) {
      this.grants.secretRead(secret, registration);
    }
    return registration;
  }
}
