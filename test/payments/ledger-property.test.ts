/**
 * The ledger, whatever the operator's callbacks do: for a random set of payments and a random
 * sequence of their callbacks (SUCCESS, FAILED for a reason, EXPIRED; each repeated 1–3 times,
 * shuffled together, posted one after another or in concurrent bursts through the real HTTP route),
 *
 *   a payment is credited iff at least one SUCCESS callback arrived for it, and then exactly once:
 *   for each household, the ledger grows by the sum of the amounts of those payments, with one row
 *   per such payment (keyed by its operator txn id), and one receipt SMS per such payment.
 *
 * A payment with no callback stays pending; one with only failures ends failed or expired with one
 * failure SMS. When posted one by one, the order decides the rest exactly: the first decisive
 * callback sets the status unless a SUCCESS comes later, and a failure SMS exists iff a failure
 * arrived before the first SUCCESS.
 *
 * The payments are real (`app.services.payments.start`, the simulated operator holding one prompt
 * per wallet); each run uses fresh payer wallets, so one app serves every run and the checks compare
 * the ledger before and after the run.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Payment } from '../../src/payments/payments.ts';
import type { PaymentCallback } from '../../src/payments/port.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { callbackFor, postCallback } from './support.ts';

type Kind = 'SUCCESS' | 'INSUFFICIENT_FUNDS' | 'REFUSED' | 'WRONG_PIN' | 'EXPIRED';
const KINDS: readonly Kind[] = ['SUCCESS', 'INSUFFICIENT_FUNDS', 'REFUSED', 'WRONG_PIN', 'EXPIRED'];

interface PlannedPayment {
  householdId: number;
  amount: number;
  /** The distinct callbacks the operator sends for it, each with how many copies arrive. */
  callbacks: Array<{ kind: Kind; copies: number }>;
}

interface Plan {
  payments: PlannedPayment[];
  /** One sort key per copy, in the order the copies are listed: shuffles all callbacks together. */
  order: number[];
  /** Copies posted per burst (Promise.all); 1 posts one after another. */
  burst: number;
}

const plannedPayment: fc.Arbitrary<PlannedPayment> = fc.record({
  householdId: fc.integer({ min: 1, max: 4 }),
  amount: fc.integer({ min: 100, max: 25_000 }),
  callbacks: fc
    .subarray([...KINDS])
    .chain((kinds) =>
      fc
        .tuple(...kinds.map(() => fc.integer({ min: 1, max: 3 })))
        .map((copies) => kinds.map((kind, i) => ({ kind, copies: copies[i] as number }))),
    ),
});

const plan: fc.Arbitrary<Plan> = fc.array(plannedPayment, { minLength: 1, maxLength: 6 }).chain((payments) => {
  const copies = payments.reduce((n, p) => n + p.callbacks.reduce((m, c) => m + c.copies, 0), 0);
  return fc.record({
    payments: fc.constant(payments),
    order: fc.array(fc.integer(), { minLength: copies, maxLength: copies }),
    burst: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 8 })),
  });
});

function callbackOf(p: Payment, kind: Kind): PaymentCallback {
  if (kind === 'SUCCESS') return callbackFor(p);
  if (kind === 'EXPIRED') return callbackFor(p, { status: 'EXPIRED' });
  return callbackFor(p, { status: 'FAILED', reason: kind });
}

let app: TestApp;
let wallets = 0;

beforeAll(async () => {
  app = await startTestApp({ env: { SIMULATOR_DELIVERY_DELAY_MS: '600000' } });
});
afterAll(() => app.close());

const ledgerOf = (householdId: number) =>
  app.services.db
    .prepare('SELECT COUNT(*) AS rows, COALESCE(SUM(amount), 0) AS total FROM contributions WHERE household_id = ?')
    .get(householdId) as {
    rows: number;
    total: number;
  };
const rowsFor = (txnId: string | null) =>
  app.services.db.prepare('SELECT COUNT(*) FROM contributions WHERE operator_txn_id = ?').pluck().get(txnId) as number;
const smsFor = (key: string) => app.services.db.prepare('SELECT COUNT(*) FROM sms_outbox WHERE source_key = ?').pluck().get(key) as number;
const statusOf = (p: Payment) => app.services.payments.recent(p.householdId, 10_000).find((x) => x.id === p.id)?.status;

