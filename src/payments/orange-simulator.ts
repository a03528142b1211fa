import type { Clock } from '../clock.ts';
import type { Db } from '../db/connection.ts';
import {
  createSimulatedFloatStore,
  createSimulatedOperatorStore,
  type SimDisbursementRow,
  type SimTxnRow as TxnRow,
} from '../db/simulator.ts';
import { type IdSource, randomIds } from '../ids.ts';
import type { Logger } from '../log.ts';
import { CALLBACK_STATUS, createCallbackSender } from './orange-simulator/callbacks.ts';
import { createDisbursements } from './orange-simulator/disbursements.ts';
import { createPrompts, type Ended, type WalletAnswer, type WalletState } from './orange-simulator/prompts.ts';
import type {
  DisbursementOutcome,
  DisbursementProvider,
  DisbursementRequest,
  DisbursementStatus,
  OperatorStatus,
  PaymentProvider,
  PaymentRequest,
  RequestOutcome,
} from './port.ts';

export type { FailureReason, WalletAnswer, WalletState } from './orange-simulator/prompts.ts';

/**
 * The simulated Orange Money operator: wallets (balance, PIN, state) and transactions in the
 * simulator's own tables (sim_wallets, sim_transactions), so the server and a CLI command on the
 * same database see the same state.
 *
 * A payment request creates a pending transaction and nothing moves yet; the subscriber then
 * answers the operator's PIN prompt through the simulator API (`confirm` / `refuse`), or lets it
 * expire. However it ends, the operator posts a signed `PaymentCallback` to the callback URL
 * given with the request, asynchronously, retrying with backoff on a non-2xx answer or a network
 * error, and (test switch) sometimes delivering the same callback twice.
 *
 * UTM also pays wallets from its float (`disburse`, a facility's claims): decided at once against
 * the float's balance (./orange-simulator/disbursements.ts), its callback delivered the same way.
 *
 * This file is the merchant's side (`provider`) and the subscriber's (`confirm`, `refuse`,
 * `wallet`); the prompts and wallet changes are ./orange-simulator/prompts.ts, the callbacks'
 * delivery ./orange-simulator/callbacks.ts.
 */

export interface OrangeSimulatorOptions {
  /** PAYMENT_CALLBACK_SECRET: the HMAC key of the `x-signature` header. */
  secret: string;
  /** How long the PIN prompt waits for the subscriber's answer. */
  expiryMs: number;
  /** Wrong PINs in a row that block the wallet (and fail the payment). Default 3. */
  maxPinFailures?: number;
  /** First retry delay of a callback; doubles each attempt. Default 1 000 ms. */
  callbackRetryMs?: number;
  /** Attempts per callback delivery before giving up. Default 8. */
  callbackMaxAttempts?: number;
  /** How long one callback POST may take. Default 10 000 ms. */
  callbackTimeoutMs?: number;
  /** Test switch, read when a payment ends: deliver its callback twice (the second after the first was acknowledged). */
  duplicateCallbacks?: () => boolean;
  /** Delay before the first delivery of a callback. Default 0 (still asynchronous). */
  callbackDelayMs?: number;
  /** How often `start()` sweeps expired prompts. Default 1 000 ms. */
  sweepMs?: number;
  /** Where the random part of a transaction id comes from. Default: random. */
  ids?: IdSource;
}

/** Reasons `requestPayment` rejects a request at once. */
export type RejectReason = 'UNKNOWN_WALLET' | 'WALLET_BLOCKED' | 'PENDING_EXISTS' | 'DUPLICATE_REFERENCE' | 'INVALID_REQUEST';

export type WalletAnswerError = Extract<WalletAnswer, { ok: false }>['error'];

export interface PendingView {
  txnId: string;
  amount: number;
  fee: number;
  debit: number;
  merchantReference: string;
  expiresAt: string;
}

export interface WalletView {
  phone: string;
  balance: number;
  state: WalletState;
  pinFailures: number;
  pending: PendingView | null;
}

const PIN = /^\d{4}$/;
const E164 = /^\+[1-9]\d{6,14}$/;

