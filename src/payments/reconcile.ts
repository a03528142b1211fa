/**
 * Reconciliation of an Orange Money operator statement with UTM's ledger, and the ledger's export
 * for the operator.
 *
 * ## The statement format (what `sabatili reconcile FILE` and `POST /admin/api/reconcile` read)
 *
 * A CSV file, UTF-8 (a byte-order mark is allowed), comma-separated, fields quoted the usual CSV way
 * when they contain a comma, a quote or a line break. The first row is the header:
 *
 *     date,transaction_id,reference,msisdn,amount,fee,status
 *
 * - Columns are found by name (case and surrounding spaces do not matter), so their order is free
 *   and extra columns are ignored; all seven must be there.
 * - `date`: when the operator completed the transaction, ISO 8601 (`2026-03-01T09:00:00Z`,
 *   `2026-03-01T09:00:00+00:00`, `2026-03-01`) or `YYYY-MM-DD HH:mm:ss`. A time without a zone is
 *   Bamako time (UTC+0 all year).
 * - `transaction_id`: the operator's transaction id, unique in the file. It is the key: it equals
 *   `contributions.operator_txn_id` for money the ledger credited from the operator's callback.
 * - `reference`: our payment reference (`KS…`) echoed by the operator; may be empty (payments made
 *   outside sabatili's USSD menu, the demo rows). Used only to explain a missing transaction.
 * - `msisdn`: the paying wallet, E.164 (`+22376000001`). A cell starting like a spreadsheet formula
 *   may carry a leading `'` (as the ledger export writes it, `'+22376000001`): it is dropped.
 * - `amount`, `fee`: whole FCFA, digits only (`3500`, not `3 500`, `3.500` or `3500.00`); amount > 0.
 * - `status`: `SUCCESS` or `FAILED`. Only SUCCESS rows are money UTM received; FAILED rows are
 *   listed as ignored.
 * - Lines starting with `#` are comments; blank lines are skipped.
 *
 * A malformed file is refused as a whole with every problem found, each with its line number in the
 * file (comments and blank lines counted): empty file, missing column in the header, a row with
 * too few or too many fields, an empty transaction id, a bad number, date, msisdn or status, a
 * duplicate transaction id (naming the line of the first one), or a CSV syntax error.
 *
 * ## What reconciliation reports
 *
 * Every SUCCESS row of the statement lands in exactly one category, by `transaction_id` against the
 * ledger's `orange_money` contributions:
 * - `matched`: same amount and fee;
 * - `amountMismatch`: the amounts differ (the fee difference, if any, is shown too);
 * - `feeMismatch`: same amount, different fee;
 * - `missingInLedger`: the operator has it, the ledger does not (e.g. the success callback never
 *   arrived); the note says what sabatili knows of the payment, by transaction id or reference.
 * - `missingAtOperator`: the ledger credited it, the statement has no SUCCESS row for it. Ledger
 *   rows are expected on the statement when their day (`paid_on`, Bamako) is within the period:
 *   from the statement's first day to its last, unless `from`/`to` (`YYYY-MM-DD`, inclusive) are
 *   given; a ledger row that the statement marks FAILED is reported whatever its day.
 * The totals give, per category, the count and the sums of amounts and fees on each side.
 */
import { CsvError, parse } from 'csv-parse/sync';
import { bamakoDay, bamakoInstant } from '../clock.ts';
import { restoreCell, toCsv } from '../csv.ts';
import type { Db } from '../db/connection.ts';
import { createOperatorLedger, type LedgerRow, type PaymentInfo } from '../db/payments.ts';
import { atomically } from '../db/transaction.ts';
import { Refusal } from '../domain/refusal.ts';
import { formatMoney } from '../i18n/format.ts';

export const STATEMENT_COLUMNS = ['date', 'transaction_id', 'reference', 'msisdn', 'amount', 'fee', 'status'] as const;
type Column = (typeof STATEMENT_COLUMNS)[number];

export interface StatementRow {
  /** The line of the file where the row starts. */
  line: number;
  /** The instant, ISO 8601 UTC. */
  date: string;
  /** Its calendar day in Bamako, 'YYYY-MM-DD'. */
  day: string;
  transactionId: string;
  reference: string;
  msisdn: string;
  amount: number;
  fee: number;
  status: 'SUCCESS' | 'FAILED';
}

