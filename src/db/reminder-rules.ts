import type { Db } from './connection.ts';

/**
 * The reminder rules (`reminder_rules`) as managers change them: the default set (no mutuelle),
 * and a mutuelle's own copy once customised. Also what the rules achieved: each reminder decided
 * (`reminder_sends`, written by the reminders job) with its outbox message's fate, and the
 * payments of the households reminded.
 */

export interface ReminderRuleRow {
  id: number;
  mutuelleId: string | null;
  code: string;
  anchor: 'end' | 'lapse';
  offsetDays: number;
  enabled: boolean;
}

export interface ReminderSendOutcome {
  rule: string;
  householdId: number;
  status: 'held' | 'queued' | 'cancelled' | 'skipped';
  createdMs: number;
  /** The outbox message's status; null when none was written. */
  outboxStatus: string | null;
  /** 1 when the gateway took the message. */
  viaGateway: number | null;
  /** When its first delivery report said delivered. */
  deliveredMs: number | null;
  /** 1 when the phone texted STOP after the reminder was written. */
  optedOutAfter: number;
}

const COLUMNS = 'id, mutuelle_id AS mutuelleId, code, anchor, offset_days AS offsetDays, enabled';

export function createReminderRuleStore(db: Db) {
  const all = db.prepare(`SELECT ${COLUMNS} FROM reminder_rules ORDER BY mutuelle_id IS NOT NULL, mutuelle_id, id`);
  const byId = db.prepare(`SELECT ${COLUMNS} FROM reminder_rules WHERE id = ?`);
  const update = db.prepare('UPDATE reminder_rules SET offset_days = ?, enabled = ? WHERE id = ?');
  const copyDefaults = db.prepare(
    'INSERT INTO reminder_rules (mutuelle_id, code, anchor, offset_days, enabled) SELECT ?, code, anchor, offset_days, enabled FROM reminder_rules WHERE mutuelle_id IS NULL',
  );
  const removeOwn = db.prepare('DELETE FROM reminder_rules WHERE mutuelle_id = ?');
  const ownCount = db.prepare('SELECT count(*) FROM reminder_rules WHERE mutuelle_id = ?').pluck();
  const row = (r: unknown): ReminderRuleRow => ({ ...(r as ReminderRuleRow), enabled: (r as { enabled: number }).enabled === 1 });

  return {
    /** The default rules first, then each mutuelle's own. */
    list(): ReminderRuleRow[] {
      return all.all().map(row);
    },
    get(id: number): ReminderRuleRow | undefined {
      const r = byId.get(id);
      return r === undefined ? undefined : row(r);
    },
    change(id: number, offsetDays: number, enabled: boolean): void {
      update.run(offsetDays, enabled ? 1 : 0, id);
    },
    /** How many rules of its own the mutuelle has (0: the default rules apply to it). */
    ownCount(mutuelleId: string): number {
      return ownCount.get(mutuelleId) as number;
    },
    /** Gives the mutuelle a copy of the default rules. */
    copyDefaults(mutuelleId: string): void {
      copyDefaults.run(mutuelleId);
    },
    /** Back to the default rules for the mutuelle. */
    removeOwn(mutuelleId: string): void {
      removeOwn.run(mutuelleId);
    },
  };
}

export type ReminderRuleStore = ReturnType<typeof createReminderRuleStore>;

/** Every reminder decided, by rule then in order, with what became of its message. */
export function reminderSendOutcomes(db: Db): ReminderSendOutcome[] {
  return db
    .prepare(
      `SELECT r.rule, r.household_id AS householdId, r.status, r.created_ms AS createdMs, o.status AS outboxStatus,
         o.provider_message_id IS NOT NULL AS viaGateway,
         (SELECT MIN(h.at_ms) FROM sms_status_history h WHERE h.message_id = o.id AND h.status = 'delivered') AS deliveredMs,
         EXISTS (SELECT 1 FROM sms_optouts s WHERE s.phone = o.recipient AND s.opted_out = 1
                 AND s.updated_at >= strftime('%Y-%m-%dT%H:%M:%fZ', r.created_ms / 1000.0, 'unixepoch')) AS optedOutAfter
       FROM reminder_sends r LEFT JOIN sms_outbox o ON o.id = r.outbox_id ORDER BY r.rule, r.id`,
    )
    .all() as ReminderSendOutcome[];
}

/** Contributions since `sinceIso` of households that were ever reminded. */
export function paymentsOfRemindedSince(db: Db, sinceIso: string): Array<{ householdId: number; paidAt: string }> {
  return db
    .prepare(
      `SELECT household_id AS householdId, paid_at AS paidAt FROM contributions
       WHERE paid_at >= ? AND household_id IN (SELECT household_id FROM reminder_sends)`,
    )
    .all(sinceIso) as Array<{ householdId: number; paidAt: string }>;
}
