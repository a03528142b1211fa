import type { Clock } from '../clock.ts';
import type { Db } from '../db/connection.ts';
import type { Actor, Audit } from './audit.ts';

export interface ReminderRule {
  id: number;
  mutuelleId: string | null;
  code: string;
  anchor: 'end' | 'lapse';
  offsetDays: number;
  enabled: boolean;
}

export class RuleError extends Error {}

/**
 * The reminder rules as managers read and change them (the job reads them at each run): the
 * default set, and a mutuelle's own set once customised (then only its own apply to it).
 */
export function createReminderRules(db: Db, clock: Clock, audit: Audit) {
  const all = db.prepare(
    'SELECT id, mutuelle_id AS mutuelleId, code, anchor, offset_days AS offsetDays, enabled FROM reminder_rules ORDER BY mutuelle_id IS NOT NULL, mutuelle_id, id',
  );
  const byId = db.prepare('SELECT id, mutuelle_id AS mutuelleId, code, anchor, offset_days AS offsetDays, enabled FROM reminder_rules WHERE id = ?');
  const update = db.prepare('UPDATE reminder_rules SET offset_days = ?, enabled = ? WHERE id = ?');
  const copyDefaults = db.prepare(
    'INSERT INTO reminder_rules (mutuelle_id, code, anchor, offset_days, enabled) SELECT ?, code, anchor, offset_days, enabled FROM reminder_rules WHERE mutuelle_id IS NULL',
  );
  const removeOwn = db.prepare('DELETE FROM reminder_rules WHERE mutuelle_id = ?');
  const ownCount = db.prepare('SELECT count(*) FROM reminder_rules WHERE mutuelle_id = ?').pluck();
  const row = (r: unknown) => ({ ...(r as ReminderRule), enabled: (r as { enabled: number }).enabled === 1 });

  return {
    list(): ReminderRule[] {
      return all.all().map(row);
    },
    /** A rule's day relative to its anchor (-60 to 90 days) and whether it is on. */
    change(id: number, offsetDays: number, enabled: boolean, actor: Actor): ReminderRule {
      if (!Number.isInteger(offsetDays) || offsetDays < -60 || offsetDays > 90) throw new RuleError('le décalage doit être un nombre de jours entre -60 et 90');
      return db.transaction(() => {
        const before = byId.get(id);
        if (!before) throw new RuleError(`règle ${id} introuvable`);
        update.run(offsetDays, enabled ? 1 : 0, id);
        const after = row(byId.get(id));
        audit.record(actor, clock.now(), { action: 'reminder-rule.change', entity: 'reminder_rule', entityId: id, before: row(before), after });
        return after;
      })();
    },
    /** Gives a mutuelle its own copy of the default rules, to change them for it alone. */
    customise(mutuelleId: string, actor: Actor): void {
      db.transaction(() => {
        if ((ownCount.get(mutuelleId) as number) > 0) throw new RuleError('cette mutuelle a déjà ses propres règles');
        copyDefaults.run(mutuelleId);
        audit.record(actor, clock.now(), { action: 'reminder-rule.customise', entity: 'mutuelle', entityId: mutuelleId });
      })();
    },
    /** Back to the default rules for that mutuelle. */
    reset(mutuelleId: string, actor: Actor): void {
      db.transaction(() => {
        const before = all.all().map(row).filter((r) => r.mutuelleId === mutuelleId);
        removeOwn.run(mutuelleId);
        audit.record(actor, clock.now(), { action: 'reminder-rule.reset', entity: 'mutuelle', entityId: mutuelleId, before });
      })();
    },
  };
}

export type ReminderRules = ReturnType<typeof createReminderRules>;
