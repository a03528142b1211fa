/**
 * Outbound calls in the real app: the missed-call decision, the durable call rows, the dispatcher
 * placing them through the real SDK to the app's own fake voice API (AT_VOICE_URL unset outside
 * production), and the last notification settling them. Demo network seeded on 2026-03-10.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VoiceCallRow } from '../../src/db/voice-outbox.ts';
import type { FakeVoiceCall } from '../../src/simulator/fake-at-gateway.ts';
import { AMINATA, HOUSEHOLD, MOUSSA } from '../payments/support.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { untilSettled } from '../support/timers.ts';

const VOICE_NUMBER = '+22320200000';
const STRANGER = '+22376999999';

let app: TestApp;
beforeEach(async () => {
  app = await startTestApp({ env: { VOICE_CALL_BACK_MISSED: 'true', VOICE_RETRY_BASE_MS: '30000' } });
});
afterEach(() => app.close());

const calls = () => app.services.calls;
const row = (id: number | null) => calls().get(id as number) as VoiceCallRow;
const statuses = (id: number) =>
  app.services.db.prepare('SELECT status FROM voice_outbox_history WHERE call_id = ? ORDER BY id').pluck().all(id) as string[];
async function ringing(phone: string): Promise<FakeVoiceCall[]> {
  const res = await fetch(`${app.url}/simulator/api/voice/calls?phone=${encodeURIComponent(phone)}`);
  expect(res.status).toBe(200);
  return (await res.json()) as FakeVoiceCall[];
}

describe('a missed call from a member', () => {
  it('is rejected, and the call-back is a durable row placed through the SDK: the simulated phone rings from UTM', async () => {
    const d = app.services.missedCalls.decideInbound(MOUSSA);
    expect(d).toMatchObject({ action: 'reject', why: 'call-back queued' });
    // Written before anything is sent.
    expect(row(d.callId)).toMatchObject({ status: 'queued', purpose: 'call-back', householdId: HOUSEHOLD[MOUSSA], attempts: 0 });
    expect(await ringing(MOUSSA)).toEqual([]);

    expect(await calls().drain()).toMatchObject({ placed: 1, retried: 0, failed: 0 });
    const [call, ...more] = await ringing(MOUSSA);
    expect(more).toEqual([]);
    const placed = row(d.callId);
    expect(call).toMatchObject({ from: VOICE_NUMBER, to: MOUSSA, clientRequestId: placed.clientRequestId, sessionId: placed.sessionId });
    expect(placed).toMatchObject({ status: 'ringing', attempts: 1, rings: 1 });
  });

  it('is answered: the route learns it is a call-back (main menu), then the last notification records duration and cost, once', async () => {
    const d = app.services.missedCalls.decideInbound(MOUSSA);
    await calls().drain();
    const { clientRequestId, sessionId } = row(d.callId);
    expect(calls().answered({ clientRequestId, sessionId }, app.clock.now())).toEqual({
      callId: d.callId,
      purpose: 'call-back',
      householdId: HOUSEHOLD[MOUSSA],
      language: 'fr',
      message: null,
    });
    const end = {
      sessionId,
      clientRequestId,
      hangupCause: 'NORMAL_CLEARING',
      durationInSeconds: '42',
      amount: '12.5',
      currencyCode: 'XOF',
    };
    calls().settle(end, app.clock.now());
    calls().settle({ ...end, durationInSeconds: '99' }, app.clock.now());
    expect(row(d.callId)).toMatchObject({ status: 'completed', outcome: 'answered', durationSeconds: 42, cost: 'XOF 12.5' });
    expect(statuses(d.callId as number)).toEqual(['queued', 'placing', 'ringing', 'answered', 'completed']);
  });

  it('is not answered: a call-back rings once, recorded as no answer', async () => {
    const d = app.services.missedCalls.decideInbound(MOUSSA);
    await calls().drain();
    calls().settle({ clientRequestId: row(d.callId).clientRequestId, hangupCause: 'NO_ANSWER', durationInSeconds: '0' }, app.clock.now());
    expect(row(d.callId)).toMatchObject({ status: 'no-answer', outcome: 'unanswered', hangupCause: 'NO_ANSWER' });
    app.clock.advance(3_600_000);
    expect(await calls().drain()).toMatchObject({ placed: 0 });
  });

  it('a notification for a call that is not ours changes nothing and never errors', () => {
    expect(calls().answered({ clientRequestId: 'nope', sessionId: 'ATVId_x' }, app.clock.now())).toBeUndefined();
    expect(calls().settle({ clientRequestId: 'nope', hangupCause: 'NORMAL_CLEARING' }, app.clock.now())).toBeUndefined();
  });
});

describe('at most one call-back per phone in 10 minutes', () => {
  it('a second flash while the call-back is on its way is rejected without a second call', async () => {
    const first = app.services.missedCalls.decideInbound(MOUSSA);
    app.clock.advance(60_000);
    const second = app.services.missedCalls.decideInbound(MOUSSA);
    expect(second).toEqual({ action: 'reject', why: 'call-back pending', callId: first.callId });
    await calls().drain();
    expect(await ringing(MOUSSA)).toHaveLength(1);
  });

  it('once called back, a call within the 10 minutes is answered (never left without an answer); after them, called back again', async () => {
    const first = app.services.missedCalls.decideInbound(MOUSSA);
    await calls().drain();
    calls().settle(
      { clientRequestId: row(first.callId).clientRequestId, hangupCause: 'NORMAL_CLEARING', durationInSeconds: '30' },
      app.clock.now(),
    );
    app.clock.advance(10 * 60_000 - 1);
    expect(app.services.missedCalls.decideInbound(MOUSSA)).toEqual({ action: 'answer', why: 'called back recently', callId: null });
    app.clock.advance(1);
    const again = app.services.missedCalls.decideInbound(MOUSSA);
    expect(again).toMatchObject({ action: 'reject', why: 'call-back queued' });
    expect(again.callId).not.toBe(first.callId);
  });

  it('callers who are not members are answered (joining information), and nothing is queued', async () => {
    expect(app.services.missedCalls.decideInbound(STRANGER)).toEqual({ action: 'answer', why: 'not a member', callId: null });
    expect(calls().ofPhone(STRANGER)).toEqual([]);
  });
});

describe('the call API failing or hanging', () => {
  it('failing: the call is retried with doubling delays, durable meanwhile, and placed once the API is back', async () => {
    app.services.fakeVoice.behave({ kind: 'error', status: 500 });
    const { callId } = app.services.missedCalls.decideInbound(MOUSSA);
    const t0 = app.clock.now().getTime();
    expect(await calls().drainOnce()).toMatchObject({ retried: 1 });
    expect(row(callId)).toMatchObject({
      status: 'queued',
      attempts: 1,
      nextAttemptMs: t0 + 30_000,
      lastError: expect.stringContaining('500'),
    });

    app.clock.advance(29_999);
    expect(await calls().drainOnce()).toMatchObject({ placed: 0, retried: 0 });
    app.clock.advance(1);
    expect(await calls().drainOnce()).toMatchObject({ retried: 1 });
    expect(row(callId)).toMatchObject({ attempts: 2, nextAttemptMs: t0 + 30_000 + 60_000 });

    app.services.fakeVoice.behave({ kind: 'answer' });
    app.clock.advance(60_000);
    expect(await calls().drainOnce()).toMatchObject({ placed: 1 });
    expect(row(callId)).toMatchObject({ status: 'ringing', attempts: 3 });
    expect(statuses(callId as number)).toEqual(['queued', 'placing', 'queued', 'placing', 'queued', 'placing', 'ringing']);
    expect(await ringing(MOUSSA)).toHaveLength(1);
  });

  it('hanging: USSD hops and missed-call decisions are answered meanwhile; a dropped request is retried', async () => {
    app.services.fakeVoice.behave({ kind: 'hang' });
    const { callId } = app.services.missedCalls.decideInbound(MOUSSA);
    const pass = calls().drainOnce();
    await untilSettled(() => app.services.fakeVoice.hanging === 1);
    expect(row(callId).status).toBe('placing');

    const hop = await app.hop('hang-1', AMINATA, '');
    expect(hop.status).toBe(200);
    expect(hop.body).toMatch(/^CON Kénéya Sabatili/);
    expect(app.services.missedCalls.decideInbound(AMINATA)).toMatchObject({ action: 'reject', why: 'call-back queued' });

    app.services.fakeVoice.releaseHanging();
    expect(await pass).toMatchObject({ retried: 1 });
    expect(row(callId)).toMatchObject({ status: 'queued', attempts: 1, lastError: expect.stringMatching(/network error/) });
  });

  it('gives up after VOICE_MAX_ATTEMPTS (5), saying why', async () => {
    app.services.fakeVoice.behave({ kind: 'error', status: 503 });
    const { callId } = app.services.missedCalls.decideInbound(MOUSSA);
    for (const wait of [30_000, 60_000, 120_000, 240_000, 0]) {
      await calls().drainOnce();
      app.clock.advance(wait);
    }
    expect(row(callId)).toMatchObject({
      status: 'failed',
      outcome: 'failed',
      attempts: 5,
      lastError: expect.stringContaining('gave up after 5 attempts'),
    });
  });
});

describe('after a crash or a lost notification', () => {
  it('a call left placing is queued again once older than any API call; one left ringing 2 hours with no last notification is closed', async () => {
    const hung = app.services.missedCalls.decideInbound(MOUSSA);
    app.services.fakeVoice.behave({ kind: 'hang' });
    const pass = calls().drainOnce();
    await untilSettled(() => app.services.fakeVoice.hanging === 1);
    // As after a crash: the row stays 'placing' while the process that claimed it is gone.
    app.clock.advance(29_999);
    calls().recover();
    expect(row(hung.callId).status).toBe('placing');
    app.clock.advance(1);
    calls().recover();
    expect(row(hung.callId)).toMatchObject({ status: 'queued', lastError: expect.stringContaining('restart') });
    app.services.fakeVoice.releaseHanging();
    await pass;

    app.services.fakeVoice.behave({ kind: 'answer' });
    const lost = app.services.missedCalls.decideInbound(AMINATA);
    await calls().drainOnce();
    expect(row(lost.callId).status).toBe('ringing');
    app.clock.advance(2 * 3_600_000);
    calls().recover();
    expect(row(lost.callId)).toMatchObject({ status: 'failed', lastError: 'no last notification from the gateway' });
  });
});
