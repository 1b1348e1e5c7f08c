/**
 * Create and Update: registering a deployment and making it serve as asked.
 */
import { AdminClient, Deployment, RegisterRequest, RegisterResponse, ServiceMetadata } from './admin-client';
import { discoveryRetry, withRetries } from './admin-retries';
import { CfnResult } from './cfn-response';
import { adminClient, readSecretHeaders, waitForHealth } from './connection';
import { CALL_TIMEOUT_MS, DELETE_BUDGET_MS, DeployError, describeEndpoint, describeOwner, message, Progress, RequestContext } from './context';
import { explainRegisterFailure } from './failure-reasons';
import { invokeTarget, revokeUnlessUsed } from './kept-grants';
import { log } from './log';
import {
  CREATED_BY_METADATA_KEY,
  DEFAULTS,
  DeploymentResourceProperties,
  deploymentMetadata,
  isTrue,
  LOGICAL_ID_METADATA_KEY,
  numberOr,
  STACK_ID_METADATA_KEY,
} from './properties';
import { pruneDrained } from './pruning';
import { removeIfDrained } from './removal';
import { grantInvoke, InvokePermissionTarget, revokeInvoke } from './resource-policy';
import { Deadline } from './retry';
import { applyServiceConfiguration, unknownServices } from './service-settings';
import { checkTrusted } from './trust';
import { protocolOf } from '../url';

const REGISTER_TIMEOUT_MS = 120_000;

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
  if (props.Uri && isTrue(props.RequireHttps) && protocolOf(props.Uri) !== 'https:') {
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
  let added: InvokePermissionTarget | undefined;
  if (target) {
    progress.phase = `granting ${target.roleArn} invoke on ${target.lambdaArn}`;
    if (await grantInvoke(target, deadline)) added = target;
  }
  const reg: Registration = { client, props, ctx, endpoint, deadline, progress, headers };
  let result: CfnResult & { status: 'SUCCESS' };
  try {
    result = await registerAndConfigure(reg);
  } catch (e) {
    throw await undoFailedRegistration(reg, e, added);
  }
  const cleanup = await releaseOldGrant(reg, result.physicalResourceId);
  return cleanup ? { ...result, reason: `${result.reason}; ${cleanup}` } : result;
}

async function registerAndConfigure(reg: Registration): Promise<CfnResult & { status: 'SUCCESS' }> {
  const { client, props, endpoint, deadline, progress } = reg;
  const force = isTrue(props.Force);
  progress.phase = `registering ${endpoint} at ${client.adminUrl}/deployments`;
  log('registering', { endpoint, adminUrl: client.adminUrl, force, breaking: isTrue(props.Breaking) });
  const first = await register(reg, force, reg.ctx.resource.requestId);
  const deploymentId = first.response.id;
  if (first.status === 201) reg.created = deploymentId;
  log('registered', { deploymentId, created: first.status === 201, services: first.response.services?.map((s) => s.name) });

  // An existing deployment answers 200 as it is: serving another revision, owned by another
  // resource, or with an older role or headers. Re-registering it with force fixes all three.
  let services = first.response.services ?? [];
  // A 200 without force: the services were just looked up, and are checked again only after a re-registration.
  const lookedUp = first.status !== 201 && !force;
  const { why, existing } = lookedUp ? await whyReRegister(reg, deploymentId, services.map((s) => s.name)) : { why: [] };
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
  // Just seen serving them all, and not registered again since: no need to look twice.
  const newer = lookedUp && why.length === 0 ? '' : await checkServing(reg, deploymentId, services);

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

  const wantPublic = !isTrue(props.Private);
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
  if (isTrue(props.PruneDrained) && props.Owner) {
    progress.phase = 'pruning drained deployments';
    const maxPruned = numberOr(props.MaxPrunedPerRun, Infinity);
    const keep = numberOr(props.RevisionHistoryLimit, DEFAULTS.revisionHistoryLimit);
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
    ...(props.Uri && props.UseHttp11 !== undefined ? { use_http_11: isTrue(props.UseHttp11) } : {}),
    force,
    breaking: isTrue(props.Breaking),
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
async function whyReRegister(
  reg: Registration,
  deploymentId: string,
  serviceNames: string[],
): Promise<{ why: string[]; existing?: Deployment }> {
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
  if (props.Uri && props.UseHttp11 !== undefined && (existing.use_http_11 ?? false) !== isTrue(props.UseHttp11)) why.push('its HTTP version changed');
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
  const ours = new Map(services.map((s) => [s.name, s.revision]));
  const older = others.filter((o) => {
    const revision = ours.get(o.name);
    return revision === undefined || o.revision <= revision;
  });
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
 * After a failed registration, whatever failed: removes the deployment this request created
 * (unless invocations are pinned to it) and a grant it added, and says in the reason what was left.
 */
async function undoFailedRegistration(reg: Registration, e: unknown, addedGrant: InvokePermissionTarget | undefined): Promise<Error> {
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
  if (current && current.roleArn === old.roleArn && current.environment === old.environment) return undefined;
  return revokeUnlessUsed(reg.client, old, [deploymentId], reg.deadline.within(DELETE_BUDGET_MS));
}

function sameHeaders(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const norm = (h: Record<string, string> | undefined) =>
    // Stryker disable next-line MethodExpression: equivalent, upper case compares names without regard to case too
    JSON.stringify(Object.entries(h ?? {}).map(([k, v]) => [k.toLowerCase(), v]).sort());
  return norm(a) === norm(b);
}

