/**
 * Money and date formatting for screens and SMS, in one shape for both languages:
 * `3 000 FCFA`, `31/12/2026`, times in Africa/Bamako (UTC+0, no daylight saving).
 * Every output is plain GSM-7 (no Intl.NumberFormat: it inserts U+202F).
 */
import { bamakoClockTime, bamakoDay } from '../clock.ts';

/** Integer FCFA, digits grouped by three with an ASCII space: 6000 → '6 000 FCFA'. */
export function formatMoney(fcfa: number): string {
  if (!Number.isInteger(fcfa)) {
    throw new RangeError(`formatMoney: expected an integer amount of FCFA, got ${String(fcfa)}`);
  }
  const negative = fcfa < 0;
  // BigInt keeps every digit of integers past 2^53 (String() would switch to 1e+21).
  const digits = BigInt(Math.abs(fcfa)).toString();
  let grouped = '';
  for (let end = digits.length; end > 0; end -= 3) {
    const group = digits.slice(Math.max(0, end - 3), end);
    grouped = grouped === '' ? group : `${group} ${grouped}`;
  }
  return `${negative ? '-' : ''}${grouped} FCFA`;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days already formatted: screens show the same few hundred (today, month ends) over and over. */
const formattedDays = new Map<string, string>();
const MAX_FORMATTED_DAYS = 4096;

/** 'YYYY-MM-DD' → 'DD/MM/YYYY'. Throws unless the day exists in the calendar. */
export function formatDate(day: string): string {
  const known = formattedDays.get(day);
  if (known !== undefined) return known;
  const formatted = checkedDate(day);
  if (formattedDays.size >= MAX_FORMATTED_DAYS) formattedDays.clear();
  formattedDays.set(day, formatted);
  return formatted;
}

function checkedDate(day: string): string {
  const m = DAY.exec(day);
  if (m === null) throw new RangeError(`formatDate: expected YYYY-MM-DD, got ${JSON.stringify(day)}`);
  const [, y, mo, d] = m as unknown as [string, string, string, string];
  const year = Number(y);
  const month = Number(mo);
  const date = Number(d);
  const check = new Date(Date.UTC(2000, month - 1, date));
  check.setUTCFullYear(year); // Date.UTC maps years 0–99 to 1900–1999
  if (
    month < 1 ||
    month > 12 ||
    date < 1 ||
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== date
  ) {
    throw new RangeError(`formatDate: no such day ${JSON.stringify(day)}`);
  }
  return `${d}/${mo}/${y}`;
}

/** 'DD/MM/YYYY HH:mm' of that instant in Africa/Bamako. */
export function formatDateTime(instant: Date): string {
  return `${formatDate(bamakoDay(instant))} ${bamakoClockTime(instant)}`;
}
