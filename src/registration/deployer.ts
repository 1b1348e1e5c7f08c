import { AdminApiError, AdminClient, Deployment, RegisterRequest, TransportError } from './admin-client';
import { backoffDelay, Deadline, sleep } from './backoff';
import { CfnResult } from './cfn-response';
import { GrantOutcome, grantInvoke, InvokePermissionError, InvokePermissionTarget, revokeInvoke } from './invoke-permission';
import { log } from './log';
import { DeploymentResourceProperties, deploymentMetadata, OWNER_METADATA_KEY } from './properties';
import { readSecret, SecretError } from './secrets';
import { protocolOf } from '../url';

/** A failure whose message is the whole reason CloudFormation shows. */
export class DeployError extends Error {}

/** What the handler is doing now: named in the reason when time runs out. */
export interface Progress {
  phase: string;
  last?: string;
}

const DEPLOYMENT_ID = /^dp_[A-Za-z0-9]+$/;
const REGISTER_TIMEOUT_MS = 120_000;
const CALL_TIMEOUT_MS = 10_000;
const LAST_PROBE_MS = 1_000;
/** Health polls are cheap: a short cap lets a deploy go on soon after the admin API comes up. */
const HEALTH_BACKOFF_CAP_MS = 2_000;
/** Deletes are best effort and must never hold up stack deletion or rollback. */
const DELETE_BUDGET_MS = 20_000;

const bool = (v: string | undefined) => v === 'true';

/** Create and Update: wait for health, register, check services, set visibility, prune. */
export async function registerDeployment(
  props: DeploymentResourceProperties,
  deadline: Deadline,
  progress: Progress,
): Promise<CfnResult & { status: 'SUCCESS' }> {
  const endpoint = describeEndpoint(props);
  if (!props.AdminUrl) throw new DeployError('the AdminUrl property is missing: the custom resource was not created by ServiceDeployer.');
  if (!props.LambdaArn === !props.Uri) {
    throw new DeployError('exactly one of the LambdaArn and Uri properties must be set: the custom resource was not created by ServiceDeployer.');
  }
  if (props.Uri && bool(props.RequireHttps) && protocolOf(props.Uri) !== 'https:') {
    throw new DeployError(
      `endpoint ${props.Uri} is not HTTPS, but the environment requires HTTPS: serve it over https://, or register with allowInsecureHttp: true.`,
    );
  }

  progress.phase = 'reading the admin API key';
  const client = await adminClient(props);
  const headers = await readSecretHeaders(props);

  await waitForHealth(client, props, deadline, progress);

  // Discovery invokes the handler through the invoker role: the grant comes first.
  const target = invokeTarget(props);
  let granted: GrantOutcome | undefined;
  if (target) {
    progress.phase = `granting ${target.roleArn} invoke on ${target.lambdaArn}`;
    granted = await grantInvoke(target, deadline);
  }
  const outcome: RegistrationOutcome = { deploymentLeft: false };
  try {
    return await registerAndConfigure(client, props, headers, endpoint, deadline, progress, outcome);
  } catch (e) {
    // A failed registration leaves no grant behind that it made itself, unless a deployment
    // now points at the handler (e.g. making a service private failed after registering).
    if (target && granted === 'added' && !outcome.deploymentLeft) await revokeInvoke(target, deadline.within(CALL_TIMEOUT_MS));
    throw e;
  }
}

/** Whether a failed registration still left a deployment registered for the endpoint. */
interface RegistrationOutcome {
  deploymentLeft: boolean;
}

