/**
 * What SMS can cost UTM, over real HTTP against the running app: a forged `POST /sms/inbound` flood
 * gets at most SMS_REPLIES_PER_SENDER_PER_HOUR answers per sender and hour, nothing goes abroad
 * (SMS_ALLOWED_COUNTRIES, Mali by default), and every text is still stored for the staff.
 * Time moves only with the injected clock.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SmsCountryRefused } from '../../src/sms/outbox.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const TOKEN = 'sms-cost-test-admin-token';
const MOUSSA = '+22376000001';
const AMINATA = '+22376000002';
const FRANCE = '+33612345678';
const T0 = '2026-03-10T09:00:00Z';

let app: TestApp;
beforeEach(async () => {
  app = await startTestApp({ clock: T0, env: { ADMIN_TOKEN: TOKEN, SIMULATOR_DELIVERY_DELAY_MS: '600000' } });
});
afterEach(() => app.close());

let gatewayIds = 0;
/** A text as the gateway (or a forger) posts it; must be answered 200. */
async function text(from: string, body: string): Promise<void> {
  const res = await app.post('/sms/inbound', { id: `forged-${++gatewayIds}`, from, text: body, to: '36123' });
  expect(res).toEqual({ status: 200, body: 'OK' });
}

const stored = (from: string) =>
  app.services.db
    .prepare('SELECT text, reply_id AS replyId, unanswered_reason AS unanswered FROM sms_inbound WHERE sender = ? ORDER BY id')
    .all(from) as Array<{ text: string; replyId: number | null; unanswered: string | null }>;
const answers = (to: string) => app.services.outbox.to(to).length;
const callbacksOf = (phone: string) => app.services.db.prepare('SELECT COUNT(*) FROM callback_requests WHERE phone = ?').pluck().get(phone);

describe('answers per sender and hour (SMS_REPLIES_PER_SENDER_PER_HOUR, 5 by default)', () => {
  it('100 forged SOLDE from one phone within an hour: 5 answers, all 100 stored, the rest marked; answers resume after the hour', async () => {
    expect(app.services.config.SMS_REPLIES_PER_SENDER_PER_HOUR).toBe(5);
    for (let i = 0; i < 100; i++) {
      await text(MOUSSA, 'SOLDE');
      app.clock.advance(30_000); // 100 texts over 50 minutes
    }
    const rows = stored(MOUSSA);
    expect(rows).toHaveLength(100);
    expect(answers(MOUSSA)).toBe(5);
    expect(rows.slice(0, 5).every((r) => r.replyId !== null && r.unanswered === null)).toBe(true);
    expect(rows.slice(5).every((r) => r.replyId === null && r.unanswered === 'rate_limited')).toBe(true);

    // Another phone is not held back by the flood.
    await text(AMINATA, 'SOLDE');
    expect(answers(AMINATA)).toBe(1);

    // Two hours after the first: the hour has passed for every answer, 5 more and no more.
    app.clock.set('2026-03-10T11:00:00Z');
    for (let i = 0; i < 6; i++) await text(MOUSSA, 'SOLDE');
    expect(answers(MOUSSA)).toBe(10);
    expect(
      stored(MOUSSA)
        .slice(100)
        .map((r) => r.unanswered),
    ).toEqual([null, null, null, null, null, 'rate_limited']);
  });

  it('counts the hour from each answer: one answer falls out of the window, one more goes', async () => {
    for (let i = 0; i < 5; i++) {
      await text(MOUSSA, 'AIDE');
      app.clock.advance(60_000);
    }
    await text(MOUSSA, 'AIDE');
    expect(answers(MOUSSA)).toBe(5);
    app.clock.set('2026-03-10T10:00:00.001Z'); // the first answer (09:00) is now more than an hour old
    await text(MOUSSA, 'AIDE');
    await text(MOUSSA, 'AIDE');
    expect(answers(MOUSSA)).toBe(6);
    expect(stored(MOUSSA).map((r) => r.unanswered)).toEqual([null, null, null, null, null, 'rate_limited', null, 'rate_limited']);
  });

  it('beyond the limit, STOP and START still act (they cost nothing) but a call-back is not queued', async () => {
    for (let i = 0; i < 5; i++) await text(MOUSSA, 'AIDE');
    await text(MOUSSA, 'STOP');
    expect(app.services.outbox.isOptedOut(MOUSSA)).toBe(true);
    await text(MOUSSA, 'START');
    expect(app.services.outbox.isOptedOut(MOUSSA)).toBe(false);
    await text(MOUSSA, 'APPELEZ');
    expect(callbacksOf(MOUSSA)).toBe(0);
    expect(answers(MOUSSA)).toBe(5);
    expect(stored(MOUSSA).slice(5)).toEqual([
      { text: 'STOP', replyId: null, unanswered: 'rate_limited' },
      { text: 'START', replyId: null, unanswered: 'rate_limited' },
      { text: 'APPELEZ', replyId: null, unanswered: 'rate_limited' },
    ]);
  });
});

