// Small pure calendar helpers on 'YYYY-MM-DD' days and 'YYYY-MM' months.
//
// Days are calendar days in Africa/Bamako (UTC+0 all year, no DST), so a day is
// just a proleptic Gregorian date: no time zone arithmetic is needed here.
// Everything is integer arithmetic (no Date, no dayjs) because these run in the
// inner loop of the coverage computation on every USSD coverage screen.

export type LocalDate = string; // 'YYYY-MM-DD', a calendar day in Africa/Bamako
export type Month = string; // 'YYYY-MM'

const ZERO = 48; // '0'
const DASH = 45; // '-'

function digit(s: string, i: number): number {
  const d = s.charCodeAt(i) - ZERO;
  return d >= 0 && d <= 9 ? d : -1;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Number of days in month m (1..12) of year y. */
export function daysInMonth(y: number, m: number): number {
  if (m === 2) return isLeap(y) ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Month index (year * 12 + month - 1) of the 'YYYY-MM' prefix of s, or -1 if it is not one. */
function monthPrefix(s: string): number {
  if (s.charCodeAt(4) !== DASH) return -1;
  const y0 = digit(s, 0),
    y1 = digit(s, 1),
    y2 = digit(s, 2),
    y3 = digit(s, 3);
  const m0 = digit(s, 5),
    m1 = digit(s, 6);
  if (y0 < 0 || y1 < 0 || y2 < 0 || y3 < 0 || m0 < 0 || m1 < 0) return -1;
  const m = m0 * 10 + m1;
  if (m < 1 || m > 12) return -1;
  return (y0 * 1000 + y1 * 100 + y2 * 10 + y3) * 12 + m - 1;
}

/** Parses 'YYYY-MM' into [year, month 1..12]; throws on anything else. */
function parseMonth(month: string): [number, number] {
  const i = typeof month === 'string' && month.length === 7 ? monthPrefix(month) : -1;
  if (i < 0) throw new Error(`invalid month ${JSON.stringify(month)}: expected 'YYYY-MM'`);
  const y = Math.floor(i / 12);
  return [y, i - y * 12 + 1];
}

/** Parses 'YYYY-MM-DD' into [year, month 1..12, day]; throws on anything else (including 2026-02-30). */
function parseDay(day: string): [number, number, number] {
  return civilFromDays(toDayNumber(day));
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function pad4(y: number): string {
  if (!Number.isInteger(y) || y < 0 || y > 9999) {
    throw new Error(`date out of range: year ${y} cannot be written as YYYY`);
  }
  return y < 10 ? `000${y}` : y < 100 ? `00${y}` : y < 1000 ? `0${y}` : `${y}`;
}

// --- day numbers (days since 1970-01-01), after H. Hinnant's civil calendar algorithms

function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(n: number): [number, number, number] {
  const z = n + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d];
}

/** Day number (days since 1970-01-01) of a 'YYYY-MM-DD' day. Throws on an invalid day. */
export function toDayNumber(day: LocalDate): number {
  // allocation-free (this parses every payment of a ledger)
  if (typeof day === 'string' && day.length === 10 && day.charCodeAt(7) === DASH) {
    const i = monthPrefix(day);
    const d0 = digit(day, 8),
      d1 = digit(day, 9);
    if (i >= 0 && d0 >= 0 && d1 >= 0) {
      const y = Math.floor(i / 12);
      const m = i - y * 12 + 1;
      const d = d0 * 10 + d1;
      if (d >= 1 && d <= daysInMonth(y, m)) return daysFromCivil(y, m, d);
    }
  }
  throw new Error(`invalid date ${JSON.stringify(day)}: expected a calendar day 'YYYY-MM-DD'`);
}

/** 'YYYY-MM-DD' of a day number (days since 1970-01-01). */
export function fromDayNumber(n: number): LocalDate {
  if (!Number.isSafeInteger(n)) throw new Error(`invalid day number ${n}`);
  const [y, m, d] = civilFromDays(n);
  return `${pad4(y)}-${pad2(m)}-${pad2(d)}`;
}

// --- month indexes (year * 12 + month - 1)

/** Month index (year * 12 + month - 1) of a 'YYYY-MM' month. Throws on an invalid month. */
export function toMonthIndex(month: Month): number {
  const [y, m] = parseMonth(month);
  return y * 12 + m - 1;
}

/** Month index of the month containing a 'YYYY-MM-DD' day. */
export function monthIndexOfDay(day: LocalDate): number {
  const [y, m] = parseDay(day);
  return y * 12 + m - 1;
}

/** 'YYYY-MM' of a month index. */
export function fromMonthIndex(i: number): Month {
  if (!Number.isSafeInteger(i)) throw new Error(`invalid month index ${i}`);
  const y = Math.floor(i / 12);
  return `${pad4(y)}-${pad2(i - y * 12 + 1)}`;
}

/** Day number of the first day of a month index. */
export function firstDayNumberOfMonthIndex(i: number): number {
  const y = Math.floor(i / 12);
  return daysFromCivil(y, i - y * 12 + 1, 1);
}

/** Day number of the last day of a month index. */
export function lastDayNumberOfMonthIndex(i: number): number {
  return firstDayNumberOfMonthIndex(i + 1) - 1;
}

/** Month index of a day number. */
export function monthIndexOfDayNumber(n: number): number {
  const [y, m] = civilFromDays(n);
  return y * 12 + m - 1;
}

// --- the public string helpers

/** The month `n` months after `month` (n may be negative). addMonths('2026-11', 3) === '2027-02'. */
export function addMonths(month: Month, n: number): Month {
  if (!Number.isSafeInteger(n)) throw new Error(`addMonths: n must be an integer, got ${n}`);
  return fromMonthIndex(toMonthIndex(month) + n);
}

/** The last day of a month. lastDayOfMonth('2028-02') === '2028-02-29'. */
export function lastDayOfMonth(month: Month): LocalDate {
  const [y, m] = parseMonth(month);
  return `${pad4(y)}-${pad2(m)}-${pad2(daysInMonth(y, m))}`;
}

/** The first day of a month. firstDayOfMonth('2026-03') === '2026-03-01'. */
export function firstDayOfMonth(month: Month): LocalDate {
  const [y, m] = parseMonth(month);
  return `${pad4(y)}-${pad2(m)}-01`;
}

/** The month of a day. monthOf('2026-03-10') === '2026-03'. */
export function monthOf(day: LocalDate): Month {
  parseDay(day);
  return day.slice(0, 7);
}

/** The day `n` days after `day` (n may be negative). addDays('2026-02-28', 1) === '2026-03-01'. */
export function addDays(day: LocalDate, n: number): LocalDate {
  if (!Number.isSafeInteger(n)) throw new Error(`addDays: n must be an integer, got ${n}`);
  return fromDayNumber(toDayNumber(day) + n);
}

/** Whole days from `from` to `to` (negative if `to` is earlier). */
export function daysBetween(from: LocalDate, to: LocalDate): number {
  return toDayNumber(to) - toDayNumber(from);
}

/** True if `day` is a valid 'YYYY-MM-DD' calendar day. */
export function isLocalDate(day: unknown): day is LocalDate {
  if (typeof day !== 'string') return false;
  try {
    parseDay(day);
    return true;
  } catch {
    return false;
  }
}
