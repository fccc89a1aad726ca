// One project per test layer, so a newcomer can run just the layer they touch:
//   unit         pure modules, no I/O                                  (tests/unit)
//   integration  built bundle + simulator + moto, packaged template    (tests/integration)
//   e2e          whole local stack via npm start                       (tests/e2e)
//   chaos        property: random batches x random faults, nothing lost (tests/chaos)
//   fuzz         property: arbitrary bodies never crash a batch        (tests/fuzz)
//   load         600 events through the local stack, paced, no 429    (tests/load)
const transform = {
  '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }],
};
// middy ships ESM only; let swc turn it into CommonJS for jest.
const transformIgnorePatterns = ['/node_modules/(?!@middy/)'];
// .tools/ holds installed tools (the Lambda runtime client's own package.json and node_modules).
const modulePathIgnorePatterns = ['<rootDir>/.tools/'];
const shared = { transform, transformIgnorePatterns, modulePathIgnorePatterns, testEnvironment: 'node' };

export default {
  reporters: ['default', '<rootDir>/scripts/plain-summary-reporter.cjs'],
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/tests/unit/**/*.test.ts'] },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/tests/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/tests/integration/global-setup.ts',
    },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/tests/e2e/**/*.test.ts'] },
    { ...shared, displayName: 'chaos', testMatch: ['<rootDir>/tests/chaos/**/*.test.ts'] },
    { ...shared, displayName: 'fuzz', testMatch: ['<rootDir>/tests/fuzz/**/*.test.ts'] },
    {
      ...shared,
      displayName: 'load',
      testMatch: ['<rootDir>/tests/load/**/*.test.ts'],
      globalSetup: '<rootDir>/tests/integration/global-setup.ts',
    },
  ],
};
