#!/usr/bin/env bash
# Uses the library for real from Python, Java and Go: builds the packages with jsii-pacmak,
# synthesizes an example app in each language with the aws-cdk CLI, and checks its template
# against the TypeScript example's (examples/lambda): the same resources, the invoker role's
# trust policy statement by statement, the registration's properties (asset hashes and paths
# aside).
#
#   bash scripts/check-languages.sh [python] [java] [go]     (default: python java)
#
#   python  jsii-pacmak --target python (the wheel), installed into a virtual environment with
#           aws-cdk-lib, constructs and cdk-nag from PyPI (package.json's versions);
#           examples/python-lambda: cdk synth (cdk-nag AwsSolutions clean), pytest.
#   java    jsii-pacmak --target java (the jar), installed into a Maven repository under
#           .tmp/languages/m2; examples/java-lambda: cdk synth (mvn compile exec:java), mvn test.
#   go      jsii-pacmak --code-only --target go (the module, used through go.mod's `replace`);
#           examples/go-lambda: cdk synth (go run .), go test. Compiling aws-cdk-go takes long
#           the first time: not part of `npx projen check`; `npx projen check:go` runs it.
#
# Needs PyPI, Maven Central and the Go module proxy (and npm); installs python3-venv, Maven and
# a JDK with apt-get when missing. Output: .tmp/languages/ (dist/, venv/, m2/, timings.txt).
# Each step prints its wall time and peak memory (sum of the resident memory of its processes).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
work="$root/.tmp/languages"
mkdir -p "$work"
timings="$work/timings.txt"
: >"$timings"

export CDK_DISABLE_CLI_TELEMETRY=true
export CDK_DISABLE_VERSION_CHECK=true
export AWS_EC2_METADATA_DISABLED=true
export PYTHONDONTWRITEBYTECODE=1
cdk="$root/node_modules/.bin/cdk"
stack=RestateLambdaExample

languages=("$@")
[ ${#languages[@]} -gt 0 ] || languages=(python java)
for l in "${languages[@]}"; do
  case "$l" in python | java | go) ;; *) echo "usage: bash scripts/check-languages.sh [python] [java] [go]" >&2; exit 2 ;; esac
done
wants() { local l; for l in "${languages[@]}"; do [ "$l" = "$1" ] && return 0; done; return 1; }

# --- measuring ---------------------------------------------------------------------------------
# Sum of the RSS (KiB) of process $1 and all its descendants.
tree_rss() {
  ps -e -o pid=,ppid=,rss= | awk -v root="$1" '
    { parent[$1] = $2; rss[$1] = $3 }
    END {
      total = 0
      for (p in rss) {
        q = p; n = 0
        while (q != root && q in parent && q > 1 && n++ < 64) q = parent[q]
        if (q == root) total += rss[p]
      }
      print total
    }'
}
# measure LABEL COMMAND...: runs COMMAND, samples its processes' memory every half second,
# prints and records "LABEL: S s, peak M MiB".
measure() {
  local label="$1" started peak=0 rss rc=0 pid
  shift
  echo "==> $label"
  started=$(date +%s)
  "$@" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    rss=$(tree_rss "$pid")
    [ "$rss" -gt "$peak" ] && peak=$rss
    sleep 0.5
  done
  wait "$pid" || rc=$?
  local line
  line="$label: $(( $(date +%s) - started )) s, peak $(( peak / 1024 )) MiB"
  [ "$rc" -eq 0 ] || line="$line (FAILED, exit $rc)"
  echo "    $line"
  echo "$line" >>"$timings"
  return "$rc"
}
synth() { (cd "$1" && rm -rf cdk.out && "$cdk" synth --no-notices --no-lookups -q); }

# --- what the machine needs ----------------------------------------------------------------------
apt_missing=()
if wants python && ! python3 -c 'import ensurepip, venv' 2>/dev/null; then apt_missing+=(python3-venv); fi
if wants java; then
  command -v javac >/dev/null || apt_missing+=(default-jdk-headless)
  command -v mvn >/dev/null || apt_missing+=(maven)
