import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVoiceCalls, type InboundDecision } from '../../src/voice/calls.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const KEY = 'k'.repeat(40);
const call = (sessionId: string, extra: Record<string, string> = {}) => ({
  sessionId,
  isActive: '1',
  direction: 'Inbound',
  callerNumber: '+22376000001',
  destinationNumber: '+22320000000',
  ...extra,
});

describe('POST /voice: bad bodies are refused with a 4xx, never a 5xx', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { VOICE_PRERENDER: 'false' } });
  });
  afterAll(() => app.close());

  it.each([
    ['no sessionId', { ...call('x'), sessionId: '' }, 400, 'sessionId'],
    ['isActive not 0 or 1', call('x', { isActive: 'yes' }), 400, 'isActive'],
    ['unknown direction', call('x', { direction: 'Sideways' }), 400, 'direction'],
    ['caller not E.164', call('x', { callerNumber: '76000001' }), 400, 'callerNumber'],
    ['digits that are no keypad keys', call('x', { dtmfDigits: '1<2' }), 400, 'dtmfDigits'],
    ['an Outbound call without the number called', call('x', { direction: 'Outbound', destinationNumber: '' }), 400, 'destinationNumber'],
    ['a duration that is no number', call('x', { isActive: '0', durationInSeconds: '1e3' }), 400, 'durationInSeconds'],
  ])('%s', async (_label, form, status, fragment) => {
    const r = await app.post('/voice', form as Record<string, string>);
    expect(r.status).toBe(status);
    expect(r.body).toContain(fragment);
    expect(app.services.voice.store.call('x')).toBeUndefined();
  });

  it('a step number that is no number', async () => {
    const r = await app.post('/voice?step=1;DROP', call('y'));
    expect(r.status).toBe(400);
  });

  it('the end of a call never seen is stored nowhere and answered 200', async () => {
    const r = await app.post('/voice', call('never-seen', { isActive: '0', durationInSeconds: '3', hangupCause: 'NO_ANSWER' }));
    expect(r.status).toBe(200);
    expect(r.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
  });

  it('the hang-up stores duration, cost and cause, and closes the session: a USSD redial is not offered to resume', async () => {
    await app.post('/voice', call('hang'));
    await app.post('/voice?step=1', call('hang', { dtmfDigits: '2' }));
    await app.post('/voice?step=2', call('hang', { dtmfDigits: '1' }));
    expect(app.services.sessions.get('voice:hang')?.status).toBe('open');
    const end = call('hang', {
      isActive: '0',
      durationInSeconds: '42',
      amount: '12.50',
      currencyCode: 'XOF',
      hangupCause: 'NORMAL_CLEARING',
    });
    expect((await app.post('/voice', end)).status).toBe(200);
    expect((await app.post('/voice', end)).status).toBe(200);
    expect(app.services.sessions.get('voice:hang')?.status).toBe('ended');
    const row = app.services.db
      .prepare("SELECT status, duration_seconds AS d, amount, currency, hangup_cause AS cause FROM voice_calls WHERE session_id = 'hang'")
      .get();
    expect(row).toEqual({ status: 'ended', d: 42, amount: '12.50', currency: 'XOF', cause: 'NORMAL_CLEARING' });
    const redial = await app.hop('ussd-after-hang', '+22376000001', '');
    expect(redial.body).not.toContain('Continuer');
  });

  it('an Outbound call answered is handled as an inbound one, for the number called', async () => {
    const r = await app.post('/voice', {
      ...call('out'),
      direction: 'Outbound',
      callerNumber: '+22320000000',
      destinationNumber: '+22376000003',
    });
    expect(r.status).toBe(200);
    expect(app.services.voice.store.call('out')?.phone).toBe('+22376000003');
    expect(app.services.voice.store.steps('out')[0]?.caption).toMatch(/^Waati bèè/);
  });

  it('a facility agent hears that the facility menu is on USSD, and the call ends', async () => {
    const r = await app.post('/voice', call('agent', { callerNumber: '+22377000001' }));
    expect(r.body).not.toContain('GetDigits');
    expect(app.services.voice.store.steps('agent')[0]?.caption).toContain('*384*123#');
  });

  it('the same session id from another phone is refused', async () => {
    await app.post('/voice', call('mine'));
    const r = await app.post('/voice?step=1', call('mine', { callerNumber: '+22376000002', dtmfDigits: '1' }));
    expect(r.status).toBe(409);
  });

  it("serves a prompt's audio by its hash only: no path escapes the cache", async () => {
    const r = await app.post('/voice', call('audio'));
    const name = /audio\/([0-9a-f]{32})\.wav/.exec(r.body)?.[1];
    const ok = await fetch(`${app.url}/voice/audio/${name}.wav`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('audio/wav');
    expect(Buffer.from(await ok.arrayBuffer()).toString('ascii', 0, 4)).toBe('RIFF');
    for (const bad of ['..%2F..%2Fpackage.json', `${name}.mp3`, `${'0'.repeat(32)}.wav`, '..%2Ftest.db']) {
      expect((await fetch(`${app.url}/voice/audio/${bad}`)).status, bad).toBe(404);
    }
  });
});