export interface StatementError {
  line: number;
  message: string;
}

export interface ParsedStatement {
  rows: StatementRow[];
  errors: StatementError[];
}

/** A ledger row as reconciliation and the export show it. */
export type { LedgerRow, PaymentInfo } from '../db/payments.ts';

export interface ReconcileItem {
  transactionId: string;
  statement: StatementRow | null;
  ledger: LedgerRow | null;
  /** Statement minus ledger, when both sides have the row. */
  amountDifference: number | null;
  feeDifference: number | null;
  /** For a row missing in the ledger: the sabatili payment with that transaction id or reference, if any. */
  payment?: PaymentInfo;
  note?: string;
}

export const CATEGORIES = ['matched', 'amountMismatch', 'feeMismatch', 'missingInLedger', 'missingAtOperator'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface CategoryTotal {
  count: number;
  statementAmount: number;
  statementFee: number;
  ledgerAmount: number;
  ledgerFee: number;
}

export interface ReconcileOptions {
  /** First day ('YYYY-MM-DD', Bamako) of the period; default the statement's first day. */
  from?: string | undefined;
  /** Last day, inclusive; default the statement's last day. */
  to?: string | undefined;
}

/** What a statement compared with a ledger reports, whatever the ledger (contributions, disbursements): its items by category. */
export interface Report<Item> {
  /** The period whose ledger rows were expected on the statement (null: unbounded on that side). */
  period: { from: string | null; to: string | null };
  matched: Item[];
  amountMismatch: Item[];
  feeMismatch: Item[];
  missingInLedger: Item[];
  missingAtOperator: Item[];
  /** FAILED statement rows: no money moved. */
  ignored: StatementRow[];
  totals: Record<Category, CategoryTotal> & { ignored: { count: number; amount: number; fee: number } };
  /** True when everything matched and nothing is missing on either side. */
  balanced: boolean;
}

export type ReconcileReport = Report<ReconcileItem>;

// ---------------------------------------------------------------- parsing

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const MSISDN = /^\+[1-9]\d{6,14}$/;
const WHOLE = /^\d{1,12}$/;
const MAX_ID = 64;

function validDay(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** ISO 8601 or 'YYYY-MM-DD HH:mm:ss' to an instant; a time without a zone is Bamako time. */
export function parseStatementDate(value: string): Date | null {
  const m = DATE.exec(value);
  if (!m) return null;
  const [, ys, mos, ds, hs = '0', mis = '0', ss = '0', frac = '', zone] = m;
  const y = Number(ys);
  const mo = Number(mos);
  const d = Number(ds);
  const h = Number(hs);
  const mi = Number(mis);
  const s = Number(ss);
  if (!validDay(y, mo, d) || h > 23 || mi > 59 || s > 59) return null;
  const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
  const clock = ((h * 60 + mi) * 60 + s) * 1000 + ms;
  if (!zone) return new Date(bamakoInstant(`${ys}-${mos}-${ds}`, 0).getTime() + clock);
  let offsetMin = 0;
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2) || '0');
    if (oh > 14 || om > 59) return null;
    offsetMin = sign * (oh * 60 + om);
  }
  return new Date(Date.UTC(y, mo - 1, d) + clock - offsetMin * 60_000);
}

function whole(column: 'amount' | 'fee', value: string, min: number): { value: number } | { error: string } {
  if (value === '') return { error: `${column} is empty` };
  if (!WHOLE.test(value)) {
    return { error: `${column} "${value}" is not a whole number of FCFA (digits only, e.g. 3500; no spaces, dots or decimals)` };
  }
  const n = Number(value);
  if (n < min) return { error: `${column} must be at least ${min} FCFA, got ${value}` };
  return { value: n };
}

/**
 * The line where the quoted field still open at the end of the text starts (csv-parse reports the
 * last line of the file for an unclosed quote, which is not where to look). Null when none is open.
 */
