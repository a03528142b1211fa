import { bamakoDay, type Clock } from '../clock.ts';
import type { Db } from '../db/connection.ts';
import type { HouseholdStore } from '../db/households.ts';
import { createPaymentRepository, type Payment, type PaymentStatus } from '../db/payments.ts';
import { atomic, durably as durablyOn } from '../db/transaction.ts';
import { coverageView } from '../domain/coverage.ts';
import { type FeeGrid, feeFor, gridOn } from '../domain/fees.ts';
import { maskName } from '../domain/names.ts';
import { paymentEffect } from '../domain/quote.ts';
import { type Catalogs, translate } from '../i18n/catalog.ts';
import type { Logger } from '../log.ts';
import { type Outbox, SmsRejected } from '../sms/outbox.ts';
import type { PaymentCallback, PaymentProvider, RequestOutcome } from './port.ts';

export type { Payment, PaymentStatus } from '../db/payments.ts';

export type StartOutcome =
  | { status: 'pending'; payment: Payment }
  | { status: 'pendingExists'; payment: Payment }
  /** This quote was already paid (a retried or resumed confirm): nothing is asked again. */
  | { status: 'paid'; payment: Payment }
  /** The operator reported this quote's payment with another amount or phone: a manager decides. */
  | { status: 'review'; payment: Payment }
  /** The payment is recorded but the operator could not be reached: the recovery sweep asks again. */
  | { status: 'uncertain'; payment: Payment }
  | { status: 'rejected'; reason: string };

export type CallbackOutcome = 'credited' | 'duplicate' | 'failed' | 'review' | 'unknown';

/** A manager's decision on a payment in review. */
export type ReviewDecision = 'credit' | 'refuse';

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
  /** How long the operator's PIN prompt waits: an initiated payment older than this is not sent again. */
  expiryMs: number;
  /** How long past its expiry a payment waits for its callback before the operator is asked. */
  statusAfterMs: number;
  /** Where the operator posts its callback (this server's public URL + the callback path). */
  callbackUrl: () => string;
  /** Called in the ledger's transaction when a contribution is credited (pending reminders are cancelled). */
  onContribution?: (householdId: number, now: Date) => void;
}

/** What the recovery sweep did, for the log and the tests. */
export interface RecoveryResult {
  resent: number;
  asked: number;
  settled: number;
}

/** A reference from the row id: unique by construction, readable on a statement line. */
export function referenceFor(id: number, day: string): string {
  return `KS${day.replaceAll('-', '').slice(2)}${String(id).padStart(6, '0')}`;
}

/**
 * Contributions by mobile money. A payment is recorded `initiated` (keyed by the quote the member
 * confirmed) and durably committed before the operator is asked; it is `pending` once the operator
 * prompts for the PIN. Only a verified success writes to the ledger: once per operator transaction
 * id, durably (synchronous=FULL) before the callback is answered, with the receipt SMS queued in the
 * same transaction. A success with another amount or phone waits in `review` for a manager.
 * Nothing relies on a hop finishing: `recover()` re-sends what the operator never got and asks the
 * operator about what it never answered.
 */
