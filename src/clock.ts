import dayjs from 'dayjs';
import utc from 'dayjs/plugin/utc.js';
import timezone from 'dayjs/plugin/timezone.js';

dayjs.extend(utc);
dayjs.extend(timezone);

export const TIME_ZONE = 'Africa/Bamako';

/** The one source of time: the server uses the system clock, tests and transcripts a manual one. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

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

export function bamakoTime(instant: Date): dayjs.Dayjs {
  return dayjs(instant).tz(TIME_ZONE);
}
