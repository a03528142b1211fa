/**
 * The calls UTM places, as POST /voice reports them to the outbox (voice_outbox): answered on the
 * first notification, the first key pressed, then the last notification's duration, cost and
 * hang-up cause; a repeated last notification changes nothing. Moussa (+22376000001, French,
 * covered through 30/04/2026 when the seed is made on 10/03) prefers calls: his "before end" reminder
 * is due on 23/04.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVoiceCallStore, type VoiceCallRow } from '../../src/db/voice-outbox.ts';
import { HOUSEHOLD, MOUSSA } from '../payments/support.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

let app: TestApp;
beforeEach(async () => {
  app = await startTestApp({ clock: '2026-03-10T09:00:00Z', env: { VOICE_PRERENDER: 'false' } });
});
afterEach(() => app.close());

const UTM = '+22320200000';
const row = (): VoiceCallRow => app.services.calls.ofPhone(MOUSSA).at(-1) as VoiceCallRow;
const history = (id: number) => createVoiceCallStore(app.services.db).historyOf(id);

/** A notification of the placed call, as the gateway posts it (direction Outbound, the ids it was placed with). */
const notify = (c: VoiceCallRow, step: number | null, extra: Record<string, string> = {}) =>
  app.post(step === null ? '/voice' : `/voice?step=${step}`, {
    sessionId: c.sessionId as string,
    isActive: '1',
    direction: 'Outbound',
    callerNumber: UTM,
    destinationNumber: MOUSSA,
    clientRequestId: c.clientRequestId,
    ...extra,
  });
const hangUp = (c: VoiceCallRow, extra: Record<string, string>) => notify(c, null, { isActive: '0', ...extra });
const captions = (c: VoiceCallRow) => app.services.voice.store.steps(c.sessionId as string).map((s) => `${s.screen} | ${s.caption}`);

async function reminderCall(): Promise<VoiceCallRow> {
  app.services.preferences.setReminderChannel(HOUSEHOLD[MOUSSA], 'voice', 'office', app.clock.now());
  app.clock.set('2026-04-23T09:00:00Z');
  app.services.reminders.run();
  expect(await app.services.calls.drain()).toMatchObject({ placed: 1 });
  const c = row();
  expect(c).toMatchObject({ purpose: 'reminder', status: 'ringing', messageKey: 'sms.reminder.before_end' });
  return c;
}

