// The coverage rules of a UTM mutuelle, as pure functions.
//
// A household owes, each month, the sum of the monthly shares of its active
// beneficiaries. Payments of any amount accumulate as credit; each time the credit
// reaches the due of the next uncovered month, that month is covered. After a lapse,
// coverage restarts at the month of the payment (missed months are not charged back).
//
// Money is integer FCFA. Days are 'YYYY-MM-DD' calendar days in Africa/Bamako (UTC+0),
// handled as integer day numbers internally: no dayjs, no Date in the loops, because
// this runs on every USSD coverage screen.

import type { LocalDate, Month } from './dates.ts';
import {
  firstDayNumberOfMonthIndex,
  fromDayNumber,
  fromMonthIndex,
  lastDayNumberOfMonthIndex,
  monthIndexOfDayNumber,
  toDayNumber,
  toMonthIndex,
} from './dates.ts';

export type { LocalDate, Month } from './dates.ts';
export { addDays, addMonths, lastDayOfMonth, monthOf } from './dates.ts';

export interface ProductParameters {
  effectiveFrom: LocalDate; // these values apply from this day on
  annualContribution: number; // integer FCFA per person per year (e.g. 6000)
  subsidyPercent: number; // 0..100, share of the contribution the state pays for a subsidised person (e.g. 50)
  joiningFee: number; // FCFA, paid at registration (informational, not taken from the credit)
  waitingDays: number; // days after a coverage episode starts before care is covered
  graceDays: number; // days after the paid-through date still treated as covered ("grace")
}
export interface Beneficiary {
  id: number;
  name: string;
  subsidised: boolean;
  active: boolean;
}
export interface Payment {
  amount: number; // integer FCFA > 0
  paidOn: LocalDate;
}

export type CoverageStatus = 'active' | 'waiting' | 'grace' | 'lapsed';

export interface Coverage {
  status: CoverageStatus;
  paidThrough: LocalDate | null; // last day of the last fully paid month; null if never covered
  episodeStart: LocalDate | null; // day the current/last coverage episode started (first payment, or restart after a lapse)
  waitingUntil: LocalDate | null; // last day of the waiting period of that episode (null if none / waitingDays 0)
  graceUntil: LocalDate | null; // last day of grace after paidThrough (null if never covered)
  credit: number; // FCFA paid but not yet enough for a further month
  nextMonth: Month; // the month the next payments will pay for
  nextMonthDue: number; // household due for nextMonth
  remaining: number; // nextMonthDue - credit (>= 0): what remains to pay to cover nextMonth
}

// ---------------------------------------------------------------------------
// Parameters

