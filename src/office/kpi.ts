/**
 * The figures UTM reports (issue 9, item 7), per mutuelle, per district and in total, for a period:
 * penetration today and at the end of each month, households and beneficiaries by coverage status,
 * subsidised share, contributions per month and channel, payment outcomes, SMS, USSD sessions, the
 * conversions of reminders and campaigns, and the health facilities' claims with the loss ratio. Read by `sabatili report kpi`, `GET /admin/api/kpi`
 * and the office console's pages.
 *
 * ## Performance (design.md: "KPI pages for 200,000 households under 1 s"; issue 16: 0.5 s)
 *
 * Nothing is read per household, contribution or payment: every figure comes from sums kept with
 * the data, a few thousand rows whatever the size of the network. Coverage comes from the coverage
 * read model (src/db/coverage.ts), never from the ledgers: the statuses today from its rows grouped
 * by the days a status depends on (the domain's statusAt on each group), the trend from where the
 * households' covered periods start and end. A household whose last payment is after `today`
 * (figures asked for a past day) is folded from its ledger with coverageOn. Contributions and
 * payments come from their sums per mutuelle and day, SMS and USSD sessions from SQL aggregates
 * over the period (src/db/figures.ts).
 *
 * All of it runs in one read transaction (one snapshot while the server writes) and synchronously:
 * called on the server's connection it holds the event loop for as long as it runs (see
 * `npm run bench -- --only kpi`).
 *
 * ## Definitions
 *
 * - Covered persons on a day: the active beneficiaries of households whose status that day is
 *   active, waiting or grace (not lapsed, never covered included in lapsed). Penetration: covered
 *   persons / the mutuelles' target population. The trend uses the beneficiaries as registered
 *   today (their history is not kept).
 * - The period [from, to] (Bamako days, inclusive) selects contributions (paid_on), payments
 *   (created_at), SMS (created) and USSD sessions (created) and gateway notifications (received);
 *   statuses and penetration are on `today`; the trend is on the last day of each month of the
 *   period, or `to` or `today` when earlier.
 * - Claims are counted for the patient's mutuelle: those for visits in the period (claimed, and by
 *   status), and those paid in the period (their batch's disbursement day), whatever their visit's
 *   day. Loss ratio: claims paid / contributions received (paid_on) in the period.
 * - SMS and USSD of numbers that are no household's phone are counted in `nonMembers`, and in
 *   `totals` when no district or mutuelle is asked for.
 */

import type { Campaigns } from '../campaigns/campaigns.ts';
import type { Conversions } from '../campaigns/conversions.ts';
import { type ReminderRuleResults, reminderRuleResults } from '../campaigns/reminder-results.ts';
import { toCsv } from '../csv.ts';
import type { Db } from '../db/connection.ts';
import { createCoverageStore } from '../db/coverage.ts';
import { createFigureSums } from '../db/figures.ts';
import { createHouseholdStore } from '../db/households.ts';
import { atomically } from '../db/transaction.ts';
import { createVoiceStore } from '../db/voice.ts';
import { createVoiceCallStore } from '../db/voice-outbox.ts';
import { type BeneficiaryCounts, type CoverageStatus, coverageOn, type LocalDate, type Month, statusAt } from '../domain/coverage.ts';
import {
  fromDayNumber,
  fromMonthIndex,
  isLocalDate,
  lastDayNumberOfMonthIndex,
  monthIndexOfDayNumber,
  toDayNumber,
} from '../domain/dates.ts';
import { Refusal } from '../domain/refusal.ts';
import { type CallFigures, callFigures } from '../voice/outbound.ts';

