#!/usr/bin/env bash
# Makes `restate-cloud-cdk` resolvable from DIR (default: examples/) as a user's install would be:
# DIR/node_modules/restate-cloud-cdk holds links to this repository's package.json, lib/, assets/
# and .jsii only. Not a link to the repository itself: that would put the repository inside its
# own tree, a loop that tools walking node_modules (jsii-docgen, for one) never leave.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${1:-$root/examples}/node_modules/restate-cloud-cdk"
if [ -L "$target" ]; then rm -f "$target"; fi
mkdir -p "$target"
for entry in package.json lib assets .jsii; do
  ln -sfn "$root/$entry" "$target/$entry"
done
