import * as fs from 'node:fs';
import { AdminApi, DeploymentSummary, normalize } from './admin-api';
import { AuthenticatingProxy } from './auth-proxy';
import { CloudFormationInvocation, CloudFormationStandIn } from './cloudformation';

/**
 * Many Create events at once, as CloudFormation sends them for independent resources (one
 * stack's registrations, or several stacks deploying together), against one real
 * restate-server; then a check of what the server ended up with, and a summary of what it
 * answered along the way. Used by test/integration/concurrency.integ.ts and the benchmark
 * (bench/src/latency.ts), for our deployer and for @restatedev/restate-cdk's.
 */

/** One registration among many. */
export interface ConcurrentTarget {
  /** What is registered: an HTTP URI or a qualified Lambda ARN. */
  readonly endpoint: string;
  readonly kind: 'http' | 'lambda';
  /** The one service the endpoint serves. */
  readonly service: string;
  /** What its greet reports as version: tells revisions of one service apart. */
  readonly version: string;
  /** The registration's logical id in the stack. */
  readonly logicalId: string;
}

/** A deployer handler behind a CloudFormation stand-in, and the properties its resources have. */
export interface ConcurrentDeployer {
  readonly label: string;
  readonly cfn: CloudFormationStandIn;
  /**
   * Whether the answer's PhysicalResourceId is the Restate deployment id (ours). The reference
   * answers with the request id, so only the server's state tells which deployment it made.
   */
  readonly answersDeploymentId: boolean;
  /** ResourceProperties of the Create for `target` (ServiceToken left out). */
  properties(target: ConcurrentTarget): Record<string, unknown>;
}

/**
 * `distinct`: every target is a service of its own. `revisions`: all targets serve the same
 * service (revisions of it), and the ingress must serve the latest revision the server made.
 */
export type ConcurrencyScenario = 'distinct' | 'revisions';

export interface RegistrationOutcome {
  readonly endpoint: string;
  readonly status: 'SUCCESS' | 'FAILED' | 'NO ANSWER';
  readonly reason?: string;
  readonly physicalResourceId?: string;
  /** Event in → response PUT (or → giving up, for NO ANSWER). */
  readonly elapsedMs: number;
  /** The Restate deployments of this endpoint afterwards. */
  readonly deployments: string[];
  /** The revisions of its service(s) the admin API's answers to its POST /deployments gave it. */
  readonly revisionsAnswered: number[];
}

export interface ConcurrencyReport {
  readonly label: string;
  readonly scenario: ConcurrencyScenario;
  readonly kind: 'http' | 'lambda';
  readonly count: number;
  /** First event sent → last answer received. */
  readonly wallMs: number;
  /** Per registration, event in → response out. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly noAnswer: number;
  /** Every FAILED answer's reason, verbatim, with how many registrations answered it. */
  readonly failureReasons: Array<{ count: number; reason: string; example: string }>;
  /** What must hold and did not (wrong or missing deployment, duplicates, wrong revision served, ...). */
  readonly problems: string[];
  /** Deployments at the server for the targets, in all. */
  readonly deploymentsAtServer: number;
  /** revisions: the revision the ingress serves and how many revisions the server made. */
  readonly revisions?: { readonly served?: number; readonly made: number; readonly servedVersion?: string };
  /**
   * revisions: for each registration that did not answer SUCCESS, the revision the server gave
   * it (its POST /deployments answer) and the revision the server served when it answered (as
   * its reason names it, `(revision n)`).
   */
  readonly failedRevisions?: Array<{ readonly own: number[]; readonly servingPerReason?: number }>;
  readonly ingress: { readonly ok: number; readonly checked: number };
  /** POST /deployments per registration: in all, and the most one registration sent. */
  readonly registerAttempts: { readonly total: number; readonly max: number };
  /** When each registration's first POST /deployments reached the admin API, after the events were sent: p10, p50, p90. */
  readonly firstPostAtMs: { readonly p10: number; readonly p50: number; readonly p90: number };
  /** How long the admin API took to answer POST /deployments: median of 2xx answers, median of 5xx answers. */
  readonly postAnswerMs: { readonly ok: number; readonly serverError?: number };
  /** What the admin API answered during the run: `METHOD /path status` → count. */
  readonly adminAnswers: Record<string, number>;
  /** Non-2xx admin answers, grouped by text (ids, URLs and ARNs replaced by placeholders). */
  readonly adminErrors: Array<{ count: number; status: number; text: string }>;
  /** WARN and ERROR lines the server logged during the run, grouped the same way. */
  readonly serverLog: Array<{ count: number; text: string }>;
  readonly outcomes: RegistrationOutcome[];
}

