import { type Options, stringify } from 'csv-stringify/sync';

/** What a spreadsheet may read as the start of a formula (OWASP, CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A text cell as it is safe to open in a spreadsheet: one that starts like a formula gets a leading
 * single quote, so Excel or LibreOffice shows it as text instead of running it. Phone numbers
 * (`+223…`) get it too: no exception means no way to sneak a formula into a "phone" column.
 */
export function neutraliseCell(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** The reverse, for importers reading a file we exported (or that a spreadsheet saved back). */
export function restoreCell(text: string): string {
  return text.startsWith("'") && FORMULA_START.test(text.slice(1)) ? text.slice(1) : text;
}

/**
 * Every CSV the app writes goes through here: text cells neutralised. Numbers are left as numbers:
 * the app writes them itself, a spreadsheet cannot run `-0.05`, and a quote would turn it into text.
 */
export function toCsv(rows: unknown[][], options: Options = {}): string {
  return stringify(rows, { ...options, cast: { ...options.cast, string: neutraliseCell } });
}
