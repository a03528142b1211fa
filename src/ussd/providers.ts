import { createHash } from 'node:crypto';
import { type AnyStateMachine, fromPromise } from 'xstate';
import type { CallbackInput } from '../../flows/callback.ts';
import type { ContributionOptions, QuoteView, StartResult, TargetHousehold } from '../../flows/contribute.ts';
import type { PaymentLine } from '../../flows/history.ts';
import { flows } from '../../flows/index.ts';
import type { FlowName } from '../../flows/lib.ts';
import type { DistrictMutuelles, Offer } from '../../flows/register.ts';
import type { Visits } from '../claims/visits.ts';
import { bamakoDay, type Clock } from '../clock.ts';
import type { CallbackStore } from '../db/callbacks.ts';
import type { FacilityStore } from '../db/facilities.ts';
import type { HouseholdStore } from '../db/households.ts';
import type { MutuelleStore } from '../db/mutuelles.ts';
import type { PreferenceStore } from '../db/preferences.ts';
import type { SessionStore } from '../db/sessions.ts';
import type { CallbackReceipt } from '../domain/callbacks.ts';
import type { MemberCheck, VisitOutcome, VisitRequest } from '../domain/care.ts';
import { type CoverageView, monthlyShare, parametersOn } from '../domain/coverage.ts';
import { lastDayOfMonth } from '../domain/dates.ts';
import { type FeeGrid, gridOn } from '../domain/fees.ts';
import { maskName } from '../domain/names.ts';
import { effectOfQuote, quoteContribution, suggestAmounts } from '../domain/quote.ts';
import type { Language } from '../i18n/catalog.ts';
import type { Payments } from '../payments/payments.ts';
import type { Outbox } from '../sms/outbox.ts';
import type { Caller, FlowEntry } from './engine.ts';
import { synchronous } from './run.ts';

export interface ProviderDeps {
  households: HouseholdStore;
  preferences: PreferenceStore;
  callbacks: CallbackStore;
  mutuelles: MutuelleStore;
  /** SMS opt-outs (STOP): reminders are off for a phone that texted STOP. */
  optOuts: Pick<Outbox, 'isOptedOut' | 'setOptOut'>;
  clock: Clock;
  payments: Pick<Payments, 'pendingFor' | 'start' | 'cancel' | 'byRequestKey'>;
  feeGrids: readonly FeeGrid[];
  feeBearer: 'member' | 'utm';
  /** Contribution amounts accepted from USSD. */
  limits: { min: number; max: number };
  /** The product shown to callers who are not members yet. */
  offerProductId: string;
  sessions: Pick<SessionStore, 'markResumed'>;
  /** Drops what the engine keeps in memory of a session closed from another one. */
  forgetSession: (sessionId: string) => void;
  /** The facility menu's checks and records (src/claims). */
  visits: Pick<Visits, 'facilityName' | 'findMember' | 'record'>;
}

/** How many payments "my payments" lists; older ones are at the mutuelle's office. */
const HISTORY_LIMIT = 24;

/**
 * A snapshot is only trusted by the machine that wrote it: the fingerprint changes with any state,
 * target or invoked service. Guards are left out, as their code always was (inline ones never reached
 * the JSON): naming one does not change which snapshots the machine can restore.
 */
export function machineVersion(machine: AnyStateMachine): number {
  let version = versions.get(machine);
  if (version === undefined) {
    const definition = JSON.stringify(machine.definition, (key, value: unknown) => (key === 'guard' ? undefined : value));
    version = parseInt(createHash('sha1').update(definition).digest('hex').slice(0, 8), 16);
    versions.set(machine, version);
  }
  return version;
}
/** A machine's definition never changes: serialised and hashed once per process, not at each start of the services (5 of a test app's 40 ms of start-up, measured). */
const versions = new WeakMap<AnyStateMachine, number>();

/**
 * Production wiring: each machine's named actors backed by the stores and the coverage rules.
 * Called once at start-up (machine.provide rebuilds the machine), never per hop.
 */