async function registerAndConfigure(
  client: AdminClient,
  props: DeploymentResourceProperties,
  headers: Record<string, string> | undefined,
  endpoint: string,
  deadline: Deadline,
  progress: Progress,
  outcome: RegistrationOutcome,
): Promise<CfnResult & { status: 'SUCCESS' }> {
  const request: RegisterRequest = {
    ...(props.LambdaArn ? { arn: props.LambdaArn } : { uri: props.Uri! }),
    ...(props.AssumeRoleArn ? { assume_role_arn: props.AssumeRoleArn } : {}),
    ...(headers ? { additional_headers: headers } : {}),
    ...(props.Uri && props.UseHttp11 !== undefined ? { use_http_11: bool(props.UseHttp11) } : {}),
    force: bool(props.Force),
    breaking: bool(props.Breaking),
    metadata: deploymentMetadata(props),
  };
  progress.phase = `registering ${endpoint} at ${client.adminUrl}/deployments`;
  log('registering', { endpoint, adminUrl: client.adminUrl, force: request.force, breaking: request.breaking });
  const { status, response } = await withRetries(progress, deadline, () =>
    client.register(request, deadline.cap(REGISTER_TIMEOUT_MS)),
  ).catch((e) => {
    throw explainRegisterFailure(e, endpoint, props);
  });
  const deploymentId = response.id;
  outcome.deploymentLeft = true;
  const services = response.services ?? [];
  const names = services.map((s) => s.name);
  log('registered', { deploymentId, created: status === 201, services: names });

  const missing = (props.ExpectedServices ?? []).filter((n) => !names.includes(n));
  if (missing.length > 0) {
    if (status === 201) outcome.deploymentLeft = !(await removeQuietly(client, deploymentId, deadline));
    const cleanup = status !== 201 ? '' : outcome.deploymentLeft ? `; the new deployment ${deploymentId} could not be removed again` : `; the new deployment ${deploymentId} was removed again`;
    throw new DeployError(
      `discovery of ${endpoint} found service(s) [${names.join(', ')}], but expected service(s) [${missing.join(', ')}] were missing${cleanup}. ` +
        'Check that the deployed code binds these services, or correct expectedServices.',
    );
  }

  const wantPublic = !bool(props.Private);
  for (const service of services) {
    if (service.public === wantPublic) continue;
    progress.phase = `making service ${service.name} ${wantPublic ? 'public' : 'private'}`;
    await client.setServicePublic(service.name, wantPublic, deadline.cap(CALL_TIMEOUT_MS)).catch((e) => {
      throw new DeployError(`registered ${deploymentId}, but could not make service ${service.name} ${wantPublic ? 'public' : 'private'}: ${message(e)}`);
    });
    log('visibility set', { service: service.name, public: wantPublic });
  }

  let pruned = '';
  if (bool(props.PruneDrained) && props.Owner) {
    progress.phase = 'pruning drained deployments';
    pruned = await pruneDrained(client, props, deploymentId, Number(props.RevisionHistoryLimit ?? '0'), deadline);
  }

  return {
    status: 'SUCCESS',
    physicalResourceId: deploymentId,
    reason: `${status === 201 ? 'Registered' : 'Already registered'} ${endpoint} as ${deploymentId} with services [${names.join(', ')}]${pruned}`,
    data: { DeploymentId: deploymentId, ServiceNames: names.join(',') },
  };
}

/** Delete: honour the removal policy; best effort, bounded, always SUCCESS. */
export async function removeDeployment(
  props: DeploymentResourceProperties,
  physicalId: string,
  deadline: Deadline,
  progress: Progress,
): Promise<CfnResult> {
  const ok = (reason: string): CfnResult => {
    log('delete', { deploymentId: physicalId, outcome: reason });
    return { status: 'SUCCESS', physicalResourceId: physicalId, reason };
  };
  if (!DEPLOYMENT_ID.test(physicalId)) return ok(`Nothing to remove: ${physicalId} is not a Restate deployment id (the create had failed).`);
  const target = invokeTarget(props);
  const keepsGrant = target ? ', with the invoker role\'s permission to invoke its handler' : '';
  if (props.RemovalPolicy !== 'destroy') return ok(`Retained deployment ${physicalId} (removal policy RETAIN)${keepsGrant}.`);

  const budget = deadline.within(DELETE_BUDGET_MS);
  try {
    progress.phase = 'reading the admin API key';
    const client = await adminClient(props);
    progress.phase = `removing deployment ${physicalId} at ${client.adminUrl}`;
    if (!bool(props.Force)) {
      const inFlight = await client.inFlightInvocations(physicalId, budget.cap(CALL_TIMEOUT_MS));
      if (inFlight > 0) {
        return ok(
          `Kept deployment ${physicalId}${keepsGrant}: ${inFlight} invocation(s) are still pinned to it. Remove it once drained, or register with force: true to remove it regardless.`,
        );
      }
    }
    const status = await client.deleteDeployment(physicalId, budget.cap(CALL_TIMEOUT_MS));
    const removed = status === 404 ? `Deployment ${physicalId} was already gone` : `Removed deployment ${physicalId}`;
    if (!target) return ok(`${removed}.`);
    progress.phase = `removing the invoke permission on ${target.lambdaArn}`;
    return ok(`${removed}; ${await revokeUnlessUsed(client, target, [physicalId], budget)}.`);
  } catch (e) {
    return ok(`Deployment ${physicalId} was not removed (${message(e)}); the stack goes on. Remove it by hand if it is no longer needed.`);
  }
}

