import { Duration } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { IRestateEnvironment } from './environment';
import { ServiceDeployer } from './service-deployer';
import { HttpRegistrationOptions } from './service-deployer-options';
import { ServiceRegistration } from './service-registration';

/**
 * How long a registration through a tunnel retries discovery by default: the ECS service counts
 * as deployed once its tasks run, a little before their tunnel connects, and registering before
 * it has connected fails (Restate's Kubernetes operator retries after 30 s).
 * @internal
 */
export const DEFAULT_TUNNEL_DISCOVERY_RETRY = Duration.minutes(3);

/**
 * Registers `url` through `deployer`, retrying discovery for `discoveryRetryTimeout` (default
 * three minutes), and after everything in `dependsOn` is deployed.
 * @internal
 */
export function registerThroughTunnel(
  deployer: ServiceDeployer,
  url: string,
  environment: IRestateEnvironment,
  options: HttpRegistrationOptions,
  dependsOn: IConstruct[],
): ServiceRegistration {
  const registration = deployer.registerHttp(url, environment, {
    ...options,
    discoveryRetryTimeout: options.discoveryRetryTimeout ?? DEFAULT_TUNNEL_DISCOVERY_RETRY,
  });
  for (const d of dependsOn) registration.node.addDependency(d);
  return registration;
}
