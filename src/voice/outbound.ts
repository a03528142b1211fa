/**
 * The calls UTM places: a durable row per call (src/db/voice-outbox.ts), written before the gateway
 * is asked, then a dispatcher that places due calls through the call transport (the real SDK),
 * retried with backoff when the API fails or hangs, and the gateway's voice notifications that
 * settle them. Nothing here is awaited by a USSD or voice hop: queueing is one insert, placing runs
 * on the dispatcher's own timers.
 *
 * Contract with the /voice route (src/voice/calls.ts reports to it, given as `outbound`):
 * - a notification with `direction=Outbound` and `isActive=1` seen for the first time: `answered(ids)`
 *   marks the call answered and returns what it is for (a call-back: the main menu; a reminder: its
 *   message key and parameters to speak, then "1 to pay now"), or undefined for a call not ours;
 * - the digits collected on that first prompt: `keyPressed(ids, digits)` (the first key is kept);
 * - `isActive=0`: `settle({...ids, hangupCause, durationInSeconds, amount, currencyCode})`, idempotent.
 * `ids` is `{ clientRequestId, sessionId }` as the gateway posts them; either finds the call.
 */

import { type Clock, createPollLoop, systemTimers, type Timers } from '../clock.ts';
import type { Db } from '../db/connection.ts';
import { atomic, atomicallyFirst } from '../db/transaction.ts';
import { type CallPurpose, createVoiceCallStore, type VoiceCallRow } from '../db/voice-outbox.ts';
import { CALL_BACK_WINDOW_MS, retryDelayMs, ringAgain, ringResult } from '../domain/calls.ts';
import { isSendingTime, type SendingHours, sendableFrom } from '../domain/reminders.ts';
import type { Language, Params } from '../i18n/catalog.ts';
import type { IdSource } from '../ids.ts';
import type { Logger } from '../log.ts';
import type { CallTransport } from './outbound-transport.ts';

export interface CallsOptions {
  /** UTM's voice number, the caller id; without it no call is placed (each fails with the reason). */
  from: string | undefined;
  /** Attempts at the call API before a call is given up. */
  maxAttempts: number;
  /** First delay after a failed or hung API call; doubled at each attempt. */
  retryBaseMs: number;
  /** How long an unanswered reminder call waits before it rings again. */
  ringAgainMs: number;
  /** Reminder calls ring only within these hours (Bamako); call-backs ring at once. */
  hours: SendingHours;
  /** How often the loop inside the server looks for due calls. */
  pollMs: number;
  /** A call 'placing' for longer than this was left by a crash (longer than any API call). */
  stalePlacingMs: number;
  /** A call ringing or answered with no last notification after this long is closed as such. */
  staleRingingMs: number;
  timers?: Timers;
}

/** How long a queued call stays worth placing. */
const CALL_BACK_VALIDITY_MS = 15 * 60_000;
const REMINDER_VALIDITY_MS = 3 * 86_400_000;
/** Calls placed in parallel by one pass. */
const PASS_LIMIT = 20;

/** The ids the gateway posts with a voice notification. */
export interface CallIds {
  clientRequestId?: string | null | undefined;
  sessionId?: string | null | undefined;
}

/** What an answered call is for: what the /voice route plays first. */
export interface AnsweredCall {
  callId: number;
  purpose: CallPurpose;
  householdId: number | null;
  language: Language;
  /** A reminder's message (catalog key and parameters); null for a call-back (the main menu). */
  message: { key: string; params: Params } | null;
}

/** The last notification of a call (`isActive=0`). */
export interface CallEnd extends CallIds {
  hangupCause?: string | null | undefined;
  durationInSeconds?: number | string | null | undefined;
  amount?: number | string | null | undefined;
  currencyCode?: string | null | undefined;
}

export interface PassResult {
  placed: number;
  retried: number;
  failed: number;
  expired: number;
  postponed: number;
}

/** Calls of one purpose by what became of them (a call rung again counts once). */
export interface CallFigures {
  placed: number;
  answered: number;
  unanswered: number;
  failed: number;
  waiting: number;
}

