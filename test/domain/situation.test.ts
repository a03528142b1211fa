/**
 * What a member is told about the coverage (issue 15: "say only what is true"): one situation, with
 * the date that matters, for the coverage screen, the SOLDE answer, the quote and the receipt. The
 * word "covered" is never used while the household is in its waiting period, and a promise ("pay X
 * before D: care covered from F") is checked against the coverage rules themselves.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAmount } from '../../flows/contribute.ts';
import type { Beneficiary, LocalDate, Payment, ProductParameters, Situation } from '../../src/domain/coverage.ts';
import { addDays, coverageOn, dueForMonth, situationOf } from '../../src/domain/coverage.ts';
import { daysBetween } from '../../src/domain/dates.ts';
import type { FeeGrid } from '../../src/domain/fees.ts';
import { maskName } from '../../src/domain/names.ts';
import { paymentEffect, quoteContribution } from '../../src/domain/quote.ts';

/** 6 000 FCFA a year, half for the subsidised; 30 days of waiting, 15 of grace (the demo's rural product). */
const RURAL: ProductParameters = {
  effectiveFrom: '2025-01-01',
  annualContribution: 6000,
  subsidyPercent: 50,
  joiningFee: 500,
  waitingDays: 30,
  graceDays: 15,
};
/** 60 days of waiting: the waiting period outlasts a month's cover and its grace. */
const URBAN: ProductParameters = { ...RURAL, annualContribution: 6600, subsidyPercent: 0, waitingDays: 60 };
const person = (id: number, subsidised: boolean): Beneficiary => ({ id, name: `Membre ${id}`, subsidised, active: true });
/** 2 x 500 + 2 x 250 = 1 500 FCFA a month under RURAL (Aminata's household in the demo). */
const FOUR = [person(1, false), person(2, false), person(3, true), person(4, true)];
const GRID: FeeGrid = { version: 'test', effectiveFrom: '2025-01-01', bands: [{ min: 1, max: 1_000_000, fee: 50 }] } as unknown as FeeGrid;

function situation(ledger: Payment[], today: LocalDate, params: ProductParameters = RURAL, family: Beneficiary[] = FOUR): Situation {
  const cov = coverageOn({ beneficiaries: family, parameters: [params], ledger, today });
  return situationOf(cov, today, (m) => dueForMonth(family, [params], m));
}

/** Paid for 2025 (ending 31/07/2025, long lapsed by March 2026): Aminata's situation in the demo, with 1 000 FCFA of credit. */
const LAPSED: Payment[] = [
  { amount: 1500, paidOn: '2025-06-10' },
  { amount: 1500, paidOn: '2025-07-12' },
  { amount: 1000, paidOn: '2025-08-08' },
];

