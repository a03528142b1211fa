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
