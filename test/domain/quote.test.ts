import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readDemoData } from '../../src/db/seed.ts';
import type { Beneficiary, LocalDate, Month, Payment, ProductParameters } from '../../src/domain/coverage.ts';
import { addDays, addMonths, coverageOn, dueForMonth, lastDayOfMonth, monthOf } from '../../src/domain/coverage.ts';
import { fromDayNumber, toDayNumber } from '../../src/domain/dates.ts';
import type { FeeGrid } from '../../src/domain/fees.ts';
import { feeFor, gridOn } from '../../src/domain/fees.ts';
import type { FeeBearer, QuoteHousehold } from '../../src/domain/quote.ts';
import { quoteContribution, suggestAmounts } from '../../src/domain/quote.ts';
import { readFeeGrids } from '../../src/payments/fee-grid.ts';

const GRIDS = readFeeGrids();
const TODAY = '2026-03-10'; // the transcripts' clock

// ---------------------------------------------------------------------------
// The demo households, with their payments placed relative to TODAY exactly as the seed does.

const DEMO = readDemoData();

function demoHousehold(phone: string, today: LocalDate = TODAY): QuoteHousehold {
  const h = DEMO.households.find((x) => x.phone === phone)!;
  const mutuelle = DEMO.mutuelles.find((m) => m.id === h.mutuelleId)!;
  const product = DEMO.products.find((p) => p.id === mutuelle.productId)!;
  const thisMonth = monthOf(today);
  const dayIn = (monthsAgo: number, d: number): LocalDate => {
    const month = addMonths(thisMonth, -monthsAgo);
    return `${month}-${String(Math.min(d, Number(lastDayOfMonth(month).slice(8)))).padStart(2, '0')}`;
  };
  return {
    beneficiaries: h.beneficiaries.map((b, i) => ({ id: i + 1, name: b.name, subsidised: b.subsidised, active: true })),
    parameters: product.parameters,
    ledger: h.payments.map((p) => ({ amount: p.amount, paidOn: dayIn(p.monthsAgo, p.day) })),
  };
}

/** +22376000001: 5 people, 3 subsidised, 1 750 FCFA a month; paid through 30/04/2026 with 500 FCFA of credit. */
const TRAORE = demoHousehold('+22376000001');
/** +22376000002: 4 people, 2 subsidised, 1 500 FCFA a month; lapsed since August 2025 with 1 000 FCFA of credit. */
const SANGARE = demoHousehold('+22376000002');

function quote(amount: number, household: QuoteHousehold = TRAORE, feeBearer: FeeBearer = 'member', today = TODAY) {
  return quoteContribution({ amount, feeBearer, grid: gridOn(GRIDS, today), household, today });
}