function isNonNegativeInteger(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function checkParameters(p: ProductParameters): number {
  const at = `product parameters effective ${JSON.stringify(p?.effectiveFrom)}`;
  const eff = toDayNumber(p.effectiveFrom); // throws on a bad date
  if (!isNonNegativeInteger(p.annualContribution)) {
    throw new Error(`${at}: annualContribution must be a non-negative integer FCFA, got ${p.annualContribution}`);
  }
  if (typeof p.subsidyPercent !== 'number' || !(p.subsidyPercent >= 0 && p.subsidyPercent <= 100)) {
    throw new Error(`${at}: subsidyPercent must be between 0 and 100, got ${p.subsidyPercent}`);
  }
  if (!isNonNegativeInteger(p.joiningFee)) {
    throw new Error(`${at}: joiningFee must be a non-negative integer FCFA, got ${p.joiningFee}`);
  }
  if (!isNonNegativeInteger(p.waitingDays)) {
    throw new Error(`${at}: waitingDays must be a non-negative integer, got ${p.waitingDays}`);
  }
  if (!isNonNegativeInteger(p.graceDays)) {
    throw new Error(`${at}: graceDays must be a non-negative integer, got ${p.graceDays}`);
  }
  return eff;
}

/** Parameter versions validated and sorted by effectiveFrom (stable: for equal dates the later-listed one wins). */
interface Versions {
  list: ProductParameters[];
  eff: number[]; // effectiveFrom as day numbers, ascending
}

function prepareVersions(params: readonly ProductParameters[]): Versions {
  if (params.length === 0) throw new Error('no product parameters: at least one dated version is needed');
  const rows = params.map((p, i) => ({ p, eff: checkParameters(p), i }));
  let sorted = true;
  for (let i = 1; i < rows.length; i++) {
    if (rows[i]!.eff < rows[i - 1]!.eff) {
      sorted = false;
      break;
    }
  }
  if (!sorted) rows.sort((a, b) => a.eff - b.eff || a.i - b.i);
  return { list: rows.map((r) => r.p), eff: rows.map((r) => r.eff) };
}

/** Index of the version in force on day number `day` (latest effectiveFrom <= day), or -1. */
function indexOn(v: Versions, day: number): number {
  for (let i = v.eff.length - 1; i >= 0; i--) if (v.eff[i]! <= day) return i;
  return -1;
}

/**
 * Like indexOn, but a product's first version also applies to the days of its own
 * month before its effective date (a product starting on the 15th still has a due for
 * that month). Before that month there is nothing to apply: throws.
 */
function indexForDay(v: Versions, day: number): number {
  const i = indexOn(v, day);
  if (i >= 0) return i;
  const first = v.eff[0]!;
  if (monthIndexOfDayNumber(day) === monthIndexOfDayNumber(first)) {
    let j = 0;
    while (j + 1 < v.eff.length && v.eff[j + 1] === first) j++;
    return j;
  }
  throw new Error(`no product parameters in force on ${fromDayNumber(day)} (the first version takes effect on ${fromDayNumber(first)})`);
}

/** The version in force that day (latest effectiveFrom <= day). Throws a clear Error if none. */
export function parametersOn(params: readonly ProductParameters[], day: LocalDate): ProductParameters {
  const v = prepareVersions(params);
  const i = indexOn(v, toDayNumber(day));
  if (i < 0) {
    throw new Error(`no product parameters in force on ${day} (the first version takes effect on ${v.list[0]!.effectiveFrom})`);
  }
  return v.list[i]!;
}

/**
 * The version that sets the due of a month: the one in force on the first day of the
 * month (changes apply from the month they take effect). If the product's first version
 * takes effect later in that very month, that version. Throws if the month is earlier.
 */
export function parametersForMonth(params: readonly ProductParameters[], month: Month): ProductParameters {
  const v = prepareVersions(params);
  return v.list[indexForDay(v, firstDayNumberOfMonthIndex(toMonthIndex(month)))]!;
}

// ---------------------------------------------------------------------------
// Money

/** Per person per month, integer FCFA: annual / 12, less the subsidy for a subsidised person. */
export function monthlyShare(params: ProductParameters, subsidised: boolean): number {
  return Math.round((params.annualContribution * (subsidised ? 100 - params.subsidyPercent : 100)) / 100 / 12);
}

/** The household's due for a month: the sum of the monthly shares of its ACTIVE beneficiaries. */
export function monthlyDue(beneficiaries: readonly Beneficiary[], params: ProductParameters): number {
  let full = 0;
  let subsidised = 0;
  for (const b of beneficiaries) {
    if (!b.active) continue;
    if (b.subsidised) subsidised++;
    else full++;
  }
  return (full > 0 ? full * monthlyShare(params, false) : 0) + (subsidised > 0 ? subsidised * monthlyShare(params, true) : 0);
}

/** How many active beneficiaries pay the full share and the subsidised one, and how many left: all a due needs. */
export interface BeneficiaryCounts {
  full: number;
  subsidised: number;
  inactive: number;
}

export function countBeneficiaries(beneficiaries: readonly Beneficiary[]): BeneficiaryCounts {
  const c = { full: 0, subsidised: 0, inactive: 0 };
  for (const b of beneficiaries) {
    if (!b.active) c.inactive++;
    else if (b.subsidised) c.subsidised++;
    else c.full++;
  }
  return c;
}

/** Anonymous beneficiaries with those counts, for the rules that take a list (they only count it). */
export function beneficiariesOfCounts(c: BeneficiaryCounts): Beneficiary[] {
  const one = (subsidised: boolean, active: boolean) => ({ id: 0, name: '', subsidised, active });
  return [
    ...Array.from({ length: c.full }, () => one(false, true)),
    ...Array.from({ length: c.subsidised }, () => one(true, true)),
    ...Array.from({ length: c.inactive }, () => one(false, false)),
  ];
}

/** The household's due for a given month, with the parameters of that month (see parametersForMonth). */
export function dueForMonth(beneficiaries: readonly Beneficiary[], params: readonly ProductParameters[], month: Month): number {
  return monthlyDue(beneficiaries, parametersForMonth(params, month));
}

// ---------------------------------------------------------------------------
// Coverage

/**
 * What a household's ledger leaves behind after its last payment. With the household's
 * beneficiaries and its product's parameters, it gives the coverage on that day or any later one
 * (coverageAt) without reading the ledger again, and a further payment moves it on (applyPayment):
 * the read model the office, the campaigns and the USSD screens read (src/db/coverage.ts).
 */
export interface LedgerState {
  lastPaidOn: LocalDate | null; // day of the last payment applied; null: none
  credit: number; // FCFA paid but not yet enough for a further month
  paidThrough: LocalDate | null; // last day of the last covered month; null if never covered
  graceUntil: LocalDate | null; // last day of grace after paidThrough
  episodeStart: LocalDate | null; // day the current/last covered episode started
  waitingUntil: LocalDate | null; // last day of that episode's waiting period (null if none)
  pendingStart: LocalDate | null; // a restart after a lapse that no payment has turned into coverage yet
  /** The days the household was covered (active, waiting or grace), oldest first: penetration on a past day. */
  periods: CoveredPeriod[];
}

export interface CoveredPeriod {
  from: LocalDate;
  until: LocalDate;
}

/** The product's versions and the household's due under each: all the fold needs besides the payments. */
interface Rules {
  versions: Versions;
  dues: number[];
  /** Month index from which version i applies to whole months (its first month starting on or after effectiveFrom). */
  fromMonth: number[];
  cachedMi: number;
  cachedV: number;
}

function rulesOf(beneficiaries: readonly Beneficiary[], parameters: readonly ProductParameters[]): Rules {
  const versions = prepareVersions(parameters);
  return {
    versions,
    dues: versions.list.map((p) => monthlyDue(beneficiaries, p)),
    fromMonth: versions.eff.map((e) => {
      const m = monthIndexOfDayNumber(e);
      return firstDayNumberOfMonthIndex(m) === e ? m : m + 1;
    }),
    cachedMi: Number.NaN,
    cachedV: 0,
  };
}

/** The version that sets a month's due; the last answer is kept, as payments mostly go to the same month. */
function dueVersionOfMonth(r: Rules, mi: number): number {
  if (mi !== r.cachedMi) {
    r.cachedMi = mi;
    r.cachedV = indexForDay(r.versions, firstDayNumberOfMonthIndex(mi));
  }
  return r.cachedV;
}

/** LedgerState in day numbers and month indexes, as the fold works. */
interface Fold {
  last: number; // day of the last payment; -1: none
  credit: number;
  paidThroughMi: number; // month index of the last covered month; -1: never covered
  graceUntil: number; // meaningful when paidThroughMi >= 0
  nextMi: number; // month index the credit goes to next
  episodeStart: number; // set once paidThroughMi >= 0
  pendingStart: number; // -1: no restart pending
  /** Covered periods as [from, until] day numbers, flattened. */
  periods: number[];
}

const EMPTY: Fold = { last: -1, credit: 0, paidThroughMi: -1, graceUntil: 0, nextMi: 0, episodeStart: 0, pendingStart: -1, periods: [] };

function checkAmount(p: Payment): void {
  if (!(Number.isSafeInteger(p.amount) && p.amount > 0)) {
    throw new Error(`invalid payment of ${p.amount} FCFA on ${p.paidOn}: amounts are integer FCFA greater than 0`);
  }
}

/**
 * Applies one payment on day `day` (not before f.last) to the fold, in place.
 *
 * If the household was never covered or is past its graceUntil that day, a new episode starts at
 * `day`: the next month to pay is that day's month and the credit left is kept. The episode becomes
 * the household's current one when that payment (or a later one) covers a month. Then, while the
 * credit reaches the due of the next month (with the parameters of that month), the month is
 * covered. The household is covered from `day` to graceUntil whenever graceUntil reaches `day`.
 */
function step(r: Rules, f: Fold, day: number, amount: number): void {
  if (f.paidThroughMi < 0 || day > f.graceUntil) {
    // never covered, or lapsed on that day: (re)start at this payment's month
    f.pendingStart = day;
    f.nextMi = monthIndexOfDayNumber(day);
  }
  f.last = day;
  f.credit += amount;
  const nv = r.versions.eff.length;
  let covered = false;
  let v = dueVersionOfMonth(r, f.nextMi);
  for (;;) {
    const due = r.dues[v]!;
    if (due <= 0 || f.credit < due) break; // a due of 0 never advances coverage
    // every month until the next version applies has this same due: cover them in one step
    let k = Math.floor(f.credit / due);
    if (v + 1 < nv) k = Math.min(k, r.fromMonth[v + 1]! - f.nextMi);
    f.credit -= k * due;
    f.nextMi += k;
    covered = true;
    v = dueVersionOfMonth(r, f.nextMi);
  }
  if (covered) {
    f.paidThroughMi = f.nextMi - 1;
    const last = lastDayNumberOfMonthIndex(f.paidThroughMi);
    f.graceUntil = last + r.versions.list[indexForDay(r.versions, last)]!.graceDays;
    if (f.pendingStart >= 0) {
      f.episodeStart = f.pendingStart;
      f.pendingStart = -1;
    }
  }
  if (f.paidThroughMi >= 0 && f.graceUntil >= day) {
    const n = f.periods.length;
    // Covered on `day` before this payment: the same period goes on; else a new one starts today.
    if (n > 0 && f.periods[n - 1]! >= day) f.periods[n - 1] = f.graceUntil;
    else f.periods.push(day, f.graceUntil);
  }
}

/** The payments up to `through` (a day number; Infinity: all), in date order (stable for the same day). */
function sortedPayments(ledger: readonly Payment[], through: number): Array<{ day: number; amount: number; i: number }> {
  const payments: Array<{ day: number; amount: number; i: number }> = [];
  let inOrder = true;
  for (let i = 0; i < ledger.length; i++) {
    const p = ledger[i]!;
    const day = toDayNumber(p.paidOn);
    checkAmount(p);
    if (day > through) continue;
    if (payments.length > 0 && day < payments[payments.length - 1]!.day) inOrder = false;
    payments.push({ day, amount: p.amount, i });
  }
  if (!inOrder) payments.sort((a, b) => a.day - b.day || a.i - b.i);
  return payments;
}

function foldLedger(r: Rules, ledger: readonly Payment[], through: number): Fold {
  const f: Fold = { ...EMPTY, periods: [] };
  for (const p of sortedPayments(ledger, through)) step(r, f, p.day, p.amount);
  return f;
}

const dayOrNull = (n: number | null): LocalDate | null => (n === null ? null : fromDayNumber(n));

function waitingUntilOf(r: Rules, f: Fold): number | null {
  if (f.paidThroughMi < 0) return null;
  const waitingDays = r.versions.list[indexForDay(r.versions, f.episodeStart)]!.waitingDays;
  return waitingDays > 0 ? f.episodeStart + waitingDays - 1 : null;
}

function toState(r: Rules, f: Fold): LedgerState {
  const covered = f.paidThroughMi >= 0;
  const periods: CoveredPeriod[] = [];
  for (let i = 0; i < f.periods.length; i += 2)
    periods.push({ from: fromDayNumber(f.periods[i]!), until: fromDayNumber(f.periods[i + 1]!) });
  return {
    lastPaidOn: f.last < 0 ? null : fromDayNumber(f.last),
    credit: f.credit,
    paidThrough: covered ? fromDayNumber(lastDayNumberOfMonthIndex(f.paidThroughMi)) : null,
    graceUntil: covered ? fromDayNumber(f.graceUntil) : null,
    episodeStart: covered ? fromDayNumber(f.episodeStart) : null,
    waitingUntil: dayOrNull(waitingUntilOf(r, f)),
    pendingStart: f.pendingStart < 0 ? null : fromDayNumber(f.pendingStart),
    periods,
  };
}

/** A state as the readers keep it: its covered periods are needed only to apply a further payment. */
export type LedgerStateNow = Omit<LedgerState, 'periods'> & { periods?: readonly CoveredPeriod[] };

function fromState(s: LedgerStateNow): Fold {
  const paidThroughMi = s.paidThrough === null ? -1 : monthIndexOfDayNumber(toDayNumber(s.paidThrough));
  const pendingStart = s.pendingStart === null ? -1 : toDayNumber(s.pendingStart);
  return {
    last: s.lastPaidOn === null ? -1 : toDayNumber(s.lastPaidOn),
    credit: s.credit,
    paidThroughMi,
    graceUntil: s.graceUntil === null ? 0 : toDayNumber(s.graceUntil),
    // the month the credit goes to: that of a pending restart, else the one after the last covered
    nextMi: pendingStart >= 0 ? monthIndexOfDayNumber(pendingStart) : paidThroughMi + 1,
    episodeStart: s.episodeStart === null ? 0 : toDayNumber(s.episodeStart),
    pendingStart,
    periods: (s.periods ?? []).flatMap((p) => [toDayNumber(p.from), toDayNumber(p.until)]),
  };
}

/** The household's ledger state after all its payments (any order). */
export function ledgerState(input: {
  beneficiaries: readonly Beneficiary[];
  parameters: readonly ProductParameters[];
  ledger: readonly Payment[];
}): LedgerState {
  const r = rulesOf(input.beneficiaries, input.parameters);
  return toState(r, foldLedger(r, input.ledger, Infinity));
}

/**
 * The state after one more payment, or null when the payment is dated before the state's last
 * one (the ledger must then be folded again in date order, see ledgerState). Payments of one day
 * have the same effect in any order.
 */
export function applyPayment(
  state: LedgerState,
  household: { beneficiaries: readonly Beneficiary[]; parameters: readonly ProductParameters[] },
  payment: Payment,
): LedgerState | null {
  checkAmount(payment);
  const day = toDayNumber(payment.paidOn);
  if (state.lastPaidOn !== null && payment.paidOn < state.lastPaidOn) return null;
  const r = rulesOf(household.beneficiaries, household.parameters);
  const f = fromState(state);
  step(r, f, day, payment.amount);
  return toState(r, f);
}

/**
 * The status on `today` of a household covered through `paidThrough` (null: never), with its grace
 * and waiting period: day numbers or 'YYYY-MM-DD' days alike, both ordered as the calendar.
 */
function statusRule<T extends number | string>(
  today: T,
  paidThrough: T | null,
  graceUntil: T | null,
  waitingUntil: T | null,
): CoverageStatus {
  if (paidThrough === null || graceUntil === null || today > graceUntil) return 'lapsed';
  if (today > paidThrough) return 'grace';
  return waitingUntil !== null && today <= waitingUntil ? 'waiting' : 'active';
}

/**
 * The household's status on `today` from its state: cheap (a few comparisons of days) for a
 * figure over every household. `today` must not be before the state's last payment (the state
 * does not know which payments came after a past day: see coverageOn).
 */
export function statusAt(
  state: Pick<LedgerState, 'lastPaidOn' | 'paidThrough' | 'graceUntil' | 'waitingUntil'>,
  today: LocalDate,
): CoverageStatus {
  if (state.lastPaidOn !== null && today < state.lastPaidOn) {
    throw new Error(`the state after a payment on ${state.lastPaidOn} says nothing of ${today}: fold the ledger up to that day`);
  }
  return statusRule(today, state.paidThrough, state.graceUntil, state.waitingUntil);
}

/** Whether the household was covered (active, waiting or grace) on `day`, any day up to its last payment and after. */
export function coveredOn(periods: readonly CoveredPeriod[], day: LocalDate): boolean {
  for (let i = periods.length - 1; i >= 0; i--) {
    const p = periods[i]!;
    if (p.from <= day) return day <= p.until;
  }
  return false;
}

/** The household's coverage on `today` (not before the state's last payment) from its state. */
export function coverageAt(
  state: LedgerStateNow,
  household: { beneficiaries: readonly Beneficiary[]; parameters: readonly ProductParameters[] },
  today: LocalDate,
): Coverage {
  const status = statusAt(state, today);
  const r = rulesOf(household.beneficiaries, household.parameters);
  return coverageOf(r, fromState(state), toDayNumber(today), status);
}

function coverageOf(r: Rules, f: Fold, today: number, status: CoverageStatus): Coverage {
  const todayMi = monthIndexOfDayNumber(today);
  if (f.paidThroughMi < 0) {
    return finish(r.dues[dueVersionOfMonth(r, todayMi)]!, {
      status: 'lapsed',
      paidThrough: null,
      episodeStart: null,
      waitingUntil: null,
      graceUntil: null,
      credit: f.credit,
      nextMi: todayMi,
    });
  }
  const shownMi = status === 'lapsed' ? todayMi : f.paidThroughMi + 1;
  return finish(r.dues[dueVersionOfMonth(r, shownMi)]!, {
    status,
    paidThrough: fromDayNumber(lastDayNumberOfMonthIndex(f.paidThroughMi)),
    episodeStart: fromDayNumber(f.episodeStart),
    waitingUntil: dayOrNull(waitingUntilOf(r, f)),
    graceUntil: fromDayNumber(f.graceUntil),
    credit: f.credit,
    nextMi: shownMi,
  });
}

/**
 * The household's coverage on `today`, from its whole ledger: payments (any order; those after
 * `today` are ignored) applied in date order by the rules of `step`, then read on `today`.
 */
export function coverageOn(input: {
  beneficiaries: readonly Beneficiary[];
  parameters: readonly ProductParameters[];
  ledger: readonly Payment[];
  today: LocalDate;
}): Coverage {
  const r = rulesOf(input.beneficiaries, input.parameters);
  const today = toDayNumber(input.today);
  const f = foldLedger(r, input.ledger, today);
  const covered = f.paidThroughMi >= 0;
  const status = statusRule(
    today,
    covered ? lastDayNumberOfMonthIndex(f.paidThroughMi) : null,
    covered ? f.graceUntil : null,
    waitingUntilOf(r, f),
  );
  return coverageOf(r, f, today, status);
}

function finish(nextMonthDue: number, c: Omit<Coverage, 'nextMonth' | 'nextMonthDue' | 'remaining'> & { nextMi: number }): Coverage {
  return {
    status: c.status,
    paidThrough: c.paidThrough,
    episodeStart: c.episodeStart,
    waitingUntil: c.waitingUntil,
    graceUntil: c.graceUntil,
    credit: c.credit,
    nextMonth: fromMonthIndex(c.nextMi),
    nextMonthDue,
    remaining: Math.max(0, nextMonthDue - c.credit),
  };
}

/** A beneficiary's status: 'inactive' if not active, else the household's status. */
export function beneficiaryStatus(b: Beneficiary, household: Coverage): CoverageStatus | 'inactive' {
  return b.active ? household.status : 'inactive';
}

/**
 * What a member is told about the household's coverage, in one plain line that is always true:
 *
 * - `active`: care is covered until `until` (the paid-through date);
 * - `waiting`: not covered yet; care is covered from `from` (the day after the waiting period),
 *   which the payments already reach (`from` <= `until`);
 * - `waitingUnpaid`: not covered yet, and the waiting period ends after the paid months: care is
 *   covered from `from` only if `toPay` is paid before `by` (the earlier of `from` and the day
 *   after grace). The word "covered" is never used for the waiting period itself;
 * - `grace`: cover ended on `until`; paying `toPay` before `by` (the day after grace) keeps it;
 * - `lapsed`: not covered (the cover ended on `until`); paying `toPay` restarts it, with a new
 *   waiting period;
 * - `never`: not covered, never was.
 *
 * `toPay` is what remains for `month` (the month the next payment goes to), except for
 * `waitingUnpaid`, where it is what must be paid for care to be covered from `from`.
 */
export type SituationKind = 'active' | 'waiting' | 'waitingUnpaid' | 'grace' | 'lapsed' | 'never';

export interface Situation {
  kind: SituationKind;
  until: LocalDate | null;
  from: LocalDate | null;
  by: LocalDate | null;
  toPay: number;
  month: Month;
}

/** The situation a coverage says, on `today`. `dueOf` gives the household's due for a month (for `waitingUnpaid`). */
export function situationOf(cov: Coverage, today: LocalDate, dueOf: (m: Month) => number): Situation {
  const base = { until: cov.paidThrough, from: null, by: null, toPay: cov.remaining, month: cov.nextMonth };
  if (cov.paidThrough === null) return { ...base, kind: 'never' };
  const day = toDayNumber(today);
  const paidThrough = toDayNumber(cov.paidThrough);
  const afterGrace = toDayNumber(cov.graceUntil as LocalDate) + 1;
  const waitingUntil = cov.waitingUntil === null ? null : toDayNumber(cov.waitingUntil);
  const stillWaiting = waitingUntil !== null && waitingUntil >= day;
  if (cov.status === 'active') return { ...base, kind: 'active' };
  if (cov.status === 'lapsed') return { ...base, kind: 'lapsed' };
  if (cov.status === 'waiting' || (cov.status === 'grace' && stillWaiting)) {
    const from = (waitingUntil as number) + 1;
    if (from <= paidThrough) return { ...base, kind: 'waiting', from: fromDayNumber(from) };
    // The paid months end before the waiting period does: care starts only if the months up to
    // `from` are paid, before `from` and before grace ends.
    const fromMi = monthIndexOfDayNumber(from);
    let dues = 0;
    for (let mi = toMonthIndex(cov.nextMonth); mi <= fromMi; mi++) dues += dueOf(fromMonthIndex(mi));
    return {
      ...base,
      kind: 'waitingUnpaid',
      from: fromDayNumber(from),
      by: fromDayNumber(Math.min(from, afterGrace)),
      toPay: Math.max(0, dues - cov.credit),
    };
  }
  return { ...base, kind: 'grace', by: fromDayNumber(afterGrace) };
}

/** What a member is told about the household's coverage, on a USSD screen or by SMS. */
export interface CoverageView {
  adherentName: string;
  size: number;
  status: CoverageStatus;
  /** What to tell the member; coverageView always sets it (a view built by hand gets it derived from its dates). */
  situation?: Situation;
  paidThrough: LocalDate | null;
  waitingUntil: LocalDate | null;
  graceUntil: LocalDate | null;
  nextMonth: Month;
  remaining: number;
  beneficiaries: Array<{ name: string; status: CoverageStatus | 'inactive' }>;
}

export function coverageView(
  household: {
    adherentName: string;
    beneficiaries: readonly Beneficiary[];
    parameters: readonly ProductParameters[];
    ledger: readonly Payment[];
  },
  today: LocalDate,
): CoverageView {
  const cov = coverageOn({ beneficiaries: household.beneficiaries, parameters: household.parameters, ledger: household.ledger, today });
  return coverageViewOf(household, cov, today);
}

/** The view of a coverage on `today`, however it was computed (from the ledger, or from the read model's state). */
export function coverageViewOf(
  household: { adherentName: string; beneficiaries: readonly Beneficiary[]; parameters: readonly ProductParameters[] },
  cov: Coverage,
  today: LocalDate,
): CoverageView {
  return {
    adherentName: household.adherentName,
    size: household.beneficiaries.filter((b) => b.active).length,
    status: cov.status,
    situation: situationOf(cov, today, (m) => dueForMonth(household.beneficiaries, household.parameters, m)),
    paidThrough: cov.paidThrough,
    waitingUntil: cov.waitingUntil,
    graceUntil: cov.graceUntil,
    nextMonth: cov.nextMonth,
    remaining: cov.remaining,
    beneficiaries: household.beneficiaries.map((b) => ({ name: b.name, status: beneficiaryStatus(b, cov) })),
  };
}

/** The parameters of a coverage message (screen or SMS): one message per situation. */
export type SituationParams = {
  name: string;
  count: number;
  until: LocalDate;
  from: LocalDate;
  by: LocalDate;
  month: Month;
  remaining: number;
};

export function situationParams(s: Situation, name: string, count: number): SituationParams {
  return { name, count, until: s.until ?? '', from: s.from ?? '', by: s.by ?? '', month: s.month, remaining: s.toPay };
}

/** The values a coverage message needs (screen or SMS), and which message: one per situation. */
export function coverageMessage(v: CoverageView): { status: SituationKind; params: SituationParams } {
  const s =
    v.situation ??
    situationOf(
      {
        status: v.status,
        paidThrough: v.paidThrough,
        episodeStart: null,
        waitingUntil: v.waitingUntil,
        graceUntil: v.graceUntil,
        credit: 0,
        nextMonth: v.nextMonth,
        nextMonthDue: v.remaining,
        remaining: v.remaining,
      },
      v.status === 'active' || v.status === 'waiting'
        ? (v.paidThrough as LocalDate)
        : (v.graceUntil ?? v.paidThrough ?? `${v.nextMonth}-01`),
      () => v.remaining,
    );
  return { status: s.kind, params: situationParams(s, v.adherentName, v.size) };
}
