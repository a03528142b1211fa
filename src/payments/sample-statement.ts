/**
 * A sample Orange Money statement for the demo database, with the same deliberate mismatches as
 * fixtures/statements/orange-money-sample.csv, but dated from this database's own ledger.
 *
 * Why generated: the demo ledger is seeded relative to the day of seeding (so that the demo
 * households are covered, lapsed, in grace... whatever the day), while a fixed file has fixed dates.
 * A statement covers the period between its first and last rows, so a fixed file only shows its
 * documented "missing at the operator" row for a database seeded on the day it was written for.
 */
import { toCsv } from '../csv.ts';
import { Refusal } from '../domain/refusal.ts';
import { type LedgerRow, STATEMENT_COLUMNS } from './reconcile.ts';

/** The demo rows the sample changes (operator transaction ids given by the seed, src/db/seed.ts). */
export const SAMPLE_MISMATCHES = {
  /** Left out of the statement: missing at the operator. */
  missingAtOperator: 'DEMO-SIK-KLE-0001-4',
  /** The operator moved 500 FCFA less than the ledger says. */
  amountMismatch: 'DEMO-SIK-KLE-0001-5',
  /** The operator charged a 50 FCFA fee the ledger does not know. */
  feeMismatch: 'DEMO-SIK-NIE-0002-3',
  /** Dated one day after this row: a success the ledger does not have, then a failed transfer. */
  after: 'DEMO-SIK-KLE-0001-6',
} as const;

/** A user error (exit code 2 in the CLI), like a bad day typed: the sample needs the demo database. */
export class NotADemoLedger extends Refusal {
  constructor(message: string) {
    super(message, undefined, 409);
  }
}

type Line = [string, string, string, string, number, number, 'SUCCESS' | 'FAILED'];

/** `2026-02-14 10:32:41`: the statement's Bamako time, which is UTC all year. */
const stamp = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');

/** `days` after `instant`'s day, at this time of day. */
function dayAfter(instant: Date, days: number, h: number, m: number, s: number): Date {
  return new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), instant.getUTCDate() + days, h, m, s));
}

/**
 * The statement's CSV for `rows`, the ledger's Orange Money rows oldest first (reconcile.ts
 * `ledgerRows`). Every row is on it as the operator saw it, except the deliberate mismatches.
 */
export function sampleStatement(rows: readonly LedgerRow[]): string {
  const byTxn = new Map(rows.filter((r) => r.transactionId).map((r) => [r.transactionId as string, r]));
  const missing = Object.values(SAMPLE_MISMATCHES).filter((id) => !byTxn.has(id));
  if (missing.length > 0) {
    throw new NotADemoLedger(
      `this ledger has no demo rows ${missing.join(', ')}: the sample statement is written for the demo database (sabatili seed)`,
    );
  }
  const lines: Line[] = [];
  for (const r of rows) {
    if (!r.transactionId || r.transactionId === SAMPLE_MISMATCHES.missingAtOperator) continue;
    const amount = r.transactionId === SAMPLE_MISMATCHES.amountMismatch ? r.amount - 500 : r.amount;
    const fee = r.transactionId === SAMPLE_MISMATCHES.feeMismatch ? r.fee + 50 : r.fee;
    lines.push([stamp(new Date(r.paidAt)), r.transactionId, r.reference ?? '', r.msisdn, amount, fee, 'SUCCESS']);
  }
  const after = new Date((byTxn.get(SAMPLE_MISMATCHES.after) as LedgerRow).paidAt);
  const unknown = dayAfter(after, 1, 10, 32, 41);
  const failed = dayAfter(after, 2, 8, 15, 9);
  // The operator's ids as in the fixture: MP + yymmdd.hhmm + a code, and our KS reference.
  const id = (d: Date, tail: string) => {
    const iso = d.toISOString();
    const day = iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10);
    return { txn: `MP${day}.${iso.slice(11, 13)}${iso.slice(14, 16)}.${tail}`, ref: `KS${day}${tail}` };
  };
  const u = id(unknown, '4F7A21');
  const f = id(failed, '9C03B7');
  lines.push([stamp(unknown), u.txn, u.ref, '+22376000003', 2000, 75, 'SUCCESS']);
  lines.push([stamp(failed), f.txn, f.ref, '+22376000002', 1000, 50, 'FAILED']);
  lines.sort((a, b) => a[0].localeCompare(b[0]));
  return toCsv(lines, { header: true, columns: [...STATEMENT_COLUMNS] });
}
