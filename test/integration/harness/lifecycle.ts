/**
 * Plays whole stack histories the way CloudFormation does, from templates synthesized in-process
 * by the real constructs, against the deployer handler (in-process, through the CloudFormation
 * stand-in) and a real restate-server.
 *
 * One `LifecycleStack` is one CloudFormation stack (its own name and StackId). Each `deploy()`
 * synthesizes a CDK app (`ServiceDeployer`, `RestateEnvironment.fromAttributes`, the API key as
 * `Secret.fromSecretCompleteArn`), takes the `Custom::RestateDeployment` resources from the
 * template, resolves what CloudFormation would resolve, and diffs them by logical id against
 * what the stack holds:
 *
 * - new logical id → Create; changed properties → Update (ResourceProperties new,
 *   OldResourceProperties old, PhysicalResourceId current); an Update answered with another
 *   PhysicalResourceId → Delete of the old one (with the OLD properties) in the cleanup phase;
 *   a logical id no longer in the template → Delete in the cleanup phase (after all
 *   creates and updates);
 * - a FAILED Create or Update (or an injected "a later resource failed") → rollback:
 *   - stack creation (ROLLBACK): Delete of every resource created, the failed one with the
 *     physical id its FAILED answer gave;
 *   - stack update (UPDATE_ROLLBACK): every resource updated is updated back (ResourceProperties
 *     the old ones, OldResourceProperties the new ones, PhysicalResourceId what the update
 *     answered); a physical id the rolled-back update introduced is deleted (with the new, rolled
 *     back, properties) in the rollback cleanup phase, as is every resource the update created
 *     (the failed Create with the physical id its FAILED answer gave);
 * - `destroy()` (stack deletion) → Delete of every resource, in reverse template order.
 *
 * Resources are processed one at a time in template order (CloudFormation runs independent
 * resources in parallel; the registrations here do not depend on each other).
 *
 * Before each invocation, the deployer function's `Environment.Variables` from the template
 * that CloudFormation would have deployed at that moment are put into process.env (and restored
 * afterwards): the new template's during the update, its rollback updates and the cleanup; the
 * old template's in an update rollback's cleanup phase (the function has been rolled back by then).
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AdminApi, normalize } from './admin-api';
import { CloudFormationInvocation, RequestType } from './cloudformation';
import { httpRequest } from './http';
import { IntegrationEnvironment } from './integration-environment';
import { LOOPBACK } from './ports';
import { freshDir, runEnvironment } from './run-env';
import { closeServer, listenOnLoopback, loopbackUrl, readAll } from './servers';
import { IRestateEnvironment, RestateEnvironment, ServiceDeployer } from '../../../src';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const REGISTRATION_TYPE = 'Custom::RestateDeployment';

/** What a stack definition gets to build the stack's contents with. */
export interface StackScope {
  readonly app: App;
  readonly stack: Stack;
  /** `new ServiceDeployer(stack, 'Deployer')`. */
  readonly deployer: ServiceDeployer;
  /**
   * `RestateEnvironment.fromAttributes({ adminUrl, authToken })` at the authenticating proxy,
   * the API key being `Secret.fromSecretCompleteArn(stack, 'ApiKey', <the key's ARN>)`.
   */
  readonly environment: IRestateEnvironment;
  /** The same environment (same API key) reached at another admin URL, e.g. a refusing proxy. */
  environmentAt(adminUrl: string): IRestateEnvironment;
}

/** Builds the stack's contents; called once per synthesis. */
export type StackDefinition = (scope: StackScope) => void;

/** One `Custom::RestateDeployment` of a synthesized template. */
export interface RegistrationResource {
  readonly logicalId: string;
  /** The registration's construct id (e.g. the `id` given to registerHttp). */
  readonly constructId: string;
  /**
   * ResourceProperties as CloudFormation passes them: intrinsics resolved, scalars as strings,
   * without ServiceToken (the stand-in adds its own, the deployer function's ARN).
   */
  readonly properties: Record<string, unknown>;
  /** Logical id of the deployer function the ServiceToken names. */
  readonly deployerLogicalId: string;
}