export interface ConcurrencyRun {
  readonly deployer: ConcurrentDeployer;
  readonly scenario: ConcurrencyScenario;
  readonly targets: readonly ConcurrentTarget[];
  /** The tests' own view of the server (direct, not through the proxy). */
  readonly admin: AdminApi;
  /** The proxy the deployer talks to: its records say what the admin API answered. */
  readonly proxy: AuthenticatingProxy;
  /** restate-server's log file, to collect what it warned about during the run. */
  readonly serverLogFile?: string;
  /** What context.getRemainingTimeInMillis() starts at (the deployer's timeout). Default 5 min. */
  readonly remainingMs?: number;
}

/** Sends every target's Create at once, waits for all answers, then checks the server. */
export async function registerConcurrently(run: ConcurrencyRun): Promise<ConcurrencyReport> {
  const { deployer, scenario, targets, admin, proxy } = run;
  const kind = targets[0]?.kind ?? 'http';
  const logStart = run.serverLogFile && fs.existsSync(run.serverLogFile) ? fs.statSync(run.serverLogFile).size : 0;
  const mark = proxy.mark();
  const t0 = Date.now();
  const answers = await Promise.all(
    targets.map(async (target) => {
      const calledAt = Date.now() - t0;
      try {
        const inv = await deployer.cfn.invokeAsCloudFormation('Create', deployer.properties(target), {
          logicalResourceId: target.logicalId,
          remainingMs: run.remainingMs,
        });
        return { target, inv, endMs: calledAt + inv.elapsedMs };
      } catch (e) {
        return { target, error: e instanceof Error ? e.message : String(e), endMs: Date.now() - t0 };
      }
    }),
  );
  const wallMs = Math.max(...answers.map((a) => a.endMs));
  const adminRecords = proxy.since(mark);

  const deployments = await admin.deployments();
  const byEndpoint = new Map<string, DeploymentSummary[]>();
  for (const d of deployments) {
    const key = normalize(d.uri ?? d.arn ?? '');
    byEndpoint.set(key, [...(byEndpoint.get(key) ?? []), d]);
  }

  // The registrations as the admin API saw them: attempts, and the revisions it answered.
  const attempts = new Map<string, number>();
  const answeredRevisions = new Map<string, number[]>();
  const firstPost = new Map<string, number>();
  const postOk: number[] = [];
  const post5xx: number[] = [];
  for (const r of adminRecords) {
    if (r.method !== 'POST' || r.path !== '/deployments') continue;
    (r.status >= 500 ? post5xx : r.status < 300 ? postOk : []).push(r.at - r.receivedAt);
    try {
      const body = JSON.parse(r.body) as { uri?: string; arn?: string };
      const key = normalize(body.uri ?? body.arn ?? '');
      attempts.set(key, (attempts.get(key) ?? 0) + 1);
      firstPost.set(key, Math.min(firstPost.get(key) ?? Infinity, r.receivedAt - t0));
      if (r.status === 200 || r.status === 201) {
        const answer = JSON.parse(r.responseBody) as { services?: Array<{ revision?: number }> };
        const revs = (answer.services ?? []).flatMap((svc) => (svc.revision === undefined ? [] : [svc.revision]));
        answeredRevisions.set(key, [...(answeredRevisions.get(key) ?? []), ...revs]);
      }
    } catch {
      // not JSON: not a registration
    }
  }

  const problems: string[] = [];
  const outcomes: RegistrationOutcome[] = answers.map((a) => {
    const mine = byEndpoint.get(normalize(a.target.endpoint)) ?? [];
    const inv: CloudFormationInvocation | undefined = a.inv;
    const status = inv ? inv.response.Status : 'NO ANSWER';
    const outcome: RegistrationOutcome = {
      endpoint: a.target.endpoint,
      status,
      reason: inv ? inv.response.Reason : a.error,
      physicalResourceId: inv?.response.PhysicalResourceId,
      elapsedMs: inv ? inv.elapsedMs : a.endMs,
      deployments: mine.map((d) => d.id),
      revisionsAnswered: answeredRevisions.get(normalize(a.target.endpoint)) ?? [],
    };
    if (inv && inv.problems.length > 0) problems.push(`${a.target.endpoint}: protocol problems in the answer: ${inv.problems.join('; ')}`);
    if (inv && inv.putCount !== 1) problems.push(`${a.target.endpoint}: ${inv.putCount} response PUTs`);
    if (status !== 'SUCCESS') return outcome;
    if (mine.length === 0) problems.push(`${a.target.endpoint}: SUCCESS, but the server has no deployment of it`);
    if (mine.length > 1) problems.push(`${a.target.endpoint}: SUCCESS, but the server has ${mine.length} deployments of it (duplicates): ${mine.map((d) => d.id).join(', ')}`);
    if (deployer.answersDeploymentId && mine.length === 1 && inv!.response.PhysicalResourceId !== mine[0].id) {
      problems.push(`${a.target.endpoint}: answered ${inv!.response.PhysicalResourceId}, but its deployment is ${mine[0].id}`);
    }
    if (deployer.answersDeploymentId && inv!.response.Data?.DeploymentId !== inv!.response.PhysicalResourceId) {
      problems.push(`${a.target.endpoint}: Data.DeploymentId ${inv!.response.Data?.DeploymentId} is not the PhysicalResourceId ${inv!.response.PhysicalResourceId}`);
    }
    const names = mine.flatMap((d) => d.services.map((s) => s.name));
    if (mine.length > 0 && !names.every((n) => n === a.target.service)) problems.push(`${a.target.endpoint}: its deployment serves [${names.join(', ')}], expected [${a.target.service}]`);
    return outcome;
  });
  const ids = outcomes.flatMap((o) => o.deployments);
  if (new Set(ids).size !== ids.length) problems.push(`a deployment id appears for more than one endpoint: ${ids.join(', ')}`);

  // What the ingress serves.
  const expected = new Map<string, ConcurrentTarget>();
  let revisions: ConcurrencyReport['revisions'];
  const success = (t: ConcurrentTarget) => outcomes.find((o) => o.endpoint === t.endpoint)?.status === 'SUCCESS';
  if (scenario === 'distinct') {
    for (const t of targets) if (success(t)) expected.set(t.service, t);
  } else {
    const service = targets[0].service;
    const made = targets.flatMap((t) =>
      (byEndpoint.get(normalize(t.endpoint)) ?? []).map((d) => ({ t, d, revision: d.services.find((s) => s.name === service)?.revision ?? 0 })),
    );
    const revs = made.map((m) => m.revision);
    if (new Set(revs).size !== revs.length) problems.push(`revisions: two deployments have the same revision of ${service}: ${revs.join(', ')}`);
    const latest = made.sort((a, b) => b.revision - a.revision)[0];
    const status = await admin.service(service);
    revisions = { served: status?.revision, made: made.length };
    if (latest) {
      expected.set(service, latest.t);
      if (!status || status.deployment_id !== latest.d.id) {
        problems.push(`revisions: ${service} is served by ${status?.deployment_id} (revision ${status?.revision}), not by the latest registered revision ${latest.d.id} (revision ${latest.revision})`);
      }
      if (!success(latest.t)) problems.push(`revisions: the latest revision ${latest.d.id} belongs to a registration that answered ${outcomes.find((o) => o.endpoint === latest.t.endpoint)?.status}`);
    } else {
      problems.push(`revisions: the server has no deployment of ${service}`);
    }
  }
  if (scenario === 'distinct') {
    for (const [service, t] of expected) {
      const status = await admin.service(service);
      const mine = byEndpoint.get(normalize(t.endpoint)) ?? [];
      if (!status || mine.length !== 1 || status.deployment_id !== mine[0].id) {
        problems.push(`${service} is served by ${status?.deployment_id ?? 'nothing'}, not by ${mine.map((d) => d.id).join(', ') || 'a deployment'} of ${t.endpoint}`);
      }
    }
  }
  let ingressOk = 0;
  const checks = [...expected.entries()];
  for (let i = 0; i < checks.length; i += 10) {
    await Promise.all(
      checks.slice(i, i + 10).map(async ([service, t]) => {
        const want = JSON.stringify(`Hello, concurrent! (${service} v${t.version})`);
        try {
          const res = await admin.invoke(service, 'greet', 'concurrent');
          if (res.status === 200 && res.body === want) ingressOk++;
          else problems.push(`ingress ${service}/greet answered ${res.status} ${res.body.slice(0, 200)}, expected ${want}`);
          if (scenario === 'revisions' && revisions) revisions = { ...revisions, servedVersion: /\(.* v(.*)\)"$/.exec(res.body)?.[1] };
        } catch (e) {
          problems.push(`ingress ${service}/greet: ${e instanceof Error ? e.message : String(e)}`);
        }
      }),
    );
  }

  const elapsed = outcomes.map((o) => o.elapsedMs);
  const firstPosts = [...firstPost.values()];
  const failures = outcomes.filter((o) => o.status !== 'SUCCESS');
  const reasonGroups = new Map<string, { count: number; example: string }>();
  for (const f of failures) {
    const key = placeholders(f.reason ?? '(no reason)');
    const g = reasonGroups.get(key);
    if (g) g.count++;
    else reasonGroups.set(key, { count: 1, example: f.reason ?? '(no reason)' });
  }
  const adminAnswers: Record<string, number> = {};
  const adminErrors = new Map<string, { count: number; status: number; text: string }>();
  for (const r of adminRecords) {
    const key = `${r.method} ${pathPattern(r.path)} ${r.status}`;
    adminAnswers[key] = (adminAnswers[key] ?? 0) + 1;
    if (r.status >= 300) {
      const text = placeholders(messageOf(r.responseBody));
      const k = `${r.status} ${text}`;
      const g = adminErrors.get(k);
      if (g) g.count++;
      else adminErrors.set(k, { count: 1, status: r.status, text });
    }
  }

  return {
    label: deployer.label,
    scenario,
    kind,
    count: targets.length,
    wallMs,
    p50Ms: percentile(elapsed, 50),
    p99Ms: percentile(elapsed, 99),
    minMs: Math.min(...elapsed),
    maxMs: Math.max(...elapsed),
    succeeded: outcomes.filter((o) => o.status === 'SUCCESS').length,
    failed: outcomes.filter((o) => o.status === 'FAILED').length,
    noAnswer: outcomes.filter((o) => o.status === 'NO ANSWER').length,
    failureReasons: [...reasonGroups.entries()]
      .map(([reason, g]) => ({ count: g.count, reason, example: g.example }))
      .sort((a, b) => b.count - a.count),
    problems,
    deploymentsAtServer: ids.length,
    revisions,
    failedRevisions:
      scenario === 'revisions'
        ? failures.map((f) => ({ own: f.revisionsAnswered, servingPerReason: Number(/\(revision (\d+)\)/.exec(f.reason ?? '')?.[1] ?? NaN) || undefined }))
        : undefined,
    ingress: { ok: ingressOk, checked: checks.length },
    registerAttempts: { total: [...attempts.values()].reduce((a, b) => a + b, 0), max: Math.max(0, ...attempts.values()) },
    firstPostAtMs: { p10: percentile(firstPosts, 10), p50: percentile(firstPosts, 50), p90: percentile(firstPosts, 90) },
    postAnswerMs: { ok: percentile(postOk, 50), serverError: post5xx.length ? percentile(post5xx, 50) : undefined },
    adminAnswers,
    adminErrors: [...adminErrors.values()].sort((a, b) => b.count - a.count),
    serverLog: run.serverLogFile ? serverWarnings(run.serverLogFile, logStart) : [],
    outcomes,
  };
}

/** Nearest-rank percentile. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** Texts grouped regardless of which deployment, endpoint, function, request or time they name. */
export function placeholders(text: string): string {
  return text
    .replace(/dp_[A-Za-z0-9]+/g, 'dp_…')
    .replace(/https?:\/\/127\.0\.0\.1:\d+(\/[^\s,;'")\]]*)?/g, '<url>')
    .replace(/arn:aws:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9$_-]+)?/g, '<function>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, '<uuid>')
    .replace(/\b(inv|prom|sub|tx)_[A-Za-z0-9]+/g, '$1_…')
    .replace(/\(revision \d+\)/g, '(revision n)')
    .replace(/\b\d+(\.\d+)? ?(ms|s)\b/g, 'n $2');
}

function pathPattern(p: string): string {
  const [pathname, query] = p.split('?');
  const pattern = pathname.replace(/^\/deployments\/[^/]+/, '/deployments/{id}').replace(/^\/services\/[^/]+/, '/services/{name}');
  return query ? `${pattern}?${query.replace(/=[^&]*/g, '=…')}` : pattern;
}

function messageOf(body: string): string {
  try {
    const j = JSON.parse(body) as { message?: string; restate_code?: string };
    if (j.message) return `${j.restate_code ? `${j.restate_code}: ` : ''}${j.message}`.slice(0, 400);
  } catch {
    // not JSON
  }
  return body.slice(0, 400);
}

/** WARN/ERROR lines of restate-server's log from byte `from` on, grouped. */
function serverWarnings(file: string, from: number): Array<{ count: number; text: string }> {
  let text = '';
  try {
    const fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.max(0, size - from));
    fs.readSync(fd, buf, 0, buf.length, from);
    fs.closeSync(fd);
    text = buf.toString('utf8');
  } catch {
    return [];
  }
  // Entries look like `2026-12-01T23:43:24.477922Z WARN restate_admin::...` followed by indented
  // lines (the message, then fields and spans): keep level, target and the message's first line.
  const groups = new Map<string, number>();
  const entries = text.split(/\n(?=\d{4}-\d\d-\d\dT[\d:.]+Z )/);
  for (const entry of entries) {
    const m = /^\d{4}-\d\d-\d\dT[\d:.]+Z (WARN|ERROR) (\S+)\s*\n?\s*([^\n]*)/.exec(entry);
    if (!m) continue;
    const key = placeholders(`${m[1]} ${m[2]}: ${m[3].trim()}`).slice(0, 300);
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups.entries()].map(([t, count]) => ({ count, text: t })).sort((a, b) => b.count - a.count);
}