describe('POST /voice with the gateway key set', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { VOICE_PRERENDER: 'false', GATEWAY_CALLBACK_KEY: KEY, VOICE_SYNTHESIZER: '/nonexistent/espeak-ng' } });
  });
  afterAll(() => app.close());

  it('refuses a callback or an audio fetch without it, and puts it in every URL it answers', async () => {
    expect((await app.post('/voice', call('k1'))).status).toBe(403);
    expect(app.services.voice.store.call('k1')).toBeUndefined();
    expect((await fetch(`${app.url}/voice/audio/${'0'.repeat(32)}.wav`)).status).toBe(403);
    const r = await app.post(`/voice?key=${KEY}`, call('k1'));
    expect(r.status).toBe(200);
    expect(r.body).toContain(`callbackUrl="${app.url}/voice?step=1&amp;key=${KEY}"`);
  });

  it("without a synthesiser nor recordings, says the caption with the gateway's <Say>, escaped", async () => {
    await app.post(`/voice?key=${KEY}`, call('k2'));
    await app.post(`/voice?step=1&key=${KEY}`, call('k2', { dtmfDigits: '2' }));
    const r = await app.post(`/voice?step=2&key=${KEY}`, call('k2', { dtmfDigits: '1' }));
    expect(r.body).toContain(
      '<Say voice="woman" playBeep="false">Somme: 1 250 FCFA. Frais: 100 FCFA, par vous. Total: 1 350 FCFA. Couvert jusqu&apos;au',
    );
    expect(r.body).not.toContain('<Play');
  });
});

/** The voice calls as the server builds them over a test app's services, with the inbound call hook given. */
function voiceCallsOf(s: TestApp['services'], onInboundCall: (phone: string) => InboundDecision) {
  return createVoiceCalls({
    engine: s.engine,
    endSession: (id) => s.sessions.markEnded(id),
    store: s.voice.store,
    library: s.voice.library,
    catalogs: s.catalogs,
    clock: s.clock,
    logger: s.logger,
    agentLanguage: () => null,
    serviceCode: '*384*123#',
    onInboundCall,
    outbound: s.calls,
    prerender: false,
    timeouts: { key: 10, number: 20 },
  });
}

describe('the inbound call hook', () => {
  it('rejects an inbound call when the policy says so (free for the caller), and never asks for an outbound one', async () => {
    const app = await startTestApp({ env: { VOICE_PRERENDER: 'false' } });
    try {
      const asked: string[] = [];
      const s = app.services;
      const calls = voiceCallsOf(s, (phone) => {
        asked.push(phone);
        return 'reject';
      });
      const links = { callback: (n: number) => `http://x/voice?step=${n}`, audio: (n: string) => `http://x/${n}` };
      const base = { isActive: true, callerNumber: '+22376000001' } as const;
      expect(await calls.handle({ ...base, sessionId: 'in', direction: 'Inbound' }, null, links)).toContain('<Reject/>');
      expect(await calls.handle({ ...base, sessionId: 'out', direction: 'Outbound' }, null, links)).toContain('<GetDigits');
      expect(asked).toEqual(['+22376000001']);
    } finally {
      await app.close();
    }
  });
});

describe('a call in progress, handled by another process', () => {
  it('goes on from the prompt its latest step recorded: the repeat, the silence and the next menu as the first process answers them', async () => {
    const app = await startTestApp({ env: { VOICE_PRERENDER: 'false' } });
    try {
      const s = app.services;
      // A second process: the same database, nothing of the call in memory.
      const other = voiceCallsOf(s, () => 'answer');
      const links = { callback: (n: number) => `http://x/voice?step=${n}`, audio: (n: string) => `http://x/${n}` };
      const at = (sessionId: string, dtmfDigits?: string) =>
        ({ sessionId, isActive: true, direction: 'Inbound', callerNumber: '+22376000001', dtmfDigits }) as const;
      const keys = ['2', '*', '', '0'];
      // Each notification handled by the given process, `turns` repeating.
      const answers = async (sessionId: string, turns: Array<typeof other>) => {
        const heard = [await s.voice.calls.handle(at(sessionId), null, links)];
        for (const [i, k] of keys.entries())
          heard.push(await (turns[i % turns.length] as typeof other).handle(at(sessionId, k), i + 1, links));
        return heard;
      };
      const here = await answers('same-process', [s.voice.calls]);
      const there = await answers('other-process', [other, s.voice.calls]);
      expect(there).toEqual(here);
      expect(new Set(here).size).toBe(here.length);
      expect(s.voice.store.steps('other-process').map((x) => x.digits)).toEqual([null, ...keys]);
    } finally {
      await app.close();
    }
  });
});
