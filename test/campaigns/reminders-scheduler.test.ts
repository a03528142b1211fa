/** The timer that runs the reminders inside the server (src/campaigns/scheduler.ts). */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createScheduler } from '../../src/campaigns/scheduler.ts';
import { createLogger } from '../../src/log.ts';
import { ManualTimers } from '../support/timers.ts';

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
    const timers = new ManualTimers();
    let runs = 0;
    let inFlight = 0;
    let most = 0;
    let finish = () => {};
    const s = createScheduler(
      'test',
      async () => {
        runs++;
        most = Math.max(most, ++inFlight);
        await new Promise<void>((resolve) => (finish = resolve));
        inFlight--;
      },
      logger,
      20,
      timers,
    );
    s.start();
    expect(runs).toBe(1);
    // Three intervals pass while the first run is still going: it is not doubled.
    await timers.advance(60);
    expect(runs).toBe(1);
    finish();
    await timers.advance(20);
    expect(runs).toBe(2);
    const stopped = s.stop();
    let done = false;
    void stopped.then(() => (done = true));
    await timers.advance(0);
    expect(done).toBe(false);
    finish();
    await stopped;
    expect(inFlight).toBe(0);
    expect(most).toBe(1);
    expect(timers.pending()).toBe(0);
    await timers.advance(100);
    expect(runs).toBe(2);
  });

  it('logs a failed run and keeps going; an interval of 0 never runs', async () => {
    const { lines, logger } = logLines();
    const timers = new ManualTimers();
    let runs = 0;
    const failing = createScheduler(
      'reminders',
      async () => {
        runs++;
        throw new Error('disk full');
      },
      logger,
      20,
      timers,
    );
    failing.start();
    await timers.advance(100);
    await failing.stop();
    expect(runs).toBe(6);
    expect(lines.join('')).toContain('reminders: scheduled run failed');

    let never = 0;
    const off = createScheduler('off', async () => void never++, logger, 0, timers);
    off.start();
    expect(timers.pending()).toBe(0);
    await timers.advance(50);
    await off.stop();
    expect(never).toBe(0);
  });
});
