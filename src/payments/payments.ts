import { randomBytes } from 'node:crypto';
import { bamakoDay, type Clock } from '../clock.ts';
import type { Db } from '../db/connection.ts';
import type { HouseholdStore } from '../db/households.ts';
import { coverageView } from '../domain/coverage.ts';
import { feeFor, gridOn, type FeeGrid } from '../domain/fees.ts';
import { translate, type Catalogs } from '../i18n/catalog.ts';
import type { Logger } from '../log.ts';
import { SmsRejected, type Outbox } from '../sms/outbox.ts';
import type { PaymentCallback, PaymentProvider } from './port.ts';

export type PaymentStatus = 'initiated' | 'pending' | 'succeeded' | 'failed' | 'expired' | 'cancelled';

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
}

export type StartOutcome =
  | { status: 'pending'; payment: Payment }
  | { status: 'pendingExists'; payment: Payment }
  | { status: 'rejected'; reason: string };

export type CallbackOutcome = 'credited' | 'duplicate' | 'failed' | 'unknown';

export interface PaymentsDeps {
  db: Db;
  households: HouseholdStore;
  outbox: Outbox;
  provider: PaymentProvider;
  clock: Clock;
  logger: Logger;
  catalogs: Catalogs;
  feeGrids: readonly FeeGrid[];
  feeBearer: 'member' | 'utm';
  serviceCode: string;
  /** Where the operator posts its callback (this server's public URL + the callback path). */
  callbackUrl: () => string;
  /** Called in the ledger's transaction when a contribution is credited (pending reminders are cancelled). */
  onContribution?: (householdId: number, now: Date) => void;
}

const COLUMNS = `id, reference, household_id AS householdId, payer_msisdn AS payerMsisdn, amount, fee, fee_bearer AS feeBearer,
  total, status, failure_reason AS failureReason, operator_txn_id AS operatorTxnId, created_at AS createdAt`;

/**
 * Contributions by mobile money: a payment is `initiated` when the member confirms the quote,
 * `pending` once the operator prompts for the PIN, and only the operator's successful callback
 * writes to the ledger — once per operator transaction id, durably (synchronous=FULL) before the
 * callback is answered, with the receipt SMS queued in the same transaction.
 */
