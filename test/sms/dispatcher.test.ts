import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Clock, ManualClock } from '../../src/clock.ts';
import { createLogger } from '../../src/log.ts';
import { createDispatcher, type DispatcherOptions, type DrainResult } from '../../src/sms/dispatcher.ts';
import { createOutbox, type NewSms, type Outbox, type SmsKind } from '../../src/sms/outbox.ts';
import { outcomeOfCode, type RecipientOutcome, type SmsBatch, type SmsTransport } from '../../src/sms/transport.ts';
import { startTestApp } from '../support/app.ts';
import { mobile, type TempDb, tempDb } from '../support/sms-db.ts';
import { ManualTimers } from '../support/timers.ts';

// ---------------------------------------------------------------------------
// A fake gateway: records every call and answers per recipient from a script.

/** What the fake gateway answers for one recipient: an Africa's Talking status code, or a timeout. */
type FakeAnswer = number | 'timeout';

interface FakeCall {
  text: string;
  ids: number[];
  atMs: number;
}

const REASONS: Record<number, string> = {
  403: 'InvalidPhoneNumber',
  404: 'UnsupportedNumberType',
  405: 'InsufficientBalance',
  406: 'UserInBlacklist',
  409: 'DoNotDisturbRejection',
  500: 'InternalServerError',
  501: 'GatewayError',
  502: 'RejectedByGateway',
};

function fakeTransport(clock: Clock, opts: { maxBatch?: number } = {}) {
  const calls: FakeCall[] = [];
  const script = new Map<string, FakeAnswer[]>();
  let seq = 0;

  function outcome(r: { messageId: number; to: string }, a: FakeAnswer): RecipientOutcome {
    if (a === 'timeout') return { ...r, outcome: 'retry', code: null, reason: 'timeout after 10000 ms' };
    const o = outcomeOfCode(a);
    if (o === 'accepted') return { ...r, outcome: o, providerId: `ATXid_fake_${++seq}`, cost: 'XOF 25.0000', code: a };
    return { ...r, outcome: o, code: a, reason: REASONS[a] ?? `code ${a}` };
  }

  const transport: SmsTransport = {
    name: 'africastalking',
    maxBatch: opts.maxBatch ?? 1000,
    async send(batch: SmsBatch): Promise<RecipientOutcome[]> {
      calls.push({ text: batch.text, ids: batch.recipients.map((r) => r.messageId), atMs: clock.now().getTime() });
      return batch.recipients.map((r) => outcome(r, script.get(r.to)?.shift() ?? 101));
    },
  };

  return {
    transport,
    calls,
    /** The next answers for one phone, in order (then 101 Sent). */
    answer(phone: string, ...answers: FakeAnswer[]): void {
      script.set(phone, [...(script.get(phone) ?? []), ...answers]);
    },
    /** Message ids in the order they reached the gateway, one entry per attempt. */
    sentIds(): number[] {
      return calls.flatMap((c) => c.ids);
    },
  };
}

// ---------------------------------------------------------------------------

const START = '2026-03-10T09:00:00Z';
const T0 = Date.parse(START);
const BASE = 60_000;
const logger = createLogger('silent');

const OPTS: DispatcherOptions = {
  ratePerSecond: 0,
  dailyCap: 0,
  bulkSize: 100,
  maxAttempts: 4,
  retryBaseMs: BASE,
  pollMs: 20,
  staleSendingMs: 60_000,
};

let t: TempDb;
let clock: ManualClock;
let outbox: Outbox;

beforeEach(() => {
  t = tempDb('sabatili-dispatch-');
  clock = new ManualClock(START);
  outbox = createOutbox(t.db, clock, { foldMode: 'gsm7', allowUcs2: false });
});
afterEach(() => t.cleanup());

function setup(over: Partial<DispatcherOptions> = {}, transportOpts: { maxBatch?: number } = {}) {
  const gw = fakeTransport(clock, transportOpts);
  const dispatcher = createDispatcher(t.db, gw.transport, clock, logger, { ...OPTS, ...over });
  return { gw, dispatcher };
}

function enqueue(over: Partial<NewSms> & { to: string }): number {
  const r = outbox.enqueue({ text: 'Votre cotisation est reçue. Merci.', lang: 'fr', kind: 'transactional', ...over });
  if (r.status !== 'queued') throw new Error(`not queued: ${r.status}`);
  return r.id;
}

const status = (id: number) => outbox.get(id)?.status;

