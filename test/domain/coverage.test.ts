import dayjs from 'dayjs';
import utc from 'dayjs/plugin/utc.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Beneficiary, Coverage, LocalDate, Month, Payment, ProductParameters } from '../../src/domain/coverage.ts';
import {
  addDays,
  addMonths,
  beneficiaryStatus,
  coverageOn,
  dueForMonth,
  lastDayOfMonth,
  monthlyDue,
  monthlyShare,
  monthOf,
  parametersForMonth,
  parametersOn,
} from '../../src/domain/coverage.ts';
import { daysBetween, isLocalDate } from '../../src/domain/dates.ts';

dayjs.extend(utc);

// ---------------------------------------------------------------------------
// The product used throughout: 6 000 FCFA a year, the state pays half for the
// subsidised, 500 FCFA to join, 30 days of waiting, 15 days of grace. From
// 15/07/2026 the contribution rises to 7 200 FCFA a year: being mid-month, the new
// amount applies from August.

const V1: ProductParameters = {
  effectiveFrom: '2025-01-01',
  annualContribution: 6000,
  subsidyPercent: 50,
  joiningFee: 500,
  waitingDays: 30,
  graceDays: 15,
};
const V2: ProductParameters = { ...V1, effectiveFrom: '2026-07-15', annualContribution: 7200, joiningFee: 1000 };
const PRODUCT: readonly ProductParameters[] = [V1, V2];

function person(id: number, subsidised: boolean, active = true): Beneficiary {
  return { id, name: `Membre ${id}`, subsidised, active };
}

/** Five people, three of them subsidised: 3 x 250 + 2 x 500 = 1 750 FCFA a month (2 100 from August 2026). */
const FAMILY: readonly Beneficiary[] = [person(1, false), person(2, false), person(3, true), person(4, true), person(5, true)];

function pay(amount: number, paidOn: LocalDate): Payment {
  return { amount, paidOn };
}

function coverage(ledger: readonly Payment[], today: LocalDate, beneficiaries = FAMILY, parameters = PRODUCT): Coverage {
  return coverageOn({ beneficiaries, parameters, ledger, today });
}

// ---------------------------------------------------------------------------

describe('what a household owes', () => {
  it('a full-paying person owes 500 FCFA a month and a subsidised person 250 FCFA', () => {
    expect(monthlyShare(V1, false)).toBe(500);
    expect(monthlyShare(V1, true)).toBe(250);
  });

  it('a household of five with three subsidised members owes 1 750 FCFA a month', () => {
    expect(monthlyDue(FAMILY, V1)).toBe(1750);
  });

  it('inactive beneficiaries are not charged and show as inactive', () => {
    const family = [person(1, false), person(2, true), person(3, false, false), person(4, true, false)];
    expect(monthlyDue(family, V1)).toBe(750);
    const c = coverage([pay(750, '2026-03-10')], '2026-03-10', family);
    expect(c.paidThrough).toBe('2026-03-31');
    expect(c.credit).toBe(0);
    expect(beneficiaryStatus(family[0]!, c)).toBe('waiting');
    expect(beneficiaryStatus(family[2]!, c)).toBe('inactive');
  });

  it('shares are rounded to the franc (5 000 FCFA a year is 417 FCFA a month, 208 subsidised)', () => {
    const p = { ...V1, annualContribution: 5000 };
    expect(monthlyShare(p, false)).toBe(417);
    expect(monthlyShare(p, true)).toBe(208);
    expect(monthlyShare({ ...V1, subsidyPercent: 100 }, true)).toBe(0);
  });

  it('a new contribution applies from the first month that starts after it takes effect', () => {
    expect(parametersOn(PRODUCT, '2026-07-14')).toBe(V1);
    expect(parametersOn(PRODUCT, '2026-07-15')).toBe(V2);
    expect(parametersForMonth(PRODUCT, '2026-07')).toBe(V1);
    expect(parametersForMonth(PRODUCT, '2026-08')).toBe(V2);
    expect(dueForMonth(FAMILY, PRODUCT, '2026-07')).toBe(1750);
    expect(dueForMonth(FAMILY, PRODUCT, '2026-08')).toBe(2100);
    // a version effective on the 1st applies to that very month
    const onTheFirst = [V1, { ...V2, effectiveFrom: '2026-08-01' }];
    expect(dueForMonth(FAMILY, onTheFirst, '2026-07')).toBe(1750);
    expect(dueForMonth(FAMILY, onTheFirst, '2026-08')).toBe(2100);
  });

  it('the versions may be listed in any order', () => {
    expect(parametersOn([V2, V1], '2026-08-01')).toBe(V2);
    expect(parametersOn([V2, V1], '2026-01-01')).toBe(V1);
  });

  it('a day before the product existed has no parameters, and says so', () => {
    expect(() => parametersOn(PRODUCT, '2024-12-31')).toThrow(/no product parameters in force on 2024-12-31/);
    expect(() => parametersOn([], '2026-01-01')).toThrow(/no product parameters/);
  });

  it('a product starting mid-month charges that month with its first version', () => {
    const late = [{ ...V1, effectiveFrom: '2026-03-15' }];
    expect(dueForMonth(FAMILY, late, '2026-03')).toBe(1750);
    const c = coverage([pay(1750, '2026-03-10')], '2026-03-10', FAMILY, late);
    expect(c.paidThrough).toBe('2026-03-31');
    expect(() => coverage([pay(1750, '2026-02-10')], '2026-03-10', FAMILY, late)).toThrow(/2026-02-01/);
  });

  it('bad parameters are refused with a clear message', () => {
    expect(() => parametersOn([{ ...V1, subsidyPercent: 120 }], '2026-01-01')).toThrow(/subsidyPercent/);
    expect(() => parametersOn([{ ...V1, graceDays: -1 }], '2026-01-01')).toThrow(/graceDays/);
    expect(() => parametersOn([{ ...V1, effectiveFrom: '2026-02-30' }], '2026-03-01')).toThrow(/invalid date/);
  });
});

