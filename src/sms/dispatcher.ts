import { bamakoDay, type Clock, createPollLoop, systemTimers, type Timers } from '../clock.ts';
import { createCampaignStore } from '../db/campaigns.ts';
import type { Db } from '../db/connection.ts';
import { type DueMessage as Claimed, createOutboxStore } from '../db/outbox.ts';
import { atomic, atomicallyFirst } from '../db/transaction.ts';
import type { Logger } from '../log.ts';
import type { RecipientOutcome, SmsTransport } from './transport.ts';

export interface DispatcherOptions {
  /** Messages per second; 0 = as fast as the gateway answers. */
  ratePerSecond: number;
  /**
   * Messages per Bamako day (accepted by the gateway); 0 = no cap. Beyond it nothing is dropped: due
   * messages stay queued for the next day, sent then in priority order, or expire when their validity passes first.
   */
  dailyCap: number;
  /** Recipients of one identical text grouped in one gateway call. */
  bulkSize: number;
  /** A message is given up after this many attempts. */
  maxAttempts: number;
  /** First retry delay; doubled at each attempt. */
  retryBaseMs: number;
  /** How often the loop inside the server looks for due messages. */
  pollMs: number;
  /** A message `sending` for longer than this was left by a crash (longer than any gateway call). */
  staleSendingMs: number;
  from?: string | undefined;
  /** The loop's polling and the rate's pacing (tests step them). */
  timers?: Timers;
}

export interface DrainResult {
  sent: number;
  retried: number;
  failed: number;
  expired: number;
}

/**
 * Sends what the outbox holds, in priority order, within the rate and the daily cap.
 *
 * Crash safety: the messages of a pass are marked `sending` (committed) before their gateway
 * calls, and each outcome with the provider's id is committed right after its call. A crash leaves
 * the pass's unfinished messages `sending`; once they are older than any gateway call could be,
 * `recover()` asks the transport whether they went out (the simulator knows; Africa's Talking has
 * no such query) and re-queues only those it cannot confirm. With the africastalking transport a
 * message interrupted during its call, or timed out and retried, may therefore arrive twice.
 */
