import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { createLogger } from '../../src/log.ts';
import { createDispatcher, type DispatcherOptions } from '../../src/sms/dispatcher.ts';
import { createOutbox } from '../../src/sms/outbox.ts';
import type { SmsTransport } from '../../src/sms/transport.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { type TempDb, tempDb } from '../support/sms-db.ts';

const MOUSSA = '+22376000001';
const OPTS: DispatcherOptions = {
  ratePerSecond: 0,
  dailyCap: 0,
  bulkSize: 10,
  maxAttempts: 2,
  retryBaseMs: 1000,
  pollMs: 20,
  staleSendingMs: 0,
};

async function text(app: TestApp, from: string, body: string): Promise<void> {
  const res = await fetch(`${app.url}/simulator/api/sms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from, text: body }),
  });
  expect(res.status).toBe(202);
  await app.services.dispatcher.drain();
}

async function inbox(app: TestApp, phone: string): Promise<Array<{ id: string; text: string }>> {
  return (await fetch(`${app.url}/simulator/api/sms?phone=${encodeURIComponent(phone)}`)).json() as Promise<
    Array<{ id: string; text: string }>
  >;
}

describe('one member, one set of choices, across USSD and SMS', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('a simulated phone lists its messages oldest first, past ten of them', async () => {
    app = await startTestApp({ env: { SIMULATOR_DELIVERY_DELAY_MS: '600000' } });
    for (let i = 0; i < 12; i++) app.services.outbox.enqueue({ to: MOUSSA, text: `message ${i}`, lang: 'fr', kind: 'transactional' });
    await app.services.dispatcher.drain();
    expect((await inbox(app, MOUSSA)).map((m) => m.text)).toEqual(Array.from({ length: 12 }, (_, i) => `message ${i}`));
  });

  it('STOP by SMS shows the reminders off on USSD, and turning them on by USSD opts back in', async () => {
    app = await startTestApp({ env: { SIMULATOR_DELIVERY_DELAY_MS: '600000' } });
    await text(app, MOUSSA, 'STOP');
    await app.hop('rem-1', MOUSSA, '');
    expect((await app.hop('rem-1', MOUSSA, '4')).body).toBe('CON Alertes SMS désactivées.\n1 Activer\n0 Retour');
    expect((await app.hop('rem-1', MOUSSA, '4*1')).body).toMatch(/^END Alertes activées/);
    expect(app.services.outbox.isOptedOut(MOUSSA)).toBe(false);
    expect(app.services.outbox.enqueue({ to: MOUSSA, text: 'rappel', lang: 'fr', kind: 'reminder' }).status).toBe('queued');
  });

  it('asking again after the promised day renews the promise instead of naming a day already past', async () => {
    app = await startTestApp({ clock: '2026-03-10T09:00:00Z', env: { SIMULATOR_DELIVERY_DELAY_MS: '600000' } });
    await text(app, MOUSSA, 'APPELEZ');
    app.clock.set('2026-03-20T10:00:00Z');
    await text(app, MOUSSA, 'APPELEZ');
    const last = (await inbox(app, MOUSSA)).at(-1);
    expect(last?.text).toBe('Votre demande du 10/03/2026 est déjà enregistrée. UTM vous appellera le 20/03/2026 avant 17h.');
    expect(app.services.db.prepare('SELECT COUNT(*) FROM callback_requests').pluck().get()).toBe(1);
  });
});

describe('the dispatcher after a crash', () => {
  let t: TempDb | undefined;
  afterEach(() => t?.cleanup());
  const clock = new ManualClock('2026-03-10T09:00:00Z');
  const logger = createLogger('silent');

  it('counts messages it confirms against the daily cap, and fails one interrupted at its last attempt', async () => {
    t = tempDb();
    const outbox = createOutbox(t.db, clock, { foldMode: 'gsm7', allowUcs2: false });
    const ids = [0, 1, 2].map((i) => {
      const r = outbox.enqueue({ to: `+2237600000${i}`, text: 'x', lang: 'fr', kind: 'transactional' });
      return r.status === 'queued' ? r.id : -1;
    });
    // A crash left all three 'sending': the gateway had the first; the third was at its last attempt.
    t.db.prepare(`UPDATE sms_outbox SET status = 'sending', attempts = 1`).run();
    t.db.prepare(`UPDATE sms_outbox SET attempts = 2 WHERE id = ?`).run(ids[2]);
    const transport: SmsTransport & { confirm(ids: number[]): Map<number, string> } = {
      name: 'simulator',
      maxBatch: 10,
      send: async (b) =>
        b.recipients.map((r) => ({ ...r, outcome: 'accepted', providerId: `P${r.messageId}`, cost: null, code: 101 }) as const),
      confirm: (asked) => new Map(asked.filter((id) => id === ids[0]).map((id) => [id, `P${id}`])),
    };
    const d = createDispatcher(t.db, transport, clock, logger, { ...OPTS, dailyCap: 2 });
    expect(d.recover()).toEqual({ confirmed: 1, requeued: 2 });
    expect(outbox.get(ids[2] as number)?.status).toBe('failed');
    outbox.enqueue({ to: '+22376000009', text: 'y', lang: 'fr', kind: 'transactional' });
    const r = await d.drain();
    // Cap 2: one confirmed after the crash, so one more today.
    expect(r.sent).toBe(1);
  });

  it('queues again a batch whose transport threw, instead of leaving it sending', async () => {
    t = tempDb();
    const outbox = createOutbox(t.db, clock, { foldMode: 'gsm7', allowUcs2: false });
    outbox.enqueue({ to: MOUSSA, text: 'x', lang: 'fr', kind: 'transactional' });
    const transport: SmsTransport = { name: 'africastalking', maxBatch: 10, send: () => Promise.reject(new Error('boom')) };
    const d = createDispatcher(t.db, transport, clock, logger, OPTS);
    expect(await d.drainOnce(10)).toMatchObject({ retried: 1 });
    expect(t.db.prepare(`SELECT status, last_error FROM sms_outbox`).get()).toEqual({ status: 'queued', last_error: 'transport error' });
  });
});
