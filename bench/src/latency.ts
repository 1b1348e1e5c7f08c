/**
 * Registration latency of the deployer Lambda against a real restate-server, reusing the
 * integration harness (test/integration/harness/). bench/run.sh runs this inside a private
 * network namespace (loopback only), with a throwaway TLS CA, fake AWS credentials and
 * AWS_EC2_METADATA_DISABLED=true, on Node.js 22 (the Lambda runtime's, which the SDK's Lambda
 * handler needs), and passes BENCH_LATENCY_JSON, where the result goes.
 *
 * The code under test is the bundled deployer (assets/deployer/deployer.lambda/index.js),
 * i.e. what ships in the Lambda, invoked in-process the way CloudFormation invokes it; next to
 * it, where the reference can do the same, @restatedev/restate-cdk 1.7.0's deployer handler as
 * its package ships it (reference-deployer.ts). Lambda registrations go through the loopback
 * STS and Lambda stand-ins (harness/aws-standins.ts), which run a real SDK Lambda handler.
 *
 * Sections (each records its own error instead of ending the run):
 *   registrations      20 Creates of new HTTP endpoints, 10 idempotent re-registrations (ours)
 *   lambdaSingle       one Lambda registration at a time, admin API up (ours, ref)
 *   lateAdmin          the admin API refuses connections for the first 2 s (ours HTTP, ref Lambda)
 *   propagation        a grant or the invoker role takes effect only 5 s after it was made (issue 13)
 *   concurrency        100 Creates at once, 20 revisions of one service at once (issue 17)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadReferenceHandler, referenceLibrary, referenceProperties, ReferenceTarget } from './reference-deployer';
import { adminTarget, TRUSTED_TARGETS_ENV } from '../../src/deployer/trust';
import { AdminApi } from '../../test/integration/harness/admin-api';
import { AuthenticatingProxy } from '../../test/integration/harness/auth-proxy';
import { AwsStandIn, functionArn, roleArn } from '../../test/integration/harness/aws-standins';
import { CloudFormationInvocation, CloudFormationStandIn, DeployerHandler } from '../../test/integration/harness/cloudformation';
import { ConcurrencyReport, ConcurrencyScenario, ConcurrentDeployer, ConcurrentTarget, percentile, registerConcurrently } from '../../test/integration/harness/concurrency';
import { FakeSecretsManager } from '../../test/integration/harness/fake-secrets-manager';
import { httpRequest } from '../../test/integration/harness/http';
import { restateLambda } from '../../test/integration/harness/lambda-functions';
import { lambdaRegistrationProperties } from '../../test/integration/harness/lambda-registration';
import { OutputCapture } from '../../test/integration/harness/output-capture';
import { stopAllProcesses } from '../../test/integration/harness/processes';
import { httpRegistrationProperties, secretArn } from '../../test/integration/harness/registration';
import { RestateServer } from '../../test/integration/harness/restate-server';
import { freshDir, runEnvironment } from '../../test/integration/harness/run-env';
import { MultiServiceProcess, ServiceProcess } from '../../test/integration/harness/services';
import { TcpToggleProxy } from '../../test/integration/harness/tcp-proxy';

const ROOT = path.resolve(__dirname, '../..');
const HANDLER = path.join(ROOT, 'assets', 'registration', 'deployer.lambda', 'index.js');
const REGISTRATIONS = 20;
const REREGISTRATIONS = 10;
const LAMBDA_SINGLE = 5;
const LATE_MS = 2_000;
const LATE_RUNS = 11;
const PROPAGATION_SECONDS = 5;
const PROPAGATION_SAMPLES = 5;
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 100);
const REVISIONS = 20;
/** Every concurrency run is repeated (a fresh server each time), the libraries taking turns. */
const CONCURRENCY_ROUNDS = Number(process.env.BENCH_CONCURRENCY_ROUNDS ?? 3);