export interface SynthesizedStack {
  /** 1 for the first synthesis of this stack, 2 for the next, ... */
  readonly number: number;
  readonly template: CfnTemplate;
  /** Registrations in template order. */
  readonly registrations: RegistrationResource[];
  /** `Environment.Variables` of each deployer function (by logical id), resolved. */
  readonly functionVariables: ReadonlyMap<string, Record<string, string>>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, { readonly Type: string; readonly Properties?: Record<string, unknown> }>;
}

export type Phase = 'deploy' | 'cleanup' | 'rollback' | 'rollback cleanup' | 'stack deletion';

export type StackStatus =
  | 'NOT_CREATED'
  | 'CREATE_COMPLETE'
  | 'UPDATE_COMPLETE'
  | 'ROLLBACK_COMPLETE'
  | 'UPDATE_ROLLBACK_COMPLETE'
  | 'UPDATE_ROLLBACK_FAILED'
  | 'DELETE_COMPLETE'
  | 'DELETE_FAILED';

/** One request CloudFormation sent to the deployer, and its answer. */
export interface Step {
  /** 1-based, over the whole history of the stack. */
  readonly index: number;
  /** `deploy 2`, `stack deletion`. */
  readonly operation: string;
  readonly phase: Phase;
  readonly requestType: RequestType;
  readonly logicalId: string;
  readonly constructId: string;
  /** E.g. `Update Greeter (rollback)`. */
  readonly label: string;
  /** The PhysicalResourceId sent (Update and Delete). */
  readonly sentPhysicalId?: string;
  readonly invocation: CloudFormationInvocation;
  readonly status: 'SUCCESS' | 'FAILED';
  readonly reason: string;
  /** The PhysicalResourceId answered. */
  readonly physicalId: string;
  /** What was observed after the step (filled in by whoever observes), for the record. */
  observed?: string;
}

export interface DeployOptions {
  /**
   * After every Create and Update of the registrations succeeded, another resource of the stack
   * fails: CloudFormation rolls the update back (or, on stack creation, deletes what it created).
   */
  readonly laterResourceFails?: boolean;
}

export interface OperationOutcome {
  readonly status: StackStatus;
  readonly steps: Step[];
}

export interface LifecycleStackOptions {
  /** The stack's name (CDK stack id); a StackId is made up for it. */
  readonly stackName: string;
  /** Called after every step, before the next one (e.g. to observe what Restate serves). */
  readonly afterStep?: (step: Step) => Promise<void>;
}

interface Held {
  readonly resource: RegistrationResource;
  readonly physicalId: string;
}

interface PendingDelete extends Held {
  readonly phase: Phase;
}

/** What one deploy did to a resource, for its rollback. */
type Touched =
  | { readonly kind: 'created'; readonly now: Held }
  | { readonly kind: 'create-failed'; readonly now: Held }
  | { readonly kind: 'updated'; readonly before: Held; readonly now: Held }
  | { readonly kind: 'update-failed'; readonly before: Held; readonly attempted: RegistrationResource };

/** One CloudFormation stack whose history is played against the deployer. */
export class LifecycleStack {
  public readonly stackName: string;
  public readonly stackId: string;
  /** Every step of the history so far. */
  public readonly steps: Step[] = [];
  private readonly afterStep?: (step: Step) => Promise<void>;
  private status: StackStatus = 'NOT_CREATED';
  private current?: SynthesizedStack;
  /** What the stack holds, by logical id. */
  private readonly held = new Map<string, Held>();
  private synths = 0;
  private deploys = 0;

