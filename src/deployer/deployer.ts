import { AdminApiError, AdminClient, Deployment, RegisterRequest, RegisterResponse, ServiceMetadata, TransportError } from './admin-client';
import { backoffDelay, Deadline, sleep } from './backoff';
import { CfnResult } from './cfn-response';
import { describeDiscoveryFailure, DiscoveryFailureKind } from './discovery-error';
import { GrantOutcome, grantInvoke, InvokePermissionTarget, revokeInvoke } from './resource-policy';
import { log } from './log';
import {
  CREATED_BY_METADATA_KEY,
  DEFAULTS,
  DeploymentResourceProperties,
  deploymentMetadata,
  FAILED_CREATE_PREFIX,
  LOGICAL_ID_METADATA_KEY,
  OWNER_METADATA_KEY,
  ResourceIdentity,
  STACK_ID_METADATA_KEY,
} from './properties';
import { forgetSecret, readSecret, readSecretEntry } from './secrets';
import { applyServiceConfiguration, unknownServices } from './service-settings';
import { checkTrusted, normalizeUrl } from './trust';
import { protocolOf } from '../url';

/** A failure whose message is the whole reason CloudFormation shows. */
export class DeployError extends Error {}

/** What the handler is doing now: named in the reason when time runs out. */
export interface Progress {
  phase: string;
  last?: string;
}

/** The request being answered: which resource, its previous properties, and when to hang up. */
export interface RequestContext {
  readonly resource: ResourceIdentity;
  /** Update only: the properties the resource had before, and its physical id. */
  readonly oldProps?: DeploymentResourceProperties;
  readonly priorId?: string;
  /** Aborted when the deployer stops waiting: requests in flight hang up. */
  readonly signal?: AbortSignal;
}

const DEPLOYMENT_ID = /^dp_[A-Za-z0-9]+$/;
const REGISTER_TIMEOUT_MS = 120_000;
const CALL_TIMEOUT_MS = 10_000;
const LAST_PROBE_MS = 1_000;
/** Health probes: every ~0.25 s (jittered) for the first half minute, then every ~1 s (cap 2 s). */
const HEALTH_FAST_PROBE_CAP_MS = 500;
const HEALTH_FAST_PROBES_MS = 30_000;
const HEALTH_BACKOFF_CAP_MS = 2_000;
/** Deletes are best effort and must never hold up stack deletion or rollback. */
const DELETE_BUDGET_MS = 20_000;
/**
 * Discovery that AWS refused (AssumeRole or Invoke denied): a grant or role made moments ago may
 * not be effective yet (IAM is eventually consistent), so these are retried for a while.
 */
const REFUSED_BY_AWS: DiscoveryFailureKind[] = ['assume-role-denied', 'invoke-denied'];

const bool = (v: string | undefined) => v === 'true';

/** One registration in progress: what every step needs. */
interface Registration {
  readonly client: AdminClient;
  readonly props: DeploymentResourceProperties;
  readonly ctx: RequestContext;
  readonly endpoint: string;
  readonly deadline: Deadline;
  readonly progress: Progress;
  readonly headers?: Record<string, string>;
  /** Set once the admin API created a deployment for this request (201). */
  created?: string;
  /** Set once an existing deployment was re-registered to serve again. */
  promoted?: string;
}

