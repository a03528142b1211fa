import type { Db } from './connection.ts';

/**
 * Owner of payment_batches (a facility's approved claims paid in one mobile-money disbursement) and
 * disbursement_ledger (one append-only row per paid batch, what reconciliation compares with the
 * operator's statement). The claims' side (claims.batch_id) belongs to src/db/claims.ts.
 */

export type BatchStatus = 'prepared' | 'approved' | 'sending' | 'paid' | 'failed' | 'cancelled';

export interface Batch {
  id: number;
  reference: string;
  facilityId: number;
  facilityName: string;
  /** The facility's payment number when the batch was prepared: what the approver saw and what is paid. */
  msisdn: string;
  amount: number;
  claimsCount: number;
  status: BatchStatus;
  preparedBy: number;
  preparedByName: string;
  preparedAt: string;
  approvedBy: number | null;
  approvedByName: string | null;
  approvedAt: string | null;
  cancelledBy: number | null;
  /** Sends so far; the current one's operator reference is `<reference>-<attempts>`. */
  attempts: number;
  /** When the current attempt was recorded as sending. */
  sentAt: string | null;
  operatorTxnId: string | null;
  failureReason: string | null;
  settledAt: string | null;
  updatedAt: string;
}

export interface DisbursementRow {
  ledgerId: number;
  batchId: number;
  batchReference: string;
  facilityId: number;
  facilityName: string;
  /** The operator reference of the attempt that paid. */
  reference: string;
  msisdn: string;
  amount: number;
  fee: number;
  transactionId: string;
  paidOn: string;
  paidAt: string;
}

const BATCH = `SELECT b.id, b.reference, b.facility_id AS facilityId, f.name AS facilityName, b.msisdn, b.amount,
  b.claims_count AS claimsCount, b.status, b.prepared_by AS preparedBy, p.name AS preparedByName, b.prepared_at AS preparedAt,
  b.approved_by AS approvedBy, a.name AS approvedByName, b.approved_at AS approvedAt, b.cancelled_by AS cancelledBy,
  b.attempts, b.sent_at AS sentAt, b.operator_txn_id AS operatorTxnId, b.failure_reason AS failureReason,
  b.settled_at AS settledAt, b.updated_at AS updatedAt
  FROM payment_batches b JOIN facilities f ON f.id = b.facility_id JOIN staff p ON p.id = b.prepared_by
  LEFT JOIN staff a ON a.id = b.approved_by`;

const LEDGER = `SELECT l.id AS ledgerId, l.batch_id AS batchId, b.reference AS batchReference, l.facility_id AS facilityId,
  f.name AS facilityName, l.reference, l.msisdn, l.amount, l.fee, l.operator_txn_id AS transactionId, l.paid_on AS paidOn,
  l.paid_at AS paidAt
  FROM disbursement_ledger l JOIN payment_batches b ON b.id = l.batch_id JOIN facilities f ON f.id = l.facility_id`;

