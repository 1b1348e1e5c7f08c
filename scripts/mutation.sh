#!/usr/bin/env bash
# npm run test:mutation [deployer|constructs]: mutation testing with StrykerJS, incremental
# (reports/stryker-incremental*.json are kept in the repository, so a rerun after a small change
# re-tests only the mutants that change touches). Two runs, each with the tests that exercise its
# half: the deployer runtime (src/deployer/, tests in test/deployer/) and the construct files
# (src/*.ts, the tests in test/*.test.ts; see stryker.constructs.config.mjs). Then
# reports/MUTATION.md is written from all reports/stryker-incremental*.json, and the command
# fails when a file is below its threshold (85% for src/deployer/, 90% for the construct files).
#   STRYKER_CONCURRENCY=N   test processes per run (default 2)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export AWS_EC2_METADATA_DISABLED=true

scope="${1:-all}"
concurrency="${STRYKER_CONCURRENCY:-2}"
case "$scope" in all | deployer | constructs) ;; *) echo "usage: npm run test:mutation [deployer|constructs]" >&2; exit 2 ;; esac

if [[ $scope == all || $scope == deployer ]]; then
  STRYKER_TESTS=deployer npx stryker run --concurrency "$concurrency" --mutate 'src/deployer/**/*.ts,!src/deployer/deployer-function.ts'
  # The static mutants (module-level constants) of the files that have them, against the tests
  # that read those constants: each static mutant runs every test of its run. The report takes,
  # for each mutant, the best result of the two runs.
  static_tests=test/deployer/properties.test.ts,test/deployer/crafted-events.test.ts,test/deployer/service-settings.test.ts,test/deployer/discovery-error.test.ts,test/deployer/failure-reasons.test.ts,test/deployer/discovery-retries.test.ts,test/deployer/trust.test.ts,test/deployer/retry.test.ts,test/deployer/registration.test.ts,test/deployer/cleanup.test.ts
  static_files=src/deployer/properties.ts,src/deployer/service-settings.ts,src/deployer/discovery-error.ts,src/deployer/trust.ts,src/deployer/admin-retries.ts,src/deployer/retry.ts
  STRYKER_STATIC=1 STRYKER_TESTS="$static_tests" npx stryker run --concurrency "$concurrency" --mutate "$static_files"
fi
if [[ $scope == all || $scope == constructs ]]; then
  # Each construct file against the test files that exercise it: the whole construct suite per
  # mutant would take hours (each test file loads aws-cdk-lib anew). A subset of the tests gives a
  # lower bound of the score. The runs share one incremental file, so results accumulate.
  construct_runs=(
    'src/invoker-role.ts|test/invoker-role.test.ts,test/invoker-role-trust.test.ts,test/cloud-environment.test.ts'
    'src/template-permission.ts|test/invoker-role.test.ts,test/template-grants.test.ts,test/template-permission.test.ts'
    'src/cloud-environment.ts,src/environment.ts,src/environment-id.ts,src/cloud-region.ts,src/url.ts,src/request-identity.ts|test/cloud-environment.test.ts,test/environment.test.ts,test/migration-conveniences.test.ts,test/invoker-role.test.ts,test/security.test.ts,test/environment-id.test.ts,test/request-identity.test.ts,test/invoker-role-trust.test.ts,test/cloud-region.test.ts'
    'src/registration-checks.ts|test/registration-checks.test.ts'
    'src/service-configuration.ts|test/service-configuration.test.ts'
    'src/service-registration.ts|test/service-registration.test.ts'
    'src/nag-acknowledgement.ts|test/nag-acknowledgement.test.ts,test/nag-acknowledgement-metadata.test.ts'
    'src/deployer-trust.ts|test/deployer-trust.test.ts,test/template-grants.test.ts'
    'src/deployer-grants.ts|test/deployer-grants.test.ts'
    'src/service-deployer.ts|test/service-deployer.test.ts,test/registration-options.test.ts,test/template-grants.test.ts'
    'src/tunnel.ts,src/tunnel-url.ts,src/tunnel-identity.ts,src/tunnel-registration.ts,src/in-process-tunnel.ts|test/tunnel.test.ts'
  )
  # Each run keeps its own incremental file, named after its first file: a run with other tests
  # cannot reuse (and would drop) another run's results.
  for run in "${construct_runs[@]}"; do
    files="${run%%|*}"
    name="$(basename "${files%%,*}" .ts)"
    MUTATION_TESTS="${run#*|}" npx stryker run stryker.constructs.config.mjs --concurrency "$concurrency" --mutate "$files" \
      --incrementalFile "reports/stryker-incremental-constructs-$name.json"
  done
fi

# reports/MUTATION.md from the incremental files, which hold every mutant's last result.
node scripts/mutation-report.mjs
