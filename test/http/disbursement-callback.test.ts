/**
 * The disbursement callback (POST /payments/orange-money/disbursement-callback): signed and checked
 * like the payment callback. Bad signatures are 401, bad bodies 400, a stale timestamp 401, an
 * unknown reference 404, never a 5xx; a refused callback changes nothing; a duplicate or an earlier
 * attempt's outcome is acknowledged (200) and changes nothing.
 *
 * The batch is real (prepared and approved through app.services.batches); the simulated operator's
 * own deliveries are off, so every callback here is one the test crafted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Batch } from '../../src/claims/batches.ts';
import type { DisbursementCallback } from '../../src/payments/port.ts';
import { DISBURSEMENT_CALLBACK_PATH } from '../../src/payments/port.ts';
import { SIGNATURE_HEADER, sign } from '../../src/payments/signature.ts';
import { approvedClaims, facilityId, KLELA_AGENT, KLELA_WALLET, staff } from '../claims/support.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

let app: TestApp;
let batch: Batch;
let txnId: string;

beforeAll(async () => {
  app = await startTestApp({ env: { SIMULATOR_DELIVERY_DELAY_MS: '600000' } });
  app.services.orange.close();
  const officer = await staff(app, 'agent@utm.ml', 'officer');
  const manager = await staff(app, 'chef@utm.ml', 'manager');
  const claims = approvedClaims(app, 'CSCOM-KLE', [1500, 3000], manager);
  const b = app.services.batches.prepare(
    facilityId(app, 'CSCOM-KLE'),
    claims.map((c) => c.id),
    officer,
  );
  batch = await app.services.batches.approve(b.id, manager);
  txnId = batch.operatorTxnId as string;
});
afterAll(() => app.close());

const good = (over: Partial<DisbursementCallback> = {}): DisbursementCallback => ({
  txnId,
  reference: `${batch.reference}-1`,
  status: 'SUCCESS',
  amount: 4500,
  msisdn: KLELA_WALLET,
  timestamp: app.clock.now().toISOString(),
  ...over,
});

async function post(body: string | DisbursementCallback, signature: 'sign' | null | string = 'sign') {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (signature === 'sign') headers[SIGNATURE_HEADER] = sign(raw, app.services.paymentSecret);
  else if (signature !== null) headers[SIGNATURE_HEADER] = signature;
  const res = await fetch(app.url + DISBURSEMENT_CALLBACK_PATH, { method: 'POST', headers, body: raw });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

const tables = () =>
  JSON.stringify(
    ['payment_batches', 'disbursement_ledger', 'sms_outbox', 'sim_wallets', 'sim_float'].map((t) =>
      app.services.db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all(),
    ),
  );

describe('the disbursement callback route', () => {
  it.each([
    ['no signature', () => post(good(), null), 401, 'x-signature'],
    ['a signature of another body', () => post(good(), sign('{}', app.services.paymentSecret)), 401, 'x-signature'],
    ['signed with another secret', () => post(good(), sign(JSON.stringify(good()), 'another secret of sixteen')), 401, 'x-signature'],
    ['not JSON', () => post('{"txnId":'), 400, 'not JSON'],
    ['an unknown status', () => post({ ...good(), status: 'EXPIRED' as never }), 400, 'status'],
    ['a negative amount', () => post(good({ amount: -4500 })), 400, 'amount'],
    ['a phone that is not E.164', () => post(good({ msisdn: '79000001' })), 400, 'msisdn'],
    ['a stale timestamp', () => post(good({ timestamp: '2026-03-09T09:00:00.000Z' })), 401, 'timestamp'],
    ['an unknown reference', () => post(good({ reference: 'PB260310999999-1' })), 404, 'Unknown disbursement reference'],
    ['a reference without an attempt', () => post(good({ reference: batch.reference })), 404, 'Unknown'],
    ['another transaction id', () => post(good({ txnId: 'CI999999.0000.ABCDEF' })), 404, 'Unknown'],
  ])('%s: refused, nothing changes', async (_label, send, status, says) => {
    const before = tables();
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.type).toMatch(/^text\/plain/);
    expect(res.body).toContain(says);
    expect(tables()).toBe(before);
  });

  it('the signed success settles the batch once; duplicates, concurrent copies and an earlier failure change nothing', async () => {
    expect(app.services.batches.get(batch.id).status).toBe('sending');
    const answers = await Promise.all([post(good()), post(good()), post(good())]);
    expect(answers.map((a) => [a.status, a.body])).toEqual([
      [200, 'OK'],
      [200, 'OK'],
      [200, 'OK'],
    ]);
    const after = tables();
    expect(app.services.batches.get(batch.id)).toMatchObject({ status: 'paid', operatorTxnId: txnId });
    expect(app.services.batches.ledgerBetween(null, null).filter((r) => r.batchId === batch.id)).toHaveLength(1);
    expect(app.services.outbox.to(KLELA_AGENT)).toHaveLength(1);

    expect((await post(good({ status: 'FAILED', reason: 'INSUFFICIENT_FUNDS' }))).status).toBe(200);
    expect((await post(good({ reference: `${batch.reference}-7`, status: 'FAILED' }))).status).toBe(200);
    expect(tables()).toBe(after);
  });
});
