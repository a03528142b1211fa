// The reminders job: which households get a coverage reminder now, in their language, and the
// outbox rows for them. The rules themselves are pure (src/domain/reminders.ts); this file reads the
// households, decides with those rules and writes `reminder_sends` and the outbox.
//
// Quiet hours: a reminder decided outside the sending hours is kept as a 'held' row of
// reminder_sends (hold_until_ms) and is written to the outbox only by the first run within the
// sending hours. Its text is composed then, from the household's situation that morning (a
// "last day" reminder held overnight says "ended yesterday, grace until…"), and a contribution
// meanwhile cancels it before it ever reaches the outbox. The outbox's own scheduling would have
// fixed the text at decision time.

import { bamakoDay, type Clock } from '../clock.ts';
import type { Db } from '../db/connection.ts';
import type { CoverageRow } from '../db/coverage.ts';
import { createHouseholdStore, type HouseholdStore } from '../db/households.ts';
import type { PreferenceStore } from '../db/preferences.ts';
import { createReminderSends } from '../db/reminders.ts';
import { atomic } from '../db/transaction.ts';
import {
  addDays,
  type Beneficiary,
  beneficiariesOfCounts,
  type Coverage,
  coverageAt,
  coverageOn,
  dueForMonth,
  situationOf,
  situationParams,
} from '../domain/coverage.ts';
import type { LocalDate } from '../domain/dates.ts';
import {
  dueReminder,
  isSendingTime,
  type ReminderMessage,
  type ReminderRule,
  reminderMessage,
  type SendingHours,
  sendableFrom,
  sendingCloses,
} from '../domain/reminders.ts';
import { type Catalogs, type Language, type Params, translate } from '../i18n/catalog.ts';
import type { Logger } from '../log.ts';
import { DEFAULT_VALIDITY_MS, type Outbox, SmsRejected } from '../sms/outbox.ts';

export type ReminderOutcome = 'queued' | 'held' | 'cancelled' | 'skipped';

/** One reminder a run sent, held, cancelled or skipped (or would have, in a dry run). */
export interface ReminderEntry {
  householdId: number;
  phone: string;
  name: string;
  language: Language;
  rule: string;
  period: LocalDate;
  message: ReminderMessage | null;
  text: string | null;
  outcome: ReminderOutcome;
  /** A reminder held by an earlier run and let out by this one. */
  released: boolean;
  holdUntil: Date | null;
  detail: string | null;
}

export interface ReminderRun {
  at: Date;
  dryRun: boolean;
  sendingTime: boolean;
  entries: ReminderEntry[];
  counts: Record<ReminderOutcome, number>;
}

export interface ReminderDeps {
  db: Db;
  clock: Clock;
  outbox: Outbox;
  preferences: PreferenceStore;
  catalogs: Catalogs;
  serviceCode: string;
  hours: SendingHours;
  /**
   * Reminder calls, for households that prefer them (members who cannot read): the call speaks the
   * same message. Absent (no voice number configured): those households get the SMS.
   */
  calls?: ReminderCalls | undefined;
  logger?: Logger;
}

/** Where a reminder call is queued (src/voice/outbound.ts). */
export interface ReminderCalls {
  queueReminder(r: {
    phone: string;
    householdId: number;
    language: Language;
    sourceKey: string;
    message: { key: string; params: Params };
    now: Date;
  }): number | null;
  cancelQueued(callId: number, why: string, now: Date): boolean;
}

/** A reminder's words: its catalog key and parameters (what a call speaks), and the SMS text they make. */
interface Composed {
  message: ReminderMessage;
  key: string;
  params: Params;
  text: string;
}

interface Household {
  id: number;
  phone: string;
  name: string;
  language: Language;
  mutuelleId: string;
  productId: string;
  /** Its coverage read-model row: state, counts of beneficiaries, last payment day. */
  row: CoverageRow;
  /** Anonymous beneficiaries with the row's counts: what the dues need. */
  beneficiaries: Beneficiary[];
}

const CANCELLED_BY_PAYMENT = 'cancelled: a contribution arrived before sending';

/**
 * Households are decided this many at a time, each slice in its own transaction: inside the
 * server, USSD hops are answered between slices. Measured on a shared test machine with 200 000
 * households: 11 s in all, the event loop held 9 ms at the median, 38 ms at the 99th percentile.
 */
export const SLICE_SIZE = 200;

