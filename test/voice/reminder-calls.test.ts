/**
 * Reminders for a household that prefers calls: decided by the reminders job as for SMS, placed
 * as calls within the sending hours (08:00–20:00 Bamako), rung again at most twice when
 * unanswered, the outcome recorded. Hawa (+22366000004, French) is covered through 31/03/2026:
 * her "before end" reminder is due on 24/03. Bakary keeps his SMS.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VoiceCallRow } from '../../src/db/voice-outbox.ts';
import { BAKARY, HAWA, HOUSEHOLD, MOUSSA } from '../payments/support.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

let app: TestApp;
beforeEach(async () => {
  app = await startTestApp({ env: { VOICE_REMINDER_RING_AGAIN_MINUTES: '60' } });
  app.services.preferences.setReminderChannel(HOUSEHOLD[HAWA], 'voice', 'office', app.clock.now());
});
afterEach(() => app.close());

const calls = () => app.services.calls;
const hawaCalls = (): VoiceCallRow[] => calls().ofPhone(HAWA);
const reminderSms = (phone: string) =>
  app.services.db.prepare(`SELECT text FROM sms_outbox WHERE kind = 'reminder' AND recipient = ?`).pluck().all(phone) as string[];
const run = (iso: string) => {
  app.clock.set(iso);
  return app.services.reminders.run();
};
const noAnswer = (c: VoiceCallRow) =>
  calls().settle(
    { clientRequestId: c.clientRequestId, sessionId: c.sessionId, hangupCause: 'NO_ANSWER', durationInSeconds: '0' },
    app.clock.now(),
  );

describe('a household that prefers calls', () => {
  it('gets its reminder as a call carrying the message the SMS would have said; others keep their SMS', () => {
    const r = run('2026-03-24T09:00:00Z');
    expect(r.entries.map((e) => `${e.phone} ${e.rule} ${e.outcome} ${e.detail}`)).toEqual([
      `${BAKARY} before_end queued null`,
      `${HAWA} before_end queued call`,
    ]);
    expect(reminderSms(HAWA)).toEqual([]);
    expect(reminderSms(BAKARY)).toHaveLength(1);
    const [call, ...more] = hawaCalls();
    expect(more).toEqual([]);
    expect(call).toMatchObject({ purpose: 'reminder', status: 'queued', language: 'fr', messageKey: 'sms.reminder.before_end' });
    expect(JSON.parse(call?.messageParams ?? '{}')).toMatchObject({ until: '2026-03-31', remaining: 1100, month: '2026-04' });
    const send = app.services.db.prepare('SELECT call_id FROM reminder_sends WHERE household_id = ?').pluck().get(HOUSEHOLD[HAWA]);
    expect(send).toBe(call?.id);
  });

  it('answered: the route is told what to say, the key pressed and the duration are recorded', async () => {
    run('2026-03-24T09:00:00Z');
    expect(await calls().drain()).toMatchObject({ placed: 1 });
    const c = hawaCalls()[0] as VoiceCallRow;
    const answered = calls().answered({ clientRequestId: c.clientRequestId, sessionId: c.sessionId }, app.clock.now());
    expect(answered).toMatchObject({ purpose: 'reminder', householdId: HOUSEHOLD[HAWA], message: { key: 'sms.reminder.before_end' } });
    calls().keyPressed({ sessionId: c.sessionId }, '1', app.clock.now());
    calls().keyPressed({ sessionId: c.sessionId }, '2', app.clock.now());
    calls().settle(
      { sessionId: c.sessionId, hangupCause: 'NORMAL_CLEARING', durationInSeconds: '35', amount: '40', currencyCode: 'XOF' },
      app.clock.now(),
    );
    expect(hawaCalls()[0]).toMatchObject({ status: 'completed', outcome: 'answered', keyPressed: '1', durationSeconds: 35, rings: 1 });
    expect(calls().figures()).toEqual({
      reminder: { placed: 1, answered: 1, unanswered: 0, failed: 0, waiting: 0 },
      'call-back': { placed: 0, answered: 0, unanswered: 0, failed: 0, waiting: 0 },
    });
  });

  it('unanswered: rung again at most twice, an hour apart, then recorded as not answered', async () => {
    run('2026-03-24T09:00:00Z');
    for (let ring = 1; ring <= 3; ring++) {
      expect(await calls().drain()).toMatchObject({ placed: 1 });
      const c = hawaCalls()[0] as VoiceCallRow;
      expect(c).toMatchObject({ status: 'ringing', rings: ring });
      noAnswer(c);
      app.clock.advance(59 * 60_000);
      expect(await calls().drain()).toMatchObject({ placed: 0 });
      app.clock.advance(60_000);
    }
    expect(hawaCalls()).toEqual([
      expect.objectContaining({ status: 'no-answer', outcome: 'unanswered', rings: 3, hangupCause: 'NO_ANSWER' }),
    ]);
    expect(calls().figures().reminder).toEqual({ placed: 1, answered: 0, unanswered: 1, failed: 0, waiting: 0 });
    app.clock.advance(86_400_000);
    expect(await calls().drain()).toMatchObject({ placed: 0 });
    expect(app.services.fakeVoice.calls.filter((c) => c.to === HAWA)).toHaveLength(3);
  });

  it('never rings outside the sending hours: decided at night it is held, then called at 08:00; a ring-again due at night waits for the morning', async () => {
    expect(run('2026-03-24T21:00:00Z').entries.map((e) => e.outcome)).toEqual(['held', 'held']);
    expect(hawaCalls()).toEqual([]);
    run('2026-03-25T08:00:00Z');
    expect(await calls().drain()).toMatchObject({ placed: 1 });

    app.clock.set('2026-03-25T19:30:00Z');
    noAnswer(hawaCalls()[0] as VoiceCallRow);
    app.clock.set('2026-03-25T20:30:00Z');
    expect(await calls().drain()).toMatchObject({ placed: 0, postponed: 1 });
    expect(hawaCalls()[0]).toMatchObject({ status: 'queued', nextAttemptMs: Date.parse('2026-03-26T08:00:00Z') });
    app.clock.set('2026-03-26T07:59:59Z');
    expect(await calls().drain()).toMatchObject({ placed: 0 });
    app.clock.set('2026-03-26T08:00:00Z');
    expect(await calls().drain()).toMatchObject({ placed: 1 });
  });

  it('a contribution before the call is placed cancels it, as it cancels a queued SMS', async () => {
    run('2026-03-24T09:00:00Z');
    expect(app.services.reminders.cancelPending(HOUSEHOLD[HAWA], app.clock.now())).toBe(1);
    expect(hawaCalls()[0]).toMatchObject({ status: 'cancelled' });
    expect(await calls().drain()).toMatchObject({ placed: 0 });
  });

  it('is chosen by the member in the USSD language menu (6, then 3): calls, then SMS again', async () => {
    const moussa = HOUSEHOLD[MOUSSA];
    expect(app.services.preferences.reminderChannel(moussa)).toBe('sms');
    expect((await app.hop('ch-1', MOUSSA, '6*3*1')).body).toBe("END C'est noté. L'UTM vous appellera pour vos rappels. Merci.");
    expect(app.services.preferences.reminderChannel(moussa)).toBe('voice');
    expect(app.services.preferences.remindersEnabled(moussa)).toBe(true);
    expect((await app.hop('ch-2', MOUSSA, '6*3*2')).body).toBe("END C'est noté. Vos rappels viendront par SMS. Merci.");
    expect(app.services.preferences.reminderChannel(moussa)).toBe('sms');
  });

  it('is not offered to callers who are not members (nothing to remind them of)', async () => {
    await app.hop('ch-3', '+22376999999', '');
    expect((await app.hop('ch-3', '+22376999999', '6')).body).toBe(
      'CON Choisissez la langue / Kan sugandi:\n1 Francais\n2 Bamanankan\n0 Retour',
    );
  });

  it('gets SMS again once the household goes back to SMS', () => {
    app.services.preferences.setReminderChannel(HOUSEHOLD[HAWA], 'sms', 'ussd', app.clock.now());
    run('2026-03-24T09:00:00Z');
    expect(hawaCalls()).toEqual([]);
    expect(reminderSms(HAWA)).toHaveLength(1);
  });
});
