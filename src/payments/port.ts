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
