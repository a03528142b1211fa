/**
 * The simulator's voice gateway over real HTTP against the real app: the phones' JSON API in, the
 * gateway's form posts to /voice out, the XML answers read and played as Africa's Talking does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_VOICE_NUMBER } from '../../src/config.ts';
import { createVoiceGateway, RING_MS, type VoiceCallView, wavMs } from '../../src/simulator/voice-gateway.ts';
import { readVoiceAnswer } from '../../src/simulator/voice-xml.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const BAKARY = '+22376000003';
const MOUSSA = '+22376000001';

function client(app: TestApp) {
  const send = async (method: string, path: string, body?: object) => {
    const res = await fetch(`${app.url}/simulator/api/voice${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as VoiceCallView & VoiceCallView[] & { error?: string } };
  };
  return {
    call: async (phone: string) => (await send('POST', '/call', { phone })).body,
    press: async (c: VoiceCallView, keys: string) => (await send('POST', '/press', { sessionId: c.sessionId, keys })).body,
    timeout: async (c: VoiceCallView) => (await send('POST', '/timeout', { sessionId: c.sessionId })).body,
    hangUp: async (c: VoiceCallView) => (await send('POST', '/hangup', { sessionId: c.sessionId })).body,
    ringing: async (phone: string) => (await send('GET', `/ringing?phone=${encodeURIComponent(phone)}`)).body,
    answer: async (sessionId: string) => (await send('POST', '/answer', { sessionId })).body,
    send,
  };
}

const form = (x: { request: { body: string } } | undefined) => Object.fromEntries(new URLSearchParams(x?.request.body));

describe('the voice gateway, Bambara demo phone', () => {
  let app: TestApp;
  let api: ReturnType<typeof client>;
  beforeAll(async () => {
    app = await startTestApp({ env: { SIMULATOR_DELIVERY_DELAY_MS: '20', GATEWAY_CALLBACK_KEY: 'k'.repeat(40) } });
    api = client(app);
  });
  afterAll(() => app.close());

  it('calls the voice number, hears the menu, checks the cover by keypad, and hangs up', async () => {
    let c = await api.call(BAKARY);
    expect(c.status).toBe('active');
    expect(c.prompt?.caption).toMatch(/^Waati bèè: .*Ni i b'a fè N ka lakanali, digi 1\./);
    expect(c.collect).toEqual({ numDigits: 1, finishOnKey: null, timeoutSeconds: 10 });
    // The gateway's exact form, to the number's callback with the gateway key.
    const first = c.exchanges[0];
    expect(first?.request.url).toBe(`${app.url}/voice`);
    expect(form(first)).toEqual({
      sessionId: c.sessionId,
      isActive: '1',
      direction: 'Inbound',
      callerNumber: BAKARY,
      destinationNumber: DEMO_VOICE_NUMBER,
    });
    expect(c.sessionId).toMatch(/^ATVId_/);
    expect(first?.httpStatus).toBe(200);
    expect(first?.response).toContain('<GetDigits');
    // The prompt's audio, relayed by the simulator: the page never sees the gateway key.
    const audio = await fetch(`${app.url}${c.prompt?.audio[0]}`);
    expect(audio.headers.get('content-type')).toBe('audio/wav');
    expect(Buffer.from(await audio.arrayBuffer()).toString('ascii', 0, 4)).toBe('RIFF');
    expect(JSON.stringify(c)).not.toContain('k'.repeat(40));

    c = await api.press(c, '1');
    expect(c.prompt?.caption).toContain('Lakanalen fo 31/03/2026');
    const digits = c.exchanges[1];
    expect(digits?.request.url).toMatch(/\/voice\?step=1&key=…$/);
    expect(form(digits)).toMatchObject({ dtmfDigits: '1', isActive: '1', callerNumber: BAKARY });

    // Silence: the gateway posts without digits; the app says the prompt again.
    c = await api.timeout(c);
    expect(form(c.exchanges[2])).not.toHaveProperty('dtmfDigits');
    expect(c.prompt?.caption).toContain('Lakanalen fo 31/03/2026');

    c = await api.hangUp(c);
    expect(c.status).toBe('ended');
    expect(c.end).toMatchObject({ hangupCause: 'NORMAL_CLEARING', currencyCode: 'XOF' });
    const end = form(c.exchanges.at(-1));
    expect(end).toMatchObject({ isActive: '0', hangupCause: 'NORMAL_CLEARING', currencyCode: 'XOF', direction: 'Inbound' });
    expect(Number(end.durationInSeconds)).toBeGreaterThanOrEqual(1);
    expect(end.amount).toMatch(/^\d+\.\d{4}$/);
    expect(app.services.db.prepare('SELECT status, hangup_cause AS cause FROM voice_calls WHERE session_id = ?').get(c.sessionId)).toEqual({
      status: 'ended',
      cause: 'NORMAL_CLEARING',
    });
  });

  it('contributes by keypad, hears the quote, confirms, answers the PIN prompt on the handset and receives the receipt', async () => {
    let c = await api.call(BAKARY);
    c = await api.press(c, '2');
    c = await api.press(c, '3');
    expect(c.collect).toMatchObject({ numDigits: null, finishOnKey: '#' });
    // A number ends on '#', which the gateway does not send.
    c = await api.press(c, '2000#');
    expect(form(c.exchanges.at(-1)).dtmfDigits).toBe('2000');
    expect(c.prompt?.caption).toMatch(/^Wari: 2 000 FCFA\. Musaka: 100 FCFA \(i ta\)\. A bɛɛ: 2 100 FCFA\./);
    c = await api.press(c, '1');
    // Nothing more collected: the call ends after the prompt, and the gateway says so.
    expect(c.prompt?.caption).toContain('Orange Money bɛna i ka gundo nimɔrɔ ɲini');
    expect(c.status).toBe('ended');
    expect(c.end?.hangupCause).toBe('NORMAL_CLEARING');
    expect(form(c.exchanges.at(-1))).toMatchObject({ isActive: '0', hangupCause: 'NORMAL_CLEARING' });
    // Keys after the end are lost, as on a real call.
    expect((await api.press(c, '1')).exchanges).toHaveLength(c.exchanges.length);

    const wallet = await fetch(`${app.url}/simulator/api/wallet?phone=${encodeURIComponent(BAKARY)}`);
    expect(((await wallet.json()) as { pending: { debit: number } }).pending.debit).toBe(2100);
    const confirm = await fetch(`${app.url}/simulator/api/wallet/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone: BAKARY, pin: '1234' }),
    });
    expect(confirm.status).toBe(200);
    await app.services.orange.flush();
    await app.services.dispatcher.drain();
    const inbox = (await (await fetch(`${app.url}/simulator/api/sms?phone=${encodeURIComponent(BAKARY)}`)).json()) as Array<{
      text: string;
    }>;
    expect(inbox.map((m) => m.text).join('\n')).toContain('2 000 FCFA sòròla (musaka 100 FCFA)');
  });

  it('refuses what a phone cannot do: an unknown call, keys that are no keys', async () => {
    expect((await api.send('POST', '/press', { sessionId: 'ATVId_nope', keys: '1' })).status).toBe(404);
    expect((await api.send('POST', '/press', { sessionId: 'ATVId_nope', keys: '1<' })).status).toBe(400);
    expect((await api.send('POST', '/call', { phone: '76000003' })).status).toBe(400);
  });
});

describe('the voice gateway, missed-call mode', () => {
  let app: TestApp;
  let api: ReturnType<typeof client>;
  beforeAll(async () => {
    app = await startTestApp({ env: { VOICE_CALL_BACK_MISSED: 'true' } });
    api = client(app);
  });
  afterAll(() => app.close());

  it('rejects the call (free), rings the phone with UTM’s call-back, and answering it posts Outbound and plays the menu', async () => {
    const c = await api.call(MOUSSA);
    expect(c.rejected).toBe(true);
    expect(c.status).toBe('ended');
    expect(c.end).toEqual({ hangupCause: 'CALL_REJECTED', durationInSeconds: 0, amount: '0.0000', currencyCode: 'XOF' });
    expect(c.exchanges.map((x) => x.kind)).toEqual(['start', 'end']);

    expect(await api.ringing(MOUSSA)).toEqual([]);
    await app.services.calls.drain();
    const placed = (await (await fetch(`${app.url}/simulator/api/voice/calls?phone=${encodeURIComponent(MOUSSA)}`)).json()) as Array<{
      sessionId: string;
      clientRequestId: string;
    }>;
    expect(placed).toHaveLength(1);
    const ringing = await api.ringing(MOUSSA);
    expect(ringing.map((r) => [r.sessionId, r.direction, r.status])).toEqual([[placed[0]?.sessionId, 'Outbound', 'ringing']]);

    const answered = await api.answer(placed[0]?.sessionId as string);
    expect(form(answered.exchanges[0])).toEqual({
      sessionId: placed[0]?.sessionId,
      isActive: '1',
      direction: 'Outbound',
      callerNumber: DEMO_VOICE_NUMBER,
      destinationNumber: MOUSSA,
      clientRequestId: placed[0]?.clientRequestId,
    });
    expect(answered.prompt?.caption).toContain('Kénéya Sabatili');
    expect(answered.collect?.numDigits).toBe(1);
    expect(await api.ringing(MOUSSA)).toEqual([]);
    expect((await api.hangUp(answered)).end?.hangupCause).toBe('NORMAL_CLEARING');
  });
});

describe('the voice gateway on its own clock', () => {
  let app: TestApp;
  let t = 0;
  let gateway: ReturnType<typeof createVoiceGateway>;
  beforeAll(async () => {
    app = await startTestApp();
    gateway = createVoiceGateway({ voiceNumber: DEMO_VOICE_NUMBER, url: () => `${app.url}/voice`, now: () => t });
  });
  afterAll(() => app.close());

  it('times a prompt out only once it has been heard and waited for, and posts it without digits', async () => {
    const c = await gateway.call(BAKARY);
    const audio = await fetch(c.exchanges[0]?.response?.match(/url="([^"]+)"/)?.[1] as string);
    const heardMs = wavMs(Buffer.from(await audio.arrayBuffer()));
    expect(heardMs).toBeGreaterThan(1000);
    t += heardMs + 9_000;
    await gateway.sweep();
    expect(gateway.state(c.sessionId)?.exchanges).toHaveLength(1);
    t += 1_000;
    await gateway.sweep();
    const after = gateway.state(c.sessionId);
    expect(after?.exchanges.map((x) => x.kind)).toEqual(['start', 'timeout']);
    expect(form(after?.exchanges[1])).not.toHaveProperty('dtmfDigits');
    // The app says the prompt again after "we heard nothing": still one key to collect.
    expect(after?.collect?.numDigits).toBe(1);
    await gateway.hangUp(c.sessionId);
  });

  it('gives up on a call rung too long (NO_ANSWER), and a declined one is USER_BUSY', async () => {
    gateway.ring({ sessionId: 'ATVId_ring1', from: DEMO_VOICE_NUMBER, to: MOUSSA, clientRequestId: 'cb-1' });
    gateway.ring({ sessionId: 'ATVId_ring2', from: DEMO_VOICE_NUMBER, to: MOUSSA, clientRequestId: 'cb-2' });
    expect(gateway.ringing(MOUSSA).map((c) => c.sessionId)).toEqual(['ATVId_ring1', 'ATVId_ring2']);
    const declined = await gateway.decline('ATVId_ring2');
    expect(form(declined.exchanges[0])).toMatchObject({
      isActive: '0',
      hangupCause: 'USER_BUSY',
      durationInSeconds: '0',
      amount: '0.0000',
    });
    t += RING_MS;
    await gateway.sweep();
    const missed = gateway.state('ATVId_ring1');
    expect(missed?.end?.hangupCause).toBe('NO_ANSWER');
    expect(form(missed?.exchanges[0])).toMatchObject({
      isActive: '0',
      direction: 'Outbound',
      callerNumber: DEMO_VOICE_NUMBER,
      destinationNumber: MOUSSA,
      clientRequestId: 'cb-1',
      hangupCause: 'NO_ANSWER',
    });
    expect(gateway.ringing(MOUSSA)).toEqual([]);
  });

  it('ends a call the application does not answer properly, saying why', async () => {
    const broken = createVoiceGateway({ voiceNumber: DEMO_VOICE_NUMBER, url: () => `${app.url}/ussd`, now: () => t });
    const c = await broken.call(BAKARY);
    expect(c.status).toBe('ended');
    expect(c.error).toMatch(/HTTP 400|not a voice answer/);
    expect(c.end?.hangupCause).toBe('NORMAL_TEMPORARY_FAILURE');
  });
});

describe('readVoiceAnswer', () => {
  const doc = (body: string) => `<?xml version="1.0" encoding="UTF-8"?><Response>${body}</Response>`;
  it('reads the actions the app answers', () => {
    expect(readVoiceAnswer(doc('<Reject/>'))).toEqual({ said: [], next: { reject: true } });
    expect(readVoiceAnswer(doc('<Say voice="woman" playBeep="false">A &amp; B &#233;</Say>'))).toEqual({
      said: [{ say: 'A & B é' }],
      next: { hangUp: true },
    });
    expect(
      readVoiceAnswer(
        doc(
          '<GetDigits timeout="20" finishOnKey="#" callbackUrl="http://h/voice?step=2&amp;key=x"><Play url="http://h/a.wav"/></GetDigits>',
        ),
      ),
    ).toEqual({
      said: [{ play: 'http://h/a.wav' }],
      next: { collect: { numDigits: null, finishOnKey: '#', timeoutSeconds: 20, callbackUrl: 'http://h/voice?step=2&key=x' } },
    });
  });
  it.each([
    ['not XML', 'CON Bonjour', /not a well-formed|root/],
    ['another root', '<Reply><Say>x</Say></Reply>', /not <Response>/],
    ['an unknown action', doc('<Speak>x</Speak>'), /not an Africa's Talking voice action/],
    ['a GetDigits with two prompts', doc('<GetDigits><Say>a</Say><Say>b</Say></GetDigits>'), /exactly one/],
    ['an unclosed element', '<Response><Say>x</Response>', /closes <Say>/],
    ['a bare ampersand', doc('<Say>A & B</Say>'), /unescaped "&"/],
    ['a Play without url', doc('<Play/>'), /needs a url/],
    ['numDigits that is no number', doc('<GetDigits numDigits="one"><Say>a</Say></GetDigits>'), /whole number/],
  ])('refuses %s', (_label, xml, why) => {
    expect(() => readVoiceAnswer(xml)).toThrow(why);
  });
});
