#!/usr/bin/env bash
# Checks the library against the LOWEST aws-cdk-lib and constructs it supports (the minimum of
# package.json's peerDependencies), installed on their own in a temporary folder, while the rest
# of the repository develops against the current aws-cdk-lib (devDependencies):
#
#   1. npm install aws-cdk-lib@<min> constructs@<min> cdk-nag@2.x into a folder under
#      ${TMPDIR:-/tmp} (reused while the versions match; MIN_CDK_DIR to choose another);
#   2. tsc: src/ type-checks against that aws-cdk-lib and constructs (every API it uses exists);
#   3. jest: the unit tests run against them (moduleNameMapper), except test/nag.test.ts, which
#      runs cdk-nag 3.x (that needs aws-cdk-lib >= 2.257). The snapshot is compared with the
#      minimum's own, scripts/min-cdk/__snapshots__/test/snapshot.test.ts.snapshot: the templates
#      differ slightly between releases (see scripts/min-cdk/README.md);
#   4. cdk synth of scripts/min-cdk/app.js (what the examples deploy, written for that release)
#      with cdk-nag 2.x's AwsSolutions pack: fails on any finding nobody acknowledged.
#
#   bash scripts/check-min-cdk.sh                    # all four
#   bash scripts/check-min-cdk.sh --update-snapshot  # refresh the minimum's snapshot after an
#                                                    # intended template change, then check
#
# Needs the npm registry (step 1, once); nothing else leaves the machine: the synth looks nothing
# up and sends no telemetry, and AWS SDK calls would go to a closed loopback port.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

update_snapshot=""
case "${1:-}" in
  "") ;;
  --update-snapshot) update_snapshot="--updateSnapshot" ;;
  *) echo "usage: bash scripts/check-min-cdk.sh [--update-snapshot]" >&2; exit 2 ;;
esac

export CDK_DISABLE_CLI_TELEMETRY=true
export CDK_DISABLE_VERSION_CHECK=true
export AWS_EC2_METADATA_DISABLED=true
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:9}"

step() { echo "==> $*"; step_started=$(date +%s); }
done_step() { echo "    ok ($(( $(date +%s) - step_started )) s)"; }
started_all=$(date +%s)

min_of() { node -p "require('semver').minVersion(require('./package.json').peerDependencies['$1']).version"; }
cdk_lib_version="$(min_of aws-cdk-lib)"
constructs_version="$(min_of constructs)"
# cdk-nag 3.x needs aws-cdk-lib >= 2.257; 2.36.50 is the last 2.x whose peer range (^2.156.0)
# reaches below aws-cdk-lib 2.176. Its constructs range starts at 10.0.5, hence
# --legacy-peer-deps below when the minimum constructs is older (this is only the test's tool).
cdk_nag_version="${CDK_NAG_VERSION:-2.36.50}"
dir="${MIN_CDK_DIR:-${TMPDIR:-/tmp}/restate-cloud-cdk-min-cdk/aws-cdk-lib-${cdk_lib_version}_constructs-${constructs_version}_cdk-nag-${cdk_nag_version}}"
modules="$dir/node_modules"

# --- 1. the minimum, installed on its own -------------------------------------------------------
installed_version() { node -p "try { require('$modules/$1/package.json').version } catch { '' }"; }
if [ "$(installed_version aws-cdk-lib)" != "$cdk_lib_version" ] || [ "$(installed_version constructs)" != "$constructs_version" ] ||
  [ "$(installed_version cdk-nag)" != "$cdk_nag_version" ]; then
  step "npm install aws-cdk-lib@$cdk_lib_version constructs@$constructs_version cdk-nag@$cdk_nag_version into $dir"
  rm -rf "$dir"
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --legacy-peer-deps --loglevel=error \
    "aws-cdk-lib@$cdk_lib_version" "constructs@$constructs_version" "cdk-nag@$cdk_nag_version"
  done_step
else
  echo "==> aws-cdk-lib@$cdk_lib_version constructs@$constructs_version cdk-nag@$cdk_nag_version already in $dir"
fi

# --- 2. src/ type-checks against the minimum ----------------------------------------------------
step "tsc: src/ against aws-cdk-lib $cdk_lib_version and constructs $constructs_version"
cat >"$dir/tsconfig.json" <<JSON
{
  "extends": "$root/tsconfig.json",
  "compilerOptions": {
    "noEmit": true,
    "rootDir": "$root/src",
    "typeRoots": ["$root/node_modules/@types"],
    "paths": {
      "aws-cdk-lib": ["$modules/aws-cdk-lib"],
      "aws-cdk-lib/*": ["$modules/aws-cdk-lib/*"],
      "constructs": ["$modules/constructs"]
    }
  },
  "include": ["$root/src/**/*.ts"]
}
JSON
npx tsc -p "$dir/tsconfig.json"
done_step

