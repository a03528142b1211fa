/**
 * The disbursement property (issue 20): whatever the order and repetition of the operator's
 * callbacks and status answers, each claim is paid exactly once.
 *
 * For random batches of approved claims at the two demo facilities, a float that may or may not
 * cover them, and a random sequence of events (the operator's true callbacks of any attempt,
 * repeated 1–3 times, posted through the real signed route one by one or in concurrent bursts;
 * recovery sweeps whose status answers are the truth, "pending", "unknown" (a lie that makes the
 * sweep send the same attempt again) or a network error; retries of failed batches by a manager;
 * top-ups of the float), then an ending where the float is topped up and everything is left to
 * settle:
 *
 *   every batch is paid; each claim is in exactly one paid batch; each batch has exactly one
 *   ledger row, for its amount; the operator made exactly one successful transfer per batch; each
 *   facility's wallet grew by the sum of its batches and the float shrank by the sum of all (plus
 *   the top-ups); each agent got one SMS per batch.
 *
 * The operator is the real simulated one (its own tables, one transfer per reference); its own
 * callback deliveries are switched off so the test decides which arrive, when, and how often.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Batch, createBatches, type StaffRef } from '../../src/claims/batches.ts';
import { translate } from '../../src/i18n/catalog.ts';
import type { DisbursementCallback, DisbursementProvider, DisbursementStatus } from '../../src/payments/port.ts';
import { DISBURSEMENT_CALLBACK_PATH } from '../../src/payments/port.ts';
import { SIGNATURE_HEADER, sign } from '../../src/payments/signature.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { approvedClaims, facilityId, KLELA_AGENT, KLELA_WALLET, MPESSOBA_AGENT, MPESSOBA_WALLET, staff, walletBalance } from './support.ts';

type Answer = 'truth' | 'pending' | 'unknown' | 'error';
type Event =
  | { kind: 'callbacks'; batch: number; copies: number; burst: boolean }
  | { kind: 'sweep'; answers: Answer[] }
  | { kind: 'retry'; batch: number }
  | { kind: 'topUp'; amount: number };

interface Plan {
  batches: Array<{ facility: 'CSCOM-KLE' | 'CSCOM-MPE'; amounts: number[] }>;
  /** The float when the batches are approved, as a share of their total (below 1: some fail). */
  floatShare: number;
  events: Event[];
}