describe('paying and being covered', () => {
  it('4 000 FCFA paid on 10/03/2026 covers March and April and leaves 500 FCFA of credit', () => {
    const c = coverage([pay(4000, '2026-03-10')], '2026-03-10');
    expect(c).toEqual({
      status: 'waiting',
      paidThrough: '2026-04-30',
      episodeStart: '2026-03-10',
      waitingUntil: '2026-04-08',
      graceUntil: '2026-05-15',
      credit: 500,
      nextMonth: '2026-05',
      nextMonthDue: 1750,
      remaining: 1250,
    });
  });

  it('a household that never paid is not covered and owes the current month', () => {
    const c = coverage([], '2026-03-10');
    expect(c).toMatchObject({ status: 'lapsed', paidThrough: null, graceUntil: null, episodeStart: null });
    expect(c).toMatchObject({ credit: 0, nextMonth: '2026-03', nextMonthDue: 1750, remaining: 1750 });
  });

  it('small payments add up: 1 000 then 750 FCFA in March cover March', () => {
    const first = coverage([pay(1000, '2026-03-05')], '2026-03-05');
    expect(first).toMatchObject({ status: 'lapsed', paidThrough: null, credit: 1000, nextMonth: '2026-03', remaining: 750 });
    const second = coverage([pay(1000, '2026-03-05'), pay(750, '2026-03-20')], '2026-03-20');
    expect(second).toMatchObject({ status: 'waiting', paidThrough: '2026-03-31', credit: 0, remaining: 1750 });
    // the waiting period runs from the payment that brought the coverage
    expect(second.episodeStart).toBe('2026-03-20');
    expect(second.nextMonth).toBe('2026-04');
  });

  it('what remains to pay for next month takes the credit into account', () => {
    const c = coverage([pay(1750, '2026-03-01'), pay(1000, '2026-03-25')], '2026-03-25');
    expect(c).toMatchObject({ paidThrough: '2026-03-31', credit: 1000, nextMonth: '2026-04', nextMonthDue: 1750, remaining: 750 });
  });

  it('care is covered from the day after the 30-day waiting period', () => {
    const ledger = [pay(4000, '2026-03-10')];
    expect(coverage(ledger, '2026-04-08').status).toBe('waiting');
    expect(coverage(ledger, '2026-04-09').status).toBe('active');
  });

  it('the last day of grace is still grace, the next day the household has lapsed', () => {
    const ledger = [pay(4000, '2026-03-10')]; // paid through 30/04/2026
    expect(coverage(ledger, '2026-04-30').status).toBe('active');
    expect(coverage(ledger, '2026-05-01').status).toBe('grace');
    expect(coverage(ledger, '2026-05-15')).toMatchObject({ status: 'grace', graceUntil: '2026-05-15', nextMonth: '2026-05' });
    const lapsed = coverage(ledger, '2026-05-16');
    expect(lapsed).toMatchObject({ status: 'lapsed', paidThrough: '2026-04-30', credit: 500 });
    // coverage would restart now: the current month is what is owed, less the credit kept
    expect(lapsed).toMatchObject({ nextMonth: '2026-05', nextMonthDue: 1750, remaining: 1250 });
  });

  it('paying during grace catches up the month in grace and keeps the same episode', () => {
    const c = coverage([pay(4000, '2026-03-10'), pay(1250, '2026-05-15')], '2026-05-15');
    expect(c).toMatchObject({
      status: 'active',
      paidThrough: '2026-05-31',
      episodeStart: '2026-03-10',
      credit: 0,
      nextMonth: '2026-06',
    });
  });

  it('after a lapse, coverage restarts at the month of payment: missed months are not charged, old credit is kept', () => {
    // paid through April with 500 FCFA left; nothing in May; pays 1 250 FCFA on 03/06/2026
    const c = coverage([pay(4000, '2026-03-10'), pay(1250, '2026-06-03')], '2026-06-03');
    expect(c).toMatchObject({
      status: 'waiting',
      paidThrough: '2026-06-30',
      episodeStart: '2026-06-03',
      waitingUntil: '2026-07-02',
      credit: 0,
      nextMonth: '2026-07',
    });
  });

  it('a partial payment after a lapse keeps the household lapsed until the month is paid', () => {
    const c = coverage([pay(4000, '2026-03-10'), pay(500, '2026-06-03')], '2026-06-20');
    expect(c).toMatchObject({ status: 'lapsed', paidThrough: '2026-04-30', episodeStart: '2026-03-10', credit: 1000 });
    expect(c).toMatchObject({ nextMonth: '2026-06', remaining: 750 });
  });

  it('a month bought and then lost to a lapse is not refunded', () => {
    // Awa pays 1 750 in January (January covered) then 1 000 on 20/02 after her grace:
    // February restarts from 1 000. Binta pays 1 000 in January (never covered) then
    // 1 000 on 20/02: her 2 000 cover February. Awa paid more, was covered in January,
    // yet is the one without February.
    const awa = coverage([pay(1750, '2026-01-05'), pay(1000, '2026-02-20')], '2026-02-20');
    const binta = coverage([pay(1000, '2026-01-05'), pay(1000, '2026-02-20')], '2026-02-20');
    expect(awa).toMatchObject({ status: 'lapsed', paidThrough: '2026-01-31', credit: 1000, remaining: 750 });
    expect(binta).toMatchObject({ status: 'waiting', paidThrough: '2026-02-28', credit: 250 });
  });

  it('July is charged at the old rate and August at the new one', () => {
    const c = coverage([pay(1750 + 2100 + 100, '2026-07-01')], '2026-07-01');
    expect(c).toMatchObject({ paidThrough: '2026-08-31', credit: 100, nextMonth: '2026-09', nextMonthDue: 2100, remaining: 2000 });
    const onlyJuly = coverage([pay(1750 + 2000, '2026-07-01')], '2026-07-01');
    expect(onlyJuly).toMatchObject({ paidThrough: '2026-07-31', credit: 2000, nextMonthDue: 2100, remaining: 100 });
  });

  it('one large payment covers many months at once, across a change of contribution', () => {
    // February to July 2026 at 1 750, then 2 100 a month
    const c = coverage([pay(6 * 1750 + 10 * 2100 + 5, '2026-02-14')], '2026-02-14');
    expect(c).toMatchObject({ paidThrough: '2027-05-31', credit: 5 });
  });

  it('a household with nobody active never gets covered, its payments stay as credit', () => {
    const nobody = [person(1, false, false)];
    const c = coverage([pay(3000, '2026-03-10'), pay(2000, '2026-04-10')], '2026-04-10', nobody);
    expect(c).toMatchObject({ status: 'lapsed', paidThrough: null, credit: 5000, nextMonthDue: 0, remaining: 0 });
  });

  it('payments dated after today do not count yet', () => {
    const c = coverage([pay(1750, '2026-03-10'), pay(1750, '2026-03-11')], '2026-03-10');
    expect(c).toMatchObject({ paidThrough: '2026-03-31', credit: 0 });
  });

  it('a payment of nothing, a negative or a fractional amount is refused', () => {
    expect(() => coverage([pay(0, '2026-03-10')], '2026-03-10')).toThrow(/invalid payment/);
    expect(() => coverage([pay(-5, '2026-03-10')], '2026-03-10')).toThrow(/invalid payment/);
    expect(() => coverage([pay(12.5, '2026-03-10')], '2026-03-10')).toThrow(/invalid payment/);
  });

  it('without a waiting period, coverage is active from the first day', () => {
    const c = coverage([pay(1750, '2026-03-10')], '2026-03-10', FAMILY, [{ ...V1, waitingDays: 0 }]);
    expect(c).toMatchObject({ status: 'active', waitingUntil: null });
  });

  it('a change of grace applies to the months paid under it, and the screen and the restart agree', () => {
    const shorter = [V1, { ...V1, effectiveFrom: '2026-05-01', graceDays: 5 }];
    // April paid under 15 days of grace: still grace on 10/05 although 5 days apply from May
    const april = [pay(1750, '2026-04-01')];
    expect(coverage(april, '2026-05-10', FAMILY, shorter)).toMatchObject({ status: 'grace', graceUntil: '2026-05-15' });
    // and a payment that day continues the episode
    const caughtUp = coverage([...april, pay(1750, '2026-05-10')], '2026-05-10', FAMILY, shorter);
    expect(caughtUp).toMatchObject({ paidThrough: '2026-05-31', episodeStart: '2026-04-01', graceUntil: '2026-06-05' });
  });

  it('a year of payments computes in well under a millisecond', () => {
    const ledger: Payment[] = [];
    for (let i = 0; i < 365; i++) ledger.push(pay(60 + (i % 7) * 10, addDays('2026-01-01', i)));
    const runs = 2000;
    const start = performance.now();
    let last: Coverage | undefined;
    for (let i = 0; i < runs; i++) last = coverage(ledger, '2026-12-31');
    const perCall = (performance.now() - start) / runs;
    expect(last!.status).not.toBe('lapsed');
    expect(perCall).toBeLessThan(1);
  });
});

