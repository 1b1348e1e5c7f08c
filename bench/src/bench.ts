/**
 * The benchmark driver (bench/run.sh builds and runs it): restate-cloud-cdk ("ours") against
 * @restatedev/restate-cdk@1.7.0 ("ref"), side by side, in one run. Writes bench/RESULTS.md.
 *
 * Every synth sample is a fresh node process (synth-app.ts) that times app construction +
 * app.synth() only. See bench/README.md for what is measured and why.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CpuProfile, ProfileSummary, summarizeProfile } from './profile';
import { LatencyResult, latencySections, latencySummaryRows } from './report-latency';
import type { SampleResult } from './synth-app';
import { IAM_LIMITS, IamDocumentKind } from '../../test/support/iam-size';

type Lib = 'ours' | 'ref';
const LIBS: Lib[] = ['ours', 'ref'];
const NS = [1, 30, 120];
const RUNS = Math.max(5, Number(process.env.BENCH_RUNS ?? 7));
const SEARCH_MAX = 1000;
const PER_STACK = 100;

const root = path.resolve(__dirname, '../../..');
const work = path.join(root, 'bench', '.work');
const synthApp = path.join(work, 'js', 'synth-app.js');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'restate-bench-'));

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

type Variant = Lib | 'none' | 'ours-deployer';

type Sampled = SampleResult & {
  /** Wall time of the whole synth process (start, module loading, construction, synth, exit). */
  readonly processMs?: number;
};

function sample(variant: Variant, n: number, opts: { perStack?: number; analyze?: boolean; profile?: string } = {}): Sampled {
  const lib = variant === 'ours-deployer' ? 'ours' : variant;
  const outdir = fs.mkdtempSync(path.join(scratch, `${variant}-${n}-`));
  const input = { lib, n, perStack: opts.perStack ?? 0, analyze: opts.analyze ?? false, outdir, profile: opts.profile, invokeGrant: variant === 'ours-deployer' ? 'DEPLOYER' : undefined };
  const t0 = Date.now();
  const res = spawnSync(process.execPath, [synthApp, JSON.stringify(input)], {
    encoding: 'utf8',
    env: process.env,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 600_000,
  });
  const processMs = Date.now() - t0;
  fs.rmSync(outdir, { recursive: true, force: true });
  const line = res.stdout.trim().split('\n').pop() ?? '';
  try {
    return { ...(JSON.parse(line) as SampleResult), processMs };
  } catch {
    const why = (res.stderr || res.error?.message || `exit ${res.status}`).trim().split('\n').slice(-3).join(' / ');
    return { lib, n, ms: NaN, error: `the synth process failed: ${why.slice(0, 300)}` };
  }
}