/** Create and Update: wait for health, register, make it serve, check services, set visibility, prune. */
export async function registerDeployment(
  props: DeploymentResourceProperties,
  ctx: RequestContext,
  deadline: Deadline,
  progress: Progress,
): Promise<CfnResult & { status: 'SUCCESS' }> {
  const endpoint = describeEndpoint(props);
  checkTrusted(props);
  if (props.Uri && bool(props.RequireHttps) && protocolOf(props.Uri) !== 'https:') {
    throw new DeployError(
      `endpoint ${props.Uri} is not HTTPS, but the environment requires HTTPS: serve it over https://, or register with allowInsecureHttp: true.`,
    );
  }

  progress.phase = 'reading the admin API key';
  const connect = () => adminClient(props, ctx.signal);
  const connection = await connect();
  const headers = await readSecretHeaders(props);
  const client = await waitForHealth(connection, connect, props, deadline, progress);

  // Discovery invokes the handler through the invoker role: the grant comes first.
  const target = invokeTarget(props);
  let granted: GrantOutcome | undefined;
  if (target) {
    progress.phase = `granting ${target.roleArn} invoke on ${target.lambdaArn}`;
    granted = await grantInvoke(target, deadline);
  }
  const reg: Registration = { client, props, ctx, endpoint, deadline, progress, headers };
  let result: CfnResult & { status: 'SUCCESS' };
  try {
    result = await registerAndConfigure(reg);
  } catch (e) {
    throw await undoFailedRegistration(reg, e, target && granted === 'added' ? target : undefined);
  }
  const cleanup = await releaseOldGrant(reg, result.physicalResourceId);
  return cleanup ? { ...result, reason: `${result.reason}; ${cleanup}` } : result;
}