describe('order and grouping', () => {
  it('sends transactional before reminders before campaigns, whatever the order they were queued in', async () => {
    const { gw, dispatcher } = setup();
    const order: SmsKind[] = ['campaign', 'reminder', 'transactional', 'campaign', 'transactional', 'reminder', 'campaign'];
    const kindOf = new Map<number, SmsKind>();
    order.forEach((kind, i) => kindOf.set(enqueue({ to: mobile(i), kind, text: `message ${i}` }), kind));

    const r = await dispatcher.drainOnce(100);
    expect(r.sent).toBe(order.length);
    const kinds = gw.sentIds().map((id) => kindOf.get(id));
    expect(kinds).toEqual(['transactional', 'transactional', 'reminder', 'reminder', 'campaign', 'campaign', 'campaign']);
    // Within a kind, oldest first.
    expect(gw.sentIds()).toEqual([3, 5, 2, 6, 1, 4, 7]);
  });

  it('takes the most urgent first when a pass cannot take everything', async () => {
    const { gw, dispatcher } = setup();
    const campaign = enqueue({ to: mobile(1), kind: 'campaign', text: 'Campagne' });
    clock.advance(1_000);
    const receipt = enqueue({ to: mobile(2), kind: 'transactional', text: 'Recu' });
    await dispatcher.drainOnce(1);
    expect(gw.sentIds()).toEqual([receipt]);
    expect(status(campaign)).toBe('queued');
  });

  it('groups identical texts into one gateway call, up to the bulk size', async () => {
    const { gw, dispatcher } = setup({ bulkSize: 10 });
    const same = Array.from({ length: 25 }, (_, i) => enqueue({ to: mobile(i), text: 'Rappel: cotisation de mars' }));
    const other = enqueue({ to: mobile(100), text: 'Un autre texte' });
    const r = await dispatcher.drainOnce(100);
    expect(r.sent).toBe(26);
    expect(gw.calls.map((c) => [c.text, c.ids.length])).toEqual([
      ['Rappel: cotisation de mars', 10],
      ['Rappel: cotisation de mars', 10],
      ['Rappel: cotisation de mars', 5],
      ['Un autre texte', 1],
    ]);
    expect(gw.sentIds().sort((a, b) => a - b)).toEqual([...same, other]);
  });

  it('never puts more recipients in one call than the transport takes', async () => {
    const { gw, dispatcher } = setup({ bulkSize: 10 }, { maxBatch: 4 });
    for (let i = 0; i < 10; i++) enqueue({ to: mobile(i), text: 'Rappel' });
    await dispatcher.drainOnce(100);
    expect(gw.calls.map((c) => c.ids.length)).toEqual([4, 4, 2]);
    expect(new Set(gw.sentIds()).size).toBe(10);
  });

  it('drainOnce(limit) sends at most limit messages', async () => {
    const { gw, dispatcher } = setup({ bulkSize: 3 });
    const ids = Array.from({ length: 10 }, (_, i) => enqueue({ to: mobile(i), text: 'Rappel' }));
    expect((await dispatcher.drainOnce(4)).sent).toBe(4);
    expect(gw.sentIds()).toEqual(ids.slice(0, 4));
    expect(ids.filter((id) => status(id) === 'queued')).toHaveLength(6);
    expect((await dispatcher.drainOnce(4)).sent).toBe(4);
    expect((await dispatcher.drainOnce(4)).sent).toBe(2);
    expect((await dispatcher.drainOnce(4)).sent).toBe(0);
    expect(gw.sentIds()).toEqual(ids);
  });

  it('drain() sends everything due, pass after pass, each pass of `rate` messages taking a second', async () => {
    const timers = new ManualTimers();
    const { gw, dispatcher } = setup({ ratePerSecond: 7, bulkSize: 5, timers });
    for (let i = 0; i < 30; i++) enqueue({ to: mobile(i), text: 'Rappel' });
    let r: DrainResult | undefined;
    const draining = dispatcher.drain().then((x) => (r = x));
    await timers.until(() => r !== undefined);
    await draining;
    expect(r).toMatchObject({ sent: 30, retried: 0, failed: 0 });
    // Four passes of 7 then one of 2, and a second's wait after each (the clock stands still meanwhile).
    expect(timers.requested).toEqual([1000, 1000, 1000, 1000, 1000]);
    expect(new Set(gw.sentIds()).size).toBe(30);
    expect(gw.sentIds()).toHaveLength(30);
  });
});

