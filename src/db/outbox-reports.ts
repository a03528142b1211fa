import type { Db } from './connection.ts';
import type { Language } from '../i18n/catalog.ts';

/**
 * Reads of the outbox (`sms_outbox`, `sms_optouts`) for those who report on it: `sabatili sms
 * stats`, `/healthz`, and the office console (a member's messages, a receipt to send again).
 */

export interface OutboxQueue {
  queued: number;
  /** The earliest `next_attempt_ms` among queued messages already due; null when none is. */
  oldestDueMs: number | null;
  /** Messages given up on since `failedSinceMs`. */
  failedSince: number;
}

export interface SentMessage {
  id: number;
  createdMs: number;
  kind: string;
  status: string;
  text: string;
  lastError: string | null;
}

export function createOutboxReports(db: Db) {
  const byKindAndStatus = db.prepare('SELECT kind, status, COUNT(*) AS n FROM sms_outbox GROUP BY kind, status');
  const costs = db.prepare(`SELECT cost, COUNT(*) AS n FROM sms_outbox WHERE cost IS NOT NULL GROUP BY cost`);
  const failedAfterSending = db.prepare(`SELECT COUNT(*) FROM sms_outbox WHERE status = 'failed' AND provider_message_id IS NOT NULL`).pluck();
  const segmentsSent = db.prepare(`SELECT COALESCE(SUM(segments), 0) FROM sms_outbox WHERE status IN ('sent', 'delivered')`).pluck();
  const optedOut = db.prepare('SELECT COUNT(*) FROM sms_optouts WHERE opted_out = 1').pluck();
  const queue = db.prepare(
    `SELECT COUNT(*) AS queued, MIN(CASE WHEN next_attempt_ms <= ? THEN next_attempt_ms END) AS oldestDueMs FROM sms_outbox WHERE status = 'queued'`,
  );
  const failedSince = db.prepare(`SELECT COUNT(*) FROM sms_outbox WHERE status = 'failed' AND updated_ms >= ?`).pluck();
  const bySource = db.prepare('SELECT recipient, text, language FROM sms_outbox WHERE source_key = ?');
  const latestTo = db.prepare(
    `SELECT id, created_ms AS createdMs, kind, status, text, last_error AS lastError FROM sms_outbox WHERE recipient = ? ORDER BY id DESC LIMIT ?`,
  );

  return {
    /** How many messages per (kind, status). */
    countsByKindAndStatus(): Array<{ kind: string; status: string; n: number }> {
      return byKindAndStatus.all() as Array<{ kind: string; status: string; n: number }>;
    },
    /** The distinct costs the gateway reported (e.g. 'XOF 25'), with how many messages each. */
    costs(): Array<{ cost: string; n: number }> {
      return costs.all() as Array<{ cost: string; n: number }>;
    },
    /** Failed after the gateway took them (a delivery report said so), as opposed to refused before. */
    failedAfterSending(): number {
      return failedAfterSending.get() as number;
    },
    segmentsSent(): number {
      return segmentsSent.get() as number;
    },
    optedOutCount(): number {
      return optedOut.get() as number;
    },
    /** The queue as `/healthz` reports it. */
    queue(nowMs: number, failedSinceMs: number): OutboxQueue {
      const q = queue.get(nowMs) as { queued: number; oldestDueMs: number | null };
      return { ...q, failedSince: failedSince.get(failedSinceMs) as number };
    },
    /** The message queued under a source key (e.g. `receipt:<operator txn id>`), to send it again. */
    bySourceKey(sourceKey: string): { recipient: string; text: string; language: Language } | undefined {
      return bySource.get(sourceKey) as { recipient: string; text: string; language: Language } | undefined;
    },
    /** The latest messages to a phone, newest first. */
    latestTo(phone: string, limit: number): SentMessage[] {
      return latestTo.all(phone, limit) as SentMessage[];
    },
  };
}

export type OutboxReports = ReturnType<typeof createOutboxReports>;
