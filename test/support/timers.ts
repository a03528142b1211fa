import type { TimerHandle, Timers } from '../../src/clock.ts';

interface Pending extends TimerHandle {
  at: number;
  fn: () => void;
  every: number | null;
  seq: number;
}

/** Lets promise callbacks and in-process I/O callbacks run before time moves on. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Turns of the event loop until `done()` holds, time standing still (no timer fires): for I/O in
 * flight, e.g. a request reaching a local server. Fails after `maxTurns`.
 */
export async function untilSettled(done: () => boolean, maxTurns = 10_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (done()) return;
    await turn();
  }
  throw new Error(`untilSettled: not done after ${maxTurns} turns`);
}

/**
 * Timers that fire only when the test moves time (src/clock.ts `Timers`), in order of due time:
 * a loop's "later" happens at once and a stopped loop provably has nothing pending.
 */
export class ManualTimers implements Timers {
  private now = 0;
  private seq = 0;
  private readonly queue = new Set<Pending>();
  /** The delay of every timer set, in order (pacing tests read them). */
  readonly requested: number[] = [];

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, null);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, ms);
  }

  clearTimeout(handle: TimerHandle): void {
    this.queue.delete(handle as Pending);
  }

  clearInterval(handle: TimerHandle): void {
    this.queue.delete(handle as Pending);
  }

  /** Timers still to fire. */
  pending(): number {
    return this.queue.size;
  }

  /** Moves time by `ms`, firing each timer due meanwhile in order, with a turn of the event loop before and after each. */
  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    for (let next = this.next(); next && next.at <= target; next = this.next()) await this.fire(next);
    this.now = target;
    await turn();
  }

  /**
   * Fires timers in order, jumping to each one's due time, until `done()` holds (checked after
   * every event-loop turn); fails after `maxSteps` if it never does.
   */
  async until(done: () => boolean | Promise<boolean>, maxSteps = 10_000): Promise<void> {
    for (let step = 0; step < maxSteps; step++) {
      if (await done()) return;
      const next = this.next();
      if (next) await this.fire(next);
      else await turn();
    }
    throw new Error(`ManualTimers.until: not done after ${maxSteps} steps`);
  }

  private add(fn: () => void, ms: number, every: number | null): Pending {
    this.requested.push(ms);
    const t: Pending = { at: this.now + Math.max(0, ms), fn, every, seq: this.seq++, unref: () => t };
    this.queue.add(t);
    return t;
  }

  private next(): Pending | undefined {
    let first: Pending | undefined;
    for (const t of this.queue) if (!first || t.at < first.at || (t.at === first.at && t.seq < first.seq)) first = t;
    return first;
  }

  /** Settles what the last callback started, then fires `t` at its due time. */
  private async fire(t: Pending): Promise<void> {
    await turn();
    this.now = t.at;
    if (t.every === null) this.queue.delete(t);
    else t.at += t.every;
    t.fn();
    await turn();
  }
}