describe('retries, final failures, expiry', () => {
  const retryable: ReadonlyArray<readonly [string, FakeAnswer]> = [
    ['405 InsufficientBalance', 405],
    ['500 InternalServerError', 500],
    ['501 GatewayError', 501],
    ['502 RejectedByGateway', 502],
    ['a timeout', 'timeout'],
  ];
  it.each(retryable)('%s: back to queued with exponential backoff, not sent again before its time', async (_what, code) => {
    const { gw, dispatcher } = setup({ maxAttempts: 5 });
    const phone = mobile(1);
    gw.answer(phone, code, code, code);
    const id = enqueue({ to: phone });

    // Attempt n fails at time `at`: the next one is due at at + BASE * 2^(n-1).
    let at = T0;
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(await dispatcher.drainOnce(10)).toMatchObject({ sent: 0, retried: 1, failed: 0 });
      const row = outbox.get(id)!;
      const due = at + BASE * 2 ** (attempt - 1);
      expect(row).toMatchObject({ status: 'queued', attempts: attempt, nextAttemptMs: due });
      expect(row.lastError).toContain(code === 'timeout' ? 'timeout' : String(code));
      expect(outbox.history(id).at(-1)?.status).toBe('queued');

      // One millisecond early: nothing goes out.
      clock.set(new Date(due - 1));
      expect(await dispatcher.drainOnce(10)).toMatchObject({ sent: 0, retried: 0, failed: 0 });
      expect(gw.sentIds()).toHaveLength(attempt);
      clock.set(new Date(due));
      at = due;
    }
    // The fourth attempt gets through (the script is exhausted: 101 Sent).
    expect(await dispatcher.drainOnce(10)).toMatchObject({ sent: 1 });
    expect(outbox.get(id)).toMatchObject({ status: 'sent', attempts: 4, lastError: null });
    expect(gw.sentIds()).toEqual([id, id, id, id]);
  });

  const final: ReadonlyArray<readonly [number, string]> = [
    [403, 'InvalidPhoneNumber'],
    [404, 'UnsupportedNumberType'],
    [406, 'UserInBlacklist'],
    [409, 'DoNotDisturbRejection'],
  ];
  it.each(final)('%i %s is final: failed with the code, never retried', async (code, reason) => {
    const { gw, dispatcher } = setup();
    const phone = mobile(2);
    gw.answer(phone, code);
    const id = enqueue({ to: phone });
    expect(await dispatcher.drainOnce(10)).toMatchObject({ sent: 0, retried: 0, failed: 1 });
    const row = outbox.get(id)!;
    expect(row.status).toBe('failed');
    expect(row.attempts).toBe(1);
    expect(row.lastError).toContain(String(code));
    expect(row.lastError).toContain(reason);
    expect(outbox.history(id).at(-1)).toMatchObject({ status: 'failed' });

    clock.advance(7 * 24 * 3600_000);
    expect((await dispatcher.drain()).failed + (await dispatcher.drain()).sent).toBe(0);
    expect(gw.sentIds()).toEqual([id]);
  });

  it('gives up after maxAttempts attempts', async () => {
    const { gw, dispatcher } = setup({ maxAttempts: 3 });
    const phone = mobile(3);
    gw.answer(phone, 500, 'timeout', 502, 500);
    const id = enqueue({ to: phone });
    await dispatcher.drainOnce(10); // attempt 1 at T0
    clock.advance(BASE);
    await dispatcher.drainOnce(10); // attempt 2 at T0 + BASE
    clock.advance(2 * BASE);
    expect(await dispatcher.drainOnce(10)).toMatchObject({ failed: 1, retried: 0 }); // attempt 3
    const row = outbox.get(id)!;
    expect(row).toMatchObject({ status: 'failed', attempts: 3 });
    expect(row.lastError).toMatch(/502/);
    expect(row.lastError).toMatch(/gave up after 3 attempts/);
    clock.advance(24 * 3600_000);
    await dispatcher.drain();
    expect(gw.sentIds()).toEqual([id, id, id]);
    expect(outbox.history(id).map((h) => h.status)).toEqual(['queued', 'sending', 'queued', 'sending', 'queued', 'sending', 'failed']);
  });

  it('expires a message past its validity instead of sending it late', async () => {
    const { gw, dispatcher } = setup();
    const late = enqueue({ to: mobile(4), kind: 'reminder', validityMs: 60_000 });
    const fresh = enqueue({ to: mobile(5), kind: 'reminder', validityMs: 10 * 60_000 });
    clock.advance(60_000);
    const r = await dispatcher.drainOnce(10);
    expect(r).toMatchObject({ sent: 1, expired: 1 });
    expect(status(late)).toBe('expired');
    expect(status(fresh)).toBe('sent');
    expect(gw.sentIds()).toEqual([fresh]);
    expect(outbox.history(late).map((h) => h.status)).toEqual(['queued', 'expired']);
    expect(outbox.history(late).at(-1)?.atMs).toBe(T0 + 60_000);
    clock.advance(3600_000);
    await dispatcher.drain();
    expect(gw.sentIds()).toEqual([fresh]);
  });

  it('expires a message whose retry would come after its validity', async () => {
    const { gw, dispatcher } = setup();
    const phone = mobile(6);
    gw.answer(phone, 500);
    const id = enqueue({ to: phone, validityMs: 30_000 });
    await dispatcher.drainOnce(10);
    expect(outbox.get(id)).toMatchObject({ status: 'queued', nextAttemptMs: T0 + BASE });
    clock.advance(BASE);
    await dispatcher.drainOnce(10);
    expect(status(id)).toBe('expired');
    expect(gw.sentIds()).toEqual([id]);
  });
});

