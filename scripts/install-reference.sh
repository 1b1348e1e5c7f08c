#!/usr/bin/env bash
# Installs @restatedev/restate-cdk (the library we compare with and migrate from) into
# bench/.work/ref, in a folder of its own: never a dependency of ours. Used by the benchmark,
# the migration snippets' test and the in-place upgrade integration case.
# --legacy-peer-deps: its peers (aws-cdk-lib, constructs) resolve from this repository's
# node_modules, so both libraries run on the very same aws-cdk-lib.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REF_VERSION=$(cat scripts/reference-version)  # the one place the version is written
ref="$PWD/bench/.work/ref"
if [[ "$(node -p "try { require('$ref/node_modules/@restatedev/restate-cdk/package.json').version } catch { '' }")" != "$REF_VERSION" ]]; then
  echo "installing @restatedev/restate-cdk@$REF_VERSION into bench/.work/ref" >&2
  rm -rf "$ref"
  mkdir -p "$ref"
  echo '{ "name": "bench-reference", "private": true }' > "$ref/package.json"
  (cd "$ref" && npm install --no-audit --no-fund --legacy-peer-deps --save-exact "@restatedev/restate-cdk@$REF_VERSION" >&2)
fi