function openQuoteLine(text: string): number | null {
  let line = 1;
  let inQuote = false;
  let openedOn = 1;
  let lineStart = true;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (!inQuote && lineStart && ch === '#') {
      // A comment line: skip to its end.
      while (i < text.length && text[i] !== '\n') i++;
      line++;
      continue;
    }
    lineStart = false;
    if (ch === '"') {
      inQuote = !inQuote;
      if (inQuote) openedOn = line;
    } else if (ch === '\n') {
      line++;
      if (!inQuote) lineStart = true;
    }
  }
  return inQuote ? openedOn : null;
}

/** csv-parse puts the line it reached on its errors (typed loosely). */
function errorLine(err: CsvError, text: string): number {
  if (err.code === 'CSV_QUOTE_NOT_CLOSED') {
    const opened = openQuoteLine(text);
    if (opened !== null) return opened;
  }
  return typeof err.lines === 'number' ? err.lines : 1;
}

function csvMessage(err: CsvError): string {
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'CSV syntax: a quoted field starting on this line is never closed';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'CSV syntax: a closing quote is followed by other characters (quote the whole field and double any quote inside it)';
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'CSV syntax: characters after a closing quote';
    default:
      return `CSV syntax: ${err.message.replace(/\s+at line \d+\b/, '')}`;
  }
}

/**
 * Reads an operator statement (format in the comment at the top of this file). `rows` holds every
 * well-formed row, `errors` every problem with its line; a caller must refuse the statement when
 * `errors` is not empty.
 */