describe('calendar helpers', () => {
  it('count months and days like a calendar', () => {
    expect(addMonths('2026-11', 3)).toBe('2027-02');
    expect(addMonths('2026-01', -1)).toBe('2025-12');
    expect(lastDayOfMonth('2028-02')).toBe('2028-02-29');
    expect(lastDayOfMonth('2100-02')).toBe('2100-02-28');
    expect(lastDayOfMonth('2026-04')).toBe('2026-04-30');
    expect(monthOf('2026-03-10')).toBe('2026-03');
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31');
    expect(() => monthOf('2026-13-01')).toThrow(/invalid date/);
    expect(() => addMonths('2026-3', 1)).toThrow(/invalid month/);
    expect(isLocalDate('2026-02-29')).toBe(false);
  });

  it('agree with dayjs on any day between 1900 and 2200', () => {
    fc.assert(
      fc.property(fc.integer({ min: -25_567, max: 84_000 }), fc.integer({ min: -40_000, max: 40_000 }), (n, k) => {
        const d = dayjs.utc('1970-01-01').add(n, 'day');
        const day = d.format('YYYY-MM-DD');
        expect(addDays(day, k)).toBe(d.add(k, 'day').format('YYYY-MM-DD'));
        expect(daysBetween(day, addDays(day, k))).toBe(k);
        expect(lastDayOfMonth(monthOf(day))).toBe(d.endOf('month').format('YYYY-MM-DD'));
        expect(addMonths(monthOf(day), k % 1200)).toBe(
          d
            .startOf('month')
            .add(k % 1200, 'month')
            .format('YYYY-MM'),
        );
      }),
    );
  });
});

