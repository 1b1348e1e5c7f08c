#!/usr/bin/env bash
# npm run test:mutation [deployer|constructs]: mutation testing with StrykerJS, incremental
# (reports/stryker-incremental*.json are kept in the repository, so a rerun after a small change
# re-tests only the mutants that change touches). Two runs, each with the tests that exercise its
# half: the deployer runtime (src/deployer/, tests in test/deployer/) and the construct files
# (src/*.ts, the tests in test/*.test.ts; see stryker.constructs.config.mjs). Then
# reports/MUTATION.md is written from all reports/stryker-incremental*.json, and the command
# fails when a file is below its threshold (85% for src/deployer/, 90% for the construct files).
#   STRYKER_CONCURRENCY=N   test processes per run (default 2)
#   STRYKER_FORCE=1         re-test every mutant: a surviving static mutant is otherwise reused while
#                           its code is unchanged, also after tests were added to its run
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export AWS_EC2_METADATA_DISABLED=true

scope="${1:-all}"
concurrency="${STRYKER_CONCURRENCY:-2}"
force=()
[[ -n ${STRYKER_FORCE:-} ]] && force=(--force)
case "$scope" in all | deployer | constructs) ;; *) echo "usage: npm run test:mutation [deployer|constructs]" >&2; exit 2 ;; esac

# stryker_run HALF FILES [CONFIG]: one run, with its own incremental file named after its first
# file (a run with other tests cannot reuse, and would drop, another run's results).
stryker_run() {
  local half=$1 files=$2
  shift 2
  npx stryker run "$@" --concurrency "$concurrency" --mutate "$files" \
    --incrementalFile "reports/stryker-incremental-$half-$(basename "${files%%,*}" .ts).json" "${force[@]}"
}

if [[ $scope == all || $scope == deployer ]]; then
  # Each file of the deployer runtime against the tests that exercise it (test/deployer/): the
  # whole suite per mutant took hours, since most mutants of the handler path are covered by
  # hundreds of handler tests, and one that breaks the health check makes each of them wait.
  deployer_runs=(
    'src/deployer/admin-client.ts,src/deployer/http.ts|admin-client,http'
    'src/deployer/properties.ts|properties,crafted-events,service-settings'
    'src/deployer/retry.ts|retry'
    'src/deployer/cfn-response.ts|cfn-response,log'
    'src/deployer/discovery-error.ts,src/deployer/failure-reasons.ts,src/deployer/context.ts|discovery-error,failure-reasons,context,admin-client'
    'src/deployer/statement-id.ts,src/deployer/trust.ts,src/deployer/secrets.ts,src/deployer/log.ts|statement-id,trust,secrets,log'
    'src/deployer/service-settings.ts|service-settings,deployer-lambda'
    'src/deployer/admin-retries.ts|discovery-retries,retries'
    'src/deployer/pruning.ts,src/deployer/kept-grants.ts|pruning,grants'
    'src/deployer/resource-policy.ts|resource-policy,grants,log'
    'src/deployer/connection.ts|health,deployer-lambda,registration,handler,log'
    'src/deployer/removal.ts|cleanup,resource-policy,handler,log,crafted-events'
    'src/deployer/deployer.lambda.ts|handler,crafted-events,log'
    'src/deployer/register.ts|registration,cleanup,log,grants,discovery-retries,handler,deployer-lambda,resource-policy,crafted-events,pruning'
  )
  for run in "${deployer_runs[@]}"; do
    tests="$(tr ',' '\n' <<<"${run#*|}" | sed 's|.*|test/deployer/&.test.ts|' | paste -sd, -)"
    STRYKER_TESTS="$tests" stryker_run deployer "${run%%|*}"
  done
fi
if [[ $scope == all || $scope == constructs ]]; then
  # Each construct file against the test files that exercise it: the whole construct suite per
  # mutant would take hours (each test file loads aws-cdk-lib anew). A subset of the tests gives a
  # lower bound of the score.
  construct_runs=(
    'src/invoker-role.ts|test/invoker-role.test.ts,test/invoker-role-trust.test.ts,test/cloud-environment.test.ts'
    'src/template-permission.ts|test/invoker-role.test.ts,test/template-grants.test.ts,test/template-permission.test.ts'
    'src/cloud-region.ts|test/cloud-region.test.ts,test/cloud-environment.test.ts,test/migration-conveniences.test.ts'
    'src/cloud-environment.ts,src/environment.ts,src/environment-id.ts,src/url.ts,src/request-identity.ts|test/cloud-environment.test.ts,test/environment.test.ts,test/migration-conveniences.test.ts,test/invoker-role.test.ts,test/security.test.ts,test/environment-id.test.ts,test/request-identity.test.ts,test/invoker-role-trust.test.ts,test/cloud-region.test.ts'
    'src/registration-checks.ts|test/registration-checks.test.ts'
    'src/service-configuration.ts|test/service-configuration.test.ts'
    'src/service-registration.ts|test/service-registration.test.ts'
    'src/nag-acknowledgement.ts|test/nag-acknowledgement.test.ts,test/nag-acknowledgement-metadata.test.ts'
    'src/deployer-trust.ts|test/deployer-trust.test.ts,test/template-grants.test.ts'
    'src/deployer-grants.ts|test/deployer-grants.test.ts'
    'src/service-deployer.ts|test/service-deployer.test.ts,test/registration-options.test.ts,test/template-grants.test.ts,test/registration-checks.test.ts,test/migration-conveniences.test.ts,test/security.test.ts,test/deployer-trust.test.ts,test/nag-acknowledgement.test.ts'
    'src/tunnel.ts,src/tunnel-url.ts,src/tunnel-identity.ts,src/tunnel-registration.ts,src/in-process-tunnel.ts|test/tunnel.test.ts,test/nag-acknowledgement.test.ts,test/nag.test.ts'
  )
  for run in "${construct_runs[@]}"; do
    MUTATION_TESTS="${run#*|}" stryker_run constructs "${run%%|*}" stryker.constructs.config.mjs
  done
fi

# reports/MUTATION.md from the incremental files, which hold every mutant's last result.
node scripts/mutation-report.mjs
