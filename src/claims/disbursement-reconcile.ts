/**
 * The disbursement ledger against the operator's statement of UTM's transfers, and its export, in
 * the shape of the contributions' reconciliation (src/payments/reconcile.ts): the same statement
 * format (`date,transaction_id,reference,msisdn,amount,fee,status`, read by its parseStatement), the
 * same categories, keyed by the operator's transaction id.
 *
 * - `matched`: same amount and fee; `amountMismatch`, `feeMismatch`: they differ;
 * - `missingInLedger`: the operator paid it, the ledger has no row (a batch whose success was
 *   never settled); the note names the batch of the reference if there is one;
 * - `missingAtOperator`: the ledger paid it within the period (or whatever its day, when the
 *   statement marks it FAILED), the statement has no SUCCESS row for it.
 */
import { toCsv } from '../csv.ts';
import type { Db } from '../db/connection.ts';
import { createDisbursementStore, type DisbursementRow } from '../db/disbursements.ts';
import { atomically } from '../db/transaction.ts';
import {
  CATEGORIES,
  type Category,
  type CategoryTotal,
  checkPeriod,
  type ReconcileOptions,
  STATEMENT_COLUMNS,
  type StatementRow,
} from '../payments/reconcile.ts';

export interface DisbursementItem {
  transactionId: string;
  statement: StatementRow | null;
  ledger: DisbursementRow | null;
  amountDifference: number | null;
  note?: string;
}

export interface DisbursementReport {
  period: { from: string | null; to: string | null };
  matched: DisbursementItem[];
  amountMismatch: DisbursementItem[];
  feeMismatch: DisbursementItem[];
  missingInLedger: DisbursementItem[];
  missingAtOperator: DisbursementItem[];
  ignored: StatementRow[];
  totals: Record<Category, CategoryTotal> & { ignored: { count: number; amount: number; fee: number } };
  balanced: boolean;
}

const emptyTotal = (): CategoryTotal => ({ count: 0, statementAmount: 0, statementFee: 0, ledgerAmount: 0, ledgerFee: 0 });

/** The batch of an operator reference `<batch reference>-<attempt>`. */
const batchOf = (reference: string) => reference.replace(/-\d{1,4}$/, '');

/** Compares the statement's rows (parsed, without errors) with the disbursement ledger. Reads only. */
export function reconcileDisbursements(db: Db, rows: readonly StatementRow[], opts: ReconcileOptions = {}): DisbursementReport {
  checkPeriod(opts);
  const store = createDisbursementStore(db);
  const days = rows.map((r) => r.day).sort();
  const from = opts.from ?? days[0] ?? null;
  const to = opts.to ?? days[days.length - 1] ?? null;
  const report: DisbursementReport = {
    period: { from, to },
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
  const add = (c: Category, item: DisbursementItem) => {
    report[c].push(item);
    const t = report.totals[c];
    t.count++;
    t.statementAmount += item.statement?.amount ?? 0;
    t.statementFee += item.statement?.fee ?? 0;
    t.ledgerAmount += item.ledger?.amount ?? 0;
    t.ledgerFee += item.ledger?.fee ?? 0;
  };
  const succeeded = new Set<string>();
  const failed = new Map<string, StatementRow>();
  atomically(db, () => {
    for (const row of rows) {
      if (row.status === 'FAILED') {
        report.ignored.push(row);
        report.totals.ignored.count++;
        report.totals.ignored.amount += row.amount;
        report.totals.ignored.fee += row.fee;
        failed.set(row.transactionId, row);
        continue;
      }
      succeeded.add(row.transactionId);
      const paid = store.ledgerByTransaction(row.transactionId);
      if (!paid) {
        const batch = row.reference ? store.byReference(batchOf(row.reference)) : undefined;
        add('missingInLedger', {
          transactionId: row.transactionId,
          statement: row,
          ledger: null,
          amountDifference: null,
          note: batch
            ? `lot ${batch.reference} (${batch.facilityName}) : ${batch.status}${batch.failureReason ? `, ${batch.failureReason}` : ''}`
            : 'aucun lot n’a cette référence',
        });
        continue;
      }
      const item = { transactionId: row.transactionId, statement: row, ledger: paid, amountDifference: row.amount - paid.amount };
      if (item.amountDifference !== 0) add('amountMismatch', item);
      else if (row.fee !== paid.fee) add('feeMismatch', item);
      else add('matched', item);
    }
    const seen = new Set<number>();
    const missing = (l: DisbursementRow) => {
      if (seen.has(l.ledgerId)) return;
      seen.add(l.ledgerId);
      const f = failed.get(l.transactionId);
      add('missingAtOperator', {
        transactionId: l.transactionId,
        statement: f ?? null,
        ledger: l,
        amountDifference: null,
        note: f ? `le relevé marque cette transaction FAILED (ligne ${f.line})` : 'absent du relevé',
      });
    };
    if (from !== null || to !== null) for (const l of store.ledgerBetween(from, to)) if (!succeeded.has(l.transactionId)) missing(l);
    for (const txn of failed.keys()) {
      const l = succeeded.has(txn) ? undefined : store.ledgerByTransaction(txn);
      if (l) missing(l);
    }
  });
  report.balanced = CATEGORIES.every((c) => c === 'matched' || report[c].length === 0);
  return report;
}

/** The disbursement ledger in the statement's layout (one SUCCESS row per paid batch), for the operator. */
export function exportDisbursements(db: Db, opts: ReconcileOptions = {}): string {
  checkPeriod(opts);
  const rows = createDisbursementStore(db).ledgerBetween(opts.from ?? null, opts.to ?? null);
  return toCsv(
    rows.map((r) => [r.paidAt, r.transactionId, r.reference, r.msisdn, r.amount, r.fee, 'SUCCESS']),
    { header: true, columns: [...STATEMENT_COLUMNS] },
  );
}