// ---------------------------------------------------------------------------
// Properties

const FIRST_DAY = '2025-01-01';
const SPAN_DAYS = 4 * 365; // 2025 to 2028, across the change of 15/07/2026

const dayArb = fc.integer({ min: 0, max: SPAN_DAYS }).map((n) => addDays(FIRST_DAY, n));
const monthArb = fc.integer({ min: 0, max: 47 }).map((n) => addMonths('2025-01', n));
const beneficiaryArb = fc.record({ subsidised: fc.boolean(), active: fc.boolean() });
const householdArb = fc
  .array(beneficiaryArb, { minLength: 0, maxLength: 8 })
  .map((bs) => bs.map((b, i) => ({ id: i + 1, name: `Membre ${i + 1}`, ...b })));
/** At least one active person, so that there is something to pay. */
const payingHouseholdArb = fc
  .tuple(fc.boolean(), householdArb)
  .map(([subsidised, bs]) => [{ id: 99, name: 'Chef de ménage', subsidised, active: true }, ...bs]);
const amountArb = fc.integer({ min: 1, max: 12_000 });
const paymentArb = fc.record({ amount: amountArb, paidOn: dayArb });
const ledgerArb = fc.array(paymentArb, { maxLength: 25 });

function sumOfDues(bs: readonly Beneficiary[], from: Month, to: Month): number {
  let sum = 0;
  for (let m = from; m <= to; m = addMonths(m, 1)) sum += dueForMonth(bs, PRODUCT, m);
  return sum;
}

