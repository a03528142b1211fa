/**
 * Payments in review in the console: a success the operator reported with another amount is shown
 * with both sides, a manager credits the operator's amount (or refuses), the decision is audited,
 * and an officer cannot decide.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Payment } from '../../src/payments/payments.ts';
import { callbackFor, HOUSEHOLD, ledger, MOUSSA, postCallback } from '../payments/support.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { loggedIn } from './support.ts';

describe('payments to check', () => {
  let app: TestApp;
  let payment: Payment;
  beforeEach(async () => {
    app = await startTestApp({ env: { SIMULATOR_DELIVERY_DELAY_MS: '600000' } });
    const out = await app.services.payments.start({
      householdId: HOUSEHOLD[MOUSSA],
      payerMsisdn: MOUSSA,
      amount: 1000,
      requestKey: 'quote:review.2',
    });
    if (out.status !== 'pending') throw new Error(out.status);
    payment = out.payment;
    expect((await postCallback(app, callbackFor(payment, { amount: 800, fee: 50 }))).status).toBe(200);
  });
  afterEach(() => app.close());

  it('shows both sides in the support view and the review page; a manager credits the operator amount, audited', async () => {
    const manager = await loggedIn(app, 'chef@utm.ml', 'manager');
    const support = await manager.get(`/admin/households/${HOUSEHOLD[MOUSSA]}`);
    expect(support.body).toContain('à vérifier');
    expect(support.body).toMatch(/Opérateur: 800\sFCFA \(frais 50\sFCFA\) depuis \+22376000001/);

    const list = await manager.get('/admin/reviews');
    expect(list.status).toBe(200);
    expect(list.body).toContain(payment.reference);
    expect(list.body).toMatch(/1\s000\sFCFA/);

    const before = ledger(app, HOUSEHOLD[MOUSSA]).length;
    const res = await manager.post(`/admin/reviews/${payment.id}/credit`, {}, { csrf: true });
    expect(res.location).toBe('/admin/reviews?done=credit');
    const rows = ledger(app, HOUSEHOLD[MOUSSA]);
    expect(rows.slice(before)).toEqual([expect.objectContaining({ amount: 800, fee: 50, operatorTxnId: payment.operatorTxnId })]);
    const [audit] = app.services.office.audit.list({ action: 'payment.review.credit' });
    expect(audit).toMatchObject({ actor: 'chef@utm.ml', entity: 'payment', entityId: String(payment.id) });
    expect(JSON.parse(audit?.before ?? '{}')).toMatchObject({ status: 'review', amount: 1000, operatorAmount: 800 });

    // Deciding twice changes nothing more.
    expect((await manager.post(`/admin/reviews/${payment.id}/refuse`, {})).location).toBe('/admin/reviews?done=gone');
    expect(ledger(app, HOUSEHOLD[MOUSSA])).toHaveLength(rows.length);
    expect((await manager.get('/admin/reviews?done=<script>')).body).not.toContain('<script>');
  });

  it('a refusal credits nothing; an officer may not decide', async () => {
    const officer = await loggedIn(app, 'agent@utm.ml', 'officer');
    const before = ledger(app, HOUSEHOLD[MOUSSA]).length;
    expect((await officer.post(`/admin/reviews/${payment.id}/credit`, {})).status).toBe(403);
    expect((await officer.get('/admin/reviews')).status).toBe(403);
    const manager = await loggedIn(app, 'chef@utm.ml', 'manager');
    expect((await manager.post(`/admin/reviews/${payment.id}/refuse`, {})).location).toBe('/admin/reviews?done=refuse');
    expect(ledger(app, HOUSEHOLD[MOUSSA])).toHaveLength(before);
    expect(app.services.payments.inReview()).toEqual([]);
    expect(app.services.office.audit.list({ action: 'payment.review.refuse' })).toHaveLength(1);
  });
});