async function adminClient(props: DeploymentResourceProperties): Promise<AdminClient> {
  let token: string | undefined;
  if (props.AuthTokenSecretArn) {
    try {
      token = await readSecret(props.AuthTokenSecretArn, props.AuthTokenJsonField);
    } catch (e) {
      throw new DeployError(
        `${message(e)}. The admin API key is read from this secret at deploy time: check that it exists, holds the key` +
          `${props.AuthTokenJsonField ? ` in field '${props.AuthTokenJsonField}'` : ''}, and that the deployer's role may read it.`,
      );
    }
  }
  return new AdminClient({ adminUrl: props.AdminUrl, token, insecure: bool(props.InsecureSkipTlsVerify) });
}

async function readSecretHeaders(props: DeploymentResourceProperties): Promise<Record<string, string> | undefined> {
  const secretHeaders = props.SecretHeaders ?? [];
  if (secretHeaders.length === 0 && !props.AdditionalHeaders) return undefined;
  const headers: Record<string, string> = { ...props.AdditionalHeaders };
  for (const h of secretHeaders) {
    try {
      headers[h.Name] = await readSecret(h.SecretArn, h.JsonField);
    } catch (e) {
      throw new DeployError(`header '${h.Name}': ${message(e)}`);
    }
  }
  return headers;
}

async function waitForHealth(client: AdminClient, props: DeploymentResourceProperties, deadline: Deadline, progress: Progress) {
  const timeoutMs = Number(props.HealthTimeoutSeconds ?? '120') * 1000;
  const wait = deadline.within(timeoutMs);
  // When the deployer's own time is shorter than the bound, it is what ends the wait.
  const cutByDeadline = deadline.remainingMs() < timeoutMs;
  const url = `${client.adminUrl}/health`;
  progress.phase = `waiting for the admin API at ${url}`;
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      const status = await client.healthStatus(wait.cap(5_000));
      if (status === 200) {
        log('admin API healthy', { url, attempts: attempt + 1, waitedMs: Date.now() - started });
        return;
      }
      progress.last = `HTTP ${status}`;
    } catch (e) {
      if (e instanceof AdminApiError) throw authFailure(e, props);
      progress.last = e instanceof TransportError ? e.cause : message(e);
    }
    log('admin API not healthy yet', { url, attempt: attempt + 1, last: progress.last });
    // Leave the last probe a second, so that its answer (not a timeout) is what gets reported.
    const left = wait.remainingMs();
    if (left <= LAST_PROBE_MS) break;
    await sleep(Math.min(backoffDelay(attempt, 250, HEALTH_BACKOFF_CAP_MS), left - LAST_PROBE_MS));
  }
  const waited = Math.round((Date.now() - started) / 1000);
  const last = progress.last ?? 'no answer';
  if (cutByDeadline) {
    throw new DeployError(
      `the deployer ran out of time after waiting ${waited} s for the admin API at ${url} (last: ${last}), before the health check bound of ${timeoutMs / 1000} s. ` +
        'Raise the ServiceDeployer timeout, and check that the environment is running and reachable from the deployer.',
    );
  }
  throw new DeployError(
    `the admin API at ${url} was not healthy within ${waited} s (last: ${last}). ` +
      'Check the admin URL, that the environment is running, and that the deployer can reach it (VPC, NAT, security groups).',
  );
}

/** Retries transport errors and 5xx answers within the deadline; 4xx answers are final. */
async function withRetries<T>(progress: Progress, deadline: Deadline, call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      // Discovery failures are final: Restate has already retried discovery itself.
      const retriable =
        e instanceof TransportError || (e instanceof AdminApiError && e.status >= 500 && e.status !== 501 && !e.isDiscoveryFailure);
      progress.last = message(e);
      const delay = backoffDelay(attempt, 500);
      if (!retriable || attempt >= 4 || deadline.remainingMs() <= delay + 1_000) throw e;
      log('retrying', { phase: progress.phase, attempt: attempt + 1, last: progress.last });
      await sleep(delay);
    }
  }
}

