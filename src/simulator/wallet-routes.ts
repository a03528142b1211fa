import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { Refusal } from '../domain/refusal.ts';
import { parse, plainRefusals } from '../http/errors.ts';
import { e164 } from '../http/form.ts';
import type { OrangeSimulator, WalletAnswer, WalletAnswerError } from '../payments/orange-simulator.ts';

const pin = z.string().regex(/^\d{4}$/, { error: 'must be 4 digits' });
const confirmBody = z.object({ phone: e164, pin });
const refuseBody = z.object({ phone: e164 });
const phoneQuery = z.object({ phone: e164 });
const floatBody = z.union([
  z.strictObject({ balance: z.number().int().min(0).max(1_000_000_000) }),
  z.strictObject({ add: z.number().int().min(1).max(1_000_000_000) }),
]);
const openBody = z.object({ phone: e164, balance: z.number().int().min(0).max(10_000_000).default(10_000), pin: pin.default('1234') });

/**
 * How an answer that settled nothing is told. 200 always means the prompt is over (`status`
 * says how, a third wrong PIN included); 409 means it is still open (wrong PIN, try again).
 */
export const WALLET_ERROR_STATUS: Record<WalletAnswerError, number> = {
  WRONG_PIN: 409,
  NO_PENDING_PAYMENT: 404,
  UNKNOWN_WALLET: 404,
  PAYMENT_EXPIRED: 410,
  WALLET_BLOCKED: 423,
};

const parseJson = express.json({ limit: '8kb' });

/** JSON bodies only; an unreadable one is the caller's 4xx, not the app's 500. */
function jsonBody(req: Request, res: Response, next: NextFunction): void {
  if (!req.is('application/json')) return next(new Refusal('Content-Type must be application/json', undefined, 415));
  parseJson(req, res, (err?: unknown) => {
    if (!err) return next();
    const status = (err as { status?: unknown }).status;
    next(
      status === 413
        ? new Refusal('body larger than 8kb', undefined, 413)
        : new Refusal('body is not valid JSON', undefined, status === 415 ? 415 : 400),
    );
  });
}

function answer(res: Response, a: WalletAnswer): void {
  const { ok, ...body } = a;
  if (ok) res.json(body);
  else res.status(WALLET_ERROR_STATUS[a.error]).json(body);
}

/**
 * The simulated subscriber's side of Orange Money (design.md, "Simulator JSON API"): answering
 * the operator's PIN prompt for the phone's pending payment, and looking at the wallet.
 *
 * - `POST /simulator/api/wallet/confirm` `{phone, pin}` → 200 `{txnId, status: 'succeeded'|'failed', reason?, balance, walletState}`;
 *   409 `{error: 'WRONG_PIN', txnId, triesLeft}`; 404 `{error: 'NO_PENDING_PAYMENT'|'UNKNOWN_WALLET'}`;
 *   410 `{error: 'PAYMENT_EXPIRED', txnId}`; 423 `{error: 'WALLET_BLOCKED'}`.
 * - `POST /simulator/api/wallet/refuse` `{phone}` → 200 `{txnId, status: 'failed', reason: 'REFUSED', balance, walletState}`; 404; 410.
 * - `GET /simulator/api/wallet?phone=` → 200 `{phone, balance, state, pinFailures, pending}`; 404 `{error: 'UNKNOWN_WALLET'}`.
 * - `POST /simulator/api/wallet` `{phone, balance?, pin?}` → 201 the new wallet (10 000 FCFA, PIN 1234 by default); 409 if it exists.
 * A malformed request is a 400/415 text/plain naming the field.
 */
export function walletRoutes(app: Express, sim: Pick<OrangeSimulator, 'confirm' | 'refuse' | 'wallet' | 'seedWallet'>): void {
  const router = express.Router();
  // A number registered at the office after the demo was loaded has no simulated wallet yet: a
  // tester opens one, as the member would at an Orange shop.
  router.post('/', jsonBody, (req, res) => {
    const b = parse(openBody, req.body);
    if (!sim.seedWallet(b.phone, b.balance, b.pin)) return void res.status(409).json({ error: 'WALLET_EXISTS' });
    res.status(201).json(sim.wallet(b.phone));
  });

  router.post('/confirm', jsonBody, (req, res) => {
    const b = parse(confirmBody, req.body);
    answer(res, sim.confirm(b.phone, b.pin));
  });

  router.post('/refuse', jsonBody, (req, res) => {
    const b = parse(refuseBody, req.body);
    answer(res, sim.refuse(b.phone));
  });

  router.get('/', (req, res) => {
    const q = parse(phoneQuery, req.query);
    const w = sim.wallet(q.phone);
    if (!w) return void res.status(404).json({ error: 'UNKNOWN_WALLET' });
    res.json(w);
  });
  router.use(plainRefusals);
  app.use('/simulator/api/wallet', router);
}

/**
 * UTM's float at the simulated operator, which pays facilities (disbursements):
 * - `GET /simulator/api/float` → 200 `{balance}`;
 * - `POST /simulator/api/float` `{add}` (a top-up) or `{balance}` (set, to make it run out) → 200 `{balance}`.
 * A facility's wallet is read with `GET /simulator/api/wallet?phone=`.
 */
export function floatRoutes(app: Express, sim: Pick<OrangeSimulator, 'float' | 'changeFloat'>): void {
  const router = express.Router();
  router.get('/', (_req, res) => {
    res.json({ balance: sim.float() });
  });
  router.post('/', jsonBody, (req, res) => {
    res.json({ balance: sim.changeFloat(parse(floatBody, req.body)) });
  });
  router.use(plainRefusals);
  app.use('/simulator/api/float', router);
}