describe('a reminder call, over POST /voice', () => {
  it('answered: speaks the reminder without the name, then 1 opens the contribute flow; the outbox row is completed with what happened', async () => {
    const c = await reminderCall();
    const name = JSON.parse(c.messageParams ?? '{}').name as string;
    expect(name).toMatch(/Moussa/);

    expect((await notify(c, null)).body).toContain('numDigits="1"');
    expect(row()).toMatchObject({ status: 'answered' });
    const [offer] = captions(c);
    expect(offer).toMatch(/^sms\.reminder\.before_end \| .*30\/04\/2026.* Pour Payer maintenant, tapez 1\.$/);
    expect(offer).not.toContain('Moussa');

    app.clock.advance(5000);
    await notify(c, 1, { dtmfDigits: '1' });
    expect(captions(c)[1]).toMatch(/^contribute\.choose \| À tout moment: étoile pour réécouter.* Cotiser par Orange Money\. Combien\?/);
    await notify(c, 2, { dtmfDigits: '2' });

    app.clock.advance(30_000);
    const end = { durationInSeconds: '35', amount: '12.50', currencyCode: 'XOF', hangupCause: 'NORMAL_CLEARING' };
    expect((await hangUp(c, end)).status).toBe(200);
    const done = row();
    expect(done).toMatchObject({
      status: 'completed',
      outcome: 'answered',
      keyPressed: '1',
      durationSeconds: 35,
      cost: 'XOF 12.50',
      hangupCause: 'NORMAL_CLEARING',
    });
    const changes = history(c.id);
    expect(changes.map((h) => h.status).slice(-2)).toEqual(['answered', 'completed']);

    app.clock.advance(60_000);
    expect((await hangUp(c, { durationInSeconds: '0', hangupCause: 'NO_ANSWER' })).status).toBe(200);
    expect(row()).toEqual(done);
    expect(history(c.id)).toEqual(changes);
  });

  it('answered, nothing pressed: a goodbye; recorded as answered with no key', async () => {
    const c = await reminderCall();
    await notify(c, null);
    const r = await notify(c, 1);
    expect(r.body).not.toContain('<GetDigits');
    expect(captions(c)[1]).toBe('null | Au revoir. Pour être rappelé par UTM, envoyez APPELEZ par SMS, ou rappelez ce numéro.');
    await hangUp(c, { durationInSeconds: '28', hangupCause: 'NORMAL_CLEARING' });
    expect(row()).toMatchObject({ status: 'completed', outcome: 'answered', keyPressed: null, durationSeconds: 28 });
    expect(app.services.sessions.get(`voice:${c.sessionId}`)).toBeUndefined();
  });

  it('another key than 1: thanks and goodbye, the key recorded', async () => {
    const c = await reminderCall();
    await notify(c, null);
    await notify(c, 1, { dtmfDigits: '2' });
    expect(captions(c)[1]).toBe('null | Merci. Au revoir.');
    await hangUp(c, { durationInSeconds: '12', hangupCause: 'NORMAL_CLEARING' });
    expect(row()).toMatchObject({ status: 'completed', keyPressed: '2' });
  });

  it('* says the reminder and its offer again, and 1 still pays', async () => {
    const c = await reminderCall();
    await notify(c, null);
    await notify(c, 1, { dtmfDigits: '*' });
    await notify(c, 2, { dtmfDigits: '1' });
    const [offer, again, paying] = captions(c);
    expect(again).toBe(offer);
    expect(paying).toMatch(/^contribute\.choose \|/);
    expect(row()).toMatchObject({ keyPressed: '*' });
  });

  it('not answered: only the last notification comes; the call is queued to ring again and nothing is spoken', async () => {
    const c = await reminderCall();
    expect((await hangUp(c, { durationInSeconds: '0', hangupCause: 'NO_ANSWER' })).status).toBe(200);
    expect(row()).toMatchObject({ status: 'queued', outcome: 'unanswered', hangupCause: 'NO_ANSWER', rings: 1 });
    expect(app.services.voice.store.call(c.sessionId as string)).toBeUndefined();
  });
});

describe('a call-back, over POST /voice', () => {
  it('answered: the main menu; the first key pressed after a silence is the one recorded', async () => {
    app.services.calls.queueCallBack(MOUSSA, HOUSEHOLD[MOUSSA], 'fr', app.clock.now());
    expect(await app.services.calls.drain()).toMatchObject({ placed: 1 });
    const c = row();
    await notify(c, null);
    expect(row()).toMatchObject({ purpose: 'call-back', status: 'answered' });
    expect(captions(c)[0]).toMatch(/^main\.title \| À tout moment/);
    await notify(c, 1);
    await notify(c, 2, { dtmfDigits: '3' });
    await notify(c, 3, { dtmfDigits: '0' });
    await hangUp(c, { durationInSeconds: '50', amount: '20', currencyCode: 'XOF', hangupCause: 'NORMAL_CLEARING' });
    expect(row()).toMatchObject({ status: 'completed', keyPressed: '3', durationSeconds: 50, cost: 'XOF 20' });
  });

  it('an Outbound call the outbox does not know is answered with the main menu and settles nothing', async () => {
    const stranger = { id: 0, sessionId: 'ATVId_stranger', clientRequestId: 'not-ours' } as VoiceCallRow;
    expect((await notify(stranger, null)).body).toContain('numDigits="1"');
    expect((await hangUp(stranger, { durationInSeconds: '5', hangupCause: 'NORMAL_CLEARING' })).status).toBe(200);
    expect(app.services.calls.ofPhone(MOUSSA)).toEqual([]);
  });
});