  constructor(private readonly env: IntegrationEnvironment, options: LifecycleStackOptions) {
    this.stackName = options.stackName;
    this.stackId = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${options.stackName}/${randomUUID()}`;
    this.afterStep = options.afterStep;
  }

  public get stackStatus(): StackStatus {
    return this.status;
  }

  /** The physical id the stack holds for the registration with this construct id. */
  public physicalIdOf(constructId: string): string | undefined {
    return [...this.held.values()].find((h) => h.resource.constructId === constructId)?.physicalId;
  }

  /** Synthesizes the stack as `define` builds it and returns what CloudFormation would deploy. */
  public synth(define: StackDefinition): SynthesizedStack {
    const outdir = freshDir(runEnvironment(), `cdk.out-${this.stackName}`);
    const app = new App({ outdir });
    const stack = new Stack(app, this.stackName, { env: { account: ACCOUNT, region: REGION } });
    const apiKey = secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', this.env.apiKeySecretArn);
    const environmentAt = (adminUrl: string) => RestateEnvironment.fromAttributes({ adminUrl, authToken: apiKey });
    const deployer = new ServiceDeployer(stack, 'Deployer');
    define({ app, stack, deployer, environment: environmentAt(this.env.authProxy.url), environmentAt });
    const template = app.synth().getStackByName(this.stackName).template as CfnTemplate;

    const constructIds = new Map<string, string>();
    for (const c of stack.node.findAll()) {
      if (c instanceof CfnResource && c.cfnResourceType === REGISTRATION_TYPE) {
        // The CfnResource is 'Resource' under the ServiceRegistration construct.
        constructIds.set(stack.resolve(c.logicalId) as string, c.node.scope?.node.id ?? c.node.id);
      }
    }
    const resolver = new IntrinsicResolver(template, this.stackName, this.stackId, this.env.cfn.serviceToken, (id) => this.held.get(id)?.physicalId);
    const registrations: RegistrationResource[] = [];
    const functionVariables = new Map<string, Record<string, string>>();
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== REGISTRATION_TYPE) continue;
      const { ServiceToken: token, ...rest } = resource.Properties ?? {};
      const deployerLogicalId = serviceTokenFunction(token, template, logicalId);
      if (!functionVariables.has(deployerLogicalId)) {
        const fnProps = template.Resources[deployerLogicalId].Properties ?? {};
        const variables = ((fnProps.Environment ?? {}) as { Variables?: unknown }).Variables ?? {};
        const resolved = resolver.resolve(variables, `${deployerLogicalId}.Environment.Variables`) as Record<string, unknown>;
        functionVariables.set(deployerLogicalId, Object.fromEntries(Object.entries(resolved).map(([k, v]) => [k, String(v)])));
      }
      registrations.push({
        logicalId,
        constructId: constructIds.get(logicalId) ?? logicalId,
        properties: resolver.resolve(rest, `${logicalId}.Properties`) as Record<string, unknown>,
        deployerLogicalId,
      });
    }
    return { number: ++this.synths, template, registrations, functionVariables };
  }

  /** Synthesizes `define` and deploys it: a stack creation or a stack update. */
  public async deploy(define: StackDefinition, options: DeployOptions = {}): Promise<OperationOutcome> {
    if (this.status !== 'NOT_CREATED' && this.status !== 'CREATE_COMPLETE' && this.status !== 'UPDATE_COMPLETE' && this.status !== 'UPDATE_ROLLBACK_COMPLETE') {
      throw new Error(`stack ${this.stackName} is ${this.status}: CloudFormation does not update it (delete it first)`);
    }
    const next = this.synth(define);
    const previous = this.current;
    const creating = this.status === 'NOT_CREATED';
    const operation = `deploy ${++this.deploys}`;
    const mark = this.steps.length;
    const vars = (r: RegistrationResource) => next.functionVariables.get(r.deployerLogicalId) ?? {};

    const touched: Touched[] = [];
    const cleanup: PendingDelete[] = [];
    let failed = false;

    for (const r of next.registrations) {
      const before = this.held.get(r.logicalId);
      if (!before) {
        const step = await this.invoke(operation, 'deploy', 'Create', r, vars(r), {});
        const now = { resource: r, physicalId: step.physicalId };
        if (step.status === 'SUCCESS') {
          this.held.set(r.logicalId, now);
          touched.push({ kind: 'created', now });
        } else {
          touched.push({ kind: 'create-failed', now });
          failed = true;
          break;
        }
      } else if (!sameProperties(before.resource.properties, r.properties)) {
        const step = await this.invoke(operation, 'deploy', 'Update', r, vars(r), { physicalId: before.physicalId, oldProperties: before.resource.properties });
        if (step.status === 'SUCCESS') {
          const now = { resource: r, physicalId: step.physicalId };
          this.held.set(r.logicalId, now);
          touched.push({ kind: 'updated', before, now });
          if (now.physicalId !== before.physicalId) cleanup.push({ ...before, phase: 'cleanup' });
        } else {
          touched.push({ kind: 'update-failed', before, attempted: r });
          failed = true;
          break;
        }
      } else {
        // Unchanged: CloudFormation sends nothing; the template's resource is the same.
        this.held.set(r.logicalId, { resource: r, physicalId: before.physicalId });
      }
    }

    if (failed || options.laterResourceFails) {
      return this.rollBack(operation, mark, creating, touched, next, previous);
    }

    // Cleanup phase: replaced physical ids, then resources no longer in the template.
    const kept = new Set(next.registrations.map((r) => r.logicalId));
    for (const r of previous?.registrations ?? []) {
      const held = this.held.get(r.logicalId);
      if (!kept.has(r.logicalId) && held) {
        cleanup.push({ ...held, phase: 'cleanup' });
        this.held.delete(r.logicalId);
      }
    }
    for (const d of cleanup) {
      await this.invoke(operation, d.phase, 'Delete', d.resource, vars(d.resource), { physicalId: d.physicalId });
    }
    this.current = next;
    this.status = creating ? 'CREATE_COMPLETE' : 'UPDATE_COMPLETE';
    return { status: this.status, steps: this.steps.slice(mark) };
  }

  /** Stack deletion: Delete of every resource the stack holds, in reverse template order. */
  public async destroy(): Promise<OperationOutcome> {
    const mark = this.steps.length;
    const template = this.current;
    const order = [...(template?.registrations ?? [])].reverse();
    let anyFailed = false;
    for (const r of order) {
      const held = this.held.get(r.logicalId);
      if (!held) continue;
      const step = await this.invoke('stack deletion', 'stack deletion', 'Delete', held.resource, template?.functionVariables.get(r.deployerLogicalId) ?? {}, {
        physicalId: held.physicalId,
      });
      // CloudFormation would stop here (DELETE_FAILED); going on shows what the others do.
      if (step.status === 'FAILED') anyFailed = true;
      else this.held.delete(r.logicalId);
    }
    this.status = anyFailed ? 'DELETE_FAILED' : 'DELETE_COMPLETE';
    return { status: this.status, steps: this.steps.slice(mark) };
  }

  /** Every step so far, one per line: what was sent, what was answered, what was observed. */
  public describe(label: (physicalId: string) => string = (id) => id): string {
    return this.steps
      .map((s) => {
        const sent = s.sentPhysicalId ? ` of ${label(s.sentPhysicalId)}` : '';
        const lines = [
          `${String(s.index).padStart(3)}. [${s.operation}] ${s.label}${sent} (${s.logicalId}) → ${s.status} ${label(s.physicalId)} in ${s.invocation.elapsedMs} ms`,
          `       reason: ${s.reason}`,
        ];
        if (s.observed) lines.push(`       then: ${s.observed}`);
        return lines.join('\n');
      })
      .join('\n');
  }

  private async rollBack(
    operation: string,
    mark: number,
    creating: boolean,
    touched: Touched[],
    next: SynthesizedStack,
    previous: SynthesizedStack | undefined,
  ): Promise<OperationOutcome> {
    const newVars = (r: RegistrationResource) => next.functionVariables.get(r.deployerLogicalId) ?? {};
    if (creating) {
      // ROLLBACK: delete everything created, in reverse order; the stack is then ROLLBACK_COMPLETE.
      for (const t of [...touched].reverse()) {
        if (t.kind !== 'created' && t.kind !== 'create-failed') continue;
        await this.invoke(operation, 'rollback', 'Delete', t.now.resource, newVars(t.now.resource), { physicalId: t.now.physicalId });
        this.held.delete(t.now.resource.logicalId);
      }
      this.status = 'ROLLBACK_COMPLETE';
      return { status: this.status, steps: this.steps.slice(mark) };
    }

    // UPDATE_ROLLBACK: updated resources go back to their old properties (dependents first:
    // reverse order); the function still has the new template's environment.
    const rollbackCleanup: PendingDelete[] = [];
    for (const t of [...touched].reverse()) {
      if (t.kind === 'created' || t.kind === 'create-failed') {
        rollbackCleanup.push({ ...t.now, phase: 'rollback cleanup' });
        continue;
      }
      const rolledBack = t.kind === 'updated' ? t.now : { resource: t.attempted, physicalId: t.before.physicalId };
      // A resource whose Update failed is rolled back too, from the physical id it had.
      const step = await this.invoke(operation, 'rollback', 'Update', t.before.resource, newVars(t.before.resource), {
        physicalId: rolledBack.physicalId,
        oldProperties: rolledBack.resource.properties,
      });
      if (step.status === 'FAILED') {
        this.status = 'UPDATE_ROLLBACK_FAILED';
        return { status: this.status, steps: this.steps.slice(mark) };
      }
      this.held.set(t.before.resource.logicalId, { resource: t.before.resource, physicalId: step.physicalId });
      // The physical id the rolled-back update introduced goes, with its (the new) properties,
      // unless the rollback answered with that very id (then it is the resource's again).
      if (t.kind === 'updated' && rolledBack.physicalId !== step.physicalId) rollbackCleanup.push({ ...rolledBack, phase: 'rollback cleanup' });
    }
    // UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS: the function has been rolled back as well.
    for (const d of rollbackCleanup) {
      const variables = previous?.functionVariables.get(d.resource.deployerLogicalId) ?? newVars(d.resource);
      await this.invoke(operation, d.phase, 'Delete', d.resource, variables, { physicalId: d.physicalId });
      if (this.held.get(d.resource.logicalId)?.physicalId === d.physicalId) this.held.delete(d.resource.logicalId);
    }
    this.status = 'UPDATE_ROLLBACK_COMPLETE';
    return { status: this.status, steps: this.steps.slice(mark) };
  }

  private async invoke(
    operation: string,
    phase: Phase,
    requestType: RequestType,
    resource: RegistrationResource,
    variables: Record<string, string>,
    options: { physicalId?: string; oldProperties?: Record<string, unknown> },
  ): Promise<Step> {
    const invocation = await withEnvironmentVariables(variables, () =>
      this.env.cfn.invokeAsCloudFormation(requestType, resource.properties, {
        physicalResourceId: options.physicalId,
        oldProperties: options.oldProperties,
        logicalResourceId: resource.logicalId,
        stackId: this.stackId,
      }),
    );
    const suffix = phase === 'deploy' ? '' : ` (${phase})`;
    const step: Step = {
      index: this.steps.length + 1,
      operation,
      phase,
      requestType,
      logicalId: resource.logicalId,
      constructId: resource.constructId,
      label: `${requestType} ${resource.constructId}${suffix}`,
      sentPhysicalId: options.physicalId,
      invocation,
      status: invocation.response.Status,
      reason: invocation.response.Reason ?? '',
      physicalId: invocation.response.PhysicalResourceId,
    };
    this.steps.push(step);
    await this.afterStep?.(step);
    return step;
  }
}

/** Protocol problems of a step's answer, as a suffix for its status ('' when there are none). */
export function protocolProblems(inv: CloudFormationInvocation): string {
  const problems = [...inv.problems, ...inv.strayRequests.map((r) => `stray request ${r}`)];
  if (inv.putCount !== 1) problems.push(`${inv.putCount} responses PUT`);
  if (inv.handlerError !== undefined) problems.push(`handler rejected: ${String(inv.handlerError)}`);
  if (!inv.respondedBeforeReturn) problems.push('answered after the handler returned');
  if (!inv.respondedBeforeDeadline) problems.push('answered after the deadline');
  return problems.length ? ` (${problems.join('; ')})` : '';
}

/** What Restate serves, as the tests assert it. */
export interface Served {
  /** Label of the deployment `GET /services/{name}` names; 'none' when there is no such service. */
  readonly servedBy: string;
  /** The service's revision compared with the previous observation. */
  readonly revision: 'grew' | 'same' | 'fell' | 'none';
  /** `v1`/`v2` from a real ingress call of `greet`, or `HTTP <status>`. */
  readonly greeting: string;
  /** Labels of every deployment the server has, sorted. */
  readonly deployments: string[];
  /** The service's revision number, for the record. */
  readonly revisionNumber?: number;
}

/**
 * The tests' view of one service: which deployment serves it, what the ingress answers, which
 * deployments exist. Deployments are named by the label of their endpoint (`v1` for the URI
 * given as `{ v1: uri }`), so expectations read the same on every run.
 */
export class ServiceView {
  private readonly labels = new Map<string, string>();
  private lastRevision?: number;
  private readonly requestIds = new Set<string>();

  constructor(
    private readonly env: IntegrationEnvironment,
    public readonly service: string,
    private readonly endpoints: Record<string, string>,
  ) {}

  /** The label of a deployment id (or of a physical id that is not one). */
  public label(physicalId: string): string {
    const known = this.labels.get(physicalId);
    if (known) return known;
    let id = physicalId;
    for (const requestId of this.requestIds) id = id.split(requestId).join('<RequestId>');
    return id;
  }

  /** Physical ids that embed the RequestId of one of these steps get labelled with `<RequestId>`. */
  public noteRequest(requestId: string): void {
    this.requestIds.add(requestId);
  }

  public async observe(): Promise<Served> {
    const admin: AdminApi = this.env.admin;
    const deployments = await admin.deployments();
    const byUri = new Map(Object.entries(this.endpoints).map(([label, uri]) => [normalize(uri), label]));
    const labelled = deployments.map((d) => {
      const label = (d.uri !== undefined ? byUri.get(normalize(d.uri)) : undefined) ?? `${d.id} (${d.uri ?? 'no uri'})`;
      this.labels.set(d.id, label);
      return label;
    });
    const service = await admin.service(this.service);
    const revisionNumber = service?.revision;
    const before = this.lastRevision;
    this.lastRevision = revisionNumber;
    const revision =
      revisionNumber === undefined
        ? 'none'
        : before === undefined || revisionNumber > before
          ? 'grew'
          : revisionNumber === before
            ? 'same'
            : 'fell';
    return {
      servedBy: service ? this.label(service.deployment_id) : 'none',
      revision,
      greeting: await this.greeting(),
      deployments: labelled.sort(),
      revisionNumber,
    };
  }

  /** A real ingress call: `<service>/greet` answers `Hello, World! (<service> v<n>)`. */
  private async greeting(): Promise<string> {
    const res = await httpRequest('POST', `${this.env.server.ingressUrl}/${this.service}/greet`, { body: JSON.stringify('World'), timeoutMs: 10_000 });
    if (res.status !== 200) return `HTTP ${res.status}`;
    let text: unknown;
    try {
      text = JSON.parse(res.body);
    } catch {
      return res.body;
    }
    const m = typeof text === 'string' ? /\((\S+) (v\d+)\)$/.exec(text) : null;
    return m && m[1] === this.service ? m[2] : res.body;
  }
}

/** Deletes every deployment on the server (force), so that the next history starts from nothing. */
export async function removeAllDeployments(env: IntegrationEnvironment): Promise<void> {
  for (const d of await env.admin.deployments()) {
    const res = await httpRequest('DELETE', `${env.server.adminUrl}/deployments/${encodeURIComponent(d.id)}?force=true`);
    if (res.status >= 300 && res.status !== 404) throw new Error(`DELETE /deployments/${d.id}: ${res.status} ${res.body}`);
  }
}

/**
 * A reverse proxy in front of an admin API (e.g. the authenticating proxy, so that the bearer
 * check still applies) that refuses the requests `refuse` gives a status for (403: what the
 * API key's role does not allow; 503: a passing outage), and forwards everything else as is.
 * Records what it refused.
 */
export class RefusingAdminProxy {
  public static async start(targetBaseUrl: string, refuse: (method: string, path: string) => number | false): Promise<RefusingAdminProxy> {
    const proxy = new RefusingAdminProxy(targetBaseUrl, refuse);
    await listenOnLoopback(proxy.server);
    return proxy;
  }

  /** `METHOD path → status` of every refused request. */
  public readonly refused: string[] = [];
  private readonly server: http.Server;
  private readonly target: URL;

  private constructor(targetBaseUrl: string, private readonly refuse: (method: string, path: string) => number | false) {
    this.target = loopbackUrl(targetBaseUrl);
    this.server = http.createServer((req, res) => {
      void readAll(req).then((body) => this.onRequest(req, res, body));
    });
    this.server.keepAliveTimeout = 1_000;
  }

  public get url(): string {
    return `http://${LOOPBACK}:${(this.server.address() as AddressInfo).port}`;
  }