describe('daily cap', () => {
  it('stops at the cap across passes within a Bamako day, and starts again the next day', async () => {
    clock.set('2026-03-10T21:00:00Z'); // Bamako is UTC+0 all year
    const { gw, dispatcher } = setup({ dailyCap: 5 });
    const ids = Array.from({ length: 12 }, (_, i) => enqueue({ to: mobile(i), text: 'Rappel', validityMs: 3 * 24 * 3600_000 }));

    expect((await dispatcher.drainOnce(3)).sent).toBe(3);
    expect((await dispatcher.drainOnce(3)).sent).toBe(2);
    expect((await dispatcher.drainOnce(3)).sent).toBe(0);
    expect((await dispatcher.drain()).sent).toBe(0);
    clock.set('2026-03-10T23:59:59Z');
    expect((await dispatcher.drainOnce(100)).sent).toBe(0);
    expect(gw.sentIds()).toEqual(ids.slice(0, 5));

    // A restarted dispatcher reads the same count.
    const again = createDispatcher(t.db, gw.transport, clock, logger, { ...OPTS, dailyCap: 5 });
    expect((await again.drainOnce(100)).sent).toBe(0);

    clock.set('2026-03-11T00:00:00Z');
    expect((await dispatcher.drain()).sent).toBe(5);
    expect(gw.sentIds()).toEqual(ids.slice(0, 10));
    clock.set('2026-03-12T08:00:00Z');
    expect((await dispatcher.drain()).sent).toBe(2);
    expect(gw.sentIds()).toEqual(ids);
  });

  it('counts only messages the gateway accepted', async () => {
    const { gw, dispatcher } = setup({ dailyCap: 3 });
    gw.answer(mobile(0), 403);
    gw.answer(mobile(1), 500);
    const ids = Array.from({ length: 6 }, (_, i) => enqueue({ to: mobile(i), text: 'Rappel' }));
    // A pass claims what is left of the cap: 3 messages, of which only one is accepted.
    expect(await dispatcher.drainOnce(100)).toMatchObject({ sent: 1, failed: 1, retried: 1 });
    expect(await dispatcher.drainOnce(100)).toMatchObject({ sent: 2, failed: 0, retried: 0 });
    expect(await dispatcher.drainOnce(100)).toMatchObject({ sent: 0, failed: 0, retried: 0 });
    expect(ids.map(status)).toEqual(['failed', 'queued', 'sent', 'sent', 'sent', 'queued']);
  });
});

