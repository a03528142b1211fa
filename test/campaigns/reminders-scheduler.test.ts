/** The timer that runs the reminders inside the server (src/campaigns/scheduler.ts). */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createScheduler } from '../../src/campaigns/scheduler.ts';
import { createLogger } from '../../src/log.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function logLines() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger('info', sink as never) };
}

describe('the scheduler', () => {
  it('runs at start, then every interval; a slow run is never doubled; stop() waits for it and ends the runs', async () => {
    const { logger } = logLines();
    let runs = 0;
    let inFlight = 0;
    let most = 0;
    const s = createScheduler('test', async () => {
      runs++;
      most = Math.max(most, ++inFlight);
      await sleep(60);
      inFlight--;
    }, logger, 20);
    s.start();
    expect(runs).toBe(1);
    await sleep(250);
    await s.stop();
    expect(inFlight).toBe(0);
    expect(most).toBe(1);
    expect(runs).toBeGreaterThanOrEqual(2);
    const after = runs;
    await sleep(100);
    expect(runs).toBe(after);
  });

  it('logs a failed run and keeps going; an interval of 0 never runs', async () => {
    const { lines, logger } = logLines();
    let runs = 0;
    const failing = createScheduler('reminders', async () => {
      runs++;
      throw new Error('disk full');
    }, logger, 20);
    failing.start();
    await sleep(100);
    await failing.stop();
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(lines.join('')).toContain('reminders: scheduled run failed');

    let never = 0;
    const off = createScheduler('off', async () => void never++, logger, 0);
    off.start();
    await sleep(50);
    await off.stop();
    expect(never).toBe(0);
  });
});
