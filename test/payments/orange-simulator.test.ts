import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { createLogger } from '../../src/log.ts';
import { createOrangeSimulator, type OrangeSimulator, type OrangeSimulatorOptions } from '../../src/payments/orange-simulator.ts';
import type { PaymentCallback, PaymentRequest } from '../../src/payments/port.ts';
import { SIGNATURE_HEADER, verify } from '../../src/payments/signature.ts';
import { walletRoutes } from '../../src/simulator/wallet-routes.ts';
import { type TempDb, tempDb } from '../support/sms-db.ts';

const SECRET = 'test-callback-secret';
const EXPIRY_MS = 5 * 60_000;
const RICH = '+22376000001';
const POOR = '+22376000002';
const OTHER = '+22376000003';
const NO_WALLET = '+22366000004';

/** Stands in for the app's `POST /payments/orange-money/callback`: records what arrives, can answer 500 for the first calls. */
interface CallbackServer {
  url: string;
  calls: Array<{ body: string; headers: IncomingHttpHeaders }>;
  /** The next this-many calls are answered 500. */
  failNext: number;
  close(): Promise<void>;
}

async function startCallbackServer(): Promise<CallbackServer> {
  const state: CallbackServer = { url: '', calls: [], failNext: 0, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.calls.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      if (state.failNext > 0) {
        state.failNext--;
        res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/payments/orange-money/callback`;
  state.close = () => new Promise((resolve) => server.close(() => resolve()));
  return state;
}

let t: TempDb;
let clock: ManualClock;
let cb: CallbackServer;
let sim: OrangeSimulator;
let duplicate = false;
let refCounter = 0;

function makeSim(extra: Partial<OrangeSimulatorOptions> = {}): OrangeSimulator {
  return createOrangeSimulator(t.db, clock, createLogger('silent'), {
    secret: SECRET,
    expiryMs: EXPIRY_MS,
    callbackRetryMs: 5,
    duplicateCallbacks: () => duplicate,
    ...extra,
  });
}

function request(msisdn: string, amount = 1000, fee = 50, overrides: Partial<PaymentRequest> = {}): PaymentRequest {
  return { reference: `SBT-${++refCounter}`, msisdn, amount, fee, debit: amount + fee, callbackUrl: cb.url, ...overrides };
}

async function pendingTxn(msisdn: string, amount = 1000, fee = 50): Promise<string> {
  const out = await sim.provider.requestPayment(request(msisdn, amount, fee));
  if (out.status !== 'pending') throw new Error(`expected pending, got ${out.reason}`);
  return out.txnId;
}

function callbacks(): PaymentCallback[] {
  return cb.calls.map((c) => JSON.parse(c.body) as PaymentCallback);
}

function txnRow(txnId: string) {
  return t.db.prepare('SELECT * FROM sim_transactions WHERE txn_id = ?').get(txnId) as {
    status: string;
    reason: string | null;
    callback_attempts: number;
    callback_done: number;
    decided_ms: number | null;
  };
}

beforeEach(async () => {
  t = tempDb('sabatili-orange-');
  clock = new ManualClock('2026-11-24T15:30:00Z');
  cb = await startCallbackServer();
  duplicate = false;
  sim = makeSim();
  sim.seedWallet(RICH, 50_000, '1234');
  sim.seedWallet(POOR, 500, '1234');
  sim.seedWallet(OTHER, 20_000, '4321');
});

afterEach(async () => {
  sim.close();
  await sim.flush();
  await cb.close();
  t.cleanup();
});

describe('payment requests', () => {
  it('creates a pending transaction without moving money, and shows it on the wallet', async () => {
    const out = await sim.provider.requestPayment(request(RICH, 1000, 50));
    expect(out.status).toBe('pending');
    if (out.status !== 'pending') return;
    expect(out.txnId).toMatch(/^MP261124\.1530\.[0-9A-F]{6}$/);
    expect(sim.provider.name).toBe('orange_money');
    expect(sim.wallet(RICH)).toEqual({
      phone: RICH,
      balance: 50_000,
      state: 'active',
      pinFailures: 0,
      pending: {
        txnId: out.txnId,
        amount: 1000,
        fee: 50,
        debit: 1050,
        merchantReference: `SBT-${refCounter}`,
        expiresAt: '2026-11-24T15:35:00.000Z',
      },
    });
    expect(txnRow(out.txnId).status).toBe('pending');
    await sim.flush();
    expect(cb.calls).toHaveLength(0);
  });

  it('rejects a second request while one waits for the PIN (PENDING_EXISTS), and unknown wallets', async () => {
    await pendingTxn(RICH);
    expect(await sim.provider.requestPayment(request(RICH))).toEqual({ status: 'rejected', reason: 'PENDING_EXISTS' });
    expect(await sim.provider.requestPayment(request(NO_WALLET))).toEqual({ status: 'rejected', reason: 'UNKNOWN_WALLET' });
    // Another wallet is not affected.
    expect((await sim.provider.requestPayment(request(OTHER))).status).toBe('pending');
    expect(t.db.prepare("SELECT COUNT(*) FROM sim_transactions WHERE status = 'pending'").pluck().get()).toBe(2);
  });

  it('answers the same request again (same reference) with the same transaction, and refuses a reused reference', async () => {
    const req = request(RICH);
    const first = await sim.provider.requestPayment(req);
    expect(await sim.provider.requestPayment(req)).toEqual(first);
    expect(await sim.provider.requestPayment({ ...req, amount: 2000, debit: 2050 })).toEqual({
      status: 'rejected',
      reason: 'DUPLICATE_REFERENCE',
    });
  });

  it('rejects malformed requests', async () => {
    for (const bad of [
      { amount: 0 },
      { amount: 10.5 },
      { fee: -1 },
      { debit: 0 },
      { msisdn: '76000001' },
      { callbackUrl: 'not a url' },
      { reference: '' },
    ]) {
      expect(await sim.provider.requestPayment(request(RICH, 1000, 50, bad))).toEqual({ status: 'rejected', reason: 'INVALID_REQUEST' });
    }
  });

  it('seedWallet is idempotent: a second seed keeps the balance the wallet has now', async () => {
    await pendingTxn(RICH);
    sim.confirm(RICH, '1234');
    expect(sim.seedWallet(RICH, 50_000, '1234')).toBe(false);
    expect(sim.wallet(RICH)?.balance).toBe(48_950);
    expect(sim.wallet(NO_WALLET)).toBeUndefined();
    expect(() => sim.seedWallet('+22376000009', 100, '12')).toThrow(/4 digits/);
  });
});

describe('the subscriber answers the PIN prompt', () => {
  it('right PIN: the wallet is debited by the debit and a signed SUCCESS callback follows, asynchronously', async () => {
    const txnId = await pendingTxn(RICH, 1000, 50);
    const answer = sim.confirm(RICH, '1234');
    expect(answer).toEqual({ ok: true, txnId, status: 'succeeded', balance: 48_950, walletState: 'active' });
    // Never inside confirm's call stack.
    expect(cb.calls).toHaveLength(0);
    expect(sim.pendingCallbacks()).toBe(1);
    await sim.flush();
    expect(sim.pendingCallbacks()).toBe(0);

    expect(sim.wallet(RICH)).toMatchObject({ balance: 48_950, pending: null });
    expect(cb.calls).toHaveLength(1);
    const call = cb.calls[0]!;
    expect(call.headers['content-type']).toBe('application/json');
    expect(verify(call.body, SECRET, call.headers[SIGNATURE_HEADER] as string)).toBe(true);
    expect(verify(call.body, 'another-secret', call.headers[SIGNATURE_HEADER] as string)).toBe(false);
    expect(JSON.parse(call.body)).toEqual({
      txnId,
      reference: `SBT-${refCounter}`,
      status: 'SUCCESS',
      amount: 1000,
      fee: 50,
      msisdn: RICH,
      balance: 48_950,
      timestamp: '2026-11-24T15:30:00.000Z',
    });
    expect(txnRow(txnId)).toMatchObject({ status: 'succeeded', reason: null, callback_attempts: 1, callback_done: 1 });
  });

  it('wrong PIN twice then the right one: tries left counted down, then success and the failures reset', async () => {
    const txnId = await pendingTxn(RICH);
    expect(sim.confirm(RICH, '0000')).toEqual({ ok: false, error: 'WRONG_PIN', txnId, triesLeft: 2 });
    expect(sim.confirm(RICH, '9999')).toEqual({ ok: false, error: 'WRONG_PIN', txnId, triesLeft: 1 });
    expect(sim.wallet(RICH)).toMatchObject({ pinFailures: 2, state: 'active', balance: 50_000 });
    await sim.flush();
    expect(cb.calls).toHaveLength(0);
    expect(sim.confirm(RICH, '1234')).toMatchObject({ ok: true, status: 'succeeded', balance: 48_950 });
    expect(sim.wallet(RICH)).toMatchObject({ pinFailures: 0, state: 'active' });
    await sim.flush();
    expect(callbacks().map((c) => c.status)).toEqual(['SUCCESS']);
  });

  it('three wrong PINs: the wallet is blocked and the payment FAILED with WRONG_PIN', async () => {
    const txnId = await pendingTxn(RICH);
    sim.confirm(RICH, '0000');
    sim.confirm(RICH, '0000');
    expect(sim.confirm(RICH, '0000')).toEqual({
      ok: true,
      txnId,
      status: 'failed',
      reason: 'WRONG_PIN',
      balance: 50_000,
      walletState: 'blocked',
    });
    await sim.flush();
    expect(callbacks()).toEqual([expect.objectContaining({ txnId, status: 'FAILED', reason: 'WRONG_PIN', balance: 50_000 })]);
    expect(sim.wallet(RICH)).toMatchObject({ state: 'blocked', balance: 50_000, pending: null });
    // A blocked wallet: no new prompt, and even the right PIN does nothing.
    expect(await sim.provider.requestPayment(request(RICH))).toEqual({ status: 'rejected', reason: 'WALLET_BLOCKED' });
    expect(sim.confirm(RICH, '1234')).toEqual({ ok: false, error: 'WALLET_BLOCKED' });
  });

  it('insufficient funds: FAILED with the balance, nothing debited', async () => {
    const txnId = await pendingTxn(POOR, 1000, 50);
    expect(sim.confirm(POOR, '1234')).toEqual({
      ok: true,
      txnId,
      status: 'failed',
      reason: 'INSUFFICIENT_FUNDS',
      balance: 500,
      walletState: 'active',
    });
    await sim.flush();
    expect(callbacks()).toEqual([
      {
        txnId,
        reference: `SBT-${refCounter}`,
        status: 'FAILED',
        reason: 'INSUFFICIENT_FUNDS',
        amount: 1000,
        fee: 50,
        msisdn: POOR,
        balance: 500,
        timestamp: '2026-11-24T15:30:00.000Z',
      },
    ]);
    expect(sim.wallet(POOR)).toMatchObject({ balance: 500, pending: null });
  });

  it('the debit, not the amount, must be covered; an exact balance succeeds to zero', async () => {
    await pendingTxn(POOR, 480, 50);
    expect(sim.confirm(POOR, '1234')).toMatchObject({ status: 'failed', reason: 'INSUFFICIENT_FUNDS', balance: 500 });
    await pendingTxn(POOR, 450, 50);
    expect(sim.confirm(POOR, '1234')).toMatchObject({ status: 'succeeded', balance: 0 });
  });

  it('refuse: FAILED with REFUSED, and the wallet may pay again', async () => {
    const txnId = await pendingTxn(OTHER);
    expect(sim.refuse(OTHER)).toEqual({ ok: true, txnId, status: 'failed', reason: 'REFUSED', balance: 20_000, walletState: 'active' });
    expect(sim.refuse(OTHER)).toEqual({ ok: false, error: 'NO_PENDING_PAYMENT' });
    await sim.flush();
    expect(callbacks()).toEqual([expect.objectContaining({ txnId, status: 'FAILED', reason: 'REFUSED', balance: 20_000 })]);
    expect((await sim.provider.requestPayment(request(OTHER))).status).toBe('pending');
  });

  it('no pending payment, or no wallet, is said so', () => {
    expect(sim.confirm(RICH, '1234')).toEqual({ ok: false, error: 'NO_PENDING_PAYMENT' });
    expect(sim.confirm(NO_WALLET, '1234')).toEqual({ ok: false, error: 'UNKNOWN_WALLET' });
    expect(sim.refuse(NO_WALLET)).toEqual({ ok: false, error: 'UNKNOWN_WALLET' });
  });
});

describe('expiry', () => {
  it('expireDue ends prompts past their time with an EXPIRED callback and nothing debited', async () => {
    const txnId = await pendingTxn(RICH);
    clock.advance(EXPIRY_MS - 1);
    expect(sim.expireDue()).toBe(0);
    clock.advance(1);
    expect(sim.expireDue()).toBe(1);
    expect(sim.expireDue()).toBe(0);
    await sim.flush();
    expect(callbacks()).toEqual([
      {
        txnId,
        reference: `SBT-${refCounter}`,
        status: 'EXPIRED',
        amount: 1000,
        fee: 50,
        msisdn: RICH,
        balance: 50_000,
        timestamp: '2026-11-24T15:35:00.000Z',
      },
    ]);
    expect(sim.confirm(RICH, '1234')).toEqual({ ok: false, error: 'NO_PENDING_PAYMENT' });
    expect(sim.wallet(RICH)).toMatchObject({ balance: 50_000, pending: null });
  });

  it('a PIN typed after the prompt timed out (before any sweep) expires it instead of paying', async () => {
    const txnId = await pendingTxn(RICH);
    clock.advance(EXPIRY_MS + 1000);
    expect(sim.confirm(RICH, '1234')).toEqual({ ok: false, error: 'PAYMENT_EXPIRED', txnId });
    await sim.flush();
    expect(callbacks().map((c) => c.status)).toEqual(['EXPIRED']);
    expect(sim.wallet(RICH)?.balance).toBe(50_000);
    // A new request is accepted once the old prompt is gone.
    expect((await sim.provider.requestPayment(request(RICH))).status).toBe('pending');
  });

  it('a new request for a wallet whose prompt timed out expires the old one first', async () => {
    const old = await pendingTxn(RICH);
    clock.advance(EXPIRY_MS);
    const fresh = await pendingTxn(RICH);
    expect(fresh).not.toBe(old);
    expect(txnRow(old).status).toBe('expired');
    await sim.flush();
    expect(callbacks()).toEqual([expect.objectContaining({ txnId: old, status: 'EXPIRED' })]);
  });

  it('start() sweeps on a timer; stop() ends it', async () => {
    sim.close();
    sim = makeSim({ sweepMs: 10 });
    const txnId = await pendingTxn(RICH);
    clock.advance(EXPIRY_MS);
    sim.start();
    await waitFor(() => txnRow(txnId).status === 'expired');
    sim.stop();
    await sim.flush();
    expect(callbacks().map((c) => c.status)).toEqual(['EXPIRED']);
  });
});

describe('callback delivery', () => {
  it('retries after 500s, with backoff, until a 2xx; the same signed body each time', async () => {
    cb.failNext = 3;
    const txnId = await pendingTxn(RICH);
    sim.confirm(RICH, '1234');
    await sim.flush();
    expect(cb.calls).toHaveLength(4);
    expect(new Set(cb.calls.map((c) => c.body)).size).toBe(1);
    expect(new Set(cb.calls.map((c) => c.headers[SIGNATURE_HEADER])).size).toBe(1);
    for (const c of cb.calls) expect(verify(c.body, SECRET, c.headers[SIGNATURE_HEADER] as string)).toBe(true);
    expect(txnRow(txnId)).toMatchObject({ callback_attempts: 4, callback_done: 1 });
  });

  it('gives up after the maximum attempts (callback_done stays 0), and resumeCallbacks sends it again later', async () => {
    sim.close();
    sim = makeSim({ callbackMaxAttempts: 3 });
    cb.failNext = 100;
    const txnId = await pendingTxn(RICH);
    sim.confirm(RICH, '1234');
    await sim.flush();
    expect(cb.calls).toHaveLength(3);
    expect(txnRow(txnId)).toMatchObject({ callback_attempts: 3, callback_done: 0 });
    // Not resumed past the maximum…
    expect(sim.resumeCallbacks()).toBe(0);
    // …but a run with a larger allowance (e.g. a restart) picks it up.
    sim.close();
    cb.failNext = 0;
    sim = makeSim({ callbackMaxAttempts: 8 });
    expect(sim.resumeCallbacks()).toBe(1);
    await sim.flush();
    expect(cb.calls).toHaveLength(4);
    expect(cb.calls[3]!.body).toBe(cb.calls[0]!.body);
    expect(txnRow(txnId)).toMatchObject({ callback_attempts: 4, callback_done: 1 });
    expect(sim.resumeCallbacks()).toBe(0);
  });

  it('an unreachable callback URL is retried like a 500, then abandoned', async () => {
    sim.close();
    sim = makeSim({ callbackMaxAttempts: 2 });
    await cb.close(); // nothing listens on that port any more
    const txnId = await pendingTxn(RICH);
    sim.confirm(RICH, '1234');
    await sim.flush();
    expect(txnRow(txnId)).toMatchObject({ status: 'succeeded', callback_attempts: 2, callback_done: 0 });
    cb = await startCallbackServer(); // for afterEach
  });

  it('close() cancels scheduled retries', async () => {
    sim.close();
    sim = makeSim({ callbackRetryMs: 60_000 });
    cb.failNext = 1;
    const txnId = await pendingTxn(RICH);
    sim.confirm(RICH, '1234');
    await waitFor(() => cb.calls.length === 1 && txnRow(txnId).callback_attempts === 1);
    expect(sim.pendingCallbacks()).toBe(1);
    const started = Date.now();
    sim.close();
    await sim.flush();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(cb.calls).toHaveLength(1);
    expect(txnRow(txnId)).toMatchObject({ callback_attempts: 1, callback_done: 0 });
  });

  it('waits callbackDelayMs before the first delivery', async () => {
    sim.close();
    sim = makeSim({ callbackDelayMs: 150 });
    await pendingTxn(RICH);
    const started = Date.now();
    sim.confirm(RICH, '1234');
    await sim.flush();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(cb.calls).toHaveLength(1);
  });

  it('duplicate switch: the same callback (body and signature) is delivered twice', async () => {
    duplicate = true;
    const txnId = await pendingTxn(RICH);
    sim.confirm(RICH, '1234');
    await sim.flush();
    expect(cb.calls).toHaveLength(2);
    expect(cb.calls[1]!.body).toBe(cb.calls[0]!.body);
    expect(cb.calls[1]!.headers[SIGNATURE_HEADER]).toBe(cb.calls[0]!.headers[SIGNATURE_HEADER]);
    expect(txnRow(txnId)).toMatchObject({ callback_attempts: 2, callback_done: 1 });
    // The money moved once.
    expect(sim.wallet(RICH)?.balance).toBe(48_950);
  });
});

/** Polls until `cond` holds (real time: callbacks and the sweep run on real timers). */
async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('wallet API routes', () => {
  let server: Server;
  let base: string;

  beforeEach(async () => {
    const app = express();
    walletRoutes(app, sim);
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const postJson = async (path: string, body: unknown, contentType = 'application/json') => {
    const res = await fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      text,
      json: res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : undefined,
    };
  };
  const getWallet = async (query: string) => {
    const res = await fetch(`${base}/simulator/api/wallet${query}`);
    const text = await res.text();
    return { status: res.status, text };
  };

  it('two confirms for the same phone at the same instant: exactly one debit, one callback', async () => {
    const txnId = await pendingTxn(RICH, 1000, 50);
    const [a, b] = await Promise.all([
      postJson('/simulator/api/wallet/confirm', { phone: RICH, pin: '1234' }),
      postJson('/simulator/api/wallet/confirm', { phone: RICH, pin: '1234' }),
    ]);
    expect([a!.status, b!.status].sort()).toEqual([200, 404]);
    const ok = a!.status === 200 ? a! : b!;
    const other = a!.status === 200 ? b! : a!;
    expect(ok.json).toEqual({ txnId, status: 'succeeded', balance: 48_950, walletState: 'active' });
    expect(other.json).toEqual({ error: 'NO_PENDING_PAYMENT' });
    await sim.flush();
    expect(sim.wallet(RICH)?.balance).toBe(48_950);
    expect(callbacks()).toEqual([expect.objectContaining({ txnId, status: 'SUCCESS' })]);
    expect(t.db.prepare("SELECT COUNT(*) FROM sim_transactions WHERE status = 'succeeded'").pluck().get()).toBe(1);
  });

  it('tells every outcome of a PIN answer with its own status code', async () => {
    const txnId = await pendingTxn(RICH);
    expect((await postJson('/simulator/api/wallet/confirm', { phone: RICH, pin: '0000' })).json).toEqual({
      error: 'WRONG_PIN',
      txnId,
      triesLeft: 2,
    });
    const wrong = await postJson('/simulator/api/wallet/confirm', { phone: RICH, pin: '0000' });
    expect(wrong.status).toBe(409);
    expect(wrong.json).toEqual({ error: 'WRONG_PIN', txnId, triesLeft: 1 });
    const third = await postJson('/simulator/api/wallet/confirm', { phone: RICH, pin: '0000' });
    expect(third.status).toBe(200);
    expect(third.json).toEqual({ txnId, status: 'failed', reason: 'WRONG_PIN', balance: 50_000, walletState: 'blocked' });
    const blocked = await postJson('/simulator/api/wallet/confirm', { phone: RICH, pin: '1234' });
    expect([blocked.status, blocked.json]).toEqual([423, { error: 'WALLET_BLOCKED' }]);

    const poor = await pendingTxn(POOR);
    const insufficient = await postJson('/simulator/api/wallet/confirm', { phone: POOR, pin: '1234' });
    expect([insufficient.status, insufficient.json]).toEqual([
      200,
      { txnId: poor, status: 'failed', reason: 'INSUFFICIENT_FUNDS', balance: 500, walletState: 'active' },
    ]);

    const other = await pendingTxn(OTHER);
    const refused = await postJson('/simulator/api/wallet/refuse', { phone: OTHER });
    expect([refused.status, refused.json]).toEqual([
      200,
      { txnId: other, status: 'failed', reason: 'REFUSED', balance: 20_000, walletState: 'active' },
    ]);

    const late = await pendingTxn(OTHER);
    clock.advance(EXPIRY_MS);
    const expired = await postJson('/simulator/api/wallet/confirm', { phone: OTHER, pin: '4321' });
    expect([expired.status, expired.json]).toEqual([410, { error: 'PAYMENT_EXPIRED', txnId: late }]);

    expect((await postJson('/simulator/api/wallet/refuse', { phone: OTHER })).status).toBe(404);
    const unknown = await postJson('/simulator/api/wallet/confirm', { phone: NO_WALLET, pin: '1234' });
    expect([unknown.status, unknown.json]).toEqual([404, { error: 'UNKNOWN_WALLET' }]);
  });

  it('GET /simulator/api/wallet shows balance, state and the pending payment', async () => {
    const txnId = await pendingTxn(OTHER, 2000, 100);
    const res = await getWallet(`?phone=${encodeURIComponent(OTHER)}`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({
      phone: OTHER,
      balance: 20_000,
      state: 'active',
      pinFailures: 0,
      pending: {
        txnId,
        amount: 2000,
        fee: 100,
        debit: 2100,
        merchantReference: `SBT-${refCounter}`,
        expiresAt: '2026-11-24T15:35:00.000Z',
      },
    });
    expect(await getWallet(`?phone=${encodeURIComponent(NO_WALLET)}`)).toEqual({ status: 404, text: '{"error":"UNKNOWN_WALLET"}' });
  });

  const badBodies: Array<{ label: string; path: string; body: unknown; contentType?: string; status: number; fragment: string }> = [
    { label: 'confirm: no body fields', path: '/simulator/api/wallet/confirm', body: {}, status: 400, fragment: 'phone:' },
    {
      label: 'confirm: phone not E.164',
      path: '/simulator/api/wallet/confirm',
      body: { phone: '76000001', pin: '1234' },
      status: 400,
      fragment: 'phone: must be an E.164 number',
    },
    { label: 'confirm: no PIN', path: '/simulator/api/wallet/confirm', body: { phone: RICH }, status: 400, fragment: 'pin:' },
    {
      label: 'confirm: 3-digit PIN',
      path: '/simulator/api/wallet/confirm',
      body: { phone: RICH, pin: '123' },
      status: 400,
      fragment: 'pin: must be 4 digits',
    },
    {
      label: 'confirm: 5-digit PIN',
      path: '/simulator/api/wallet/confirm',
      body: { phone: RICH, pin: '12345' },
      status: 400,
      fragment: 'pin: must be 4 digits',
    },
    {
      label: 'confirm: PIN with letters',
      path: '/simulator/api/wallet/confirm',
      body: { phone: RICH, pin: '12a4' },
      status: 400,
      fragment: 'pin: must be 4 digits',
    },
    {
      label: 'confirm: PIN as a number',
      path: '/simulator/api/wallet/confirm',
      body: { phone: RICH, pin: 1234 },
      status: 400,
      fragment: 'pin:',
    },
    { label: 'confirm: JSON array', path: '/simulator/api/wallet/confirm', body: [RICH, '1234'], status: 400, fragment: 'Bad request' },
    {
      label: 'confirm: broken JSON',
      path: '/simulator/api/wallet/confirm',
      body: '{"phone": "+22376000001", "pin": ',
      status: 400,
      fragment: 'not valid JSON',
    },
    {
      label: 'confirm: form body',
      path: '/simulator/api/wallet/confirm',
      body: 'phone=%2B22376000001&pin=1234',
      contentType: 'application/x-www-form-urlencoded',
      status: 415,
      fragment: 'application/json',
    },
    {
      label: 'confirm: too large',
      path: '/simulator/api/wallet/confirm',
      body: { phone: RICH, pin: '1234', pad: 'x'.repeat(10_000) },
      status: 413,
      fragment: 'larger than 8kb',
    },
    { label: 'refuse: no phone', path: '/simulator/api/wallet/refuse', body: {}, status: 400, fragment: 'phone:' },
    {
      label: 'refuse: phone with spaces',
      path: '/simulator/api/wallet/refuse',
      body: { phone: '+223 76 00 00 01' },
      status: 400,
      fragment: 'phone: must be an E.164 number',
    },
    { label: 'refuse: broken JSON', path: '/simulator/api/wallet/refuse', body: 'nope', status: 400, fragment: 'not valid JSON' },
  ];

  it.each(badBodies)('$label → $status', async ({ path, body, contentType, status, fragment }) => {
    const txnId = await pendingTxn(RICH);
    const res = await postJson(path, body, contentType);
    expect(res.status).toBe(status);
    expect(res.text).toContain(fragment);
    // Nothing changed: the prompt still waits, no PIN failure counted, no money moved.
    expect(sim.wallet(RICH)).toMatchObject({ balance: 50_000, pinFailures: 0, pending: { txnId } });
  });

  it.each([
    { label: 'no phone', query: '', fragment: 'phone:' },
    { label: 'a + decoded as a space', query: '?phone=+22376000001', fragment: 'phone: must be an E.164 number' },
    { label: 'not a number', query: '?phone=abc', fragment: 'phone: must be an E.164 number' },
  ])('GET wallet with $label → 400', async ({ query, fragment }) => {
    const res = await getWallet(query);
    expect(res.status).toBe(400);
    expect(res.text).toContain(fragment);
  });
});