async function registerAndConfigure(reg: Registration): Promise<CfnResult & { status: 'SUCCESS' }> {
  const { client, props, endpoint, deadline, progress } = reg;
  const force = bool(props.Force);
  progress.phase = `registering ${endpoint} at ${client.adminUrl}/deployments`;
  log('registering', { endpoint, adminUrl: client.adminUrl, force, breaking: bool(props.Breaking) });
  const first = await register(reg, force, reg.ctx.resource.requestId);
  const deploymentId = first.response.id;
  if (first.status === 201) reg.created = deploymentId;
  log('registered', { deploymentId, created: first.status === 201, services: first.response.services?.map((s) => s.name) });

  // An existing deployment answers 200 as it is: serving another revision, owned by another
  // resource, or with an older role or headers. Re-registering it with force fixes all three.
  let services = first.response.services ?? [];
  const { why, existing } = first.status === 201 || force ? { why: [] } : await whyReRegister(reg, deploymentId, services.map((s) => s.name));
  if (why.length > 0) {
    progress.phase = `re-registering ${endpoint} with force to make ${deploymentId} serve (${why.join('; ')})`;
    // The deployment keeps the id of the request that created it: a failed Create's rollback
    // removes only what that Create created.
    const again = await register(reg, true, existing?.metadata?.[CREATED_BY_METADATA_KEY] ?? '');
    if (again.response.id !== deploymentId) {
      throw new DeployError(`re-registering ${endpoint} with force answered deployment ${again.response.id}, not ${deploymentId}; check the admin API's deployments.`);
    }
    reg.promoted = `${deploymentId} (${why.join('; ')})`;
    services = again.response.services ?? services;
    log('re-registered', { deploymentId, why });
  }
  const names = services.map((s) => s.name);
  const newer = await checkServing(reg, deploymentId, services);

  const missing = (props.ExpectedServices ?? []).filter((n) => !names.includes(n));
  if (missing.length > 0) {
    throw new DeployError(
      `discovery of ${endpoint} found service(s) [${names.join(', ')}], but expected service(s) [${missing.join(', ')}] were missing. ` +
        'Check that the deployed code binds these services, or correct expectedServices.',
    );
  }
  const unconfigurable = unknownServices(props.ServiceConfiguration, names);
  if (unconfigurable.length > 0) {
    throw new DeployError(
      `discovery of ${endpoint} found service(s) [${names.join(', ')}], but serviceConfigurations names [${unconfigurable.join(', ')}]. ` +
        'Check the service names (as bound in code), or remove those entries.',
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

  progress.phase = `configuring services [${names.join(', ')}]`;
  const configured = await applyServiceConfiguration(client, props.ServiceConfiguration, services, deadline).catch((e) => {
    throw new DeployError(`registered ${deploymentId}, but ${message(e)}`);
  });

  let pruned = '';
  if (bool(props.PruneDrained) && props.Owner) {
    progress.phase = 'pruning drained deployments';
    const maxPruned = props.MaxPrunedPerRun === undefined ? Infinity : Number(props.MaxPrunedPerRun);
    const keep = Number(props.RevisionHistoryLimit ?? DEFAULTS.revisionHistoryLimit);
    pruned = await pruneDrained(client, props, deploymentId, keep, deadline, maxPruned);
  }

  const verb = first.status === 201 ? 'Registered' : reg.promoted ? 'Re-registered' : 'Already registered';
  return {
    status: 'SUCCESS',
    physicalResourceId: deploymentId,
    reason:
      `${verb} ${endpoint} as ${deploymentId} with services [${names.join(', ')}]` +
      `${reg.promoted ? `; promoted ${reg.promoted}, so that it serves [${names.join(', ')}]` : ''}` +
      `${configured.length > 0 ? `; configured ${configured.join(', ')}` : ''}${newer}${serverNotes(first.response)}${pruned}`,
    data: { DeploymentId: deploymentId, ServiceNames: names.join(',') },
  };
}

async function register(reg: Registration, force: boolean, createdBy: string): Promise<{ status: number; response: RegisterResponse }> {
  const { client, props, deadline, progress } = reg;
  const request: RegisterRequest = {
    ...(props.LambdaArn ? { arn: props.LambdaArn } : { uri: props.Uri! }),
    ...(props.AssumeRoleArn ? { assume_role_arn: props.AssumeRoleArn } : {}),
    ...(reg.headers ? { additional_headers: reg.headers } : {}),
    ...(props.Uri && props.UseHttp11 !== undefined ? { use_http_11: bool(props.UseHttp11) } : {}),
    force,
    breaking: bool(props.Breaking),
    metadata: deploymentMetadata(props, reg.ctx.resource, createdBy),
  };
  const call = () => client.register(request, deadline.cap(REGISTER_TIMEOUT_MS));
  return withRetries(progress, deadline, call, discoveryRetry(props, deadline)).catch((e) => {
    throw explainRegisterFailure(e, reg.endpoint, props);
  });
}

/** The server's notes on a registration (`info`: configuration, deprecations), for the reason. */
function serverNotes(response: RegisterResponse): string {
  const info = response.info ?? [];
  if (info.length === 0) return '';
  log('restate notes', { info });
  return `; Restate noted: ${info.map((i) => `${i.code ? `[${i.code}] ` : ''}${i.message}`).join('; ')}`;
}

/** Why an existing deployment must be re-registered: empty when it already serves as asked. */
async function whyReRegister(reg: Registration, deploymentId: string, serviceNames: string[]): Promise<{ why: string[]; existing?: Deployment }> {
  const { client, props, deadline, ctx } = reg;
  const why: string[] = [];
  const notServing = await servedByOthers(client, deploymentId, serviceNames, deadline);
  if (notServing.length > 0) why.push(`[${notServing.map((s) => `${s.name} was served by ${s.by}`).join(', ')}]`);
  const existing = await client.getDeployment(deploymentId, deadline.cap(CALL_TIMEOUT_MS));
  if (!existing) return { why };
  const meta = existing.metadata ?? {};
  if (meta[STACK_ID_METADATA_KEY] !== ctx.resource.stackId || meta[LOGICAL_ID_METADATA_KEY] !== ctx.resource.logicalId) {
    why.push(`adopted from ${describeOwner(meta)}`);
  }
  if (props.LambdaArn && (existing.assume_role_arn ?? undefined) !== props.AssumeRoleArn) why.push('its invoker role changed');
  if (!sameHeaders(existing.additional_headers, reg.headers)) why.push('its headers changed');
  if (props.Uri && props.UseHttp11 !== undefined && (existing.use_http_11 ?? false) !== bool(props.UseHttp11)) why.push('its HTTP version changed');
  return { why, existing };
}

/** The services among `names` whose latest revision is another deployment than `deploymentId`. */
async function servedByOthers(
  client: AdminClient,
  deploymentId: string,
  names: string[],
  deadline: Deadline,
): Promise<{ name: string; by: string; revision: number }[]> {
  const others: { name: string; by: string; revision: number }[] = [];
  for (const name of names) {
    const service = await client.getService(name, deadline.cap(CALL_TIMEOUT_MS));
    if (service.deployment_id !== deploymentId) {
      others.push({ name, by: `${service.deployment_id} (revision ${service.revision})`, revision: service.revision });
    }
  }
  return others;
}

/**
 * After every successful registration, each of its services is served by it, or by a newer
 * revision that another registration made meanwhile (CloudFormation runs independent resources
 * at once: the later registration rightly wins). An older revision serving means this one did
 * not take: that fails. Returns a note on services a newer registration serves.
 */
async function checkServing(reg: Registration, deploymentId: string, services: ServiceMetadata[]): Promise<string> {
  const names = services.map((s) => s.name);
  reg.progress.phase = `checking that ${deploymentId} serves [${names.join(', ')}]`;
  const others = await servedByOthers(reg.client, deploymentId, names, reg.deadline);
  const ours = (name: string) => services.find((s) => s.name === name)?.revision;
  const older = others.filter((o) => ours(o.name) === undefined || o.revision <= ours(o.name)!);
  if (older.length > 0) {
    throw new DeployError(
      `registered ${reg.endpoint} as ${deploymentId}, but [${older.map((s) => `${s.name} is served by ${s.by}`).join(', ')}]. ` +
        'Another registration of the same services may have run at the same time: deploy again.',
    );
  }
  if (others.length === 0) return '';
  log('a newer revision serves', { deploymentId, services: others.map((o) => `${o.name}: ${o.by}`) });
  return `; [${others.map((o) => `${o.name} is already served by ${o.by}, registered after this one`).join(', ')}]`;
}

/**
 * After a failed registration: removes the deployment this request created (unless invocations
 * are pinned to it) and a grant it added, and says in the reason what was left.
 */
async function undoFailedRegistration(reg: Registration, e: unknown, addedGrant: InvokePermissionTarget | undefined): Promise<Error> {
  if (!(e instanceof DeployError || e instanceof AdminApiError || e instanceof TransportError)) return e instanceof Error ? e : new Error(String(e));
  const budget = reg.deadline.within(DELETE_BUDGET_MS);
  const notes: string[] = [];
  let deploymentLeft = false;
  if (reg.created) {
    const outcome = await removeIfDrained(reg.client, reg.created, budget);
    deploymentLeft = !outcome.startsWith('removed');
    notes.push(`the new deployment ${reg.created} was ${outcome}`);
  }
  if (reg.promoted) notes.push(`${reg.promoted.split(' ')[0]} had already been re-registered to serve, and still does`);
  if (addedGrant && !deploymentLeft) notes.push(await revokeInvoke(addedGrant, budget));
  const text = message(e).replace(/\.$/, '');
  return new DeployError(notes.length > 0 ? `${text}; ${notes.join('; ')}.` : `${text}.`);
}

/** Deletes a deployment no invocation is pinned to; says what happened, never throws. */
async function removeIfDrained(client: AdminClient, deploymentId: string, deadline: Deadline): Promise<string> {
  try {
    // The query engine may answer 5xx while a partition moves (seen under load): retried.
    const inFlight = await withRetries({ phase: `counting invocations pinned to ${deploymentId}` }, deadline, () =>
      client.inFlightInvocations(deploymentId, deadline.cap(CALL_TIMEOUT_MS)),
    );
    if (inFlight > 0) return `kept: ${inFlight} invocation(s) are pinned to it`;
    const status = await client.deleteDeployment(deploymentId, deadline.cap(CALL_TIMEOUT_MS));
    return status === 404 ? 'removed already' : 'removed again';
  } catch (e) {
    log('could not remove deployment', { deploymentId, error: message(e) });
    return `not removed (${message(e)}); remove it by hand`;
  }
}

/**
 * Update: a grant the old properties had the deployer keep, and the new ones no longer use on
 * the same deployment (another role, environment or grant mode), is removed unless another
 * deployment still uses it. A new deployment id leaves this to the Delete of the old one.
 */
async function releaseOldGrant(reg: Registration, deploymentId: string): Promise<string | undefined> {
  const old = reg.ctx.oldProps ? invokeTarget(reg.ctx.oldProps) : undefined;
  // Only the same deployment of the same handler: old properties never name another function.
  if (!old || reg.ctx.priorId !== deploymentId || old.lambdaArn !== reg.props.LambdaArn) return undefined;
  const current = invokeTarget(reg.props);
  if (current && current.lambdaArn === old.lambdaArn && current.roleArn === old.roleArn && current.environment === old.environment) return undefined;
  return revokeUnlessUsed(reg.client, old, [deploymentId], reg.deadline.within(DELETE_BUDGET_MS));
}

/** Delete: honour ownership and the removal policy; best effort, bounded, always SUCCESS. */
export async function removeDeployment(
  props: DeploymentResourceProperties,
  physicalId: string,
  ctx: RequestContext,
  deadline: Deadline,
  progress: Progress,
): Promise<CfnResult> {
  const ok = (reason: string): CfnResult => {
    log('delete', { deploymentId: physicalId, outcome: reason });
    return { status: 'SUCCESS', physicalResourceId: physicalId, reason };
  };
  if (physicalId.startsWith(FAILED_CREATE_PREFIX)) {
    return ok(await removeFailedCreate(props, physicalId.slice(FAILED_CREATE_PREFIX.length), ctx, deadline, progress));
  }
  if (!DEPLOYMENT_ID.test(physicalId)) return ok(`Nothing to remove: ${physicalId} is not a Restate deployment id.`);
  const target = invokeTarget(props);
  const keepsGrant = target ? ', with the invoker role\'s permission to invoke its handler' : '';
  if ((props.RemovalPolicy ?? DEFAULTS.removalPolicy) !== 'destroy') return ok(`Retained deployment ${physicalId} (removal policy RETAIN)${keepsGrant}.`);

  const budget = deadline.within(DELETE_BUDGET_MS);
  try {
    checkTrusted(props);
    progress.phase = 'reading the admin API key';
    const { client } = await adminClient(props, ctx.signal);
    progress.phase = `removing deployment ${physicalId} at ${client.adminUrl}`;
    const deployment = await client.getDeployment(physicalId, budget.cap(CALL_TIMEOUT_MS));
    const owner = deployment && ownerElsewhere(deployment, ctx.resource);
    // A replacement (new logical id) re-registered the same endpoint and took it over.
    if (owner) return ok(`Kept deployment ${physicalId}: it is owned by ${owner}, which replaced this resource.`);
    if (deployment && !bool(props.Force)) {
      const inFlight = await client.inFlightInvocations(physicalId, budget.cap(CALL_TIMEOUT_MS));
      if (inFlight > 0) {
        return ok(
          `Kept deployment ${physicalId}${keepsGrant}: ${inFlight} invocation(s) are still pinned to it. Remove it once drained, or register with force: true to remove it regardless.`,
        );
      }
    }
    const status = deployment ? await client.deleteDeployment(physicalId, budget.cap(CALL_TIMEOUT_MS)) : 404;
    const removed = status === 404 ? `Deployment ${physicalId} was already gone` : `Removed deployment ${physicalId}`;
    if (!target) return ok(`${removed}.`);
    progress.phase = `removing the invoke permission on ${target.lambdaArn}`;
    return ok(`${removed}; ${await revokeUnlessUsed(client, target, [physicalId], budget)}.`);
  } catch (e) {
    return ok(`Deployment ${physicalId} was not removed (${message(e)}); the stack goes on. Remove it by hand if it is no longer needed.`);
  }
}

/**
 * The Delete after a failed Create: removes every deployment that Create created (also one the
 * admin API completed after the deployer stopped waiting), whatever the removal policy, since
 * the resource never existed; and the grant it added. Never throws.
 */
async function removeFailedCreate(
  props: DeploymentResourceProperties,
  requestId: string,
  ctx: RequestContext,
  deadline: Deadline,
  progress: Progress,
): Promise<string> {
  const budget = deadline.within(DELETE_BUDGET_MS);
  try {
    checkTrusted(props);
    progress.phase = 'reading the admin API key';
    const { client } = await adminClient(props, ctx.signal);
    progress.phase = `looking for deployments of the failed create at ${client.adminUrl}`;
    const deployments = await client.listDeployments(budget.cap(CALL_TIMEOUT_MS));
    const leftovers = deployments.filter(
      (d) =>
        d.metadata?.[CREATED_BY_METADATA_KEY] === requestId &&
        d.metadata?.[LOGICAL_ID_METADATA_KEY] === ctx.resource.logicalId &&
        d.metadata?.[STACK_ID_METADATA_KEY] === ctx.resource.stackId,
    );
    const notes = [];
    const gone: string[] = [];
    for (const d of leftovers) {
      const outcome = await removeIfDrained(client, d.id, budget);
      if (outcome.startsWith('removed')) gone.push(d.id);
      notes.push(`deployment ${d.id} ${outcome}`);
    }
    const target = invokeTarget(props);
    if (target && gone.length === leftovers.length) notes.push(await revokeUnlessUsed(client, target, gone, budget));
    return notes.length > 0 ? `Undid the failed create: ${notes.join('; ')}.` : 'Nothing to remove: the failed create left no deployment.';
  } catch (e) {
    return `Could not check what the failed create left (${message(e)}); the stack goes on. Look for deployments with metadata ${CREATED_BY_METADATA_KEY}=${requestId}.`;
  }
}

/** Who else owns `deployment`, when its metadata names another CloudFormation resource. */
function ownerElsewhere(deployment: Deployment, resource: ResourceIdentity): string | undefined {
  const meta = deployment.metadata ?? {};
  const stackId = meta[STACK_ID_METADATA_KEY];
  const logicalId = meta[LOGICAL_ID_METADATA_KEY];
  if (stackId === undefined || logicalId === undefined) return undefined;
  if (stackId === resource.stackId && logicalId === resource.logicalId) return undefined;
  return describeOwner(meta);
}

function describeOwner(meta: Record<string, string>): string {
  const logicalId = meta[LOGICAL_ID_METADATA_KEY];
  const stackId = meta[STACK_ID_METADATA_KEY];
  if (!logicalId || !stackId) return meta[OWNER_METADATA_KEY] ? `'${meta[OWNER_METADATA_KEY]}'` : 'a registration made outside this stack';
  // arn:aws:cloudformation:region:account:stack/NAME/uuid
  const stackName = stackId.split('/')[1] ?? stackId;
  return `${logicalId} of stack ${stackName}${meta[OWNER_METADATA_KEY] ? ` ('${meta[OWNER_METADATA_KEY]}')` : ''}`;
}

function sameHeaders(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const norm = (h: Record<string, string> | undefined) =>
    JSON.stringify(Object.entries(h ?? {}).map(([k, v]) => [k.toLowerCase(), v]).sort());
  return norm(a) === norm(b);
}

/** A client of the admin API, and whether its key came from the secrets cache. */
interface Connection {
  readonly client: AdminClient;
  readonly cachedKey: boolean;
}

async function adminClient(props: DeploymentResourceProperties, signal: AbortSignal | undefined): Promise<Connection> {
  let token: string | undefined;
  let cachedKey = false;
  if (props.AuthTokenSecretArn) {
    try {
      ({ value: token, cached: cachedKey } = await readSecretEntry(props.AuthTokenSecretArn, props.AuthTokenJsonField));
    } catch (e) {
      throw new DeployError(
        `${message(e)}. The admin API key is read from this secret at deploy time: check that it exists, holds the key` +
          `${props.AuthTokenJsonField ? ` in field '${props.AuthTokenJsonField}'` : ''}, and that the deployer's role may read it.`,
      );
    }
  }
  const client = new AdminClient({
    adminUrl: props.AdminUrl,
    token,
    insecure: bool(props.InsecureSkipTlsVerify),
    ca: props.AdminCaCertificate,
    signal,
  });
  return { client, cachedKey };
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

/**
 * Waits until `/health` answers 200 and returns the client that got it. Probes are cheap (a
 * refused connection costs nothing): they come every ~0.25 s for the first half minute, so a
 * deploy goes on soon after the admin API is up, then back off to every ~2 s. A cached key the
 * admin API rejects is read again once (it may have been rotated).
 */
async function waitForHealth(
  connection: Connection,
  reconnect: () => Promise<Connection>,
  props: DeploymentResourceProperties,
  deadline: Deadline,
  progress: Progress,
): Promise<AdminClient> {
  let { client, cachedKey } = connection;
  const timeoutMs = Number(props.HealthTimeoutSeconds ?? DEFAULTS.healthTimeoutSeconds) * 1000;
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
        return client;
      }
      progress.last = `HTTP ${status}`;
    } catch (e) {
      if (e instanceof AdminApiError && cachedKey && props.AuthTokenSecretArn) {
        log('admin API rejected the cached key; reading it again', { url, status: e.status });
        forgetSecret(props.AuthTokenSecretArn);
        ({ client, cachedKey } = await reconnect());
        continue;
      }
      if (e instanceof AdminApiError) throw authFailure(e, props);
      progress.last = e instanceof TransportError ? e.cause : message(e);
    }
    log('admin API not healthy yet', { url, attempt: attempt + 1, last: progress.last });
    // Leave the last probe a second, so that its answer (not a timeout) is what gets reported.
    const left = wait.remainingMs();
    if (left <= LAST_PROBE_MS) break;
    const cap = Date.now() - started < HEALTH_FAST_PROBES_MS ? HEALTH_FAST_PROBE_CAP_MS : HEALTH_BACKOFF_CAP_MS;
    await sleep(Math.min(backoffDelay(attempt, 250, cap), left - LAST_PROBE_MS));
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

/** Which discovery failures are worth retrying, and until when. */
interface DiscoveryRetry {
  readonly until: Deadline;
  readonly retries: (e: AdminApiError) => boolean;
}

/**
 * Lambda: discovery that AWS refused, for AuthRetrySeconds (a grant or role not effective yet).
 * HTTP: any discovery failure, for DiscoveryRetrySeconds (e.g. a tunnel not connected yet).
 */
function discoveryRetry(props: DeploymentResourceProperties, deadline: Deadline): DiscoveryRetry | undefined {
  if (props.LambdaArn) {
    return {
      until: deadline.within(Number(props.AuthRetrySeconds ?? DEFAULTS.authRetrySeconds) * 1000),
      retries: (e) => REFUSED_BY_AWS.includes(describeDiscoveryFailure(e.apiMessage, e.restateCode).kind),
    };
  }
  if (props.DiscoveryRetrySeconds === undefined) return undefined;
  return { until: deadline.within(Number(props.DiscoveryRetrySeconds) * 1000), retries: () => true };
}

/**
 * Retries transport errors and 5xx answers within the deadline; 4xx answers are final, and so
 * are discovery failures (Restate has already retried discovery itself), except those that
 * `discovery` retries until it runs out.
 */
async function withRetries<T>(progress: Progress, deadline: Deadline, call: () => Promise<T>, discovery?: DiscoveryRetry): Promise<T> {
  for (let attempt = 0, discoveryAttempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      progress.last =
        e instanceof AdminApiError && e.isDiscoveryFailure ? `HTTP ${e.status}: ${describeDiscoveryFailure(e.apiMessage, e.restateCode).summary}` : message(e);
      if (discovery && e instanceof AdminApiError && e.isDiscoveryFailure && discovery.retries(e)) {
        // A short cap: the deploy goes on soon after the grant (or tunnel) is there; restate-server
        // itself already tries a few times within each attempt.
        const delay = backoffDelay(discoveryAttempt++, 500, 2_000, 250);
        if (discovery.until.remainingMs() > delay) {
          log('discovery failed; retrying', { phase: progress.phase, attempt: discoveryAttempt, last: progress.last });
          await sleep(delay);
          continue;
        }
        throw e;
      }
      const retriable =
        e instanceof TransportError || (e instanceof AdminApiError && e.status >= 500 && e.status !== 501 && !e.isDiscoveryFailure);
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
function explainDiscoveryFailure(e: AdminApiError, endpoint: string, props: DeploymentResourceProperties): string {
  const { kind, summary } = describeDiscoveryFailure(e.apiMessage, e.restateCode);
  const what = `registering ${endpoint} failed: ${e.method} ${e.url} answered HTTP ${e.status}${e.restateCode ? ` (${e.restateCode})` : ''}: ${summary}`;
  const role = props.AssumeRoleArn ?? '(no invoker role)';
  const retried = Number(props.AuthRetrySeconds ?? DEFAULTS.authRetrySeconds) > 0 ? `, for ${props.AuthRetrySeconds ?? DEFAULTS.authRetrySeconds} s` : '';
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
  maxPruned: number = Infinity,
): Promise<string> {
  const owner = props.Owner!;
  const removed: string[] = [];
  const kept: string[] = [];
  const revoked: string[] = [];
  let deferred = 0;
  try {
    const deployments = await client.listDeployments(deadline.cap(CALL_TIMEOUT_MS));
    const older = deployments
      .filter((d) => d.id !== currentId && d.metadata?.[OWNER_METADATA_KEY] === owner)
      .sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? ''))
      .slice(keep);
    for (const d of older) {
      if (removed.length >= maxPruned) {
        // The per-run cap: the rest are pruned by the next registrations.
        deferred++;
        continue;
      }
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
        const prunedTarget = { lambdaArn: d.arn, roleArn, environment: normalizeUrl(props.AdminUrl) };
        if (usersOf(prunedTarget, deployments, removed, props.AssumeRoleArn).length === 0) revoked.push(await revokeInvoke(prunedTarget, deadline));
      }
    }
  } catch (e) {
    log('pruning stopped', { error: message(e) });
    return `; pruning stopped: ${message(e)}`;
  }
  log('pruned', { removed, kept, deferred });
  return removed.length || kept.length
    ? `; pruned [${removed.join(', ')}]${kept.length ? `, kept draining [${kept.join(', ')}]` : ''}` +
        `${deferred ? `, ${deferred} more left for the next run (maxPrunedPerRun ${maxPruned})` : ''}${revoked.length ? `; ${revoked.join('; ')}` : ''}`
    : '';
}

/** The grant this registration keeps for its handler, if it keeps one. */
function invokeTarget(props: DeploymentResourceProperties): InvokePermissionTarget | undefined {
  if (!bool(props.GrantInvoke) || !props.LambdaArn || !props.AssumeRoleArn) return undefined;
  return { lambdaArn: props.LambdaArn, roleArn: props.AssumeRoleArn, environment: normalizeUrl(props.AdminUrl) };
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

function describeEndpoint(props: DeploymentResourceProperties): string {
  return props.LambdaArn ? `Lambda ${props.LambdaArn}` : `endpoint ${props.Uri ?? '(no Uri)'}`;
}

export function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
