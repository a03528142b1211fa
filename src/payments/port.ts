/**
 * The mobile-money operator as sabatili sees it. The built-in simulated Orange Money implements
 * it (src/payments/orange-simulator.ts); a real operator API maps onto the same three moves:
 * ask the subscriber to pay (the operator prompts for the PIN on the handset, never us), a signed
 * callback saying how it ended, and a status query for a callback that never came.
 */
export interface PaymentRequest {
  /** Our reference, unique per payment; the operator echoes it in its callback and statements. */
  reference: string;
  /** The wallet that pays (E.164). */
  msisdn: string;
  /** What reaches UTM. */
  amount: number;
  /** The operator's fee for this amount. */
  fee: number;
  /** What leaves the wallet: amount + fee when the member bears the fee, amount otherwise. */
  debit: number;
  /** Where the operator posts the outcome. */
  callbackUrl: string;
}

export type RequestOutcome =
  /** The operator accepted the request and is prompting the subscriber; the outcome comes by callback. */
  | { status: 'pending'; txnId: string }
  /** Refused at once (unknown wallet, blocked wallet, a payment already waiting for the PIN). */
  | { status: 'rejected'; reason: string };

/** What the operator knows of a reference, asked when a callback is late or lost. */
export type OperatorStatus =
  | { status: 'unknown' }
  | { status: 'pending'; txnId: string }
  | {
      status: 'SUCCESS' | 'FAILED' | 'EXPIRED';
      txnId: string;
      reason?: string | undefined;
      amount: number;
      fee: number;
      msisdn: string;
      balance?: number | undefined;
    };

export interface PaymentProvider {
  readonly name: string;
  /**
   * Idempotent by `reference`: the same request again (a retried hop, a recovery after a crash)
   * gets the same transaction, never a second prompt or a second debit.
   */
  requestPayment(req: PaymentRequest): Promise<RequestOutcome>;
  /** Withdraws the prompt of this reference if it still waits for the subscriber's PIN. */
  cancelPayment(reference: string): Promise<void>;
  /** The operator's status query (a real operator API has one; the statement is too late). */
  paymentStatus(reference: string): Promise<OperatorStatus>;
}

/** The operator's callback, once verified: how a payment ended. */
export interface PaymentCallback {
  txnId: string;
  reference: string;
  status: 'SUCCESS' | 'FAILED' | 'EXPIRED';
  /** For FAILED: INSUFFICIENT_FUNDS, WRONG_PIN, REFUSED, WALLET_BLOCKED. */
  reason?: string | undefined;
  amount: number;
  fee: number;
  msisdn: string;
  /** The wallet's balance after the attempt, when the operator tells it (used in the failure SMS). */
  balance?: number | undefined;
  /** When the operator signed this delivery (each retry signs afresh): stale or future ones are refused. */
  timestamp: string;
}

/**
 * The callback's wire format (what `POST /payments/orange-money/callback` receives): a JSON body
 * `PaymentCallback`, signed in the `x-signature` header (src/payments/signature.ts) with
 * PAYMENT_CALLBACK_SECRET. The operator retries until it gets a 2xx and may deliver the same
 * callback twice.
 */
export const CALLBACK_PATH = '/payments/orange-money/callback';

/**
 * UTM paying a wallet from its float (a facility's claims): the operator's "cash-in" or B2C
 * transfer. Asynchronous like a payment: the request is accepted (or refused at once), the outcome
 * comes by signed callback, and a status query answers for a callback that never came.
 */
export interface DisbursementRequest {
  /** Our reference, unique per attempt: the same reference again is the same transfer, never a second one. */
  reference: string;
  /** The wallet credited (E.164). */
  msisdn: string;
  /** What reaches the wallet, in FCFA. */
  amount: number;
  /** Where the operator posts the outcome. */
  callbackUrl: string;
}

export type DisbursementOutcome =
  /** Accepted; the outcome comes by callback (or status query). */
  | { status: 'pending'; txnId: string }
  /** Refused at once (unknown wallet, invalid request, the reference reused for another transfer): nothing was created. */
  | { status: 'rejected'; reason: string };

/** What the operator knows of a disbursement reference. */
export type DisbursementStatus =
  | { status: 'unknown' }
  | { status: 'pending'; txnId: string }
  | { status: 'SUCCESS' | 'FAILED'; txnId: string; reason?: string | undefined; amount: number; msisdn: string };

export interface DisbursementProvider {
  /** Idempotent by `reference`: the same request again answers the same transaction, never a second transfer. */
  disburse(req: DisbursementRequest): Promise<DisbursementOutcome>;
  disbursementStatus(reference: string): Promise<DisbursementStatus>;
}

/**
 * The disbursement callback, once verified. FAILED reasons: INSUFFICIENT_FUNDS (UTM's float does
 * not cover the amount), WALLET_BLOCKED. A FAILED transaction never succeeds later.
 */
export interface DisbursementCallback {
  txnId: string;
  reference: string;
  status: 'SUCCESS' | 'FAILED';
  reason?: string | undefined;
  amount: number;
  msisdn: string;
  /** When the operator signed this delivery (each retry signs afresh). */
  timestamp: string;
}

/** Where the disbursement callback is posted: a JSON `DisbursementCallback`, signed like the payment callback. */
export const DISBURSEMENT_CALLBACK_PATH = '/payments/orange-money/disbursement-callback';
