/**
 * Money exactly once, whatever the crash (issue 13) and only on a verified success (issue 14):
 * each test puts the app in the state a crash or a forger would leave it in, over real HTTP with
 * the real simulated operator, then checks what the member and the ledger see.
 *
 * - A crash between the payment's commit and the operator request is played by a second payments
 *   service on the same database whose operator cannot be reached (the payment is recorded, never sent).
 * - A crash before the session row's group commit is played by writing back the session row as it was
 *   at the quote (what a restart finds on disk).
 * The real `kill -9` sweep is in test/crash/.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromPromise } from 'xstate';
import { flows } from '../../flows/index.ts';
import type { CoverageView } from '../../src/domain/coverage.ts';
import { createPayments, type Payment, referenceFor } from '../../src/payments/payments.ts';
import { createUssdEngine } from '../../src/ussd/engine.ts';
import { machineVersion } from '../../src/ussd/providers.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import {
  BAKARY,
  callbackFor,
  confirmPin,
  HOUSEHOLD,
  ledger,
  MOUSSA,
  PENDING_1250,
  paymentsOf,
  postCallback,
  QUOTE_1250,
  STARTED_FR,
  settle,
  ussd,
  wallet,
} from './support.ts';

// GSM-7 has no lower-case ç: the handset shows c.
const ALREADY_PAID = 'END Ce paiement est déjà recu. Le recu vous est envoyé par SMS.';
const EXPIRED_1250 = "Paiement de\n1 250 FCFA non confirmé à temps. Rien n'a été débité. Composez *384*123# pour réessayer.";

let app: TestApp;
beforeEach(async () => {
  app = await startTestApp({
    env: { SIMULATOR_DELIVERY_DELAY_MS: '600000', PAYMENT_EXPIRY_SECONDS: '120', PAYMENT_STATUS_AFTER_SECONDS: '60' },
  });
});
afterEach(() => app.close());

const transactions = (phone: string) =>
  app.services.db
    .prepare('SELECT txn_id AS txnId, status, debit, merchant_reference AS reference FROM sim_transactions WHERE msisdn = ?')
    .all(phone) as Array<{
    txnId: string;
    status: string;
    debit: number;
    reference: string;
  }>;

/** Moussa walks to the quote for 1 250 FCFA (session `id`, quote asked at hop 2). */
async function toQuote(id: string) {
  const s = ussd(app, MOUSSA, id);
  await s.send();
  await s.send('2');
  expect(await s.send('1')).toBe(QUOTE_1250);
  return s;
}

/** The same database seen by a payments service whose operator is unreachable: it records, then dies before asking. */
function crashingPayments() {
  const s = app.services;
  return createPayments({
    db: s.db,
    households: s.households,
    outbox: s.outbox,
    clock: s.clock,
    logger: s.logger,
    catalogs: s.catalogs,
    feeGrids: s.feeGrids,
    feeBearer: 'member',
    serviceCode: '*384*123#',
    expiryMs: 120_000,
    statusAfterMs: 60_000,
    callbackUrl: () => `${app.url}/payments/orange-money/callback`,
    provider: {
      name: 'unreachable',
      requestPayment: () => Promise.reject(new Error('killed before the request left')),
      cancelPayment: () => Promise.reject(new Error('unreachable')),
      paymentStatus: () => Promise.reject(new Error('unreachable')),
    },
  });
}

