/**
 * Reasons for failed registrations, in the terms of the fix: what CloudFormation shows.
 */
import { AdminApiError, TransportError } from './admin-client';
import { DeployError } from './context';
import { describeDiscoveryFailure } from './discovery-error';
import { DEFAULTS, DeploymentResourceProperties, numberOr } from './properties';

export function explainRegisterFailure(e: unknown, endpoint: string, props: DeploymentResourceProperties): Error {
  if (e instanceof AdminApiError) {
    if (e.isAuthError) return authFailure(e, props);
    if (e.isDiscoveryFailure) return new DeployError(explainDiscoveryFailure(e, endpoint, props));
    if (e.status === 409) {
      return new DeployError(
        `registering ${endpoint} failed: ${e.method} ${e.url} answered HTTP 409: ${e.apiMessage}. ` +
          'The new revision conflicts with the registered one: register it as a new version/URL, or set breaking: true (or force: true) if that is intended.',
      );
    }
    return new DeployError(`registering ${endpoint} failed: ${e.message}`);
  }
  if (e instanceof TransportError) return new DeployError(`registering ${endpoint} failed: no answer from the admin API: ${e.message}`);
  return e instanceof Error ? e : new Error(String(e));
}

/** Restate tried to discover the endpoint and could not: say why, in the terms of the fix. */
export function explainDiscoveryFailure(e: AdminApiError, endpoint: string, props: DeploymentResourceProperties): string {
  const { kind, summary } = describeDiscoveryFailure(e.apiMessage, e.restateCode);
  const what = `registering ${endpoint} failed: ${e.method} ${e.url} answered HTTP ${e.status}${e.restateCode ? ` (${e.restateCode})` : ''}: ${summary}`;
  const role = props.AssumeRoleArn ?? '(no invoker role)';
  const authRetrySeconds = numberOr(props.AuthRetrySeconds, DEFAULTS.authRetrySeconds);
  const retried = authRetrySeconds > 0 ? `, for ${authRetrySeconds} s` : '';
  switch (kind) {
    case 'assume-role-denied':
      return (
        `${what}. Restate could not assume role ${role}${retried}: check that the role exists and that its trust policy trusts Restate Cloud ` +
        '(the documented principal, with the environment id as sts:ExternalId).'
      );
    case 'invoke-denied':
      return (
        `${what}. Role ${role} may not invoke ${props.LambdaArn}${retried}: the version's resource policy must allow lambda:InvokeFunction for the role ` +
        '(invokeGrant TEMPLATE or DEPLOYER; with NONE, grant it yourself).'
      );
    case 'function-not-found':
      return `${what}. Check that the version or alias exists in this account and region.`;
    case 'handler-error':
      return `${what}. The function failed while answering discovery: check its logs, and that it serves a Restate endpoint (createEndpointHandler).`;
    case 'not-restate':
      return `${what}. The ${props.LambdaArn ? 'function' : 'endpoint'} answered, but not as a Restate endpoint: serve the service with a Restate SDK endpoint.`;
    default:
      return (
        `${what}. Restate could not discover the service: check that the endpoint is reachable from the Restate environment and serves a Restate SDK endpoint` +
        `${props.LambdaArn ? ', and that the invoker role may invoke it' : ''}.`
      );
  }
}

export function authFailure(e: AdminApiError, props: DeploymentResourceProperties): DeployError {
  const secret = props.AuthTokenSecretArn
    ? `the API key in secret ${props.AuthTokenSecretArn}${props.AuthTokenJsonField ? ` (field '${props.AuthTokenJsonField}')` : ''}`
    : 'no API key (the environment has no authToken secret)';
  return new DeployError(
    `the admin API rejected ${secret}: ${e.method} ${e.url} answered HTTP ${e.status}: ${e.apiMessage}. ` +
      'Put a valid API key with a role that may manage deployments into the secret.',
  );
}