const emptyFigures = (): CallFigures => ({ placed: 0, answered: 0, unanswered: 0, failed: 0, waiting: 0 });

/** Calls per purpose from their counts per status: placed (rung at least once), answered, not answered, failed, waiting. */
export function callFigures(counts: ReadonlyArray<{ purpose: CallPurpose; status: string; n: number }>): Record<CallPurpose, CallFigures> {
  const out: Record<CallPurpose, CallFigures> = { 'call-back': emptyFigures(), reminder: emptyFigures() };
  for (const { purpose, status, n } of counts) {
    const f = out[purpose];
    if (status === 'completed') f.answered += n;
    else if (status === 'no-answer') f.unanswered += n;
    else if (status === 'failed' || status === 'expired') f.failed += n;
    else if (status === 'queued' || status === 'placing' || status === 'ringing' || status === 'answered') f.waiting += n;
  }
  for (const f of Object.values(out)) f.placed = f.answered + f.unanswered;
  return out;
}

export type CallBackResult = { queued: true; callId: number } | { queued: false; existing: VoiceCallRow };

export function createCalls(db: Db, transport: CallTransport, clock: Clock, logger: Logger, ids: IdSource, opts: CallsOptions) {
  const store = createVoiceCallStore(db);
  const timers = opts.timers ?? systemTimers;

  const newRequestId = () => `sab-${ids.hex(12)}`;

  /**
   * One call-back per phone in the window, race-free: the check and the insert are one IMMEDIATE
   * transaction (a second process on the file waits for the first to commit).
   */
  const queueCallBackTx = (phone: string, householdId: number | null, language: Language, nowMs: number): CallBackResult => {
    const existing = store.lastCallBack(phone, nowMs - CALL_BACK_WINDOW_MS);
    if (existing) return { queued: false, existing };
    const callId = store.insert(
      {
        clientRequestId: newRequestId(),
        phone,
        householdId,
        language,
        purpose: 'call-back',
        sourceKey: null,
        messageKey: null,
        messageParams: null,
        nextAttemptMs: nowMs,
        expiresMs: nowMs + CALL_BACK_VALIDITY_MS,
      },
      nowMs,
    ) as number;
    return { queued: true, callId };
  };

  /** Due calls claimed ('placing', committed before the API is asked); reminder calls outside the hours moved to the next opening. */
  const claim = atomic(db, (nowMs: number, limit: number): { rows: VoiceCallRow[]; expired: number; postponed: number } => {
    const expired = store.expireOverdue(nowMs).length;
    const now = new Date(nowMs);
    const rows: VoiceCallRow[] = [];
    let postponed = 0;
    for (const r of store.due(nowMs, limit)) {
      if (r.purpose === 'reminder' && !isSendingTime(now, opts.hours)) {
        store.postpone(r.id, sendableFrom(now, opts.hours).getTime(), nowMs);
        postponed++;
        continue;
      }
      store.markPlacing(r.id, `attempt ${r.attempts + 1} via ${transport.name}`, nowMs);
      rows.push(r);
    }
    return { rows, expired, postponed };
  });

  /** A placement's result, committed right after its API call. */
  const recordPlacement = atomic(db, (r: VoiceCallRow, res: Awaited<ReturnType<CallTransport['place']>>, nowMs: number) => {
    const attempts = r.attempts + 1;
    if (res.outcome === 'queued') {
      store.markRinging(r.id, res.sessionId, nowMs);
      return 'placed' as const;
    }
    const why = `${res.code ?? ''} ${res.reason}`.trim();
    if (res.outcome === 'retry' && attempts < opts.maxAttempts) {
      store.requeue(r.id, nowMs + retryDelayMs(opts.retryBaseMs, attempts), why, nowMs);
      return 'retried' as const;
    }
    store.markFailed(r.id, res.outcome === 'retry' ? `${why} (gave up after ${attempts} attempts)` : why, nowMs);
    return 'failed' as const;
  });

  async function placeOne(r: VoiceCallRow): Promise<'placed' | 'retried' | 'failed'> {
    const res = opts.from
      ? await transport.place({ from: opts.from, to: r.phone, clientRequestId: r.clientRequestId })
      : ({ outcome: 'failed', code: null, reason: 'no VOICE_NUMBER configured' } as const);
    if (res.outcome !== 'queued') logger.warn({ call: r.id, outcome: res.outcome, reason: res.reason }, 'voice: call not placed');
    return recordPlacement(r, res, clock.now().getTime());
  }

  /** One pass: claim the due calls and place them, in parallel (a hung request holds up only its own call). */
  async function drainOnce(limit = PASS_LIMIT): Promise<PassResult> {
    const { rows, expired, postponed } = claim.immediate(clock.now().getTime(), limit);
    const total: PassResult = { placed: 0, retried: 0, failed: 0, expired, postponed };
    for (const outcome of await Promise.all(rows.map(placeOne))) total[outcome]++;
    return total;
  }

  const find = (c: CallIds): VoiceCallRow | undefined =>
    (c.clientRequestId ? store.byClientRequestId(c.clientRequestId) : undefined) ??
    (c.sessionId ? store.bySession(c.sessionId) : undefined);

  const settleTx = atomic(db, (c: CallEnd, nowMs: number): VoiceCallRow | undefined => {
    const row = find(c);
    if (!row) return undefined;
    const durationSeconds = toInt(c.durationInSeconds);
    const hangupCause = c.hangupCause ?? null;
    const result = ringResult({ sawAnswer: row.status === 'answered', hangupCause, durationSeconds });
    // A call already closed, or queued again after an earlier ring, is not changed by a repeated or
    // late notification, unless it says the member did answer (then the member was reached).
    const open = row.status === 'placing' || row.status === 'ringing' || row.status === 'answered';
    if (!open && !(row.status === 'queued' && result === 'answered')) return store.get(row.id);
    const cost = c.amount !== undefined && c.amount !== null && c.amount !== '' ? `${c.currencyCode ?? ''} ${c.amount}`.trim() : null;
    if (result === 'answered') {
      store.settle(row.id, { status: 'completed', outcome: 'answered', hangupCause, durationSeconds, cost }, nowMs);
    } else if (ringAgain(row.purpose, Math.max(row.rings, 1))) {
      const next = nowMs + opts.ringAgainMs;
      store.settle(row.id, { status: 'queued', outcome: 'unanswered', hangupCause, durationSeconds, cost, nextAttemptMs: next }, nowMs);
    } else {
      store.settle(row.id, { status: 'no-answer', outcome: 'unanswered', hangupCause, durationSeconds, cost }, nowMs);
    }
    return store.get(row.id);
  });

  const loop = createPollLoop(
    async () => {
      await api.recover();
      await drainOnce();
    },
    opts.pollMs,
    timers,
    (err) => logger.error({ err }, 'voice: call pass failed'),
  );

  const api = {
    /**
     * A missed call from a member: a call-back queued, unless one was queued for this phone in the
     * last 10 minutes (then that one is returned). The caller decides who may be called back
     * (src/voice/missed-calls.ts).
     */
    queueCallBack(phone: string, householdId: number | null, language: Language, now: Date): CallBackResult {
      return atomicallyFirst(db, () => queueCallBackTx(phone, householdId, language, now.getTime()));
    },
    /** A reminder call, once per source key (the reminder's household, rule and period); null when queued before. */
    queueReminder(r: {
      phone: string;
      householdId: number;
      language: Language;
      sourceKey: string;
      message: { key: string; params: Params };
      now: Date;
    }): number | null {
      const nowMs = r.now.getTime();
      return store.insert(
        {
          clientRequestId: newRequestId(),
          phone: r.phone,
          householdId: r.householdId,
          language: r.language,
          purpose: 'reminder',
          sourceKey: r.sourceKey,
          messageKey: r.message.key,
          messageParams: JSON.stringify(r.message.params),
          nextAttemptMs: nowMs,
          expiresMs: nowMs + REMINDER_VALIDITY_MS,
        },
        nowMs,
      );
    },
    /** A queued call not placed yet is cancelled (a contribution arrived before the reminder call); false when too late. */
    cancelQueued(callId: number, why: string, now: Date): boolean {
      return store.cancelQueued(callId, why, now.getTime());
    },
    drainOnce,
    /** Places everything due now, pass after pass (tests, the CLI). */
    async drain(): Promise<PassResult> {
      const total: PassResult = { placed: 0, retried: 0, failed: 0, expired: 0, postponed: 0 };
      for (;;) {
        const r = await drainOnce();
        for (const k of Object.keys(total) as Array<keyof PassResult>) total[k] += r[k];
        if (r.placed + r.retried + r.failed === 0) return total;
      }
    },
    /** The first notification of an outbound call: marks it answered; what it is for, or undefined when it is not one of ours. */
    answered(c: CallIds, now: Date): AnsweredCall | undefined {
      const row = find(c);
      if (!row) return undefined;
      store.markAnswered(row.id, c.sessionId ?? null, now.getTime());
      return {
        callId: row.id,
        purpose: row.purpose,
        householdId: row.householdId,
        language: row.language,
        message: row.messageKey ? { key: row.messageKey, params: JSON.parse(row.messageParams ?? '{}') as Params } : null,
      };
    },
    /** Digits the callee pressed on the call's first prompt (e.g. "1" to pay now); the first kept. */
    keyPressed(c: CallIds, digits: string, now: Date): void {
      const row = find(c);
      if (row && digits !== '') store.setKeyPressed(row.id, digits, now.getTime());
    },
    /** The last notification (`isActive=0`): the call settled (answered, rung again, or not answered). Idempotent. */
    settle(c: CallEnd, now: Date): VoiceCallRow | undefined {
      return settleTx(c, now.getTime());
    },
    /**
     * Calls a crash left 'placing' (queued again, or failed at their last attempt: the gateway
     * cannot say whether it placed them), and calls whose last notification never came (closed).
     */
    recover(): void {
      const nowMs = clock.now().getTime();
      const placing = store.stuck('placing', nowMs - opts.stalePlacingMs);
      const ringing = store.stuck('ringing', nowMs - opts.staleRingingMs);
      const answered = store.stuck('answered', nowMs - opts.staleRingingMs);
      if (placing.length + ringing.length + answered.length === 0) return;
      atomicallyFirst(db, () => {
        for (const r of placing) {
          if (r.attempts >= opts.maxAttempts) store.markFailed(r.id, `interrupted at its last attempt (${r.attempts})`, nowMs);
          else store.requeue(r.id, nowMs, 'interrupted by a restart; the gateway cannot confirm it', nowMs);
        }
        for (const r of ringing) store.markFailed(r.id, 'no last notification from the gateway', nowMs);
        const noEnd = { hangupCause: null, durationSeconds: null, cost: null };
        for (const r of answered) store.settle(r.id, { status: 'completed', outcome: 'answered', ...noEnd }, nowMs);
      });
      logger.warn({ placing: placing.length, ringing: ringing.length, answered: answered.length }, 'voice: stale calls resolved');
    },
    /** What the figures page shows of the calls placed: per purpose, calls placed (rung at least once), answered, not answered, failed, waiting. */
    figures(): Record<CallPurpose, CallFigures> {
      return callFigures(store.counts());
    },
    /** Every call to a phone, oldest first (the simulator, the console). */
    ofPhone(phone: string): VoiceCallRow[] {
      return store.ofPhone(phone);
    },
    get(callId: number): VoiceCallRow | undefined {
      return store.get(callId);
    },
    isRunning: loop.isRunning,
    start: loop.start,
    stop: loop.stop,
  };
  return api;
}

export type Calls = ReturnType<typeof createCalls>;

function toInt(v: number | string | null | undefined): number | null {
  if (v === undefined || v === null || v === '') return null;
  const n = Math.round(Number(v));
  return Number.isFinite(n) && n >= 0 ? n : null;
}
