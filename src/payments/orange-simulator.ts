import { bamakoClockTime, bamakoDay, type Clock } from '../clock.ts';
import type { Db } from '../db/connection.ts';
import { createSimulatedOperatorStore, type SimTxnRow as TxnRow, type SimWalletState } from '../db/simulator.ts';
import { atomic } from '../db/transaction.ts';
import { randomIds, type IdSource } from '../ids.ts';
import type { Logger } from '../log.ts';
import type { OperatorStatus, PaymentCallback, PaymentProvider, PaymentRequest, RequestOutcome } from './port.ts';
import { SIGNATURE_HEADER, sign } from './signature.ts';

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

export type WalletState = SimWalletState;
export type FailureReason = 'INSUFFICIENT_FUNDS' | 'WRONG_PIN' | 'REFUSED' | 'WALLET_BLOCKED';

/** Reasons `requestPayment` rejects a request at once. */
export type RejectReason = 'UNKNOWN_WALLET' | 'WALLET_BLOCKED' | 'PENDING_EXISTS' | 'DUPLICATE_REFERENCE' | 'INVALID_REQUEST';

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

/** A payment that ended inside a database transaction; its callback is sent once that transaction committed. */
interface Ended {
  txn: TxnRow;
  status: 'succeeded' | 'failed' | 'expired';
  reason?: FailureReason | undefined;
  balance: number;
  decidedMs: number;
}