describe('a quote confirmed once pays once', () => {
  it('a redial that resumes a quote whose confirm was lost with the session row shows the pending payment, not the quote; one debit', async () => {
    const s = await toQuote('lost-1');
    const atQuote = app.services.sessions.get('lost-1');
    expect(await s.send('1')).toBe(STARTED_FR);
    // The crash: the payment and the operator request are on disk, the session row is still at the quote.
    if (!atQuote) throw new Error('no session row');
    await app.services.sessions.save(atQuote);
    app.services.engine.forget('lost-1');

    const again = ussd(app, MOUSSA, 'lost-2');
    // The main menu, with the cut payment offered after its usual choices.
    expect(await again.send()).toMatch(/\n6 Langue \/ Kan\n7 Continuer à\npayer 1 250 FCFA$/);
    expect(await again.send('7')).toBe(PENDING_1250);
    expect(paymentsOf(app, MOUSSA)).toHaveLength(1);
    expect(transactions(MOUSSA)).toHaveLength(1);

    expect((await confirmPin(app, MOUSSA, '1234')).status).toBe(200);
    const sms = await settle(app, MOUSSA);
    expect(sms.filter((t) => /recu 1 250 FCFA/i.test(t))).toHaveLength(1);
    expect((await wallet(app, MOUSSA)).balance).toBe(50_000 - 1_350);
    expect(ledger(app, HOUSEHOLD[MOUSSA]).filter((r) => r.amount === 1250)).toHaveLength(1);
  });

  it('a gateway retry of the confirm hop, after the session row was lost, asks nothing twice', async () => {
    const s = await toQuote('retry-1');
    const atQuote = app.services.sessions.get('retry-1');
    expect(await s.send('1')).toBe(STARTED_FR);
    if (!atQuote) throw new Error('no session row');
    await app.services.sessions.save(atQuote);
    app.services.engine.forget('retry-1');

    expect((await app.hop('retry-1', MOUSSA, '2*1*1')).body).toBe(STARTED_FR);
    expect(paymentsOf(app, MOUSSA)).toHaveLength(1);
    expect(transactions(MOUSSA)).toHaveLength(1);
  });

  it('resuming into a quote already paid says so and asks nothing', async () => {
    const s = await toQuote('paid-1');
    const atQuote = app.services.sessions.get('paid-1');
    expect(await s.send('1')).toBe(STARTED_FR);
    expect((await confirmPin(app, MOUSSA, '1234')).status).toBe(200);
    await settle(app, MOUSSA);
    if (!atQuote) throw new Error('no session row');
    await app.services.sessions.save(atQuote);
    app.services.engine.forget('paid-1');

    const again = ussd(app, MOUSSA, 'paid-2');
    await again.send();
    expect(await again.send('7')).toBe(ALREADY_PAID);
    expect(transactions(MOUSSA).filter((t) => t.status === 'succeeded')).toHaveLength(1);
    expect((await wallet(app, MOUSSA)).pending).toBeNull();
  });
});

describe('a payment recorded but never sent to the operator (killed in between)', () => {
  it('is sent by the recovery sweep, and the member can approve it', async () => {
    const out = await crashingPayments().start({
      householdId: HOUSEHOLD[MOUSSA],
      payerMsisdn: MOUSSA,
      amount: 1250,
      requestKey: 'quote:crash-a.2',
    });
    expect(out.status).toBe('uncertain');
    expect(paymentsOf(app, MOUSSA)[0]?.status).toBe('initiated');
    expect((await wallet(app, MOUSSA)).pending).toBeNull();

    const r = await app.services.payments.recover();
    expect(r.resent).toBe(1);
    const [p] = paymentsOf(app, MOUSSA);
    expect(p?.status).toBe('pending');
    expect((await wallet(app, MOUSSA)).pending?.merchantReference).toBe(p?.reference);
    await confirmPin(app, MOUSSA, '1234');
    await settle(app, MOUSSA);
    expect(paymentsOf(app, MOUSSA)[0]?.status).toBe('succeeded');
  });

  it('is sent by the retried confirm hop instead of answering "started" without asking', async () => {
    const s = await toQuote('crash-b');
    // The confirm hop (hop 3) of quote crash-b.2 recorded the payment and died.
    await crashingPayments().start({ householdId: HOUSEHOLD[MOUSSA], payerMsisdn: MOUSSA, amount: 1250, requestKey: 'quote:crash-b.2' });
    expect(await s.send('1')).toBe(STARTED_FR);
    const [p] = paymentsOf(app, MOUSSA);
    expect(paymentsOf(app, MOUSSA)).toHaveLength(1);
    expect(p?.status).toBe('pending');
    expect((await wallet(app, MOUSSA)).pending?.merchantReference).toBe(p?.reference);
  });

  it('past half its time, is not sent any more: failed with one notice once the operator says it never heard of it', async () => {
    await crashingPayments().start({ householdId: HOUSEHOLD[MOUSSA], payerMsisdn: MOUSSA, amount: 1250, requestKey: 'quote:crash-h.2' });
    app.clock.advance(61_000);
    const r = await app.services.payments.recover();
    expect(r).toMatchObject({ resent: 0, asked: 1, settled: 1 });
    expect((await wallet(app, MOUSSA)).pending).toBeNull();
    expect(paymentsOf(app, MOUSSA)[0]).toMatchObject({ status: 'expired', failureReason: 'UNKNOWN_AT_OPERATOR' });
  });

  it('a prompt resent late and still open past expiry + margin is withdrawn: the payment expires with one notice, nothing is debited', async () => {
    await crashingPayments().start({ householdId: HOUSEHOLD[MOUSSA], payerMsisdn: MOUSSA, amount: 1250, requestKey: 'quote:crash-l.2' });
    app.clock.advance(50_000);
    expect((await app.services.payments.recover()).resent).toBe(1);
    expect((await wallet(app, MOUSSA)).pending).not.toBeNull();
    // The operator's prompt runs 120 s from the resend; ours ends at 120 + 60 s from the confirm.
    app.clock.advance(131_000);
    expect((await app.services.payments.recover()).settled).toBe(1);
    expect(paymentsOf(app, MOUSSA)[0]).toMatchObject({ status: 'expired' });
    expect(await wallet(app, MOUSSA)).toMatchObject({ pending: null, balance: 50_000 });
    expect((await settle(app, MOUSSA)).filter((t) => t === EXPIRED_1250)).toHaveLength(1);
  });

  it('past its expiry, is failed with one notice, and no longer blocks the wallet', async () => {
    await crashingPayments().start({ householdId: HOUSEHOLD[MOUSSA], payerMsisdn: MOUSSA, amount: 1250, requestKey: 'quote:crash-c.2' });
    app.clock.advance(121_000);
    await app.services.payments.recover();
    await app.services.payments.recover();
    expect(paymentsOf(app, MOUSSA)[0]).toMatchObject({ status: 'expired', failureReason: 'UNKNOWN_AT_OPERATOR' });
    expect((await settle(app, MOUSSA)).filter((t) => t === EXPIRED_1250)).toHaveLength(1);
    const s = await toQuote('crash-c2');
    expect(await s.send('1')).toBe(STARTED_FR);
  });
});

