import { Token, Tokenization } from 'aws-cdk-lib';
import { RestateCloudEnvironment } from './cloud-environment';
import { unprefixedEnvironmentId } from './environment-id';
import { protocolOf } from './url';

/** Lowercase alphanumerics and hyphens, one DNS label: the tunnel name is a URL path segment. */
const TUNNEL_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** A DNS name or IPv4 address: it becomes one path segment of the tunnel URL. */
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/** The port the tunnel server serves registrations on, after the region's tunnel host. */
const TUNNEL_SERVER_PORT = 9080;

/**
 * Throws, naming the value and the fix, when a literal tunnel name is not DNS-friendly.
 * @internal
 */
export function validateTunnelName(what: string, tunnelName: string): string {
  if (Token.isUnresolved(tunnelName)) return tunnelName;
  if (typeof tunnelName !== 'string' || !TUNNEL_NAME.test(tunnelName)) {
    throw new Error(
      `${what}: invalid tunnelName ${JSON.stringify(tunnelName)}: expected lowercase letters, digits and hyphens ` +
        "(at most 63, starting and ending with a letter or digit), e.g. 'prod-vpc'. Replicas of one tunnel share its name.",
    );
  }
  return tunnelName;
}

/**
 * The base URL registrations through a tunnel start with: `https://tunnel.<region>.<domain>:9080`
 * for the environment's region, or `override` (a stand-in for tests), without a trailing slash.
 * @internal
 */
export function tunnelServerUrl(what: string, environment: RestateCloudEnvironment, override?: string): string {
  if (override === undefined) return `https://tunnel.${environment.region.name}.${environment.region.domain}:${TUNNEL_SERVER_PORT}`;
  if (Token.isUnresolved(override)) return override;
  const protocol = protocolOf(override);
  if ((protocol !== 'http:' && protocol !== 'https:') || /[?#]/.test(override)) {
    throw new Error(`${what}: invalid tunnelServerUrl ${JSON.stringify(override)}: expected an absolute http(s) URL without query, such as 'http://127.0.0.1:9080'.`);
  }
  return override.replace(/\/+$/, '');
}

/**
 * `<base>/<environment id without env_>/<tunnel name>/<scheme>/<host>/<port>/`: the URL Restate
 * registers to reach `<scheme>://<host>:<port>` through the tunnel named `tunnelName`.
 * @internal
 */
export function tunnelEndpointUrl(
  base: string,
  environment: RestateCloudEnvironment,
  tunnelName: string,
  scheme: 'http' | 'https',
  host: string,
  port: number,
): string {
  return `${base}/${unprefixedEnvironmentId(environment.environmentId)}/${tunnelName}/${scheme}/${host}/${Tokenization.stringifyNumber(port)}/`;
}

/**
 * Throws, naming the value and the fix, when a literal host or port cannot be a destination.
 * @internal
 */
export function validateDestination(what: string, host: string, port: number): void {
  if (!Token.isUnresolved(host) && (typeof host !== 'string' || !HOST.test(host))) {
    throw new Error(
      `${what}: invalid host ${JSON.stringify(host)}: expected a DNS name or IPv4 address the tunnel can reach, ` +
        "such as 'greeter.restate.internal' or '10.0.1.17', without scheme, port or path.",
    );
  }
  if (!Token.isUnresolved(port) && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
    throw new Error(`${what}: invalid port ${JSON.stringify(port)}: expected a whole number from 1 to 65535, such as 9080.`);
  }
}
