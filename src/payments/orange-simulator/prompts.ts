/**
 * The simulated operator's book: wallets and their PIN prompts. A payment request opens a prompt
 * (a pending transaction); the subscriber's PIN debits the wallet or counts a failure, a refusal or
 * a cancel ends it, time expires it. Every change runs in one SQLite transaction and reports the
 * payments it ended in `ended`, whose callbacks the caller sends once the transaction committed.
 */
import { bamakoClockTime, bamakoDay } from '../../clock.ts';
import type { Db } from '../../db/connection.ts';
import type { SimulatedOperatorStore, SimWalletState, SimTxnRow as TxnRow } from '../../db/simulator.ts';
import { atomic } from '../../db/transaction.ts';
import type { IdSource } from '../../ids.ts';
import type { PaymentRequest, RequestOutcome } from '../port.ts';

export type WalletState = SimWalletState;
export type FailureReason = 'INSUFFICIENT_FUNDS' | 'WRONG_PIN' | 'REFUSED' | 'WALLET_BLOCKED';

/**
 * The subscriber's answer to the PIN prompt (`confirm`, `refuse`).
 * `ok: true`: the answer ended the payment, `status` says how (a third wrong PIN ends it too:
 * failed, WRONG_PIN, wallet blocked). `ok: false`: nothing was settled, `error` says why
 * (WRONG_PIN: the prompt is still open, `triesLeft` more).
 */
export type WalletAnswer =
  | { ok: true; txnId: string; status: 'succeeded' | 'failed'; reason?: FailureReason; balance: number; walletState: WalletState }
  | { ok: false; error: 'WRONG_PIN'; txnId: string; triesLeft: number }
  | { ok: false; error: 'PAYMENT_EXPIRED'; txnId: string }
  | { ok: false; error: 'UNKNOWN_WALLET' | 'NO_PENDING_PAYMENT' | 'WALLET_BLOCKED' };

/** A payment that ended inside a database transaction; its callback is sent once that transaction committed. */
export interface Ended {
  txn: TxnRow;
  status: 'succeeded' | 'failed' | 'expired';
  reason?: FailureReason | undefined;
  balance: number;
  decidedMs: number;
}

export interface PromptOptions {
  /** How long the PIN prompt waits for the subscriber's answer. */
  expiryMs: number;
  /** Wrong PINs in a row that block the wallet (and fail the payment). */
  maxPinFailures: number;
  /** Where the random part of a transaction id comes from. */
  ids: IdSource;
}