/** What one run needs throughout: its instant, and the rules and product parameters read once. */
interface RunContext {
  now: Date;
  nowMs: number;
  today: LocalDate;
  sendingTime: boolean;
  dryRun: boolean;
  /** Read afresh by each run: product parameters as they are that day. */
  households: HouseholdStore;
  rulesOf: (mutuelleId: string) => ReminderRule[];
}

export function createReminders(d: ReminderDeps) {
  const { db } = d;
  const sends = createReminderSends(db);

  /** Up to `limit` households after id `afterId`, with their coverage read-model rows. */
  function loadSlice({ households }: RunContext, afterId: number, limit: number): Household[] {
    const page = households.page(afterId, limit);
    if (page.length === 0) return [];
    const rows = new Map(households.coverageRows(page[0]!.id, page[page.length - 1]!.id).map((r) => [r.householdId, r]));
    return page.map((h) => {
      const row = rows.get(h.id);
      if (!row) throw new Error(`household ${h.id} has no coverage row: run sabatili coverage rebuild`);
      return {
        id: h.id,
        phone: h.phone,
        name: h.adherentName,
        language: h.language,
        mutuelleId: h.mutuelleId,
        productId: h.productId,
        row,
        beneficiaries: beneficiariesOfCounts(row),
      };
    });
  }

  /** A mutuelle's enabled rules: its own set if it has one (all disabled: no reminders), else the default set. */
  function loadRules(): (mutuelleId: string) => ReminderRule[] {
    const defaults: ReminderRule[] = [];
    const own = new Map<string, ReminderRule[]>();
    for (const r of sends.rules()) {
      let list = defaults;
      if (r.mutuelleId !== null) {
        list = own.get(r.mutuelleId) ?? [];
        own.set(r.mutuelleId, list);
      }
      if (r.enabled === 1) list.push({ code: r.code, anchor: r.anchor, offsetDays: r.offsetDays });
    }
    return (mutuelleId) => own.get(mutuelleId) ?? defaults;
  }

  /** Why this household gets no reminder now (STOP, or turned off in the USSD menu), or null. */
  function refusal(h: Household): string | null {
    if (d.outbox.isOptedOut(h.phone)) return 'STOP';
    if (!d.preferences.remindersEnabled(h.id)) return 'reminders turned off';
    return null;
  }

  /** The household's coverage today: from its row, or its ledger for a day before its last payment. */
  function coverageOf(x: RunContext, h: Household): Coverage | null {
    const { households } = x;
    const parameters = households.parametersOf(h.productId);
    if (parameters.length === 0) return null;
    const household = { beneficiaries: h.beneficiaries, parameters };
    if (h.row.lastPaidOn === null || h.row.lastPaidOn <= x.today) return coverageAt(h.row, household, x.today);
    return coverageOn({ ...household, ledger: households.load(h.id)?.ledger ?? [], today: x.today });
  }

  function compose({ households }: RunContext, h: Household, cov: Coverage, today: LocalDate): Composed {
    const dates = { paidThrough: cov.paidThrough as LocalDate, graceUntil: cov.graceUntil as LocalDate };
    const message = reminderMessage(dates, today);
    // A household still in its waiting period is not covered: its reminder must not say "your cover
    // ends"; it says what its coverage screen says (care covered from…, pay … before …).
    const params = households.parametersOf(h.productId);
    const s = situationOf(cov, today, (m) => dueForMonth(h.beneficiaries, params, m));
    if (s.kind === 'waiting' || s.kind === 'waitingUnpaid') {
      const size = h.beneficiaries.filter((b) => b.active).length;
      return words(message, h.language, `sms.coverage.${s.kind}`, { ...situationParams(s, h.name, size), code: d.serviceCode });
    }
    return words(message, h.language, `sms.reminder.${message}`, {
      name: h.name,
      until: dates.paidThrough,
      date: dates.graceUntil,
      by: addDays(dates.graceUntil, 1), // "pay before" the day after grace: paying on its last day still keeps the cover
      remaining: cov.remaining,
      month: cov.nextMonth,
      code: d.serviceCode,
    });
  }

  function words(message: ReminderMessage, lang: Language, key: string, params: Params): Composed {
    return { message, key, params, text: translate(d.catalogs, lang, key, params) };
  }

  /** Queues the text, or the call for a household that prefers calls (not in a dry run); what became of it, for reminder_sends. */
  function enqueue(
    x: RunContext,
    h: Household,
    rule: string,
    period: LocalDate,
    words: Composed,
  ): { status: 'queued' | 'skipped'; outboxId: number | null; callId: number | null; detail: string | null } {
    const byCall = d.calls !== undefined && d.preferences.reminderChannel(h.id) === 'voice';
    if (x.dryRun) return { status: 'queued', outboxId: null, callId: null, detail: byCall ? 'call' : null };
    const sourceKey = `reminder:${h.id}:${rule}:${period}`;
    if (byCall && d.calls) {
      const callId = d.calls.queueReminder({
        phone: h.phone,
        householdId: h.id,
        language: h.language,
        sourceKey,
        message: { key: words.key, params: words.params },
        now: x.now,
      });
      return { status: 'queued', outboxId: null, callId, detail: 'call' };
    }
    try {
      const r = d.outbox.enqueue({
        to: h.phone,
        text: words.text,
        lang: h.language,
        kind: 'reminder',
        sourceKey,
        // Not sent at night either when the dispatcher is behind or the daily cap is reached.
        validityMs: Math.min(DEFAULT_VALIDITY_MS.reminder, sendingCloses(x.now, d.hours).getTime() - x.nowMs),
      });
      if (r.status === 'opted-out') return { status: 'skipped', outboxId: null, callId: null, detail: 'STOP' };
      return { status: 'queued', outboxId: r.id, callId: null, detail: null };
    } catch (err) {
      if (!(err instanceof SmsRejected)) throw err;
      return { status: 'skipped', outboxId: null, callId: null, detail: err.message };
    }
  }

  function entry(
    h: Household,
    rule: string,
    period: LocalDate,
    rest: Partial<ReminderEntry> & { outcome: ReminderOutcome },
  ): ReminderEntry {
    return {
      householdId: h.id,
      phone: h.phone,
      name: h.name,
      language: h.language,
      rule,
      period,
      message: null,
      text: null,
      released: false,
      holdUntil: null,
      detail: null,
      ...rest,
    };
  }

  /** Held by an earlier run: out now, unless the coverage moved on or the member said no meanwhile. */
  function releaseHeld(x: RunContext): ReminderEntry[] {
    const entries: ReminderEntry[] = [];
    for (const held of sends.heldDue(x.nowMs)) {
      const h = loadSlice(x, held.householdId - 1, 1)[0];
      if (h?.id !== held.householdId) continue;
      const cov = coverageOf(x, h);
      const no = refusal(h);
      let e: ReminderEntry;
      let outboxId: number | null = null;
      let callId: number | null = null;
      if (!cov || cov.paidThrough !== held.period) {
        e = entry(h, held.rule, held.period, { outcome: 'cancelled', released: true, detail: 'the coverage changed before sending' });
      } else if (no) {
        e = entry(h, held.rule, held.period, { outcome: 'skipped', released: true, detail: no });
      } else {
        const words = compose(x, h, cov, x.today);
        const r = enqueue(x, h, held.rule, held.period, words);
        ({ outboxId, callId } = r);
        e = entry(h, held.rule, held.period, {
          outcome: r.status,
          released: true,
          message: words.message,
          text: words.text,
          detail: r.detail,
        });
      }
      if (!x.dryRun) sends.settle({ id: held.id, status: e.outcome, message: e.message, outboxId, callId, detail: e.detail, now: x.nowMs });
      entries.push(e);
    }
    return entries;
  }

  /** The households of one slice: the rule due for each, queued (held outside the sending hours). */
  function decide(x: RunContext, households: Household[]): ReminderEntry[] {
    const entries: ReminderEntry[] = [];
    for (const h of households) {
      const cov = coverageOf(x, h);
      if (!cov) continue;
      const due = dueReminder(x.rulesOf(h.mutuelleId), { ...cov, lastPaidOn: h.row.lastPaidOn }, x.today);
      if (!due || sends.wasDecided(h.id, due.rule.code, due.period)) continue;
      const rule = due.rule.code;
      // Recorded like the others: results compare the members reached with those who said no.
      const no = refusal(h);
      let e: ReminderEntry;
      let outboxId: number | null = null;
      let callId: number | null = null;
      if (no) e = entry(h, rule, due.period, { outcome: 'skipped', detail: no });
      else if (!x.sendingTime) e = entry(h, rule, due.period, { outcome: 'held', holdUntil: sendableFrom(x.now, d.hours) });
      else {
        const words = compose(x, h, cov, x.today);
        const r = enqueue(x, h, rule, due.period, words);
        ({ outboxId, callId } = r);
        e = entry(h, rule, due.period, { outcome: r.status, message: words.message, text: words.text, detail: r.detail });
      }
      entries.push(e);
      if (!x.dryRun) {
        sends.record({
          householdId: h.id,
          rule,
          period: due.period,
          message: e.message,
          outboxId,
          callId,
          status: e.outcome,
          holdUntilMs: e.holdUntil?.getTime() ?? null,
          detail: e.detail,
          now: x.nowMs,
        });
      }
    }
    return entries;
  }

  /**
   * A run as steps, each read and written in one transaction (a payment between two steps is
   * seen by the next): held reminders first, then the households slice by slice.
   */
  function* steps(x: RunContext): Generator<() => ReminderEntry[]> {
    if (x.sendingTime) yield () => releaseHeld(x);
    let after = 0;
    let done = false;
    while (!done) {
      yield () => {
        const slice = loadSlice(x, after, SLICE_SIZE);
        done = slice.length < SLICE_SIZE;
        if (slice.length > 0) after = slice[slice.length - 1]!.id;
        return decide(x, slice);
      };
    }
  }

  function start(dryRun: boolean): RunContext {
    const now = d.clock.now();
    return {
      now,
      nowMs: now.getTime(),
      today: bamakoDay(now),
      sendingTime: isSendingTime(now, d.hours),
      dryRun,
      households: createHouseholdStore(db),
      rulesOf: loadRules(),
    };
  }

  // IMMEDIATE: the server's schedule and a `sabatili reminders run` beside it decide one after the other.
  const inTransaction = atomic(db, (step: () => ReminderEntry[]) => step());
  const execute = (x: RunContext, step: () => ReminderEntry[]) => (x.dryRun ? step() : inTransaction.immediate(step));

  function finish(x: RunContext, entries: ReminderEntry[]): ReminderRun {
    const counts: Record<ReminderOutcome, number> = { queued: 0, held: 0, cancelled: 0, skipped: 0 };
    for (const e of entries) counts[e.outcome]++;
    if (!x.dryRun && entries.length > 0) d.logger?.info({ ...counts }, 'reminders: run');
    return { at: x.now, dryRun: x.dryRun, sendingTime: x.sendingTime, entries, counts };
  }

  function cancelQueued(p: { outboxId: number | null; callId: number | null }, now: Date): boolean {
    if (p.callId !== null) return d.calls?.cancelQueued(p.callId, CANCELLED_BY_PAYMENT, now) ?? false;
    return p.outboxId !== null && d.outbox.expireQueued(p.outboxId, CANCELLED_BY_PAYMENT, now);
  }

  return {
    /** One pass at the clock's time: held reminders let out, due ones queued (or held at night). `dryRun` writes nothing. */
    run(opts: { dryRun?: boolean } = {}): ReminderRun {
      const x = start(opts.dryRun === true);
      const entries: ReminderEntry[] = [];
      for (const step of steps(x)) entries.push(...execute(x, step));
      return finish(x, entries);
    },
    /** The same pass, giving the event loop back between slices (inside the server). */
    async runInSlices(): Promise<ReminderRun> {
      const x = start(false);
      const entries: ReminderEntry[] = [];
      for (const step of steps(x)) {
        entries.push(...execute(x, step));
        await new Promise((resolve) => setImmediate(resolve));
      }
      return finish(x, entries);
    },
    /**
     * A contribution arrived: the household's reminders not sent yet are cancelled (held ones, and
     * queued ones the dispatcher has not taken). Call it in the ledger's transaction. Returns how many.
     */
    cancelPending(householdId: number, now: Date): number {
      const nowMs = now.getTime();
      let cancelled = 0;
      for (const p of sends.pendingOf(householdId)) {
        // Taken by the dispatcher already ('sending' or later, a call placed): too late, it is on its way.
        if (p.status === 'queued' && !cancelQueued(p, now)) continue;
        sends.cancel(p.id, CANCELLED_BY_PAYMENT, nowMs);
        cancelled++;
      }
      return cancelled;
    },
  };
}

export type Reminders = ReturnType<typeof createReminders>;