function explainRegisterFailure(e: unknown, endpoint: string, props: DeploymentResourceProperties): Error {
  if (e instanceof AdminApiError) {
    if (e.isAuthError) return authFailure(e, props);
    if (e.isDiscoveryFailure) {
      return new DeployError(
        `registering ${endpoint} failed: ${e.message}. ` +
          'Restate could not discover the service: check that the endpoint is reachable from the Restate environment and serves a Restate SDK endpoint' +
          `${props.LambdaArn ? ', and that the invoker role may invoke it' : ''}.`,
      );
    }
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

function authFailure(e: AdminApiError, props: DeploymentResourceProperties): DeployError {
  const secret = props.AuthTokenSecretArn
    ? `the API key in secret ${props.AuthTokenSecretArn}${props.AuthTokenJsonField ? ` (field '${props.AuthTokenJsonField}')` : ''}`
    : 'no API key (the environment has no authToken secret)';
  return new DeployError(
    `the admin API rejected ${secret}: ${e.method} ${e.url} answered HTTP ${e.status}: ${e.apiMessage}. ` +
      'Put a valid API key with a role that may manage deployments into the secret.',
  );
}

async function pruneDrained(
  client: AdminClient,
  props: DeploymentResourceProperties,
  currentId: string,
  keep: number,
  deadline: Deadline,
): Promise<string> {
  const owner = props.Owner!;
  const removed: string[] = [];
  const kept: string[] = [];
  const revoked: string[] = [];
  try {
    const deployments = await client.listDeployments(deadline.cap(CALL_TIMEOUT_MS));
    const older = deployments
      .filter((d) => d.id !== currentId && d.metadata?.[OWNER_METADATA_KEY] === owner)
      .sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? ''))
      .slice(keep);
    for (const d of older) {
      const inFlight = await client.inFlightInvocations(d.id, deadline.cap(CALL_TIMEOUT_MS));
      if (inFlight > 0) {
        kept.push(`${d.id} (${inFlight} in flight)`);
        continue;
      }
      await client.deleteDeployment(d.id, deadline.cap(CALL_TIMEOUT_MS));
      removed.push(d.id);
      // The pruned version's grant goes with it, unless another deployment still uses it.
      const roleArn = d.assume_role_arn ?? props.AssumeRoleArn;
      if (bool(props.GrantInvoke) && d.arn && roleArn) {
        const prunedTarget = { lambdaArn: d.arn, roleArn };
        if (usersOf(prunedTarget, deployments, removed, props.AssumeRoleArn).length === 0) revoked.push(await revokeInvoke(prunedTarget, deadline));
      }
    }
  } catch (e) {
    log('pruning stopped', { error: message(e) });
    return `; pruning stopped: ${message(e)}`;
  }
  log('pruned', { removed, kept });
  return removed.length || kept.length
    ? `; pruned [${removed.join(', ')}]${kept.length ? `, kept draining [${kept.join(', ')}]` : ''}${revoked.length ? `; ${revoked.join('; ')}` : ''}`
    : '';
}

/** The grant this registration keeps for its handler, if it keeps one. */
function invokeTarget(props: DeploymentResourceProperties): InvokePermissionTarget | undefined {
  if (!bool(props.GrantInvoke) || !props.LambdaArn || !props.AssumeRoleArn) return undefined;
  return { lambdaArn: props.LambdaArn, roleArn: props.AssumeRoleArn };
}

/**
 * The ids of the deployments, other than `gone`, that invoke `target`'s handler through its
 * role. A deployment listed without a role is taken to use `defaultRoleArn` (the registration's).
 */
function usersOf(target: InvokePermissionTarget, deployments: Deployment[], gone: string[], defaultRoleArn: string | undefined): string[] {
  return deployments
    .filter((d) => !gone.includes(d.id) && d.arn === target.lambdaArn && (d.assume_role_arn ?? defaultRoleArn) === target.roleArn)
    .map((d) => d.id);
}

/**
 * Removes the grant once no other deployment invokes the same handler through the same role
 * (re-registering with force can leave a new deployment on the same version). When that
 * cannot be checked, the grant stays: a dangling statement is harmless, a missing one is not.
 */
async function revokeUnlessUsed(client: AdminClient, target: InvokePermissionTarget, gone: string[], deadline: Deadline): Promise<string> {
  let others: string[];
  try {
    others = usersOf(target, await client.listDeployments(deadline.cap(CALL_TIMEOUT_MS)), gone, target.roleArn);
  } catch (e) {
    return `kept the invoker role's invoke permission on ${target.lambdaArn}, since other deployments could not be listed (${message(e)})`;
  }
  if (others.length > 0) return `kept the invoker role's invoke permission on ${target.lambdaArn}, which ${others.join(', ')} still use(s)`;
  return revokeInvoke(target, deadline);
}

/** Removes a deployment this request created and then rejected; true when it is gone. */
async function removeQuietly(client: AdminClient, deploymentId: string, deadline: Deadline): Promise<boolean> {
  try {
    await client.deleteDeployment(deploymentId, deadline.cap(CALL_TIMEOUT_MS));
    return true;
  } catch (e) {
    log('could not remove rejected deployment', { deploymentId, error: message(e) });
    return false;
  }
}

function describeEndpoint(props: DeploymentResourceProperties): string {
  return props.LambdaArn ? `Lambda ${props.LambdaArn}` : `endpoint ${props.Uri ?? '(no Uri)'}`;
}

export function message(e: unknown): string {
  if (e instanceof SecretError || e instanceof DeployError || e instanceof InvokePermissionError) return e.message;
  return e instanceof Error ? e.message : String(e);
}