describe('the quote shown before any money moves', () => {
  it('starts from the demo household as the coverage screen shows it', () => {
    const q = quote(1250);
    expect(q.before).toMatchObject({
      status: 'active',
      paidThrough: '2026-04-30',
      credit: 500,
      nextMonth: '2026-05',
      nextMonthDue: 1750,
      remaining: 1250,
    });
  });

  it('1 250 FCFA with the 500 FCFA of credit covers May: fee 100, total 1 350, then 1 750 remain for June', () => {
    const q = quote(1250);
    expect(q).toMatchObject({
      amount: 1250,
      fee: 100,
      total: 1350,
      feeBearer: 'member',
      feeGrid: 'om-ml-2025-01',
      coveredThrough: '2026-05-31',
      remaining: 1750,
      nextMonth: '2026-06',
    });
    expect(q.after.credit).toBe(0);
  });

  it('1 000 FCFA is not enough for May: the date stays 30/04/2026 and 250 FCFA remain for May', () => {
    const q = quote(1000);
    expect(q).toMatchObject({ fee: 50, total: 1050, coveredThrough: '2026-04-30', remaining: 250, nextMonth: '2026-05' });
    expect(q.after.credit).toBe(1500);
  });

  it('4 750 FCFA covers three more months, through July', () => {
    expect(quote(4750)).toMatchObject({ fee: 100, coveredThrough: '2026-07-31', remaining: 1750, nextMonth: '2026-08' });
  });

  it('when UTM bears the fee the wallet pays just the amount; the fee is still shown', () => {
    expect(quote(1250, TRAORE, 'utm')).toMatchObject({ amount: 1250, fee: 100, total: 1250, feeBearer: 'utm' });
    expect(quote(1000, TRAORE, 'member')).toMatchObject({ total: 1050 });
    expect(quote(1000, TRAORE, 'utm')).toMatchObject({ total: 1000 });
    // the household's credit is the amount either way
    expect(quote(1000, TRAORE, 'utm').after).toEqual(quote(1000, TRAORE, 'member').after);
  });

  it('uses the fee of the grid in force that day', () => {
    const before = quote(2000, TRAORE, 'member', '2026-06-30');
    const after = quote(2000, TRAORE, 'member', '2026-07-01');
    expect([before.feeGrid, before.fee, before.total]).toEqual(['om-ml-2025-01', 100, 2100]);
    expect([after.feeGrid, after.fee, after.total]).toEqual(['om-ml-2026-07', 75, 2075]);
  });

  it('for a lapsed household: 500 FCFA restarts coverage this month, 400 FCFA leaves it lapsed with 100 to pay', () => {
    const enough = quote(500, SANGARE);
    expect(enough.before).toMatchObject({ status: 'lapsed', credit: 1000, nextMonth: '2026-03', remaining: 500 });
    expect(enough).toMatchObject({ coveredThrough: '2026-03-31', remaining: 1500, nextMonth: '2026-04' });
    expect(enough.after.status).toBe('waiting');

    const short = quote(400, SANGARE);
    expect(short.after.status).toBe('lapsed');
    // its old paid-through date (31/07/2025) is not a coverage date worth showing
    expect(short.after.paidThrough).toBe('2025-07-31');
    expect(short).toMatchObject({ coveredThrough: null, remaining: 100, nextMonth: '2026-03' });
  });

  it('refuses amounts that are not whole positive FCFA or that the grid does not price, and a grid not yet in force', () => {
    for (const bad of [0, -500, 1250.5, Number.NaN]) expect(() => quote(bad)).toThrow(RangeError);
    expect(() => quote(500_001)).toThrow(/outside the fee grid om-ml-2025-01/);
    const future = GRIDS[1]!;
    expect(() => quoteContribution({ amount: 1000, feeBearer: 'member', grid: future, household: TRAORE, today: TODAY })).toThrow(
      'fee grid om-ml-2026-07 takes effect on 2026-07-01, not yet in force on 2026-03-10',
    );
  });
});

