/**
 * The RESULTS.md sections of the registration part (bench/src/latency.ts wrote its JSON).
 */

interface Stats {
  readonly count: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly samplesMs: number[];
}

interface LateSummary {
  readonly kind: 'http' | 'lambda';
  readonly runs: number;
  readonly succeeded: number;
  readonly medianOvershootMs: number;
  readonly p90OvershootMs: number;
  readonly maxOvershootMs: number;
  readonly medianMs: number;
  readonly overshootsMs: number[];
  readonly failures: string[];
}

interface PropagationSample {
  readonly status: string;
  readonly reason?: string;
  readonly elapsedMs: number;
  readonly lagMs: number;
  readonly effectiveAfterMs: number;
  readonly registerAttempts: number;
  readonly deniedAwsRequests: number;
}

interface PropagationKind {
  readonly kind: string;
  readonly samples: PropagationSample[];
  readonly succeeded: number;
  readonly medianLagMs: number;
  readonly maxLagMs: number;
  readonly medianAttempts: number;
}

interface ConcurrencyRun {
  readonly label: string;
  readonly round: number;
  readonly scenario: 'distinct' | 'revisions';
  readonly kind: 'http' | 'lambda';
  readonly count: number;
  readonly error?: string;
  readonly wallMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly noAnswer: number;
  readonly failureReasons: Array<{ count: number; reason: string; example: string }>;
  readonly problems: string[];
  readonly deploymentsAtServer: number;
  readonly revisions?: { served?: number; made: number; servedVersion?: string };
  readonly failedRevisions?: Array<{ own: number[]; servingPerReason?: number }>;
  readonly ingress: { ok: number; checked: number };
  readonly registerAttempts: { total: number; max: number };
  readonly firstPostAtMs?: { p10: number; p50: number; p90: number };
  readonly postAnswerMs?: { ok: number; serverError?: number };
  readonly adminAnswers: Record<string, number>;
  readonly adminErrors: Array<{ count: number; status: number; text: string }>;
  readonly serverLog: Array<{ count: number; text: string }>;
}

export interface LatencyResult {
  readonly ok: boolean;
  readonly error?: string;
  readonly errors?: Record<string, string>;
  readonly node?: string;
  readonly restateServerVersion?: string;
  readonly sdkVersion?: string;
  readonly reference?: string;
  readonly seconds?: number;
  readonly load?: { start: number[]; end: number[] };
  readonly registrations?: Stats & { distinctDeployments: number };
  readonly reregistrations?: Stats;
  readonly lambdaSingle?: { ours?: Stats; ref?: Stats };
  readonly lateAdmin?: { delayMs: number; ours?: LateSummary; ref?: LateSummary };
  readonly propagation?: { delaySeconds: number; kinds: PropagationKind[] };
  readonly concurrency?: { runs: ConcurrencyRun[] };
}

function fmtMs(ms: number | undefined): string {
  return ms !== undefined && Number.isFinite(ms) ? `${Math.round(ms).toLocaleString('en-US')} ms` : 'n/a';
}

function fmtS(ms: number | undefined): string {
  return ms !== undefined && Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'n/a';
}

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const load = (l: number[] | undefined) => (l ? l.map((x) => x.toFixed(2)).join(', ') : 'n/a');
const oneLine = (s: string) => s.replace(/\s+/g, ' ').replace(/\|/g, '\\|');

