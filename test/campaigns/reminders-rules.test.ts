/**
 * The reminder rules as pure functions: which rule fires on which day for a household's coverage,
 * what the message says that day, and when an SMS may go out (Africa/Bamako, UTC+0).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, coverageOn, type ProductParameters } from '../../src/domain/coverage.ts';
import { toDayNumber } from '../../src/domain/dates.ts';
import {
  CATCH_UP_DAYS,
  type CoverageDates,
  DEFAULT_RULES,
  dueReminder,
  isSendingTime,
  type ReminderRule,
  reminderMessage,
  ruleDay,
  sendableFrom,
  sendingCloses,
} from '../../src/domain/reminders.ts';

const HOURS = { startHour: 8, endHour: 20 };

/** The demo's rural product: 6 000 FCFA a year, half for a subsidised person, 15 days of grace (30 from 2027). */
const RURAL: ProductParameters[] = [
  { effectiveFrom: '2024-01-01', annualContribution: 6000, subsidyPercent: 50, joiningFee: 500, waitingDays: 30, graceDays: 15 },
  { effectiveFrom: '2027-01-01', annualContribution: 6000, subsidyPercent: 50, joiningFee: 1000, waitingDays: 30, graceDays: 30 },
];
/** Two full-price people: 1 000 FCFA a month. */
const TWO = [
  { id: 1, name: 'A', subsidised: false, active: true },
  { id: 2, name: 'B', subsidised: false, active: true },
];

/** The coverage dates of a household that paid `months` × 1 000 FCFA on `paidOn`, as the job sees them on `today`. */
function datesAfterPaying(paidOn: string, months: number, today: string): CoverageDates {
  const cov = coverageOn({ beneficiaries: TWO, parameters: RURAL, ledger: [{ amount: months * 1000, paidOn }], today });
  return { paidThrough: cov.paidThrough, graceUntil: cov.graceUntil };
}

/** Runs the rules once a day (or on the days given) like the job: a rule already sent for its period is not sent again. */
function daily(
  rules: readonly ReminderRule[],
  dates: (day: string) => CoverageDates,
  from: string,
  to: string,
  runOn: (day: string) => boolean = () => true,
) {
  const sent = new Map<string, string>();
  for (let day = from; toDayNumber(day) <= toDayNumber(to); day = addDays(day, 1)) {
    if (!runOn(day)) continue;
    const due = dueReminder(rules, dates(day), day);
    if (due && !sent.has(`${due.rule.code}|${due.period}`)) sent.set(`${due.rule.code}|${due.period}`, day);
  }
  return [...sent].map(([key, day]) => ({ rule: key.split('|')[0], period: key.split('|')[1], sentOn: day }));
}

