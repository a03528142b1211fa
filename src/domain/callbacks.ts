import { addDays, type LocalDate, toDayNumber } from './dates.ts';

export type CallbackReason = 'payment' | 'coverage' | 'registration' | 'other';

/** What the member is told after asking. */
export interface CallbackReceipt {
  /** Day the request was made ('YYYY-MM-DD'). */
  requestedOn: string;
  /** Day UTM promises to call by ('YYYY-MM-DD'). */
  callBy: string;
  /** True when an earlier request was still open: no second one is queued. */
  alreadyOpen: boolean;
}

/** UTM's office calls members back on working days; a request made after this hour waits for the next one. */
export const CALLBACK_CUTOFF_HOUR = 15;
/** The hour by which UTM promises to have called (the catalogs say "avant 17h"). */
export const CALLBACK_CLOSING_HOUR = 17;

/** 0 = Sunday … 6 = Saturday. 1970-01-01 was a Thursday. */
export function weekday(day: LocalDate): number {
  return (((toDayNumber(day) + 4) % 7) + 7) % 7;
}

function isWorkingDay(day: LocalDate): boolean {
  const d = weekday(day);
  return d >= 1 && d <= 5;
}

/**
 * The day UTM promises to call back by, for a request made on `day` at `hour` (Bamako time):
 * the same working day before the cut-off, otherwise the next working day.
 */
export function callBackBy(day: LocalDate, hour: number): LocalDate {
  if (isWorkingDay(day) && hour < CALLBACK_CUTOFF_HOUR) return day;
  let next = addDays(day, 1);
  while (!isWorkingDay(next)) next = addDays(next, 1);
  return next;
}
