#!/usr/bin/env node
// Turns Stryker's JSON report (mutation-testing-report-schema) into reports/MUTATION.md: one row
// per mutated file (mutants by status, score, threshold), then the surviving mutants.
//
//   node scripts/mutation-report.mjs [--input reports/stryker-incremental.json ...] [--output reports/MUTATION.md] [--no-fail]
//   node scripts/mutation-report.mjs --check
//
// Without --input, it reads every reports/stryker-incremental*.json (one per run; they are
// committed).
//
// --check (part of `npx projen check`) writes nothing: it reads the committed incremental files
// (reports/stryker-incremental*.json, which hold every mutant's last result), fails when a file
// is below its threshold, and names the files whose source changed since they were measured
// (to be measured again with `npm run test:mutation` before the next release).
//
// Several --input reports (runs over parts of src/, or the static-mutant run) are merged mutant by
// mutant: a mutant in more than one report counts with its best result (killed over survived over
// not covered over ignored), since a mutant any test kills is killed.
// Score = (killed + timeout) / (killed + timeout + survived + no coverage); Ignored, CompileError
// and RuntimeError mutants do not count. Thresholds: 85% for src/deployer/**, 90% for other files
// under src/. Exits 1 when a file of the report is below its threshold, unless --no-fail is given.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Every run's incremental file: each holds the last result of every mutant of its run. */
const incrementalFiles = () =>
  fs.existsSync('reports') ? fs.readdirSync('reports').filter((f) => /^stryker-incremental.*\.json$/.test(f)).sort().map((f) => `reports/${f}`) : [];
const DEPLOYER_THRESHOLD = 85;
const DEFAULT_THRESHOLD = 90;

function parseArgs(argv) {
  const args = { inputs: [], output: 'reports/MUTATION.md', fail: true, check: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--input' || a === '-i') args.inputs.push(argv[++i]);
    else if (a === '--output' || a === '-o') args.output = argv[++i];
    else if (a === '--no-fail') args.fail = false;
    else if (a === '--check') args.check = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/mutation-report.mjs [--input reports/mutation.json] [--output reports/MUTATION.md] [--no-fail]');
      process.exit(0);
    } else {
      console.error(`unknown argument ${a}`);
      process.exit(2);
    }
  }
  if (args.inputs.length === 0) {
    args.inputs.push(...incrementalFiles());
  }
  return args;
}

/** The threshold (percent) a source file's score must reach. */
export function thresholdFor(file) {
  const rel = file.replace(/\\/g, '/').replace(/^\.\//, '');
  return /(^|\/)src\/deployer\//.test(rel) ? DEPLOYER_THRESHOLD : DEFAULT_THRESHOLD;
}

/** Per-file counts and score from a mutation-testing-report-schema report. */
export function summarize(report) {
  const rows = [];
  const survivors = [];
  const marked = [];
  for (const [file, result] of Object.entries(report.files ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    const c = { mutants: 0, Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, Ignored: 0, Equivalent: 0, Static: 0, CompileError: 0, RuntimeError: 0, Pending: 0 };
    for (const m of result.mutants ?? []) {
      c.mutants++;
      c[m.status] = (c[m.status] ?? 0) + 1;
      if (m.status === 'Ignored') c[isStatic(m) ? 'Static' : 'Equivalent']++;
      if (m.status === 'Ignored' && !isStatic(m)) marked.push({ file, line: m.location?.start?.line ?? 0, mutator: m.mutatorName, reason: m.statusReason ?? '' });
      if (m.status === 'Survived' || m.status === 'NoCoverage') {
        survivors.push({
          file,
          line: m.location?.start?.line ?? 0,
          column: m.location?.start?.column ?? 0,
          status: m.status,
          mutator: m.mutatorName,
          replacement: m.replacement ?? '',
        });
      }
    }
    const detected = c.Killed + c.Timeout;
    const valid = detected + c.Survived + c.NoCoverage;
    const score = valid === 0 ? 100 : (100 * detected) / valid;
    const threshold = thresholdFor(file);
    rows.push({ file, ...c, score, threshold, ok: score >= threshold });
  }
  survivors.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
  return { rows, survivors, marked };
}

/** The source files mutation testing covers: every .ts file under src/ but the index, generated code and type-only files. */
function sourceFiles() {
  const skip = new Set(['src/index.ts', 'src/deployer/deployer-function.ts', 'src/service-deployer-options.ts', 'src/invoke-grant.ts']);
  const walk = (dir) =>
    fs.existsSync(dir)
      ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(`${dir}/${e.name}`) : e.name.endsWith('.ts') ? [`${dir}/${e.name}`] : []))
      : [];
  return walk('src').filter((f) => !skip.has(f)).sort();
}

