// When a household is reminded that its coverage ends, and when an SMS may go out. Pure functions.
//
// A rule fires a number of days after an anchor of the household's current coverage: 'end' is the
// paid-through day (the last covered day), 'lapse' the first day after grace. A reminder is about
// one period, the paid-through day: paying for another month moves the period, so the rules of the
// new period start afresh and those of the old one no longer apply.

import { bamakoDay, bamakoHour, bamakoInstant } from '../clock.ts';
import { addDays, type LocalDate, toDayNumber } from './dates.ts';

export type ReminderAnchor = 'end' | 'lapse';

export interface ReminderRule {
  code: string;
  anchor: ReminderAnchor;
  offsetDays: number;
}

/** What the message says, from the household's situation on the day it is sent (never from the rule). */
export type ReminderMessage = 'before_end' | 'last_day' | 'grace' | 'lapsed';

/** The set every mutuelle without rules of its own uses (also seeded by migration 4). */
export const DEFAULT_RULES: readonly ReminderRule[] = [
  { code: 'before_end', anchor: 'end', offsetDays: -7 },
  { code: 'last_day', anchor: 'end', offsetDays: 0 },
  { code: 'grace', anchor: 'lapse', offsetDays: -7 },
  { code: 'lapsed', anchor: 'lapse', offsetDays: 30 },
];

/**
 * A rule missed (the server was down, the job did not run) is still sent this many days after its
 * day, unless a later rule is due by then; later than that, it would remind of something stale.
 */
export const CATCH_UP_DAYS = 3;

/** The two days of a household's coverage the rules are counted from; null before any cover. */
export interface CoverageDates {
  paidThrough: LocalDate | null;
  graceUntil: LocalDate | null;
  /** The day of the household's last payment: a rule due on or before it was answered by paying. */
  lastPaidOn?: LocalDate | null;
}

export interface DueReminder {
  rule: ReminderRule;
  /** The paid-through day the reminder is about: one reminder per household, rule and period. */
  period: LocalDate;
  /** The day the rule fires. */
  day: LocalDate;
}

/** The day a rule fires for this coverage, or null when it never does (never covered; a grace-side rule that would fall while still covered). */
export function ruleDay(rule: ReminderRule, c: CoverageDates): LocalDate | null {
  if (c.paidThrough === null || c.graceUntil === null) return null;
  if (rule.anchor === 'end') return addDays(c.paidThrough, rule.offsetDays);
  const day = addDays(c.graceUntil, 1 + rule.offsetDays);
  // A product with a short grace must not turn "during grace" into a second "before the end".
  return toDayNumber(day) > toDayNumber(c.paidThrough) ? day : null;
}

/**
 * The rule due `today`: the one that fired last, on or before today, if that was less than
 * CATCH_UP_DAYS ago and the household has not paid since. A rule overtaken by a later one is not
 * sent late (a member who restarts the cover on the 26th gets no "ends on the 31st, 7 days
 * before" right after the receipt). Rules firing the same day: the first listed wins.
 */
export function dueReminder(
  rules: readonly ReminderRule[],
  c: CoverageDates,
  today: LocalDate,
  catchUpDays = CATCH_UP_DAYS,
): DueReminder | null {
  const t = toDayNumber(today);
  let best: { rule: ReminderRule; n: number; day: LocalDate } | null = null;
  for (const rule of rules) {
    const day = ruleDay(rule, c);
    if (day === null) continue;
    const n = toDayNumber(day);
    if (n <= t && (best === null || n > best.n)) best = { rule, n, day };
  }
  if (best === null || t - best.n >= catchUpDays) return null;
  if (c.lastPaidOn && toDayNumber(c.lastPaidOn) >= best.n) return null;
  return { rule: best.rule, period: c.paidThrough as LocalDate, day: best.day };
}

/** Which message fits the household on `today`: before its last day, on it, in grace, or lapsed. */
export function reminderMessage(c: { paidThrough: LocalDate; graceUntil: LocalDate }, today: LocalDate): ReminderMessage {
  const t = toDayNumber(today);
  const end = toDayNumber(c.paidThrough);
  if (t < end) return 'before_end';
  if (t === end) return 'last_day';
  return t <= toDayNumber(c.graceUntil) ? 'grace' : 'lapsed';
}

/** Reminders go out from startHour to endHour (exclusive) in Bamako; 0 ≤ start < end ≤ 24. */
export interface SendingHours {
  startHour: number;
  endHour: number;
}

export function isSendingTime(instant: Date, h: SendingHours): boolean {
  const hour = bamakoHour(instant);
  return hour >= h.startHour && hour < h.endHour;
}

/** The first instant from `instant` on when a reminder may go out: itself, or the next opening of the sending hours. */
export function sendableFrom(instant: Date, h: SendingHours): Date {
  if (isSendingTime(instant, h)) return instant;
  const day = bamakoDay(instant);
  return bamakoInstant(bamakoHour(instant) < h.startHour ? day : addDays(day, 1), h.startHour);
}

/** When today's sending hours close, for an instant within them: a reminder not sent by then is not sent at night. */
export function sendingCloses(instant: Date, h: SendingHours): Date {
  const day = bamakoDay(instant);
  return h.endHour === 24 ? bamakoInstant(addDays(day, 1), 0) : bamakoInstant(day, h.endHour);
}
