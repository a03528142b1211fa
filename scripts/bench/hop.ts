/**
 * The USSD hop alone, in process: the lean path's handler (zod validation, engine, group commit)
 * fed the bench's 3-hop sessions (load.ts PATHS and PHONES) by `concurrency` sessions at a time,
 * without HTTP. CPU time per hop is steadier than requests/s on a shared machine, so this is the
 * figure to compare engine changes with. `--profile DIR` writes a .cpuprofile there.
 *
 *   node --import tsx scripts/bench/hop.ts [--hops 60000] [--concurrency 64] [--rounds 3] [--profile DIR]
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { seedDemo } from '../../src/db/seed.ts';
import { ussdHopHandler } from '../../src/http/ussd.ts';
import { createLogger } from '../../src/log.ts';
import { createServices } from '../../src/services.ts';
import { GATEWAY_KEY, PATHS, PHONES } from './load.ts';

const { values: flags } = parseArgs({
  options: {
    hops: { type: 'string', default: '60000' },
    concurrency: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '3' },
    profile: { type: 'string' },
  },
});
const hops = Number(flags.hops);
const concurrency = Number(flags.concurrency);
const rounds = Number(flags.rounds);

const dir = mkdtempSync(join(tmpdir(), 'sabatili-hop-'));
const config = loadConfig({
  NODE_ENV: 'production',
  PAYMENT_CALLBACK_SECRET: 'bench-dummy-payment-callback-secret-0123456789',
  GATEWAY_CALLBACK_KEY: GATEWAY_KEY,
  LOG_LEVEL: 'silent',
  DATABASE_PATH: join(dir, 'hop.db'),
  USSD_RESUME_MINUTES: '0',
});
const services = createServices(config, systemClock, createLogger(config.LOG_LEVEL));
seedDemo(services.db, systemClock);
const handler = ussdHopHandler({ engine: services.engine, sessions: services.sessions, clock: services.clock, logger: services.logger });

let next = 0;
let bad = 0;
async function session(tag: string): Promise<number> {
  const n = next++;
  const path = PATHS[n % PATHS.length] as readonly string[];
  const phoneNumber = PHONES[Math.floor(n / PATHS.length) % PHONES.length] as string;
  for (const text of path) {
    const reply = await handler({ sessionId: `${tag}-${n}`, serviceCode: '*384*123#', phoneNumber, text });
    if (reply.status !== 200 || !reply.body.startsWith('CON ')) bad++;
  }
  return path.length;
}

async function round(tag: string): Promise<{ cpuUs: number; wallMs: number; done: number }> {
  let done = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (done < hops) {
        const played = await session(tag);
        done += played;
      }
    }),
  );
  const c = process.cpuUsage(c0);
  return { cpuUs: c.user + c.system, wallMs: performance.now() - t0, done };
}

await round('warm');
const inspector = flags.profile ? new Session() : undefined;
if (inspector) {
  inspector.connect();
  await inspector.post('Profiler.enable');
  await inspector.post('Profiler.start');
}
const perHop: number[] = [];
for (let r = 1; r <= rounds; r++) {
  const { cpuUs, wallMs, done } = await round(`r${r}`);
  perHop.push(cpuUs / done);
  console.log(`round ${r}: ${done} hops, ${(cpuUs / done).toFixed(1)} µs CPU per hop, ${((done / wallMs) * 1000).toFixed(0)} hops/s wall`);
}
if (inspector && flags.profile) {
  const { profile } = await inspector.post('Profiler.stop');
  writeFileSync(join(flags.profile, `hop-${Date.now()}.cpuprofile`), JSON.stringify(profile));
}
perHop.sort((a, b) => a - b);
console.log(`median ${(perHop[Math.floor(perHop.length / 2)] as number).toFixed(1)} µs CPU per hop; malformed replies: ${bad}`);
services.db.close();
rmSync(dir, { recursive: true, force: true });