describe('a lost success callback', () => {
  it('is recovered by asking the operator once the payment is past its expiry plus the margin; the late callback changes nothing', async () => {
    const real = app.url;
    app.services.setPublicUrl('http://127.0.0.1:9');
    const s = await toQuote('lost-cb');
    expect(await s.send('1')).toBe(STARTED_FR);
    app.services.setPublicUrl(real);
    expect((await confirmPin(app, MOUSSA, '1234')).status).toBe(200);
    await new Promise((r) => setImmediate(r));
    expect(paymentsOf(app, MOUSSA)[0]?.status).toBe('pending');

    app.clock.advance(120_000);
    expect((await app.services.payments.recover()).asked).toBe(0);
    app.clock.advance(61_000);
    expect((await app.services.payments.recover()).settled).toBe(1);
    const [p] = paymentsOf(app, MOUSSA) as [Payment];
    expect(p.status).toBe('succeeded');
    expect(ledger(app, HOUSEHOLD[MOUSSA]).filter((r) => r.operatorTxnId === p.operatorTxnId)).toHaveLength(1);

    const late = await postCallback(app, callbackFor(p, { timestamp: app.clock.now().toISOString() }));
    expect(late.status).toBe(200);
    expect(ledger(app, HOUSEHOLD[MOUSSA]).filter((r) => r.operatorTxnId === p.operatorTxnId)).toHaveLength(1);
  });
});

