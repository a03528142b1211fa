/**
 * The simulated operator's disbursements: UTM's float paying a wallet. A request is decided at once,
 * in one SQLite transaction: the float debited and the wallet credited together, or a failure
 * recorded (INSUFFICIENT_FUNDS when the float does not cover the amount); either way one
 * transaction per merchant reference, so a repeated request (a retry, a recovery after a crash)
 * answers that same transaction and never moves money twice. The callback is sent once the
 * transaction committed, by the caller.
 */
import { bamakoClockTime, bamakoDay } from '../../clock.ts';
import type { Db } from '../../db/connection.ts';
import type { SimDisbursementRow, SimulatedFloatStore, SimulatedOperatorStore } from '../../db/simulator.ts';
import { atomic } from '../../db/transaction.ts';
import type { IdSource } from '../../ids.ts';
import type { DisbursementOutcome, DisbursementRequest } from '../port.ts';

export function createDisbursements(db: Db, wallets: SimulatedOperatorStore, floats: SimulatedFloatStore, ids: IdSource) {
  function newTxnId(now: Date): string {
    const day = bamakoDay(now).slice(2).replaceAll('-', '');
    const time = bamakoClockTime(now).replace(':', '');
    return `CI${day}.${time}.${ids.hex(3).toUpperCase()}`;
  }

  /** The transfer of a request, or a rejection; `decided` gets the row a new transfer created. */
  const request = atomic(db, (req: DisbursementRequest, nowMs: number, decided: SimDisbursementRow[]): DisbursementOutcome => {
    const existing = floats.byReference(req.reference);
    if (existing) {
      const same = existing.msisdn === req.msisdn && existing.amount === req.amount;
      return same ? { status: 'pending', txnId: existing.txn_id } : { status: 'rejected', reason: 'DUPLICATE_REFERENCE' };
    }
    const wallet = wallets.wallet(req.msisdn);
    if (!wallet) return { status: 'rejected', reason: 'UNKNOWN_WALLET' };
    let txnId = newTxnId(new Date(nowMs));
    for (let i = 0; floats.txnExists(txnId) && i < 5; i++) txnId = newTxnId(new Date(nowMs));
    let status: SimDisbursementRow['status'] = 'succeeded';
    let reason: string | null = null;
    if (wallet.state === 'blocked') {
      status = 'failed';
      reason = 'WALLET_BLOCKED';
    } else if (floats.debit(req.amount)) {
      if (!floats.credit(req.msisdn, req.amount)) throw new Error('simulated disbursement: the wallet vanished');
    } else {
      status = 'failed';
      reason = 'INSUFFICIENT_FUNDS';
    }
    const row: SimDisbursementRow = {
      txn_id: txnId,
      reference: req.reference,
      msisdn: req.msisdn,
      amount: req.amount,
      status,
      reason,
      float_after: floats.balance(),
      callback_url: req.callbackUrl,
      callback_attempts: 0,
      callback_done: 0,
      created_ms: nowMs,
    };
    floats.add(row);
    decided.push(row);
    return { status: 'pending', txnId };
  });

  return {
    // IMMEDIATE: a second process on the file waits for the write lock instead of failing to upgrade.
    request: (req: DisbursementRequest, nowMs: number, decided: SimDisbursementRow[]) => request.immediate(req, nowMs, decided),
  };
}
