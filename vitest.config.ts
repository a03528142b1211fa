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
    // Vitest's default is one worker fewer than the cores: one on this 2-core machine, idle while a
    // test waits on a socket, a child process or the browser.
    maxWorkers: 2,
    // Transformed modules kept on disk between runs (keyed by content): each worker otherwise has
    // vite transform the whole application again, several seconds of CPU per run.
    experimental: { fsModuleCache: true },
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      // Pure code, no mocks, fake timers or stubbed globals: a worker loads the modules once for all its files.
      { extends: true, test: { name: 'unit', include: UNIT, pool: 'threads', isolate: false } },
      // Forks for the native module; without isolation each worker loads the application once for
      // all its files instead of once per file (about half the suite's CPU time). The files share no
      // state: each starts its own app on its own temp database and port.
      { extends: true, test: { name: 'app', include: ['test/**/*.test.ts'], exclude: [...UNIT, ...CRASH], pool: 'forks', isolate: false } },
      { extends: true, test: { name: 'crash', include: CRASH, pool: 'forks' } },
    ],
  },
});
