import { bamakoDay, systemTimers, type Clock, type TimerHandle, type Timers } from '../clock.ts';
import type { Db } from '../db/connection.ts';
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

interface Claimed {
  id: number;
  recipient: string;
  text: string;
  attempts: number;
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
  const history = db.prepare('INSERT INTO sms_status_history (message_id, status, detail, at_ms) VALUES (?, ?, ?, ?)');
  const expire = db.prepare(
    `UPDATE sms_outbox SET status = 'expired', updated_ms = @now WHERE status = 'queued' AND expires_ms <= @now RETURNING id`,
  );
  // A paused campaign's rows are held out of the due range (outbox HELD_MS); this filter also keeps
  // back the few that come back 'queued' from a retry after the pause or the cancel.
  const due = db.prepare(
    `SELECT id, recipient, text, attempts FROM sms_outbox
     WHERE status = 'queued' AND next_attempt_ms <= ?
       AND (campaign_id IS NULL OR campaign_id NOT IN (SELECT id FROM campaigns WHERE state IN ('paused', 'cancelled')))
     ORDER BY priority, next_attempt_ms, id LIMIT ?`,
  );
  const markSending = db.prepare(
    `UPDATE sms_outbox SET status = 'sending', attempts = attempts + 1, transport = ?, updated_ms = ? WHERE id = ?`,
  );
  const markSent = db.prepare(
    `UPDATE sms_outbox SET status = 'sent', provider_message_id = ?, cost = ?, last_error = NULL, updated_ms = ? WHERE id = ?`,
  );
  const markRetry = db.prepare(
    `UPDATE sms_outbox SET status = 'queued', next_attempt_ms = ?, last_error = ?, updated_ms = ? WHERE id = ?`,
  );
  const markFailed = db.prepare(`UPDATE sms_outbox SET status = 'failed', last_error = ?, updated_ms = ? WHERE id = ?`);
  const stuck = db.prepare(`SELECT id, attempts FROM sms_outbox WHERE status = 'sending' AND updated_ms <= ?`);
  const sentToday = db.prepare('SELECT sent FROM sms_sent_per_day WHERE day = ?').pluck();
  const countSent = db.prepare(
    `INSERT INTO sms_sent_per_day (day, sent) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET sent = sent + excluded.sent`,
  );

  const claim = db.transaction((limit: number, nowMs: number): { rows: Claimed[]; expired: number } => {
    const expired = expire.all({ now: nowMs }) as Array<{ id: number }>;
    for (const { id } of expired) history.run(id, 'expired', 'validity passed before sending', nowMs);
    const rows = due.all(nowMs, limit) as Claimed[];
    for (const r of rows) {
      markSending.run(transport.name, nowMs, r.id);
      history.run(r.id, 'sending', `attempt ${r.attempts + 1} via ${transport.name}`, nowMs);
    }
    return { rows, expired: expired.length };
  });

  const record = db.transaction((claimed: Map<number, Claimed>, outcomes: RecipientOutcome[], nowMs: number): DrainResult => {
    const r: DrainResult = { sent: 0, retried: 0, failed: 0, expired: 0 };
    for (const o of outcomes) {
      const c = claimed.get(o.messageId);
      if (!c) continue;
      const attempts = c.attempts + 1;
      if (o.outcome === 'accepted') {
        markSent.run(o.providerId, o.cost, nowMs, o.messageId);
        history.run(o.messageId, 'sent', `${o.code} ${o.providerId}`, nowMs);
        r.sent++;
      } else if (o.outcome === 'retry' && attempts < opts.maxAttempts) {
        const next = nowMs + opts.retryBaseMs * 2 ** (attempts - 1);
        markRetry.run(next, `${o.code ?? ''} ${o.reason}`.trim(), nowMs, o.messageId);
        history.run(o.messageId, 'queued', `retry after ${o.code ?? ''} ${o.reason}`.trim(), nowMs);
        r.retried++;
      } else {
        const why = `${o.code ?? ''} ${o.reason}${o.outcome === 'retry' ? ` (gave up after ${attempts} attempts)` : ''}`.trim();
        markFailed.run(why, nowMs, o.messageId);
        history.run(o.messageId, 'failed', why, nowMs);
        r.failed++;
      }
    }
    if (r.sent > 0) countSent.run(bamakoDay(new Date(nowMs)), r.sent);
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
      const used = (sentToday.get(day) as number | undefined) ?? 0;
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
  let timer: TimerHandle | null = null;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = true;

  function tick(): void {
    const limit = opts.ratePerSecond > 0 ? Math.max(1, Math.round((opts.ratePerSecond * opts.pollMs) / 1000)) : 1000;
    running = Promise.resolve()
      .then(() => api.recover(opts.staleSendingMs))
      .then(() => drainOnce(limit))
      .catch((err: unknown) => logger.error({ err }, 'sms: dispatch pass failed'))
      .finally(() => {
        if (!stopped) timer = timers.setTimeout(tick, opts.pollMs);
      });
  }

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
      const rows = stuck.all(nowMs - olderThanMs) as Array<{ id: number; attempts: number }>;
      if (rows.length === 0) return { confirmed: 0, requeued: 0 };
      const known = transport.confirm?.(rows.map((r) => r.id)) ?? new Map<number, string>();
      let confirmed = 0;
      db.transaction(() => {
        for (const r of rows) {
          const providerId = known.get(r.id);
          if (providerId) {
            markSent.run(providerId, null, nowMs, r.id);
            history.run(r.id, 'sent', `confirmed after restart: ${providerId}`, nowMs);
            confirmed++;
          } else if (r.attempts >= opts.maxAttempts) {
            markFailed.run(`interrupted at its last attempt (${r.attempts})`, nowMs, r.id);
            history.run(r.id, 'failed', `interrupted at its last attempt (${r.attempts}); the gateway cannot confirm it`, nowMs);
          } else {
            markRetry.run(nowMs, 'interrupted by a restart', nowMs, r.id);
            history.run(r.id, 'queued', 'interrupted by a restart; the gateway cannot confirm it', nowMs);
          }
        }
        if (confirmed > 0) countSent.run(bamakoDay(new Date(nowMs)), confirmed);
      }).immediate();
      logger.warn({ confirmed, unconfirmed: rows.length - confirmed }, 'sms: resolved messages left sending by a crash');
      return { confirmed, requeued: rows.length - confirmed };
    },
    /** Whether the loop inside the server is on (for /healthz). */
    isRunning(): boolean {
      return !stopped;
    },
    start(): void {
      if (!stopped) return;
      stopped = false;
      tick();
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) timers.clearTimeout(timer);
      await running;
    },
  };
  return api;
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