/** Splits `total` into `parts.length` positive amounts in proportion to the weights (total >= parts). */
function split(total: number, weights: readonly number[]): number[] {
  const n = Math.min(weights.length, total);
  const w = weights.slice(0, n);
  const sum = w.reduce((a, b) => a + b, 0);
  const out = w.map((x) => 1 + Math.floor(((total - n) * x) / sum));
  out[0]! += total - out.reduce((a, b) => a + b, 0);
  return out;
}

/**
 * A ledger that stays in one coverage episode: the first payment covers at least its
 * month, and each later payment is made on a day the household is not lapsed.
 */
const oneEpisodeArb = fc
  .record({
    household: payingHouseholdArb,
    start: dayArb,
    extraFirst: fc.integer({ min: 0, max: 20_000 }),
    later: fc.array(fc.record({ gap: fc.integer({ min: 0, max: 45 }), amount: amountArb }), { maxLength: 20 }),
    after: fc.integer({ min: 0, max: 90 }),
  })
  .map(({ household, start, extraFirst, later, after }) => {
    const ledger = [pay(dueForMonth(household, PRODUCT, monthOf(start)) + extraFirst, start)];
    let day = start;
    for (const { gap, amount } of later) {
      day = addDays(day, gap);
      if (coverage(ledger, day, household).status === 'lapsed') break;
      ledger.push(pay(amount, day));
    }
    return { household, ledger, today: addDays(day, after) };
  });