const CALLBACK_STATUS = { succeeded: 'SUCCESS', failed: 'FAILED', expired: 'EXPIRED' } as const;

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
  const maxPinFailures = opts.maxPinFailures ?? 3;
  const retryMs = opts.callbackRetryMs ?? 1000;
  const maxAttempts = opts.callbackMaxAttempts ?? 8;
  const timeoutMs = opts.callbackTimeoutMs ?? 10_000;
  const delayMs = opts.callbackDelayMs ?? 0;
  const sweepMs = opts.sweepMs ?? 1000;
  const ids = opts.ids ?? randomIds;

  const store = createSimulatedOperatorStore(db);

  // ---- state changes (each inside one SQLite transaction, IMMEDIATE so a second process waits) ----

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

  const requestTx = atomic(db, (req: PaymentRequest, nowMs: number, ended: Ended[]): RequestOutcome => {
    const existing = store.byReference(req.reference);
    if (existing) {
      // The same request again (a retried hop, a recovery after a crash): the same transaction,
      // whatever became of it; its outcome reaches the app by callback or status query.
      const same = existing.msisdn === req.msisdn && existing.amount === req.amount && existing.fee === req.fee && existing.debit === req.debit;
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
        txnId, msisdn: req.msisdn, reference: req.reference, amount: req.amount, fee: req.fee, debit: req.debit,
        callbackUrl: req.callbackUrl, createdMs: nowMs, expiresMs: nowMs + opts.expiryMs,
      });
      return { status: 'pending', txnId };
    }
  });

  const confirmTx = atomic(db, (phone: string, pin: string, nowMs: number, ended: Ended[]): WalletAnswer => {
    const wallet = store.wallet(phone);
    if (!wallet) return { ok: false, error: 'UNKNOWN_WALLET' };
    const pending = pendingFor(phone, nowMs, ended);
    if (!pending) return { ok: false, error: wallet.state === 'blocked' ? 'WALLET_BLOCKED' : 'NO_PENDING_PAYMENT' };
    const { txn } = pending;
    if (pending.expired) return { ok: false, error: 'PAYMENT_EXPIRED', txnId: txn.txn_id };

    const end = (status: 'succeeded' | 'failed', reason: FailureReason | undefined, balance: number, walletState: WalletState): WalletAnswer => {
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

  const cancelTx = atomic(db, (reference: string, nowMs: number, ended: Ended[]): void => {
    const txn = store.byReference(reference);
    if (!txn || txn.status !== 'pending') return;
    const wallet = store.wallet(txn.msisdn);
    const e = decide(txn, txn.expires_ms <= nowMs ? 'expired' : 'failed', txn.expires_ms <= nowMs ? undefined : 'REFUSED', wallet?.balance ?? 0, nowMs);
    if (e) ended.push(e);
  });

  const refuseTx = atomic(db, (phone: string, nowMs: number, ended: Ended[]): WalletAnswer => {
    const wallet = store.wallet(phone);
    if (!wallet) return { ok: false, error: 'UNKNOWN_WALLET' };
    const pending = pendingFor(phone, nowMs, ended);
    if (!pending) return { ok: false, error: 'NO_PENDING_PAYMENT' };
    if (pending.expired) return { ok: false, error: 'PAYMENT_EXPIRED', txnId: pending.txn.txn_id };
    const e = decide(pending.txn, 'failed', 'REFUSED', wallet.balance, nowMs);
    if (e) ended.push(e);
    return { ok: true, txnId: pending.txn.txn_id, status: 'failed', reason: 'REFUSED', balance: wallet.balance, walletState: wallet.state };
  });

  const expireTx = atomic(db, (nowMs: number, ended: Ended[]): void => {
    for (const txn of store.due(nowMs)) {
      const wallet = store.wallet(txn.msisdn);
      const e = decide(txn, 'expired', undefined, wallet?.balance ?? 0, nowMs);
      if (e) ended.push(e);
    }
  });

  const expireOneTx = atomic(db, (phone: string, nowMs: number, ended: Ended[]): void => {
    pendingFor(phone, nowMs, ended);
  });

  /** Runs a state change, then (once committed) sends the callbacks of the payments it ended. */
  function settle<T>(run: (ended: Ended[]) => T): T {
    const ended: Ended[] = [];
    const out = run(ended);
    for (const e of ended) send(e);
    return out;
  }

  // ---- callbacks ----

  const chains = new Set<Promise<void>>();
  const delivering = new Set<string>();
  const sleepers = new Map<NodeJS.Timeout, () => void>();
  let closed = false;
  let sweeper: NodeJS.Timeout | null = null;

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        sleepers.delete(t);
        resolve();
      }, ms);
      sleepers.set(t, resolve);
    });
  }

  /** The callback of an ended payment, stamped with the moment it is signed (each retry afresh). */
  function callbackBody(e: Ended, sentMs: number): string {
    const cb: PaymentCallback = {
      txnId: e.txn.txn_id,
      reference: e.txn.merchant_reference,
      status: CALLBACK_STATUS[e.status],
      reason: e.reason,
      amount: e.txn.amount,
      fee: e.txn.fee,
      msisdn: e.txn.msisdn,
      balance: e.balance,
      timestamp: new Date(sentMs).toISOString(),
    };
    return JSON.stringify(cb);
  }

  function record(txnId: string, ok: boolean): void {
    try {
      store.recordAttempt(txnId, ok);
    } catch (err) {
      logger.error({ err, txnId }, 'orange simulator: callback attempt not recorded');
    }
  }

  async function post(url: string, body: string, signature: string): Promise<string | null> {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      return res.ok ? null : `HTTP ${res.status}`;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  async function deliver(e: Ended, copies: number): Promise<void> {
    const txnId = e.txn.txn_id;
    for (let copy = 1; copy <= copies; copy++) {
      let wait = copy === 1 ? delayMs : 0;
      for (let attempt = 1; ; attempt++) {
        await sleep(wait);
        if (closed) return;
        const body = callbackBody(e, clock.now().getTime());
        const failure = await post(e.txn.callback_url, body, sign(body, opts.secret));
        record(txnId, failure === null);
        if (closed) return;
        if (failure === null) {
          logger.debug({ txnId, attempt, copy }, 'orange simulator: callback delivered');
          break;
        }
        if (attempt >= maxAttempts) {
          logger.error({ txnId, attempts: attempt, failure }, 'orange simulator: callback abandoned');
          return;
        }
        wait = retryMs * 2 ** (attempt - 1);
        logger.warn({ txnId, attempt, failure, retryInMs: wait }, 'orange simulator: callback failed, will retry');
      }
    }
  }

  function send(e: Ended): void {
    const txnId = e.txn.txn_id;
    if (closed || delivering.has(txnId)) return;
    const copies = opts.duplicateCallbacks?.() ? 2 : 1;
    delivering.add(txnId);
    const chain: Promise<void> = deliver(e, copies)
      .catch((err: unknown) => logger.error({ err, txnId }, 'orange simulator: callback delivery crashed'))
      .finally(() => {
        delivering.delete(txnId);
        chains.delete(chain);
      });
    chains.add(chain);
  }

  /**
   * Callbacks of ended payments never acknowledged (the process stopped before delivering them):
   * sent again, with the wallet's current balance. Returns how many were scheduled.
   */
  function resumeCallbacks(): number {
    let n = 0;
    for (const txn of store.undelivered(maxAttempts)) {
      if (delivering.has(txn.txn_id) || txn.status === 'pending') continue;
      const wallet = store.wallet(txn.msisdn);
      send({
        txn,
        status: txn.status,
        reason: (txn.reason ?? undefined) as FailureReason | undefined,
        balance: wallet?.balance ?? 0,
        decidedMs: txn.decided_ms ?? clock.now().getTime(),
      });
      n++;
    }
    return n;
  }

  function expireDue(): number {
    return settle((ended) => {
      expireTx.immediate(clock.now().getTime(), ended);
      return ended.length;
    });
  }

  const provider: PaymentProvider = {
    name: 'orange_money',
    async requestPayment(req: PaymentRequest): Promise<RequestOutcome> {
      const valid =
        typeof req.reference === 'string' && req.reference.length > 0 &&
        typeof req.msisdn === 'string' && E164.test(req.msisdn) &&
        isCount(req.amount, 1) && isCount(req.fee, 0) && isCount(req.debit, 1) &&
        typeof req.callbackUrl === 'string' && isHttpUrl(req.callbackUrl);
      if (!valid) return { status: 'rejected', reason: 'INVALID_REQUEST' };
      const outcome = settle((ended) => requestTx.immediate(req, clock.now().getTime(), ended));
      if (outcome.status === 'pending') logger.info({ txnId: outcome.txnId, msisdn: req.msisdn, debit: req.debit }, 'orange simulator: payment prompt');
      return outcome;
    },
    async cancelPayment(reference: string): Promise<void> {
      settle((ended) => cancelTx.immediate(reference, clock.now().getTime(), ended));
    },
    async paymentStatus(reference: string): Promise<OperatorStatus> {
      const nowMs = clock.now().getTime();
      let txn = store.byReference(reference);
      if (!txn) return { status: 'unknown' };
      if (txn.status === 'pending' && txn.expires_ms <= nowMs) {
        settle((ended) => expireOneTx.immediate(txn!.msisdn, nowMs, ended));
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
  };

  return {
    provider,

    /** The subscriber types a PIN at the prompt of the phone's pending payment. */
    confirm(phone: string, pin: string): WalletAnswer {
      return settle((ended) => confirmTx.immediate(phone, pin, clock.now().getTime(), ended));
    },

    /** The subscriber declines the phone's pending payment. */
    refuse(phone: string): WalletAnswer {
      return settle((ended) => refuseTx.immediate(phone, clock.now().getTime(), ended));
    },

    /** Ends the prompts past their time (EXPIRED, callback sent). Returns how many. */
    expireDue,

    /** A wallet as the simulator page shows it (a prompt past its time is expired first), or undefined. */
    wallet(phone: string): WalletView | undefined {
      const nowMs = clock.now().getTime();
      const due = store.pendingOf(phone);
      if (due && due.expires_ms <= nowMs) settle((ended) => expireOneTx.immediate(phone, nowMs, ended));
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

    resumeCallbacks,

    /** Sweeps expired prompts every `sweepMs` and resends callbacks left undelivered by a previous run. */
    start(): void {
      if (sweeper || closed) return;
      resumeCallbacks();
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
    pendingCallbacks(): number {
      return chains.size;
    },

    /** Resolves once every scheduled callback was delivered or abandoned (tests). */
    async flush(): Promise<void> {
      while (chains.size) await Promise.allSettled([...chains]);
    },

    /** Stops the sweep and cancels callbacks not yet sent (shutdown, tests); their rows keep callback_done = 0. */
    close(): void {
      closed = true;
      if (sweeper) clearInterval(sweeper);
      sweeper = null;
      for (const [t, resolve] of sleepers) {
        clearTimeout(t);
        resolve();
      }
      sleepers.clear();
    },
  };
}

export type OrangeSimulator = ReturnType<typeof createOrangeSimulator>;
