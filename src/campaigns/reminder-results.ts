// What each reminder rule achieves, from reminder_sends (one row per household, rule and period),
// the outbox and the ledger, with the same figures as a campaign's results.
import type { Db } from '../db/connection.ts';
import { paymentsOfRemindedSince, reminderSendOutcomes } from '../db/reminder-rules.ts';
import { type Conversions, conversions } from './conversions.ts';

export interface ReminderRuleResults {
  rule: string;
  /**
   * decided: reminder_sends rows; queued: written to the outbox; held (waiting for sending hours),
   * cancelled (the household paid first), skipped (STOP, reminders off, unusable number); then the
   * outbox's fate of those queued, as for campaigns.
   */
  counts: {
    decided: number;
    queued: number;
    held: number;
    cancelled: number;
    skipped: number;
    waiting: number;
    sent: number;
    delivered: number;
    failed: number;
    expired: number;
  };
  /** Members reminded whose phone texted STOP after the reminder was written. */
  optedOutAfter: number;
  /**
   * Reached: delivered reminders, from their delivery. Compared with the same rule's households not
   * reached (skipped, or queued but not delivered), from when the reminder was decided. Cancelled
   * ones are left out of both: they were cancelled because the household had just paid.
   */
  conversions: Conversions;
}

export function reminderRuleResults(db: Db): ReminderRuleResults[] {
  const sends = reminderSendOutcomes(db);
  if (sends.length === 0) return [];
  const since = new Date(Math.min(...sends.map((s) => s.createdMs))).toISOString();
  const payments = paymentsOfRemindedSince(db, since).map((p) => ({ householdId: p.householdId, paidMs: Date.parse(p.paidAt) }));

  const rules = [...new Set(sends.map((s) => s.rule))];
  return rules.map((rule) => {
    const mine = sends.filter((s) => s.rule === rule);
    const count = (pred: (s: (typeof mine)[number]) => boolean) => mine.filter(pred).length;
    const queued = mine.filter((s) => s.outboxStatus !== null);
    const reached = queued.filter((s) => s.outboxStatus === 'delivered' && s.deliveredMs !== null);
    const notReached = mine.filter((s) => s.status === 'skipped' || (s.outboxStatus !== null && s.outboxStatus !== 'delivered'));
    return {
      rule,
      counts: {
        decided: mine.length,
        queued: queued.length,
        held: count((s) => s.status === 'held'),
        cancelled: count((s) => s.status === 'cancelled'),
        skipped: count((s) => s.status === 'skipped'),
        waiting: count((s) => s.outboxStatus === 'queued' || s.outboxStatus === 'sending'),
        sent: count(
          (s) => s.outboxStatus === 'sent' || s.outboxStatus === 'delivered' || (s.outboxStatus === 'failed' && s.viaGateway === 1),
        ),
        delivered: reached.length,
        failed: count((s) => s.outboxStatus === 'failed'),
        expired: count((s) => s.outboxStatus === 'expired'),
      },
      optedOutAfter: count((s) => s.outboxStatus !== null && s.optedOutAfter === 1),
      conversions: conversions({
        reached: reached.map((s) => ({ householdId: s.householdId, deliveredMs: s.deliveredMs as number })),
        comparison: notReached.map((s) => ({ householdId: s.householdId, fromMs: s.createdMs })),
        comparisonKind: 'not-reached',
        payments,
      }),
    };
  });
}
