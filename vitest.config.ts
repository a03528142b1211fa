import { defineConfig } from 'vitest/config';

/** Pure suites: no database, no server, no child process; `npm run test:unit` runs them in seconds. */
const UNIT = [
  'test/clock.test.ts',
  'test/domain/**/*.test.ts',
  'test/i18n/**/*.test.ts',
  'test/office/dates.test.ts',
  'test/campaigns/{campaign-render,conversions,reminders-rules,reminders-scheduler}.test.ts',
  'test/sms/{keywords,templates}.test.ts',
  'test/ussd/{live,twenty-columns}.test.ts',
  'test/simulator/transcript-runner.test.ts',
];

/**
 * Real processes killed with SIGKILL and restarted, waiting on real sweeps and expiries: about a
 * minute of wall time that no fake clock can replace (another process's time cannot be stepped).
 * `npm run test:crash`, which CI runs after `npm test` (.ci/run).
 */
const CRASH = ['test/crash/**/*.test.ts', 'test/sms/crash.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT, pool: 'threads' } },
      // Forks: the app suites load better-sqlite3 and listen on ports; a process each keeps them apart.
      { extends: true, test: { name: 'app', include: ['test/**/*.test.ts'], exclude: [...UNIT, ...CRASH], pool: 'forks' } },
      { extends: true, test: { name: 'crash', include: CRASH, pool: 'forks' } },
    ],
  },
});
