/**
 * The real app, built as production builds it: production config (with dummy callback secrets),
 * the system clock, a fresh SQLite file, the demo network seeded, createServices + the server's
 * request handler (createHttpHandler: the gateway callbacks on the lean path, the rest through
 * express). The parent passes DATABASE_PATH and USSD_RESUME_MINUTES in the environment;
 * BENCH_EXPRESS_ONLY=1 serves createApp alone (every route through express), for comparison.
 */
import { systemClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { seedDemo } from '../../src/db/seed.ts';
import { createApp } from '../../src/http/app.ts';
import { createHttpHandler } from '../../src/http/lean.ts';
import { createLogger } from '../../src/log.ts';
import { createServices } from '../../src/services.ts';
import { serveForBench } from './child.ts';
import { GATEWAY_KEY } from './load.ts';
import type { SessionStats } from './protocol.ts';

const config = loadConfig({
  NODE_ENV: 'production',
  PAYMENT_CALLBACK_SECRET: 'bench-dummy-payment-callback-secret-0123456789',
  // Production requires the gateway key; the load posts it in the query string as the gateway does (load.ts).
  GATEWAY_CALLBACK_KEY: GATEWAY_KEY,
  LOG_LEVEL: 'silent',
  DATABASE_PATH: process.env.DATABASE_PATH,
  USSD_RESUME_MINUTES: process.env.USSD_RESUME_MINUTES,
});
const logger = createLogger(config.LOG_LEVEL);
const services = createServices(config, systemClock, logger);
seedDemo(services.db, systemClock);

function stats(): SessionStats {
  const rows = services.db.prepare('SELECT machine, COUNT(*) AS n, SUM(hops) AS hops FROM ussd_sessions GROUP BY machine').all() as {
    machine: string;
    n: number;
    hops: number;
  }[];
  const byMachine: Record<string, number> = {};
  for (const r of rows) byMachine[r.machine] = r.n;
  return { sessions: rows.reduce((s, r) => s + r.n, 0), hops: rows.reduce((s, r) => s + r.hops, 0), byMachine };
}

await serveForBench(process.env.BENCH_EXPRESS_ONLY === '1' ? createApp(services) : createHttpHandler(services), {
  stats,
  close: () => services.db.close(),
});