export function createPayments(d: PaymentsDeps) {
  const { db } = d;
  const repo = createPaymentRepository(db);

  /** The receipt or notice; a payer we cannot text never undoes a credit (logged for the office instead). */
  function notify(p: Payment, key: string, params: Record<string, string | number>, sourceKey: string, to = p.payerMsisdn): void {
    const household = d.households.load(p.householdId)?.household;
    // In the language of whoever reads it: a payer who is a member of another household gets theirs.
    const lang = (to === household?.phone ? household.language : d.households.findByPhone(to)?.language) ?? household?.language ?? 'fr';
    try {
      d.outbox.enqueue({
        to,
        text: translate(d.catalogs, lang, key, { code: d.serviceCode, ...params }),
        lang,
        kind: 'transactional',
        sourceKey,
      });
    } catch (err) {
      if (!(err instanceof SmsRejected)) throw err;
      d.logger.warn({ reference: p.reference, phone: to, reason: err.message }, 'payments: no SMS could be queued for this payment');
    }
  }

  /** Writes the ledger row and the receipt; `amount` and `fee` are what the operator moved. */
  function creditLedger(p: Payment, txnId: string, amount: number, fee: number, now: Date): boolean {
    const rec = d.households.load(p.householdId);
    if (!rec) throw new Error(`household ${p.householdId} of payment ${p.reference} is gone`);
    const today = bamakoDay(now);
    const before = coverageView({ ...rec, adherentName: rec.household.adherentName }, today);
    const added = d.households.addContribution(
      { householdId: p.householdId, amount, fee, channel: 'orange_money', operatorTxnId: txnId, paidOn: today, paidAt: now.toISOString() },
      now,
    );
    if (!added) return false;
    d.onContribution?.(p.householdId, now);
    const after = d.households.load(p.householdId);
    const view = after ? coverageView({ ...after, adherentName: after.household.adherentName }, today) : before;
    // One receipt per effect, naming the household paid for: "covered until" only when care is covered.
    const e = paymentEffect({
      beforePaidThrough: before.paidThrough,
      after: view,
      situation: view.situation as NonNullable<typeof view.situation>,
    });
    const params = {
      amount,
      fee,
      name: maskName(rec.household.adherentName),
      reference: txnId,
      until: e.until ?? '',
      from: e.from ?? '',
      by: e.by ?? '',
      remaining: e.remaining,
      month: e.month,
    };
    const key = `sms.receipt.${e.kind}`;
    notify(p, key, params, `receipt:${txnId}`);
    // Paid for another household: its head gets the receipt too.
    if (rec.household.phone !== p.payerMsisdn) notify(p, key, params, `receipt:${txnId}:household`, rec.household.phone);
    return true;
  }

  /** A success: credited when it is exactly the payment asked for, else kept for a manager. */
  const succeed = atomic(db, (p: Payment, cb: OperatorSuccess, now: Date): CallbackOutcome => {
    if (p.status === 'succeeded' || p.status === 'review') return 'duplicate';
    if (cb.amount !== p.amount || cb.msisdn !== p.payerMsisdn) {
      repo.holdForReview(p.id, { txnId: cb.txnId, amount: cb.amount, fee: cb.fee, msisdn: cb.msisdn }, now.toISOString());
      d.logger.warn(
        { reference: p.reference, amount: p.amount, operatorAmount: cb.amount, phone: p.payerMsisdn, operatorPhone: cb.msisdn },
        'payments: the operator reports another amount or phone; kept for review, nothing credited',
      );
      return 'review';
    }
    repo.setStatus(p.id, 'succeeded', null, cb.txnId, now.toISOString());
    return creditLedger(p, cb.txnId, p.amount, p.fee, now) ? 'credited' : 'duplicate';
  });

  const fail = atomic(
    db,
    (p: Payment, cb: { status: 'FAILED' | 'EXPIRED'; reason?: string | undefined; txnId: string | null }, now: Date): CallbackOutcome => {
      // After a success, or once the member cancelled (the operator then confirms the refusal), nothing more to say.
      if (p.status !== 'pending' && p.status !== 'initiated') return 'duplicate';
      const status: PaymentStatus = cb.status === 'EXPIRED' ? 'expired' : 'failed';
      repo.setStatus(p.id, status, cb.reason ?? cb.status, cb.txnId, now.toISOString());
      const key = `failure:${cb.txnId ?? p.reference}`;
      if (cb.status === 'EXPIRED') notify(p, 'sms.payment.expired', { amount: p.amount }, key);
      else if (cb.reason === 'INSUFFICIENT_FUNDS') notify(p, 'sms.payment.insufficient', { amount: p.amount, needed: p.total }, key);
      else notify(p, 'sms.payment.refused', { amount: p.amount }, key);
      return 'failed';
    },
  );

  /** The outcome of a payment, from a callback or a status query; money that moved is always credited. */
  function settleOutcome(p: Payment, o: OperatorOutcome): CallbackOutcome {
    const now = d.clock.now();
    if (o.status !== 'SUCCESS') return fail(p, o, now);
    // The ledger row must be on disk before the operator hears 200: its retry is the safety net.
    return durably(() => succeed(p, o, now));
  }

  const durably = <T>(run: () => T): T => durablyOn(db, run);

  const record = atomic(db, (req: StartRequest, fee: number, grid: string, now: Date): Payment => {
    const total = d.feeBearer === 'member' ? req.amount + fee : req.amount;
    return repo.record(
      {
        requestKey: req.requestKey,
        householdId: req.householdId,
        payerMsisdn: req.payerMsisdn,
        amount: req.amount,
        fee,
        feeBearer: d.feeBearer,
        total,
        grid,
        now: now.toISOString(),
      },
      (id) => referenceFor(id, bamakoDay(now)),
    );
  });

  /** Asks the operator to prompt for the PIN; safe to repeat (the operator keys on the reference). */
  async function request(p: Payment): Promise<StartOutcome> {
    let outcome: RequestOutcome;
    try {
      outcome = await d.provider.requestPayment({
        reference: p.reference,
        msisdn: p.payerMsisdn,
        amount: p.amount,
        fee: p.fee,
        debit: p.total,
        callbackUrl: d.callbackUrl(),
      });
    } catch (err) {
      d.logger.warn({ err, reference: p.reference }, 'payments: the operator could not be reached; the recovery sweep will ask again');
      return { status: 'uncertain', payment: p };
    }
    const now = d.clock.now().toISOString();
    if (outcome.status === 'rejected') {
      // The notice matters when the sweep sent it, long after the member's screen: every failure gets one.
      rejectOnce(p.id, outcome.reason, now);
      return { status: 'rejected', reason: outcome.reason };
    }
    repo.markPending(p.id, outcome.txnId, now);
    return { status: 'pending', payment: repo.byId(p.id) as Payment };
  }

  // Read again inside the transaction: while the request was out, a callback or the member may have
  // settled the payment; only one still waiting for its request is failed.
  const rejectOnce = atomic(db, (id: number, reason: string, now: string) => {
    const p = repo.byId(id) as Payment;
    if (p.status !== 'initiated') return;
    repo.setStatus(id, 'failed', reason, null, now);
    notify(p, 'sms.payment.rejected', { amount: p.amount }, `failure:${p.reference}`);
  });

  /**
   * A payment the operator never heard of is still sent while half its time remains: later, the
   * member would get a PIN prompt long after the screen, or too short to answer; it is failed instead.
   */
  const tooLateToSend = (p: Payment, nowMs: number) => Date.parse(p.createdAt) + d.expiryMs / 2 <= nowMs;
  /** Past this, a payment is ours to end: a prompt still open at the operator is withdrawn. */
  const overdue = (p: Payment, nowMs: number) => Date.parse(p.createdAt) + d.expiryMs + d.statusAfterMs <= nowMs;

  /** What a confirm of an already recorded quote answers: its state, never a second payment. */
  async function again(p: Payment): Promise<StartOutcome> {
    switch (p.status) {
      case 'succeeded':
        return { status: 'paid', payment: p };
      case 'review':
        return { status: 'review', payment: p };
      case 'pending':
        return { status: 'pending', payment: p };
      case 'initiated':
        // The hop that recorded it died before the operator heard of it: send it now, or let the sweep fail it.
        if (tooLateToSend(p, d.clock.now().getTime())) return { status: 'uncertain', payment: p };
        return request(p);
      default:
        return { status: 'rejected', reason: p.failureReason ?? p.status };
    }
  }

  /** The fee for an amount today, from the grid in force. */
  function feeToday(amount: number): { fee: number; grid: string } {
    const grid = gridOn(d.feeGrids, bamakoDay(d.clock.now()));
    return { fee: feeFor(grid, amount), grid: grid.version };
  }

  /** A payment whose operator outcome never arrived: ask, and settle what the operator says. */
  async function askOperator(p: Payment): Promise<boolean> {
    const o = await d.provider.paymentStatus(p.reference);
    const fresh = repo.byId(p.id) as Payment;
    if (fresh.status !== 'initiated' && fresh.status !== 'pending') return false;
    if (o.status === 'pending') {
      if (fresh.status === 'initiated') repo.markPending(p.id, o.txnId, d.clock.now().toISOString());
      if (!overdue(fresh, d.clock.now().getTime())) return false;
      // A prompt resent after a crash outlives the payment's own expiry: withdraw it, then take what
      // the operator says (a PIN typed just before still counts: money that moved is credited).
      await d.provider.cancelPayment(p.reference);
      const after = await d.provider.paymentStatus(p.reference);
      const now = repo.byId(p.id) as Payment;
      if (after.status === 'SUCCESS') settleOutcome(now, after);
      else fail(now, { status: 'EXPIRED', reason: 'EXPIRED', txnId: 'txnId' in after ? after.txnId : null }, d.clock.now());
      return true;
    }
    if (o.status === 'unknown') {
      // The operator never prompted the member: nothing moved, and the member is told it did not go through.
      fail(fresh, { status: 'EXPIRED', reason: 'UNKNOWN_AT_OPERATOR', txnId: null }, d.clock.now());
      return true;
    }
    settleOutcome(fresh, o);
    return true;
  }

  return {
    feeToday,
    pendingFor: repo.pendingFor,
    recent(householdId: number, limit = 20): Payment[] {
      return repo.recentOf(householdId, limit);
    },
    /** One payment of the household (the office acts on it), or undefined. */
    ofHousehold: repo.oneOf,
    /** The payment of a quote, if the member confirmed it. */
    byRequestKey: repo.byRequestKey,
    /** Payments waiting for a manager's decision, oldest first. */
    inReview: repo.inReview,
    /**
     * The member confirmed the quote: record the payment (committed on its own, durably, before
     * anything else), then ask the operator to prompt for the PIN. Confirming the same quote again
     * (a gateway retry, a resumed session, a redial) answers that payment's state.
     */
    async start(req: StartRequest): Promise<StartOutcome> {
      const existing = repo.byRequestKey(req.requestKey);
      if (existing) return again(existing);
      const waiting = repo.pendingFor(req.payerMsisdn);
      if (waiting) return { status: 'pendingExists', payment: waiting };
      const { fee, grid } = feeToday(req.amount);
      let payment: Payment;
      try {
        payment = durably(() => record.immediate(req, fee, grid, d.clock.now()));
      } catch (err) {
        // The partial unique index: another hop started a payment for this wallet at the same instant.
        const other = repo.pendingFor(req.payerMsisdn);
        if (other) return { status: 'pendingExists', payment: other };
        throw err;
      }
      return request(payment);
    },
    /** The member (or an officer) gives up a payment still waiting for the PIN; a success that arrives later is still credited. */
    async cancel(msisdn: string): Promise<Payment | undefined> {
      const p = repo.pendingFor(msisdn);
      if (!p) return undefined;
      repo.setStatus(p.id, 'cancelled', 'cancelled by the member', null, d.clock.now().toISOString());
      // Close the operator's PIN prompt too, found by our reference, so the member can pay again at once.
      await d.provider.cancelPayment(p.reference);
      return p;
    },
    /** A verified operator callback. */
    handleCallback(cb: PaymentCallback): CallbackOutcome {
      const p = repo.byReference(cb.reference);
      if (!p) return 'unknown';
      // The operator named this transaction when it accepted the request: another id is not this payment's.
      if (p.operatorTxnId && p.operatorTxnId !== cb.txnId) {
        d.logger.warn(
          { reference: p.reference, expected: p.operatorTxnId, got: cb.txnId },
          'payments: callback with another transaction id',
        );
        return 'unknown';
      }
      return settleOutcome(p, cb);
    },
    /**
     * The recovery sweep (at start-up, then regularly): a payment recorded but never sent is sent
     * while half its time remains (later, asked about and failed with a notice); a payment whose
     * callback is late past expiry + `statusAfterMs` is asked about through the operator's status
     * query, and a prompt the operator still holds then is withdrawn: nothing outlives its expiry.
     */
    async recover(): Promise<RecoveryResult> {
      const nowMs = d.clock.now().getTime();
      const r: RecoveryResult = { resent: 0, asked: 0, settled: 0 };
      for (const p of repo.unsettled(new Date(nowMs).toISOString())) {
        try {
          if (p.status === 'initiated' && !tooLateToSend(p, nowMs)) {
            r.resent++;
            await request(p);
          } else if (p.status === 'initiated' || overdue(p, nowMs)) {
            r.asked++;
            if (await askOperator(p)) r.settled++;
          }
        } catch (err) {
          d.logger.error({ err, reference: p.reference }, 'payments: recovery of a payment failed; next sweep tries again');
        }
      }
      if (r.resent || r.asked) d.logger.info(r, 'payments: recovery sweep');
      return r;
    },
    /**
     * A manager's decision on a payment in review: credit what the operator reported, or refuse.
     * `audit` runs in the same transaction (the decision and its record land together). Returns the
     * payment after the decision, or undefined if it was not in review.
     */
    resolveReview(
      paymentId: number,
      decision: ReviewDecision,
      reviewer: string,
      audit?: (before: Payment, after: Payment) => void,
    ): Payment | undefined {
      const now = d.clock.now();
      return durably(() =>
        atomic(db, (): Payment | undefined => {
          const p = repo.byId(paymentId);
          if (p?.status !== 'review' || p.operatorTxnId === null || p.operatorAmount === null) return undefined;
          if (decision === 'credit') {
            repo.setReviewed(p.id, 'succeeded', null, reviewer, now.toISOString());
            creditLedger(p, p.operatorTxnId, p.operatorAmount, p.operatorFee ?? 0, now);
          } else {
            repo.setReviewed(p.id, 'failed', 'REFUSED_AFTER_REVIEW', reviewer, now.toISOString());
          }
          const after = repo.byId(p.id) as Payment;
          audit?.(p, after);
          return after;
        }).immediate(),
      );
    },
  };
}

interface StartRequest {
  householdId: number;
  payerMsisdn: string;
  amount: number;
  /** The confirmed quote's key: the same quote can only ever make one payment. */
  requestKey: string;
}

type OperatorSuccess = { txnId: string; amount: number; fee: number; msisdn: string };
type OperatorOutcome =
  | (OperatorSuccess & { status: 'SUCCESS' })
  | (OperatorSuccess & { status: 'FAILED' | 'EXPIRED'; reason?: string | undefined });

export type Payments = ReturnType<typeof createPayments>;