export const CHANNELS = ['orange_money', 'cash', 'agent'] as const;
export type Channel = (typeof CHANNELS)[number];
export const PAYMENT_STATUSES = ['initiated', 'pending', 'succeeded', 'failed', 'expired', 'cancelled', 'review'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
export const STATUSES = ['active', 'waiting', 'grace', 'lapsed'] as const satisfies readonly CoverageStatus[];
export const GATEWAY_STATUSES = ['Success', 'Incomplete', 'Failed'] as const;
export const CLAIM_STATUSES = ['pending', 'approved', 'rejected'] as const;

export interface KpiOptions {
  from: LocalDate;
  to: LocalDate;
  today: LocalDate;
  district?: string | undefined;
  mutuelleId?: string | undefined;
  /** Campaign results come from the campaigns service; without it `conversions.campaigns` is null. */
  campaigns?: Pick<Campaigns, 'list' | 'results'> | undefined;
}

export interface CountAmount {
  count: number;
  amount: number;
}

export interface SmsFigures {
  /** Written to the outbox in the period. */
  messages: number;
  /** Accepted by the gateway (delivered, and failed after sending, included). */
  sent: number;
  delivered: number;
  failed: number;
  expired: number;
  /** Not sent yet (queued or sending). */
  waiting: number;
  /** Delivered among those whose fate is known (delivered, or failed after sending), as `sabatili sms stats`. */
  deliveryRate: number | null;
  segments: number;
  /** What the gateway reported, per currency (e.g. { XOF: 1250 }). */
  cost: Record<string, number>;
}

export interface UssdFigures {
  /** Sessions started in the period (sabatili's stored sessions). */
  sessions: number;
  /** Ended on a final screen (END). */
  completed: number;
  completionRate: number | null;
  /** Where the sessions not completed stopped: flow and state, most frequent first. */
  dropOff: Array<{ screen: string; sessions: number }>;
  /** The gateway's end-of-session notifications (POST /ussd/events) received in the period, by status. */
  gateway: Record<(typeof GATEWAY_STATUSES)[number], number>;
}

/** What facilities claimed for visits in the period, and what UTM paid them in it. */
export interface ClaimFigures {
  /** Claims for visits in the period, whatever their status, and by status. */
  claimed: CountAmount;
  pending: CountAmount;
  approved: CountAmount;
  rejected: CountAmount;
  /** Claims paid in the period (their batch disbursed), whatever the day of their visit. */
  paid: CountAmount;
  /** Mean days from the visit to the payment, over the claims paid in the period. */
  meanDaysToPayment: number | null;
}

export interface FacilityFigures {
  id: number;
  code: string;
  name: string;
  district: string;
  /** Months of the period with a claim or a payment: claims by the visit's month, payments by the payment's. */
  months: Array<{ month: Month } & ClaimFigures>;
  total: ClaimFigures;
}

export interface Figures {
  targetPopulation: number;
  penetration: {
    coveredPersons: number;
    /** coveredPersons / targetPopulation; null when the target is 0. */
    rate: number | null;
    trend: Array<{ day: LocalDate; coveredPersons: number; rate: number | null }>;
  };
  /** Households by coverage status today ('lapsed' includes never covered). */
  households: Record<CoverageStatus, number> & { total: number; neverCovered: number };
  /** Beneficiaries by their status today: their household's, or 'inactive'. */
  beneficiaries: Record<CoverageStatus | 'inactive', number> & { total: number };
  subsidised: {
    /** Among covered persons today. */
    covered: number;
    coveredShare: number | null;
    /** Among all active beneficiaries. */
    active: number;
    activeShare: number | null;
  };
  contributions: {
    months: Array<{ month: Month } & CountAmount & { byChannel: Record<Channel, CountAmount> }>;
    total: CountAmount & { byChannel: Record<Channel, CountAmount> };
    /** Orange Money's share of the period's contributions, by count and by amount. */
    mobileMoneyShare: { count: number | null; amount: number | null };
  };
  payments: {
    byStatus: Record<PaymentStatus, number>;
    /** succeeded / (succeeded + failed + expired): cancelled and still open ones are left out. */
    successRate: number | null;
    amountSucceeded: number;
    failureReasons: Array<{ status: 'failed' | 'expired'; reason: string; count: number }>;
  };
  sms: SmsFigures;
  ussd: UssdFigures;
  /** Claims of the members of these mutuelles, and the loss ratio: claims paid / contributions received in the period. */
  claims: ClaimFigures & { lossRatio: number | null };
}

export interface CallCounts {
  calls: number;
  /** Ended by the app: a final screen, or a goodbye. */
  completed: number;
  /** The member hung up while a prompt waited for keys. */
  hungUp: number;
  /** Rejected at once, to be called back for free (missed-call mode). */
  rejected: number;
}

/** The voice channel, network-wide: calls started in the period, the prompt they were hung up on, the calls UTM placed, and the prompts recorded. */
export interface VoiceFigures {
  calls: { inbound: CallCounts; outbound: CallCounts; completionRate: number | null };
  /** Calls hung up on a prompt waiting for keys, by its message key ('voice' for the channel's own words), most first. */
  dropOff: Array<{ screen: string; calls: number }>;
  /** Calls UTM placed (queued in the period): call-backs of missed calls, reminder calls. */
  placed: { callBacks: CallFigures; reminders: CallFigures };
  /** Recording slots per language, as the last survey of the library left them (not a period figure). */
  prompts: Array<{ lang: string; recorded: number; synthetic: number; missing: number }>;
}

export interface CampaignConversion {
  id: number;
  name: string;
  state: string;
  startedAt: string | null;
  counts: { audience: number; control: number; queued: number; sent: number; delivered: number; failed: number };
  conversions: Conversions;
}

export interface Kpis {
  period: { from: LocalDate; to: LocalDate; today: LocalDate };
  scope: { district: string | null; mutuelleId: string | null };
  /** The days of the penetration trend. */
  trendDays: LocalDate[];
  totals: Figures;
  districts: Array<{ district: string } & Figures>;
  mutuelles: Array<{ id: string; name: string; district: string } & Figures>;
  /** Claims per health facility and month (of the members in scope). */
  facilities: FacilityFigures[];
  /** SMS to and USSD sessions from numbers that are no household's phone. */
  nonMembers: { sms: SmsFigures; ussd: UssdFigures };
  voice: VoiceFigures;
  /** Whole network, not per mutuelle: reminders per rule since they started; campaigns started in the period. */
  conversions: { reminders: ReminderRuleResults[]; campaigns: CampaignConversion[] | null };
}

/** Status codes of the accumulators: the index in this list. 'never' is lapsed and never covered. */
const NEVER = 0,
  LAPSED = 1,
  GRACE = 2,
  WAITING = 3,
  ACTIVE = 4;
const CODE: Record<CoverageStatus, number> = { lapsed: LAPSED, grace: GRACE, waiting: WAITING, active: ACTIVE };

// ---------------------------------------------------------------------------------------------
// Accumulators: one per mutuelle (and one for numbers that are no member's), summed upwards

interface Acc {
  households: number[]; // by TIMELINE_STATUS
  beneficiaries: number[]; // active ones, by household TIMELINE_STATUS
  inactive: number;
  subsidisedByStatus: number[]; // active subsidised ones, by household TIMELINE_STATUS
  trend: number[]; // covered persons per trend day
  months: Map<number, number[]>; // month index → [count, amount] per channel, flattened
  payments: Record<PaymentStatus, number>;
  amountSucceeded: number;
  reasons: Map<string, number>; // 'status|reason'
  sms: Omit<SmsFigures, 'deliveryRate'> & { failedAfterSending: number };
  ussd: { sessions: number; completed: number; dropOff: Map<string, number>; gateway: Record<string, number> };
  claims: number[]; // see CLAIM_SLOTS
}

/** A claims accumulator: [count, amount] per status and paid, then the days from visit to payment summed. */
const CLAIM_SLOTS = 9;
const PAID = 6;
const DAYS = 8;
const claimSlot = (status: string) => 2 * CLAIM_STATUSES.indexOf(status as (typeof CLAIM_STATUSES)[number]);
const addAll = (a: number[], b: number[]) => b.forEach((v, i) => (a[i] = (a[i] as number) + v));

function claimFigures(v: readonly number[]): ClaimFigures {
  const pair = (i: number): CountAmount => ({ count: v[i]!, amount: v[i + 1]! });
  const [pending, approved, rejected, paid] = [0, 2, 4, PAID].map(pair) as [CountAmount, CountAmount, CountAmount, CountAmount];
  return {
    claimed: { count: pending.count + approved.count + rejected.count, amount: pending.amount + approved.amount + rejected.amount },
    pending,
    approved,
    rejected,
    paid,
    meanDaysToPayment: ratio(v[DAYS]!, paid.count),
  };
}

function newAcc(trendDays: number): Acc {
  return {
    households: [0, 0, 0, 0, 0],
    beneficiaries: [0, 0, 0, 0, 0],
    inactive: 0,
    subsidisedByStatus: [0, 0, 0, 0, 0],
    trend: new Array<number>(trendDays).fill(0),
    months: new Map(),
    payments: Object.fromEntries(PAYMENT_STATUSES.map((s) => [s, 0])) as Record<PaymentStatus, number>,
    amountSucceeded: 0,
    reasons: new Map(),
    sms: { messages: 0, sent: 0, delivered: 0, failed: 0, expired: 0, waiting: 0, segments: 0, cost: {}, failedAfterSending: 0 },
    ussd: { sessions: 0, completed: 0, dropOff: new Map(), gateway: { Success: 0, Incomplete: 0, Failed: 0 } },
    claims: new Array<number>(CLAIM_SLOTS).fill(0),
  };
}

function addInto(to: Acc, from: Acc): void {
  const add = addAll;
  const addMap = <K>(a: Map<K, number>, b: Map<K, number>) => b.forEach((v, key) => a.set(key, (a.get(key) ?? 0) + v));
  add(to.households, from.households);
  add(to.beneficiaries, from.beneficiaries);
  to.inactive += from.inactive;
  add(to.subsidisedByStatus, from.subsidisedByStatus);
  add(to.trend, from.trend);
  for (const [m, v] of from.months) {
    const mine = to.months.get(m);
    if (mine) add(mine, v);
    else to.months.set(m, [...v]);
  }
  for (const s of PAYMENT_STATUSES) to.payments[s] += from.payments[s];
  to.amountSucceeded += from.amountSucceeded;
  addMap(to.reasons, from.reasons);
  for (const key of ['messages', 'sent', 'delivered', 'failed', 'expired', 'waiting', 'segments', 'failedAfterSending'] as const) {
    to.sms[key] += from.sms[key];
  }
  for (const [cur, v] of Object.entries(from.sms.cost)) to.sms.cost[cur] = (to.sms.cost[cur] ?? 0) + v;
  to.ussd.sessions += from.ussd.sessions;
  to.ussd.completed += from.ussd.completed;
  addMap(to.ussd.dropOff, from.ussd.dropOff);
  for (const s of GATEWAY_STATUSES) to.ussd.gateway[s] = (to.ussd.gateway[s] ?? 0) + (from.ussd.gateway[s] ?? 0);
  add(to.claims, from.claims);
}

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);
const channels = (): Record<Channel, CountAmount> => ({
  orange_money: { count: 0, amount: 0 },
  cash: { count: 0, amount: 0 },
  agent: { count: 0, amount: 0 },
});
/** Money sums of floats reported by the gateway, kept to the gateway's precision. */
const round4 = (v: number) => Math.round(v * 10_000) / 10_000;

