#!/usr/bin/env bash
# npm run test:mutation [deployer|constructs]: mutation testing with StrykerJS, incremental
# (reports/stryker-incremental*.json are kept in the repository, so a rerun after a small change
# re-tests only the mutants that change touches). Two runs, each with the tests that exercise its
# half: the deployer runtime (src/deployer/, tests in test/deployer/) and the construct files
# (src/*.ts, the tests in test/*.test.ts; see stryker.constructs.config.mjs). Then
# reports/MUTATION.md is written, and the command fails when a file is below its threshold (85%
# for src/deployer/, 90% for the construct files).
#   STRYKER_CONCURRENCY=N   test processes per run (default 2)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export AWS_EC2_METADATA_DISABLED=true

scope="${1:-all}"
concurrency="${STRYKER_CONCURRENCY:-2}"
case "$scope" in all | deployer | constructs) ;; *) echo "usage: npm run test:mutation [deployer|constructs]" >&2; exit 2 ;; esac

if [[ $scope == all || $scope == deployer ]]; then
  STRYKER_TESTS=deployer npx stryker run --concurrency "$concurrency" --mutate 'src/deployer/**/*.ts,!src/deployer/deployer-function.ts'
fi
if [[ $scope == all || $scope == constructs ]]; then
  npx stryker run stryker.constructs.config.mjs --concurrency "$concurrency"
fi

inputs=()
for report in reports/mutation.json reports/mutation-constructs.json; do
  [[ -f $report ]] && inputs+=(--input "$report")
done
node scripts/mutation-report.mjs "${inputs[@]}"
