/**
 * The operator's callback (POST /payments/orange-money/callback), from a table: good signed
 * callbacks next to replays, out-of-order ones, bad signatures and malformed bodies, each row with
 * the status it gets, a fragment of the body and what it leaves behind.
 *
 * The payments are real: started through `app.services.payments.start`, which asks the simulated
 * operator for a PIN prompt (nobody answers it, so the operator itself never calls back). The
 * callbacks are crafted here and signed with the app's PAYMENT_CALLBACK_SECRET.
 *
 * Rules the runner applies to every row:
 * - no row gets a 5xx, and every answer is text/plain;
 * - a rejected row (4xx) changes nothing in the payments, the ledger or the SMS outbox.
 *
 * Rows run in order against one app; the clock stays frozen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Payment } from '../../src/payments/payments.ts';
import type { PaymentCallback } from '../../src/payments/port.ts';
import { sign } from '../../src/payments/signature.ts';
import { AMINATA, BAKARY, callbackFor, MOUSSA, postCallback } from '../payments/support.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectAnswer } from '../support/table.ts';

/** A relative's wallet (not a member's phone) that pays for Hawa's household, which has no wallet. */
const RELATIVE = '+22376000005';

type Name = 'moussa' | 'aminata' | 'bakary' | 'hawa';

interface Ctx {
  app: TestApp;
  /** The payments started before the rows, by name, as they were when started. */
  p: Record<Name, Payment>;
  /** The payment, ledger and outbox tables before the row. */
  before: string;
}

interface Row {
  label: string;
  /** The raw body, or a callback object (sent as JSON). */
  body: (ctx: Ctx) => string | PaymentCallback;
  /** 'sign' (the default: the HMAC of the body sent), null (no header) or the header to send. */
  signature?: 'sign' | null | ((ctx: Ctx, raw: string) => string);
  status: number;
  /** Fragments the answer contains. */
  says: string | string[];
  effect?: (ctx: Ctx) => unknown;
}

/** Every table a callback may touch, as one comparable string. */
function moneyTables(app: TestApp): string {
  const db = app.services.db;
  return JSON.stringify(
    ['payments', 'contributions', 'sms_outbox', 'sim_transactions', 'sim_wallets'].map((t) => [
      t,
      db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all(),
    ]),
  );
}

const status = (ctx: Ctx, name: Name) => ctx.app.services.payments.recent(ctx.p[name].householdId, 50).find((x) => x.id === ctx.p[name].id);

const ledgerRowsOf = (ctx: Ctx, txnId: string | null) =>
  ctx.app.services.db
    .prepare('SELECT household_id AS householdId, amount, fee, channel, paid_on AS paidOn FROM contributions WHERE operator_txn_id = ?')
    .all(txnId);

/** The SMS queued about a payment's operator transaction (receipt or failure), oldest first. */
const smsAbout = (ctx: Ctx, txnId: string | null) =>
  ctx.app.services.db
    .prepare(
      "SELECT source_key AS sourceKey, recipient, text FROM sms_outbox WHERE source_key IN ('receipt:' || ?, 'failure:' || ?) ORDER BY id",
    )
    .all(txnId, txnId);

const nothingChanges = (ctx: Ctx) => expect(moneyTables(ctx.app)).toBe(ctx.before);

const txn = (ctx: Ctx, name: Name) => ctx.p[name].operatorTxnId as string;
const cb =
  (name: Name, over: Partial<PaymentCallback> = {}) =>
  (ctx: Ctx) =>
    callbackFor(ctx.p[name], over);
/** A callback for Moussa's payment with one field replaced (undefined: removed), as raw JSON. */
const moussaWith = (field: string, value: unknown) => (ctx: Ctx) => {
  const body: Record<string, unknown> = { ...callbackFor(ctx.p.moussa) };
  if (value === undefined) delete body[field];
  else body[field] = value;
  return JSON.stringify(body);
};