function smsFigures({ failedAfterSending, ...a }: Acc['sms']): SmsFigures {
  return {
    ...a,
    cost: Object.fromEntries(Object.entries(a.cost).map(([c, v]) => [c, round4(v)])),
    deliveryRate: ratio(a.delivered, a.delivered + failedAfterSending),
  };
}

function ussdFigures(a: Acc['ussd']): UssdFigures {
  return {
    sessions: a.sessions,
    completed: a.completed,
    completionRate: ratio(a.completed, a.sessions),
    dropOff: [...a.dropOff]
      .map(([screen, sessions]) => ({ screen, sessions }))
      .sort((x, y) => y.sessions - x.sessions || x.screen.localeCompare(y.screen)),
    gateway: { Success: a.gateway.Success ?? 0, Incomplete: a.gateway.Incomplete ?? 0, Failed: a.gateway.Failed ?? 0 },
  };
}

function figures(a: Acc, target: number, trendDays: LocalDate[], monthRange: [number, number]): Figures {
  const covered = a.beneficiaries[ACTIVE]! + a.beneficiaries[WAITING]! + a.beneficiaries[GRACE]!;
  const subsidisedCovered = a.subsidisedByStatus[ACTIVE]! + a.subsidisedByStatus[WAITING]! + a.subsidisedByStatus[GRACE]!;
  const activeBeneficiaries = a.beneficiaries.reduce((n, v) => n + v, 0);
  const subsidisedActive = a.subsidisedByStatus.reduce((n, v) => n + v, 0);
  const total = { count: 0, amount: 0, byChannel: channels() };
  const months: Figures['contributions']['months'] = [];
  for (let m = monthRange[0]; m <= monthRange[1]; m++) {
    const v = a.months.get(m) ?? [0, 0, 0, 0, 0, 0];
    const byChannel = channels();
    let count = 0;
    let amount = 0;
    CHANNELS.forEach((c, i) => {
      byChannel[c] = { count: v[2 * i]!, amount: v[2 * i + 1]! };
      count += v[2 * i]!;
      amount += v[2 * i + 1]!;
      total.byChannel[c].count += v[2 * i]!;
      total.byChannel[c].amount += v[2 * i + 1]!;
    });
    total.count += count;
    total.amount += amount;
    months.push({ month: fromMonthIndex(m), count, amount, byChannel });
  }
  const decided = a.payments.succeeded + a.payments.failed + a.payments.expired;
  return {
    targetPopulation: target,
    penetration: {
      coveredPersons: covered,
      rate: ratio(covered, target),
      trend: trendDays.map((day, i) => ({ day, coveredPersons: a.trend[i]!, rate: ratio(a.trend[i]!, target) })),
    },
    households: {
      active: a.households[ACTIVE]!,
      waiting: a.households[WAITING]!,
      grace: a.households[GRACE]!,
      lapsed: a.households[LAPSED]! + a.households[NEVER]!,
      neverCovered: a.households[NEVER]!,
      total: a.households.reduce((n, v) => n + v, 0),
    },
    beneficiaries: {
      active: a.beneficiaries[ACTIVE]!,
      waiting: a.beneficiaries[WAITING]!,
      grace: a.beneficiaries[GRACE]!,
      lapsed: a.beneficiaries[LAPSED]! + a.beneficiaries[NEVER]!,
      inactive: a.inactive,
      total: activeBeneficiaries + a.inactive,
    },
    subsidised: {
      covered: subsidisedCovered,
      coveredShare: ratio(subsidisedCovered, covered),
      active: subsidisedActive,
      activeShare: ratio(subsidisedActive, activeBeneficiaries),
    },
    contributions: {
      months,
      total,
      mobileMoneyShare: {
        count: ratio(total.byChannel.orange_money.count, total.count),
        amount: ratio(total.byChannel.orange_money.amount, total.amount),
      },
    },
    payments: {
      byStatus: { ...a.payments },
      successRate: ratio(a.payments.succeeded, decided),
      amountSucceeded: a.amountSucceeded,
      failureReasons: [...a.reasons]
        .map(([key, count]) => {
          const [status, reason] = key.split('|', 2) as ['failed' | 'expired', string];
          return { status, reason, count };
        })
        .sort((x, y) => y.count - x.count || x.reason.localeCompare(y.reason)),
    },
    sms: smsFigures(a.sms),
    ussd: ussdFigures(a.ussd),
    claims: { ...claimFigures(a.claims), lossRatio: ratio(a.claims[PAID + 1]!, total.amount) },
  };
}