describe('allowed countries (SMS_ALLOWED_COUNTRIES, ML by default)', () => {
  it('a text from France is stored and marked, with no answer and no call-back; STOP from there still opts out', async () => {
    await text(FRANCE, 'SOLDE');
    await text(FRANCE, 'APPELEZ');
    await text(FRANCE, 'STOP');
    expect(stored(FRANCE)).toEqual([
      { text: 'SOLDE', replyId: null, unanswered: 'country' },
      { text: 'APPELEZ', replyId: null, unanswered: 'country' },
      { text: 'STOP', replyId: null, unanswered: 'country' },
    ]);
    expect(answers(FRANCE)).toBe(0);
    expect(app.services.db.prepare('SELECT COUNT(*) FROM sms_outbox').pluck().get()).toBe(0);
    expect(callbacksOf(FRANCE)).toBe(0);
    expect(app.services.outbox.isOptedOut(FRANCE)).toBe(true);
  });

  it('a fixed line in Mali is marked as no mobile number (not as abroad), and can still ask to be called', async () => {
    await text('+22320221234', 'APPELEZ');
    expect(stored('+22320221234')).toEqual([{ text: 'APPELEZ', replyId: null, unanswered: 'recipient' }]);
    expect(callbacksOf('+22320221234')).toBe(1);
  });

  it('the app’s outbox refuses to queue anything to a French number', () => {
    expect(() => app.services.outbox.enqueue({ to: FRANCE, text: 'Kénéya Sabatili: reçu.', lang: 'fr', kind: 'transactional' })).toThrow(
      SmsCountryRefused,
    );
    expect(app.services.outbox.to(FRANCE)).toEqual([]);
  });

  it('a campaign whose audience has a member in France skips and counts that member', async () => {
    // Aminata (lapsed) now has a French number.
    app.services.db.prepare('UPDATE households SET phone = ? WHERE phone = ?').run(FRANCE, AMINATA);
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${app.url}/admin/api/campaigns${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    const created = await api('POST', '', {
      name: 'Tous',
      audience: {},
      messages: { fr: 'Kénéya Sabatili: {prenom}, composez {code_ussd}', bm: 'Kénéya Sabatili: {prenom}, {code_ussd}' },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as number;

    const preview = await api('GET', `/${id}/preview`);
    expect(preview.body).toMatchObject({
      audience: 4,
      messages: 3,
      rejected: 1,
      rejectedSamples: [{ phone: FRANCE, reason: expect.stringMatching(/outside the countries SMS may go to/) }],
    });

    expect((await api('POST', `/${id}/send`)).status).toBe(202);
    let campaign: Record<string, any> = {};
    for (let i = 0; i < 200 && !campaign.progress?.enqueueDone; i++) {
      await new Promise((r) => setTimeout(r, 25));
      campaign = (await api('GET', `/${id}`)).body;
    }
    expect(campaign.progress).toMatchObject({ enqueueDone: true, queued: 3, rejected: 1 });
    expect(app.services.outbox.to(FRANCE)).toEqual([]);
  });
});