function median(xs: number[]): number {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// ---------------------------------------------------------------------------------------------
// Synth time, resources, largest IAM document at N = 1, 30, 120 (one stack)

interface Times {
  readonly wall: number[];
  readonly cpu: number[];
}

interface PerN {
  readonly times: Record<Lib, Times>;
  readonly analysis: Record<Lib, SampleResult>;
  readonly baseline: Record<Lib, SampleResult>;
  readonly handlersOnly: SampleResult;
  readonly handlersNone: SampleResult;
}

interface Breakdown {
  /** N=BREAKDOWN_N samples of: handlers only (no library), ours without the invoke grant. */
  readonly times: Record<'none' | 'ours-deployer', Times>;
}

const BREAKDOWN_N = 120;

function record(t: Times, s: SampleResult): void {
  t.wall.push(s.error ? NaN : s.ms);
  t.cpu.push(s.error || s.cpuMs === undefined ? NaN : s.cpuMs);
}

function measureSynth(): { perN: Map<number, PerN>; breakdown: Breakdown } {
  log('warm-up (one discarded sample per library)');
  for (const lib of LIBS) sample(lib, 1);
  const baseline = { ours: sample('ours', 0, { analyze: true }), ref: sample('ref', 0, { analyze: true }) };
  const handlersNone = sample('none', 0, { analyze: true });
  const perN = new Map<number, PerN>();
  const breakdown: Breakdown = { times: { 'none': { wall: [], cpu: [] }, 'ours-deployer': { wall: [], cpu: [] } } };
  for (const n of NS) {
    const times: Record<Lib, Times> = { ours: { wall: [], cpu: [] }, ref: { wall: [], cpu: [] } };
    const analysis = {} as Record<Lib, SampleResult>;
    const variants: Variant[] = n === BREAKDOWN_N ? ['ours', 'ref', 'none', 'ours-deployer'] : ['ours', 'ref'];
    for (let r = 0; r < RUNS; r++) {
      // Rotate the order, so drift on a shared machine hits every variant alike.
      const order = variants.map((_, i) => variants[(i + r) % variants.length]);
      for (const v of order) {
        const s = sample(v, n, { analyze: r === 0 && (v === 'ours' || v === 'ref') });
        if (v === 'ours' || v === 'ref') {
          if (r === 0) analysis[v] = s;
          record(times[v], s);
        } else {
          record(breakdown.times[v], s);
        }
      }
    }
    log(`N=${n}: wall ours ${fmtMs(median(times.ours.wall))}, ref ${fmtMs(median(times.ref.wall))}; CPU ours ${fmtMs(median(times.ours.cpu))}, ref ${fmtMs(median(times.ref.cpu))} (medians of ${RUNS})`);
    perN.set(n, { times, analysis, baseline, handlersOnly: sample('none', n, { analyze: true }), handlersNone });
  }
  return { perN, breakdown };
}

/** Least-squares slope of time over N, over every sample: the marginal cost of one handler. */
function slope(perN: Map<number, PerN>, lib: Lib, metric: keyof Times): number {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const [n, p] of perN) {
    for (const y of p.times[lib][metric]) {
      if (Number.isFinite(y)) {
        xs.push(n);
        ys.push(y);
      }
    }
  }
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** (resources with N − resources with 0 − the handlers' own resources) / N. */
function extraPerHandler(p: PerN, lib: Lib, n: number): number {
  const withN = p.analysis[lib].resources?.total;
  const zero = p.baseline[lib].resources?.total;
  const own = (p.handlersOnly.resources?.total ?? NaN) - (p.handlersNone.resources?.total ?? NaN);
  if (withN === undefined || zero === undefined) return NaN;
  return (withN - zero - own) / n;
}

// ---------------------------------------------------------------------------------------------
// The N at which an IAM document first exceeds its limit

interface Crossing {
  /** First N over a limit, or undefined when none up to SEARCH_MAX. */
  readonly firstN?: number;
  readonly lastOkN?: number;
  readonly what?: string;
  /** N at which synthesis itself failed, with the reason. */
  readonly failure?: { n: number; error: string };
  readonly probes: Array<{ n: number; largest: string; over: boolean }>;
}

function searchCrossing(lib: Lib): Crossing {
  const probes: Crossing['probes'] = [];
  let failure: Crossing['failure'];
  const cache = new Map<number, SampleResult>();
  const probe = (n: number): SampleResult => {
    let s = cache.get(n);
    if (!s) {
      s = sample(lib, n, { perStack: PER_STACK, analyze: true });
      cache.set(n, s);
      const over = overLimit(s);
      probes.push({ n, largest: s.error ? `synth failed: ${s.error}` : describeLargest(s), over });
      if (s.error && !failure) failure = { n, error: s.error };
      log(`  ${lib} N=${n}: ${over ? 'OVER A LIMIT' : 'ok'} (${probes[probes.length - 1].largest})`);
    }
    return s;
  };
  // Stepped search (10, 20, 40, 80, ...) up to SEARCH_MAX, then bisection.
  let ok = 0;
  let bad: number | undefined;
  for (let n = 10; ; n = Math.min(SEARCH_MAX, n * 2)) {
    if (overLimit(probe(n))) {
      bad = n;
      break;
    }
    ok = n;
    if (n === SEARCH_MAX) break;
  }
  if (bad === undefined) return { lastOkN: ok, probes, failure };
  while (bad - ok > 1) {
    const mid = Math.floor((ok + bad) / 2);
    if (overLimit(probe(mid))) bad = mid;
    else ok = mid;
  }
  const s = probe(bad);
  const what = s.error
    ? `synthesis failed: ${s.error}`
    : s.iam!.overLimit.map((d) => `${kindLabel(d.kind)} ${d.size.toLocaleString('en-US')}/${d.limit.toLocaleString('en-US')}`).join('; ');
  probes.sort((a, b) => a.n - b.n);
  return { firstN: bad, lastOkN: ok, what, failure, probes };
}

function overLimit(s: SampleResult): boolean {
  return Boolean(s.error) || (s.iam?.overLimit.length ?? 0) > 0;
}

// ---------------------------------------------------------------------------------------------
// Synth at fleet size: FLEET_N handlers over service stacks of PER_STACK, default grant mode

const FLEET_N = 500;
const FLEET_RUNS = 3;

function measureFleet(): Record<Lib, Sampled[]> {
  const out: Record<Lib, Sampled[]> = { ours: [], ref: [] };
  for (let r = 0; r < FLEET_RUNS; r++) {
    for (const lib of r % 2 === 0 ? LIBS : [...LIBS].reverse()) {
      const s = sample(lib, FLEET_N, { perStack: PER_STACK });
      out[lib].push(s);
      log(`  fleet ${lib} N=${FLEET_N}: ${s.error ? `failed: ${s.error}` : `${fmtMs(s.ms)} construction + synth, ${fmtMs(s.processMs ?? NaN)} process, max RSS ${fmtMiB(s.maxRssKiB)}`}`);
    }
  }
  return out;
}

function fmtMiB(kib: number | undefined): string {
  return kib !== undefined && Number.isFinite(kib) ? `${Math.round(kib / 1024).toLocaleString('en-US')} MiB` : 'n/a';
}

// ---------------------------------------------------------------------------------------------
// Profiles (where the synth time goes) and asset sizes

function profileBoth(n: number): Record<Lib, ProfileSummary | string> {
  const out = {} as Record<Lib, ProfileSummary | string>;
  for (const lib of LIBS) {
    const file = path.join(scratch, `${lib}-${n}.cpuprofile`);
    const s = sample(lib, n, { profile: file });
    if (s.error || !fs.existsSync(file)) {
      out[lib] = `profile failed: ${s.error ?? 'no profile written'}`;
      continue;
    }
    const marker = lib === 'ours' ? '/bench/.work/ours/' : '@restatedev/restate-cdk/';
    out[lib] = summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile, marker);
  }
  return out;
}

function dirBytes(dir: string, filter: (f: string) => boolean = () => true): { bytes: number; files: string[] } {
  let bytes = 0;
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = dirBytes(p, filter);
      bytes += sub.bytes;
      files.push(...sub.files.map((f) => `${entry.name}/${f}`));
    } else if (filter(entry.name)) {
      bytes += fs.statSync(p).size;
      files.push(entry.name);
    }
  }
  return { bytes, files };
}