// ---------------------------------------------------------------------------------------------
// The computation

const COST = /^([A-Z]{3})\s+([\d.]+)$/;

function checkDay(name: string, value: string): number {
  if (!isLocalDate(value)) throw new Refusal(`${name}: ${JSON.stringify(value)} is not a day; give YYYY-MM-DD, e.g. 2026-03-01`, name);
  return toDayNumber(value);
}

/**
 * Households and beneficiaries by status today, and covered persons on each trend day, from the
 * coverage read model: statusAt on each group of rows sharing the days a status depends on; a
 * household paid after `today` folded from its ledger; the trend a running sum of the persons whose
 * covered periods start, less those whose periods ended, by each day.
 */
function coverageFigures(db: Db, mutuelleIndex: Map<string, number>, accs: Acc[], today: LocalDate, trendDays: LocalDate[]): void {
  const coverage = createCoverageStore(db);
  const add = (mutuelleId: string, code: number, households: number, c: BeneficiaryCounts) => {
    const m = mutuelleIndex.get(mutuelleId);
    if (m === undefined) return;
    const acc = accs[m] as Acc;
    acc.households[code]! += households;
    acc.beneficiaries[code]! += c.full + c.subsidised;
    acc.subsidisedByStatus[code]! += c.subsidised;
    acc.inactive += c.inactive;
  };
  for (const g of coverage.groupsOn(today)) {
    add(g.mutuelleId, g.paidThrough === null ? NEVER : CODE[statusAt({ ...g, lastPaidOn: null }, today)], g.households, g);
  }
  // Counted above by their row, which says nothing of a day before their last payment: moved to the
  // status their ledger up to `today` gives.
  const paidAfter = coverage.paidAfter(today);
  if (paidAfter.length > 0) {
    const households = createHouseholdStore(db);
    for (const row of paidAfter) {
      const was = row.paidThrough === null ? NEVER : CODE[statusAt({ ...row, lastPaidOn: null }, today)];
      add(row.mutuelleId, was, -1, { full: -row.full, subsidised: -row.subsidised, inactive: -row.inactive });
      const rec = households.load(row.householdId)!;
      const cov = coverageOn({ beneficiaries: rec.beneficiaries, parameters: rec.parameters, ledger: rec.ledger, today });
      add(row.mutuelleId, cov.paidThrough === null ? NEVER : CODE[cov.status], 1, row);
    }
  }
  if (trendDays.length === 0) return;
  for (const e of coverage.trendChanges(trendDays[trendDays.length - 1]!)) {
    const m = mutuelleIndex.get(e.mutuelleId);
    if (m === undefined) continue;
    const trend = (accs[m] as Acc).trend;
    trendDays.forEach((t, i) => {
      if (e.day <= t) trend[i]! += e.persons;
    });
  }
}

