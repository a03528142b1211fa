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
  checkPeriod,
  type ReconcileOptions,
  type Report,
  STATEMENT_COLUMNS,
  type StatementRow,
  startReport,
} from '../payments/reconcile.ts';

export interface DisbursementItem {
  transactionId: string;
  statement: StatementRow | null;
  ledger: DisbursementRow | null;
  amountDifference: number | null;
  note?: string;
}

export type DisbursementReport = Report<DisbursementItem>;

/** The batch of an operator reference `<batch reference>-<attempt>`. */
const batchOf = (reference: string) => reference.replace(/-\d{1,4}$/, '');

/** Compares the statement's rows (parsed, without errors) with the disbursement ledger. Reads only. */
export function reconcileDisbursements(db: Db, rows: readonly StatementRow[], opts: ReconcileOptions = {}): DisbursementReport {
  checkPeriod(opts);
  const store = createDisbursementStore(db);
  const { report, add, ignore } = startReport<DisbursementItem>(rows, opts);
  const { from, to } = report.period;
  const succeeded = new Set<string>();
  const failed = new Map<string, StatementRow>();
  atomically(db, () => {
    for (const row of rows) {
      if (row.status === 'FAILED') {
        ignore(row);
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
