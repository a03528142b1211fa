import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request, type Server } from 'node:http';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/connection.ts';
import { createHttpHandler, listen } from '../../src/http/lean.ts';
import type { IdSource } from '../../src/ids.ts';
import { createLogger } from '../../src/log.ts';
import { createServices, type Services } from '../../src/services.ts';
import { copyFreshDatabase, SCRATCH } from './databases.ts';

export interface TestApp {
  url: string;
  clock: ManualClock;
  services: Services;
  dbPath: string;
  /** Posts a form to the app, as the gateway does. */
  post(path: string, form: Record<string, string>): Promise<{ status: number; body: string }>;
  /** One USSD hop for a phone: `text` is the cumulative text the gateway would send. */
  hop(sessionId: string, phoneNumber: string, text: string): Promise<{ status: number; body: string }>;
  /** Stops the server; `keepDatabase` leaves the file for a restart test. */
  close(opts?: { keepDatabase?: boolean }): Promise<void>;
}

export interface TestAppOptions {
  clock?: string;
  /** Reuse a database file (restart tests); otherwise a fresh one in a temp folder, seeded with the demo network. */
  dbPath?: string;
  env?: Record<string, string>;
  seed?: boolean;
  /** Listen on this port (default: any free one). */
  port?: number;
  /** Where the logs go (with LOG_LEVEL in env), for tests that read them. */
  logDestination?: { write(line: string): void };
  /** Deterministic ids (transcripts); random otherwise, as in production. */
  ids?: IdSource;
}

/** The real app on a real port, a temp SQLite file and a frozen clock. */
export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const dir = opts.dbPath ? null : mkdtempSync(join(SCRATCH, 'sabatili-test-'));
  const dbPath = opts.dbPath ?? join(dir as string, 'test.db');
  const clock = new ManualClock(opts.clock ?? '2026-03-10T09:00:00Z');
  if (!opts.dbPath) copyFreshDatabase(dbPath, opts.seed === false ? undefined : clock);
  // No SMS rate by default: a drain in a test should not wait a second per pass.
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    DATABASE_PATH: dbPath,
    LOG_LEVEL: 'silent',
    SMS_RATE_PER_SECOND: '0',
    ...opts.env,
  };
  // Staff passwords hashed with 1 MiB instead of 32 (allowed under NODE_ENV=test only): the same scrypt
  // code, a few milliseconds a login instead of 100.
  if (env.NODE_ENV === 'test') env.STAFF_PASSWORD_COST ??= '10';
  const config: Config = loadConfig(env);
  const logger = createLogger(config.LOG_LEVEL, opts.logDestination);
  const db = openDatabase(dbPath);
  const services = createServices(config, clock, logger, db, opts.ids);
  // The server's own request handler: the gateway callbacks on the lean path, the rest through express.
  const server: Server = await new Promise((resolve, reject) => {
    const s = listen(createHttpHandler(services), opts.port ?? 0, '127.0.0.1', (err) => (err ? reject(err) : resolve(s)));
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  services.setPublicUrl(url);

  // node:http on a keep-alive agent rather than fetch: half the CPU time of a hop (fetch's streams
  // cost more than the app's own work), and the suite sends thousands.
  const agent = new Agent({ keepAlive: true });
  const post = (path: string, form: Record<string, string>) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const body = new URLSearchParams(form).toString();
      const headers = { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) };
      const req = request(url + path, { method: 'POST', agent, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode as number, body: text }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });

  return {
    url,
    clock,
    services,
    dbPath,
    post,
    hop: (sessionId, phoneNumber, text) =>
      post('/ussd', { sessionId, serviceCode: config.USSD_SERVICE_CODE, phoneNumber, networkCode: '61001', text }),
    close: async ({ keepDatabase = false } = {}) => {
      agent.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await services.dispatcher.stop();
      services.simulatorSms.close();
      services.orange.close();
      db.close();
      if (dir && !keepDatabase) rmSync(dir, { recursive: true, force: true });
    },
  };
}
