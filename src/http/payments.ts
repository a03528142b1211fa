import express, { type Express, type Request } from 'express';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import { Refusal } from '../domain/refusal.ts';
import type { Logger } from '../log.ts';
import type { Payments } from '../payments/payments.ts';
import { CALLBACK_PATH, DISBURSEMENT_CALLBACK_PATH, type DisbursementCallback } from '../payments/port.ts';
import { SIGNATURE_HEADER, verify } from '../payments/signature.ts';
import { parse } from './errors.ts';

const fcfa = z.number().int().nonnegative();

/** The operator's callback body (src/payments/port.ts, PaymentCallback). */
export const callbackSchema = z.object({
  txnId: z.string().min(1).max(64),
  reference: z.string().min(1).max(64),
  status: z.enum(['SUCCESS', 'FAILED', 'EXPIRED']),
  reason: z.string().max(64).optional(),
  amount: fcfa,
  fee: fcfa,
  msisdn: z.string().regex(/^\+[1-9]\d{6,14}$/),
  balance: fcfa.optional(),
  timestamp: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date and time' }),
});

/** The disbursement callback's body (src/payments/port.ts, DisbursementCallback). */
export const disbursementCallbackSchema = z.object({
  txnId: z.string().min(1).max(64),
  reference: z.string().min(1).max(64),
  status: z.enum(['SUCCESS', 'FAILED']),
  reason: z.string().max(64).optional(),
  amount: fcfa,
  msisdn: z.string().regex(/^\+[1-9]\d{6,14}$/),
  timestamp: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date and time' }),
});

/** How far ahead of our clock a signed timestamp may be (the operator's clock drifts too). */
const FUTURE_SKEW_MS = 60_000;

interface SignedDeps {
  secret: string;
  clock: Clock;
  maxAgeMs: number;
  logger: Logger;
}

/** The operator's signed JSON body, parsed with `schema`: refused (4xx) unsigned, unreadable, invalid, stale or from the future. */
function signedBody<T extends { reference: string; timestamp: string }>(req: Request, schema: z.ZodType<T>, deps: SignedDeps): T {
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  if (!verify(raw, deps.secret, req.get(SIGNATURE_HEADER))) {
    deps.logger.warn({ ip: req.ip, path: req.path }, 'payments: callback with a bad or missing signature');
    throw new Refusal(`${SIGNATURE_HEADER}: missing or not the HMAC-SHA256 of the body`, SIGNATURE_HEADER, 401);
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new Refusal('the body is not JSON');
  }
  const cb = parse(schema, body);
  const age = deps.clock.now().getTime() - Date.parse(cb.timestamp);
  if (age > deps.maxAgeMs || age < -FUTURE_SKEW_MS) {
    deps.logger.warn(
      { reference: cb.reference, timestamp: cb.timestamp, ip: req.ip },
      'payments: callback with a stale or future timestamp',
    );
    throw new Refusal(`timestamp: ${age > 0 ? 'older than' : 'ahead of'} what is accepted; sign each delivery afresh`, 'timestamp', 401);
  }
  return cb;
}

/**
 * The operator tells how a payment ended. Signed (HMAC-SHA256 of the raw body): anything unsigned
 * is refused before it is read, and a signed body older than `maxAgeMs` (or from the future) is
 * refused as a replay. Answered 2xx only once the ledger row (or the review) is on disk; a refusal
 * is the app's text/plain 4xx (errors.ts).
 */
export function paymentRoutes(
  app: Express,
  deps: { payments: Payments; secret: string; clock: Clock; maxAgeMs: number; logger: Logger },
): void {
  app.post(CALLBACK_PATH, express.raw({ type: () => true, limit: '16kb' }), (req, res) => {
    const cb = signedBody(req, callbackSchema, deps);
    const outcome = deps.payments.handleCallback(cb);
    if (outcome === 'unknown') {
      deps.logger.warn({ reference: cb.reference, txnId: cb.txnId }, 'payments: callback for an unknown payment');
      return res.status(404).type('text/plain').send(`Unknown payment reference ${cb.reference}\n`);
    }
    deps.logger.info({ reference: cb.reference, outcome, phone: cb.msisdn }, 'payments: callback');
    res.type('text/plain').send('OK');
  });
}

/**
 * The operator tells how a disbursement (a facility's payment batch) ended: signed and checked like
 * the payment callback, answered 2xx only once the outcome (the ledger row, for a success) is on
 * disk. A duplicate, or an outcome of an earlier attempt, is acknowledged and changes nothing.
 */
export function disbursementRoutes(
  app: Express,
  deps: SignedDeps & { disbursements: { handleCallback(cb: DisbursementCallback): string } },
): void {
  app.post(DISBURSEMENT_CALLBACK_PATH, express.raw({ type: () => true, limit: '16kb' }), (req, res) => {
    const cb = signedBody(req, disbursementCallbackSchema, deps);
    const outcome = deps.disbursements.handleCallback(cb);
    if (outcome === 'unknown') {
      deps.logger.warn({ reference: cb.reference, txnId: cb.txnId }, 'disbursements: callback for an unknown batch');
      return res.status(404).type('text/plain').send(`Unknown disbursement reference ${cb.reference}\n`);
    }
    deps.logger.info({ reference: cb.reference, outcome }, 'disbursements: callback');
    res.type('text/plain').send('OK');
  });
}