describe('suggested amounts', () => {
  it('for the demo household ahead of its payments: May, May and June, three months, the rest of 2026', () => {
    expect(suggestAmounts({ household: TRAORE, today: TODAY })).toEqual([
      { kind: 'nextMonth', amount: 1250, month: '2026-05' },
      { kind: 'nextMonth', amount: 3000, month: '2026-06' },
      { kind: 'threeMonths', amount: 4750, month: '2026-07' },
      { kind: 'restOfYear', amount: 13_500, month: '2026-12' },
    ]);
  });

  it('for a lapsed household restart in the current month, counting its old credit; an amount that ends before care starts is not offered', () => {
    // 500 FCFA would pay March, but after the lapse care starts on 09/04 (30-day wait): it buys no care.
    expect(quote(500, SANGARE).situation.kind).toBe('waitingUnpaid');
    expect(suggestAmounts({ household: SANGARE, today: TODAY })).toEqual([
      { kind: 'nextMonth', amount: 2000, month: '2026-04' },
      { kind: 'threeMonths', amount: 3500, month: '2026-05' },
      { kind: 'restOfYear', amount: 14_000, month: '2026-12' },
    ]);
  });

  it('leave out the rest of the year when three months already reach December or beyond (a new household: its first month ends before care starts)', () => {
    const fresh = { ...TRAORE, ledger: [] };
    expect(suggestAmounts({ household: fresh, today: '2026-10-05' }).map((s) => [s.kind, s.amount, s.month])).toEqual([
      ['nextMonth', 3500, '2026-11'],
      ['threeMonths', 5250, '2026-12'],
    ]);
    expect(suggestAmounts({ household: fresh, today: '2026-11-20' }).map((s) => s.month)).toEqual(['2026-12', '2027-01']);
    expect(suggestAmounts({ household: fresh, today: '2026-09-01' }).map((s) => [s.kind, s.amount])).toEqual([
      ['nextMonth', 3500],
      ['threeMonths', 5250],
      ['restOfYear', 7000],
    ]);
  });

  it('every amount offered buys care once the waiting period is over', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 730 }), fc.constantFrom(TRAORE, SANGARE, { ...TRAORE, ledger: [] }), (offset, household) => {
        const today = fromDayNumber(toDayNumber('2026-01-01') + offset);
        for (const s of suggestAmounts({ household, today })) {
          const q = quote(s.amount, household, 'member', today);
          expect(q.situation.kind).not.toBe('waitingUnpaid');
        }
      }),
      { numRuns: 200 },
    );
  });

  it('offer nothing to a household with nobody active (its due is 0)', () => {
    const nobody = { ...TRAORE, beneficiaries: TRAORE.beneficiaries.map((b) => ({ ...b, active: false })) };
    expect(suggestAmounts({ household: nobody, today: TODAY })).toEqual([]);
  });

  it('skip the current month when old credit already pays it after a lapse, and count that credit further on', () => {
    // 1 750 FCFA a month in 2025; 3 000 FCFA paid on 10/05/2025 covered May and left 1 250 of
    // credit, then the household lapsed. From 2026 the contribution halves: 875 FCFA a month.
    const params: ProductParameters[] = [
      { effectiveFrom: '2025-01-01', annualContribution: 6000, subsidyPercent: 50, joiningFee: 0, waitingDays: 0, graceDays: 15 },
      { effectiveFrom: '2026-01-01', annualContribution: 3000, subsidyPercent: 50, joiningFee: 0, waitingDays: 0, graceDays: 15 },
    ];
    const household = { ...TRAORE, parameters: params, ledger: [{ amount: 3000, paidOn: '2025-05-10' }] };
    // The 1 250 of credit kept already pays March 2026: paying anything restarts and covers it.
    expect(coverageOn({ ...household, today: TODAY })).toMatchObject({ status: 'lapsed', credit: 1250, remaining: 0 });
    expect(suggestAmounts({ household, today: TODAY })).toEqual([
      { kind: 'nextMonth', amount: 500, month: '2026-04' },
      { kind: 'threeMonths', amount: 1375, month: '2026-05' },
      { kind: 'restOfYear', amount: 7500, month: '2026-12' },
    ]);
  });
});

// ---------------------------------------------------------------------------
// Properties, over households of any size and ledgers of any shape between 2025 and mid-2027,
// with the product of the coverage tests (7 200 FCFA a year from 15/07/2026).

const V1: ProductParameters = {
  effectiveFrom: '2025-01-01',
  annualContribution: 6000,
  subsidyPercent: 50,
  joiningFee: 500,
  waitingDays: 30,
  graceDays: 15,
};
const PRODUCT: readonly ProductParameters[] = [V1, { ...V1, effectiveFrom: '2026-07-15', annualContribution: 7200 }];

const dayArb = fc.integer({ min: 0, max: 900 }).map((n) => addDays('2025-01-01', n));
const beneficiariesArb = fc
  .array(fc.record({ subsidised: fc.boolean(), active: fc.boolean() }), { minLength: 1, maxLength: 8 })
  .map((bs): Beneficiary[] => bs.map((b, i) => ({ id: i + 1, name: `Membre ${i + 1}`, ...b, active: i === 0 || b.active })));
const ledgerArb = fc.array(
  fc.record({ amount: fc.integer({ min: 1, max: 15_000 }), paidOn: dayArb }).map((p): Payment => p),
  { maxLength: 20 },
);
const householdArb = fc
  .record({ beneficiaries: beneficiariesArb, ledger: ledgerArb })
  .map((h): QuoteHousehold => ({ ...h, parameters: PRODUCT }));
const bearerArb = fc.constantFrom<FeeBearer>('member', 'utm');
const amountArb = fc.integer({ min: 1, max: 500_000 });