export function parseStatement(csvText: string): ParsedStatement {
  const errors: StatementError[] = [];
  const rows: StatementRow[] = [];
  const text = csvText.replace(/^\uFEFF/, '');
  if (text.trim() === '') {
    return {
      rows,
      errors: [{ line: 1, message: `the file is empty: expected the header ${STATEMENT_COLUMNS.join(',')} and one row per transaction` }],
    };
  }

  let records: Array<{ record: string[]; info: { lines: number } }>;
  let syntaxError = false;
  try {
    records = parse(text, {
      comment: '#',
      comment_no_infix: true,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
      info: true,
      skip_records_with_error: true,
      // After a syntax error csv-parse may read the rest of the file wrongly: only the first is reported.
      on_skip: (err) => {
        if (err && !syntaxError) {
          syntaxError = true;
          errors.push({ line: errorLine(err, text), message: `${csvMessage(err)}; the lines after it may not have been checked` });
        }
        return undefined;
      },
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  } catch (err) {
    if (err instanceof CsvError) return { rows, errors: [{ line: errorLine(err, text), message: csvMessage(err) }] };
    throw err;
  }

  // `info.lines` is the line where a record ends; a quoted field may span several lines.
  const startLine = (r: { record: string[]; info: { lines: number } }) =>
    r.info.lines - r.record.reduce((n, f) => n + (f.match(/\r\n|\r|\n/g)?.length ?? 0), 0);
  const content = records.filter((r) => r.record.some((f) => f !== ''));

  const header = content[0];
  if (!header) {
    errors.push({ line: 1, message: `the file has no header row: expected ${STATEMENT_COLUMNS.join(',')}` });
    return { rows, errors };
  }
  const headerLine = startLine(header);
  const names = header.record.map((f) => f.toLowerCase());
  if (!STATEMENT_COLUMNS.some((c) => names.includes(c))) {
    errors.push({
      line: headerLine,
      message: `the first row must be the header ${STATEMENT_COLUMNS.join(',')}; found ${header.record.join(',')}`,
    });
    return { rows, errors };
  }
  const index = new Map<Column, number>();
  for (const col of STATEMENT_COLUMNS) {
    const at = names.indexOf(col);
    const again = at >= 0 ? names.indexOf(col, at + 1) : -1;
    if (at < 0) {
      errors.push({
        line: headerLine,
        message: `missing column "${col}" in the header (expected ${STATEMENT_COLUMNS.join(',')}, found ${header.record.join(',')})`,
      });
    } else if (again >= 0) {
      errors.push({ line: headerLine, message: `column "${col}" appears twice in the header` });
    } else {
      index.set(col, at);
    }
  }
  if (index.size !== STATEMENT_COLUMNS.length) return { rows, errors };

  const firstSeen = new Map<string, number>();
  for (const r of content.slice(1)) {
    const line = startLine(r);
    if (r.record.length !== header.record.length) {
      const missing = STATEMENT_COLUMNS.filter((c) => (index.get(c) as number) >= r.record.length);
      errors.push({
        line,
        message:
          r.record.length < header.record.length
            ? `${r.record.length} fields where the header has ${header.record.length}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`
            : `${r.record.length} fields where the header has ${header.record.length}`,
      });
      continue;
    }
    // Our own export neutralises formula-like cells ('+223…): read back, they are what was written.
    const get = (c: Column) => restoreCell(r.record[index.get(c) as number] ?? '');
    const rowErrors: string[] = [];

    const dateText = get('date');
    const instant = dateText === '' ? null : parseStatementDate(dateText);
    if (dateText === '') rowErrors.push('date is empty');
    else if (!instant) rowErrors.push(`date "${dateText}" is not a date (ISO 8601 such as 2026-03-01T09:00:00Z, or 2026-03-01 09:00:00)`);

    const transactionId = get('transaction_id');
    if (transactionId === '') rowErrors.push('transaction_id is empty');
    else if (transactionId.length > MAX_ID) rowErrors.push(`transaction_id is longer than ${MAX_ID} characters`);
    else {
      const first = firstSeen.get(transactionId);
      if (first !== undefined) rowErrors.push(`duplicate transaction_id "${transactionId}" (first on line ${first})`);
      else firstSeen.set(transactionId, line);
    }

    const reference = get('reference');
    if (reference.length > MAX_ID) rowErrors.push(`reference is longer than ${MAX_ID} characters`);

    const msisdn = get('msisdn');
    if (msisdn === '') rowErrors.push('msisdn is empty');
    else if (!MSISDN.test(msisdn)) rowErrors.push(`msisdn "${msisdn}" is not an E.164 number such as +22376000001`);

    const amount = whole('amount', get('amount'), 1);
    if ('error' in amount) rowErrors.push(amount.error);
    const fee = whole('fee', get('fee'), 0);
    if ('error' in fee) rowErrors.push(fee.error);

    const statusText = get('status').toUpperCase();
    if (statusText !== 'SUCCESS' && statusText !== 'FAILED') {
      rowErrors.push(`status "${get('status')}" must be SUCCESS or FAILED`);
    }

    if (rowErrors.length > 0) {
      for (const message of rowErrors) errors.push({ line, message });
      continue;
    }
    rows.push({
      line,
      date: (instant as Date).toISOString(),
      day: bamakoDay(instant as Date),
      transactionId,
      reference,
      msisdn,
      amount: (amount as { value: number }).value,
      fee: (fee as { value: number }).value,
      status: statusText as StatementRow['status'],
    });
  }
  errors.sort((a, b) => a.line - b.line);
  return { rows, errors };
}

// ---------------------------------------------------------------- the ledger side

/** Refuses a `from`/`to` that is not a day, or a period whose start is after its end. */
export function checkPeriod(opts: ReconcileOptions): void {
  for (const [name, v] of [
    ['from', opts.from],
    ['to', opts.to],
  ] as const) {
    if (v !== undefined && (!DAY.test(v) || !validDay(Number(v.slice(0, 4)), Number(v.slice(5, 7)), Number(v.slice(8))))) {
      throw new Refusal(`${name}: "${v}" is not a day (YYYY-MM-DD)`, name);
    }
  }
  if (opts.from !== undefined && opts.to !== undefined && opts.from > opts.to) {
    throw new Refusal(`from (${opts.from}) is after to (${opts.to})`, 'from');
  }
}

/** The ledger's Orange Money rows whose day is within [from, to] (either bound optional), oldest first. */
export function ledgerRows(db: Db, opts: ReconcileOptions = {}): LedgerRow[] {
  checkPeriod(opts);
  return createOperatorLedger(db).between(opts.from ?? null, opts.to ?? null);
}

// ---------------------------------------------------------------- reconciliation

function emptyTotal(): CategoryTotal {
  return { count: 0, statementAmount: 0, statementFee: 0, ledgerAmount: 0, ledgerFee: 0 };
}

/**
 * An empty report for the statement's rows, over the period asked or else the statement's first to
 * last day, with how an item (`add`) and a FAILED row (`ignore`) are counted into it: the one
 * skeleton of every ledger's reconciliation.
 */
export function startReport<Item extends { statement: StatementRow | null; ledger: { amount: number; fee: number } | null }>(
  rows: readonly StatementRow[],
  opts: ReconcileOptions,
) {
  const days = rows.map((r) => r.day).sort();
  const report: Report<Item> = {
    period: { from: opts.from ?? days[0] ?? null, to: opts.to ?? days[days.length - 1] ?? null },
    matched: [],
    amountMismatch: [],
    feeMismatch: [],
    missingInLedger: [],
    missingAtOperator: [],
    ignored: [],
    totals: {
      matched: emptyTotal(),
      amountMismatch: emptyTotal(),
      feeMismatch: emptyTotal(),
      missingInLedger: emptyTotal(),
      missingAtOperator: emptyTotal(),
      ignored: { count: 0, amount: 0, fee: 0 },
    },
    balanced: false,
  };
  return {
    report,
    add(category: Category, item: Item): void {
      report[category].push(item);
      const t = report.totals[category];
      t.count++;
      t.statementAmount += item.statement?.amount ?? 0;
      t.statementFee += item.statement?.fee ?? 0;
      t.ledgerAmount += item.ledger?.amount ?? 0;
      t.ledgerFee += item.ledger?.fee ?? 0;
    },
    ignore(row: StatementRow): void {
      report.ignored.push(row);
      report.totals.ignored.count++;
      report.totals.ignored.amount += row.amount;
      report.totals.ignored.fee += row.fee;
    },
  };
}

/**
 * Compares the statement's rows (already parsed, without errors) with the ledger. Pure reading:
 * nothing is written.
 */
export function reconcile(db: Db, rows: readonly StatementRow[], opts: ReconcileOptions = {}): ReconcileReport {
  checkPeriod(opts);
  const { report, add, ignore } = startReport<ReconcileItem>(rows, opts);
  const { from, to } = report.period;
  const periodKnown = from !== null || to !== null;
  const ledger = createOperatorLedger(db);

  const succeeded = new Set<string>();
  const failedRows = new Map<string, StatementRow>();
  // One read transaction: the statement is compared with one state of the ledger.
  atomically(db, () => {
    for (const row of rows) {
      if (row.status === 'FAILED') {
        ignore(row);
        failedRows.set(row.transactionId, row);
        continue;
      }
      succeeded.add(row.transactionId);
      const credited = ledger.byTransaction(row.transactionId);
      if (!credited) {
        const payment = ledger.paymentFor(row.transactionId, row.reference);
        const item: ReconcileItem = {
          transactionId: row.transactionId,
          statement: row,
          ledger: null,
          amountDifference: null,
          feeDifference: null,
        };
        if (payment) {
          item.payment = payment;
          item.note =
            payment.status === 'review'
              ? `sabatili's payment ${payment.reference} of ${formatMoney(payment.amount)} waits for a manager's review: ` +
                `the operator reported ${formatMoney(payment.operatorAmount ?? 0)} from ${payment.operatorMsisdn ?? '?'}`
              : `sabatili's payment ${payment.reference} is ${payment.status}` +
                (payment.failureReason ? ` (${payment.failureReason})` : '') +
                ": the operator's success callback never arrived or was not accepted";
        } else {
          item.note = 'no sabatili payment has this transaction id or reference';
        }
        add('missingInLedger', item);
        continue;
      }
      const amountDifference = row.amount - credited.amount;
      const feeDifference = row.fee - credited.fee;
      const item: ReconcileItem = { transactionId: row.transactionId, statement: row, ledger: credited, amountDifference, feeDifference };
      if (amountDifference !== 0) add('amountMismatch', item);
      else if (feeDifference !== 0) add('feeMismatch', item);
      else add('matched', item);
    }

    const expected = periodKnown ? ledger.between(from, to) : [];
    const seen = new Set<number>();
    const missing = (row: LedgerRow) => {
      if (seen.has(row.contributionId)) return;
      seen.add(row.contributionId);
      const failed = row.transactionId === null ? undefined : failedRows.get(row.transactionId);
      add('missingAtOperator', {
        transactionId: row.transactionId ?? '',
        statement: failed ?? null,
        ledger: row,
        amountDifference: null,
        feeDifference: null,
        note:
          row.transactionId === null
            ? 'the ledger row has no operator transaction id'
            : failed
              ? `the statement marks this transaction FAILED (line ${failed.line}) but the ledger credited it`
              : 'not on the statement',
      });
    };
    for (const row of expected) {
      if (row.transactionId === null || !succeeded.has(row.transactionId)) missing(row);
    }
    // Credited in the ledger, FAILED on the statement: reported whatever its day.
    for (const [txn] of failedRows) {
      if (succeeded.has(txn)) continue;
      const credited = ledger.byTransaction(txn);
      if (credited) missing(credited);
    }
  });
  report.missingAtOperator.sort((a, b) => ((a.ledger?.paidAt ?? '') < (b.ledger?.paidAt ?? '') ? -1 : 1));
  report.balanced =
    report.amountMismatch.length + report.feeMismatch.length + report.missingInLedger.length + report.missingAtOperator.length === 0;
  return report;
}

// ---------------------------------------------------------------- export

/**
 * The ledger's Orange Money rows for the operator, in the statement's own layout (one SUCCESS row
 * per credited transaction, `date` the ISO instant of the credit), so the operator can run the same
 * comparison on its side. Rows without an operator transaction id are left out.
 */
export function exportLedger(db: Db, opts: ReconcileOptions = {}): string {
  const rows = ledgerRows(db, opts).filter((r) => r.transactionId !== null);
  return toCsv(
    rows.map((r) => [r.paidAt, r.transactionId, r.reference ?? '', r.msisdn, r.amount, r.fee, 'SUCCESS']),
    { header: true, columns: [...STATEMENT_COLUMNS] },
  );
}

// ---------------------------------------------------------------- text for the CLI

/** Amounts in the report are written as members and staff read them: `22 000 FCFA`. */
const fcfa = formatMoney;

/** A statement's errors, one per line, for a terminal. */
export function formatStatementErrors(errors: readonly StatementError[], file = 'statement'): string {
  return errors.map((e) => `${file}:${e.line}: ${e.message}`).join('\n');
}

/** The report for a terminal: the totals, then every row that is not matched. */
export function formatReport(report: ReconcileReport): string {
  const out: string[] = [];
  const { from, to } = report.period;
  out.push(`Reconciliation of the Orange Money statement with the ledger, ${from ?? '…'} to ${to ?? '…'}`);
  const labels: Record<Category, string> = {
    matched: 'matched',
    amountMismatch: 'amount mismatch',
    feeMismatch: 'fee mismatch',
    missingInLedger: 'missing in the ledger',
    missingAtOperator: 'missing at the operator',
  };
  for (const c of CATEGORIES) {
    const t = report.totals[c];
    out.push(
      `  ${labels[c].padEnd(24)} ${String(t.count).padStart(5)}   operator ${fcfa(t.statementAmount)} (fees ${fcfa(t.statementFee)})` +
        `   ledger ${fcfa(t.ledgerAmount)} (fees ${fcfa(t.ledgerFee)})`,
    );
  }
  out.push(
    `  ${'FAILED rows (ignored)'.padEnd(24)} ${String(report.totals.ignored.count).padStart(5)}   ${fcfa(report.totals.ignored.amount)}`,
  );
  const describe = (i: ReconcileItem) => {
    const s = i.statement
      ? `operator line ${i.statement.line}: ${i.statement.status} ${i.statement.date} ${fcfa(i.statement.amount)} fee ${i.statement.fee}`
      : 'not on the statement';
    const l = i.ledger
      ? `ledger #${i.ledger.contributionId} ${i.ledger.cardNumber} ${i.ledger.paidAt} ${fcfa(i.ledger.amount)} fee ${i.ledger.fee}`
      : 'not in the ledger';
    const note = i.note && i.note !== 'not on the statement' ? ` (${i.note})` : '';
    return `    ${i.transactionId || '(no transaction id)'}: ${s}; ${l}${note}`;
  };
  for (const c of CATEGORIES) {
    if (c === 'matched' || report[c].length === 0) continue;
    out.push('', `${labels[c]}:`);
    for (const i of report[c]) out.push(describe(i));
  }
  out.push('', report.balanced ? 'The statement and the ledger agree.' : 'The statement and the ledger do NOT agree.');
  return out.join('\n');
}
