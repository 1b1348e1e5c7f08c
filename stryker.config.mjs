// Mutation testing with StrykerJS, the deployer half: src/deployer/**. scripts/mutation.sh
// (npm run test:mutation deployer) runs each file against the test files that exercise it, each
// run with its own incremental file (reports/stryker-incremental-deployer-<first file>.json):
//
//   STRYKER_TESTS=test/deployer/retry.test.ts npx stryker run --mutate src/deployer/retry.ts \
//     --incrementalFile reports/stryker-incremental-deployer-retry.json
//
// STRYKER_TESTS=deployer restricts jest to the deployer Lambda's own tests (test/deployer/**),
// which is much faster for src/deployer: test/security.test.ts also drives the handler, but loads
// aws-cdk-lib and synthesizes apps, which costs seconds for every mutant it covers.
// STRYKER_TESTS=deployer+security adds it back; STRYKER_TESTS=test/a.test.ts,test/b.test.ts runs those.
// Afterwards: node scripts/mutation-report.mjs (writes reports/MUTATION.md).

const tests = process.env.STRYKER_TESTS;
/**
 * The deployer's own tests, less hung-lambda-api.test.ts: each of its tests waits 10 s for a
 * Lambda API call to time out, for every mutant it covers (most of the handler). What only it
 * kills is marked at the source line.
 */
const DEPLOYER_TESTS = ['<rootDir>/test/deployer/**/*.test.ts', '!<rootDir>/test/deployer/hung-lambda-api.test.ts'];
/**
 * Which tests jest runs: all of them by default; `deployer` the deployer's own tests;
 * `deployer+security` those and test/security.test.ts; or a comma-separated list of test files
 * (a subset gives a lower bound of the score: more tests can only kill more mutants).
 */
function testMatchFor(which) {
  if (!which) return undefined;
  if (which === 'deployer') return [...DEPLOYER_TESTS];
  if (which === 'deployer+security') return [...DEPLOYER_TESTS, '<rootDir>/test/security.test.ts'];
  return which.split(',').map((f) => `<rootDir>/${f.trim().replace(/^\.?\//, '')}`);
}
const testMatch = testMatchFor(tests);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: {
    // The jest config in package.json (setupFiles test/support/offline-aws.ts; test/integration ignored).
    projectType: 'custom',
    // Stryker itself turns coverage collection and jest's reporters off (collectCoverage: false,
    // reporters: []): jest's v8 coverage would only slow every run down.
    config: testMatch ? { testMatch } : {},
  },
  coverageAnalysis: 'perTest',
  // Stop at the first test file that kills a mutant: many deployer mutants (the admin client,
  // the property decoder) are covered by hundreds of handler tests, and running them all for
  // every mutant made a run take hours. The report then names one killing test per mutant.
  disableBail: false,
  // No TypeScript checker: it made runs about ten times slower. Mutants that do not compile
  // still fail at run time (ts-jest transpiles only; Stryker adds @ts-nocheck to mutated files).
  checkers: [],
  mutate: ['src/**/*.ts', '!src/deployer/deployer-function.ts', '!src/index.ts'],
  // Static mutants (module-level constants: validation patterns, metadata keys, retried error
  // kinds) run every test of their run: scripts/mutation.sh runs each file with the few test
  // files that exercise it, so they are measured too.
  ignoreStatic: false,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental-deployer.json',
  reporters: ['json', 'clear-text', 'progress'],
  jsonReporter: { fileName: 'reports/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  // Two cores, shared.
  concurrency: 1,
  timeoutMS: 5_000,
  timeoutFactor: 2,
  ignorePatterns: ['reports', 'coverage', 'test-reports', 'cdk.out', 'lib', 'dist', 'bench/.work', 'examples', '.jsii', '.tmp', '.stryker-tmp*'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