describe('one situation per coverage, with the date that matters', () => {
  it('covered: "covered until" the paid-through date', () => {
    expect(situation([{ amount: 4500, paidOn: '2025-01-05' }], '2025-03-10')).toMatchObject({
      kind: 'active',
      until: '2025-03-31',
      from: null,
      by: null,
    });
  });

  it('never paid: not covered, what the current month costs', () => {
    expect(situation([], '2026-03-10')).toMatchObject({ kind: 'never', until: null, toPay: 1500, month: '2026-03' });
  });

  it('lapsed: not covered, the day cover ended, what restarts it (the old credit counts)', () => {
    expect(situation(LAPSED, '2026-03-10')).toMatchObject({ kind: 'lapsed', until: '2025-07-31', toPay: 500, month: '2026-03' });
  });

  it('grace: cover ended on the paid-through date; pay before the day after grace to keep it', () => {
    expect(situation([{ amount: 4500, paidOn: '2025-01-05' }], '2025-04-10')).toMatchObject({
      kind: 'grace',
      until: '2025-03-31',
      by: '2025-04-16',
      toPay: 1500,
      month: '2025-04',
    });
  });

  it('waiting, paid beyond it: not yet covered, care covered from the day after the waiting period', () => {
    // Restarted on 10/03/2026 with 3 500 FCFA (+1 000 credit): paid through 31/05, waiting through 08/04.
    expect(situation([...LAPSED, { amount: 3500, paidOn: '2026-03-10' }], '2026-03-20')).toMatchObject({
      kind: 'waiting',
      from: '2026-04-09',
      until: '2026-05-31',
      toPay: 1500,
      month: '2026-06',
    });
  });

  it('waiting, and the paid months end first: care covered from that day only if the next month is paid before it', () => {
    // 500 FCFA restarts March only (paid through 31/03), the waiting period runs to 08/04.
    expect(situation([...LAPSED, { amount: 500, paidOn: '2026-03-10' }], '2026-03-10')).toMatchObject({
      kind: 'waitingUnpaid',
      from: '2026-04-09',
      by: '2026-04-09',
      toPay: 1500,
      month: '2026-04',
      until: '2026-03-31',
    });
  });

  it('in grace but still waiting: "not covered, pay before" rather than "cover ended"', () => {
    expect(situation([...LAPSED, { amount: 500, paidOn: '2026-03-10' }], '2026-04-03')).toMatchObject({
      kind: 'waitingUnpaid',
      from: '2026-04-09',
      by: '2026-04-09',
    });
  });

  it('a 60-day waiting period outlasting the grace: pay before grace ends, for every month up to the first day of care', () => {
    const family = [person(1, false)]; // 550 FCFA a month
    const s = situation([{ amount: 550, paidOn: '2026-03-01' }], '2026-03-05', URBAN, family);
    // Waiting 01/03 → 29/04, care from 30/04; paid through 31/03, grace to 15/04: April must be paid by then.
    expect(s).toMatchObject({ kind: 'waitingUnpaid', from: '2026-04-30', by: '2026-04-16', toPay: 550, month: '2026-04' });
  });
});

// ---------------------------------------------------------------------------
// Properties, on random households, ledgers and days.

const dayArb = fc.integer({ min: 0, max: 900 }).map((n) => addDays('2025-01-01', n));
const paramsArb = fc
  .record({ waitingDays: fc.constantFrom(0, 15, 30, 60, 90), graceDays: fc.constantFrom(0, 15, 30) })
  .map((p) => ({ ...RURAL, ...p }));
const ledgerArb = fc.array(fc.record({ amount: fc.integer({ min: 100, max: 8000 }), paidOn: dayArb }), { maxLength: 12 });

describe('what is said is true, for every household', () => {
  it('"covered" only when care is covered on that day: never within a waiting period, never past the paid months', () => {
    fc.assert(
      fc.property(ledgerArb, dayArb, paramsArb, (ledger, today, params) => {
        const cov = coverageOn({ beneficiaries: FOUR, parameters: [params], ledger, today });
        const s = situation(ledger, today, params);
        if (s.kind === 'active') {
          expect(cov.waitingUntil === null || daysBetween(cov.waitingUntil, today) > 0).toBe(true);
          expect(daysBetween(today, s.until as LocalDate)).toBeGreaterThanOrEqual(0);
        }
        if (s.kind === 'waiting' || s.kind === 'waitingUnpaid') {
          // Not covered today, and the first day of care is after today.
          expect(daysBetween(today, s.from as LocalDate)).toBeGreaterThan(0);
        }
        if (s.kind === 'waiting') expect(daysBetween(s.from as LocalDate, s.until as LocalDate)).toBeGreaterThanOrEqual(0);
        if (s.kind === 'grace') expect(daysBetween(s.until as LocalDate, today)).toBeGreaterThan(0);
      }),
      { numRuns: 400 },
    );
  });

  it('"pay X before D: care covered from F" holds: paying X on the last day before D makes the household covered on F', () => {
    fc.assert(
      fc.property(ledgerArb, dayArb, paramsArb, (ledger, today, params) => {
        const s = situation(ledger, today, params);
        if (s.kind !== 'waitingUnpaid') return;
        const lastDay = addDays(s.by as LocalDate, -1);
        const paid = [...ledger, { amount: Math.max(1, s.toPay), paidOn: daysBetween(today, lastDay) >= 0 ? lastDay : today }];
        const on = coverageOn({ beneficiaries: FOUR, parameters: [params], ledger: paid, today: s.from as LocalDate });
        expect(on.status).toBe('active');
      }),
      { numRuns: 400 },
    );
  });

  it('grace: paying what remains on the last day before "by" keeps the cover (no restart, no new waiting period)', () => {
    fc.assert(
      fc.property(ledgerArb, dayArb, paramsArb, (ledger, today, params) => {
        const s = situation(ledger, today, params);
        if (s.kind !== 'grace') return;
        const lastDay = addDays(s.by as LocalDate, -1);
        const paid = [...ledger, { amount: s.toPay, paidOn: lastDay }];
        const before = coverageOn({ beneficiaries: FOUR, parameters: [params], ledger, today: lastDay });
        const after = coverageOn({ beneficiaries: FOUR, parameters: [params], ledger: paid, today: lastDay });
        // Kept: the paid-through day moves on from the same cover. When grace runs past the end of the
        // next month, the member may already be in that month's grace again, but never lapsed or waiting.
        expect(['active', 'grace']).toContain(after.status);
        expect(after.paidThrough !== null && after.paidThrough > (s.until as LocalDate)).toBe(true);
        expect(after.waitingUntil).toBe(before.waitingUntil);
      }),
      { numRuns: 400 },
    );
  });
});

