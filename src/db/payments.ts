import type { Db } from './connection.ts';

/**
 * Mobile-money payments (`payments`): one row per confirmed quote, from `initiated` to its outcome.
 * The ledger they credit (`contributions`) belongs to the household (src/db/households.ts); the
 * reconciliation reads below join the two.
 */

export type PaymentStatus = 'initiated' | 'pending' | 'succeeded' | 'failed' | 'expired' | 'cancelled' | 'review';

export interface Payment {
  id: number;
  reference: string;
  householdId: number;
  payerMsisdn: string;
  amount: number;
  fee: number;
  feeBearer: 'member' | 'utm';
  total: number;
  status: PaymentStatus;
  failureReason: string | null;
  operatorTxnId: string | null;
  createdAt: string;
  /** What the operator reported, kept when it differs from the payment (status 'review'). */
  operatorAmount: number | null;
  operatorFee: number | null;
  operatorMsisdn: string | null;
  reviewedBy: string | null;
}

export interface NewPayment extends Pick<Payment, 'householdId' | 'payerMsisdn' | 'amount' | 'fee' | 'feeBearer' | 'total'> {
  /** The confirmed quote's key: the same quote can only ever make one payment. */
  requestKey: string;
  /** The version of the fee grid the fee came from. */
  grid: string;
  now: string;
}

const COLUMNS = `id, reference, household_id AS householdId, payer_msisdn AS payerMsisdn, amount, fee, fee_bearer AS feeBearer,
  total, status, failure_reason AS failureReason, operator_txn_id AS operatorTxnId, created_at AS createdAt,
  operator_amount AS operatorAmount, operator_fee AS operatorFee, operator_msisdn AS operatorMsisdn, reviewed_by AS reviewedBy`;

export function createPaymentRepository(db: Db) {
  const insert = db.prepare(
    `INSERT INTO payments (reference, household_id, payer_msisdn, amount, fee, fee_bearer, total, fee_grid, status, request_key, created_at, updated_at)
     VALUES ('new:' || @requestKey, @householdId, @payerMsisdn, @amount, @fee, @feeBearer, @total, @grid, 'initiated', @requestKey, @now, @now)`,
  );
  const setReference = db.prepare('UPDATE payments SET reference = ? WHERE id = ?');
  const byId = db.prepare(`SELECT ${COLUMNS} FROM payments WHERE id = ?`);
  const byKey = db.prepare(`SELECT ${COLUMNS} FROM payments WHERE request_key = ?`);
  const byReference = db.prepare(`SELECT ${COLUMNS} FROM payments WHERE reference = ?`);
  const pendingOf = db.prepare(`SELECT ${COLUMNS} FROM payments WHERE payer_msisdn = ? AND status IN ('initiated', 'pending')`);
  const unsettled = db.prepare(`SELECT ${COLUMNS} FROM payments WHERE status IN ('initiated', 'pending') AND created_at <= ? ORDER BY id`);
  const inReview = db.prepare(`SELECT ${COLUMNS} FROM payments WHERE status = 'review' ORDER BY id`);
  const setPending = db.prepare(
    `UPDATE payments SET status = 'pending', operator_txn_id = ?, updated_at = ? WHERE id = ? AND status = 'initiated'`,
  );
  const setStatus = db.prepare(
    `UPDATE payments SET status = ?, failure_reason = ?, operator_txn_id = COALESCE(operator_txn_id, ?), updated_at = ? WHERE id = ?`,
  );
  const setReview = db.prepare(
    `UPDATE payments SET status = 'review', operator_txn_id = COALESCE(operator_txn_id, @txnId), operator_amount = @amount,
       operator_fee = @fee, operator_msisdn = @msisdn, updated_at = @now WHERE id = @id`,
  );
  const setReviewed = db.prepare(
    `UPDATE payments SET status = ?, failure_reason = ?, reviewed_by = ?, reviewed_at = ?, updated_at = ? WHERE id = ? AND status = 'review'`,
  );
  const ofHousehold = db.prepare(`SELECT ${COLUMNS} FROM payments WHERE household_id = ? ORDER BY id DESC LIMIT ?`);
  const oneOfHousehold = db.prepare(`SELECT ${COLUMNS} FROM payments WHERE household_id = ? AND id = ?`);

  return {
    /**
     * Records a payment `initiated`, its reference made from its row id by `referenceOf`. Call
     * inside a transaction: the provisional reference must never be committed.
     */
    record(p: NewPayment, referenceOf: (id: number) => string): Payment {
      const id = Number(insert.run(p).lastInsertRowid);
      setReference.run(referenceOf(id), id);
      return byId.get(id) as Payment;
    },
    byId(id: number): Payment | undefined {
      return byId.get(id) as Payment | undefined;
    },
    byRequestKey(requestKey: string): Payment | undefined {
      return byKey.get(requestKey) as Payment | undefined;
    },
    byReference(reference: string): Payment | undefined {
      return byReference.get(reference) as Payment | undefined;
    },
    /** The wallet's payment still waiting for its request or its PIN (at most one). */
    pendingFor(msisdn: string): Payment | undefined {
      return pendingOf.get(msisdn) as Payment | undefined;
    },
    /** Payments not settled yet, created at or before `createdBy` (ISO), oldest first. */
    unsettled(createdBy: string): Payment[] {
      return unsettled.all(createdBy) as Payment[];
    },
    inReview(): Payment[] {
      return inReview.all() as Payment[];
    },
    /** The operator prompts for the PIN; only a payment still `initiated` moves. */
    markPending(id: number, txnId: string, now: string): void {
      setPending.run(txnId, now, id);
    },
    /** An outcome; the operator's transaction id is kept if one was known already. */
    setStatus(id: number, status: PaymentStatus, reason: string | null, txnId: string | null, now: string): void {
      setStatus.run(status, reason, txnId, now, id);
    },
    /** The operator reported another amount or phone: kept for a manager, with what it reported. */
    holdForReview(id: number, operator: { txnId: string; amount: number; fee: number; msisdn: string }, now: string): void {
      setReview.run({ id, ...operator, now });
    },
    /** A manager's decision; only a payment still in review moves. */
    setReviewed(id: number, status: 'succeeded' | 'failed', reason: string | null, reviewer: string, now: string): void {
      setReviewed.run(status, reason, reviewer, now, now, id);
    },
    /** The household's latest payments, newest first. */
    recentOf(householdId: number, limit: number): Payment[] {
      return ofHousehold.all(householdId, limit) as Payment[];
    },
    oneOf(householdId: number, paymentId: number): Payment | undefined {
      return oneOfHousehold.get(householdId, paymentId) as Payment | undefined;
    },
  };
}

