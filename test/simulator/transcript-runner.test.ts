import { describe, expect, it } from 'vitest';
import { playTranscript, type Transcript } from '../../src/simulator/transcripts.ts';

const transcript: Transcript = {
  name: 'runner self-check',
  phone: '+22376000001',
  clock: '2026-03-10T09:00:00Z',
  steps: [
    { input: '', screen: 'CON Menu\n1 A' },
    { input: '1', screen: 'CON Page A' },
    { input: '2*3', screen: 'END Fin' },
  ],
};

function fakeGateway(replies: string[]) {
  const seen: Array<{ sessionId: string; text: string; at: string }> = [];
  let at = '';
  return {
    seen,
    target: {
      hop: async (sessionId: string, _phone: string, text: string) => {
        seen.push({ sessionId, text, at });
        return { status: 200, body: replies[seen.length - 1] ?? 'END ?' };
      },
      setClock: (d: Date) => {
        at = d.toISOString();
      },
    },
  };
}

describe('the transcript runner', () => {
  it('builds the cumulative text as the gateway does and advances the clock one second per hop', async () => {
    const g = fakeGateway(['CON Menu\n1 A', 'CON Page A', 'END Fin']);
    const r = await playTranscript(transcript, g.target);
    expect(r.problems).toEqual([]);
    expect(g.seen.map((s) => s.text)).toEqual(['', '1', '1*2*3']);
    expect(g.seen.map((s) => s.at)).toEqual(['2026-03-10T09:00:00.000Z', '2026-03-10T09:00:01.000Z', '2026-03-10T09:00:02.000Z']);
  });

  it('checks every hop, not only the last, and shows a line diff', async () => {
    const g = fakeGateway(['CON Menu\n1 B', 'CON Page A', 'END Fin']);
    const r = await playTranscript(transcript, g.target);
    expect(r.ok).toBe(false);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toContain('step 1');
    expect(r.problems[0]).toContain('  - 1 A\n  + 1 B');
    expect(r.actual.steps[0]).toMatchObject({ screen: 'CON Menu\n1 B' });
  });

  it('rejects a reply without CON/END and a screen over 160 septets', async () => {
    const long = `CON ${'x'.repeat(161)}`;
    const g = fakeGateway(['Menu', long, 'END Fin']);
    const r = await playTranscript(transcript, g.target);
    expect(r.problems.some((p) => p.includes('does not start with "CON " or "END "'))).toBe(true);
    expect(r.problems.some((p) => p.includes('161 septets'))).toBe(true);
  });
});