/** Ignored because it is static and the run ignored static mutants (not marked equivalent). */
const isStatic = (m) => m.status === 'Ignored' && (m.static === true || /static mutant/i.test(m.statusReason ?? ''));

const RANK = { Killed: 5, Timeout: 5, CompileError: 4, RuntimeError: 4, Survived: 3, NoCoverage: 2, Pending: 1, Ignored: 1 };
const rank = (m) => (m.status === 'Ignored' && !isStatic(m) ? 6 : (RANK[m.status] ?? 0));
const mutantKey = (m) => `${m.location?.start?.line}:${m.location?.start?.column}-${m.location?.end?.line}:${m.location?.end?.column} ${m.mutatorName} ${m.replacement ?? ''}`;

/** Merges reports mutant by mutant, keeping each mutant's best result (a marked equivalent stays one). */
export function merge(reports) {
  const files = {};
  for (const report of reports) {
    for (const [file, result] of Object.entries(report.files ?? {})) {
      let known = files[file] ?? { ...result, mutants: [] };
      if (known.source !== result.source) {
        // Measured on different versions of the file: only the later report's results hold.
        console.warn(`${file}: the reports measured different versions of it; using the later one`);
        known = { ...result, mutants: [] };
      }
      const byKey = new Map(known.mutants.map((m) => [mutantKey(m), m]));
      for (const m of result.mutants ?? []) {
        const previous = byKey.get(mutantKey(m));
        if (!previous || rank(m) > rank(previous)) byKey.set(mutantKey(m), m);
      }
      files[file] = { ...known, mutants: [...byKey.values()] };
    }
  }
  return { files };
}

const oneLine = (s, max = 120) => {
  const t = String(s).replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};