describe('the default rules, day by day with a fixed ledger', () => {
  it('paid through the end of February: 7 days before, the last day, a week before grace ends, 30 days after lapse', () => {
    // 1 000 FCFA on 10/01/2026 covers January; 2 000 covers January and February.
    const sends = daily(DEFAULT_RULES, (day) => datesAfterPaying('2026-01-10', 2, day), '2026-01-10', '2026-06-30');
    expect(sends).toEqual([
      { rule: 'before_end', period: '2026-02-28', sentOn: '2026-02-21' },
      { rule: 'last_day', period: '2026-02-28', sentOn: '2026-02-28' },
      // grace until 15/03, lapsed from 16/03
      { rule: 'grace', period: '2026-02-28', sentOn: '2026-03-09' },
      { rule: 'lapsed', period: '2026-02-28', sentOn: '2026-04-15' },
    ]);
  });

  it("across a leap February (30 days of grace from 2027) and across the year end (December's grace is still 15 days)", () => {
    expect(daily(DEFAULT_RULES, (day) => datesAfterPaying('2028-01-05', 2, day), '2028-01-05', '2028-05-31').map((s) => s.sentOn)).toEqual([
      '2028-02-22',
      '2028-02-29',
      '2028-03-24',
      '2028-04-30',
    ]);
    expect(daily(DEFAULT_RULES, (day) => datesAfterPaying('2026-11-02', 2, day), '2026-11-02', '2027-03-31')).toEqual([
      { rule: 'before_end', period: '2026-12-31', sentOn: '2026-12-24' },
      { rule: 'last_day', period: '2026-12-31', sentOn: '2026-12-31' },
      { rule: 'grace', period: '2026-12-31', sentOn: '2027-01-09' },
      { rule: 'lapsed', period: '2026-12-31', sentOn: '2027-02-15' },
    ]);
  });

  it('a payment that covers another month starts the rules of the new period; the old period gets nothing more', () => {
    // Paid through 28/02, then on 25/02 another 1 000 FCFA: covered through 31/03.
    const dates = (day: string) =>
      coverageOn({
        beneficiaries: TWO,
        parameters: RURAL,
        ledger: [
          { amount: 2000, paidOn: '2026-01-10' },
          { amount: 1000, paidOn: '2026-02-25' },
        ],
        today: day,
      });
    expect(daily(DEFAULT_RULES, dates, '2026-01-10', '2026-03-31')).toEqual([
      { rule: 'before_end', period: '2026-02-28', sentOn: '2026-02-21' },
      { rule: 'before_end', period: '2026-03-31', sentOn: '2026-03-24' },
      { rule: 'last_day', period: '2026-03-31', sentOn: '2026-03-31' },
    ]);
  });

  it('a rule due on or before the last payment is answered: restarting the cover on the 26th brings no "7 days before" after the receipt', () => {
    const dates = (day: string) => {
      const cov = coverageOn({ beneficiaries: TWO, parameters: RURAL, ledger: [{ amount: 1000, paidOn: '2026-03-26' }], today: day });
      return { ...cov, lastPaidOn: '2026-03-26' };
    };
    expect(daily(DEFAULT_RULES, dates, '2026-03-26', '2026-04-30').map((s) => `${s.rule} ${s.sentOn}`)).toEqual([
      'last_day 2026-03-31',
      'grace 2026-04-09',
    ]);
    expect(
      dueReminder(DEFAULT_RULES, { paidThrough: '2026-03-31', graceUntil: '2026-04-15', lastPaidOn: '2026-03-23' }, '2026-03-24'),
    ).not.toBeNull();
  });

  it('a household never covered gets no reminder', () => {
    expect(dueReminder(DEFAULT_RULES, { paidThrough: null, graceUntil: null }, '2026-03-10')).toBeNull();
  });

  it('a product with a short grace: the "during grace" rule never fires while the household is still covered', () => {
    const dates = { paidThrough: '2026-03-31', graceUntil: '2026-04-03' }; // 3 days of grace
    expect(ruleDay({ code: 'grace', anchor: 'lapse', offsetDays: -7 }, dates)).toBeNull();
    expect(daily(DEFAULT_RULES, () => dates, '2026-03-01', '2026-05-31').map((s) => `${s.rule} ${s.sentOn}`)).toEqual([
      'before_end 2026-03-24',
      'last_day 2026-03-31',
      'lapsed 2026-05-04',
    ]);
  });

  it('a missed day is caught up within CATCH_UP_DAYS, unless a later rule is due by then; later, never', () => {
    const dates = { paidThrough: '2026-03-31', graceUntil: '2026-04-15' };
    expect(dueReminder(DEFAULT_RULES, dates, '2026-03-26')).toMatchObject({ rule: { code: 'before_end' }, day: '2026-03-24' });
    expect(dueReminder(DEFAULT_RULES, dates, addDays('2026-03-24', CATCH_UP_DAYS))).toBeNull();
    expect(dueReminder(DEFAULT_RULES, dates, '2026-03-31')).toMatchObject({ rule: { code: 'last_day' } });
    // Server down from 20/03 to 02/04: the "before the end" reminder is not sent after the last day.
    expect(
      daily(
        DEFAULT_RULES,
        () => dates,
        '2026-03-01',
        '2026-04-30',
        (d) => d < '2026-03-20' || d > '2026-04-01',
      ).map((s) => s.rule),
    ).toEqual(['last_day', 'grace']);
  });
});

describe("the message follows the household's situation on the day it is sent", () => {
  it('before the end, on the last day, in grace, lapsed', () => {
    const c = { paidThrough: '2026-03-31', graceUntil: '2026-04-15' };
    expect(reminderMessage(c, '2026-03-24')).toBe('before_end');
    expect(reminderMessage(c, '2026-03-31')).toBe('last_day');
    expect(reminderMessage(c, '2026-04-01')).toBe('grace');
    expect(reminderMessage(c, '2026-04-15')).toBe('grace');
    expect(reminderMessage(c, '2026-04-16')).toBe('lapsed');
  });

  it('agrees with the coverage status for any ledger and day (property)', () => {
    const day = fc.integer({ min: toDayNumber('2025-01-01'), max: toDayNumber('2028-12-31') }).map((n) => addDays('1970-01-01', n));
    fc.assert(
      fc.property(
        fc.array(fc.record({ amount: fc.integer({ min: 1, max: 5000 }), paidOn: day }), { minLength: 1, maxLength: 6 }),
        day,
        (ledger, today) => {
          const cov = coverageOn({ beneficiaries: TWO, parameters: RURAL, ledger, today });
          if (cov.paidThrough === null || cov.graceUntil === null) return;
          const message = reminderMessage({ paidThrough: cov.paidThrough, graceUntil: cov.graceUntil }, today);
          const expected = cov.status === 'active' || cov.status === 'waiting' ? ['before_end', 'last_day'] : [cov.status];
          expect(expected).toContain(message);
        },
      ),
    );
  });
});