describe('daily cap by default (SMS_DAILY_CAP unset)', () => {
  it('the server sends at most 250 000 a Bamako day: the rest wait for the next day, transactional first, and the logs say so once', async () => {
    const logs: string[] = [];
    const app = await startTestApp({
      clock: '2026-03-10T19:00:00Z',
      env: { SIMULATOR_DELIVERY_DELAY_MS: '600000', LOG_LEVEL: 'warn' },
      logDestination: { write: (line) => logs.push(line) },
    });
    try {
      const { config, db, outbox, dispatcher } = app.services;
      expect(config.SMS_DAILY_CAP).toBe(250_000);
      // As if the day's campaign had already used all but two (sending 249 998 here would take minutes).
      db.prepare('INSERT INTO sms_sent_per_day (day, sent) VALUES (?, ?)').run('2026-03-10', 249_998);
      const queue = (to: string, kind: SmsKind) => {
        const r = outbox.enqueue({ to, text: `Kénéya Sabatili: ${kind}.`, lang: 'fr', kind });
        if (r.status !== 'queued') throw new Error(r.status);
        return r.id;
      };
      const campaign = [1, 2, 3].map((i) => queue(mobile(i), 'campaign'));
      const receipt = queue(mobile(4), 'transactional');

      expect(await dispatcher.drain()).toMatchObject({ sent: 2, expired: 0 });
      expect([receipt, ...campaign].map((id) => outbox.get(id)?.status)).toEqual(['sent', 'sent', 'queued', 'queued']);
      app.clock.set('2026-03-10T23:59:59Z');
      expect((await dispatcher.drain()).sent).toBe(0);
      expect(logs.filter((l) => l.includes('daily cap reached'))).toHaveLength(1);

      app.clock.set('2026-03-11T00:00:00Z');
      expect((await dispatcher.drain()).sent).toBe(2);
      expect(campaign.map((id) => outbox.get(id)?.status)).toEqual(['sent', 'sent', 'sent']);
      expect(db.prepare('SELECT day, sent FROM sms_sent_per_day ORDER BY day').all()).toEqual([
        { day: '2026-03-10', sent: 250_000 },
        { day: '2026-03-11', sent: 2 },
      ]);
    } finally {
      await app.close();
    }
  });

  it('a message waiting beyond the cap expires when its validity passes, without waiting for room', async () => {
    const { gw, dispatcher } = setup({ dailyCap: 1 });
    const first = enqueue({ to: mobile(1) });
    const waiting = enqueue({ to: mobile(2), validityMs: 3600_000 });
    expect((await dispatcher.drainOnce(10)).sent).toBe(1);
    clock.advance(3600_000);
    expect(await dispatcher.drainOnce(10)).toMatchObject({ sent: 0, expired: 1 });
    expect([first, waiting].map(status)).toEqual(['sent', 'expired']);
    expect(gw.sentIds()).toEqual([first]);
  });
});

describe('status history', () => {
  it('reads queued → sending → sent → delivered, with times and the provider id', async () => {
    const { gw, dispatcher } = setup();
    const id = enqueue({ to: mobile(9) });
    clock.advance(1_000);
    await dispatcher.drainOnce(10);
    const row = outbox.get(id)!;
    expect(row).toMatchObject({ status: 'sent', attempts: 1, cost: 'XOF 25.0000' });
    expect(row.providerMessageId).toMatch(/^ATXid_fake_/);
    expect(gw.calls).toHaveLength(1);
    clock.advance(4_000);
    expect(outbox.recordDelivery({ providerId: row.providerMessageId!, status: 'Success' })).toBe('updated');
    const h = outbox.history(id);
    expect(h.map((e) => e.status)).toEqual(['queued', 'sending', 'sent', 'delivered']);
    expect(h.map((e) => e.atMs)).toEqual([T0, T0 + 1_000, T0 + 1_000, T0 + 5_000]);
    expect(h[1]?.detail).toBe('attempt 1 via africastalking');
    expect(h[2]?.detail).toContain(row.providerMessageId!);
    expect(status(id)).toBe('delivered');
  });
});

describe('the loop inside the server', () => {
  it('start() sends what is queued, stop() waits for the pass in flight', async () => {
    const timers = new ManualTimers();
    const { gw, dispatcher } = setup({ ratePerSecond: 100, pollMs: 10, bulkSize: 2, timers });
    const ids = Array.from({ length: 5 }, (_, i) => enqueue({ to: mobile(i), text: 'Rappel' }));
    dispatcher.start();
    dispatcher.start(); // a second start is a no-op
    await timers.until(() => ids.every((id) => status(id) === 'sent'));
    await dispatcher.stop();
    expect(ids.map(status)).toEqual(ids.map(() => 'sent'));
    expect(gw.sentIds()).toEqual(ids);
    // Stopped: no pass is due any more, so new messages stay queued however long it waits.
    const later = enqueue({ to: mobile(50) });
    expect(timers.pending()).toBe(0);
    await timers.advance(60_000);
    expect(status(later)).toBe('queued');
  });
});