async function play({ payments: planned, order, burst }: Plan): Promise<void> {
  const households = [1, 2, 3, 4];
  const before = new Map(households.map((h) => [h, ledgerOf(h)]));

  // Fresh wallets for this run: the operator holds one prompt per wallet.
  const payments: Payment[] = [];
  for (const pp of planned) {
    const phone = `+223770${String(++wallets).padStart(5, '0')}`;
    app.services.orange.seedWallet(phone, 1_000_000, '1234');
    const out = await app.services.payments.start({
      householdId: pp.householdId,
      payerMsisdn: phone,
      amount: pp.amount,
      requestKey: `prop:${phone}`,
    });
    if (out.status !== 'pending') throw new Error(`payment from ${phone} not pending: ${JSON.stringify(out)}`);
    payments.push(out.payment);
  }

  // Every copy of every callback, shuffled together by the generated keys (ties keep the listed order).
  const copies = planned.flatMap((pp, i) =>
    pp.callbacks.flatMap((c) => Array.from({ length: c.copies }, () => ({ payment: i, kind: c.kind }))),
  );
  const shuffled = copies.map((c, i) => ({ ...c, key: order[i] as number, i })).sort((a, b) => a.key - b.key || a.i - b.i);

  for (let at = 0; at < shuffled.length; at += burst) {
    const batch = shuffled.slice(at, at + burst);
    const answers = await Promise.all(batch.map((c) => postCallback(app, callbackOf(payments[c.payment] as Payment, c.kind))));
    expect(
      answers.map((a) => a.status),
      JSON.stringify(answers),
    ).toEqual(batch.map(() => 200));
  }

  // The property: credited iff some SUCCESS arrived, once, per household.
  const succeeded = (i: number) => (planned[i] as PlannedPayment).callbacks.some((c) => c.kind === 'SUCCESS');
  for (const h of households) {
    const mine = planned.map((pp, i) => ({ pp, i })).filter(({ pp, i }) => pp.householdId === h && succeeded(i));
    const after = ledgerOf(h);
    const was = before.get(h) as { rows: number; total: number };
    expect({ household: h, rows: after.rows - was.rows, total: after.total - was.total }).toEqual({
      household: h,
      rows: mine.length,
      total: mine.reduce((sum, { pp }) => sum + pp.amount, 0),
    });
  }

  payments.forEach((p, i) => {
    const txnId = p.operatorTxnId as string;
    const kinds = (planned[i] as PlannedPayment).callbacks.map((c) => c.kind);
    const label = `payment ${i} (${kinds.join(', ') || 'no callback'})`;
    expect(rowsFor(txnId), label).toBe(succeeded(i) ? 1 : 0);
    expect(smsFor(`receipt:${txnId}`), label).toBe(succeeded(i) ? 1 : 0);
    expect(smsFor(`failure:${txnId}`), label).toBeLessThanOrEqual(1);
    if (succeeded(i)) expect(statusOf(p), label).toBe('succeeded');
    else if (kinds.length === 0) expect(statusOf(p), label).toBe('pending');
    else {
      expect(['failed', 'expired'], label).toContain(statusOf(p));
      expect(smsFor(`failure:${txnId}`), label).toBe(1);
    }

    if (burst === 1 && kinds.length > 0) {
      // Posted one by one: the order decides the status and whether a failure notice went first.
      const arrived = shuffled.filter((c) => c.payment === i).map((c) => c.kind);
      const firstSuccess = arrived.indexOf('SUCCESS');
      const failedFirst = arrived[0] !== 'SUCCESS';
      expect(smsFor(`failure:${txnId}`), label).toBe(failedFirst ? 1 : 0);
      if (firstSuccess < 0) expect(statusOf(p), label).toBe(arrived[0] === 'EXPIRED' ? 'expired' : 'failed');
    }
  });
}

describe('the ledger under any order and repetition of callbacks', () => {
  it('equals the sum of the distinct payments that got a SUCCESS, one row and one receipt each', async () => {
    await fc.assert(fc.asyncProperty(plan, play), { numRuns: 15 });
  });

  it('a hand-picked worst case: FAILED, SUCCESS, EXPIRED and SUCCESS again, each twice, interleaved with another payment', async () => {
    await play({
      payments: [
        {
          householdId: 1,
          amount: 1000,
          callbacks: [
            { kind: 'REFUSED', copies: 2 },
            { kind: 'SUCCESS', copies: 2 },
            { kind: 'EXPIRED', copies: 2 },
          ],
        },
        { householdId: 1, amount: 700, callbacks: [{ kind: 'INSUFFICIENT_FUNDS', copies: 3 }] },
      ],
      // REFUSED, 700-failure, SUCCESS, EXPIRED, 700-failure, SUCCESS, REFUSED, EXPIRED, 700-failure
      order: [0, 6, 2, 5, 3, 7, 1, 4, 8],
      burst: 1,
    });
  });
});
