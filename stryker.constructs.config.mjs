// Mutation testing with StrykerJS (issue 21), the construct half: src/*.ts (not src/deployer/**,
// not src/index.ts; service-deployer-options.ts and invoke-grant.ts hold only interfaces).
//
//   npx stryker run stryker.constructs.config.mjs --concurrency 1 --mutate src/invoker-role.ts
//   MUTATION_TESTS=test/invoker-role.test.ts,test/invoker-role-trust.test.ts \
//     npx stryker run stryker.constructs.config.mjs --concurrency 1 --mutate src/invoker-role.ts
//
// MUTATION_TESTS narrows jest to the listed test files (a subset gives a lower bound of the
// score: more tests can only kill more mutants); every such file also runs in `npx jest`.
// The whole construct suite is too slow per mutant on a shared two-core machine (every mutant
// of a file that every ServiceDeployer touches reloads aws-cdk-lib in each test file), so the
// recorded results come from per-file runs, each with the test files that exercise it and its own
// incremental file (reports/stryker-incremental-constructs-<first file>.json): the lists are in
// scripts/mutation.sh (npm run test:mutation constructs).
// Left out by default: test/migration.test.ts (compiles snippets with the TypeScript compiler,
// slow and about the public API's shape rather than behaviour), test/scale.test.ts (synthesizes
// hundreds of handlers), test/snapshot.test.ts (a whole-template snapshot: kills everything
// it covers without saying what broke), test/deployer/** (the deployer half).

const tests = process.env.MUTATION_TESTS;
const defaultTests = ['<rootDir>/test/*.test.ts', '!<rootDir>/test/migration.test.ts', '!<rootDir>/test/scale.test.ts', '!<rootDir>/test/snapshot.test.ts'];
const testMatch = tests ? tests.split(',').map((f) => `<rootDir>/${f.trim().replace(/^\.?\//, '')}`) : defaultTests;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    // The jest config of package.json, with only the construct tests and no coverage.
    config: {
      testPathIgnorePatterns: ['/node_modules/', '/test/integration/', '/bench/', '/examples/'],
      setupFiles: ['<rootDir>/test/support/offline-aws.ts'],
      testMatch,
      clearMocks: true,
      collectCoverage: false,
      transform: { '^.+\\.[t]sx?$': ['ts-jest', { tsconfig: 'test/tsconfig.json' }] },
    },
  },
  coverageAnalysis: 'perTest',
  // Stop at the first test file that kills a mutant (each file reloads aws-cdk-lib).
  disableBail: false,
  // No TypeScript checker: it made runs about ten times slower.
  checkers: [],
  mutate: [
    'src/invoker-role.ts',
    'src/cloud-environment.ts',
    'src/environment.ts',
    'src/environment-id.ts',
    'src/cloud-region.ts',
    'src/url.ts',
    'src/template-permission.ts',
    'src/registration-checks.ts',
    'src/deployer-trust.ts',
    'src/deployer-grants.ts',
    'src/service-registration.ts',
    'src/service-configuration.ts',
    'src/nag-acknowledgement.ts',
    'src/request-identity.ts',
    'src/service-deployer.ts',
    'src/tunnel*.ts',
    'src/in-process-tunnel.ts',
  ],
  // Static mutants (module-level constants) run every test file of their run: the runs are
  // per file, with a few test files each, so they are measured too.
  ignoreStatic: false,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental-constructs.json',
  reporters: ['json', 'clear-text', 'progress'],
  jsonReporter: { fileName: 'reports/mutation-constructs.json' },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  concurrency: 1,
  timeoutMS: 30_000,
  timeoutFactor: 2,
  ignorePatterns: ['reports', 'coverage', 'test-reports', 'cdk.out', 'lib', 'dist', 'bench/.work', 'examples', '.jsii', '.tmp', '.stryker-tmp*'],
  tempDirName: '.stryker-tmp-constructs',
  cleanTempDir: true,
};