describe('rules that hold for every household', () => {
  it('paying the same total in one go or in pieces within a month gives the same coverage and credit', () => {
    fc.assert(
      fc.property(
        payingHouseholdArb,
        monthArb,
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.array(fc.record({ weight: fc.integer({ min: 1, max: 100 }), day: fc.integer({ min: 0, max: 27 }) }), {
          minLength: 1,
          maxLength: 10,
        }),
        (household, month, k, extraRaw, pieces) => {
          // the dues of k months from that month, plus less than the month after
          const extra = extraRaw % dueForMonth(household, PRODUCT, addMonths(month, k));
          const total = (k > 0 ? sumOfDues(household, month, addMonths(month, k - 1)) : 0) + extra;
          fc.pre(total > 0);
          const amounts = split(
            total,
            pieces.map((p) => p.weight),
          );
          const days = pieces.map((p) => addDays(`${month}-01`, p.day));
          const lastDay = days.slice(0, amounts.length).sort().at(-1)!;
          const inPieces = coverage(
            amounts.map((a, i) => pay(a, days[i]!)),
            lastDay,
            household,
          );
          const atOnce = coverage([pay(total, lastDay)], lastDay, household);
          expect(inPieces.paidThrough).toBe(atOnce.paidThrough);
          expect(inPieces.credit).toBe(atOnce.credit);
          expect(atOnce.paidThrough).toBe(k > 0 ? lastDayOfMonth(addMonths(month, k - 1)) : null);
          expect(atOnce.credit).toBe(extra);
        },
      ),
    );
  });

  it('paying more, later, never moves the paid-through date back', () => {
    fc.assert(
      fc.property(householdArb, ledgerArb, fc.integer({ min: 0, max: 120 }), amountArb, (household, ledger, gap, amount) => {
        // biome-ignore lint/complexity/useMathMinMax: days are YYYY-MM-DD strings, compared as text.
        const latest = ledger.reduce<LocalDate>((d, p) => (p.paidOn > d ? p.paidOn : d), FIRST_DAY);
        const day = addDays(latest, gap);
        const before = coverage(ledger, day, household);
        const after = coverage([...ledger, pay(amount, day)], day, household);
        expect((after.paidThrough ?? '') >= (before.paidThrough ?? '')).toBe(true);
      }),
    );
  });

  it('within one episode, paying more on any day never moves the paid-through date back', () => {
    fc.assert(
      fc.property(oneEpisodeArb, fc.nat(), amountArb, ({ household, ledger, today }, which, more) => {
        const i = which % ledger.length;
        const richer = ledger.map((p, j) => (j === i ? pay(p.amount + more, p.paidOn) : p));
        const before = coverage(ledger, today, household);
        const after = coverage(richer, today, household);
        expect(after.paidThrough! >= before.paidThrough!).toBe(true);
      }),
    );
  });

  it('within one episode, everything paid is either in covered months or in the credit', () => {
    fc.assert(
      fc.property(oneEpisodeArb, ({ household, ledger, today }) => {
        const c = coverage(ledger, today, household);
        const paid = ledger.reduce((s, p) => s + p.amount, 0);
        expect(c.episodeStart).toBe(ledger[0]!.paidOn);
        expect(paid).toBe(sumOfDues(household, monthOf(c.episodeStart!), monthOf(c.paidThrough!)) + c.credit);
      }),
    );
  });

  it('the status always agrees with the dates shown to the member', () => {
    fc.assert(
      fc.property(householdArb, ledgerArb, dayArb, (household, ledger, today) => {
        const c = coverage(ledger, today, household);
        expect(c.credit).toBeGreaterThanOrEqual(0);
        expect(c.remaining).toBe(Math.max(0, c.nextMonthDue - c.credit));
        expect(c.nextMonthDue).toBe(dueForMonth(household, PRODUCT, c.nextMonth));
        if (c.paidThrough === null) {
          expect(c.status).toBe('lapsed');
          expect(c).toMatchObject({ graceUntil: null, episodeStart: null, waitingUntil: null, nextMonth: monthOf(today) });
          return;
        }
        expect(c.graceUntil).toBe(addDays(c.paidThrough, 15));
        expect(c.waitingUntil).toBe(addDays(c.episodeStart!, 29));
        expect(c.episodeStart! <= today && c.episodeStart! <= c.paidThrough).toBe(true);
        if (today <= c.paidThrough) {
          expect(c.status).toBe(today <= c.waitingUntil! ? 'waiting' : 'active');
        } else if (today <= c.graceUntil!) {
          expect(c.status).toBe('grace');
        } else {
          expect(c.status).toBe('lapsed');
        }
        if (c.status === 'lapsed') {
          expect(c.nextMonth).toBe(monthOf(today));
        } else {
          expect(c.nextMonth).toBe(addMonths(monthOf(c.paidThrough), 1));
          expect(c.credit).toBeLessThan(c.nextMonthDue); // otherwise that month would be covered
        }
        for (const b of household) expect(beneficiaryStatus(b, c)).toBe(b.active ? c.status : 'inactive');
      }),
    );
  });

  it('a payment made while in grace continues the episode; one made after a lapse starts a new one', () => {
    fc.assert(
      fc.property(payingHouseholdArb, ledgerArb, dayArb, amountArb, (household, ledger, day, amount) => {
        const earlier = ledger.filter((p) => p.paidOn <= day);
        const before = coverage(earlier, day, household);
        const after = coverage([...earlier, pay(amount, day)], day, household);
        if (before.status === 'lapsed') {
          const covers = before.credit + amount >= dueForMonth(household, PRODUCT, monthOf(day));
          expect(after.episodeStart).toBe(covers ? day : before.episodeStart);
          if (covers) expect(after.paidThrough! >= lastDayOfMonth(monthOf(day))).toBe(true);
        } else {
          expect(after.episodeStart).toBe(before.episodeStart);
          expect(after.paidThrough! >= before.paidThrough!).toBe(true);
        }
      }),
    );
  });

  it('the order in which payments are listed does not matter', () => {
    fc.assert(
      fc.property(
        householdArb,
        ledgerArb.chain((l) => fc.tuple(fc.constant(l), fc.shuffledSubarray(l, { minLength: l.length }))),
        dayArb,
        (household, [ledger, shuffled], today) => {
          expect(coverage(shuffled, today, household)).toEqual(coverage(ledger, today, household));
        },
      ),
    );
  });

  it('agrees with a plain month-by-month reading of the rules', () => {
    fc.assert(
      fc.property(householdArb, ledgerArb, dayArb, (household, ledger, today) => {
        expect(coverage(ledger, today, household)).toEqual(plainReading(household, ledger, today));
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * The rules read literally, one month at a time, with dayjs for the dates: an
 * independent oracle for coverageOn (which jumps over months and uses day numbers).
 * Grace and waiting days are those of V1 and V2 (both 15 and 30).
 */
function plainReading(household: readonly Beneficiary[], ledger: readonly Payment[], today: LocalDate): Coverage {
  const d = (s: string) => dayjs.utc(s);
  const fmt = (x: dayjs.Dayjs) => x.format('YYYY-MM-DD');
  const dueOf = (month: string) => monthlyDue(household, d(`${month}-01`).isBefore(d('2026-07-15')) ? V1 : V2);
  const payments = ledger.filter((p) => p.paidOn <= today).sort((a, b) => (a.paidOn < b.paidOn ? -1 : a.paidOn > b.paidOn ? 1 : 0));
  let credit = 0;
  let paidThrough: string | null = null;
  let episodeStart: string | null = null;
  let pending: string | null = null;
  let next = '';
  for (const p of payments) {
    const graceUntil: string | null = paidThrough === null ? null : fmt(d(paidThrough).add(15, 'day'));
    if (graceUntil === null || p.paidOn > graceUntil) {
      pending = p.paidOn;
      next = p.paidOn.slice(0, 7);
    }
    credit += p.amount;
    while (dueOf(next) > 0 && credit >= dueOf(next)) {
      credit -= dueOf(next);
      paidThrough = fmt(d(`${next}-01`).endOf('month'));
      next = d(`${next}-01`).add(1, 'month').format('YYYY-MM');
      if (pending !== null) {
        episodeStart = pending;
        pending = null;
      }
    }
  }
  const graceUntil = paidThrough === null ? null : fmt(d(paidThrough).add(15, 'day'));
  const waitingUntil = episodeStart === null ? null : fmt(d(episodeStart).add(29, 'day'));
  const status =
    paidThrough === null || today > graceUntil!
      ? 'lapsed'
      : today <= paidThrough
        ? today <= waitingUntil!
          ? 'waiting'
          : 'active'
        : 'grace';
  const nextMonth = status === 'lapsed' ? today.slice(0, 7) : d(paidThrough!).add(1, 'day').format('YYYY-MM');
  return {
    status,
    paidThrough,
    episodeStart,
    waitingUntil,
    graceUntil,
    credit,
    nextMonth,
    nextMonthDue: dueOf(nextMonth),
    remaining: Math.max(0, dueOf(nextMonth) - credit),
  };
}