export function provideFlows(d: ProviderDeps): Record<FlowName, FlowEntry> {
  const today = () => bamakoDay(d.clock.now());

  const lookupCoverage = synchronous<CoverageView, { householdId: number }>((input) => {
    const view = d.households.coverageView(input.householdId, today());
    if (!view) throw new Error(`household ${input.householdId} not found`);
    return view;
  });

  const listPayments = synchronous<PaymentLine[], { householdId: number }>((input) => {
    const rec = d.households.load(input.householdId);
    if (!rec) throw new Error(`household ${input.householdId} not found`);
    return rec.ledger
      .slice(-HISTORY_LIMIT)
      .reverse()
      .map((p) => ({ date: p.paidOn, amount: p.amount, channel: p.channel }));
  });

  const requestCallback = synchronous<CallbackReceipt, CallbackInput>((input) =>
    d.callbacks.ask(
      { requestKey: input.key, phone: input.phone, householdId: input.householdId, reason: input.reason, channel: 'ussd' },
      d.clock.now(),
    ),
  );

  const loadOffer = synchronous<Offer, Record<string, never>>(() => {
    const p = parametersOn(d.households.parametersOf(d.offerProductId), today());
    return {
      contribution: p.annualContribution,
      monthly: monthlyShare(p, false),
      subsidised: monthlyShare(p, true) * 12,
      percent: p.subsidyPercent,
      joiningFee: p.joiningFee,
      days: p.waitingDays,
    };
  });

  const listMutuelles = synchronous<DistrictMutuelles[], Record<string, never>>(() =>
    d.mutuelles.districts().map((district) => ({ district, mutuelles: d.mutuelles.inDistrict(district).map((m) => m.name) })),
  );

  // The USSD setting and the SMS STOP keyword are one choice seen from two channels.
  const loadReminders = synchronous<boolean, { householdId: number; phone: string }>(
    (input) => d.preferences.remindersEnabled(input.householdId) && !d.optOuts.isOptedOut(input.phone),
  );
  const saveReminders = synchronous<void, { householdId: number; phone: string; enabled: boolean }>((input) => {
    d.preferences.setReminders(input.householdId, input.enabled, 'ussd', d.clock.now());
    if (input.enabled) d.optOuts.setOptOut(input.phone, false, 'ussd');
  });
  const saveReminderChannel = synchronous<void, { householdId: number; channel: 'sms' | 'voice' }>((input) => {
    d.preferences.setReminderChannel(input.householdId, input.channel, 'ussd', d.clock.now());
  });
  const saveLanguage = synchronous<void, { phone: string; householdId: number | null; lang: Language }>((input) => {
    if (input.householdId) d.households.setLanguage(input.householdId, input.lang, d.clock.now());
    else d.preferences.setCallerLanguage(input.phone, input.lang, d.clock.now());
  });

  const householdOf = (id: number) => {
    const rec = d.households.load(id);
    if (!rec) throw new Error(`household ${id} not found`);
    return rec;
  };

  const prepareContribution = synchronous<ContributionOptions, { householdId: number; phone: string }>((input) => {
    const pending = d.payments.pendingFor(input.phone);
    return {
      wallet: d.households.hasWallet(input.phone),
      pending: pending ? { amount: pending.amount, total: pending.total } : null,
      // Two suggestions (each says the day it pays up to), so that "other amount" and "another
      // household" stay on the first screen: what remains for the next month, and three months.
      suggestions: pickSuggestions(
        suggestAmounts({ household: householdOf(input.householdId), today: today() }).filter(
          (s) => s.amount >= d.limits.min && s.amount <= d.limits.max,
        ),
      ).map((s) => ({ kind: s.kind, amount: s.amount, until: lastDayOfMonth(s.month) })),
      min: d.limits.min,
      max: d.limits.max,
    };
  });

  const quote = synchronous<QuoteView, { householdId: number; amount: number }>((input) => {
    const day = today();
    const q = quoteContribution({
      amount: input.amount,
      feeBearer: d.feeBearer,
      grid: gridOn(d.feeGrids, day),
      household: householdOf(input.householdId),
      today: day,
    });
    // "Covered until" only when this payment moves the date and care is covered; from which day
    // when a waiting period applies; otherwise what will still remain.
    const e = effectOfQuote(q);
    return {
      amount: q.amount,
      fee: q.fee,
      total: q.total,
      feeBearer: q.feeBearer,
      effect: e.kind,
      coveredThrough: e.until,
      coveredFrom: e.from,
      remaining: e.remaining,
      nextMonth: e.month,
    };
  });

  const startContribution = fromPromise<StartResult, { householdId: number; phone: string; amount: number; key: string }>(
    async ({ input }) => {
      const r = await d.payments.start({
        householdId: input.householdId,
        payerMsisdn: input.phone,
        amount: input.amount,
        requestKey: input.key,
      });
      if (r.status === 'pendingExists') return { status: 'pendingExists', amount: r.payment.amount, total: r.payment.total };
      return { status: r.status };
    },
  );

  // What became of a quote confirmed before the call was cut: read only, nothing is sent again from here.
  const paymentOfQuote = synchronous<StartResult | null, { key: string }>((input) => {
    const p = d.payments.byRequestKey(input.key);
    if (!p) return null;
    switch (p.status) {
      case 'succeeded':
        return { status: 'paid' };
      case 'review':
        return { status: 'review' };
      case 'initiated':
      case 'pending':
        return { status: 'pendingExists', amount: p.amount, total: p.total };
      default:
        return { status: 'rejected' };
    }
  });

  const cancelPending = fromPromise<void, { phone: string }>(async ({ input }) => {
    await d.payments.cancel(input.phone);
  });

  const findHousehold = synchronous<TargetHousehold | 'ambiguous' | null, { card: string }>((input) => {
    const h = d.households.findForPayment(input.card);
    if (h === 'ambiguous') return h;
    if (!h) return null;
    return { householdId: h.id, maskedName: maskName(h.adherentName), mutuelle: h.mutuelleName };
  });

  // A resume offer is made once: the session it came from ends as 'resumed', taken or declined.
  const closeCutSession = synchronous<void, { sessionId: string }>((input) => {
    d.sessions.markResumed(input.sessionId);
    d.forgetSession(input.sessionId);
  });

  const loadFacility = synchronous<string, { agentId: number }>((input) => d.visits.facilityName(input.agentId));
  const findMember = synchronous<MemberCheck, { agentId: number; typed: string }>((input) =>
    d.visits.findMember(input.agentId, input.typed),
  );
  const recordVisit = synchronous<VisitOutcome, VisitRequest>((input) => d.visits.record(input));

  const provided = {
    main: flows.main,
    contribute: flows.contribute.provide({
      actors: { prepareContribution, quoteContribution: quote, startContribution, paymentOfQuote, cancelPending, findHousehold },
    }),
    coverage: flows.coverage.provide({ actors: { lookupCoverage } }),
    history: flows.history.provide({ actors: { listPayments } }),
    reminders: flows.reminders.provide({ actors: { loadReminders, saveReminders } }),
    callback: flows.callback.provide({ actors: { requestCallback } }),
    language: flows.language.provide({ actors: { saveLanguage, saveReminderChannel } }),
    register: flows.register.provide({ actors: { loadOffer, listMutuelles } }),
    resume: flows.resume.provide({ actors: { closeCutSession } }),
    facility: flows.facility.provide({ actors: { loadFacility, findMember, recordVisit } }),
  } satisfies Record<FlowName, AnyStateMachine>;

  return Object.fromEntries(
    Object.entries(provided).map(([name, machine]) => [name, { machine, version: machineVersion(flows[name as FlowName]) }]),
  ) as Record<FlowName, FlowEntry>;
}

