/**
 * The simulated operator's callbacks: each ended payment's signed `PaymentCallback` (and each
 * disbursement's `DisbursementCallback`) posted to the callback URL of its request, asynchronously,
 * retried with backoff on a non-2xx answer or a network error, each attempt recorded; those a
 * stopped process never delivered are sent again.
 */
import type { Clock } from '../../clock.ts';
import type { SimDisbursementRow, SimulatedFloatStore, SimulatedOperatorStore } from '../../db/simulator.ts';
import type { Logger } from '../../log.ts';
import type { DisbursementCallback, PaymentCallback } from '../port.ts';
import { SIGNATURE_HEADER, sign } from '../signature.ts';
import type { Ended, FailureReason } from './prompts.ts';

export const CALLBACK_STATUS = { succeeded: 'SUCCESS', failed: 'FAILED', expired: 'EXPIRED' } as const;

export interface CallbackOptions {
  /** The HMAC key of the signature header. */
  secret: string;
  /** First retry delay; doubles each attempt. */
  retryMs: number;
  /** Attempts per delivery before giving up. */
  maxAttempts: number;
  /** How long one POST may take. */
  timeoutMs: number;
  /** Delay before the first delivery (still asynchronous at 0). */
  delayMs: number;
  /** Read when a payment ends: deliver its callback twice (the second after the first was acknowledged). */
  duplicateCallbacks?: (() => boolean) | undefined;
}

/** One callback to deliver: where, its body as signed at a moment, and where its attempts are counted. */
interface Delivery {
  txnId: string;
  url: string;
  body: (sentMs: number) => string;
  record: (txnId: string, delivered: boolean) => void;
}

export function createCallbackSender(
  store: SimulatedOperatorStore,
  floats: SimulatedFloatStore,
  clock: Clock,
  logger: Logger,
  opts: CallbackOptions,
) {
  const { retryMs, maxAttempts, timeoutMs, delayMs } = opts;
  const chains = new Set<Promise<void>>();
  const delivering = new Set<string>();
  const sleepers = new Map<NodeJS.Timeout, () => void>();
  let closed = false;

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

  /** The callback of a disbursement, stamped like a payment's. */
  function disbursementBody(row: SimDisbursementRow, sentMs: number): string {
    const cb: DisbursementCallback = {
      txnId: row.txn_id,
      reference: row.reference,
      status: CALLBACK_STATUS[row.status],
      reason: row.reason ?? undefined,
      amount: row.amount,
      msisdn: row.msisdn,
      timestamp: new Date(sentMs).toISOString(),
    };
    return JSON.stringify(cb);
  }

  function record(d: Delivery, ok: boolean): void {
    try {
      d.record(d.txnId, ok);
    } catch (err) {
      logger.error({ err, txnId: d.txnId }, 'orange simulator: callback attempt not recorded');
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

  async function deliver(d: Delivery, copies: number): Promise<void> {
    const { txnId } = d;
    for (let copy = 1; copy <= copies; copy++) {
      let wait = copy === 1 ? delayMs : 0;
      for (let attempt = 1; ; attempt++) {
        await sleep(wait);
        if (closed) return;
        const body = d.body(clock.now().getTime());
        const failure = await post(d.url, body, sign(body, opts.secret));
        record(d, failure === null);
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

  /** Schedules a callback (once per transaction at a time). */
  function schedule(d: Delivery): void {
    const { txnId } = d;
    if (closed || delivering.has(txnId)) return;
    const copies = opts.duplicateCallbacks?.() ? 2 : 1;
    delivering.add(txnId);
    const chain: Promise<void> = deliver(d, copies)
      .catch((err: unknown) => logger.error({ err, txnId }, 'orange simulator: callback delivery crashed'))
      .finally(() => {
        delivering.delete(txnId);
        chains.delete(chain);
      });
    chains.add(chain);
  }

  /** Schedules the callback of an ended payment. */
  function send(e: Ended): void {
    schedule({ txnId: e.txn.txn_id, url: e.txn.callback_url, body: (ms) => callbackBody(e, ms), record: store.recordAttempt });
  }

  /** Schedules the callback of a decided disbursement. */
  function sendDisbursement(row: SimDisbursementRow): void {
    schedule({ txnId: row.txn_id, url: row.callback_url, body: (ms) => disbursementBody(row, ms), record: floats.recordAttempt });
  }

  return {
    send,
    sendDisbursement,

    /**
     * Callbacks of ended payments never acknowledged (the process stopped before delivering them):
     * sent again, with the wallet's current balance. Returns how many were scheduled.
     */
    resume(): number {
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
      for (const row of floats.undelivered(maxAttempts)) {
        if (delivering.has(row.txn_id)) continue;
        sendDisbursement(row);
        n++;
      }
      return n;
    },

    /** Deliveries scheduled or in flight (retries included). */
    pending(): number {
      return chains.size;
    },

    /** Resolves once every scheduled callback was delivered or abandoned. */
    async flush(): Promise<void> {
      while (chains.size) await Promise.allSettled([...chains]);
    },

    /** Cancels the callbacks not yet sent; nothing is scheduled afterwards. */
    close(): void {
      closed = true;
      for (const [t, resolve] of sleepers) {
        clearTimeout(t);
        resolve();
      }
      sleepers.clear();
    },

    get closed(): boolean {
      return closed;
    },
  };
}