describe('any rules, any coverage, runs on any days (properties)', () => {
  const rule = fc.record({
    code: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
    anchor: fc.constantFrom('end' as const, 'lapse' as const),
    offsetDays: fc.integer({ min: -20, max: 40 }),
  });
  const rules = fc.uniqueArray(rule, { selector: (r) => r.code, minLength: 1, maxLength: 5 });
  const coverage = fc
    .record({
      end: fc.integer({ min: toDayNumber('2026-01-01'), max: toDayNumber('2026-12-31') }).map((n) => addDays('1970-01-01', n)),
      grace: fc.integer({ min: 0, max: 30 }),
    })
    .map(({ end, grace }) => ({ paidThrough: end, graceUntil: addDays(end, grace) }));

  it('a rule is sent at most once per period, never before its day, never CATCH_UP_DAYS or more after it', () => {
    fc.assert(
      fc.property(rules, coverage, fc.array(fc.boolean(), { minLength: 120, maxLength: 120 }), (rs, c, runs) => {
        const from = addDays(c.paidThrough, -40);
        const sends = daily(
          rs,
          () => c,
          from,
          addDays(from, 119),
          (d) => runs[toDayNumber(d) - toDayNumber(from)] as boolean,
        );
        expect(new Set(sends.map((s) => s.rule)).size).toBe(sends.length);
        for (const s of sends) {
          const day = ruleDay(rs.find((r) => r.code === s.rule) as ReminderRule, c) as string;
          const late = toDayNumber(s.sentOn) - toDayNumber(day);
          expect(late).toBeGreaterThanOrEqual(0);
          expect(late).toBeLessThan(CATCH_UP_DAYS);
        }
      }),
    );
  });

  it('run every day, each rule that fires on its own day is sent on that very day', () => {
    fc.assert(
      fc.property(rules, coverage, (rs, c) => {
        const from = addDays(c.paidThrough, -40);
        const sends = daily(rs, () => c, from, addDays(from, 119));
        const byDay = new Map<string, string>();
        for (const r of rs) {
          const day = ruleDay(r, c);
          if (day !== null && !byDay.has(day)) byDay.set(day, r.code); // the first listed wins a shared day
        }
        expect(new Map(sends.map((s) => [s.sentOn, s.rule]))).toEqual(byDay);
      }),
    );
  });
});

describe('sending hours (08:00–20:00 in Bamako)', () => {
  it('open at 08:00, closed from 20:00; at night a reminder waits for the next 08:00, across the year end', () => {
    expect(isSendingTime(new Date('2026-03-24T07:59:59Z'), HOURS)).toBe(false);
    expect(isSendingTime(new Date('2026-03-24T08:00:00Z'), HOURS)).toBe(true);
    expect(isSendingTime(new Date('2026-03-24T19:59:59Z'), HOURS)).toBe(true);
    expect(isSendingTime(new Date('2026-03-24T20:00:00Z'), HOURS)).toBe(false);
    expect(sendableFrom(new Date('2026-03-24T03:10:00Z'), HOURS).toISOString()).toBe('2026-03-24T08:00:00.000Z');
    expect(sendableFrom(new Date('2026-12-31T21:00:00Z'), HOURS).toISOString()).toBe('2027-01-01T08:00:00.000Z');
    expect(sendableFrom(new Date('2026-03-24T10:30:00Z'), HOURS).toISOString()).toBe('2026-03-24T10:30:00.000Z');
    expect(sendingCloses(new Date('2026-03-24T10:30:00Z'), HOURS).toISOString()).toBe('2026-03-24T20:00:00.000Z');
    expect(sendingCloses(new Date('2026-03-24T10:30:00Z'), { startHour: 0, endHour: 24 }).toISOString()).toBe('2026-03-25T00:00:00.000Z');
  });

  it('the hold ends at the first sending instant from then on, within a day (property)', () => {
    const hours = fc
      .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 1, max: 24 }))
      .filter(([s, e]) => s < e)
      .map(([startHour, endHour]) => ({ startHour, endHour }));
    const instant = fc
      .integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2028-12-31T23:59:59Z') })
      .map((t) => new Date(t));
    fc.assert(
      fc.property(hours, instant, (h, t) => {
        const at = sendableFrom(t, h);
        expect(at.getTime()).toBeGreaterThanOrEqual(t.getTime());
        expect(at.getTime() - t.getTime()).toBeLessThan(24 * 3600_000);
        expect(isSendingTime(at, h)).toBe(true);
        if (isSendingTime(t, h)) expect(at).toEqual(t);
        // nothing earlier would do: one second before the opening is still closed
        else expect(isSendingTime(new Date(at.getTime() - 1000), h)).toBe(false);
        expect(sendingCloses(at, h).getTime()).toBeGreaterThan(at.getTime());
      }),
    );
  });
});