/** The "Registration" sections of RESULTS.md. */
export function latencySections(latency: LatencyResult): string[] {
  const L: string[] = [];
  L.push('## Registration against a real restate-server', '');
  if (!latency.registrations && !latency.concurrency) {
    L.push(`Not measured: ${latency.error}`, '');
    return L;
  }
  L.push(
    `restate-server ${latency.restateServerVersion}, real @restatedev/restate-sdk ${latency.sdkVersion} services (HTTP/2 processes, and Lambda handlers run by loopback STS/Lambda stand-ins that check trust and resource policies), ` +
      `the deployer handlers invoked in-process with CloudFormation events on Node ${latency.node}: ours as bundled (assets/deployer/deployer.lambda/index.js), ` +
      `ref as @restatedev/restate-cdk ${latency.reference ?? '(not installed)'} ships it (dist/register-service-handler/entrypoint.mjs, with the properties its ServiceDeployer.register writes). ` +
      'Each answer is PUT to an https stand-in of the pre-signed S3 URL; the API key is read from a fake Secrets Manager and checked by a bearer-token proxy in front of the admin API. ' +
      `All inside a private network namespace (loopback only). Load average (1, 5, 15 min) at the start of this part: ${load(latency.load?.start)}; at its end: ${load(latency.load?.end)}; it took ${latency.seconds ?? '?'} s.`,
    '',
  );
  if (latency.errors && Object.keys(latency.errors).length > 0) {
    L.push(`**Parts that failed to run:** ${Object.entries(latency.errors).map(([k, v]) => `${k}: ${oneLine(v)}`).join('; ')}`, '');
  }

  // One at a time.
  L.push('### One registration at a time', '');
  L.push('| what | library | median | p90 | min | max |', '| --- | --- | ---: | ---: | ---: | ---: |');
  const r = latency.registrations;
  if (r) L.push(`| ${r.count} Creates, each a new HTTP endpoint URL (event in → response out) | ours | ${fmtMs(r.medianMs)} | ${fmtMs(r.p90Ms)} | ${fmtMs(r.minMs)} | ${fmtMs(r.maxMs)} |`);
  const rr = latency.reregistrations;
  if (rr) L.push(`| ${rr.count} idempotent re-registrations of one endpoint (200, same deployment) | ours | ${fmtMs(rr.medianMs)} | ${fmtMs(rr.p90Ms)} | ${fmtMs(rr.minMs)} | ${fmtMs(rr.maxMs)} |`);
  for (const lib of ['ours', 'ref'] as const) {
    const s = latency.lambdaSingle?.[lib];
    if (s) L.push(`| ${s.count} Creates of a new Lambda version (granted, admin API up) | ${lib} | ${fmtMs(s.medianMs)} | ${fmtMs(s.p90Ms)} | ${fmtMs(s.minMs)} | ${fmtMs(s.maxMs)} |`);
  }
  L.push('');

  // Late admin API.
  const late = latency.lateAdmin;
  if (late) {
    L.push(`### Admin API up ${late.delayMs / 1000} s late (issue 17, item 1)`, '');
    L.push(
      `The admin API refuses connections until ${late.delayMs / 1000} s after the event (a TCP gate in front of it). ` +
        `**Overshoot over the floor** = time to SUCCESS − ${(late.delayMs / 1000).toFixed(1)} s; it includes the registration itself (see above). ` +
        'Ours registers an HTTP endpoint; the reference can register Lambda ARNs only, so it registers a Lambda version; both runs of a round start together.',
      '',
    );
    L.push('| library | runs (SUCCESS) | median overshoot | p90 overshoot | max overshoot | median time to SUCCESS | overshoots (ms) |', '| --- | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const lib of ['ours', 'ref'] as const) {
      const s = late[lib];
      if (!s) continue;
      L.push(`| ${lib} (${s.kind}) | ${s.runs} (${s.succeeded}) | **${fmtS(s.medianOvershootMs)}** | ${fmtS(s.p90OvershootMs)} | ${fmtS(s.maxOvershootMs)} | ${fmtS(s.medianMs)} | ${s.overshootsMs.map((x) => Math.round(x)).join(', ')} |`);
    }
    L.push('');
    if (late.ours) {
      L.push(`Target for ours: median overshoot ≤ 0.50 s: **${late.ours.medianOvershootMs <= 500 ? 'met' : 'not met'}** (${fmtS(late.ours.medianOvershootMs)}).`, '');
    }
    for (const lib of ['ours', 'ref'] as const) {
      for (const f of late[lib]?.failures ?? []) L.push(`- ${lib} FAILED: ${oneLine(f)}`);
    }
  }

  // Propagation.
  const prop = latency.propagation;
  if (prop) {
    L.push(`### Grant or invoker role effective ${prop.delaySeconds} s late (issue 13)`, '');
    L.push(
      `A Lambda registration whose grant (or whose invoker role) takes effect only ${prop.delaySeconds} s after it was made, like IAM's eventual consistency: ` +
        '**lag** = time from it taking effect to the deployer\'s answer. Kinds: `TEMPLATE grant` — the version\'s AWS::Lambda::Permission exists before the event, effective 5 s after; ' +
        '`DEPLOYER grant` — the deployer adds it (AddPermission) and it is effective 5 s after that; `role` — the invoker role exists (granted) but can be assumed only 5 s after the event. ' +
        'Ours: default AuthRetrySeconds (60), discovery refused by AWS retried with backoff capped at 2 s. The reference: its 3 registration attempts with 2^n s + up to 2 s backoff. ' +
        'The kinds of one round run at the same time.',
      '',
    );
    L.push('| kind | SUCCESS | median lag | max lag | POST /deployments per registration (median) | lags (ms) |', '| --- | ---: | ---: | ---: | ---: | --- |');
    for (const k of prop.kinds) {
      L.push(`| ${k.kind} | ${k.succeeded}/${k.samples.length} | **${fmtS(k.medianLagMs)}** | ${fmtS(k.maxLagMs)} | ${k.medianAttempts} | ${k.samples.map((s) => `${Math.round(s.lagMs)}${s.status === 'SUCCESS' ? '' : ` ${s.status}`}`).join(', ')} |`);
    }
    L.push('');
    for (const k of prop.kinds) for (const s of k.samples) if (s.status !== 'SUCCESS') L.push(`- ${k.kind} ${s.status}: ${oneLine(s.reason ?? '')}`);
    L.push('');
  }

  // Concurrency.
  const conc = latency.concurrency;
  if (conc) {
    L.push('### Many registrations at once (issue 17, item 2)', '');
    L.push(
      'N Create events sent at the same time (as CloudFormation creates independent resources), against one restate-server, fresh for every run. ' +
        '`distinct`: N endpoints, each a service of its own; `revisions`: 20 endpoints that all serve one service name (revisions of one service). ' +
        'HTTP endpoints are real SDK endpoints, many per process (test/integration/harness/fixtures/restate-services.js: endpoint i under the path prefix /e<i>, so each URL is a deployment with one service); ' +
        'Lambda endpoints are versions run by the Lambda stand-in, granted beforehand. The reference registers Lambda ARNs only. ' +
        'Checked afterwards: every SUCCESS has exactly one deployment of its endpoint (ours: the one it answered), the server serves each service from it (revisions: from the latest revision the server made), and the ingress answers from that code. ' +
        'All deployer invocations run in one Node process here (in Lambda each has its own), next to the stand-ins: times include that contention, alike for both libraries.',
      '',
    );
    const runs = conc.runs;
    const groups = new Map<string, ConcurrencyRun[]>();
    for (const run of runs) {
      const key = `${run.scenario} ×${run.count}|${run.label}|${run.kind}`;
      groups.set(key, [...(groups.get(key) ?? []), run]);
    }
    L.push(
      '| scenario | library | endpoints | runs | all answered after (median of runs) | per registration p50 (median) | p99 (median) | SUCCESS / FAILED / no answer (all runs) | checks failed | POST /deployments per registration (max) |',
      '| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |',
    );
    for (const [key, g] of groups) {
      const [scenario, lib, kind] = key.split('|');
      const ok = g.filter((x) => !x.error);
      const sum = (f: (x: ConcurrencyRun) => number) => ok.reduce((a, x) => a + f(x), 0);
      L.push(
        `| ${scenario} | ${lib} | ${kind} | ${g.length}${ok.length < g.length ? ` (${g.length - ok.length} did not run)` : ''} | ${fmtS(median(ok.map((x) => x.wallMs)))} | ${fmtS(median(ok.map((x) => x.p50Ms)))} | ${fmtS(median(ok.map((x) => x.p99Ms)))} ` +
          `| ${sum((x) => x.succeeded)} / ${sum((x) => x.failed)} / ${sum((x) => x.noAnswer)} | ${sum((x) => x.problems.length)} | ${Math.max(0, ...ok.map((x) => x.registerAttempts.max))} |`,
      );
    }
    L.push('');
    L.push('Every run (all answered after / p50 / p99, s; SUCCESS of N; deployments at the server; revisions: made, and the revision served):', '');
    for (const [key, g] of groups) {
      const [scenario, lib, kind] = key.split('|');
      const cells = g.map((x) =>
        x.error
          ? `round ${x.round + 1}: did not run (${oneLine(x.error)})`
          : `${(x.wallMs / 1000).toFixed(2)}/${(x.p50Ms / 1000).toFixed(2)}/${(x.p99Ms / 1000).toFixed(2)}, ${x.succeeded}/${x.count}, ${x.deploymentsAtServer} deployments` +
            `${x.revisions ? `, ${x.revisions.made} revisions, serving revision ${x.revisions.served ?? '?'} (v${x.revisions.servedVersion ?? '?'})` : ''}`,
      );
      L.push(`- ${scenario}, ${lib}, ${kind}: ${cells.join('; ')}`);
    }
    L.push('');
    L.push('**What the server answered** (the admin API, as the bearer-token proxy saw it, summed over the runs; and restate-server\'s WARN/ERROR log lines):', '');
    for (const [key, g] of groups) {
      const [scenario, lib, kind] = key.split('|');
      const answers: Record<string, number> = {};
      const errors = new Map<string, number>();
      const logLines = new Map<string, number>();
      for (const x of g) {
        if (x.error) continue;
        for (const [k, v] of Object.entries(x.adminAnswers)) answers[k] = (answers[k] ?? 0) + v;
        for (const e of x.adminErrors) errors.set(`HTTP ${e.status}: ${e.text}`, (errors.get(`HTTP ${e.status}: ${e.text}`) ?? 0) + e.count);
        for (const l of x.serverLog) logLines.set(l.text, (logLines.get(l.text) ?? 0) + l.count);
      }
      const answerText = Object.entries(answers).sort().map(([k, v]) => `${k} ×${v}`).join(', ');
      const ran = g.filter((x) => !x.error && x.firstPostAtMs);
      const timing = ran.length
        ? `; first POST /deployments of each registration reached the admin API (p10/p50/p90, per run) ${ran.map((x) => `${fmtS(x.firstPostAtMs!.p10)}/${fmtS(x.firstPostAtMs!.p50)}/${fmtS(x.firstPostAtMs!.p90)}`).join('; ')} after the events; ` +
          `POST /deployments answered in (median, per run) ${ran.map((x) => `${fmtS(x.postAnswerMs!.ok)}${x.postAnswerMs!.serverError !== undefined ? ` (5xx: ${fmtS(x.postAnswerMs!.serverError)})` : ''}`).join('; ')}`
        : '';
      L.push(`- ${scenario}, ${lib}, ${kind}: ${answerText || 'nothing recorded'}${timing}`);
      for (const [t, count] of errors) L.push(`  - ${count}× ${oneLine(t)}`);
      for (const [t, count] of logLines) L.push(`  - server log, ${count}×: \`${oneLine(t)}\``);
    }
    L.push('');
    const failed = runs.filter((x) => !x.error && (x.failureReasons.length > 0 || x.problems.length > 0));
    if (failed.length === 0) {
      L.push('No registration FAILED, and every check held.', '');
    } else {
      L.push('**FAILED answers (reasons verbatim, one example per kind of reason) and failed checks:**', '');
      for (const x of failed) {
        for (const f of x.failureReasons) L.push(`- ${x.scenario} ×${x.count}, ${x.label}, ${x.kind}, round ${x.round + 1}: ${f.count}× FAILED: "${oneLine(f.example)}"`);
        if (x.failedRevisions?.length) {
          L.push(
            `  - the revision each of these registrations had been given by the server → the revision its reason names as serving: ${x.failedRevisions
              .map((f) => `${f.own.join('/') || '?'} → ${f.servingPerReason ?? '?'}`)
              .join(', ')}`,
          );
        }
        for (const p of x.problems.slice(0, 5)) L.push(`- ${x.scenario} ×${x.count}, ${x.label}, ${x.kind}, round ${x.round + 1}: check failed: ${oneLine(p)}`);
        if (x.problems.length > 5) L.push(`- … and ${x.problems.length - 5} more failed checks in that run`);
      }
      L.push('');
    }
  }
  return L;
}