fi
if [ ${#apt_missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${apt_missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "FAILED: missing ${apt_missing[*]}; install them (apt-get install ${apt_missing[*]})" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}" >/dev/null
fi
if wants go && ! command -v go >/dev/null; then
  echo "FAILED: go not found (Go 1.25 or later: https://go.dev/dl/)" >&2
  exit 1
fi

dev_version() { node -p "require('./package.json').devDependencies['$1'].replace(/^[~^]/, '')"; }
cdk_lib_version=$(dev_version aws-cdk-lib)
constructs_version=$(dev_version constructs)
cdk_nag_version=$(dev_version cdk-nag)

# --- the TypeScript example's template, the reference (builds the library when needed) ---------
ts_template="$root/examples/lambda/cdk.out/$stack.template.json"
if [ ! -f "$ts_template" ] || [ .jsii -nt "$ts_template" ] || [ examples/lambda/main.ts -nt "$ts_template" ] \
  || [ -n "$(find src -name '*.ts' -newer "$ts_template" -print -quit)" ]; then
  measure "typescript: synth examples/lambda" bash examples/synth.sh lambda
fi

# --- packages -------------------------------------------------------------------------------------
targets=()
wants python && targets+=(--target python)
wants java && targets+=(--target java)
if [ ${#targets[@]} -gt 0 ]; then
  rm -rf "$work/dist/python" "$work/dist/java"
  measure "jsii-pacmak ${targets[*]}" npx jsii-pacmak "${targets[@]}" --outdir "$work/dist" --force --no-npmignore .
fi
if wants go; then
  rm -rf "$work/dist/go"
  measure "jsii-pacmak --code-only --target go" npx jsii-pacmak --code-only --target go --outdir "$work/dist" --force --no-npmignore .
fi

failed=()

# --- Python ---------------------------------------------------------------------------------------
check_python() {
  local dir="$root/examples/python-lambda" venv="$work/venv" wheel
  wheel=$(ls "$work"/dist/python/*.whl)
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  measure "python: pip install aws-cdk-lib==$cdk_lib_version constructs==$constructs_version cdk-nag==$cdk_nag_version pytest + the wheel" \
    sh -c '"$1" -m pip install -q "aws-cdk-lib==$2" "constructs==$3" "cdk-nag==$4" pytest \
      && "$1" -m pip install -q --force-reinstall --no-deps "$5"' \
    _ "$venv/bin/python" "$cdk_lib_version" "$constructs_version" "$cdk_nag_version" "$wheel" || return 1
  # cdk.json's app is `python3 app.py`: the environment's python3 comes first.
  PATH="$venv/bin:$PATH" measure "python: cdk synth examples/python-lambda (with cdk-nag)" synth "$dir" || return 1
  [ -f "$dir/cdk.out/policy-validation-report.json" ] || [ -f "$dir/cdk.out/validation-report.json" ] || {
    echo "FAILED: examples/python-lambda: no validation report: cdk-nag did not run" >&2
    return 1
  }
  (cd "$dir" && "$venv/bin/python" -m pytest -q -p no:cacheprovider test_template.py)
}

# --- Java -----------------------------------------------------------------------------------------
check_java() {
  local dir="$root/examples/java-lambda" jar_dir
  jar_dir=$(dirname "$(ls "$work"/dist/java/dev/restatecloudcdk/restate-cloud-cdk/*/restate-cloud-cdk-*[0-9].jar)")
  # MAVEN_OPTS reaches every mvn call, also the one cdk.json's app makes.
  export MAVEN_OPTS="${MAVEN_OPTS:-} -Dmaven.repo.local=$work/m2"
  measure "java: mvn install:install-file (the jar)" mvn -q -B install:install-file \
    -Dfile="$(ls "$jar_dir"/restate-cloud-cdk-*[0-9].jar)" -DpomFile="$(ls "$jar_dir"/restate-cloud-cdk-*.pom)" || return 1
  (cd "$dir" && rm -rf target)
  measure "java: cdk synth examples/java-lambda (mvn compile exec:java)" synth "$dir" || return 1
  measure "java: mvn test" sh -c 'cd "$1" && mvn -q -B test' _ "$dir" || return 1
  grep -h "^Tests run" "$dir"/target/surefire-reports/*.txt | sed 's/^/    /'
}

# --- Go -------------------------------------------------------------------------------------------
check_go() {
  local dir="$root/examples/go-lambda"
  local module="$work/dist/go/restatecloudcdk" p
  [ -f "$module/go.mod" ] || { echo "FAILED: no generated Go module" >&2; return 1; }
  # The generated go.mod pins aws-cdk-lib's indirect modules at the npm packages' versions
  # (e.g. cloud-assembly-schema-go v53.28.0), which the Go module proxy does not serve: let
  # aws-cdk-go's own go.mod choose them, as it does for the published aws-cdk-go.
  for p in $(awk '/\/\/ indirect/ { print $1 }' "$module/go.mod"); do
    (cd "$module" && go mod edit -droprequire="$p")
  done
  measure "go: go build (compiles aws-cdk-go the first time)" sh -c 'cd "$1" && go build -o /dev/null .' _ "$dir" || return 1
  measure "go: cdk synth examples/go-lambda (go run .)" synth "$dir" || return 1
  measure "go: go test" sh -c 'cd "$1" && go test -count=1 .' _ "$dir"
}

for l in "${languages[@]}"; do
  "check_$l" || failed+=("$l")
done

echo "==> timings (also in ${timings#"$root"/})"
sed 's/^/    /' "$timings"
if [ ${#failed[@]} -gt 0 ]; then
  echo "languages FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "languages ok: ${languages[*]}"