describe('a success callback is credited only when verified', () => {
  async function pendingPayment(): Promise<Payment> {
    const out = await app.services.payments.start({
      householdId: HOUSEHOLD[MOUSSA],
      payerMsisdn: MOUSSA,
      amount: 1000,
      requestKey: 'quote:verify.2',
    });
    if (out.status !== 'pending') throw new Error(out.status);
    return out.payment;
  }
  const rows = () => ledger(app, HOUSEHOLD[MOUSSA]).length;

  it('reporting 1 FCFA for a 1 000 FCFA payment: nothing credited, the payment waits for review with both sides', async () => {
    const p = await pendingPayment();
    const before = rows();
    const res = await postCallback(app, callbackFor(p, { amount: 1 }));
    expect(res.status).toBe(200);
    expect(rows()).toBe(before);
    expect(app.services.payments.inReview()).toEqual([
      expect.objectContaining({ id: p.id, amount: 1000, operatorAmount: 1, operatorMsisdn: MOUSSA }),
    ]);
    // A retry of the same callback is the same review, not a credit.
    expect((await postCallback(app, callbackFor(p, { amount: 1 }))).status).toBe(200);
    expect(rows()).toBe(before);
  });

  it('from another phone: nothing credited, in review', async () => {
    const p = await pendingPayment();
    const before = rows();
    expect((await postCallback(app, callbackFor(p, { msisdn: '+22376999999' }))).status).toBe(200);
    expect(rows()).toBe(before);
    expect(app.services.payments.inReview()[0]).toMatchObject({ id: p.id, operatorMsisdn: '+22376999999' });
  });

  it("a manager credits the operator's amount (with a receipt), or refuses (nothing credited)", async () => {
    const p = await pendingPayment();
    await postCallback(app, callbackFor(p, { amount: 900, fee: 50 }));
    const before = rows();
    const credited = app.services.payments.resolveReview(p.id, 'credit', 'manager@utm.ml');
    expect(credited).toMatchObject({ status: 'succeeded', reviewedBy: 'manager@utm.ml' });
    expect(ledger(app, HOUSEHOLD[MOUSSA]).slice(before)).toEqual([
      expect.objectContaining({ amount: 900, fee: 50, operatorTxnId: p.operatorTxnId }),
    ]);
    expect((await settle(app, MOUSSA)).some((t) => t.includes('recu 900 FCFA'))).toBe(true);
    expect(app.services.payments.resolveReview(p.id, 'credit', 'manager@utm.ml')).toBeUndefined();
    expect(rows()).toBe(before + 1);
  });

  it('a refused review credits nothing', async () => {
    const p = await pendingPayment();
    await postCallback(app, callbackFor(p, { amount: 900 }));
    const before = rows();
    expect(app.services.payments.resolveReview(p.id, 'refuse', 'manager@utm.ml')).toMatchObject({
      status: 'failed',
      failureReason: 'REFUSED_AFTER_REVIEW',
    });
    expect(rows()).toBe(before);
  });

  it('a callback signed 16 minutes ago, or 5 minutes ahead, is refused and changes nothing', async () => {
    const p = await pendingPayment();
    const before = rows();
    const stale = new Date(app.clock.now().getTime() - 16 * 60_000).toISOString();
    const future = new Date(app.clock.now().getTime() + 5 * 60_000).toISOString();
    for (const timestamp of [stale, future]) {
      const res = await postCallback(app, callbackFor(p, { timestamp }));
      expect(res.status).toBe(401);
      expect(res.body).toContain('timestamp');
    }
    expect(rows()).toBe(before);
    expect(paymentsOf(app, MOUSSA)[0]?.status).toBe('pending');
  });
});

describe('references and failure screens', () => {
  it('references come from the row id: unique, whatever the day brings', async () => {
    expect(referenceFor(1, '2026-03-10')).toBe('KS260310000001');
    expect(referenceFor(1234567, '2026-03-10')).toBe('KS2603101234567');
    const a = await app.services.payments.start({
      householdId: HOUSEHOLD[MOUSSA],
      payerMsisdn: MOUSSA,
      amount: 1000,
      requestKey: 'quote:ref.1',
    });
    const b = await app.services.payments.start({
      householdId: HOUSEHOLD[BAKARY],
      payerMsisdn: BAKARY,
      amount: 1000,
      requestKey: 'quote:ref.2',
    });
    if (a.status !== 'pending' || b.status !== 'pending') throw new Error('not started');
    expect(a.payment.reference).toBe(referenceFor(a.payment.id, '2026-03-10'));
    expect(b.payment.reference).toBe(referenceFor(b.payment.id, '2026-03-10'));
    expect(a.payment.reference).not.toBe(b.payment.reference);
  });

  it("a flow that fails shows the failure screen in the member's language, with the code to redial", async () => {
    const s = app.services;
    const broken = fromPromise<CoverageView, { householdId: number }>(() => Promise.reject(new Error('disk full')));
    const engine = createUssdEngine({
      flows: {
        ...s.flows,
        coverage: { machine: flows.coverage.provide({ actors: { lookupCoverage: broken } }), version: machineVersion(flows.coverage) },
      },
      sessions: s.sessions,
      watch: s.watch,
      catalogs: s.catalogs,
      clock: s.clock,
      logger: s.logger,
      identify: () => ({ home: 'main', householdId: 3, lang: 'bm' }),
      serviceCode: '*384*123#',
      budgetMs: 500,
      resumeMs: 0,
      foldMode: 'gsm7',
    });
    await engine.handle({ sessionId: 'fail-bm', serviceCode: '*384*123#', phoneNumber: BAKARY, text: '' });
    const failed = await engine.handle({ sessionId: 'fail-bm', serviceCode: '*384*123#', phoneNumber: BAKARY, text: '1' });
    expect(failed.body).toBe('END Baara tè se ka kè sisan. *384*123# wele tugun kòfè.');
    expect(s.engine.failureReply(BAKARY).body).toBe(failed.body);
    expect(s.engine.failureReply(MOUSSA).body).toBe('END Service indisponible pour le moment. Recomposez *384*123# plus tard.');
  });
});