describe('the quote and the receipt say what the payment does', () => {
  const quote = (amount: number, ledger: Payment[], today: LocalDate) =>
    quoteContribution({ amount, feeBearer: 'member', grid: GRID, household: { beneficiaries: FOUR, parameters: [RURAL], ledger }, today });
  const effect = (q: ReturnType<typeof quote>) =>
    paymentEffect({ beforePaidThrough: q.before.paidThrough, after: q.after, situation: q.situation });

  it('a lapsed household paying 500 FCFA is never told "covered until 31/03": care is not covered before 09/04, unless April is paid', () => {
    const q = quote(500, LAPSED, '2026-03-10');
    expect(q.situation.kind).toBe('waitingUnpaid');
    expect(q.coveredFrom).toBe('2026-04-09');
    expect(effect(q)).toEqual({
      kind: 'waitingUnpaid',
      until: '2026-03-31',
      from: '2026-04-09',
      by: '2026-04-09',
      remaining: 1500,
      month: '2026-04',
    });
  });

  it('a lapsed household paying 3 500 FCFA: paid until 31/05, care covered from 09/04', () => {
    expect(effect(quote(3500, LAPSED, '2026-03-10'))).toEqual({
      kind: 'waiting',
      until: '2026-05-31',
      from: '2026-04-09',
      by: null,
      remaining: 1500,
      month: '2026-06',
    });
  });

  it('a covered household paying a month: covered until the end of it; paying less: what remains', () => {
    const paid = [{ amount: 4500, paidOn: '2025-01-05' }];
    expect(effect(quote(1500, paid, '2025-03-10'))).toMatchObject({ kind: 'covered', until: '2025-04-30', from: null });
    expect(effect(quote(1000, paid, '2025-03-10'))).toMatchObject({ kind: 'partial', until: null, remaining: 500, month: '2025-04' });
  });

  it('a lapsed household paying too little to restart: what remains, no date', () => {
    expect(effect(quote(200, LAPSED, '2026-03-10'))).toMatchObject({
      kind: 'partial',
      until: null,
      from: null,
      remaining: 300,
      month: '2026-03',
    });
  });
});

describe('amounts typed on a handset', () => {
  it.each([
    ['1000', 1000],
    ['1 000', 1000],
    ['1.000', 1000],
    ['25 000', 25000],
    ['1.000.000', 1000000],
    [' 500 ', 500],
  ])('%j is %d FCFA', (typed, amount) => expect(parseAmount(typed)).toBe(amount));

  it.each(['1,5', '1.5', '10.50', '1 00', '1.000 000', 'mille', '1000f', '', '-500', '12345678', '1,000'])('%j is refused', (typed) => {
    expect(parseAmount(typed)).toBeNull();
  });
});

describe('a household named to someone else', () => {
  it('first name and initials', () => {
    expect(maskName('Aminata Sangaré')).toBe('Aminata S.');
    expect(maskName('  Bakary  Diarra ')).toBe('Bakary D.');
    expect(maskName('Mohamed Lamine Keïta')).toBe('Mohamed L. K.');
  });
});