export function createPayments(d: PaymentsDeps) {
  const { db } = d;
  const insert = db.prepare(
    `INSERT INTO payments (reference, household_id, payer_msisdn, amount, fee, fee_bearer, total, fee_grid, status, request_key, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'initiated', ?, ?, ?) ON CONFLICT (request_key) DO NOTHING`,
  );
  const byKey = db.prepare(`SELECT ${COLUMNS} FROM payments WHERE request_key = ?`);
  const byReference = db.prepare(`SELECT ${COLUMNS} FROM payments WHERE reference = ?`);
  const pendingOf = db.prepare(`SELECT ${COLUMNS} FROM payments WHERE payer_msisdn = ? AND status IN ('initiated', 'pending')`);
  const setPending = db.prepare(`UPDATE payments SET status = 'pending', operator_txn_id = ?, updated_at = ? WHERE id = ?`);
  const setStatus = db.prepare(`UPDATE payments SET status = ?, failure_reason = ?, operator_txn_id = COALESCE(operator_txn_id, ?), updated_at = ? WHERE id = ?`);
  const ofHousehold = db.prepare(`SELECT ${COLUMNS} FROM payments WHERE household_id = ? ORDER BY id DESC LIMIT ?`);
  const oneOfHousehold = db.prepare(`SELECT ${COLUMNS} FROM payments WHERE household_id = ? AND id = ?`);

  /** The receipt or notice; a payer we cannot text never undoes a credit (logged for the office instead). */
  function notify(p: Payment, key: string, params: Record<string, string | number>, sourceKey: string): void {
    const household = d.households.load(p.householdId)?.household;
    const lang = household?.language ?? 'fr';
    try {
      d.outbox.enqueue({
        to: p.payerMsisdn,
        text: translate(d.catalogs, lang, key, { code: d.serviceCode, ...params }),
        lang,
        kind: 'transactional',
        sourceKey,
      });
    } catch (err) {
      if (!(err instanceof SmsRejected)) throw err;
      d.logger.warn({ reference: p.reference, phone: p.payerMsisdn, reason: err.message }, 'payments: no SMS could be queued for this payment');
    }
  }

  const credit = db.transaction((p: Payment, cb: PaymentCallback, now: Date): CallbackOutcome => {
    if (p.status === 'succeeded') return 'duplicate';
    const rec = d.households.load(p.householdId);
    if (!rec) throw new Error(`household ${p.householdId} of payment ${p.reference} is gone`);
    const today = bamakoDay(now);
    const before = coverageView({ ...rec, adherentName: rec.household.adherentName }, today);
    const added = d.households.addContribution(
      { householdId: p.householdId, amount: p.amount, fee: p.fee, channel: 'orange_money', operatorTxnId: cb.txnId, paidOn: today, paidAt: now.toISOString() },
      now,
    );
    setStatus.run('succeeded', null, cb.txnId, now.toISOString(), p.id);
    if (!added) return 'duplicate';
    d.onContribution?.(p.householdId, now);
    const after = d.households.load(p.householdId);
    const view = after ? coverageView({ ...after, adherentName: after.household.adherentName }, today) : before;
    if (view.paidThrough && view.paidThrough !== before.paidThrough) {
      notify(p, 'sms.receipt.covered', { amount: p.amount, fee: p.fee, until: view.paidThrough, reference: cb.txnId }, `receipt:${cb.txnId}`);
    } else {
      notify(p, 'sms.receipt.partial', { amount: p.amount, fee: p.fee, remaining: view.remaining, month: view.nextMonth, reference: cb.txnId }, `receipt:${cb.txnId}`);
    }
    return 'credited';
  });

  const fail = db.transaction((p: Payment, cb: PaymentCallback, now: Date): CallbackOutcome => {
    // After a success, or once the member cancelled (the operator then confirms the refusal), nothing more to say.
    if (p.status !== 'pending' && p.status !== 'initiated') return 'duplicate';
    const status: PaymentStatus = cb.status === 'EXPIRED' ? 'expired' : 'failed';
    setStatus.run(status, cb.reason ?? cb.status, cb.txnId, now.toISOString(), p.id);
    if (cb.status === 'EXPIRED') notify(p, 'sms.payment.expired', { amount: p.amount }, `failure:${cb.txnId}`);
    else if (cb.reason === 'INSUFFICIENT_FUNDS') notify(p, 'sms.payment.insufficient', { amount: p.amount, needed: p.total }, `failure:${cb.txnId}`);
    else notify(p, 'sms.payment.refused', { amount: p.amount }, `failure:${cb.txnId}`);
    return 'failed';
  });

  /** The fee for an amount today, from the grid in force. */
  function feeToday(amount: number): { fee: number; grid: string } {
    const grid = gridOn(d.feeGrids, bamakoDay(d.clock.now()));
    return { fee: feeFor(grid, amount), grid: grid.version };
  }

  return {
    feeToday,
    pendingFor(msisdn: string): Payment | undefined {
      return pendingOf.get(msisdn) as Payment | undefined;
    },
    recent(householdId: number, limit = 20): Payment[] {
      return ofHousehold.all(householdId, limit) as Payment[];
    },
    /** One payment of the household (the office acts on it), or undefined. */
    ofHousehold(householdId: number, paymentId: number): Payment | undefined {
      return oneOfHousehold.get(householdId, paymentId) as Payment | undefined;
    },
    /** The member confirmed the quote: record the payment, then ask the operator to prompt for the PIN. */
    async start(req: { householdId: number; payerMsisdn: string; amount: number; requestKey: string }): Promise<StartOutcome> {
      const now = d.clock.now();
      const existing = byKey.get(req.requestKey) as Payment | undefined;
      // A retried hop: the same answer as the first time.
      if (existing) return existing.status === 'failed' ? { status: 'rejected', reason: existing.failureReason ?? '' } : { status: 'pending', payment: existing };
      const waiting = pendingOf.get(req.payerMsisdn) as Payment | undefined;
      if (waiting) return { status: 'pendingExists', payment: waiting };
      const { fee, grid } = feeToday(req.amount);
      const total = d.feeBearer === 'member' ? req.amount + fee : req.amount;
      const reference = `KS${bamakoDay(now).replaceAll('-', '').slice(2)}${randomBytes(3).toString('hex').toUpperCase()}`;
      try {
        insert.run(reference, req.householdId, req.payerMsisdn, req.amount, fee, d.feeBearer, total, grid, req.requestKey, now.toISOString(), now.toISOString());
      } catch (err) {
        // The partial unique index: another hop started a payment for this wallet at the same instant.
        const other = pendingOf.get(req.payerMsisdn) as Payment | undefined;
        if (other) return { status: 'pendingExists', payment: other };
        throw err;
      }
      const payment = byKey.get(req.requestKey) as Payment;
      const outcome = await d.provider.requestPayment({
        reference: payment.reference,
        msisdn: req.payerMsisdn,
        amount: req.amount,
        fee,
        debit: total,
        callbackUrl: d.callbackUrl(),
      });
      if (outcome.status === 'rejected') {
        setStatus.run('failed', outcome.reason, null, d.clock.now().toISOString(), payment.id);
        return { status: 'rejected', reason: outcome.reason };
      }
      setPending.run(outcome.txnId, d.clock.now().toISOString(), payment.id);
      return { status: 'pending', payment: { ...payment, status: 'pending', operatorTxnId: outcome.txnId } };
    },
    /** The member gives up a payment still waiting for the PIN; a success that arrives later is still credited. */
    async cancel(msisdn: string): Promise<Payment | undefined> {
      const p = pendingOf.get(msisdn) as Payment | undefined;
      if (!p) return undefined;
      setStatus.run('cancelled', 'cancelled by the member', null, d.clock.now().toISOString(), p.id);
      // Close the operator's PIN prompt too, so the member can pay again at once.
      if (p.operatorTxnId) await d.provider.cancelPayment?.(p.payerMsisdn, p.operatorTxnId);
      return p;
    },
    /** A verified operator callback. Money that moved is always credited, even for a payment the member cancelled. */
    handleCallback(cb: PaymentCallback): CallbackOutcome {
      const p = byReference.get(cb.reference) as Payment | undefined;
      if (!p) return 'unknown';
      // The operator named this transaction when it accepted the request: another id is not this payment's.
      if (p.operatorTxnId && p.operatorTxnId !== cb.txnId) {
        d.logger.warn({ reference: p.reference, expected: p.operatorTxnId, got: cb.txnId }, 'payments: callback with another transaction id');
        return 'unknown';
      }
      if (cb.amount !== p.amount) d.logger.warn({ reference: p.reference, amount: p.amount, operatorAmount: cb.amount }, 'payments: the operator reports another amount');
      const now = d.clock.now();
      if (cb.status !== 'SUCCESS') return fail(p, cb, now);
      // The ledger row must be on disk before the operator hears 200: its retry is the safety net.
      db.pragma('synchronous = FULL');
      try {
        return credit(p, cb, now);
      } finally {
        db.pragma('synchronous = NORMAL');
      }
    },
  };
}

export type Payments = ReturnType<typeof createPayments>;
