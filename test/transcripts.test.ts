import { readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sequentialIds } from '../src/ids.ts';
import { playTranscript, type ReceivedSms, readTranscript, simulatorApi, stringifyTranscript } from '../src/simulator/transcripts.ts';
import { startTestApp } from './support/app.ts';

const ROOT = join(import.meta.dirname, '..', 'fixtures', 'transcripts');
/** UPDATE_TRANSCRIPTS=1 rewrites the expected screens and SMS from what the app shows and sends, for review in the diff. */
const UPDATE = process.env.UPDATE_TRANSCRIPTS === '1';

// voice/ holds the voice channel's transcripts, in their own format (test/voice/transcripts.test.ts).
const files = readdirSync(ROOT, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.yaml') && !f.startsWith('voice/'))
  .sort();

describe('golden transcripts', () => {
  it('exist for every flow and keyword answer, each case in both languages', () => {
    for (const flow of [
      'main',
      'coverage',
      'contribute',
      'history',
      'reminders',
      'callback',
      'language',
      'register',
      'navigation',
      'keywords',
      'facility',
    ]) {
      for (const lang of ['fr', 'bm']) {
        expect(
          files.some((f) => f.startsWith(`${flow}/${lang}.`)),
          `${flow}/${lang}.*.yaml`,
        ).toBe(true);
      }
    }
    const misnamed = files.filter((f) => !/^[a-z]+\/(fr|bm)\.[a-z0-9-]+\.yaml$/.test(f));
    expect(misnamed, 'named <flow>/<fr|bm>.<case>.yaml').toEqual([]);
    const other = { fr: 'bm', bm: 'fr' } as const;
    const oneLanguageOnly = files.filter((f) => {
      const [, flow, lang, name] = /^([a-z]+)\/(fr|bm)\.(.+)$/.exec(f) as unknown as [string, string, 'fr' | 'bm', string];
      return !files.includes(`${flow}/${other[lang]}.${name}`);
    });
    expect(oneLanguageOnly, 'cases without their other language').toEqual([]);
  });

  for (const file of files) {
    it(file, async () => {
      const path = join(ROOT, file);
      const t = readTranscript(path);
      // Counted ids: a receipt's operator reference is the same on every run. Delivery reports are not part of a transcript.
      const app = await startTestApp({ clock: t.seeded ?? t.clock, ids: sequentialIds(), env: { SIMULATOR_DELIVERY_DELAY_MS: '600000' } });
      try {
        const slug = relative(ROOT, path).replace(/[^a-z0-9]+/gi, '-');
        const api = simulatorApi(app.url);
        const received = app.services.db.prepare('SELECT to_phone AS "to", text FROM sim_sms ORDER BY id');
        const result = await playTranscript(
          t,
          {
            hop: (sessionId, phone, text) => app.hop(sessionId, phone, text),
            setClock: (d) => app.clock.set(d),
            stateOf: (sessionId) => {
              const row = app.services.sessions.get(sessionId);
              if (!row || row.machine.startsWith('@')) return row?.machine;
              return [row.machine, ...statePath(JSON.parse(row.snapshot).value)].join('.');
            },
            wallet: api.wallet,
            sendSms: api.sendSms,
            // The operator's callback lands, then the outbox is sent, as the server's loops would.
            settle: async () => {
              await app.services.orange.flush();
              await app.services.dispatcher.drain();
            },
            sms: async () => received.all() as ReceivedSms[],
          },
          slug,
        );
        if (UPDATE) writeFileSync(path, stringifyTranscript(result.actual));
        else expect(result.problems, result.problems.join('\n\n')).toEqual([]);
      } finally {
        await app.close();
      }
    });
  }
});

function statePath(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') {
    const [key, child] = Object.entries(value)[0] ?? [];
    return key === undefined ? [] : [key, ...statePath(child)];
  }
  return [];
}