/** Of the suggested amounts (smallest first): the first, and the one for three months (else the last of the first three). */
/** The first amount offered, and the one paying three months (or the next one when there is none). */
function pickSuggestions<T extends { kind: string }>(all: readonly T[]): T[] {
  const [first, ...rest] = all;
  if (!first) return [];
  const second = rest.find((s) => s.kind === 'threeMonths') ?? rest[0];
  return second ? [first, second] : [first];
}

/**
 * A health facility's active agent gets the facility menu in the agent's language (their work phone
 * records visits, even if it is also a member's); members the main menu in their household's language;
 * other numbers the joining menu, in French unless they chose.
 */
export function identifyCaller(
  households: HouseholdStore,
  preferences: PreferenceStore,
  facilities: Pick<FacilityStore, 'isAgentPhone' | 'agentByPhone'>,
  phone: string,
): Caller {
  // Members, nearly every caller, are told apart from agents in memory; only an agent's phone is queried.
  const agent = facilities.isAgentPhone(phone) ? facilities.agentByPhone(phone) : undefined;
  if (agent) return { home: 'facility', householdId: null, agentId: agent.id, lang: agent.language };
  const h = households.findByPhone(phone);
  if (h) return { home: 'main', householdId: h.id, lang: h.language };
  return { home: 'register', householdId: null, lang: preferences.callerLanguage(phone) ?? 'fr' };
}
