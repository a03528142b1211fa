import dayjs from 'dayjs';
import timezone from 'dayjs/plugin/timezone.js';
import utc from 'dayjs/plugin/utc.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bamakoClockTime, bamakoDay, bamakoHour, bamakoInstant, ManualClock } from '../src/clock.ts';

dayjs.extend(utc);
dayjs.extend(timezone);

describe('Bamako time', () => {
  it('agrees with the time-zone database for any instant from 1990 to 2100', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }), (d) => {
        const tz = dayjs(d).tz('Africa/Bamako');
        expect(bamakoDay(d)).toBe(tz.format('YYYY-MM-DD'));
        expect(bamakoHour(d)).toBe(tz.hour());
        expect(bamakoClockTime(d)).toBe(tz.format('HH:mm'));
      }),
      { numRuns: 2000 },
    );
  });

  it('turns a Bamako day and hour back into the instant', () => {
    expect(bamakoInstant('2026-03-13', 17).toISOString()).toBe('2026-03-13T17:00:00.000Z');
  });

  it('is frozen by a manual clock and moved only on purpose', () => {
    const c = new ManualClock('2026-03-10T23:59:59Z');
    expect(bamakoDay(c.now())).toBe('2026-03-10');
    c.advance(1000);
    expect(bamakoDay(c.now())).toBe('2026-03-11');
  });
});
