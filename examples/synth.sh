#!/usr/bin/env bash
# Synthesizes the example apps with the aws-cdk CLI (a dev dependency), without AWS credentials,
# and fails when synthesis fails or cdk-nag reports a finding nobody acknowledged.
#
#   bash examples/synth.sh lambda     # one example: lambda | http-service | self-hosted | private-service | python-lambda
#   bash examples/synth.sh all        # every TypeScript example + py_compile of python-lambda
#
# Builds the library first (deployer bundle + jsii compile) when lib/ or the deployer asset is
# missing or older than src/. The examples import 'restate-cloud-cdk'; in this repository that
# name resolves to this repository's compiled library through examples/node_modules/restate-cloud-cdk,
# which this script (re)creates with scripts/link-library.sh.
set -euo pipefail

examples_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$examples_dir")"
cd "$root"

# No telemetry, no notices, no version check, no instance-metadata probing.
export CDK_DISABLE_CLI_TELEMETRY=true
export CDK_DISABLE_VERSION_CHECK=true
export AWS_EC2_METADATA_DISABLED=true

TS_EXAMPLES=(lambda http-service self-hosted private-service)
PY_EXAMPLES=(python-lambda)

usage() {
  echo "usage: bash examples/synth.sh <lambda|http-service|self-hosted|private-service|python-lambda|all>" >&2
  exit 2
}

# --- library build, only when needed ----------------------------------------------------------
build_library_if_needed() {
  local reason=""
  if [ ! -f lib/index.js ] || [ ! -f .jsii ]; then
    reason="lib/ is missing"
  elif [ -n "$(find src -name '*.ts' -newer .jsii -print -quit)" ]; then
    reason="src/ changed since the last compile"
  elif [ ! -f assets/deployer/deployer.lambda/index.js ]; then
    reason="the deployer asset is missing"
  elif [ -n "$(find src/deployer -name '*.ts' -newer assets/deployer/deployer.lambda/index.js -print -quit)" ]; then
    reason="the deployer source changed since the last bundle"
  fi
  if [ -n "$reason" ]; then
    echo "==> building the library first ($reason): npx projen bundle && npx projen compile"
    npx projen bundle
    npx projen compile
  fi
}

link_library() {
  bash "$root/scripts/link-library.sh" "$examples_dir"
}

# --- validation report: it exists (a validation plugin, cdk-nag, ran) and lists no failure ----
check_validation_report() {
  node - "$1" "$2" <<'NODE'
const fs = require('fs');
const path = require('path');
const [outdir, name] = process.argv.slice(2);
// aws-cdk-lib 2.257 writes policy-validation-report.json; newer versions validation-report.json.
const files = ['policy-validation-report.json', 'validation-report.json']
  .map((f) => path.join(outdir, f))
  .filter((f) => fs.existsSync(f));
if (files.length === 0) {
  console.error(`examples/${name}: no validation report in ${outdir}: cdk-nag did not run`);
  process.exit(1);
}
// Only failing plugins are listed: an empty list means every plugin passed.
const problems = [];
for (const file of files) {
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const p of report.pluginReports ?? []) {
    const plugin = p.summary?.pluginName ?? p.pluginName ?? '?';
    const status = p.summary?.status ?? p.conclusion ?? '?';
    for (const v of p.violations ?? []) {
      for (const r of v.violatingResources ?? [{}]) {
        problems.push(`${plugin}: ${v.ruleName} on ${r.constructPath ?? r.resourceLogicalId ?? '?'}`);
      }
    }
    if (status !== 'success' && (p.violations ?? []).length === 0) {
      problems.push(`${plugin}: status ${status} ${JSON.stringify(p.summary?.metadata ?? p.metadata ?? {})}`);
    }
  }
}
if (problems.length > 0) {
  console.error(`examples/${name}: ${problems.length} unacknowledged finding(s):\n  ` + problems.join('\n  '));
  process.exit(1);
}
NODE
}

# --- one TypeScript example -------------------------------------------------------------------
synth_ts() {
  local name="$1" dir="$examples_dir/$1" started rc=0
  [ -f "$dir/cdk.json" ] || { echo "no such example: examples/$name" >&2; return 2; }
  started=$(date +%s)
  # An example may carry the source of the service it deploys (service/): type-check it.
  if [ -f "$dir/service/tsconfig.json" ]; then
    echo "==> examples/$name/service: npx tsc -p (type check of the service source)"
    npx tsc -p "$dir/service" || { echo "FAILED: examples/$name/service does not type-check" >&2; return 1; }
  fi
  echo "==> examples/$name: npx cdk synth --no-notices -q"
  rm -rf "$dir/cdk.out"
  (cd "$dir" && npx cdk synth --no-notices -q) || rc=$?
  # Read the report ourselves too: the CLI alone does not fail on findings with aws-cdk CLI
  # 2.1148 + aws-cdk-lib 2.257 unless the app sets failSynthOnValidationErrors (the examples do).
  if [ -f "$dir/cdk.out/manifest.json" ]; then
    check_validation_report "$dir/cdk.out" "$name" || rc=1
  fi
  if [ "$rc" -ne 0 ]; then
    echo "FAILED: examples/$name ($(( $(date +%s) - started )) s)" >&2
    return 1
  fi
  local templates
  templates=$(node -e '
    const m = require(process.argv[1]);
    for (const [id, a] of Object.entries(m.artifacts ?? {})) {
      if (a.type === "aws:cloudformation:stack") console.log(a.properties?.templateFile ?? `${id}.template.json`);
    }' "$dir/cdk.out/manifest.json")
  for t in $templates; do
    echo "    template: examples/$name/cdk.out/$t"
  done
  echo "    ok: synthesized, cdk-nag AwsSolutions clean ($(( $(date +%s) - started )) s)"
}

# --- the Python example: syntax only here (scripts/check-languages.sh python synthesizes it) ---
check_py() {
  local name="$1" dir="$examples_dir/$1" cache module
  echo "==> examples/$name: python3 -m py_compile app.py (syntax only)"
  command -v python3 >/dev/null || { echo "FAILED: python3 not found" >&2; return 1; }
  cache="$(mktemp -d)"
  if ! PYTHONPYCACHEPREFIX="$cache" python3 -m py_compile "$dir/app.py"; then
    rm -rf "$cache"
    echo "FAILED: examples/$name/app.py does not compile" >&2
    return 1
  fi
  rm -rf "$cache"
  # It must import the module name the Python package is published with.
  module=$(node -p 'require("./package.json").jsii.targets.python.module')
  if ! grep -Eq "^(from ${module}( |\.)|import ${module})" "$dir/app.py"; then
    echo "FAILED: examples/$name/app.py does not import the Python module '${module}'" >&2
    return 1
  fi
  echo "    ok"
}

target="${1:-}"
[ -n "$target" ] || usage
case "$target" in
  all) selected=("${TS_EXAMPLES[@]}" "${PY_EXAMPLES[@]}") ;;
  lambda | http-service | self-hosted | private-service | python-lambda) selected=("$target") ;;
  *) usage ;;
esac

started_all=$(date +%s)
for name in "${selected[@]}"; do
  if [ "$name" != python-lambda ]; then
    build_library_if_needed
    link_library
    break
  fi
done

failed=()
for name in "${selected[@]}"; do
  if [ "$name" = python-lambda ]; then
    check_py "$name" || failed+=("$name")
  else
    synth_ts "$name" || failed+=("$name")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "examples FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "examples ok: ${selected[*]} ($(( $(date +%s) - started_all )) s)"