const plan: fc.Arbitrary<Plan> = fc
  .array(
    fc.record({
      facility: fc.constantFrom('CSCOM-KLE' as const, 'CSCOM-MPE' as const),
      amounts: fc.array(fc.integer({ min: 100, max: 20_000 }), { minLength: 1, maxLength: 3 }),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .chain((batches) =>
    fc.record({
      batches: fc.constant(batches),
      floatShare: fc.double({ min: 0, max: 1.5, noNaN: true }),
      events: fc.array(
        fc.oneof(
          fc.record({
            kind: fc.constant('callbacks' as const),
            batch: fc.nat(batches.length - 1),
            copies: fc.integer({ min: 1, max: 3 }),
            burst: fc.boolean(),
          }),
          fc.record({
            kind: fc.constant('sweep' as const),
            answers: fc.array(fc.constantFrom<Answer>('truth', 'pending', 'unknown', 'error'), { minLength: 1, maxLength: 4 }),
          }),
          fc.record({ kind: fc.constant('retry' as const), batch: fc.nat(batches.length - 1) }),
          fc.record({ kind: fc.constant('topUp' as const), amount: fc.integer({ min: 1, max: 40_000 }) }),
        ),
        { maxLength: 12 },
      ),
    }),
  );

let app: TestApp;
let officer: StaffRef;
let manager: StaffRef;
/** The status answers the next sweep gives, in order (then the truth). */
let answers: Answer[] = [];

beforeAll(async () => {
  app = await startTestApp({ env: { SIMULATOR_DELIVERY_DELAY_MS: '600000' } });
  officer = await staff(app, 'agent@utm.ml', 'officer');
  manager = await staff(app, 'chef@utm.ml', 'manager');
  // The operator's own callback deliveries are off: the test posts them.
  app.services.orange.close();
});
afterAll(() => app.close());

/** The operator as the sweep hears it: its status answers replaced by the planned ones. */
function scriptedOperator(): DisbursementProvider {
  const real = app.services.orange.provider;
  return {
    disburse: (req) => real.disburse(req),
    async disbursementStatus(reference): Promise<DisbursementStatus> {
      const answer = answers.shift() ?? 'truth';
      if (answer === 'error') throw new Error('operator unreachable');
      const truth = await real.disbursementStatus(reference);
      if (answer === 'unknown') return { status: 'unknown' };
      if (answer === 'pending' && truth.status !== 'unknown') return { status: 'pending', txnId: truth.txnId };
      return truth;
    },
  };
}

const transfers = (reference: string) =>
  app.services.db
    .prepare("SELECT txn_id AS txnId, reference, status, reason, amount, msisdn FROM sim_disbursements WHERE reference LIKE ? || '-%'")
    .all(reference) as Array<{
    txnId: string;
    reference: string;
    status: 'succeeded' | 'failed';
    reason: string | null;
    amount: number;
    msisdn: string;
  }>;

async function postCallback(cb: DisbursementCallback): Promise<number> {
  const raw = JSON.stringify(cb);
  const res = await fetch(app.url + DISBURSEMENT_CALLBACK_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: sign(raw, app.services.paymentSecret) },
    body: raw,
  });
  await res.text();
  return res.status;
}

/** Every transfer the operator made for the batch, as its callback, `copies` times each. */
async function deliver(b: Batch, copies: number, burst: boolean): Promise<void> {
  const cbs = transfers(b.reference).flatMap((t) =>
    Array.from(
      { length: copies },
      (): DisbursementCallback => ({
        txnId: t.txnId,
        reference: t.reference,
        status: t.status === 'succeeded' ? 'SUCCESS' : 'FAILED',
        reason: t.reason ?? undefined,
        amount: t.amount,
        msisdn: t.msisdn,
        timestamp: app.clock.now().toISOString(),
      }),
    ),
  );
  const statuses = burst
    ? await Promise.all(cbs.map(postCallback))
    : await cbs.reduce<Promise<number[]>>(async (acc, cb) => [...(await acc), await postCallback(cb)], Promise.resolve([]));
  expect(statuses, JSON.stringify(cbs)).toEqual(cbs.map(() => 200));
}

async function play(p: Plan): Promise<void> {
  const s = app.services;
  const batches = createBatches({
    db: s.db,
    claims: s.claims,
    facilities: s.facilities,
    outbox: s.outbox,
    clock: s.clock,
    logger: s.logger,
    provider: scriptedOperator(),
    message: (lang, key, params) => translate(s.catalogs, lang, key, params),
    callbackUrl: () => app.url + DISBURSEMENT_CALLBACK_PATH,
    statusAfterMs: 60_000,
  });
  const wallets = { [KLELA_WALLET]: walletBalance(app, KLELA_WALLET), [MPESSOBA_WALLET]: walletBalance(app, MPESSOBA_WALLET) };
  const agentSms = { [KLELA_AGENT]: s.outbox.to(KLELA_AGENT).length, [MPESSOBA_AGENT]: s.outbox.to(MPESSOBA_AGENT).length };

  const prepared = p.batches.map((pb) => {
    const claims = approvedClaims(app, pb.facility, pb.amounts, manager);
    return batches.prepare(
      facilityId(app, pb.facility),
      claims.map((c) => c.id),
      officer,
    );
  });
  const total = prepared.reduce((n, b) => n + b.amount, 0);
  s.orange.changeFloat({ balance: Math.floor(total * p.floatShare) });
  let float = s.orange.float();
  for (const b of prepared) await batches.approve(b.id, manager);

  const retry = async (b: Batch) => {
    if (batches.get(b.id).status !== 'failed') return;
    await batches.retry(b.id, manager).catch((err: unknown) => {
      // Only "still pending at the operator" may refuse a retry of a failed batch.
      if (!/traite encore/.test(String(err))) throw err;
    });
  };
  for (const e of p.events) {
    app.clock.advance(30_000);
    if (e.kind === 'callbacks') await deliver(prepared[e.batch] as Batch, e.copies, e.burst);
    else if (e.kind === 'retry') await retry(prepared[e.batch] as Batch);
    else if (e.kind === 'topUp') {
      s.orange.changeFloat({ add: e.amount });
      float += e.amount;
    } else {
      answers = [...e.answers];
      await batches.recover();
      answers = [];
    }
  }

  // The ending: enough float, then callbacks, retries and truthful sweeps until nothing is left.
  s.orange.changeFloat({ add: total });
  float += total;
  for (let round = 0; round < 4; round++) {
    app.clock.advance(61_000);
    for (const b of prepared) await deliver(b, 1, false);
    for (const b of prepared) await retry(b);
    await batches.recover();
  }

  // The property.
  const paid = prepared.map((b) => batches.get(b.id));
  expect(paid.map((b) => b.status)).toEqual(prepared.map(() => 'paid'));
  const claimIds = paid.flatMap((b) => batches.claimsOf(b.id).map((c) => c.id));
  expect(new Set(claimIds).size).toBe(claimIds.length);
  expect(claimIds).toHaveLength(p.batches.reduce((n, pb) => n + pb.amounts.length, 0));
  for (const b of paid) {
    expect(batches.claimsOf(b.id).reduce((n, c) => n + c.amount, 0)).toBe(b.amount);
    const rows = batches.ledgerBetween(null, null).filter((r) => r.batchId === b.id);
    expect(rows.map((r) => r.amount)).toEqual([b.amount]);
    const ok = transfers(b.reference).filter((t) => t.status === 'succeeded');
    expect(ok.map((t) => t.amount)).toEqual([b.amount]);
    expect(rows[0]?.transactionId).toBe(ok[0]?.txnId);
  }
  const to = (wallet: string) => paid.filter((b) => b.msisdn === wallet);
  const sum = (bs: Batch[]) => bs.reduce((n, b) => n + b.amount, 0);
  expect(walletBalance(app, KLELA_WALLET) - wallets[KLELA_WALLET]).toBe(sum(to(KLELA_WALLET)));
  expect(walletBalance(app, MPESSOBA_WALLET) - wallets[MPESSOBA_WALLET]).toBe(sum(to(MPESSOBA_WALLET)));
  expect(float - s.orange.float()).toBe(total);
  expect(s.outbox.to(KLELA_AGENT).length - agentSms[KLELA_AGENT]).toBe(to(KLELA_WALLET).length);
  expect(s.outbox.to(MPESSOBA_AGENT).length - agentSms[MPESSOBA_AGENT]).toBe(to(MPESSOBA_WALLET).length);
}

describe('disbursements, whatever the callbacks and status answers', () => {
  it('each claim is paid exactly once: one transfer, one ledger row and one agent SMS per batch', async () => {
    await fc.assert(fc.asyncProperty(plan, play), { numRuns: 30 });
  }, 120_000);
});
