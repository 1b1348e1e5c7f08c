// Jest configuration of the integration suite (test/integration/run.sh, `npm run test:integration`).
// Separate from the unit tests' configuration in package.json, which ignores test/integration/.
/** @type {import('jest').Config} */
module.exports = {
  rootDir: '../..',
  testMatch: ['**/test/integration/**/*.integ.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/lib/', '/dist/'],
  testEnvironment: 'node',
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // A real server, real services and deliberate outages: minutes, not seconds.
  testTimeout: 90_000,
  slowTestThreshold: 30,
  collectCoverage: false,
  maxWorkers: 1,
  clearMocks: true,
  reporters: ['default'],
};