function isCount(n: unknown, min: number): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= min;
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export function createOrangeSimulator(db: Db, clock: Clock, logger: Logger, opts: OrangeSimulatorOptions) {
  const store = createSimulatedOperatorStore(db);
  const floats = createSimulatedFloatStore(db);
  const prompts = createPrompts(db, store, {
    expiryMs: opts.expiryMs,
    maxPinFailures: opts.maxPinFailures ?? 3,
    ids: opts.ids ?? randomIds,
  });
  const disbursements = createDisbursements(db, store, floats, opts.ids ?? randomIds);
  const callbacks = createCallbackSender(store, floats, clock, logger, {
    secret: opts.secret,
    retryMs: opts.callbackRetryMs ?? 1000,
    maxAttempts: opts.callbackMaxAttempts ?? 8,
    timeoutMs: opts.callbackTimeoutMs ?? 10_000,
    delayMs: opts.callbackDelayMs ?? 0,
    duplicateCallbacks: opts.duplicateCallbacks,
  });
  const sweepMs = opts.sweepMs ?? 1000;
  let sweeper: NodeJS.Timeout | null = null;

  /** Runs a state change, then (once committed) sends the callbacks of the payments it ended. */
  function settle<T>(run: (ended: Ended[]) => T): T {
    const ended: Ended[] = [];
    const out = run(ended);
    for (const e of ended) callbacks.send(e);
    return out;
  }

  function expireDue(): number {
    return settle((ended) => {
      prompts.expireDue(clock.now().getTime(), ended);
      return ended.length;
    });
  }

  const provider: PaymentProvider & DisbursementProvider = {
    name: 'orange_money',
    async requestPayment(req: PaymentRequest): Promise<RequestOutcome> {
      const valid =
        typeof req.reference === 'string' &&
        req.reference.length > 0 &&
        typeof req.msisdn === 'string' &&
        E164.test(req.msisdn) &&
        isCount(req.amount, 1) &&
        isCount(req.fee, 0) &&
        isCount(req.debit, 1) &&
        typeof req.callbackUrl === 'string' &&
        isHttpUrl(req.callbackUrl);
      if (!valid) return { status: 'rejected', reason: 'INVALID_REQUEST' };
      const outcome = settle((ended) => prompts.request(req, clock.now().getTime(), ended));
      if (outcome.status === 'pending')
        logger.info({ txnId: outcome.txnId, msisdn: req.msisdn, debit: req.debit }, 'orange simulator: payment prompt');
      return outcome;
    },
    async cancelPayment(reference: string): Promise<void> {
      settle((ended) => prompts.cancel(reference, clock.now().getTime(), ended));
    },
    async paymentStatus(reference: string): Promise<OperatorStatus> {
      const nowMs = clock.now().getTime();
      let txn = store.byReference(reference);
      if (!txn) return { status: 'unknown' };
      if (txn.status === 'pending' && txn.expires_ms <= nowMs) {
        settle((ended) => prompts.expireOne(txn!.msisdn, nowMs, ended));
        txn = store.byReference(reference) as TxnRow;
      }
      if (txn.status === 'pending') return { status: 'pending', txnId: txn.txn_id };
      const wallet = store.wallet(txn.msisdn);
      return {
        status: CALLBACK_STATUS[txn.status],
        txnId: txn.txn_id,
        reason: txn.reason ?? undefined,
        amount: txn.amount,
        fee: txn.fee,
        msisdn: txn.msisdn,
        balance: wallet?.balance,
      };
    },
    async disburse(req: DisbursementRequest): Promise<DisbursementOutcome> {
      const valid =
        typeof req.reference === 'string' &&
        req.reference.length > 0 &&
        typeof req.msisdn === 'string' &&
        E164.test(req.msisdn) &&
        isCount(req.amount, 1) &&
        typeof req.callbackUrl === 'string' &&
        isHttpUrl(req.callbackUrl);
      if (!valid) return { status: 'rejected', reason: 'INVALID_REQUEST' };
      const decided: SimDisbursementRow[] = [];
      const outcome = disbursements.request(req, clock.now().getTime(), decided);
      for (const row of decided) {
        logger.info({ txnId: row.txn_id, msisdn: row.msisdn, amount: row.amount, status: row.status }, 'orange simulator: disbursement');
        callbacks.sendDisbursement(row);
      }
      return outcome;
    },
    async disbursementStatus(reference: string): Promise<DisbursementStatus> {
      const row = floats.byReference(reference);
      if (!row) return { status: 'unknown' };
      return {
        status: CALLBACK_STATUS[row.status],
        txnId: row.txn_id,
        reason: row.reason ?? undefined,
        amount: row.amount,
        msisdn: row.msisdn,
      };
    },
  };

  return {
    provider,

    /** The subscriber types a PIN at the prompt of the phone's pending payment. */
    confirm(phone: string, pin: string): WalletAnswer {
      return settle((ended) => prompts.confirm(phone, pin, clock.now().getTime(), ended));
    },

    /** The subscriber declines the phone's pending payment. */
    refuse(phone: string): WalletAnswer {
      return settle((ended) => prompts.refuse(phone, clock.now().getTime(), ended));
    },

    /** Ends the prompts past their time (EXPIRED, callback sent). Returns how many. */
    expireDue,

    /** A wallet as the simulator page shows it (a prompt past its time is expired first), or undefined. */
    wallet(phone: string): WalletView | undefined {
      const nowMs = clock.now().getTime();
      const due = store.pendingOf(phone);
      if (due && due.expires_ms <= nowMs) settle((ended) => prompts.expireOne(phone, nowMs, ended));
      const w = store.wallet(phone);
      if (!w) return undefined;
      const txn = store.pendingOf(phone);
      return {
        phone: w.msisdn,
        balance: w.balance,
        state: w.state,
        pinFailures: w.pin_failures,
        pending: txn
          ? {
              txnId: txn.txn_id,
              amount: txn.amount,
              fee: txn.fee,
              debit: txn.debit,
              merchantReference: txn.merchant_reference,
              expiresAt: new Date(txn.expires_ms).toISOString(),
            }
          : null,
      };
    },

    /** Creates a wallet unless it exists (an existing wallet keeps its balance, PIN and state). True when created. */
    seedWallet(phone: string, balance: number, pin: string): boolean {
      if (!E164.test(phone)) throw new RangeError(`seedWallet: ${phone} is not an E.164 number`);
      if (!isCount(balance, 0)) throw new RangeError('seedWallet: balance must be a non-negative integer');
      if (!PIN.test(pin)) throw new RangeError('seedWallet: the PIN must be 4 digits');
      return store.addWallet(phone, balance, pin);
    },

    /** UTM's float at the operator: what disbursements can still pay. */
    float(): number {
      return floats.balance();
    },

    /** Sets the float (a tester's switch) or adds to it (a top-up); returns the new balance. */
    changeFloat(change: { balance: number } | { add: number }): number {
      const n = 'balance' in change ? change.balance : change.add;
      if (!isCount(n, 0)) throw new RangeError('the float changes by a non-negative whole number of FCFA');
      if ('balance' in change) floats.setBalance(n);
      else floats.topUp(n);
      return floats.balance();
    },

    /** What a wallet received by disbursement (how many transfers, how much). */
    disbursedTo: floats.paidTo,

    /**
     * Callbacks of ended payments never acknowledged (the process stopped before delivering them):
     * sent again, with the wallet's current balance. Returns how many were scheduled.
     */
    resumeCallbacks: callbacks.resume,

    /** Sweeps expired prompts every `sweepMs` and resends callbacks left undelivered by a previous run. */
    start(): void {
      if (sweeper || callbacks.closed) return;
      callbacks.resume();
      sweeper = setInterval(() => {
        try {
          expireDue();
        } catch (err) {
          logger.error({ err }, 'orange simulator: expiry sweep failed');
        }
      }, sweepMs);
      sweeper.unref();
    },

    stop(): void {
      if (sweeper) clearInterval(sweeper);
      sweeper = null;
    },

    /** Callback deliveries scheduled or in flight (retries included). */
    pendingCallbacks: callbacks.pending,

    /** Resolves once every scheduled callback was delivered or abandoned (tests). */
    flush: callbacks.flush,

    /** Stops the sweep and cancels callbacks not yet sent (shutdown, tests); their rows keep callback_done = 0. */
    close(): void {
      if (sweeper) clearInterval(sweeper);
      sweeper = null;
      callbacks.close();
    },
  };
}

export type OrangeSimulator = ReturnType<typeof createOrangeSimulator>;