const RECEIPT_MOUSSA = (ref: string) =>
  `Kénéya Sabatili: recu 1 000 FCFA (frais 50 FCFA) pour Moussa T., reste\n250 FCFA pour couvrir mai. Réf ${ref}`;
const INSUFFICIENT_AMINATA =
  'Paiement de 500 FCFA non effectué: solde Orange Money insuffisant. Il faut 550 FCFA avec les frais. Rechargez puis composez *384*123#.';
const RECEIPT_BAKARY = (ref: string) =>
  `Seereyasèbèn:\n2 000 FCFA sòròla (musaka 100 FCFA) Bakary D. ye. Lakanalen fo 30/04/2026. Réf ${ref}. Lakanali: *384*123*1#`;
const EXPIRED_HAWA = "Paiement de\n1 100 FCFA non confirmé à temps. Rien n'a été débité. Composez *384*123# pour réessayer.";
const RECEIPT_HAWA = (ref: string) =>
  `Recu 1 100 FCFA (frais 100 FCFA) pour Hawa K., ménage couvert jusqu'au 30/04/2026. Réf ${ref}. Couverture: *384*123*1#`;

const rows: Row[] = [
  // ---- signatures: refused before the body is read ----
  { label: 'no x-signature header', body: cb('moussa'), signature: null, status: 401, says: 'x-signature', effect: nothingChanges },
  { label: 'empty body, no signature', body: () => '', signature: null, status: 401, says: 'x-signature', effect: nothingChanges },
  { label: 'empty x-signature header', body: cb('moussa'), signature: () => '', status: 401, says: 'x-signature', effect: nothingChanges },
  {
    label: 'signed with another secret',
    body: cb('moussa'),
    signature: (_c, raw) => sign(raw, 'not-the-callback-secret-at-all'),
    status: 401,
    says: 'x-signature',
    effect: nothingChanges,
  },
  {
    label: 'the signature of another body (a FAILED callback) on a SUCCESS body',
    body: cb('moussa'),
    signature: (c) => sign(JSON.stringify(callbackFor(c.p.moussa, { status: 'FAILED', reason: 'REFUSED' })), c.app.services.paymentSecret),
    status: 401,
    says: 'x-signature',
    effect: nothingChanges,
  },
  {
    label: 'the body re-serialised with spaces after signing',
    body: (c) => JSON.stringify(callbackFor(c.p.moussa), null, 1),
    signature: (c) => sign(JSON.stringify(callbackFor(c.p.moussa)), c.app.services.paymentSecret),
    status: 401,
    says: 'x-signature',
    effect: nothingChanges,
  },
  {
    label: 'the right HMAC without the sha256= prefix',
    body: cb('moussa'),
    signature: (c, raw) => sign(raw, c.app.services.paymentSecret).slice('sha256='.length),
    status: 401,
    says: 'x-signature',
    effect: nothingChanges,
  },
  {
    label: 'the right HMAC truncated by one character',
    body: cb('moussa'),
    signature: (c, raw) => sign(raw, c.app.services.paymentSecret).slice(0, -1),
    status: 401,
    says: 'x-signature',
    effect: nothingChanges,
  },

  // ---- signed but malformed: 400 naming what is wrong ----
  {
    label: 'signed, not JSON',
    body: () => 'status=SUCCESS&reference=x',
    status: 400,
    says: 'the body is not JSON',
    effect: nothingChanges,
  },
  { label: 'signed empty body', body: () => '', status: 400, says: 'the body is not JSON', effect: nothingChanges },
  {
    label: 'signed, truncated JSON',
    body: (c) => JSON.stringify(callbackFor(c.p.moussa)).slice(0, 40),
    status: 400,
    says: 'the body is not JSON',
    effect: nothingChanges,
  },
  { label: 'signed JSON array', body: () => '[]', status: 400, says: ['Bad request:', 'object'], effect: nothingChanges },
  { label: 'txnId missing', body: moussaWith('txnId', undefined), status: 400, says: 'txnId', effect: nothingChanges },
  { label: 'reference empty', body: moussaWith('reference', ''), status: 400, says: 'reference', effect: nothingChanges },
  { label: 'status unknown (PAID)', body: moussaWith('status', 'PAID'), status: 400, says: 'status', effect: nothingChanges },
  { label: 'status in lower case', body: moussaWith('status', 'success'), status: 400, says: 'status', effect: nothingChanges },
  { label: 'amount negative', body: moussaWith('amount', -1000), status: 400, says: 'amount', effect: nothingChanges },
  { label: 'amount as a string', body: moussaWith('amount', '1000'), status: 400, says: 'amount', effect: nothingChanges },
  { label: 'fee not an integer', body: moussaWith('fee', 50.5), status: 400, says: 'fee', effect: nothingChanges },
  { label: 'msisdn not E.164', body: moussaWith('msisdn', '76000001'), status: 400, says: 'msisdn', effect: nothingChanges },
  { label: 'timestamp missing', body: moussaWith('timestamp', undefined), status: 400, says: 'timestamp', effect: nothingChanges },
  { label: 'balance negative', body: moussaWith('balance', -5), status: 400, says: 'balance', effect: nothingChanges },

  // ---- a reference sabatili never issued ----
  {
    label: 'unknown reference',
    body: (c) => callbackFor(c.p.moussa, { reference: 'KS260310NOPE00', txnId: 'MP260310.0900.NOPE00' }),
    status: 404,
    says: 'Unknown payment reference KS260310NOPE00',
    effect: nothingChanges,
  },

  // ---- success, replay, late failure ----
  {
    label: 'SUCCESS for Moussa’s pending payment: credited, receipt queued',
    body: cb('moussa'),
    status: 200,
    says: 'OK',
    effect: (c) => {
      expect(status(c, 'moussa')).toMatchObject({ status: 'succeeded', operatorTxnId: txn(c, 'moussa'), failureReason: null });
      expect(ledgerRowsOf(c, txn(c, 'moussa'))).toEqual([
        { householdId: 1, amount: 1000, fee: 50, channel: 'orange_money', paidOn: '2026-03-10' },
      ]);
      expect(smsAbout(c, txn(c, 'moussa'))).toEqual([
        { sourceKey: `receipt:${txn(c, 'moussa')}`, recipient: MOUSSA, text: RECEIPT_MOUSSA(txn(c, 'moussa')) },
      ]);
    },
  },
  {
    label: 'the same SUCCESS replayed: 200, no second credit, no second receipt',
    body: cb('moussa'),
    status: 200,
    says: 'OK',
    effect: nothingChanges,
  },
  { label: 'and replayed once more', body: cb('moussa'), status: 200, says: 'OK', effect: nothingChanges },
  {
    label: 'FAILED after SUCCESS for the same payment: ignored, still succeeded',
    body: cb('moussa', { status: 'FAILED', reason: 'REFUSED' }),
    status: 200,
    says: 'OK',
    effect: (c) => {
      nothingChanges(c);
      expect(status(c, 'moussa')).toMatchObject({ status: 'succeeded' });
    },
  },
  {
    label: 'EXPIRED after SUCCESS for the same payment: ignored',
    body: cb('moussa', { status: 'EXPIRED' }),
    status: 200,
    says: 'OK',
    effect: nothingChanges,
  },
  {
    label: 'SUCCESS for the credited payment under another transaction id: refused (404), never a second credit',
    body: cb('moussa', { txnId: 'MP260310.0900.OTHER1' }),
    status: 404,
    says: 'Unknown payment',
    effect: nothingChanges,
  },
  {
    label: 'a signed body over 16 kb: 413, not a 5xx',
    body: (ctx) => JSON.stringify({ ...callbackFor(ctx.p.moussa), padding: 'x'.repeat(17_000) }),
    status: 413,
    says: 'Bad request',
    effect: nothingChanges,
  },

  // ---- failure, replayed ----
  {
    label: 'FAILED INSUFFICIENT_FUNDS for Aminata: failed, the failure SMS queued, no ledger row',
    body: cb('aminata', { status: 'FAILED', reason: 'INSUFFICIENT_FUNDS', balance: 500 }),
    status: 200,
    says: 'OK',
    effect: (c) => {
      expect(status(c, 'aminata')).toMatchObject({ status: 'failed', failureReason: 'INSUFFICIENT_FUNDS' });
      expect(ledgerRowsOf(c, txn(c, 'aminata'))).toEqual([]);
      expect(smsAbout(c, txn(c, 'aminata'))).toEqual([
        { sourceKey: `failure:${txn(c, 'aminata')}`, recipient: AMINATA, text: INSUFFICIENT_AMINATA },
      ]);
    },
  },
  {
    label: 'the same FAILED replayed: the failure SMS stays queued once',
    body: cb('aminata', { status: 'FAILED', reason: 'INSUFFICIENT_FUNDS', balance: 500 }),
    status: 200,
    says: 'OK',
    effect: nothingChanges,
  },
  {
    label: 'another FAILED (REFUSED) for the already failed payment: ignored',
    body: cb('aminata', { status: 'FAILED', reason: 'REFUSED' }),
    status: 200,
    says: 'OK',
    effect: nothingChanges,
  },

  // ---- money that moved is credited whatever sabatili thought ----
  {
    label: 'SUCCESS for Bakary’s payment the member cancelled: still credited (the money moved), receipt in Bambara',
    body: cb('bakary'),
    status: 200,
    says: 'OK',
    effect: (c) => {
      expect(status(c, 'bakary')).toMatchObject({ status: 'succeeded', failureReason: null });
      expect(ledgerRowsOf(c, txn(c, 'bakary'))).toEqual([
        { householdId: 3, amount: 2000, fee: 100, channel: 'orange_money', paidOn: '2026-03-10' },
      ]);
      expect(smsAbout(c, txn(c, 'bakary'))).toEqual([
        { sourceKey: `receipt:${txn(c, 'bakary')}`, recipient: BAKARY, text: RECEIPT_BAKARY(txn(c, 'bakary')) },
      ]);
    },
  },
  {
    label: 'EXPIRED for the payment a relative makes for Hawa’s household: expired, SMS to the payer',
    body: cb('hawa', { status: 'EXPIRED' }),
    status: 200,
    says: 'OK',
    effect: (c) => {
      expect(status(c, 'hawa')).toMatchObject({ status: 'expired', failureReason: 'EXPIRED' });
      expect(ledgerRowsOf(c, txn(c, 'hawa'))).toEqual([]);
      expect(smsAbout(c, txn(c, 'hawa'))).toEqual([{ sourceKey: `failure:${txn(c, 'hawa')}`, recipient: RELATIVE, text: EXPIRED_HAWA }]);
    },
  },
  {
    label: 'SUCCESS arriving after that EXPIRED (out of order): credited once, receipt follows',
    body: cb('hawa'),
    status: 200,
    says: 'OK',
    effect: (c) => {
      expect(status(c, 'hawa')).toMatchObject({ status: 'succeeded' });
      expect(ledgerRowsOf(c, txn(c, 'hawa'))).toEqual([
        { householdId: 4, amount: 1100, fee: 100, channel: 'orange_money', paidOn: '2026-03-10' },
      ]);
      expect(smsAbout(c, txn(c, 'hawa')).map((m) => (m as { text: string }).text)).toEqual([EXPIRED_HAWA, RECEIPT_HAWA(txn(c, 'hawa'))]);
    },
  },
  { label: 'that SUCCESS replayed: nothing more', body: cb('hawa'), status: 200, says: 'OK', effect: nothingChanges },
];

