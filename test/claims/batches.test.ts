/**
 * Paying facilities (issue 20, item 5): a batch of a facility's approved claims, prepared by one
 * person and approved by another, paid by the simulated operator's disbursement from UTM's float,
 * over the real HTTP callback route: the facility's wallet credited once, the float debited once,
 * one ledger row, the agents told in their language; insufficient float stops the batch with its
 * reason and a retry after a top-up pays it once; a lost callback is recovered by the status query.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StaffRef } from '../../src/claims/batches.ts';
import { Refusal } from '../../src/domain/refusal.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import {
  approvedClaims,
  facilityId,
  KLELA_AGENT,
  KLELA_WALLET,
  ledgerRowsOf,
  MPESSOBA_AGENT,
  MPESSOBA_WALLET,
  smsTo,
  staff,
  walletBalance,
} from './support.ts';

let app: TestApp;
let officer: StaffRef;
let manager: StaffRef;
beforeEach(async () => {
  app = await startTestApp({ env: { SIMULATOR_DELIVERY_DELAY_MS: '600000' } });
  officer = await staff(app, 'agent@utm.ml', 'officer');
  manager = await staff(app, 'chef@utm.ml', 'manager');
});
afterEach(() => app.close());

const batches = () => app.services.batches;

describe('a batch of approved claims', () => {
  it('is prepared from the approved claims in no batch, approved by another person, paid once: wallet, float, ledger, agent SMS', async () => {
    const claims = approvedClaims(app, 'CSCOM-KLE', [1500, 7500, 3000], manager);
    const kle = facilityId(app, 'CSCOM-KLE');
    expect(batches().candidates(kle)).toMatchObject({ total: 12_000 });
    const float = app.services.orange.float();

    const b = batches().prepare(
      kle,
      claims.map((c) => c.id),
      officer,
    );
    expect(b).toMatchObject({ status: 'prepared', amount: 12_000, claimsCount: 3, msisdn: KLELA_WALLET, attempts: 0 });
    expect(b.reference).toMatch(/^PB260310\d{6}$/);
    expect(batches().candidates(kle).claims).toEqual([]);
    expect(
      batches()
        .claimsOf(b.id)
        .map((c) => c.id),
    ).toEqual(claims.map((c) => c.id));

    const sent = await batches().approve(b.id, manager);
    expect(sent).toMatchObject({ status: 'sending', attempts: 1, approvedBy: manager.staffId });
    await app.services.orange.flush();
    expect(batches().get(b.id)).toMatchObject({ status: 'paid', failureReason: null });
    expect(walletBalance(app, KLELA_WALLET)).toBe(12_000);
    expect(app.services.orange.float()).toBe(float - 12_000);
    expect(ledgerRowsOf(app, b.id)).toEqual([
      expect.objectContaining({ amount: 12_000, msisdn: KLELA_WALLET, reference: `${b.reference}-1`, facilityName: 'CSCom de Kléla' }),
    ]);
    const [sms] = smsTo(app, KLELA_AGENT);
    expect(sms).toBe(
      `Kénéya Sabatili: UTM a versé 12 000 FCFA à votre centre pour 3 soins approuvés. Lot ${b.reference}. Voyez votre compte Orange Money.`,
    );

    // The sweep, asked later, finds nothing to do; approving again is refused.
    app.clock.advance(3_600_000);
    expect(await batches().recover()).toEqual({ sent: 0, asked: 0, settled: 0 });
    await expect(batches().approve(b.id, manager)).rejects.toThrow(/n’attend plus d’approbation/);
    expect(walletBalance(app, KLELA_WALLET)).toBe(12_000);
  });

  it('the preparer can never approve (refused with a French message, and by the table)', async () => {
    const claims = approvedClaims(app, 'CSCOM-KLE', [1500], manager);
    const b = batches().prepare(
      facilityId(app, 'CSCOM-KLE'),
      claims.map((c) => c.id),
      manager,
    );
    const refused = await batches()
      .approve(b.id, manager)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Refusal);
    expect((refused as Refusal).message).toBe('Vous avez préparé ce lot : un autre responsable doit l’approuver.');
    expect(() => batches().store.approve(b.id, manager.staffId, app.clock.now().toISOString())).toThrow(/CHECK constraint/);
    expect(batches().get(b.id)?.status).toBe('prepared');
    expect(walletBalance(app, KLELA_WALLET)).toBe(0);
  });

  it('a claim is in one batch at a time: refused in a second, freed when its batch is cancelled', () => {
    const [c] = approvedClaims(app, 'CSCOM-KLE', [1500], manager);
    const kle = facilityId(app, 'CSCOM-KLE');
    const b = batches().prepare(kle, [c!.id], officer);
    expect(() => batches().prepare(kle, [c!.id], officer)).toThrow(/n’est plus à payer/);
    // Already in a batch: the owner moves nothing, and the trigger refuses a direct move.
    expect(app.services.claims.joinBatch(b.id, [c!.id])).toBe(0);
    expect(app.services.claims.get(c!.id)?.batchId).toBe(b.id);
    batches().cancel(b.id, officer);
    expect(app.services.claims.get(c!.id)?.batchId).toBeNull();
    expect(batches().prepare(kle, [c!.id], officer).amount).toBe(1500);
  });

  it('only approved claims of that facility can be put in a batch; none is refused', () => {
    const kle = facilityId(app, 'CSCOM-KLE');
    const [c] = approvedClaims(app, 'CSCOM-KLE', [1500], manager);
    const [other] = approvedClaims(app, 'CSCOM-MPE', [1500], manager);
    const pending = app.services.claims.record({ ...c!, requestKey: 'test:pending' }, app.clock.now());
    expect(pending.status).toBe('pending');
    expect(() => batches().prepare(kle, [], officer)).toThrow(/Aucune demande/);
    expect(() => batches().prepare(kle, [pending.id], officer)).toThrow(/n’est plus à payer/);
    expect(() => batches().prepare(kle, [other!.id], officer)).toThrow(/n’est plus à payer/);
    const b = batches().prepare(kle, [c!.id], officer);
    expect(() => app.services.claims.joinBatch(b.id, [pending.id])).toThrow(/joins a batch only when approved/);
  });
});

describe('insufficient float', () => {
  it('stops the batch with its reason; nothing moves; a retry after a top-up pays once', async () => {
    const claims = approvedClaims(app, 'CSCOM-MPE', [7500, 7500], manager);
    app.services.orange.changeFloat({ balance: 10_000 });
    const b = batches().prepare(
      facilityId(app, 'CSCOM-MPE'),
      claims.map((c) => c.id),
      officer,
    );
    await batches().approve(b.id, manager);
    await app.services.orange.flush();
    expect(batches().get(b.id)).toMatchObject({ status: 'failed', failureReason: 'INSUFFICIENT_FUNDS', attempts: 1 });
    expect(walletBalance(app, MPESSOBA_WALLET)).toBe(0);
    expect(app.services.orange.float()).toBe(10_000);
    expect(ledgerRowsOf(app, b.id)).toEqual([]);

    // The preparer may not send it again either; a second manager may, once the float is topped up.
    await expect(batches().retry(b.id, officer)).rejects.toThrow(/un autre responsable doit le relancer/);
    app.services.orange.changeFloat({ add: 100_000 });
    const again = await batches().retry(b.id, manager);
    expect(again).toMatchObject({ status: 'sending', attempts: 2, failureReason: null });
    await app.services.orange.flush();
    expect(batches().get(b.id)).toMatchObject({ status: 'paid' });
    expect(walletBalance(app, MPESSOBA_WALLET)).toBe(15_000);
    expect(app.services.orange.float()).toBe(110_000 - 15_000);
    expect(ledgerRowsOf(app, b.id)).toEqual([expect.objectContaining({ reference: `${b.reference}-2`, amount: 15_000 })]);
    expect(smsTo(app, MPESSOBA_AGENT)).toEqual([expect.stringContaining(`Lot ${b.reference}`)]);
    expect(smsTo(app, MPESSOBA_AGENT)[0]).toMatch(/^Kénéya Sabatili: UTM ye 15 000 FCFA sara/);
    await expect(batches().retry(b.id, manager)).rejects.toThrow(/Seul un lot en échec/);
  });
});

describe('lost callbacks and crashes', () => {
  it('a callback that never comes: the sweep asks the operator after statusAfterMs and settles once', async () => {
    const claims = approvedClaims(app, 'CSCOM-KLE', [3000], manager);
    const b = batches().prepare(
      facilityId(app, 'CSCOM-KLE'),
      claims.map((c) => c.id),
      officer,
    );
    // The operator's callbacks are lost (the simulator is closed before delivering any).
    app.services.orange.close();
    await batches().approve(b.id, manager);
    expect(batches().get(b.id)?.status).toBe('sending');
    expect(await batches().recover()).toEqual({ sent: 0, asked: 0, settled: 0 });
    app.clock.advance(61_000);
    expect(await batches().recover()).toEqual({ sent: 0, asked: 1, settled: 1 });
    expect(batches().get(b.id)?.status).toBe('paid');
    expect(await batches().recover()).toEqual({ sent: 0, asked: 0, settled: 0 });
    expect(walletBalance(app, KLELA_WALLET)).toBe(3000);
    expect(ledgerRowsOf(app, b.id)).toHaveLength(1);
  });

  it('a batch left sending before the operator heard of it is sent by the sweep with the same reference, once', async () => {
    const claims = approvedClaims(app, 'CSCOM-KLE', [3000], manager);
    const b = batches().prepare(
      facilityId(app, 'CSCOM-KLE'),
      claims.map((c) => c.id),
      officer,
    );
    // The crash: approved and marked sending on disk, the process died before the operator was called.
    batches().store.approve(b.id, manager.staffId, app.clock.now().toISOString());
    batches().store.startAttempt(b.id, app.clock.now().toISOString());
    app.clock.advance(61_000);
    expect(await batches().recover()).toMatchObject({ asked: 1 });
    await app.services.orange.flush();
    expect(batches().get(b.id)).toMatchObject({ status: 'paid', attempts: 1 });
    // Asked again and again (a lying sweep): the operator keys on the reference, nothing more moves.
    await app.services.orange.provider.disburse({
      reference: `${b.reference}-1`,
      msisdn: KLELA_WALLET,
      amount: 3000,
      callbackUrl: `${app.url}/payments/orange-money/disbursement-callback`,
    });
    await app.services.orange.flush();
    expect(walletBalance(app, KLELA_WALLET)).toBe(3000);
    expect(ledgerRowsOf(app, b.id)).toHaveLength(1);
  });

  it('an approved batch the crash left unsent is sent at the next sweep', async () => {
    const claims = approvedClaims(app, 'CSCOM-KLE', [1500], manager);
    const b = batches().prepare(
      facilityId(app, 'CSCOM-KLE'),
      claims.map((c) => c.id),
      officer,
    );
    batches().store.approve(b.id, manager.staffId, app.clock.now().toISOString());
    expect(await batches().recover()).toMatchObject({ sent: 1 });
    await app.services.orange.flush();
    expect(batches().get(b.id)?.status).toBe('paid');
    expect(walletBalance(app, KLELA_WALLET)).toBe(1500);
  });
});

describe('the simulator’s float API', () => {
  const float = async (body?: unknown) => {
    const res = await fetch(
      `${app.url}/simulator/api/float`,
      body === undefined
        ? {}
        : {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          },
    );
    return { status: res.status, text: await res.text() };
  };

  it('shows UTM’s float, sets it or tops it up; a bad body is a 400 naming the problem; the facility wallet is read as any wallet', async () => {
    expect(await float()).toEqual({ status: 200, text: JSON.stringify({ balance: 1_000_000 }) });
    expect(await float({ balance: 500 })).toEqual({ status: 200, text: JSON.stringify({ balance: 500 }) });
    expect(await float({ add: 1500 })).toEqual({ status: 200, text: JSON.stringify({ balance: 2000 }) });
    for (const bad of [{ add: -5 }, { balance: 1.5 }, { add: 1, balance: 1 }, {}]) expect((await float(bad)).status).toBe(400);
    expect(app.services.orange.float()).toBe(2000);
    const wallet = await fetch(`${app.url}/simulator/api/wallet?phone=${encodeURIComponent(KLELA_WALLET)}`);
    expect(await wallet.json()).toMatchObject({ phone: KLELA_WALLET, balance: 0, pending: null });
  });
});
