import * as ecs from 'aws-cdk-lib/aws-ecs';
import { IConstruct } from 'constructs';
import { RestateCloudEnvironment } from './cloud-environment';
import { ServiceDeployer } from './service-deployer';
import { HttpRegistrationOptions } from './service-deployer-options';
import { ServiceRegistration } from './service-registration';
import { apiKeySecretOf, signingPublicKeyOf } from './tunnel-identity';
import { registerThroughTunnel } from './tunnel-registration';
import { tunnelEndpointUrl, tunnelServerUrl, validateTunnelName } from './tunnel-url';

/**
 * Properties of a `RestateInProcessTunnel`.
 */
export interface RestateInProcessTunnelProps {
  /**
   * The Restate Cloud environment the service's tunnel connects to.
   */
  readonly environment: RestateCloudEnvironment;

  /**
   * The deployment's tunnel name: lowercase letters, digits and hyphens, e.g. `greeter-v3`. It
   * identifies the deployment: replicas of one deployment share it, and a new version of the
   * code (registered as a new deployment) needs a new one.
   */
  readonly tunnelName: string;

  /**
   * The request-signing public key (`publickeyv1_...`) the service verifies requests with.
   *
   * @default - the environment's request-signing public key (it must have exactly one)
   */
  readonly signingPublicKey?: string;

  /**
   * The environment variable that carries the API key into the container, for the service to
   * pass as `authToken` to `connectTunnel` (the SDK itself reads a key only from a file, named
   * by `RESTATE_INPROC_AUTH_TOKEN_FILE`).
   *
   * @default RestateInProcessTunnel.DEFAULT_AUTH_TOKEN_VARIABLE
   */
  readonly authTokenVariable?: string;
}

/**
 * An in-process tunnel: a service built with `@restatedev/restate-sdk-tunnel` holds its own
 * outbound tunnel connections to Restate Cloud (`connectTunnel`), so it needs neither an inbound
 * rule nor a tunnel client. This wires a container for it and gives its registration URL,
 * `https://tunnel.<region>.restate.cloud:9080/<id without env_>/<tunnel name>/http/in-process/9080/`.
 *
 * For long-running containers (ECS), not Lambda: a function is frozen between invocations and
 * cannot hold a tunnel open (and Restate invokes Lambda handlers through the AWS API anyway).
 */
export class RestateInProcessTunnel {
  /** `RESTATE_AUTH_TOKEN`: the variable the API key is set in by default. */
  public static readonly DEFAULT_AUTH_TOKEN_VARIABLE = 'RESTATE_AUTH_TOKEN';

  /** The environment the tunnel connects to. */
  public readonly environment: RestateCloudEnvironment;

  /** The deployment's tunnel name. */
  public readonly tunnelName: string;

  /** The URL to register: the in-process destination is the constant `/http/in-process/9080/`. */
  public readonly deploymentUrl: string;

  /** The environment variable that carries the API key. */
  public readonly authTokenVariable: string;

  private readonly signingPublicKey: string;

  constructor(props: RestateInProcessTunnelProps) {
    const what = 'RestateInProcessTunnel';
    this.environment = props.environment;
    this.tunnelName = validateTunnelName(what, props.tunnelName);
    this.signingPublicKey = signingPublicKeyOf(what, props.environment, props.signingPublicKey);
    this.authTokenVariable = props.authTokenVariable ?? RestateInProcessTunnel.DEFAULT_AUTH_TOKEN_VARIABLE;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(this.authTokenVariable) || this.authTokenVariable.startsWith('RESTATE_INPROC_')) {
      throw new Error(
        `${what}: invalid authTokenVariable ${JSON.stringify(this.authTokenVariable)}: expected an environment variable name outside RESTATE_INPROC_*, such as 'RESTATE_AUTH_TOKEN'.`,
      );
    }
    this.deploymentUrl = tunnelEndpointUrl(tunnelServerUrl(what, props.environment), props.environment, this.tunnelName, 'http', 'in-process', 9080);
  }

  /**
   * Sets what `connectTunnel` reads from its environment (`RESTATE_INPROC_TUNNEL_NAME`,
   * `_ENVIRONMENT_ID`, `_CLOUD_REGION`, `_SIGNING_PUBLIC_KEY`) on a container, and the API key
   * as an ECS secret in `authTokenVariable` (the task's execution role may read that secret).
   * The service then connects with
   * `connectTunnel({ services, authToken: process.env.RESTATE_AUTH_TOKEN })`.
   */
  public addToContainer(container: ecs.ContainerDefinition): void {
    container.addEnvironment('RESTATE_INPROC_TUNNEL_NAME', this.tunnelName);
    container.addEnvironment('RESTATE_INPROC_ENVIRONMENT_ID', this.environment.environmentId);
    container.addEnvironment('RESTATE_INPROC_CLOUD_REGION', this.environment.region.name);
    container.addEnvironment('RESTATE_INPROC_SIGNING_PUBLIC_KEY', this.signingPublicKey);
    container.addSecret(this.authTokenVariable, apiKeySecretOf(this.environment));
  }

  /**
   * Registers `deploymentUrl` with the environment through `deployer`, after `service` (e.g. the
   * ECS service running the container) is deployed. Discovery is retried for
   * `discoveryRetryTimeout` (default three minutes), since the service connects its tunnel only
   * after it has started.
   */
  public register(deployer: ServiceDeployer, service: IConstruct, options: HttpRegistrationOptions = {}): ServiceRegistration {
    return registerThroughTunnel(deployer, this.deploymentUrl, this.environment, options, [service]);
  }
}