function assetSizes() {
  const oursDir = path.join(root, 'assets', 'registration', 'deployer.lambda');
  const refDir = path.join(path.dirname(require.resolve(path.join(process.env.BENCH_REF_LIB!, 'package.json'))), 'dist', 'register-service-handler');
  return {
    ours: { dir: 'assets/deployer/deployer.lambda', all: dirBytes(oursDir), code: dirBytes(oursDir, (f) => /\.(m?js)$/.test(f)) },
    ref: { dir: '@restatedev/restate-cdk/dist/register-service-handler', all: dirBytes(refDir), code: dirBytes(refDir, (f) => /\.(m?js)$/.test(f)) },
  };
}

// ---------------------------------------------------------------------------------------------
// Registration latency (measured by latency.ts inside a private network namespace)

function readLatency(): LatencyResult {
  const file = process.env.BENCH_LATENCY_JSON;
  if (!file || !fs.existsSync(file)) return { ok: false, error: 'the latency run wrote no result (see the bench output above)' };
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LatencyResult;
  } catch (e) {
    return { ok: false, error: `unreadable latency result: ${String(e)}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function fmtMs(ms: number): string {
  return Number.isFinite(ms) ? `${Math.round(ms).toLocaleString('en-US')} ms` : 'n/a';
}

function fmtRatio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}×` : 'n/a';
}

function kindLabel(kind: IamDocumentKind): string {
  return {
    'role-inline-policies': 'role inline policies (aggregate)',
    'managed-policy': 'managed policy',
    'lambda-resource-policy': 'Lambda resource policy',
    'trust-policy': 'trust policy',
  }[kind];
}

function describeLargest(s: SampleResult): string {
  const d = s.iam?.largest;
  if (!d) return 'none';
  return `${kindLabel(d.kind)} ${d.size.toLocaleString('en-US')}/${d.limit.toLocaleString('en-US')} (${(d.usage * 100).toFixed(1)}%)`;
}

function machine() {
  const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const pkg = (p: string) => {
    try {
      return (JSON.parse(fs.readFileSync(p, 'utf8')) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  return {
    model,
    cores: os.cpus().length,
    memGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    date: new Date().toISOString(),
    load: os.loadavg().map((l) => l.toFixed(2)).join(', '),
    load1: os.loadavg()[0],
    cdk: pkg(path.join(root, 'node_modules', 'aws-cdk-lib', 'package.json')),
    ref: pkg(path.join(process.env.BENCH_REF_LIB!, 'package.json')),
    os: `${os.type()} ${os.release()}`,
  };
}

function profileTable(p: ProfileSummary | string, title: string): string[] {
  if (typeof p === 'string') return [`${title}: ${p}`, ''];
  const lines = [`**${title}** — ${fmtMs(p.totalMs)} sampled`, '', '| self time by area | ms | share |', '| --- | ---: | ---: |'];
  for (const a of p.byArea.slice(0, 8)) lines.push(`| ${a.area} | ${Math.round(a.ms)} | ${((a.ms / p.totalMs) * 100).toFixed(0)}% |`);
  lines.push('', '| the library\'s own functions, inclusive (time in and below them) | ms |', '| --- | ---: |');
  for (const f of p.libraryInclusive.slice(0, 8)) lines.push(`| \`${f.fn}\` | ${Math.round(f.ms)} |`);
  lines.push('');
  return lines;
}

function main(): void {
  const started = Date.now();
  const m = machine();
  log(`machine: ${m.model}, ${m.cores} cores, ${m.memGiB} GiB, node ${m.node}, load ${m.load}`);

  const { perN: synth, breakdown } = measureSynth();
  log('IAM limit search (handlers in service stacks of 100, environment in a platform stack)');
  const crossing: Record<Lib, Crossing> = { ours: searchCrossing('ours'), ref: searchCrossing('ref') };
  log(`synth at fleet size: ${FLEET_N} handlers over stacks of ${PER_STACK}, ${FLEET_RUNS} runs each`);
  const fleet = measureFleet();
  log('profiles at N=120');
  const profiles = profileBoth(120);
  const assets = assetSizes();
  const latency = readLatency();

  const L: string[] = [];
  L.push('# Benchmark: restate-cloud-cdk vs @restatedev/restate-cdk', '');
  L.push(`Generated by \`npm run bench\` (bench/run.sh) on ${m.date}. Do not edit by hand; see bench/README.md for what is measured.`, '');
  L.push('## Machine', '');
  L.push(`- CPU: ${m.model}, ${m.cores} cores (shared with other work; load average at start ${m.load})`);
  L.push(`- Memory: ${m.memGiB} GiB`);
  L.push(`- ${m.os}, Node ${m.node}, aws-cdk-lib ${m.cdk}`);
  L.push(`- ours: restate-cloud-cdk (this repository, compiled from src/); ref: @restatedev/restate-cdk ${m.ref}`);
  L.push('');
  const loadEnd = os.loadavg()[0];
  if (Math.max(m.load1, loadEnd) > m.cores) {
    L.push(`> The machine was oversubscribed during this run (load average ${m.load1.toFixed(1)} at the start, ${loadEnd.toFixed(1)} at the end, on ${m.cores} cores): ` +
      'wall times include waiting for a CPU and vary a lot between samples. Compare the CPU times, which count only the time the process ran.', '');
  }

  L.push('## Synth time, resources and IAM documents per N', '');
  L.push(`One stack: a Restate Cloud environment, one ServiceDeployer, N Lambda handlers (own function each, shared execution role, \`fn.currentVersion\` registered). Each sample is a fresh node process timing app construction + \`app.synth()\` only; the table shows medians of ${RUNS}. Wall = elapsed time; CPU = user + system time of the process over the same window, which other load on a shared machine disturbs less. Largest IAM document: resolved with realistic ARNs (test/support/iam-size.ts), as a share of its AWS limit.`, '');
  L.push('| N | wall ours | wall ref | ours/ref | CPU ours | CPU ref | ours/ref | extra resources per handler, ours | ref | largest IAM document, ours | largest IAM document, ref |');
  L.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |');
  const med = (lib: Lib, n: number, metric: keyof Times) => median(synth.get(n)!.times[lib][metric]);
  for (const n of NS) {
    const p = synth.get(n)!;
    const cell = (s: SampleResult) => (s.error ? `synth failed: ${s.error}` : describeLargest(s));
    L.push(
      `| ${n} | ${fmtMs(med('ours', n, 'wall'))} | ${fmtMs(med('ref', n, 'wall'))} | ${fmtRatio(med('ours', n, 'wall'), med('ref', n, 'wall'))} ` +
        `| ${fmtMs(med('ours', n, 'cpu'))} | ${fmtMs(med('ref', n, 'cpu'))} | ${fmtRatio(med('ours', n, 'cpu'), med('ref', n, 'cpu'))} ` +
        `| ${extraPerHandler(p, 'ours', n).toFixed(2)} | ${extraPerHandler(p, 'ref', n).toFixed(2)} | ${cell(p.analysis.ours)} | ${cell(p.analysis.ref)} |`,
    );
  }
  L.push('');
  const perHandler = {
    wall: { ours: slope(synth, 'ours', 'wall'), ref: slope(synth, 'ref', 'wall') },
    cpu: { ours: slope(synth, 'ours', 'cpu'), ref: slope(synth, 'ref', 'cpu') },
  };
  L.push(`**Synth time per handler** (marginal: least-squares slope over all ${NS.length * RUNS} samples per library at N = ${NS.join(', ')}):`, '');
  L.push('| | ours | ref | ours/ref |', '| --- | ---: | ---: | ---: |');
  L.push(`| wall | ${perHandler.wall.ours.toFixed(1)} ms | ${perHandler.wall.ref.toFixed(1)} ms | ${fmtRatio(perHandler.wall.ours, perHandler.wall.ref)} |`);
  L.push(`| CPU | ${perHandler.cpu.ours.toFixed(1)} ms | ${perHandler.cpu.ref.toFixed(1)} ms | ${fmtRatio(perHandler.cpu.ours, perHandler.cpu.ref)} |`);
  L.push('');

  // Where the per-handler time goes: handlers alone, the registration, the invoke grant.
  const bn = BREAKDOWN_N;
  const cpuNone = median(breakdown.times.none.cpu);
  const cpuDeployer = median(breakdown.times['ours-deployer'].cpu);
  const perH = (x: number) => (x - cpuNone) / bn;
  const regOurs = perH(med('ours', bn, 'cpu'));
  const regRef = perH(med('ref', bn, 'cpu'));
  const regOursDeployer = perH(cpuDeployer);
  L.push(`Breakdown at N=${bn} (CPU medians of ${RUNS}): the handlers alone (functions + versions, no library) take ${fmtMs(cpuNone)}. ` +
    `On top of that, registering costs **ours ${regOurs.toFixed(1)} ms per handler, ref ${regRef.toFixed(1)} ms per handler**. ` +
    'Ours by default (`InvokeGrant.TEMPLATE`) adds the custom resource and an AWS::Lambda::Permission per handler (the registration depends on it). ' +
    `With \`InvokeGrant.DEPLOYER\` (the custom resource only: the deployer keeps the invoke statement in the handler's resource policy) ours costs ${regOursDeployer.toFixed(1)} ms per handler.`, '');
  // CPU time decides (wall time on a shared machine includes waiting for a CPU).
  const slower = perHandler.cpu.ours > perHandler.cpu.ref;
  const ratios = `CPU ${fmtRatio(perHandler.cpu.ours, perHandler.cpu.ref)}, wall ${fmtRatio(perHandler.wall.ours, perHandler.wall.ref)}`;
  L.push(slower
    ? `Verdict: **ours is slower per handler than the reference** (${ratios}): see the breakdown above and the profiles below.`
    : `Verdict: ours is not slower per handler than the reference (${ratios}).`, '');
  L.push('All samples (wall ms / CPU ms):', '');
  L.push('| N | ours | ref |', '| ---: | --- | --- |');
  const pairs = (t: Times) => t.wall.map((w, i) => `${Math.round(w)}/${Math.round(t.cpu[i])}`).join(', ');
  for (const n of NS) L.push(`| ${n} | ${pairs(synth.get(n)!.times.ours)} | ${pairs(synth.get(n)!.times.ref)} |`);
  L.push(`| ${bn}, handlers only | ${pairs(breakdown.times.none)} | |`);
  L.push(`| ${bn}, ours with InvokeGrant.DEPLOYER | ${pairs(breakdown.times['ours-deployer'])} | |`);
  L.push('');
  L.push(`Resources at N=${bn} (by type):`, '');
  for (const lib of LIBS) {
    const r = synth.get(bn)!.analysis[lib].resources;
    L.push(`- ${lib}: ${r ? Object.entries(r.byType).map(([t, c]) => `${t} ${c}`).join(', ') : 'n/a'}`);
  }
  L.push('');

  L.push('## Where IAM limits are crossed', '');
  L.push(`Handlers in service stacks of ${PER_STACK} (each with its own ServiceDeployer; CloudFormation allows 500 resources per stack), the environment and its invoker role in a platform stack. Stepped search (10, 20, 40, …, ${SEARCH_MAX}), then bisection. Limits: role inline policies (aggregate) ${IAM_LIMITS.roleInlinePolicies.toLocaleString('en-US')}, managed policy ${IAM_LIMITS.managedPolicy.toLocaleString('en-US')}, Lambda resource policy ${IAM_LIMITS.lambdaResourcePolicy.toLocaleString('en-US')}, trust policy ${IAM_LIMITS.trustPolicy.toLocaleString('en-US')} characters.`, '');
  L.push('| library | first N over a limit | document over its limit there | largest document at the last N probed |', '| --- | ---: | --- | --- |');
  for (const lib of LIBS) {
    const c = crossing[lib];
    const last = c.probes[c.probes.length - 1];
    const first = c.firstN === undefined ? `none up to ${SEARCH_MAX}` : String(c.firstN);
    const failure = c.failure ? ` (synthesis failed at N=${c.failure.n}: ${c.failure.error})` : '';
    L.push(`| ${lib} | ${first} | ${c.what ?? '—'}${failure} | N=${last.n}: ${last.largest} |`);
  }
  L.push('');
  L.push('Probes:', '');
  for (const lib of LIBS) L.push(`- ${lib}: ${crossing[lib].probes.map((p) => `${p.n}${p.over ? ' (over)' : ''}`).join(', ')}`);
  L.push('');

  L.push('## Deployer asset', '');
  L.push('| | ours | ref | ours/ref |', '| --- | ---: | ---: | ---: |');
  L.push(`| handler code, unzipped (${assets.ours.code.files.join(', ')} / ${assets.ref.code.files.join(', ')}) | ${assets.ours.code.bytes.toLocaleString('en-US')} B | ${assets.ref.code.bytes.toLocaleString('en-US')} B | ${fmtRatio(assets.ours.code.bytes, assets.ref.code.bytes)} |`);
  L.push(`| whole asset directory, unzipped | ${assets.ours.all.bytes.toLocaleString('en-US')} B | ${assets.ref.all.bytes.toLocaleString('en-US')} B | ${fmtRatio(assets.ours.all.bytes, assets.ref.all.bytes)} |`);
  L.push('');
  L.push(`Ours: \`${assets.ours.dir}\`; ref: \`${assets.ref.dir}\`. Both leave \`@aws-sdk/*\` to the Lambda runtime.`, '');

  L.push(`## Synth at fleet size: ${FLEET_N} handlers over ${Math.ceil(FLEET_N / PER_STACK)} stacks (issue 17, item 4)`, '');
  L.push(
    `${FLEET_N} handlers in ${Math.ceil(FLEET_N / PER_STACK)} service stacks of ${PER_STACK} (each with its own ServiceDeployer), the environment in a platform stack, each library's default grant mode ` +
      '(ours: `InvokeGrant.TEMPLATE`, an AWS::Lambda::Permission per handler; ref: statements in a policy on the invoker role). ' +
      `A fresh node process per sample, ${FLEET_RUNS} samples per library, the order alternating. Peak memory = \`process.resourceUsage().maxRSS\` of the whole process at its end (module loading included); ` +
      'time = app construction + `app.synth()` (wall and CPU), and the whole process (start to exit).',
    '',
  );
  const fleetMed = (lib: Lib, f: (s: Sampled) => number | undefined) => median(fleet[lib].filter((s) => !s.error).map((s) => f(s) ?? NaN));
  const fleetMax = (lib: Lib, f: (s: Sampled) => number | undefined) => Math.max(...fleet[lib].filter((s) => !s.error).map((s) => f(s) ?? NaN));
  L.push('| | ours | ref | ours/ref |', '| --- | ---: | ---: | ---: |');
  L.push(`| peak memory (max RSS), median | ${fmtMiB(fleetMed('ours', (s) => s.maxRssKiB))} | ${fmtMiB(fleetMed('ref', (s) => s.maxRssKiB))} | ${fmtRatio(fleetMed('ours', (s) => s.maxRssKiB), fleetMed('ref', (s) => s.maxRssKiB))} |`);
  L.push(`| peak memory (max RSS), max | ${fmtMiB(fleetMax('ours', (s) => s.maxRssKiB))} | ${fmtMiB(fleetMax('ref', (s) => s.maxRssKiB))} | ${fmtRatio(fleetMax('ours', (s) => s.maxRssKiB), fleetMax('ref', (s) => s.maxRssKiB))} |`);
  L.push(`| construction + synth, wall, median | ${fmtMs(fleetMed('ours', (s) => s.ms))} | ${fmtMs(fleetMed('ref', (s) => s.ms))} | ${fmtRatio(fleetMed('ours', (s) => s.ms), fleetMed('ref', (s) => s.ms))} |`);
  L.push(`| construction + synth, CPU, median | ${fmtMs(fleetMed('ours', (s) => s.cpuMs))} | ${fmtMs(fleetMed('ref', (s) => s.cpuMs))} | ${fmtRatio(fleetMed('ours', (s) => s.cpuMs), fleetMed('ref', (s) => s.cpuMs))} |`);
  L.push(`| whole process, wall, median | ${fmtMs(fleetMed('ours', (s) => s.processMs))} | ${fmtMs(fleetMed('ref', (s) => s.processMs))} | ${fmtRatio(fleetMed('ours', (s) => s.processMs), fleetMed('ref', (s) => s.processMs))} |`);
  L.push('');
  const fleetCells = (lib: Lib) => fleet[lib].map((s) => (s.error ? `failed: ${s.error}` : `${fmtMiB(s.maxRssKiB)}, ${Math.round(s.ms)}/${Math.round(s.cpuMs ?? NaN)}/${Math.round(s.processMs ?? NaN)} ms`)).join('; ');
  L.push(`Samples (max RSS, construction + synth wall / CPU / whole process): ours ${fleetCells('ours')}; ref ${fleetCells('ref')}.`, '');

  L.push(...latencySections(latency));

  L.push('## Where the synth time goes (CPU profile, N=120, one run each)', '');
  L.push('Sampled with the V8 profiler around app construction + `app.synth()` only (not module loading).', '');
  L.push(...profileTable(profiles.ours, 'ours'));
  L.push(...profileTable(profiles.ref, 'ref'));

  L.push('## Summary', '');
  const c = crossing;
  L.push('| metric | ours | ref | ours/ref |', '| --- | ---: | ---: | ---: |');
  for (const n of NS) {
    L.push(`| synth time, N=${n} (median CPU / wall) | ${fmtMs(med('ours', n, 'cpu'))} / ${fmtMs(med('ours', n, 'wall'))} | ${fmtMs(med('ref', n, 'cpu'))} / ${fmtMs(med('ref', n, 'wall'))} ` +
      `| ${fmtRatio(med('ours', n, 'cpu'), med('ref', n, 'cpu'))} / ${fmtRatio(med('ours', n, 'wall'), med('ref', n, 'wall'))} |`);
  }
  L.push(`| synth time per handler (marginal, CPU) | ${perHandler.cpu.ours.toFixed(1)} ms | ${perHandler.cpu.ref.toFixed(1)} ms | ${fmtRatio(perHandler.cpu.ours, perHandler.cpu.ref)} |`);
  L.push(`| synth time per handler (marginal, wall) | ${perHandler.wall.ours.toFixed(1)} ms | ${perHandler.wall.ref.toFixed(1)} ms | ${fmtRatio(perHandler.wall.ours, perHandler.wall.ref)} |`);
  L.push(`| registration cost per handler at N=${bn} (CPU, handlers' own cost subtracted) | ${regOurs.toFixed(1)} ms (${regOursDeployer.toFixed(1)} ms with InvokeGrant.DEPLOYER) | ${regRef.toFixed(1)} ms | ${fmtRatio(regOurs, regRef)} |`);
  L.push(`| extra resources per handler (N=120) | ${extraPerHandler(synth.get(120)!, 'ours', 120).toFixed(2)} | ${extraPerHandler(synth.get(120)!, 'ref', 120).toFixed(2)} | |`);
  L.push(`| largest IAM document at N=120 | ${describeLargest(synth.get(120)!.analysis.ours)} | ${describeLargest(synth.get(120)!.analysis.ref)} | |`);
  L.push(`| first N over an IAM limit | ${c.ours.firstN ?? `none up to ${SEARCH_MAX}`} | ${c.ref.firstN ?? `none up to ${SEARCH_MAX}`} | |`);
  L.push(`| deployer handler code, unzipped | ${assets.ours.code.bytes.toLocaleString('en-US')} B | ${assets.ref.code.bytes.toLocaleString('en-US')} B | ${fmtRatio(assets.ours.code.bytes, assets.ref.code.bytes)} |`);
  L.push(`| synth of ${FLEET_N} handlers over ${Math.ceil(FLEET_N / PER_STACK)} stacks: max RSS / CPU (medians) | ${fmtMiB(fleetMed('ours', (s) => s.maxRssKiB))} / ${fmtMs(fleetMed('ours', (s) => s.cpuMs))} | ${fmtMiB(fleetMed('ref', (s) => s.maxRssKiB))} / ${fmtMs(fleetMed('ref', (s) => s.cpuMs))} | ${fmtRatio(fleetMed('ours', (s) => s.maxRssKiB), fleetMed('ref', (s) => s.maxRssKiB))} / ${fmtRatio(fleetMed('ours', (s) => s.cpuMs), fleetMed('ref', (s) => s.cpuMs))} |`);
  L.push(...latencySummaryRows(latency));
  L.push('');
  L.push(`Bench wall time: ${Math.round((Date.now() - started) / 1000)} s for the synth part (plus the latency part before it).`, '');

  const out = path.join(root, 'bench', 'RESULTS.md');
  fs.writeFileSync(out, `${L.join('\n')}\n`);
  fs.rmSync(scratch, { recursive: true, force: true });
  log(`wrote ${path.relative(root, out)}`);
  process.stdout.write(`${L.join('\n')}\n`);
}

main();
