import type { Clock } from '../clock.ts';
import type { Db } from '../db/connection.ts';
import { createReminderRuleStore, type ReminderRuleRow } from '../db/reminder-rules.ts';
import { atomically } from '../db/transaction.ts';
import { Refusal } from '../domain/refusal.ts';
import type { Actor, Audit } from './audit.ts';

export type ReminderRule = ReminderRuleRow;

/** A change the reminder rules do not allow; the message is French, for the console. */
export class RuleError extends Refusal {}

/**
 * The reminder rules as managers read and change them (the job reads them at each run): the
 * default set, and a mutuelle's own set once customised (then only its own apply to it).
 */
export function createReminderRules(db: Db, clock: Clock, audit: Audit) {
  const rules = createReminderRuleStore(db);

  return {
    list: rules.list,
    /** A rule's day relative to its anchor (-60 to 90 days) and whether it is on. */
    change(id: number, offsetDays: number, enabled: boolean, actor: Actor): ReminderRule {
      if (!Number.isInteger(offsetDays) || offsetDays < -60 || offsetDays > 90)
        throw new RuleError('le décalage doit être un nombre de jours entre -60 et 90', 'offsetDays');
      return atomically(db, () => {
        const before = rules.get(id);
        if (!before) throw new RuleError(`règle ${id} introuvable`, 'id', 404);
        rules.change(id, offsetDays, enabled);
        const after = rules.get(id) as ReminderRule;
        audit.record(actor, clock.now(), { action: 'reminder-rule.change', entity: 'reminder_rule', entityId: id, before, after });
        return after;
      });
    },
    /** Gives a mutuelle its own copy of the default rules, to change them for it alone. */
    customise(mutuelleId: string, actor: Actor): void {
      atomically(db, () => {
        if (rules.ownCount(mutuelleId) > 0) throw new RuleError('cette mutuelle a déjà ses propres règles', 'mutuelleId', 409);
        rules.copyDefaults(mutuelleId);
        audit.record(actor, clock.now(), { action: 'reminder-rule.customise', entity: 'mutuelle', entityId: mutuelleId });
      });
    },
    /** Back to the default rules for that mutuelle. */
    reset(mutuelleId: string, actor: Actor): void {
      atomically(db, () => {
        const before = rules.list().filter((r) => r.mutuelleId === mutuelleId);
        rules.removeOwn(mutuelleId);
        audit.record(actor, clock.now(), { action: 'reminder-rule.reset', entity: 'mutuelle', entityId: mutuelleId, before });
      });
    },
  };
}

export type ReminderRules = ReturnType<typeof createReminderRules>;