# --- 3. the unit tests against the minimum ------------------------------------------------------
step "jest: unit tests against aws-cdk-lib $cdk_lib_version, constructs $constructs_version${update_snapshot:+, updating the snapshot of the minimum}"
cat >"$dir/jest.config.js" <<JS
const base = require('$root/package.json').jest;
module.exports = {
  ...base,
  rootDir: '$root',
  collectCoverage: false,
  reporters: ['default'],
  // Every import of these, the library's and aws-cdk-lib's own included, gets the minimum.
  moduleNameMapper: {
    '^aws-cdk-lib\$': '$modules/aws-cdk-lib',
    '^aws-cdk-lib/(.*)\$': '$modules/aws-cdk-lib/\$1',
    '^constructs\$': '$modules/constructs',
    '^cdk-nag\$': '$modules/cdk-nag',
  },
  // cdk-nag 3.x needs aws-cdk-lib >= 2.257: cdk-nag 2.x is checked by step 4 instead.
  testPathIgnorePatterns: [...base.testPathIgnorePatterns, '/test/nag\\\\.test\\\\.ts\$'],
  snapshotResolver: '$root/scripts/min-cdk/snapshot-resolver.js',
};
JS
npx jest --config "$dir/jest.config.js" --ci $update_snapshot || {
  echo "FAILED: unit tests against aws-cdk-lib $cdk_lib_version. After an intended template change, refresh the" >&2
  echo "minimum's snapshot too: bash scripts/check-min-cdk.sh --update-snapshot (or npx projen test:min-cdk --update-snapshot)" >&2
  exit 1
}
done_step

# --- 4. the example app against the minimum, with cdk-nag 2.x ------------------------------------
if [ ! -f lib/index.js ] || [ ! -f .jsii ] || [ -n "$(find src -name '*.ts' -newer .jsii -print -quit)" ] ||
  [ ! -f assets/deployer/deployer.lambda/index.js ] ||
  [ -n "$(find src/deployer -name '*.ts' -newer assets/deployer/deployer.lambda/index.js -print -quit)" ]; then
  step "building the library first (lib/ or the deployer asset is missing or stale): npx projen bundle && npx projen compile"
  npx projen bundle
  npx projen compile
  done_step
fi
step "cdk synth --no-notices of scripts/min-cdk/app.js against aws-cdk-lib $cdk_lib_version with cdk-nag $cdk_nag_version"
# The library as a user installs it (a copy: a link would resolve aws-cdk-lib from this repository).
rm -rf "$modules/restate-cloud-cdk" "$dir/cdk.out"
mkdir -p "$modules/restate-cloud-cdk"
cp -R package.json lib assets "$modules/restate-cloud-cdk/"
cp scripts/min-cdk/app.js "$dir/app.js"
(cd "$dir" && "$root/node_modules/.bin/cdk" synth --no-notices --no-lookups -q -a "node app.js" -o cdk.out)
# cdk-nag 2.x reports errors (which fail the synth above) and warnings (which do not): neither may
# be left; its report proves it ran.
node - "$dir/cdk.out" <<'NODE'
const fs = require('fs');
const path = require('path');
const outdir = process.argv[2];
const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
const findings = [];
for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
  if (artifact.type !== 'aws:cloudformation:stack') continue;
  if (!fs.existsSync(path.join(outdir, `AwsSolutions-${id}-NagReport.csv`))) {
    console.error(`no cdk-nag report for ${id}: cdk-nag did not run`);
    process.exit(1);
  }
  for (const [where, entries] of Object.entries(artifact.metadata ?? {})) {
    for (const e of entries) {
      if (['aws:cdk:error', 'aws:cdk:warning'].includes(e.type) && /^AwsSolutions-/.test(String(e.data))) {
        findings.push(`${where}: ${String(e.data).split(':')[0]}`);
      }
    }
  }
  console.log(`    template: ${path.join(outdir, artifact.properties?.templateFile ?? `${id}.template.json`)}`);
}
if (findings.length > 0) {
  console.error(`${findings.length} unacknowledged AwsSolutions finding(s):\n  ${findings.join('\n  ')}`);
  process.exit(1);
}
NODE
done_step

echo "min-cdk ok: aws-cdk-lib $cdk_lib_version, constructs $constructs_version, cdk-nag $cdk_nag_version ($(( $(date +%s) - started_all )) s)"