export function createPrompts(db: Db, store: SimulatedOperatorStore, opts: PromptOptions) {
  const { expiryMs, maxPinFailures, ids } = opts;

  function newTxnId(now: Date): string {
    const day = bamakoDay(now).slice(2).replaceAll('-', '');
    const time = bamakoClockTime(now).replace(':', '');
    return `MP${day}.${time}.${ids.hex(3).toUpperCase()}`;
  }

  /** Ends a pending transaction (no-op if it is no longer pending). */
  function decide(txn: TxnRow, status: Ended['status'], reason: FailureReason | undefined, balance: number, nowMs: number): Ended | null {
    if (!store.decide(txn.txn_id, status, reason ?? null, nowMs)) return null;
    return { txn, status, reason, balance, decidedMs: nowMs };
  }

  /** The phone's pending transaction, expired first if its prompt timed out. */
  function pendingFor(phone: string, nowMs: number, ended: Ended[]): { txn: TxnRow; expired: boolean } | null {
    const txn = store.pendingOf(phone);
    if (!txn) return null;
    if (txn.expires_ms > nowMs) return { txn, expired: false };
    const wallet = store.wallet(phone);
    const e = decide(txn, 'expired', undefined, wallet?.balance ?? 0, nowMs);
    if (e) ended.push(e);
    return { txn, expired: true };
  }

  /** A payment request: a new prompt, the same one for a repeated request, or a rejection. */
  const request = atomic(db, (req: PaymentRequest, nowMs: number, ended: Ended[]): RequestOutcome => {
    const existing = store.byReference(req.reference);
    if (existing) {
      // The same request again (a retried hop, a recovery after a crash): the same transaction,
      // whatever became of it; its outcome reaches the app by callback or status query.
      const same =
        existing.msisdn === req.msisdn && existing.amount === req.amount && existing.fee === req.fee && existing.debit === req.debit;
      return same ? { status: 'pending', txnId: existing.txn_id } : { status: 'rejected', reason: 'DUPLICATE_REFERENCE' };
    }
    const wallet = store.wallet(req.msisdn);
    if (!wallet) return { status: 'rejected', reason: 'UNKNOWN_WALLET' };
    if (wallet.state === 'blocked') return { status: 'rejected', reason: 'WALLET_BLOCKED' };
    const pending = pendingFor(req.msisdn, nowMs, ended);
    if (pending && !pending.expired) return { status: 'rejected', reason: 'PENDING_EXISTS' };
    const now = new Date(nowMs);
    for (let i = 0; ; i++) {
      const txnId = newTxnId(now);
      if (store.txnExists(txnId) && i < 5) continue;
      store.addTxn({
        txnId,
        msisdn: req.msisdn,
        reference: req.reference,
        amount: req.amount,
        fee: req.fee,
        debit: req.debit,
        callbackUrl: req.callbackUrl,
        createdMs: nowMs,
        expiresMs: nowMs + expiryMs,
      });
      return { status: 'pending', txnId };
    }
  });

  /** The subscriber's PIN: the debit, a wrong PIN counted (the wallet blocked at the last), or a failure. */
  const confirm = atomic(db, (phone: string, pin: string, nowMs: number, ended: Ended[]): WalletAnswer => {
    const wallet = store.wallet(phone);
    if (!wallet) return { ok: false, error: 'UNKNOWN_WALLET' };
    const pending = pendingFor(phone, nowMs, ended);
    if (!pending) return { ok: false, error: wallet.state === 'blocked' ? 'WALLET_BLOCKED' : 'NO_PENDING_PAYMENT' };
    const { txn } = pending;
    if (pending.expired) return { ok: false, error: 'PAYMENT_EXPIRED', txnId: txn.txn_id };

    const end = (
      status: 'succeeded' | 'failed',
      reason: FailureReason | undefined,
      balance: number,
      walletState: WalletState,
    ): WalletAnswer => {
      const e = decide(txn, status, reason, balance, nowMs);
      if (e) ended.push(e);
      return reason
        ? { ok: true, txnId: txn.txn_id, status, reason, balance, walletState }
        : { ok: true, txnId: txn.txn_id, status, balance, walletState };
    };

    if (wallet.state === 'blocked') return end('failed', 'WALLET_BLOCKED', wallet.balance, 'blocked');
    if (pin !== wallet.pin) {
      const failures = wallet.pin_failures + 1;
      if (failures >= maxPinFailures) {
        store.setPinFailures(phone, failures, 'blocked');
        return end('failed', 'WRONG_PIN', wallet.balance, 'blocked');
      }
      store.setPinFailures(phone, failures, 'active');
      return { ok: false, error: 'WRONG_PIN', txnId: txn.txn_id, triesLeft: maxPinFailures - failures };
    }
    if (wallet.pin_failures !== 0) store.setPinFailures(phone, 0, 'active');
    if (wallet.balance < txn.debit) return end('failed', 'INSUFFICIENT_FUNDS', wallet.balance, 'active');
    if (!store.debit(phone, txn.debit)) throw new Error('simulated wallet: debit lost its balance check');
    return end('succeeded', undefined, wallet.balance - txn.debit, 'active');
  });

  /** The merchant withdraws its request: failed (REFUSED), or expired if its time had passed. */
  const cancel = atomic(db, (reference: string, nowMs: number, ended: Ended[]): void => {
    const txn = store.byReference(reference);
    if (txn?.status !== 'pending') return;
    const wallet = store.wallet(txn.msisdn);
    const e = decide(
      txn,
      txn.expires_ms <= nowMs ? 'expired' : 'failed',
      txn.expires_ms <= nowMs ? undefined : 'REFUSED',
      wallet?.balance ?? 0,
      nowMs,
    );
    if (e) ended.push(e);
  });

  /** The subscriber declines the prompt. */
  const refuse = atomic(db, (phone: string, nowMs: number, ended: Ended[]): WalletAnswer => {
    const wallet = store.wallet(phone);
    if (!wallet) return { ok: false, error: 'UNKNOWN_WALLET' };
    const pending = pendingFor(phone, nowMs, ended);
    if (!pending) return { ok: false, error: 'NO_PENDING_PAYMENT' };
    if (pending.expired) return { ok: false, error: 'PAYMENT_EXPIRED', txnId: pending.txn.txn_id };
    const e = decide(pending.txn, 'failed', 'REFUSED', wallet.balance, nowMs);
    if (e) ended.push(e);
    return { ok: true, txnId: pending.txn.txn_id, status: 'failed', reason: 'REFUSED', balance: wallet.balance, walletState: wallet.state };
  });

  /** Every prompt past its time. */
  const expireDue = atomic(db, (nowMs: number, ended: Ended[]): void => {
    for (const txn of store.due(nowMs)) {
      const wallet = store.wallet(txn.msisdn);
      const e = decide(txn, 'expired', undefined, wallet?.balance ?? 0, nowMs);
      if (e) ended.push(e);
    }
  });

  /** The phone's prompt, if past its time. */
  const expireOne = atomic(db, (phone: string, nowMs: number, ended: Ended[]): void => {
    pendingFor(phone, nowMs, ended);
  });

  // IMMEDIATE: a second process on the file waits for the write lock instead of failing to upgrade.
  return {
    request: (req: PaymentRequest, nowMs: number, ended: Ended[]) => request.immediate(req, nowMs, ended),
    confirm: (phone: string, pin: string, nowMs: number, ended: Ended[]) => confirm.immediate(phone, pin, nowMs, ended),
    cancel: (reference: string, nowMs: number, ended: Ended[]) => cancel.immediate(reference, nowMs, ended),
    refuse: (phone: string, nowMs: number, ended: Ended[]) => refuse.immediate(phone, nowMs, ended),
    expireDue: (nowMs: number, ended: Ended[]) => expireDue.immediate(nowMs, ended),
    expireOne: (phone: string, nowMs: number, ended: Ended[]) => expireOne.immediate(phone, nowMs, ended),
  };
}