describe('the transcript runner, for what a member receives', () => {
  const paying: Transcript = {
    name: 'runner self-check: SMS',
    phone: '+22376000001',
    clock: '2026-03-10T09:00:00Z',
    steps: [
      { input: '', session: 'a', screen: 'CON Menu' },
      { input: '1', screen: 'CON Page' },
      { wallet: 'confirm 1234' },
      { sms: 'SOLDE', wait: 5 },
      { input: '', session: 'b', screen: 'CON Menu' },
      { input: '2', session: 'a', screen: 'CON Page' },
    ],
    sms: [
      { to: '+22376000001', text: 'Reçu 1 000 FCFA' },
      { to: '+22376000001', text: 'Couvert' },
    ],
  };

  function phone(sent: Array<{ to: string; text: string }>) {
    const log: string[] = [];
    return {
      log,
      target: {
        hop: async (sessionId: string, _p: string, text: string) => {
          log.push(`hop ${sessionId} "${text}"`);
          return { status: 200, body: text === '' ? 'CON Menu' : 'CON Page' };
        },
        setClock: (d: Date) => log.push(`clock ${d.toISOString().slice(11, 19)}`),
        // 0000: a wrong PIN, the prompt stays open.
        wallet: async (_p: string, answer: { pin: string } | 'refuse') => {
          log.push(`wallet ${answer === 'refuse' ? answer : answer.pin}`);
          return answer !== 'refuse' && answer.pin === '0000' ? { open: true } : {};
        },
        sendSms: async (_p: string, text: string) => {
          log.push(`sms ${text}`);
          return {};
        },
        settle: async (after: string) => {
          log.push(`settle ${after}`);
        },
        sms: async () => sent,
      },
    };
  }

  it('answers the PIN prompt, texts, lets each step settle, and goes back to a named session with its text', async () => {
    const p = phone([
      { to: '+22376000001', text: 'Recu 1 000 FCFA' },
      { to: '+22376000001', text: 'Couvert' },
    ]);
    const r = await playTranscript(paying, p.target, 'x');
    expect(r.problems).toEqual([]);
    expect(p.log).toEqual([
      'clock 09:00:00',
      'hop x-a ""',
      'settle hop',
      'clock 09:00:01',
      'hop x-a "1"',
      'settle hop',
      'clock 09:00:02',
      'wallet 1234',
      'settle wallet',
      'clock 09:00:07',
      'sms SOLDE',
      'settle sms',
      'clock 09:00:08',
      'hop x-b ""',
      'settle hop',
      'clock 09:00:09',
      'hop x-a "1*2"',
      'settle hop',
    ]);
  });

  it('does not wait for a wrong PIN to settle: the prompt is still open, nothing was set going', async () => {
    const p = phone([
      { to: '+22376000001', text: 'Recu 1 000 FCFA' },
      { to: '+22376000001', text: 'Couvert' },
    ]);
    const wrongFirst: Transcript = {
      ...paying,
      steps: [...paying.steps.slice(0, 2), { wallet: 'confirm 0000' }, ...paying.steps.slice(2)],
    };
    const r = await playTranscript(wrongFirst, p.target, 'x');
    expect(r.problems).toEqual([]);
    expect(p.log.slice(6, 11)).toEqual(['clock 09:00:02', 'wallet 0000', 'clock 09:00:03', 'wallet 1234', 'settle wallet']);
  });

  it('fails on an SMS missing, different or extra, and gives the SMS seen for an update', async () => {
    const missing = await playTranscript(paying, phone([{ to: '+22376000001', text: 'Recu 1 000 FCFA' }]).target);
    expect(missing.problems).toEqual([expect.stringContaining('an expected SMS missing')]);
    expect(missing.problems[0]).toContain('  - +22376000001: Couvert');

    const other = await playTranscript(
      paying,
      phone([
        { to: '+22376000001', text: 'Recu 1 000 FCFA' },
        { to: '+22376000002', text: 'Couvert' },
      ]).target,
    );
    expect(other.problems).toEqual([expect.stringContaining('an SMS different')]);
    expect(other.problems[0]).toContain('  + +22376000002: Couvert');

    const extra = await playTranscript({ ...paying, sms: undefined }, phone([{ to: '+22376000001', text: 'Couvert' }]).target);
    expect(extra.problems).toEqual([expect.stringContaining('an SMS more than expected')]);
    expect(extra.actual.sms).toEqual([{ to: '+22376000001', text: 'Couvert' }]);

    const none = await playTranscript(paying, phone([]).target);
    expect(none.actual.sms).toBeUndefined();
  });

  it('reports a step the target cannot play, and a PIN prompt that was not there', async () => {
    const { wallet: _w, ...noWallet } = phone(paying.sms ?? []).target;
    const r = await playTranscript(paying, noWallet);
    expect(r.problems).toContainEqual('step 3 (wallet "confirm 1234"): this target cannot play it');
    const p = phone([]).target;
    const r2 = await playTranscript(paying, { ...p, wallet: async () => ({ problem: 'the wallet answered 404 NO_PENDING_PAYMENT' }) });
    expect(r2.problems).toContainEqual('step 3 (wallet "confirm 1234"): the wallet answered 404 NO_PENDING_PAYMENT');
  });
});
