import dayjs from 'dayjs';
import timezone from 'dayjs/plugin/timezone.js';
import utc from 'dayjs/plugin/utc.js';

dayjs.extend(utc);
dayjs.extend(timezone);

export const TIME_ZONE = 'Africa/Bamako';

/**
 * Mali keeps one offset all year (UTC+0, no daylight saving), so the offset is read from the
 * time-zone database once, at start, instead of on every hop (dayjs' tz() costs about 10 µs a call).
 */
const OFFSET_MS = dayjs().tz(TIME_ZONE).utcOffset() * 60_000;

/** The one source of time: the server uses the system clock, tests and transcripts a manual one. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A pending timer; the system's can be unref'd so it never keeps a process alive on its own. */
export interface TimerHandle {
  unref?(): unknown;
}

/** The timers of the loops inside the server (dispatcher, schedulers): injected, so tests step time instead of waiting for it. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
}

export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

/**
 * A pass run again `pollMs` after the previous one ended (never two at once), from start() until
 * stop(), which waits for a pass under way: the loop of the SMS dispatcher and of the calls UTM
 * places. A pass that throws is reported to `onError` and the loop goes on.
 */
export function createPollLoop(pass: () => Promise<unknown> | unknown, pollMs: number, timers: Timers, onError: (err: unknown) => void) {
  let timer: TimerHandle | null = null;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = true;
  function tick(): void {
    running = Promise.resolve()
      .then(pass)
      .catch(onError)
      .finally(() => {
        if (!stopped) timer = timers.setTimeout(tick, pollMs);
      });
  }
  return {
    isRunning(): boolean {
      return !stopped;
    },
    start(): void {
      if (!stopped) return;
      stopped = false;
      tick();
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) timers.clearTimeout(timer);
      await running;
    },
  };
}

export class ManualClock implements Clock {
  private t: number;
  constructor(start: Date | string) {
    this.t = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  set(instant: Date | string): void {
    this.t = new Date(instant).getTime();
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

function local(instant: Date): Date {
  const t = instant.getTime();
  if (Number.isNaN(t)) throw new RangeError('invalid date');
  return new Date(t + OFFSET_MS);
}

/** The calendar day ('YYYY-MM-DD') of an instant in Bamako. */
export function bamakoDay(instant: Date): string {
  return local(instant).toISOString().slice(0, 10);
}

/** The hour (0–23) of an instant in Bamako. */
export function bamakoHour(instant: Date): number {
  return local(instant).getUTCHours();
}

/** 'HH:mm' of an instant in Bamako. */
export function bamakoClockTime(instant: Date): string {
  return local(instant).toISOString().slice(11, 16);
}

/** The instant of a day and hour in Bamako. */
export function bamakoInstant(day: string, hour: number): Date {
  return new Date(Date.parse(`${day}T${String(hour).padStart(2, '0')}:00:00Z`) - OFFSET_MS);
}
