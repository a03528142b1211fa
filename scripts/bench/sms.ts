/**
 * The outbox budgets of design.md and issue 16: enqueue 100,000 messages at 150,000 rows/s or more, and drain
 * them through the real africastalking SDK to a local fake gateway at 1,000 messages/s or more
 * with bulk sends, memory bounded while draining.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/clock.ts';
import { openDatabase } from '../../src/db/connection.ts';
import { createLogger } from '../../src/log.ts';
import { createDispatcher } from '../../src/sms/dispatcher.ts';
import { createOutbox, type NewSms } from '../../src/sms/outbox.ts';
import { createAfricasTalkingTransport } from '../../src/sms/transports/africastalking.ts';

export interface SmsBenchFigures {
  messages: number;
  enqueueMs: number;
  enqueueRowsPerSec: number;
  drainMs: number;
  drainPerSec: number;
  gatewayCalls: number;
  accepted: number;
  rssBeforeDrainMb: number;
  rssPeakDrainMb: number;
}

function* messages(n: number): Generator<NewSms> {
  for (let i = 0; i < n; i++) {
    // Orange Mali numbers 7x; 10 campaign texts, so identical texts are grouped into bulk calls.
    const to = `+2237${String(i).padStart(7, '0')}`;
    yield {
      to,
      text: `Kénéya Sabatili: message d'information numéro ${i % 10}. Composez *384*123# pour votre couverture.`,
      lang: 'fr',
      kind: 'campaign',
    };
  }
}

export async function benchSms(n: number, log: (line: string) => void): Promise<SmsBenchFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'sabatili-sms-bench-'));
  const child = fork(new URL('./fake-gateway-child.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_AT_KEY: 'bench-key' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ask = <T>(type: string, wait: string) =>
    new Promise<T>((resolve) => {
      const on = (m: { type: string }) => {
        if (m.type === wait) {
          child.off('message', on);
          resolve(m as T);
        }
      };
      child.on('message', on);
      if (type) child.send({ type });
    });
  try {
    const { smsUrl } = await ask<{ smsUrl: string }>('', 'ready');
    const db = openDatabase(join(dir, 'sms.db'));
    const outbox = createOutbox(db, systemClock, { foldMode: 'gsm7', allowUcs2: false });

    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const batch: NewSms[] = [];
    for (const m of messages(n)) {
      batch.push(m);
      if (batch.length === 10_000) outbox.enqueueMany(batch.splice(0));
    }
    outbox.enqueueMany(batch);
    const enqueueMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    log(
      `enqueue: ${n} messages in ${enqueueMs.toFixed(0)} ms = ${Math.round((n / enqueueMs) * 1000)} rows/s (CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms)`,
    );

    const logger = createLogger('silent');
    const transport = createAfricasTalkingTransport({ username: 'bench', apiKey: 'bench-key', smsUrl, timeoutMs: 10_000, logger });
    const dispatcher = createDispatcher(db, transport, systemClock, logger, {
      ratePerSecond: 0,
      dailyCap: 0,
      bulkSize: 100,
      maxAttempts: 3,
      retryBaseMs: 1000,
      pollMs: 100,
      staleSendingMs: 30_000,
    });
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 50);
    const t1 = performance.now();
    const r = await dispatcher.drain();
    const drainMs = performance.now() - t1;
    clearInterval(sampler);
    const counted = await ask<{ accepted: number; requests: number }>('count', 'count');
    log(
      `drain: ${r.sent} sent (${r.retried} retry, ${r.failed} failed) in ${drainMs.toFixed(0)} ms = ${Math.round((r.sent / drainMs) * 1000)} messages/s, ${counted.requests} gateway calls through the SDK`,
    );
    db.close();
    return {
      messages: n,
      enqueueMs,
      enqueueRowsPerSec: (n / enqueueMs) * 1000,
      drainMs,
      drainPerSec: (r.sent / drainMs) * 1000,
      gatewayCalls: counted.requests,
      accepted: counted.accepted,
      rssBeforeDrainMb: rssBefore / 1048576,
      rssPeakDrainMb: rssPeak / 1048576,
    };
  } finally {
    child.send({ type: 'exit' });
    rmSync(dir, { recursive: true, force: true });
  }
}