function say(line: string): void {
  process.stderr.write(`latency: ${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function stats(xs: number[]) {
  return { count: xs.length, medianMs: median(xs), p90Ms: percentile(xs, 90), minMs: Math.min(...xs), maxMs: Math.max(...xs), samplesMs: xs };
}

function expectSuccess(what: string, inv: CloudFormationInvocation): void {
  if (inv.response.Status !== 'SUCCESS') {
    throw new Error(`${what}: ${inv.response.Status}: ${inv.response.Reason ?? '(no reason)'}`);
  }
}

function firstLine(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] : String(e);
}

type Lib = 'ours' | 'ref';

/** Everything the sections share. */
interface Bench {
  readonly dir: string;
  readonly aws: AwsStandIn;
  readonly secrets: FakeSecretsManager;
  readonly apiKey: string;
  readonly apiKeyArn: string;
  readonly server: RestateServer;
  readonly authProxy: AuthenticatingProxy;
  readonly gate: TcpToggleProxy;
  readonly greeter: ServiceProcess;
  readonly ours: CloudFormationStandIn;
  /** The reference's deployer and its properties, when bench/.work/ref has it. */
  readonly ref?: { cfn: CloudFormationStandIn; properties: (t: ReferenceTarget) => Record<string, unknown> };
  /** Admin URLs our deployer is told to trust (RESTATE_TRUSTED_TARGETS), as a synthesized app would. */
  readonly trusted: Set<string>;
  /** The invoker role of the environment: trusted by restate-server, no identity policy. */
  readonly invoker: string;
}

function trust(b: Bench, adminUrl: string): void {
  b.trusted.add(adminUrl);
  process.env[TRUSTED_TARGETS_ENV] = JSON.stringify({
    admin: [...b.trusted].map((url) => adminTarget({ AdminUrl: url, AuthTokenSecretArn: b.apiKeyArn })),
    headers: [],
  });
}

function oursHttp(b: Bench, adminUrl: string, uri: string, id: string, service: string): Record<string, unknown> {
  return httpRegistrationProperties({ adminUrl, authTokenSecretArn: b.apiKeyArn, uri, id, expectedServices: [service] });
}

function oursLambda(b: Bench, adminUrl: string, lambdaArn: string, role: string, id: string, service: string, grantInvoke = false) {
  return lambdaRegistrationProperties({
    adminUrl,
    authTokenSecretArn: b.apiKeyArn,
    lambdaArn,
    assumeRoleArn: role,
    id,
    expectedServices: [service],
    grantInvoke,
  });
}

function refLambda(b: Bench, adminUrl: string, lambdaArn: string, role: string): Record<string, unknown> {
  return b.ref!.properties({ adminUrl, authTokenSecretArn: b.apiKeyArn, lambdaArn, invokerRoleArn: role });
}

/** A Lambda function version the stand-in runs (a real SDK Lambda handler), granted to `role` now. */
function lambdaFunction(b: Bench, name: string, qualifier: number | string = 1, version = '1', grantTo?: string): string {
  const arn = functionArn(name, qualifier);
  b.aws.putFunction(arn, restateLambda(name, version));
  if (grantTo) b.aws.addPermission(arn, grantTo, { source: 'template' });
  return arn;
}

// --- 1. registrations and re-registrations (ours, HTTP) ----------------------------------------

async function registrations(b: Bench) {
  const samples: number[] = [];
  const deploymentIds: string[] = [];
  for (let i = 0; i < REGISTRATIONS; i++) {
    const inv = await b.ours.invokeAsCloudFormation('Create', oursHttp(b, b.authProxy.url, `${b.greeter.uri}/bench/r${i}`, `GreeterR${i}`, 'Greeter'), { logicalResourceId: `GreeterR${i}` });
    expectSuccess(`registration ${i}`, inv);
    samples.push(inv.elapsedMs);
    deploymentIds.push(inv.response.PhysicalResourceId);
  }
  const again: number[] = [];
  for (let i = 0; i < REREGISTRATIONS; i++) {
    const inv = await b.ours.invokeAsCloudFormation('Create', oursHttp(b, b.authProxy.url, `${b.greeter.uri}/bench/r0`, 'GreeterR0', 'Greeter'), { logicalResourceId: 'GreeterR0' });
    expectSuccess(`re-registration ${i}`, inv);
    if (inv.response.PhysicalResourceId !== deploymentIds[0]) throw new Error(`re-registration ${i} answered ${inv.response.PhysicalResourceId}, expected ${deploymentIds[0]}`);
    again.push(inv.elapsedMs);
  }
  return {
    registrations: { ...stats(samples), distinctDeployments: new Set(deploymentIds).size },
    reregistrations: stats(again),
  };
}

// --- 2. one Lambda registration at a time (ours, ref) -------------------------------------------

async function lambdaSingle(b: Bench) {
  const out: Partial<Record<Lib, ReturnType<typeof stats>>> = {};
  const samples: Record<Lib, number[]> = { ours: [], ref: [] };
  for (let i = 0; i < LAMBDA_SINGLE; i++) {
    const o = lambdaFunction(b, `SingleOurs${i}`, 1, '1', b.invoker);
    const inv = await b.ours.invokeAsCloudFormation('Create', oursLambda(b, b.authProxy.url, o, b.invoker, `SingleOurs${i}`, `SingleOurs${i}`), { logicalResourceId: `SingleOurs${i}` });
    expectSuccess(`ours Lambda registration ${i}`, inv);
    samples.ours.push(inv.elapsedMs);
    if (b.ref) {
      const r = lambdaFunction(b, `SingleRef${i}`, 1, '1', b.invoker);
      const refInv = await b.ref.cfn.invokeAsCloudFormation('Create', refLambda(b, b.authProxy.url, r, b.invoker), { logicalResourceId: `SingleRef${i}` });
      expectSuccess(`ref Lambda registration ${i}`, refInv);
      samples.ref.push(refInv.elapsedMs);
    }
  }
  out.ours = stats(samples.ours);
  if (b.ref) out.ref = stats(samples.ref);
  return out;
}

// --- 3. the admin API comes up LATE_MS after the event (issue 17 item 1) ------------------------

async function lateAdmin(b: Bench) {
  const runs: Array<{ lib: Lib; kind: 'http' | 'lambda'; elapsedMs: number; overshootMs: number; status: string; reason?: string }> = [];
  for (let i = 0; i < LATE_RUNS; i++) {
    await b.gate.setMode('refuse');
    const opening = new Promise<void>((resolve) => setTimeout(() => void b.gate.setMode('forward').then(resolve), LATE_MS));
    const calls: Array<Promise<void>> = [
      b.ours.invokeAsCloudFormation('Create', oursHttp(b, b.gate.url, `${b.greeter.uri}/bench/late${i}`, `GreeterLate${i}`, 'Greeter'), { logicalResourceId: `GreeterLate${i}` }).then((inv) => {
        runs.push({ lib: 'ours', kind: 'http', elapsedMs: inv.elapsedMs, overshootMs: inv.elapsedMs - LATE_MS, status: inv.response.Status, reason: inv.response.Reason });
      }),
    ];
    if (b.ref) {
      const arn = lambdaFunction(b, `LateRef${i}`, 1, '1', b.invoker);
      calls.push(
        b.ref.cfn.invokeAsCloudFormation('Create', refLambda(b, b.gate.url, arn, b.invoker), { logicalResourceId: `LateRef${i}` }).then((inv) => {
          runs.push({ lib: 'ref', kind: 'lambda', elapsedMs: inv.elapsedMs, overshootMs: inv.elapsedMs - LATE_MS, status: inv.response.Status, reason: inv.response.Status === 'SUCCESS' ? undefined : inv.response.Reason });
        }),
      );
    }
    await Promise.all(calls);
    await opening;
  }
  const summary = (lib: Lib) => {
    const mine = runs.filter((r) => r.lib === lib);
    if (mine.length === 0) return undefined;
    const ok = mine.filter((r) => r.status === 'SUCCESS').map((r) => r.overshootMs);
    return {
      kind: mine[0].kind,
      runs: mine.length,
      succeeded: ok.length,
      medianOvershootMs: median(ok),
      p90OvershootMs: percentile(ok, 90),
      maxOvershootMs: Math.max(...ok),
      medianMs: median(mine.map((r) => r.elapsedMs)),
      overshootsMs: mine.map((r) => r.overshootMs),
      failures: mine.filter((r) => r.status !== 'SUCCESS').map((r) => r.reason ?? ''),
    };
  };
  return { delayMs: LATE_MS, ours: summary('ours'), ref: summary('ref') };
}

// --- 4. grant and role propagation (issue 13) ---------------------------------------------------

type PropagationKind = 'ours TEMPLATE grant' | 'ours DEPLOYER grant' | 'ours role' | 'ref grant' | 'ref role';

interface PropagationSample {
  readonly status: string;
  readonly reason?: string;
  readonly elapsedMs: number;
  /** From the grant (or role) taking effect to the answer. */
  readonly lagMs: number;
  /** When it took effect, after the event was sent. */
  readonly effectiveAfterMs: number;
  readonly registerAttempts: number;
  readonly deniedAwsRequests: number;
}

async function propagation(b: Bench) {
  const kinds: PropagationKind[] = ['ours TEMPLATE grant', 'ours DEPLOYER grant', 'ours role'];
  if (b.ref) kinds.push('ref grant', 'ref role');
  const samples = new Map<PropagationKind, PropagationSample[]>(kinds.map((k) => [k, []]));
  for (let round = 0; round < PROPAGATION_SAMPLES; round++) {
    const awsMark = b.aws.mark();
    const adminMark = b.authProxy.mark();
    const results = await Promise.all(
      kinds.map(async (kind, k) => {
        const name = `Prop${k}R${round}`;
        const arn = lambdaFunction(b, name);
        let role = b.invoker;
        let effectiveAt: () => number;
        if (kind.endsWith('role')) {
          role = roleArn(`LateInvoker${k}R${round}`);
          b.aws.putRole(role, { trustedPrincipals: [b.aws.restateServer.principalArn], effectiveAfterSeconds: PROPAGATION_SECONDS });
          b.aws.addPermission(arn, role, { source: 'template' });
          effectiveAt = () => b.aws.roleEffectiveAt(role)!;
        } else if (kind === 'ours DEPLOYER grant') {
          b.aws.setGrantPropagation(arn, PROPAGATION_SECONDS);
          effectiveAt = () => b.aws.policy(arn)[0]?.effectiveAt ?? Number.NaN;
        } else {
          b.aws.addPermission(arn, b.invoker, { source: 'template', effectiveAfterSeconds: PROPAGATION_SECONDS });
          effectiveAt = () => b.aws.policy(arn)[0].effectiveAt;
        }
        const props = kind.startsWith('ref')
          ? refLambda(b, b.authProxy.url, arn, role)
          : oursLambda(b, b.authProxy.url, arn, role, name, name, kind === 'ours DEPLOYER grant');
        const cfn = kind.startsWith('ref') ? b.ref!.cfn : b.ours;
        const sentAt = Date.now();
        const inv = await cfn.invokeAsCloudFormation('Create', props, { logicalResourceId: `${name}Registration` });
        return { kind, arn, role, inv, sentAt, effective: effectiveAt() };
      }),
    );
    const seenAws = b.aws.since(awsMark);
    const seenAdmin = b.authProxy.since(adminMark);
    for (const r of results) {
      samples.get(r.kind)!.push({
        status: r.inv.response.Status,
        reason: r.inv.response.Status === 'SUCCESS' ? undefined : r.inv.response.Reason,
        elapsedMs: r.inv.elapsedMs,
        lagMs: r.sentAt + r.inv.elapsedMs - r.effective,
        effectiveAfterMs: r.effective - r.sentAt,
        registerAttempts: seenAdmin.filter((q) => q.method === 'POST' && q.path === '/deployments' && q.body.includes(r.arn)).length,
        deniedAwsRequests: seenAws.filter((x) => (x.target === r.arn || x.target === r.role) && x.status >= 400 && x.action !== 'AddPermission').length,
      });
    }
    say(`propagation round ${round + 1}/${PROPAGATION_SAMPLES}: ${results.map((r) => `${r.kind} ${r.inv.response.Status} lag ${r.sentAt + r.inv.elapsedMs - r.effective} ms`).join('; ')}`);
  }
  return {
    delaySeconds: PROPAGATION_SECONDS,
    kinds: kinds.map((kind) => {
      const s = samples.get(kind)!;
      const ok = s.filter((x) => x.status === 'SUCCESS').map((x) => x.lagMs);
      return {
        kind,
        samples: s,
        succeeded: ok.length,
        medianLagMs: median(ok),
        maxLagMs: Math.max(...ok),
        medianAttempts: median(s.map((x) => x.registerAttempts)),
      };
    }),
  };
}

// --- 5. many registrations at once (issue 17 item 2) --------------------------------------------

type ConcurrencyReportSummary = Omit<ConcurrencyReport, 'outcomes'>;

async function concurrency(b: Bench) {
  const plan: Array<{ lib: Lib; kind: 'http' | 'lambda'; scenario: ConcurrencyScenario; count: number; round: number }> = [];
  for (let round = 0; round < CONCURRENCY_ROUNDS; round++) {
    for (const scenario of ['distinct', 'revisions'] as const) {
      const count = scenario === 'distinct' ? CONCURRENT : REVISIONS;
      const runs = [{ lib: 'ours' as Lib, kind: 'http' as const }, { lib: 'ours' as Lib, kind: 'lambda' as const }, ...(b.ref ? [{ lib: 'ref' as Lib, kind: 'lambda' as const }] : [])];
      // Take turns: a different run goes first in every round.
      for (let i = 0; i < runs.length; i++) plan.push({ ...runs[(i + round) % runs.length], scenario, count, round });
    }
  }
  // The reference's invoker role gets its grant as an identity policy on the role (its
  // InvocationPolicy); ours by the versions' resource policies (InvokeGrant.TEMPLATE). Both are
  // in place before the registrations, as a deploy would have them.
  const fleetRole = roleArn('FleetInvoker');
  b.aws.putRole(fleetRole, { trustedPrincipals: [b.aws.restateServer.principalArn], invokeAllowedOn: [functionArn('*')] });
  type NotRun = { label: string; kind: string; scenario: string; count: number; round: number; error: string };
  const reports: Array<(ConcurrencyReportSummary & { round: number }) | NotRun> = [];
  for (const [n, p] of plan.entries()) {
    const label = `round ${p.round + 1}: ${p.lib} ${p.kind} ${p.scenario} ×${p.count}`;
    // A fresh server for every run: each library meets the same, empty server.
    const server = await RestateServer.start(freshDir(runEnvironment(), `restate-concurrency-${n}`), { environment: b.aws.serverEnvironment() });
    const proxy = await AuthenticatingProxy.start(server.adminUrl, b.apiKey);
    let services: MultiServiceProcess | undefined;
    try {
      trust(b, proxy.url);
      const prefix = `C${n}`;
      const spec = (i: number) =>
        p.scenario === 'distinct' ? { name: `${prefix}Svc${String(i).padStart(3, '0')}`, version: '1' } : { name: `${prefix}Revisioned`, version: `r${i + 1}` };
      const specs = Array.from({ length: p.count }, (_, i) => spec(i));
      let targets: ConcurrentTarget[];
      if (p.kind === 'http') {
        services = await MultiServiceProcess.start(b.dir, specs);
        targets = specs.map((s, i) => ({ endpoint: services!.uri(i), kind: 'http', service: s.name, version: s.version, logicalId: `${prefix}R${i}` }));
      } else {
        targets = specs.map((s, i) => {
          const arn = p.scenario === 'distinct' ? lambdaFunction(b, s.name, 1, s.version) : lambdaFunction(b, s.name, i + 1, s.version);
          return { endpoint: arn, kind: 'lambda', service: s.name, version: s.version, logicalId: `${prefix}R${i}` };
        });
      }
      const deployer: ConcurrentDeployer =
        p.lib === 'ours'
          ? {
            label: 'ours',
            cfn: b.ours,
            answersDeploymentId: true,
            properties: (t) => (t.kind === 'http' ? oursHttp(b, proxy.url, t.endpoint, t.logicalId, t.service) : oursLambda(b, proxy.url, t.endpoint, fleetRole, t.logicalId, t.service)),
          }
          : { label: 'ref', cfn: b.ref!.cfn, answersDeploymentId: false, properties: (t) => refLambda(b, proxy.url, t.endpoint, fleetRole) };
      const report = await registerConcurrently({
        deployer,
        scenario: p.scenario,
        targets,
        admin: new AdminApi(server.adminUrl, server.ingressUrl),
        proxy,
        serverLogFile: path.join(server.baseDir, 'server.log'),
      });
      const { outcomes: _outcomes, ...summary } = report;
      reports.push({ ...summary, round: p.round });
      say(
        `${label}: ${report.succeeded} SUCCESS, ${report.failed} FAILED, ${report.noAnswer} no answer; all answered after ${report.wallMs} ms; ` +
          `p50 ${report.p50Ms} ms, p99 ${report.p99Ms} ms; ${report.problems.length} problem(s); admin ${JSON.stringify(report.adminAnswers)}` +
          `${report.failureReasons.length ? `; FAILED: ${report.failureReasons.map((f) => `${f.count}× ${f.example}`).join(' | ')}` : ''}`,
      );
    } catch (e) {
      reports.push({ label: p.lib, kind: p.kind, scenario: p.scenario, count: p.count, round: p.round, error: firstLine(e) });
      say(`${label}: FAILED to run: ${e instanceof Error ? e.stack : String(e)}`);
    } finally {
      await services?.stop();
      await proxy.close();
      await server.stop();
    }
  }
  return { runs: reports };
}

// --- main ----------------------------------------------------------------------------------------

async function section<T>(name: string, errors: Record<string, string>, fn: () => Promise<T>): Promise<T | undefined> {
  const started = Date.now();
  say(`${name} ...`);
  try {
    const r = await fn();
    say(`${name} done in ${Math.round((Date.now() - started) / 1000)} s`);
    return r;
  } catch (e) {
    errors[name] = firstLine(e);
    say(`${name} FAILED: ${e instanceof Error ? e.stack : String(e)}`);
    return undefined;
  }
}

async function main(): Promise<void> {
  const out = process.env.BENCH_LATENCY_JSON;
  if (!out) throw new Error('BENCH_LATENCY_JSON is not set (run bench/run.sh)');
  if (process.env.AWS_EC2_METADATA_DISABLED !== 'true') throw new Error('AWS_EC2_METADATA_DISABLED must be true');
  if (!fs.existsSync(HANDLER)) throw new Error(`${HANDLER} is missing: run npx projen bundle`);

  const env = runEnvironment();
  const dir = freshDir(env, 'bench');
  const output = new OutputCapture(path.join(dir, 'handler-output.log'));
  const closers: Array<() => Promise<void>> = [];
  const started = Date.now();
  const loadAtStart = os.loadavg();
  try {
    const aws = await AwsStandIn.start();
    closers.push(() => aws.close());
    const secrets = await FakeSecretsManager.start();
    closers.push(() => secrets.close());
    const server = await RestateServer.start(freshDir(env, 'restate'), { environment: aws.serverEnvironment() });
    closers.push(() => server.stop());
    const version = await httpRequest('GET', `${server.adminUrl}/version`);
    const restateServerVersion = (JSON.parse(version.body) as { version?: string }).version ?? 'unknown';
    say(`restate-server ${restateServerVersion} on ${server.adminUrl} (pid ${server.pid}), node ${process.version}`);

    const apiKey = `rst_bench_${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    const apiKeyArn = secretArn('restate/bench/api-key');
    secrets.putSecret(apiKeyArn, apiKey);
    const authProxy = await AuthenticatingProxy.start(server.adminUrl, apiKey);
    closers.push(() => authProxy.close());
    const gate = await TcpToggleProxy.create(Number(new URL(authProxy.url).port), 'refuse');
    closers.push(() => gate.close());

    const greeter = await ServiceProcess.start(dir, { name: 'Greeter', version: 1 });
    closers.push(() => greeter.stop());
    say(`Greeter service (restate-sdk) on ${greeter.uri} (pid ${greeter.pid})`);

    // The handlers may create their SDK clients at module scope: point them at the fakes first.
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secrets.url;
    process.env.AWS_ENDPOINT_URL_LAMBDA = aws.url;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const handler = (require(HANDLER) as { handler: DeployerHandler }).handler;
    const ours = await CloudFormationStandIn.start({ cert: env.tlsCert, key: env.tlsKey }, handler);
    closers.push(() => ours.close());

    let ref: Bench['ref'];
    const refLib = referenceLibrary();
    if (refLib) {
      const refHandler = await loadReferenceHandler(refLib);
      // Its response PUT drops the ResponseURL's port: the stand-in listens on 443.
      const refCfn = await CloudFormationStandIn.start({ cert: env.tlsCert, key: env.tlsKey }, refHandler, { port: 443 });
      closers.push(() => refCfn.close());
      ref = { cfn: refCfn, properties: referenceProperties(refLib) };
      say(`reference deployer loaded from ${refLib}`);
    } else {
      say('reference library not found (BENCH_REF_LIB): measuring ours only');
    }

    const invoker = roleArn('BenchInvoker');
    aws.putRole(invoker, { trustedPrincipals: [aws.restateServer.principalArn] });
    const b: Bench = { dir, aws, secrets, apiKey, apiKeyArn, server, authProxy, gate, greeter, ours, ref, trusted: new Set(), invoker };
    // The deployer trusts the admin URLs a synthesized app would declare (RESTATE_TRUSTED_TARGETS).
    trust(b, authProxy.url);
    trust(b, gate.url);

    output.start();
    const errors: Record<string, string> = {};
    const regs = await section('registrations', errors, () => registrations(b));
    const single = await section('lambdaSingle', errors, () => lambdaSingle(b));
    const late = await section('lateAdmin', errors, () => lateAdmin(b));
    const prop = await section('propagation', errors, () => propagation(b));
    const conc = await section('concurrency', errors, () => concurrency(b));
    output.stop();

    const sdkVersion = (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', '@restatedev', 'restate-sdk', 'package.json'), 'utf8')) as { version: string }).version;
    const result = {
      ok: Object.keys(errors).length === 0,
      error: Object.keys(errors).length ? Object.entries(errors).map(([k, v]) => `${k}: ${v}`).join('; ') : undefined,
      errors,
      node: process.version,
      restateServerVersion,
      sdkVersion,
      reference: refLib ? (JSON.parse(fs.readFileSync(path.join(refLib, 'package.json'), 'utf8')) as { version: string }).version : undefined,
      seconds: Math.round((Date.now() - started) / 1000),
      load: { start: loadAtStart, end: os.loadavg() },
      ...regs,
      lambdaSingle: single,
      lateAdmin: late,
      propagation: prop,
      concurrency: conc,
    };
    fs.writeFileSync(out, JSON.stringify(result, null, 2));
    if (!result.ok) process.exitCode = 1;
    say(`done in ${result.seconds} s${result.ok ? '' : `; sections failed: ${result.error}`}`);
  } catch (e) {
    output.stop();
    fs.writeFileSync(out, JSON.stringify({ ok: false, error: firstLine(e) }));
    say(`FAILED: ${e instanceof Error ? e.stack : String(e)}`);
    say(`handler output: ${path.join(dir, 'handler-output.log')}`);
    process.exitCode = 1;
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await stopAllProcesses();
  }
}

void main();
