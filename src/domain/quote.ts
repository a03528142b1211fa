// What a member is shown before any money moves: the amount, the operator's fee, what
// leaves the wallet, who bears the fee, and what the payment does to the household's
// coverage. And the amounts suggested on the contribute menu. Pure functions.

import type { Beneficiary, Coverage, LocalDate, Month, Payment, ProductParameters, Situation } from './coverage.ts';
import { addMonths, applyPayment, coverageAt, coverageOn, dueForMonth, ledgerState, monthOf, situationOf } from './coverage.ts';
import { toDayNumber } from './dates.ts';
import type { FeeGrid } from './fees.ts';
import { feeFor } from './fees.ts';

/** Who pays the operator's fee: the member (on top of the amount) or UTM (the member sends just the amount). */
export type FeeBearer = 'member' | 'utm';

/** A household as coverageOn takes it. */
export interface QuoteHousehold {
  beneficiaries: readonly Beneficiary[];
  parameters: readonly ProductParameters[];
  ledger: readonly Payment[];
}

export interface Quote {
  amount: number; // what reaches UTM and goes to the household's credit
  fee: number; // the operator's fee for that amount, from the grid
  total: number; // what leaves the wallet: amount + fee if the member bears the fee, else amount
  feeBearer: FeeBearer;
  feeGrid: string; // the grid version used (recorded with the payment)
  before: Coverage; // today, without this payment
  after: Coverage; // today, with this payment added on today
  coveredThrough: LocalDate | null; // after.paidThrough when the household is covered or in grace after paying; null if still lapsed / never covered
  remaining: number; // after.remaining: what will still remain for nextMonth
  nextMonth: Month; // after.nextMonth: the month the next payments will go to
  extendsCover: boolean; // this payment moves the paid-through date (it pays at least one more month)
  situation: Situation; // what the member will be told about the coverage once this payment is in (today)
  coveredFrom: LocalDate | null; // the first day care is covered when a waiting period applies after this payment, else null
}

function checkAmount(amount: number): void {
  if (!Number.isSafeInteger(amount) || amount < 1) {
    throw new RangeError(`a contribution is a whole number of FCFA of at least 1, got ${amount}`);
  }
}

/**
 * The quote for paying `amount` FCFA today. `grid` should be the version in force today
 * (gridOn(grids, today)); a version not yet in force is refused. Throws a RangeError for an
 * amount that is not a positive whole number of FCFA or that the grid does not price.
 */
export function quoteContribution(input: {
  amount: number;
  feeBearer: FeeBearer;
  grid: FeeGrid;
  household: QuoteHousehold;
  today: LocalDate;
}): Quote {
  const { amount, feeBearer, grid, household, today } = input;
  checkAmount(amount);
  if (feeBearer !== 'member' && feeBearer !== 'utm') {
    throw new Error(`the fee bearer is 'member' or 'utm', got ${JSON.stringify(feeBearer)}`);
  }
  if (toDayNumber(grid.effectiveFrom) > toDayNumber(today)) {
    throw new Error(`fee grid ${grid.version} takes effect on ${grid.effectiveFrom}, not yet in force on ${today}`);
  }
  const fee = feeFor(grid, amount);
  const base = { beneficiaries: household.beneficiaries, parameters: household.parameters, today };
  const before = coverageOn({ ...base, ledger: household.ledger });
  const after = coverageOn({ ...base, ledger: [...household.ledger, { amount, paidOn: today }] });
  const situation = situationOf(after, today, (m) => dueForMonth(household.beneficiaries, household.parameters, m));
  return {
    amount,
    fee,
    total: feeBearer === 'member' ? amount + fee : amount,
    feeBearer,
    feeGrid: grid.version,
    before,
    after,
    // A payment that covers a month always leaves the household not lapsed; a lapsed
    // household's old paid-through date (in the past) is not worth showing.
    coveredThrough: after.status === 'lapsed' ? null : after.paidThrough,
    remaining: after.remaining,
    nextMonth: after.nextMonth,
    extendsCover: after.paidThrough !== before.paidThrough,
    situation,
    coveredFrom: situation.from,
  };
}

export type SuggestionKind = 'thisMonth' | 'nextMonth' | 'threeMonths' | 'restOfYear';

export interface Suggestion {
  kind: SuggestionKind;
  amount: number; // integer FCFA > 0
  month: Month; // paying exactly this amount today covers the household through the end of this month
}