/** The figures for the period (see the top of this file); a bad day, an inverted period or an unknown district or mutuelle is a Refusal naming it. */
export function computeKpis(db: Db, opts: KpiOptions): Kpis {
  const from = checkDay('from', opts.from);
  const to = checkDay('to', opts.to);
  const today = checkDay('today', opts.today);
  if (from > to) throw new Refusal(`the period is inverted: from ${opts.from} is after to ${opts.to}`, 'from');
  // Instants are ISO text (payments, gateway notifications) or epoch ms (outbox, sessions); Bamako is UTC.
  const isoFrom = opts.from;
  const isoTo = fromDayNumber(to + 1);
  const msFrom = Date.parse(`${isoFrom}T00:00:00Z`);
  const msTo = Date.parse(`${isoTo}T00:00:00Z`);

  const sums = createFigureSums(db);
  const all = sums.mutuelles();
  if (opts.district !== undefined && !all.some((m) => m.district === opts.district)) {
    throw new Refusal(
      `no district ${JSON.stringify(opts.district)}; known: ${[...new Set(all.map((m) => m.district))].join(', ')}`,
      'district',
    );
  }
  if (opts.mutuelleId !== undefined && !all.some((m) => m.id === opts.mutuelleId)) {
    throw new Refusal(`no mutuelle ${JSON.stringify(opts.mutuelleId)}; known: ${all.map((m) => m.id).join(', ')}`, 'mutuelle');
  }
  const mutuelles = all.filter(
    (m) => (opts.district === undefined || m.district === opts.district) && (opts.mutuelleId === undefined || m.id === opts.mutuelleId),
  );
  const scoped = opts.district !== undefined || opts.mutuelleId !== undefined;
  const mutuelleIndex = new Map(mutuelles.map((m, i) => [m.id, i]));

  // The trend: the last day of each month of the period, or `to` or today when earlier.
  const firstMonth = monthIndexOfDayNumber(from);
  const lastMonth = monthIndexOfDayNumber(to);
  const trend: number[] = [];
  for (let m = firstMonth; m <= lastMonth; m++) {
    const day = Math.min(lastDayNumberOfMonthIndex(m), to, today);
    if (day >= from && (trend.length === 0 || day > (trend[trend.length - 1] as number))) trend.push(day);
  }

  const accs = mutuelles.map(() => newAcc(trend.length));
  const nonMembers = newAcc(trend.length);
  const facilities = sums.facilities();
  /** Per facility: claims accumulators per month index. */
  const facilityAccs = new Map(facilities.map((f) => [f.id, new Map<number, number[]>()]));
  /** The accumulator of a household's mutuelle (null: no household, a number that is no member's); null out of scope. */
  const accOf = (mutuelleId: string | null): Acc | null => {
    if (mutuelleId === null) return nonMembers;
    const m = mutuelleIndex.get(mutuelleId);
    return m === undefined ? null : (accs[m] as Acc);
  };

  let voice: VoiceFigures | undefined;
  // One read transaction: every figure from the same snapshot while the server writes.
  atomically(db, () => {
    coverageFigures(db, mutuelleIndex, accs, opts.today, trend.map(fromDayNumber));

    for (const r of sums.contributionDays(opts.from, opts.to)) {
      const acc = r.mutuelleId === null ? null : accOf(r.mutuelleId);
      const channel = CHANNELS.indexOf(r.channel as Channel);
      if (!acc || channel < 0) continue;
      const mi = monthIndexOfDayNumber(toDayNumber(r.day));
      let v = acc.months.get(mi);
      if (!v) acc.months.set(mi, (v = new Array<number>(2 * CHANNELS.length).fill(0)));
      v[2 * channel]! += r.count;
      v[2 * channel + 1]! += r.amount;
    }

    for (const r of sums.paymentSums(opts.from, opts.to)) {
      const acc = accOf(r.mutuelleId);
      if (!acc || !(PAYMENT_STATUSES as readonly string[]).includes(r.status)) continue;
      const name = r.status as PaymentStatus;
      acc.payments[name] += r.count;
      if (name === 'succeeded') acc.amountSucceeded += r.amount;
      else if (name === 'failed' || name === 'expired') {
        const key = `${name}|${r.reason}`;
        acc.reasons.set(key, (acc.reasons.get(key) ?? 0) + r.count);
      }
    }

    for (const r of sums.smsGroups(msFrom, msTo)) {
      const acc = accOf(r.mutuelleId);
      if (!acc) continue;
      const f = acc.sms;
      f.messages += r.n;
      const sent = r.status === 'sent' || r.status === 'delivered' || (r.status === 'failed' && r.viaGateway === 1);
      if (sent) {
        f.sent += r.n;
        f.segments += r.segments;
      }
      if (r.status === 'delivered') f.delivered += r.n;
      else if (r.status === 'failed') {
        f.failed += r.n;
        if (r.viaGateway === 1) f.failedAfterSending += r.n;
      } else if (r.status === 'expired') f.expired += r.n;
      else if (r.status === 'queued' || r.status === 'sending') f.waiting += r.n;
      const cost = r.cost === null ? null : COST.exec(r.cost);
      if (cost) f.cost[cost[1]!] = (f.cost[cost[1]!] ?? 0) + Number(cost[2]) * r.n;
    }

    for (const r of sums.sessionGroups(msFrom, msTo)) {
      const acc = accOf(r.mutuelleId);
      if (!acc) continue;
      acc.ussd.sessions += r.n;
      if (r.completed === 1) acc.ussd.completed += r.n;
      else {
        const screen = screenName(r.machine ?? '?', r.state);
        acc.ussd.dropOff.set(screen, (acc.ussd.dropOff.get(screen) ?? 0) + r.n);
      }
    }
    for (const r of sums.gatewayEventGroups(isoFrom, isoTo)) {
      const acc = accOf(r.mutuelleId);
      if (acc) acc.ussd.gateway[r.status] = (acc.ussd.gateway[r.status] ?? 0) + r.n;
    }

    // Claims count for the patient's mutuelle and for the facility, in the month of the visit (claimed)
    // or of the payment (paid).
    const facilityMonth = (facilityId: number, month: string): number[] | null => {
      const months = facilityAccs.get(facilityId);
      if (!months) return null;
      const mi = monthIndexOfDayNumber(toDayNumber(`${month}-01`));
      let v = months.get(mi);
      if (!v) months.set(mi, (v = new Array<number>(CLAIM_SLOTS).fill(0)));
      return v;
    };
    for (const r of sums.claimGroups(opts.from, opts.to)) {
      const acc = accOf(r.mutuelleId);
      const slot = claimSlot(r.status);
      if (!acc || slot < 0) continue;
      for (const v of [acc.claims, facilityMonth(r.facilityId, r.month)]) {
        if (!v) continue;
        v[slot]! += r.n;
        v[slot + 1]! += r.amount;
      }
    }
    for (const r of sums.paidClaimGroups(opts.from, opts.to)) {
      const acc = accOf(r.mutuelleId);
      if (!acc) continue;
      for (const v of [acc.claims, facilityMonth(r.facilityId, r.month)]) {
        if (!v) continue;
        v[PAID]! += r.n;
        v[PAID + 1]! += r.amount;
        v[DAYS]! += r.days;
      }
    }
    voice = voiceFigures(db, isoFrom, isoTo, msFrom, msTo);
  });

  const trendDays = trend.map(fromDayNumber);
  const months: [number, number] = [firstMonth, lastMonth];
  const districtNames = [...new Set(mutuelles.map((m) => m.district))];
  const totalAcc = newAcc(trend.length);
  const districts = districtNames.map((district) => {
    const acc = newAcc(trend.length);
    let target = 0;
    mutuelles.forEach((m, i) => {
      if (m.district !== district) return;
      addInto(acc, accs[i] as Acc);
      target += m.target;
    });
    addInto(totalAcc, acc);
    return { district, ...figures(acc, target, trendDays, months) };
  });
  if (!scoped) addInto(totalAcc, nonMembers);
  const target = mutuelles.reduce((t, m) => t + m.target, 0);

  return {
    period: { from: opts.from, to: opts.to, today: opts.today },
    scope: { district: opts.district ?? null, mutuelleId: opts.mutuelleId ?? null },
    trendDays,
    totals: figures(totalAcc, target, trendDays, months),
    districts,
    mutuelles: mutuelles.map((m, i) => ({
      id: m.id,
      name: m.name,
      district: m.district,
      ...figures(accs[i] as Acc, m.target, trendDays, months),
    })),
    facilities: facilities.flatMap((f) => {
      const months = [...facilityAccs.get(f.id)!].sort(([a], [b]) => a - b);
      // A facility elsewhere is listed only for the claims of the members in scope.
      if (months.length === 0 && opts.district !== undefined && f.district !== opts.district) return [];
      const total = new Array<number>(CLAIM_SLOTS).fill(0);
      for (const [, v] of months) addAll(total, v);
      return [
        {
          ...f,
          months: months.map(([mi, v]) => ({ month: fromMonthIndex(mi), ...claimFigures(v) })),
          total: claimFigures(total),
        },
      ];
    }),
    nonMembers: { sms: smsFigures(nonMembers.sms), ussd: ussdFigures(nonMembers.ussd) },
    voice: voice as VoiceFigures,
    conversions: {
      reminders: reminderRuleResults(db),
      campaigns: opts.campaigns ? campaignConversions(opts.campaigns, opts.from, isoTo) : null,
    },
  };
}