export function createDispatcher(
  db: Db,
  transport: SmsTransport & { confirm?(messageIds: number[]): Map<number, string> },
  clock: Clock,
  logger: Logger,
  opts: DispatcherOptions,
) {
  const outbox = createOutboxStore(db);
  const campaigns = createCampaignStore(db);

  const claim = atomic(db, (limit: number, nowMs: number): { rows: Claimed[]; expired: number } => {
    const expired = outbox.expireOverdue(nowMs);
    const rows = outbox.due(nowMs, limit, campaigns.held());
    for (const r of rows) outbox.markSending(r.id, transport.name, `attempt ${r.attempts + 1} via ${transport.name}`, nowMs);
    return { rows, expired };
  });

  const record = atomic(db, (claimed: Map<number, Claimed>, outcomes: RecipientOutcome[], nowMs: number): DrainResult => {
    const r: DrainResult = { sent: 0, retried: 0, failed: 0, expired: 0 };
    for (const o of outcomes) {
      const c = claimed.get(o.messageId);
      if (!c) continue;
      const attempts = c.attempts + 1;
      if (o.outcome === 'accepted') {
        outbox.markSent(o.messageId, o.providerId, o.cost, `${o.code} ${o.providerId}`, nowMs);
        r.sent++;
      } else if (o.outcome === 'retry' && attempts < opts.maxAttempts) {
        const next = nowMs + opts.retryBaseMs * 2 ** (attempts - 1);
        outbox.markRetry(o.messageId, next, `${o.code ?? ''} ${o.reason}`.trim(), `retry after ${o.code ?? ''} ${o.reason}`.trim(), nowMs);
        r.retried++;
      } else {
        const why = `${o.code ?? ''} ${o.reason}${o.outcome === 'retry' ? ` (gave up after ${attempts} attempts)` : ''}`.trim();
        outbox.markFailed(o.messageId, why, why, nowMs);
        r.failed++;
      }
    }
    if (r.sent > 0) outbox.countSent(bamakoDay(new Date(nowMs)), r.sent);
    return r;
  });

  /** Identical texts grouped, up to the bulk size and what the transport takes. */
  function batches(rows: Claimed[]): Claimed[][] {
    const size = Math.max(1, Math.min(opts.bulkSize, transport.maxBatch));
    const byText = new Map<string, Claimed[]>();
    for (const r of rows) {
      const list = byText.get(r.text);
      if (list) list.push(r);
      else byText.set(r.text, [r]);
    }
    const out: Claimed[][] = [];
    for (const list of byText.values()) for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
    return out;
  }

  /** The Bamako day the cap was last reported reached: once a day is enough for the logs. */
  let capLoggedDay: string | null = null;

  /** One pass: claim up to `limit` due messages and send them. */
  async function drainOnce(limit: number): Promise<DrainResult> {
    const total: DrainResult = { sent: 0, retried: 0, failed: 0, expired: 0 };
    let budget = limit;
    if (opts.dailyCap > 0) {
      const day = bamakoDay(clock.now());
      const used = outbox.sentOn(day);
      budget = Math.min(budget, Math.max(0, opts.dailyCap - used));
      if (budget === 0 && capLoggedDay !== day) {
        capLoggedDay = day;
        logger.warn({ day, dailyCap: opts.dailyCap }, 'sms: daily cap reached, messages wait for the next day (SMS_DAILY_CAP)');
      }
    }
    // IMMEDIATE: a second dispatcher on the same file (a CLI drain beside the server) waits instead of claiming the same rows.
    // Claimed even at the cap (with no room): messages whose validity passes while they wait are expired on time.
    const { rows, expired } = claim.immediate(budget, clock.now().getTime());
    total.expired = expired;
    const claimed = new Map(rows.map((r) => [r.id, r]));
    for (const batch of batches(rows)) {
      const recipients = batch.map((r) => ({ messageId: r.id, to: r.recipient }));
      let outcomes: RecipientOutcome[];
      try {
        outcomes = await transport.send({ text: (batch[0] as Claimed).text, recipients, from: opts.from });
      } catch (err) {
        // Transports promise not to throw; if one does, its batch is retried rather than left 'sending'.
        logger.error({ err }, 'sms: transport threw');
        outcomes = recipients.map((r) => ({ ...r, outcome: 'retry', code: null, reason: 'transport error' }) as const);
      }
      const r = record(claimed, outcomes, clock.now().getTime());
      total.sent += r.sent;
      total.retried += r.retried;
      total.failed += r.failed;
    }
    return total;
  }

  const timers = opts.timers ?? systemTimers;
  const limit = opts.ratePerSecond > 0 ? Math.max(1, Math.round((opts.ratePerSecond * opts.pollMs) / 1000)) : 1000;
  const loop = createPollLoop(
    async () => {
      await api.recover(opts.staleSendingMs);
      await drainOnce(limit);
    },
    opts.pollMs,
    timers,
    (err) => logger.error({ err }, 'sms: dispatch pass failed'),
  );

  const api = {
    drainOnce,
    /** Sends everything due now, pass after pass (for `sabatili sms dispatch` and tests). */
    async drain(): Promise<DrainResult> {
      const total: DrainResult = { sent: 0, retried: 0, failed: 0, expired: 0 };
      for (;;) {
        const started = clock.now().getTime();
        const r = await drainOnce(opts.ratePerSecond > 0 ? opts.ratePerSecond : 1000);
        // With a rate, each pass of `rate` messages takes at least a second.
        if (opts.ratePerSecond > 0 && r.sent + r.retried + r.failed > 0) {
          await new Promise<void>((resolve) => timers.setTimeout(resolve, Math.max(0, 1000 - (clock.now().getTime() - started))));
        }
        total.sent += r.sent;
        total.retried += r.retried;
        total.failed += r.failed;
        total.expired += r.expired;
        if (r.sent + r.retried + r.failed === 0) return total;
      }
    },
    /**
     * Resolves messages a crash left in `sending` for longer than `olderThanMs` (a live call is
     * younger than that): confirmed ones are sent, the others queued again or, at their last
     * attempt, failed.
     */
    recover(olderThanMs = 0): { confirmed: number; requeued: number } {
      const nowMs = clock.now().getTime();
      const rows = outbox.stuckSending(nowMs - olderThanMs);
      if (rows.length === 0) return { confirmed: 0, requeued: 0 };
      const known = transport.confirm?.(rows.map((r) => r.id)) ?? new Map<number, string>();
      let confirmed = 0;
      atomicallyFirst(db, () => {
        for (const r of rows) {
          const providerId = known.get(r.id);
          if (providerId) {
            outbox.markSent(r.id, providerId, null, `confirmed after restart: ${providerId}`, nowMs);
            confirmed++;
          } else if (r.attempts >= opts.maxAttempts) {
            outbox.markFailed(
              r.id,
              `interrupted at its last attempt (${r.attempts})`,
              `interrupted at its last attempt (${r.attempts}); the gateway cannot confirm it`,
              nowMs,
            );
          } else {
            outbox.markRetry(r.id, nowMs, 'interrupted by a restart', 'interrupted by a restart; the gateway cannot confirm it', nowMs);
          }
        }
        if (confirmed > 0) outbox.countSent(bamakoDay(new Date(nowMs)), confirmed);
      });
      logger.warn({ confirmed, unconfirmed: rows.length - confirmed }, 'sms: resolved messages left sending by a crash');
      return { confirmed, requeued: rows.length - confirmed };
    },
    /** Whether the loop inside the server is on (for /healthz). */
    isRunning: loop.isRunning,
    start: loop.start,
    stop: loop.stop,
  };
  return api;
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