/**
 * Up to four amounts to offer on the contribute menu, smallest first, each distinct and > 0
 * (an amount of 0, or one equal to an earlier suggestion, is left out):
 * - what remains for the month the next payment goes to (coverage.remaining): kind 'thisMonth'
 *   if that month is the current one or earlier (a lapsed household restarts in the current
 *   month), 'nextMonth' if the household is already covered this month;
 * - that plus the due of the following month (two months paid): kind 'nextMonth';
 * - that plus the due of the month after (three months): kind 'threeMonths';
 * - everything needed to be covered through 31/12 of this year: kind 'restOfYear', only when
 *   that goes beyond the three months.
 * `month` is always the last month the amount pays for, so a screen can say "jusqu'à fin mai".
 * When the cover restarts with a waiting period, amounts that would still leave care uncovered once
 * the waiting period ends (paid-through before care starts) are left out, unless nothing else is left.
 */
export function suggestAmounts(input: { household: QuoteHousehold; today: LocalDate }): Suggestion[] {
  const { household, today } = input;
  const cov = coverageOn({ ...household, today });
  const thisMonth = monthOf(today);
  const due = (m: Month) => dueForMonth(household.beneficiaries, household.parameters, m);

  // What paying today must add to the credit to be covered through the end of month m:
  // the dues from cov.nextMonth to m, less the credit (a lapsed household keeps its credit).
  const first = cov.nextMonth;
  let dues = 0;
  let through = addMonths(first, -1);
  const needThrough = (m: Month): number => {
    while (through < m) {
      through = addMonths(through, 1);
      dues += due(through);
    }
    return Math.max(0, dues - cov.credit);
  };

  const candidates: Suggestion[] = [
    { kind: first <= thisMonth ? 'thisMonth' : 'nextMonth', amount: needThrough(first), month: first },
    { kind: 'nextMonth', amount: needThrough(addMonths(first, 1)), month: addMonths(first, 1) },
    { kind: 'threeMonths', amount: needThrough(addMonths(first, 2)), month: addMonths(first, 2) },
  ];
  const december = `${thisMonth.slice(0, 4)}-12`;
  if (december > addMonths(first, 2)) {
    candidates.push({ kind: 'restOfYear', amount: needThrough(december), month: december });
  }

  const seen = new Set<number>();
  const out: Suggestion[] = [];
  for (const s of candidates) {
    if (s.amount <= 0 || seen.has(s.amount)) continue;
    seen.add(s.amount);
    out.push(s);
  }
  // A household whose cover restarts waits before care is covered: an amount that pays only months
  // ending before care starts buys no care ("jusqu'au 30/09" read as covered, when care starts on
  // 10/10). Those are not suggested; "another amount" still takes any sum.
  // The ledger folded once; each amount is then one payment applied to that state.
  const state = ledgerState(household);
  const reachesCare = (s: Suggestion) => {
    const payment = { amount: s.amount, paidOn: today };
    const next = applyPayment(state, household, payment);
    const after = next ? coverageAt(next, household, today) : coverageOn({ ...household, today, ledger: [...household.ledger, payment] });
    return situationOf(after, today, due).kind !== 'waitingUnpaid';
  };
  const useful = out.filter(reachesCare);
  return useful.length > 0 ? useful : out;
}

/**
 * What a payment does to the coverage, as the quote and the receipt say it, one message each:
 * - `covered`: the household is covered until `until`;
 * - `waiting`: paid until `until`, care covered from `from` (the waiting period ends first);
 * - `waitingUnpaid`: care covered from `from` only if `remaining` more is paid before `by`;
 * - `partial`: the payment does not complete a month (or leaves the household lapsed):
 *   `remaining` still remains for `month`.
 * Never "covered until" for a household that will still be in its waiting period.
 */
export interface PaymentEffect {
  kind: 'covered' | 'waiting' | 'waitingUnpaid' | 'partial';
  until: LocalDate | null;
  from: LocalDate | null;
  by: LocalDate | null;
  remaining: number;
  month: Month;
}

export function paymentEffect(input: {
  beforePaidThrough: LocalDate | null;
  after: { paidThrough: LocalDate | null; remaining: number; nextMonth: Month };
  situation: Situation;
}): PaymentEffect {
  const { after, situation: s } = input;
  const partial: PaymentEffect = { kind: 'partial', until: null, from: null, by: null, remaining: after.remaining, month: after.nextMonth };
  if (after.paidThrough === null || after.paidThrough === input.beforePaidThrough) return partial;
  switch (s.kind) {
    case 'active':
      return { ...partial, kind: 'covered', until: after.paidThrough };
    case 'waiting':
      return { ...partial, kind: 'waiting', until: after.paidThrough, from: s.from };
    case 'waitingUnpaid':
      return { ...partial, kind: 'waitingUnpaid', until: after.paidThrough, from: s.from, by: s.by, remaining: s.toPay };
    default:
      return partial;
  }
}

/** The effect of the quoted payment. */
export function effectOfQuote(q: Quote): PaymentEffect {
  return paymentEffect({ beforePaidThrough: q.before.paidThrough, after: q.after, situation: q.situation });
}
