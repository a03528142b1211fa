/**
 * The mobile-money operator as sabatili sees it. The built-in simulated Orange Money implements
 * it (src/payments/orange-simulator.ts); a real operator API maps onto the same two moves:
 * ask the subscriber to pay (the operator prompts for the PIN on the handset, never us), and
 * later a signed callback saying how it ended.
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

export interface PaymentProvider {
  readonly name: string;
  requestPayment(req: PaymentRequest): Promise<RequestOutcome>;
  /** Withdraws a request still waiting for the subscriber's PIN, when the operator allows it. */
  cancelPayment?(msisdn: string, txnId: string): Promise<void>;
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
  timestamp: string;
}

/**
 * The callback's wire format (what `POST /payments/orange-money/callback` receives): a JSON body
 * `PaymentCallback`, signed in the `x-signature` header (src/payments/signature.ts) with
 * PAYMENT_CALLBACK_SECRET. The operator retries until it gets a 2xx and may deliver the same
 * callback twice.
 */
export const CALLBACK_PATH = '/payments/orange-money/callback';