describe('POST /payments/orange-money/callback', () => {
  let app: TestApp;
  let p: Record<Name, Payment>;
  const statuses = new Map<string, number>();

  beforeAll(async () => {
    app = await startTestApp({ env: { SIMULATOR_DELIVERY_DELAY_MS: '600000' } });
    const start = async (householdId: number, payerMsisdn: string, amount: number): Promise<Payment> => {
      const out = await app.services.payments.start({ householdId, payerMsisdn, amount, requestKey: `table:${payerMsisdn}` });
      if (out.status !== 'pending') throw new Error(`setup: payment for ${payerMsisdn} not pending: ${JSON.stringify(out)}`);
      return out.payment;
    };
    app.services.orange.seedWallet(RELATIVE, 10_000, '4321');
    p = {
      moussa: await start(1, MOUSSA, 1000),
      aminata: await start(2, AMINATA, 500),
      bakary: await start(3, BAKARY, 2000),
      hawa: await start(4, RELATIVE, 1100),
    };
    // Bakary gives up in sabatili; the operator is told, but a success may still cross that on the wire.
    expect((await app.services.payments.cancel(BAKARY))?.id).toBe(p.bakary.id);
    // The withdrawn prompt's refusal reaches the app before the table runs.
    await app.services.orange.flush();
  });
  afterAll(() => app.close());

  it('the payments of the table are waiting at the operator (Bakary’s cancelled in sabatili)', () => {
    const statusOf = (x: Payment) => app.services.payments.recent(x.householdId).find((y) => y.id === x.id)?.status;
    expect(Object.values(p).map(statusOf)).toEqual(['pending', 'pending', 'cancelled', 'pending']);
    expect(Object.values(p).map((x) => x.operatorTxnId)).toEqual(
      Object.values(p).map(() => expect.stringMatching(/^MP260310\.0900\.[0-9A-F]{6}$/)),
    );
  });

  for (const row of rows) {
    it(row.label, async () => {
      const ctx: Ctx = { app, p, before: moneyTables(app) };
      const body = row.body(ctx);
      const raw = typeof body === 'string' ? body : JSON.stringify(body);
      const signature =
        row.signature === undefined || row.signature === 'sign' ? 'sign' : row.signature === null ? null : row.signature(ctx, raw);
      const res = await postCallback(app, raw, signature);
      statuses.set(row.label, res.status);
      expectAnswer(res, row);
      if (res.status >= 400) expect(moneyTables(app), 'a rejected callback changes nothing').toBe(ctx.before);
      await row.effect?.(ctx);
    });
  }

  it('answered every row of the table, and none with a 5xx', () => {
    expect([...statuses.keys()]).toEqual(rows.map((r) => r.label));
    expect([...statuses.values()].filter((s) => s >= 500)).toEqual([]);
  });

  it('over the whole table: two payments credited, one ledger row each, one SMS per outcome', () => {
    const credited = app.services.db
      .prepare('SELECT operator_txn_id AS txnId, amount FROM contributions WHERE operator_txn_id IN (?, ?, ?, ?) ORDER BY id')
      .all(...Object.values(p).map((x) => x.operatorTxnId));
    expect(credited).toEqual([
      { txnId: p.moussa.operatorTxnId, amount: 1000 },
      { txnId: p.bakary.operatorTxnId, amount: 2000 },
      { txnId: p.hawa.operatorTxnId, amount: 1100 },
    ]);
    const keys = app.services.db
      .prepare("SELECT source_key FROM sms_outbox WHERE source_key LIKE 'receipt:%' OR source_key LIKE 'failure:%' ORDER BY id")
      .pluck()
      .all();
    expect(keys).toEqual([
      `receipt:${p.moussa.operatorTxnId}`,
      `failure:${p.aminata.operatorTxnId}`,
      `receipt:${p.bakary.operatorTxnId}`,
      `failure:${p.hawa.operatorTxnId}`,
      `receipt:${p.hawa.operatorTxnId}`,
      // Hawa's household was paid for from a relative's phone: its head gets the receipt too.
      `receipt:${p.hawa.operatorTxnId}:household`,
    ]);
  });
});