function voiceFigures(db: Db, isoFrom: string, isoTo: string, msFrom: number, msTo: number): VoiceFigures {
  const voice = createVoiceStore(db);
  const empty = (): CallCounts => ({ calls: 0, completed: 0, hungUp: 0, rejected: 0 });
  const calls = { Inbound: empty(), Outbound: empty() };
  const dropOff = new Map<string, number>();
  for (const r of voice.outcomes(isoFrom, isoTo)) {
    const c = calls[r.direction];
    c.calls += r.calls;
    if (r.outcome === 'completed') c.completed += r.calls;
    else if (r.outcome === 'rejected') c.rejected += r.calls;
    else {
      c.hungUp += r.calls;
      const screen = r.screen ?? 'voice';
      dropOff.set(screen, (dropOff.get(screen) ?? 0) + r.calls);
    }
  }
  const answered = calls.Inbound.calls - calls.Inbound.rejected + calls.Outbound.calls - calls.Outbound.rejected;
  const placed = callFigures(createVoiceCallStore(db).countsBetween(msFrom, msTo));
  const prompts = new Map<string, { lang: string; recorded: number; synthetic: number; missing: number }>();
  for (const r of voice.promptCounts()) {
    const p = prompts.get(r.lang) ?? { lang: r.lang, recorded: 0, synthetic: 0, missing: 0 };
    p[r.status] += r.n;
    prompts.set(r.lang, p);
  }
  return {
    calls: {
      inbound: calls.Inbound,
      outbound: calls.Outbound,
      completionRate: ratio(calls.Inbound.completed + calls.Outbound.completed, answered),
    },
    dropOff: [...dropOff]
      .map(([screen, n]) => ({ screen, calls: n }))
      .sort((a, b) => b.calls - a.calls || a.screen.localeCompare(b.screen)),
    placed: { callBacks: placed['call-back'], reminders: placed.reminder },
    prompts: [...prompts.values()],
  };
}

/** 'contribute.quote' from the flow and its state value ('quote', or nested states as JSON). */
function screenName(machine: string, state: string | null): string {
  if (state === null) return machine;
  let path = state;
  if (state.startsWith('{')) {
    path = '';
    let v: unknown = JSON.parse(state);
    while (v && typeof v === 'object') {
      const [key, inner] = Object.entries(v)[0] ?? [];
      if (key === undefined) break;
      path += `${path ? '.' : ''}${key}`;
      v = inner;
    }
    if (typeof v === 'string') path += `${path ? '.' : ''}${v}`;
  }
  return `${machine}.${path}`;
}

