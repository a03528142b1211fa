/**
 * The real `africastalking` SDK's VOICE.call against the fake gateway's voice API, over HTTP: what
 * reaches the gateway, and how each answer (or silence) is read.
 */
import atCommon from 'africastalking/lib/common.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningFakeAtGateway, startFakeAtGateway } from '../../src/simulator/fake-at-gateway.ts';
import { createAfricasTalkingCalls } from '../../src/voice/outbound-transport.ts';
import { ManualTimers, untilSettled } from '../support/timers.ts';

const API_KEY = 'atsk_voice_test_0123456789';
const USERNAME = 'utm-mutuelles';
const FROM = '+22320200000';
const MOUSSA = '+22376000001';
const TIMEOUT_MS = 5000;

let gw: RunningFakeAtGateway;
beforeAll(async () => {
  gw = await startFakeAtGateway({ apiKey: API_KEY, username: USERNAME });
});
afterEach(() => gw.voice.reset());
afterAll(() => gw.close());

const calls = (timers = new ManualTimers(), over: { apiKey?: string } = {}) =>
  createAfricasTalkingCalls({
    username: USERNAME,
    apiKey: over.apiKey ?? API_KEY,
    voiceUrl: () => gw.voiceUrl,
    timeoutMs: TIMEOUT_MS,
    timers,
  });

describe('a call placed with the SDK', () => {
  it('reaches the voice API with the username, UTM number, callee and clientRequestId, and comes back queued with its session id', async () => {
    const r = await calls().place({ from: FROM, to: MOUSSA, clientRequestId: 'sab-0001' });
    expect(gw.voice.requests).toHaveLength(1);
    const req = gw.voice.requests[0];
    expect(req).toMatchObject({
      username: USERNAME,
      from: FROM,
      to: [MOUSSA],
      clientRequestId: 'sab-0001',
      apiKey: API_KEY,
      answered: 200,
    });
    expect(gw.voice.calls).toEqual([expect.objectContaining({ to: MOUSSA, from: FROM, clientRequestId: 'sab-0001' })]);
    expect(r).toEqual({ outcome: 'queued', sessionId: gw.voice.calls[0]?.sessionId });
    expect(r.outcome === 'queued' && r.sessionId).toMatch(/^ATVId_/);
  });

  it('leaves the SDK endpoint as it found it (another client in the process keeps its own)', async () => {
    const before = atCommon.VOICE_URL;
    await calls().place({ from: FROM, to: MOUSSA, clientRequestId: 'sab-0002' });
    expect(atCommon.VOICE_URL).toBe(before);
    expect(before).not.toBe(gw.voiceUrl);
  });
});

describe('what each answer means', () => {
  it.each([
    ['HTTP 500', () => gw.voice.behave({ kind: 'error', status: 500 }), 'retry', 500],
    ['HTTP 503', () => gw.voice.behave({ kind: 'error', status: 503 }), 'retry', 503],
    ['HTTP 400 (the request itself)', () => gw.voice.behave({ kind: 'error', status: 400, body: 'bad' }), 'failed', 400],
    ['HTTP 429', () => gw.voice.behave({ kind: 'error', status: 429 }), 'retry', 429],
    ['an unreadable body', () => gw.voice.behave({ kind: 'garbage' }), 'retry', null],
    ['entry InsufficientCredit', () => gw.voice.status(MOUSSA, 'InsufficientCredit'), 'retry', null],
    ['entry InvalidPhoneNumber', () => gw.voice.status(MOUSSA, 'InvalidPhoneNumber'), 'failed', null],
  ] as const)('%s: %s', async (_label, arrange, outcome, code) => {
    arrange();
    const r = await calls().place({ from: FROM, to: MOUSSA, clientRequestId: 'sab-0003' });
    expect(r).toMatchObject({ outcome, code });
    expect(gw.voice.calls).toHaveLength(0);
  });

  it('wrong credentials (401) are kept for retry: a configuration fixed later places the call', async () => {
    const r = await calls(new ManualTimers(), { apiKey: 'wrong' }).place({ from: FROM, to: MOUSSA, clientRequestId: 'sab-0004' });
    expect(r).toMatchObject({ outcome: 'retry', code: 401 });
  });

  it('a number the SDK refuses never reaches the gateway and is not retried', async () => {
    const r = await calls().place({ from: FROM, to: '+2231', clientRequestId: 'sab-0005' });
    expect(r.outcome).toBe('failed');
    expect(gw.voice.requests).toHaveLength(0);
  });

  it('a hanging gateway is given up after the timeout (injected timers: no real wait) and kept for retry', async () => {
    gw.voice.behave({ kind: 'hang' });
    const timers = new ManualTimers();
    let settled: unknown;
    const pending = calls(timers)
      .place({ from: FROM, to: MOUSSA, clientRequestId: 'sab-0006' })
      .then((r) => (settled = r));
    await untilSettled(() => gw.voice.hanging === 1);
    await timers.advance(TIMEOUT_MS - 1);
    expect(settled).toBeUndefined();
    await timers.advance(1);
    await pending;
    expect(settled).toEqual({ outcome: 'retry', code: null, reason: 'timeout' });
  });

  it('a connection dropped mid-request is a network error, kept for retry', async () => {
    gw.voice.behave({ kind: 'hang' });
    const timers = new ManualTimers();
    const pending = calls(timers).place({ from: FROM, to: MOUSSA, clientRequestId: 'sab-0007' });
    await untilSettled(() => gw.voice.hanging === 1);
    gw.voice.releaseHanging();
    expect(await pending).toMatchObject({ outcome: 'retry', code: null, reason: expect.stringMatching(/^network error/) });
  });
});