export type PaymentRepository = ReturnType<typeof createPaymentRepository>;

export interface LedgerRow {
  contributionId: number;
  householdId: number;
  cardNumber: string;
  transactionId: string | null;
  /** Our payment reference when the contribution came from a sabatili payment; null otherwise. */
  reference: string | null;
  /** The paying wallet: the payment's, else the household's Orange wallet, else its phone. */
  msisdn: string;
  amount: number;
  fee: number;
  paidOn: string;
  paidAt: string;
}

export interface PaymentInfo {
  reference: string;
  householdId: number;
  status: string;
  failureReason: string | null;
  amount: number;
  fee: number;
  operatorTxnId: string | null;
  /** What the operator's callback reported, for a payment held in review. */
  operatorAmount: number | null;
  operatorMsisdn: string | null;
}

const LEDGER_SELECT = `SELECT c.id AS contributionId, c.household_id AS householdId, h.card_number AS cardNumber,
    c.operator_txn_id AS transactionId, p.reference AS reference,
    COALESCE(p.payer_msisdn,
      (SELECT w.msisdn FROM wallets w WHERE w.household_id = c.household_id AND w.operator = 'orange_money'
        ORDER BY (w.unlinked_at IS NULL) DESC, w.id DESC LIMIT 1),
      h.phone) AS msisdn,
    c.amount, c.fee, c.paid_on AS paidOn, c.paid_at AS paidAt
  FROM contributions c
  JOIN households h ON h.id = c.household_id
  LEFT JOIN payments p ON p.operator_txn_id = c.operator_txn_id
  WHERE c.channel = 'orange_money'`;

/** The ledger's Orange Money side, with the payment behind each row: what an operator statement is compared with. */
export function createOperatorLedger(db: Db) {
  const between = db.prepare(
    `${LEDGER_SELECT} AND (@from IS NULL OR c.paid_on >= @from) AND (@to IS NULL OR c.paid_on <= @to)
     ORDER BY c.paid_at, c.id`,
  );
  const byTxn = db.prepare(`${LEDGER_SELECT} AND c.operator_txn_id = ?`);
  const paymentBy = db.prepare(
    `SELECT reference, household_id AS householdId, status, failure_reason AS failureReason, amount, fee,
       operator_txn_id AS operatorTxnId, operator_amount AS operatorAmount, operator_msisdn AS operatorMsisdn
     FROM payments WHERE operator_txn_id = ? OR (? <> '' AND reference = ?) ORDER BY (operator_txn_id = ?) DESC LIMIT 1`,
  );
  return {
    /** Rows whose day is within [from, to] (null: unbounded), oldest first. */
    between(from: string | null, to: string | null): LedgerRow[] {
      return between.all({ from, to }) as LedgerRow[];
    },
    byTransaction(txnId: string): LedgerRow | undefined {
      return byTxn.get(txnId) as LedgerRow | undefined;
    },
    /** The payment with this operator transaction id, else with this reference (non-empty). */
    paymentFor(txnId: string, reference: string): PaymentInfo | undefined {
      return paymentBy.get(txnId, reference, reference, txnId) as PaymentInfo | undefined;
    },
  };
}
