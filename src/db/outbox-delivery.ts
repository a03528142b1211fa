import type { Db } from './connection.ts';

/**
 * The sending side of the outbox (`sms_outbox`, its `sms_status_history`, `sms_sent_per_day`), as
 * the dispatcher moves messages: due → sending → sent, queued again, failed or expired. Each change
 * of a row writes its history row with it. Call inside the dispatcher's transactions.
 */

export interface DueMessage {
  id: number;
  recipient: string;
  text: string;
  attempts: number;
}

export function createOutboxDelivery(db: Db) {
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
  const sentOn = db.prepare('SELECT sent FROM sms_sent_per_day WHERE day = ?').pluck();
  const countSent = db.prepare(
    `INSERT INTO sms_sent_per_day (day, sent) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET sent = sent + excluded.sent`,
  );

  return {
    /** Queued messages whose validity passed by `nowMs` are expired; returns how many. */
    expireOverdue(nowMs: number): number {
      const expired = expire.all({ now: nowMs }) as Array<{ id: number }>;
      for (const { id } of expired) history.run(id, 'expired', 'validity passed before sending', nowMs);
      return expired.length;
    },
    /** Up to `limit` messages due by `nowMs`, in priority order. */
    due(nowMs: number, limit: number): DueMessage[] {
      return due.all(nowMs, limit) as DueMessage[];
    },
    /** A message handed to the transport: one more attempt. */
    markSending(id: number, transport: string, detail: string, nowMs: number): void {
      markSending.run(transport, nowMs, id);
      history.run(id, 'sending', detail, nowMs);
    },
    markSent(id: number, providerId: string, cost: string | null, detail: string, nowMs: number): void {
      markSent.run(providerId, cost, nowMs, id);
      history.run(id, 'sent', detail, nowMs);
    },
    /** Queued again for `nextMs`, with the error that sent it back. */
    markRetry(id: number, nextMs: number, error: string, detail: string, nowMs: number): void {
      markRetry.run(nextMs, error, nowMs, id);
      history.run(id, 'queued', detail, nowMs);
    },
    markFailed(id: number, error: string, detail: string, nowMs: number): void {
      markFailed.run(error, nowMs, id);
      history.run(id, 'failed', detail, nowMs);
    },
    /** Messages `sending` since `beforeMs` or earlier: left by a crash once older than any gateway call. */
    stuckSending(beforeMs: number): Array<{ id: number; attempts: number }> {
      return stuck.all(beforeMs) as Array<{ id: number; attempts: number }>;
    },
    /** Messages the gateway accepted on a Bamako day ('YYYY-MM-DD'), for the daily cap. */
    sentOn(day: string): number {
      return (sentOn.get(day) as number | undefined) ?? 0;
    },
    countSent(day: string, n: number): void {
      countSent.run(day, n);
    },
  };
}

export type OutboxDelivery = ReturnType<typeof createOutboxDelivery>;