export function createDisbursementStore(db: Db) {
  const insert = db.prepare(
    `INSERT INTO payment_batches (reference, facility_id, msisdn, amount, claims_count, status, prepared_by, prepared_at, updated_at)
     VALUES ('new:' || @facilityId || ':' || @now, @facilityId, @msisdn, @amount, @claimsCount, 'prepared', @preparedBy, @now, @now)`,
  );
  const setReference = db.prepare('UPDATE payment_batches SET reference = ? WHERE id = ?');
  const byId = db.prepare(`${BATCH} WHERE b.id = ?`);
  const byReference = db.prepare(`${BATCH} WHERE b.reference = ?`);
  const list = db.prepare(`${BATCH} ORDER BY b.id DESC LIMIT ?`);
  const inStatus = db.prepare(`${BATCH} WHERE b.status = ? ORDER BY b.id`);
  const approve = db.prepare(
    `UPDATE payment_batches SET status = 'approved', approved_by = ?, approved_at = ?, updated_at = ? WHERE id = ? AND status = 'prepared'`,
  );
  const send = db.prepare(
    `UPDATE payment_batches SET status = 'sending', attempts = attempts + 1, sent_at = @now, operator_txn_id = NULL,
       failure_reason = NULL, updated_at = @now WHERE id = @id AND status IN ('approved', 'failed')`,
  );
  const setTxn = db.prepare(
    `UPDATE payment_batches SET operator_txn_id = ?, updated_at = ? WHERE id = ? AND status = 'sending' AND attempts = ?`,
  );
  const settle = db.prepare(
    `UPDATE payment_batches SET status = @status, operator_txn_id = COALESCE(@txnId, operator_txn_id), failure_reason = @reason,
       settled_at = @now, updated_at = @now WHERE id = @id AND status = 'sending' AND attempts = @attempt`,
  );
  const discrepancy = db.prepare(
    `UPDATE payment_batches SET operator_txn_id = ?, failure_reason = ?, updated_at = ? WHERE id = ? AND status = 'sending' AND attempts = ?`,
  );
  const cancel = db.prepare(
    `UPDATE payment_batches SET status = 'cancelled', cancelled_by = ?, updated_at = ? WHERE id = ? AND status IN ('prepared', 'failed')`,
  );
  const addLedger = db.prepare(
    `INSERT INTO disbursement_ledger (batch_id, facility_id, reference, msisdn, amount, fee, operator_txn_id, paid_on, paid_at, recorded_at)
     VALUES (@batchId, @facilityId, @reference, @msisdn, @amount, @fee, @txnId, @paidOn, @paidAt, @now)
     ON CONFLICT DO NOTHING`,
  );
  const ledgerBetween = db.prepare(
    `${LEDGER} WHERE (@from IS NULL OR l.paid_on >= @from) AND (@to IS NULL OR l.paid_on <= @to) ORDER BY l.paid_at, l.id`,
  );
  const ledgerByTxn = db.prepare(`${LEDGER} WHERE l.operator_txn_id = ?`);
  const ledgerOfBatch = db.prepare(`${LEDGER} WHERE l.batch_id = ?`);

  return {
    /** Records a batch `prepared`, its reference made from its row id. Call inside a transaction. */
    record(
      b: { facilityId: number; msisdn: string; amount: number; claimsCount: number; preparedBy: number; now: string },
      referenceOf: (id: number) => string,
    ): Batch {
      const id = Number(insert.run(b).lastInsertRowid);
      setReference.run(referenceOf(id), id);
      return byId.get(id) as Batch;
    },
    get(id: number): Batch | undefined {
      return byId.get(id) as Batch | undefined;
    },
    byReference(reference: string): Batch | undefined {
      return byReference.get(reference) as Batch | undefined;
    },
    /** The latest batches, newest first. */
    latest(limit = 200): Batch[] {
      return list.all(limit) as Batch[];
    },
    inStatus(status: BatchStatus): Batch[] {
      return inStatus.all(status) as Batch[];
    },
    /** A second person's approval; false unless the batch was still `prepared` (the CHECK refuses the preparer). */
    approve(id: number, staffId: number, now: string): boolean {
      return approve.run(staffId, now, now, id).changes === 1;
    },
    /** A new attempt: `sending`, attempts + 1; only from `approved` or `failed`. */
    startAttempt(id: number, now: string): boolean {
      return send.run({ id, now }).changes === 1;
    },
    /** The operator took the attempt: its transaction id (only while that attempt is the one sending). */
    setOperatorTxn(id: number, attempt: number, txnId: string, now: string): void {
      setTxn.run(txnId, now, id, attempt);
    },
    /** The attempt's outcome; false when the batch was no longer sending that attempt. */
    settle(
      id: number,
      attempt: number,
      outcome: { status: 'paid' | 'failed'; txnId: string | null; reason: string | null },
      now: string,
    ): boolean {
      return settle.run({ id, attempt, status: outcome.status, txnId: outcome.txnId, reason: outcome.reason, now }).changes === 1;
    },
    /** The operator reported the attempt paid, but not as approved: kept sending, with why, for a person. */
    setDiscrepancy(id: number, attempt: number, txnId: string, reason: string, now: string): void {
      discrepancy.run(txnId, reason, now, id, attempt);
    },
    /** Cancelled while prepared or failed; its claims must then be released (src/db/claims.ts). */
    cancel(id: number, staffId: number, now: string): boolean {
      return cancel.run(staffId, now, id).changes === 1;
    },
    /** The ledger row of a paid batch; false if the batch (or the transaction) already has one. */
    addLedgerRow(r: {
      batchId: number;
      facilityId: number;
      reference: string;
      msisdn: string;
      amount: number;
      fee: number;
      txnId: string;
      paidOn: string;
      paidAt: string;
      now: string;
    }): boolean {
      return addLedger.run(r).changes === 1;
    },
    /** Ledger rows whose day is within [from, to] (either bound null: open), oldest first. */
    ledgerBetween(from: string | null, to: string | null): DisbursementRow[] {
      return ledgerBetween.all({ from, to }) as DisbursementRow[];
    },
    ledgerByTransaction(txnId: string): DisbursementRow | undefined {
      return ledgerByTxn.get(txnId) as DisbursementRow | undefined;
    },
    ledgerOfBatch(batchId: number): DisbursementRow | undefined {
      return ledgerOfBatch.get(batchId) as DisbursementRow | undefined;
    },
  };
}

export type DisbursementStore = ReturnType<typeof createDisbursementStore>;