/** The dues of the months from `from` to `to`, both included. */
function duesBetween(h: QuoteHousehold, from: Month, to: Month): number {
  let sum = 0;
  for (let m = from; m <= to; m = addMonths(m, 1)) sum += dueForMonth(h.beneficiaries, h.parameters, m);
  return sum;
}

describe('rules that hold for every quote', () => {
  it('the wallet pays amount + fee when the member bears the fee, just the amount when UTM does; the fee is the grid of the day', () => {
    fc.assert(
      fc.property(householdArb, dayArb, amountArb, bearerArb, (household, today, amount, feeBearer) => {
        const grid: FeeGrid = gridOn(GRIDS, today);
        const q = quoteContribution({ amount, feeBearer, grid, household, today });
        expect(q.fee).toBe(feeFor(grid, amount));
        expect(q.feeGrid).toBe(grid.version);
        expect(q.total).toBe(feeBearer === 'member' ? amount + q.fee : amount);
      }),
    );
  });

  it('a payment today never moves the paid-through date back, and every franc goes to a month or the credit', () => {
    fc.assert(
      fc.property(householdArb, dayArb, fc.integer({ min: 1, max: 40_000 }), (household, today, amount) => {
        const q = quoteContribution({ amount, feeBearer: 'member', grid: gridOn(GRIDS, today), household, today });
        fc.pre(q.before.status !== 'lapsed');
        expect(q.after.paidThrough).not.toBeNull();
        expect(q.after.paidThrough! >= q.before.paidThrough!).toBe(true);
        expect(q.coveredThrough).toBe(q.after.paidThrough);
        // the months newly covered cost exactly what the credit lost plus the amount
        const newlyPaid =
          q.after.nextMonth > q.before.nextMonth ? duesBetween(household, q.before.nextMonth, addMonths(q.after.nextMonth, -1)) : 0;
        expect(q.before.credit + amount).toBe(newlyPaid + q.after.credit);
        expect(q.remaining).toBe(q.after.remaining);
        expect(q.nextMonth).toBe(q.after.nextMonth);
      }),
      { numRuns: 300 },
    );
  });

  it('a covered date is shown exactly when the household is not lapsed after paying', () => {
    fc.assert(
      fc.property(householdArb, dayArb, fc.integer({ min: 1, max: 40_000 }), (household, today, amount) => {
        const q = quoteContribution({ amount, feeBearer: 'utm', grid: gridOn(GRIDS, today), household, today });
        expect(q.coveredThrough === null).toBe(q.after.status === 'lapsed');
        if (q.coveredThrough !== null) expect(q.coveredThrough >= lastDayOfMonth(addMonths(monthOf(today), -1))).toBe(true);
      }),
    );
  });

  it('paying a suggested amount today covers the household through the end of its month, with no credit left', () => {
    fc.assert(
      fc.property(householdArb, dayArb, (household, today) => {
        const suggestions = suggestAmounts({ household, today });
        expect(suggestions.length).toBeLessThanOrEqual(4);
        for (let i = 1; i < suggestions.length; i++) {
          expect(suggestions[i]!.amount).toBeGreaterThan(suggestions[i - 1]!.amount);
          expect(suggestions[i]!.month > suggestions[i - 1]!.month).toBe(true);
        }
        for (const s of suggestions) {
          expect(Number.isSafeInteger(s.amount) && s.amount > 0).toBe(true);
          const q = quoteContribution({ amount: s.amount, feeBearer: 'member', grid: gridOn(GRIDS, today), household, today });
          expect(q.coveredThrough).toBe(lastDayOfMonth(s.month));
          expect(q.after.credit).toBe(0);
        }
        const kinds = suggestions.map((s) => s.kind);
        if (kinds.includes('restOfYear')) expect(suggestions.at(-1)!.month).toBe(`${today.slice(0, 4)}-12`);
        const first = coverageOn({ ...household, today });
        if (suggestions[0]?.kind === 'thisMonth') expect(suggestions[0].month <= monthOf(today)).toBe(true);
        if (first.status === 'lapsed' && suggestions.length > 0) expect(suggestions[0]!.month >= monthOf(today)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