  public async close(): Promise<void> {
    await closeServer(this.server);
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
    const method = req.method ?? '';
    const path = req.url ?? '';
    const status = this.refuse(method, path);
    if (status !== false) {
      this.refused.push(`${method} ${path.split('?')[0]} → ${status}`);
      const message =
        status === 403 ? `Forbidden: the API key's role may not ${method} ${path.split('?')[0]}` : `HTTP ${status}: the admin API is unavailable, try again later`;
      const payload = JSON.stringify({ message });
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) });
      res.end(payload);
      return;
    }
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.connection;
    headers['content-length'] = String(body.length);
    const upstream = http.request({ method, hostname: this.target.hostname, port: this.target.port, path, headers, agent: false }, (up) => {
      void readAll(up).then((upBody) => {
        const out = { ...up.headers };
        delete out['transfer-encoding'];
        delete out.connection;
        out['content-length'] = String(upBody.length);
        res.writeHead(up.statusCode ?? 502, out);
        res.end(upBody);
      });
    });
    upstream.on('error', (err) => {
      const payload = JSON.stringify({ message: `bad gateway: ${err.message}` });
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(payload);
    });
    upstream.end(body);
  }
}

/** Runs `fn` with `variables` set in process.env, restoring what was there afterwards. */
async function withEnvironmentVariables<T>(variables: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(variables)) {
    saved.set(name, process.env[name]);
    process.env[name] = value;
  }
  try {
    return await fn();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** The deployer function's logical id, from a registration's `ServiceToken` (Fn::GetAtt [fn, Arn]). */
function serviceTokenFunction(token: unknown, template: CfnTemplate, logicalId: string): string {
  const getAtt = (token as { 'Fn::GetAtt'?: unknown } | undefined)?.['Fn::GetAtt'];
  if (!Array.isArray(getAtt) || getAtt.length !== 2 || getAtt[1] !== 'Arn' || typeof getAtt[0] !== 'string') {
    throw new Error(`${logicalId}: ServiceToken is not Fn::GetAtt [<deployer function>, Arn]: ${JSON.stringify(token)}`);
  }
  const fn = template.Resources[getAtt[0]];
  if (fn?.Type !== 'AWS::Lambda::Function') throw new Error(`${logicalId}: ServiceToken names ${getAtt[0]}, which is a ${fn?.Type ?? 'missing resource'}, not a Lambda function`);
  return getAtt[0];
}

/**
 * Resolves what CloudFormation resolves before it hands properties to a custom resource:
 * pseudo parameters, Ref and Fn::GetAtt of the stack's resources (the deployer function's ARN is
 * the stand-in's service token; other functions and roles get ARNs in the stack's account),
 * Fn::Join, Fn::Select, Fn::Split and Fn::Sub. Scalars become strings, as CloudFormation passes
 * them. Anything else is refused, naming where it is.
 */
class IntrinsicResolver {
  constructor(
    private readonly template: CfnTemplate,
    private readonly stackName: string,
    private readonly stackId: string,
    private readonly serviceToken: string,
    private readonly physicalIdOf: (logicalId: string) => string | undefined,
  ) {}

  public resolve(value: unknown, where: string): unknown {
    if (value === null || value === undefined) return value;
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    if (Array.isArray(value)) return value.map((v, i) => this.resolve(v, `${where}[${i}]`)).filter((v) => v !== NO_VALUE);
    if (typeof value !== 'object') throw new Error(`${where}: cannot pass ${typeof value}`);
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1 && (entries[0][0] === 'Ref' || entries[0][0].startsWith('Fn::'))) {
      return this.intrinsic(entries[0][0], entries[0][1], where);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const resolved = this.resolve(v, `${where}.${k}`);
      if (resolved !== NO_VALUE) out[k] = resolved;
    }
    return out;
  }

  private intrinsic(fn: string, arg: unknown, where: string): unknown {
    switch (fn) {
      case 'Ref':
        return this.ref(String(arg), where);
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
        return this.getAtt(logicalId, attribute, where);
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, unknown[]];
        return (this.resolve(parts, where) as unknown[]).map(String).join(sep);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        return (this.resolve(list, where) as unknown[])[Number(this.resolve(index, where))];
      }
      case 'Fn::Split': {
        const [sep, source] = arg as [string, unknown];
        return String(this.resolve(source, where)).split(sep);
      }
      case 'Fn::Sub': {
        const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
        return text.replace(/\$\{([^}!][^}]*)\}/g, (_m, name: string) => {
          if (name in vars) return String(this.resolve(vars[name], where));
          const dot = name.indexOf('.');
          return String(dot < 0 ? this.ref(name, where) : this.getAtt(name.slice(0, dot), name.slice(dot + 1), where));
        });
      }
      default:
        throw new Error(`${where}: ${fn} is not resolved by the lifecycle driver`);
    }
  }

  private ref(name: string, where: string): unknown {
    switch (name) {
      case 'AWS::Region':
        return REGION;
      case 'AWS::AccountId':
        return ACCOUNT;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.stackName;
      case 'AWS::StackId':
        return this.stackId;
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    const resource = this.template.Resources[name];
    if (!resource) throw new Error(`${where}: Ref ${name} names no resource of the template`);
    if (resource.Type === REGISTRATION_TYPE) {
      const id = this.physicalIdOf(name);
      if (!id) throw new Error(`${where}: Ref ${name}: that registration has no physical id yet`);
      return id;
    }
    return `${this.stackName}-${name}`;
  }

  private getAtt(logicalId: string, attribute: string, where: string): unknown {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`${where}: Fn::GetAtt ${logicalId}.${attribute} names no resource of the template`);
    if (resource.Type === 'AWS::Lambda::Function' && attribute === 'Arn') {
      // The stand-in plays the one deployer function; any other function gets an ARN of its own.
      const isDeployer = Object.values(this.template.Resources).some(
        (r) => r.Type === REGISTRATION_TYPE && JSON.stringify(r.Properties?.ServiceToken) === JSON.stringify({ 'Fn::GetAtt': [logicalId, 'Arn'] }),
      );
      return isDeployer ? this.serviceToken : `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${this.stackName}-${logicalId}`;
    }
    if (resource.Type === 'AWS::IAM::Role' && attribute === 'Arn') return `arn:aws:iam::${ACCOUNT}:role/${this.stackName}-${logicalId}`;
    throw new Error(`${where}: Fn::GetAtt ${logicalId}.${attribute} (${resource.Type}) is not resolved by the lifecycle driver`);
  }
}

const NO_VALUE = Symbol('AWS::NoValue');

/** Property maps compared as CloudFormation does: by value, not by key order. */
function sameProperties(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