/** Rows of the summary table. */
export function latencySummaryRows(latency: LatencyResult): string[] {
  const rows: string[] = [];
  if (latency.registrations) rows.push(`| registration latency, HTTP, median of ${latency.registrations.count} | ${fmtMs(latency.registrations.medianMs)} | not measured (Lambda only) | |`);
  const single = latency.lambdaSingle;
  if (single?.ours) rows.push(`| registration latency, Lambda, median of ${single.ours.count} | ${fmtMs(single.ours.medianMs)} | ${fmtMs(single.ref?.medianMs)} | |`);
  const late = latency.lateAdmin;
  if (late?.ours) rows.push(`| admin API ${late.delayMs / 1000} s late: median / p90 overshoot over the floor | ${fmtS(late.ours.medianOvershootMs)} / ${fmtS(late.ours.p90OvershootMs)} | ${late.ref ? `${fmtS(late.ref.medianOvershootMs)} / ${fmtS(late.ref.p90OvershootMs)}` : 'n/a'} | |`);
  for (const k of latency.propagation?.kinds ?? []) {
    if (!k.kind.startsWith('ours')) continue;
    const what = k.kind.replace(/^ours /, '');
    const ref = latency.propagation!.kinds.find((x) => x.kind === `ref ${what === 'role' ? 'role' : 'grant'}` && (what !== 'DEPLOYER grant'));
    rows.push(`| ${what} effective ${latency.propagation!.delaySeconds} s late: median / max lag to SUCCESS | ${fmtS(k.medianLagMs)} / ${fmtS(k.maxLagMs)} | ${ref ? `${fmtS(ref.medianLagMs)} / ${fmtS(ref.maxLagMs)}` : '—'} | |`);
  }
  const runs = latency.concurrency?.runs.filter((x) => !x.error) ?? [];
  for (const scenario of ['distinct', 'revisions'] as const) {
    for (const kind of ['http', 'lambda'] as const) {
      const pick = (lib: string) => runs.filter((x) => x.scenario === scenario && x.kind === kind && x.label === lib);
      const o = pick('ours');
      if (o.length === 0) continue;
      const r = pick('ref');
      const cell = (g: ConcurrencyRun[]) =>
        g.length === 0
          ? 'n/a'
          : `${fmtS(median(g.map((x) => x.wallMs)))}, p99 ${fmtS(median(g.map((x) => x.p99Ms)))}, ${g.reduce((a, x) => a + x.failed + x.noAnswer, 0)} of ${g.reduce((a, x) => a + x.count, 0)} not SUCCESS`;
      rows.push(`| ${o[0].count} ${kind} registrations at once (${scenario}): all answered after | ${cell(o)} | ${kind === 'http' ? 'n/a (Lambda only)' : cell(r)} | |`);
    }
  }
  return rows;
}
