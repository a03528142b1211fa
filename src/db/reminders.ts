import type { ReminderMessage, ReminderRule } from '../domain/reminders.ts';
import type { Db } from './connection.ts';

/**
 * The reminders job's own tables: `reminder_sends` (one row per household, rule and period) and
 * the rules it reads (`reminder_rules`, edited by the office in src/office/reminder-rules.ts).
 */
export type ReminderSendStatus = 'queued' | 'held' | 'cancelled' | 'skipped';

export interface NewReminderSend {
  householdId: number;
  rule: string;
  period: string;
  message: ReminderMessage | null;
  outboxId: number | null;
  /** The reminder call queued instead of an SMS (a household that prefers calls). */
  callId: number | null;
  status: ReminderSendStatus;
  holdUntilMs: number | null;
  detail: string | null;
  now: number;
}

export interface HeldReminder {
  id: number;
  householdId: number;
  rule: string;
  period: string;
}

export function createReminderSends(db: Db) {
  const ruleRows = db.prepare(
    `SELECT mutuelle_id AS mutuelleId, code, anchor, offset_days AS offsetDays, enabled FROM reminder_rules ORDER BY id`,
  );
  const sent = db.prepare('SELECT 1 FROM reminder_sends WHERE household_id = ? AND rule = ? AND period = ?').pluck();
  const insertSend = db.prepare(
    `INSERT INTO reminder_sends (household_id, rule, period, message, outbox_id, call_id, status, hold_until_ms, detail, created_ms, updated_ms)
     VALUES (@householdId, @rule, @period, @message, @outboxId, @callId, @status, @holdUntilMs, @detail, @now, @now)`,
  );
  const heldDue = db.prepare(
    `SELECT id, household_id AS householdId, rule, period FROM reminder_sends
     WHERE status = 'held' AND hold_until_ms <= ? ORDER BY id`,
  );
  const settle = db.prepare(
    `UPDATE reminder_sends SET status = @status, message = @message, outbox_id = @outboxId, call_id = @callId, detail = @detail,
       updated_ms = @now WHERE id = @id`,
  );
  const pendingOf = db.prepare(
    `SELECT id, status, outbox_id AS outboxId, call_id AS callId FROM reminder_sends WHERE household_id = ? AND status IN ('held', 'queued')`,
  );
  const cancelSend = db.prepare(`UPDATE reminder_sends SET status = 'cancelled', detail = ?, updated_ms = ? WHERE id = ?`);

  return {
    /** Every rule row, with the mutuelle it belongs to (null: the default set). */
    rules(): Array<ReminderRule & { mutuelleId: string | null; enabled: number }> {
      return ruleRows.all() as Array<ReminderRule & { mutuelleId: string | null; enabled: number }>;
    },
    /** Whether this household already had this rule for this period (whatever became of it). */
    wasDecided(householdId: number, rule: string, period: string): boolean {
      return sent.get(householdId, rule, period) === 1;
    },
    record(s: NewReminderSend): void {
      insertSend.run(s);
    },
    /** Held reminders whose hold ends by `nowMs`, oldest first. */
    heldDue(nowMs: number): HeldReminder[] {
      return heldDue.all(nowMs) as HeldReminder[];
    },
    settle(s: {
      id: number;
      status: ReminderSendStatus;
      message: ReminderMessage | null;
      outboxId: number | null;
      callId: number | null;
      detail: string | null;
      now: number;
    }): void {
      settle.run(s);
    },
    /** The household's reminders not sent yet: held, or queued in the outbox or as a call. */
    pendingOf(householdId: number): Array<{ id: number; status: 'held' | 'queued'; outboxId: number | null; callId: number | null }> {
      return pendingOf.all(householdId) as Array<{ id: number; status: 'held' | 'queued'; outboxId: number | null; callId: number | null }>;
    },
    cancel(id: number, detail: string, nowMs: number): void {
      cancelSend.run(detail, nowMs, id);
    },
  };
}