/** Campaigns started in the period, with the campaigns module's own results. */
function campaignConversions(campaigns: Pick<Campaigns, 'list' | 'results'>, fromIso: string, toIso: string): CampaignConversion[] {
  return campaigns
    .list()
    .filter((c) => c.startedAt !== null && c.startedAt >= fromIso && c.startedAt < toIso)
    .map((c) => {
      const r = campaigns.results(c.id);
      return {
        id: c.id,
        name: c.name,
        state: r.campaign.state,
        startedAt: c.startedAt,
        counts: {
          audience: r.counts.audience,
          control: r.counts.control,
          queued: r.counts.queued,
          sent: r.counts.sent,
          delivered: r.counts.delivered,
          failed: r.counts.failed,
        },
        conversions: r.conversions,
      };
    })
    .sort((a, b) => a.id - b.id);
}

// ---------------------------------------------------------------------------------------------
// CSV

export const CSV_SECTIONS = [
  'penetration',
  'penetration_trend',
  'households_by_status',
  'beneficiaries_by_status',
  'subsidised',
  'contributions_by_month',
  'payments',
  'payment_failures',
  'sms',
  'ussd',
  'ussd_drop_off',
  'claims',
  'claims_by_facility_month',
  'reminder_conversions',
  'campaign_conversions',
  'voice_call_outcomes',
  'voice_drop_off',
  'voice_calls_placed',
  'voice_prompts_recorded',
] as const;
export type CsvSection = (typeof CSV_SECTIONS)[number];

type Row = Array<string | number | null>;
interface Level {
  level: 'total' | 'district' | 'mutuelle' | 'non-members';
  district: string;
  mutuelleId: string;
  mutuelle: string;
  f: Figures;
}
const SCOPE = ['level', 'district', 'mutuelle_id', 'mutuelle'];
/** Shares as decimals with 6 places (penetration rates are small: 0.000069 = 0.0069%); empty when undefined. */
const share = (v: number | null) => (v === null ? null : Math.round(v * 1e6) / 1e6);

const CLAIM_HEAD = [
  'claimed',
  'claimed_fcfa',
  'pending',
  'pending_fcfa',
  'approved',
  'approved_fcfa',
  'rejected',
  'rejected_fcfa',
  'paid',
  'paid_fcfa',
  'mean_days_to_payment',
];
const claimRow = (c: ClaimFigures): Row => [
  ...[c.claimed, c.pending, c.approved, c.rejected, c.paid].flatMap((x) => [x.count, x.amount]),
  c.meanDaysToPayment === null ? null : Math.round(c.meanDaysToPayment * 10) / 10,
];

