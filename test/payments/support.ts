/**
 * What the payment tests share: the demo phones, a USSD session that keeps the gateway's cumulative
 * text, the simulated subscriber's wallet API, the phones' SMS inboxes, the ledger, and signed
 * operator callbacks posted to the app.
 */
import { expect } from 'vitest';
import type { WalletView } from '../../src/payments/orange-simulator.ts';
import type { Payment } from '../../src/payments/payments.ts';
import type { PaymentCallback } from '../../src/payments/port.ts';
import { CALLBACK_PATH } from '../../src/payments/port.ts';
import { SIGNATURE_HEADER, sign } from '../../src/payments/signature.ts';
import type { SimulatedSms } from '../../src/simulator/sms.ts';
import type { TestApp } from '../support/app.ts';

export const MOUSSA = '+22376000001'; // French, household 1 (5 pers.), wallet 50 000 FCFA, PIN 1234
export const AMINATA = '+22376000002'; // French, household 2 (lapsed), wallet 500 FCFA, PIN 1234
export const BAKARY = '+22376000003'; // Bambara, household 3, wallet 20 000 FCFA, PIN 1234
export const HAWA = '+22366000004'; // French, household 4, no Orange wallet

/** Screens both payment suites expect (Moussa, the first suggestion: 1 250 FCFA for May). */
export const QUOTE_1250 = `CON Somme: 1 250 FCFA
Frais: 100 FCFA, par vous
Total: 1 350 FCFA
Couvert jusqu'au 31/05/2026
1 Confirmer
2 Annuler
0 Retour 00 Menu`;
export const STARTED_FR = 'END Paiement demandé. Orange Money va vous demander votre code secret. Un SMS confirmera le paiement.';
export const PENDING_1250 = `CON Un paiement attend votre code secret Orange Money.
Somme: 1 250 FCFA
Total: 1 350 FCFA
1 Annuler ce paiement
0 Retour`;

export const HOUSEHOLD = { [MOUSSA]: 1, [AMINATA]: 2, [BAKARY]: 3, [HAWA]: 4 } as const;

/** One USSD session of a phone: each `send` posts the cumulative text, as the gateway does. */
export function ussd(app: TestApp, phone: string, sessionId: string) {
  const inputs: string[] = [];
  let started = false;
  return {
    /** The first call (no input) opens the session; each later one adds an input. Returns the body, `CON …` or `END …`. */
    async send(input?: string): Promise<string> {
      if (started) {
        if (input === undefined) throw new Error('a hop after the first needs an input');
        inputs.push(input);
      }
      started = true;
      const res = await app.hop(sessionId, phone, inputs.join('*'));
      expect(res.status, res.body).toBe(200);
      return res.body;
    },
  };
}

/** `GET /simulator/api/wallet?phone=` (the `+` encoded as %2B). */
export async function wallet(app: TestApp, phone: string): Promise<WalletView> {
  const res = await fetch(`${app.url}/simulator/api/wallet?phone=${encodeURIComponent(phone)}`);
  expect(res.status).toBe(200);
  return (await res.json()) as WalletView;
}

async function postJson(app: TestApp, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(app.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

/** The subscriber types a PIN at the operator's prompt. */
export const confirmPin = (app: TestApp, phone: string, pin: string) => postJson(app, '/simulator/api/wallet/confirm', { phone, pin });

/** The subscriber declines the operator's prompt. */
export const refusePrompt = (app: TestApp, phone: string) => postJson(app, '/simulator/api/wallet/refuse', { phone });

/** `GET /simulator/api/sms?phone=`: what the phone received, oldest first. */
export async function inbox(app: TestApp, phone: string): Promise<SimulatedSms[]> {
  const res = await fetch(`${app.url}/simulator/api/sms?phone=${encodeURIComponent(phone)}`);
  expect(res.status).toBe(200);
  return (await res.json()) as SimulatedSms[];
}

/**
 * Lets the operator's callbacks reach the app, then sends every SMS due; returns the texts that
 * reached `phone` meanwhile.
 */
export async function settle(app: TestApp, phone: string): Promise<string[]> {
  const seen = new Set((await inbox(app, phone)).map((m) => m.id));
  await app.services.orange.flush();
  await app.services.dispatcher.drain();
  return (await inbox(app, phone)).filter((m) => !seen.has(m.id)).map((m) => m.text);
}

export interface LedgerRow {
  householdId: number;
  amount: number;
  fee: number;
  channel: string;
  operatorTxnId: string | null;
  paidOn: string;
}

/** The household's ledger rows (contributions), oldest first. */
export function ledger(app: TestApp, householdId: number): LedgerRow[] {
  return app.services.db
    .prepare(
      `SELECT household_id AS householdId, amount, fee, channel, operator_txn_id AS operatorTxnId, paid_on AS paidOn
       FROM contributions WHERE household_id = ? ORDER BY id`,
    )
    .all(householdId) as LedgerRow[];
}

/** The payments a phone made, oldest first (the shape of `Payment`). */
export function paymentsOf(app: TestApp, phone: string): Payment[] {
  return app.services.db
    .prepare(
      `SELECT id, reference, household_id AS householdId, payer_msisdn AS payerMsisdn, amount, fee, fee_bearer AS feeBearer,
         total, status, failure_reason AS failureReason, operator_txn_id AS operatorTxnId, created_at AS createdAt
       FROM payments WHERE payer_msisdn = ? ORDER BY id`,
    )
    .all(phone) as Payment[];
}

/** A callback as the operator would send it for a payment (the payment's own txn id, amount, fee and payer). */
export function callbackFor(p: Payment, over: Partial<PaymentCallback> = {}): PaymentCallback {
  return {
    txnId: p.operatorTxnId ?? `TXN-${p.reference}`,
    reference: p.reference,
    status: 'SUCCESS',
    amount: p.amount,
    fee: p.fee,
    msisdn: p.payerMsisdn,
    timestamp: '2026-03-10T09:00:30.000Z',
    ...over,
  };
}

export interface Posted {
  status: number;
  type: string;
  body: string;
}

/**
 * Posts a raw body to the callback route. `signature`: 'sign' (the HMAC of this body with the
 * app's secret, the default), null (no header), or the header value to send.
 */
export async function postCallback(app: TestApp, body: string | PaymentCallback, signature: string | null = 'sign'): Promise<Posted> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (signature === 'sign') headers[SIGNATURE_HEADER] = sign(raw, app.services.paymentSecret);
  else if (signature !== null) headers[SIGNATURE_HEADER] = signature;
  const res = await fetch(app.url + CALLBACK_PATH, { method: 'POST', headers, body: raw, signal: AbortSignal.timeout(5_000) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}