const cell = (s) => oneLine(s).replace(/\|/g, '\\|').replace(/`/g, "'");

export function render({ rows, survivors, marked = [] }, sources) {
  const lines = [];
  lines.push('# Mutation testing');
  lines.push('');
  lines.push('Written by `npm run test:mutation` (StrykerJS; see README, "Working on this repository") from the');
  lines.push(`incremental files of its runs: ${sources.map((f) => `\`${path.basename(f)}\``).join(', ')}.`);
  lines.push('Each file is measured against the unit tests that exercise it (a lower bound: more tests can only');
  lines.push('kill more); a mutant in several runs counts with its best result.');
  lines.push('Score = (killed + timeout) / (killed + timeout + survived + no coverage). Mutants marked in the');
  lines.push('source (`// Stryker disable next-line <mutator>: <reason>`, listed below with their reasons) do not');
  lines.push('count, nor do static mutants of a run that left them out.');
  lines.push(`Thresholds: ${DEPLOYER_THRESHOLD}% for src/deployer/**, ${DEFAULT_THRESHOLD}% for the other files under src/.`);
  lines.push('');
  lines.push('| File | Mutants | Killed | Timeout | Survived | No coverage | Equivalent (marked) | Static, not run | Score | Threshold | |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  const total = { mutants: 0, Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, Equivalent: 0, Static: 0 };
  for (const r of rows) {
    for (const k of Object.keys(total)) total[k] += r[k];
    lines.push(
      `| ${r.file} | ${r.mutants} | ${r.Killed} | ${r.Timeout} | ${r.Survived} | ${r.NoCoverage} | ${r.Equivalent} | ${r.Static} | ${r.score.toFixed(2)}% | ${r.threshold}% | ${r.ok ? 'ok' : '**below**'} |`,
    );
  }
  const valid = total.Killed + total.Timeout + total.Survived + total.NoCoverage;
  const totalScore = valid === 0 ? 100 : (100 * (total.Killed + total.Timeout)) / valid;
  lines.push(
    `| **All files** | ${total.mutants} | ${total.Killed} | ${total.Timeout} | ${total.Survived} | ${total.NoCoverage} | ${total.Equivalent} | ${total.Static} | ${totalScore.toFixed(2)}% | | |`,
  );
  lines.push('');
  const measured = new Set(rows.map((r) => r.file));
  const unmeasured = sourceFiles().filter((f) => !measured.has(f));
  lines.push(`Not measured yet: ${unmeasured.length === 0 ? 'none' : unmeasured.map((f) => `\`${f}\``).join(', ')}.`);
  lines.push('');
  lines.push(`## Surviving mutants (${survivors.length})`);
  lines.push('');
  if (survivors.length === 0) lines.push('None.');
  for (const s of survivors) {
    lines.push(`- ${s.file}:${s.line} ${s.mutator}${s.status === 'NoCoverage' ? ' (no coverage)' : ''}: \`${cell(s.replacement)}\``);
  }
  lines.push('');
  const reasons = new Map();
  for (const m of marked) {
    const key = `${m.file}:${m.line}`;
    const entry = reasons.get(key) ?? { ...m, count: 0, mutators: new Set() };
    entry.count++;
    entry.mutators.add(m.mutator);
    reasons.set(key, entry);
  }
  lines.push(`## Marked in the source, not counted (${marked.length} mutants at ${reasons.size} places)`);
  lines.push('');
  if (reasons.size === 0) lines.push('None.');
  const byPlace = [...reasons.values()].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  for (const r of byPlace) {
    const why = r.reason.replace(/^Disabled by user comment:\s*/i, '').replace(/^[\w,]+:\s*/, '');
    lines.push(`- ${r.file}:${r.line} ${[...r.mutators].join(', ')} (${r.count}): ${cell(why) || '(no reason given)'}`);
  }
  lines.push('');
  return lines.join('\n');
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const reports = [];
  for (const input of args.inputs) {
    try {
      reports.push(JSON.parse(fs.readFileSync(input, 'utf8')));
    } catch (e) {
      console.error(`cannot read the Stryker JSON report ${input}: ${e.message}`);
      process.exit(2);
    }
  }
  const merged = merge(reports);
  const summary = summarize(merged);
  if (args.check) {
    const stale = Object.entries(merged.files)
      .filter(([file, result]) => !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== result.source)
      .map(([file]) => file);
    if (stale.length > 0) console.log(`changed since measured (run npm run test:mutation before the next release): ${stale.join(', ')}`);
  } else {
    fs.mkdirSync(path.dirname(args.output), { recursive: true });
    fs.writeFileSync(args.output, render(summary, args.inputs));
  }
  const below = summary.rows.filter((r) => !r.ok);
  for (const r of summary.rows) console.log(`${r.ok ? 'ok   ' : 'BELOW'} ${r.score.toFixed(2).padStart(6)}% (>= ${r.threshold}%) ${r.file}`);
  console.log(args.check ? `${summary.survivors.length} surviving mutant(s)` : `wrote ${args.output}: ${summary.survivors.length} surviving mutant(s)`);
  if (below.length > 0) {
    console.error(`${below.length} file(s) below their mutation score threshold: ${below.map((r) => r.file).join(', ')}`);
    if (args.fail) process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('mutation-report.mjs')) main();