/** One table per figure: a header row and its rows, each row naming its level (total, district, mutuelle). */
export function kpiTables(k: Kpis): Record<CsvSection, Row[]> {
  const levels: Level[] = [
    { level: 'total', district: '', mutuelleId: '', mutuelle: '', f: k.totals },
    ...k.districts.map((d): Level => ({ level: 'district', district: d.district, mutuelleId: '', mutuelle: '', f: d })),
    ...k.mutuelles.map((m): Level => ({ level: 'mutuelle', district: m.district, mutuelleId: m.id, mutuelle: m.name, f: m })),
  ];
  const scope = (l: Level): Row => [l.level, l.district, l.mutuelleId, l.mutuelle];
  const each = (fn: (l: Level) => Row[]) => levels.flatMap(fn);
  const nonMembers: Level = {
    level: 'non-members',
    district: '',
    mutuelleId: '',
    mutuelle: '',
    f: { ussd: k.nonMembers.ussd, sms: k.nonMembers.sms } as Figures,
  };
  const conv = (c: Conversions): Row => [
    c.windowDays,
    c.reached.size,
    c.reached.paid,
    share(c.reached.rate),
    c.comparisonKind,
    c.comparison.size,
    c.comparison.paid,
    share(c.comparison.rate),
    share(c.difference),
  ];
  const CONV = [
    'window_days',
    'reached',
    'reached_paid',
    'reached_rate',
    'comparison',
    'comparison_size',
    'comparison_paid',
    'comparison_rate',
    'difference',
  ];
  return {
    penetration: [
      [...SCOPE, 'day', 'target_population', 'covered_persons', 'rate'],
      ...each((l) => [[...scope(l), k.period.today, l.f.targetPopulation, l.f.penetration.coveredPersons, share(l.f.penetration.rate)]]),
    ],
    penetration_trend: [
      [...SCOPE, 'day', 'target_population', 'covered_persons', 'rate'],
      ...each((l) => l.f.penetration.trend.map((t) => [...scope(l), t.day, l.f.targetPopulation, t.coveredPersons, share(t.rate)])),
    ],
    households_by_status: [
      [...SCOPE, ...STATUSES, 'never_covered', 'total'],
      ...each((l) => [[...scope(l), ...STATUSES.map((s) => l.f.households[s]), l.f.households.neverCovered, l.f.households.total]]),
    ],
    beneficiaries_by_status: [
      [...SCOPE, ...STATUSES, 'inactive', 'total'],
      ...each((l) => [[...scope(l), ...STATUSES.map((s) => l.f.beneficiaries[s]), l.f.beneficiaries.inactive, l.f.beneficiaries.total]]),
    ],
    subsidised: [
      [...SCOPE, 'covered_persons', 'subsidised_covered', 'covered_share', 'active_beneficiaries', 'subsidised_active', 'active_share'],
      ...each((l) => {
        const s = l.f.subsidised;
        return [
          [
            ...scope(l),
            l.f.penetration.coveredPersons,
            s.covered,
            share(s.coveredShare),
            l.f.beneficiaries.total - l.f.beneficiaries.inactive,
            s.active,
            share(s.activeShare),
          ],
        ];
      }),
    ],
    contributions_by_month: [
      [
        ...SCOPE,
        'month',
        'count',
        'amount_fcfa',
        ...CHANNELS.flatMap((c) => [`${c}_count`, `${c}_amount_fcfa`]),
        'mobile_money_share_amount',
      ],
      ...each((l) =>
        l.f.contributions.months.map((m) => [
          ...scope(l),
          m.month,
          m.count,
          m.amount,
          ...CHANNELS.flatMap((c) => [m.byChannel[c].count, m.byChannel[c].amount]),
          share(m.amount > 0 ? m.byChannel.orange_money.amount / m.amount : null),
        ]),
      ),
    ],
    payments: [
      [...SCOPE, ...PAYMENT_STATUSES, 'success_rate', 'amount_succeeded_fcfa'],
      ...each((l) => [
        [
          ...scope(l),
          ...PAYMENT_STATUSES.map((s) => l.f.payments.byStatus[s]),
          share(l.f.payments.successRate),
          l.f.payments.amountSucceeded,
        ],
      ]),
    ],
    payment_failures: [
      [...SCOPE, 'status', 'reason', 'count'],
      ...each((l) => l.f.payments.failureReasons.map((r) => [...scope(l), r.status, r.reason, r.count])),
    ],
    sms: [
      [...SCOPE, 'messages', 'sent', 'delivered', 'failed', 'expired', 'waiting', 'delivery_rate', 'segments', 'cost'],
      ...[...levels, nonMembers].map((l) => {
        const s = l.f.sms;
        // The CFA franc the gateway reports as XOF is written FCFA, as everywhere in the app.
        const cost = Object.entries(s.cost)
          .map(([c, v]) => `${v} ${c === 'XOF' ? 'FCFA' : c}`)
          .join('; ');
        return [...scope(l), s.messages, s.sent, s.delivered, s.failed, s.expired, s.waiting, share(s.deliveryRate), s.segments, cost];
      }),
    ],
    ussd: [
      [...SCOPE, 'sessions', 'completed', 'completion_rate', ...GATEWAY_STATUSES.map((s) => `gateway_${s.toLowerCase()}`)],
      ...[...levels, nonMembers].map((l) => {
        const u = l.f.ussd;
        return [...scope(l), u.sessions, u.completed, share(u.completionRate), ...GATEWAY_STATUSES.map((s) => u.gateway[s])];
      }),
    ],
    ussd_drop_off: [
      [...SCOPE, 'screen', 'sessions'],
      ...[...levels, nonMembers].flatMap((l) => l.f.ussd.dropOff.map((d) => [...scope(l), d.screen, d.sessions])),
    ],
    claims: [
      [...SCOPE, ...CLAIM_HEAD, 'contributions_fcfa', 'loss_ratio'],
      ...each((l) => [[...scope(l), ...claimRow(l.f.claims), l.f.contributions.total.amount, share(l.f.claims.lossRatio)]]),
    ],
    claims_by_facility_month: [
      ['facility_code', 'facility', 'district', 'month', ...CLAIM_HEAD],
      ...k.facilities.flatMap((x) => [
        ...x.months.map((m) => [x.code, x.name, x.district, m.month, ...claimRow(m)]),
        [x.code, x.name, x.district, 'total', ...claimRow(x.total)],
      ]),
    ],
    reminder_conversions: [
      ['rule', 'decided', 'queued', 'delivered', 'cancelled', 'skipped', 'opted_out_after', ...CONV],
      ...k.conversions.reminders.map((r) => [
        r.rule,
        r.counts.decided,
        r.counts.queued,
        r.counts.delivered,
        r.counts.cancelled,
        r.counts.skipped,
        r.optedOutAfter,
        ...conv(r.conversions),
      ]),
    ],
    campaign_conversions: [
      ['campaign_id', 'name', 'state', 'started_at', 'audience', 'control', 'queued', 'sent', 'delivered', 'failed', ...CONV],
      ...(k.conversions.campaigns ?? []).map((c) => [
        c.id,
        c.name,
        c.state,
        c.startedAt,
        c.counts.audience,
        c.counts.control,
        c.counts.queued,
        c.counts.sent,
        c.counts.delivered,
        c.counts.failed,
        ...conv(c.conversions),
      ]),
    ],
    voice_call_outcomes: [
      ['direction', 'calls', 'completed', 'hung_up', 'rejected_for_call_back'],
      ...(['inbound', 'outbound'] as const).map((d) => {
        const c = k.voice.calls[d];
        return [d, c.calls, c.completed, c.hungUp, c.rejected];
      }),
    ],
    voice_drop_off: [['prompt', 'calls'], ...k.voice.dropOff.map((d) => [d.screen, d.calls])],
    voice_calls_placed: [
      ['purpose', 'placed', 'answered', 'unanswered', 'failed', 'waiting'],
      ...(
        [
          ['call-back', k.voice.placed.callBacks],
          ['reminder', k.voice.placed.reminders],
        ] as const
      ).map(([p, f]) => [p, f.placed, f.answered, f.unanswered, f.failed, f.waiting]),
    ],
    voice_prompts_recorded: [
      ['language', 'recorded', 'synthetic', 'missing'],
      ...k.voice.prompts.map((p) => [p.lang, p.recorded, p.synthetic, p.missing]),
    ],
  };
}

/**
 * The figures as CSV: every section (or only those asked for), each introduced by a line
 * `# <section>` and followed by a blank line. Shares are decimals (0.25 = 25%), amounts FCFA.
 */
export function kpisToCsv(k: Kpis, sections: readonly CsvSection[] = CSV_SECTIONS): string {
  const tables = kpiTables(k);
  return sections.map((s) => `# ${s}\n${toCsv(tables[s])}`).join('\n');
}
