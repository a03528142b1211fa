/** The voice figures: calls by outcome, the prompt hung up on, calls placed, prompts recorded per language; in the CSV and `report kpi`. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeKpis, kpisToCsv } from '../../src/office/kpi.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const call = (sessionId: string, extra: Record<string, string> = {}) => ({
  sessionId,
  isActive: '1',
  direction: 'Inbound',
  callerNumber: '+22376000001',
  destinationNumber: '+22320000000',
  ...extra,
});

describe('voice figures', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { VOICE_PRERENDER: 'false', VOICE_SYNTHESIZER: '/nonexistent/espeak-ng' } });
  });
  afterAll(() => app.close());

  it('counts calls completed and hung up, the prompt they were hung up on, and the prompts per language', async () => {
    // Hung up on the home menu.
    await app.post('/voice', call('a'));
    await app.post('/voice', call('a', { isActive: '0', durationInSeconds: '5' }));
    // Silent twice: the menu says goodbye and ends the call.
    await app.post('/voice', call('b'));
    await app.post('/voice?step=1', call('b', { dtmfDigits: '' }));
    await app.post('/voice?step=2', call('b', { dtmfDigits: '' }));
    const home = app.services.voice.store.step('a', 1)?.screen as string;
    expect(home).toBeTruthy();
    app.services.voice.studio.survey();

    const k = computeKpis(app.services.db, { from: '2026-03-10', to: '2026-03-10', today: '2026-03-10' });
    expect(k.voice.calls.inbound).toEqual({ calls: 2, completed: 1, hungUp: 1, rejected: 0 });
    expect(k.voice.calls.outbound.calls).toBe(0);
    expect(k.voice.calls.completionRate).toBe(0.5);
    expect(k.voice.dropOff).toEqual([{ screen: home, calls: 1 }]);
    expect(k.voice.placed.callBacks).toEqual({ placed: 0, answered: 0, unanswered: 0, failed: 0, waiting: 0 });
    const slots = app.services.voice.library.slots('fr').length;
    expect(k.voice.prompts).toEqual([
      { lang: 'bm', recorded: 0, synthetic: 0, missing: app.services.voice.library.slots('bm').length },
      { lang: 'fr', recorded: 0, synthetic: 0, missing: slots },
    ]);
    // Another period: no call.
    expect(computeKpis(app.services.db, { from: '2026-03-09', to: '2026-03-09', today: '2026-03-10' }).voice.calls.inbound.calls).toBe(0);

    const csv = kpisToCsv(k, ['voice_call_outcomes', 'voice_drop_off', 'voice_calls_placed', 'voice_prompts_recorded']);
    expect(csv).toContain(
      '# voice_call_outcomes\ndirection,calls,completed,hung_up,rejected_for_call_back\ninbound,2,1,1,0\noutbound,0,0,0,0\n',
    );
    expect(csv).toContain(`# voice_drop_off\nprompt,calls\n${home},1\n`);
    expect(csv).toContain(
      '# voice_calls_placed\npurpose,placed,answered,unanswered,failed,waiting\ncall-back,0,0,0,0,0\nreminder,0,0,0,0,0\n',
    );
    expect(csv).toContain(`# voice_prompts_recorded\nlanguage,recorded,synthetic,missing\nbm,0,0,`);
  });
});
