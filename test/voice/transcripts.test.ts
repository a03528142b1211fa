import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { z } from 'zod';
import type { VoiceCallRow } from '../../src/db/voice-outbox.ts';
import { sequentialIds } from '../../src/ids.ts';
import { simulatorApi } from '../../src/simulator/transcripts.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

/**
 * Voice golden transcripts (fixtures/transcripts/voice/<flow>.<fr|bm>.<case>.yaml): each step is one
 * notification of Africa's Talking's voice callback posted to the real app over HTTP, with the
 * caption (what is said) and the message key of the prompt it answers. A transcript with `outbound`
 * is a call UTM places (a call-back, or a reminder call decided by the reminders job at `at`):
 * placed through the fake voice API first, its notifications are Outbound with the ids it was
 * placed with, and its outbox row's outcome is checked at the end. UPDATE_TRANSCRIPTS=1 rewrites the
 * expected captions and outcomes for review in the diff.
 */
const ROOT = join(import.meta.dirname, '..', '..', 'fixtures', 'transcripts', 'voice');
const UPDATE = process.env.UPDATE_TRANSCRIPTS === '1';

const step = z.strictObject({
  /** What the gateway posts: the call answered, keys pressed, a prompt timed out, a retry of the last post, the hang-up. */
  call: z.enum(['start', 'digits', 'silence', 'retry', 'hangup']).optional(),
  digits: z.string().optional(),
  /** Post with this prompt number instead of the current one (a late retry, a forged number). */
  step: z.number().int().optional(),
  /** The subscriber answers the operator's PIN prompt on the handset. */
  wallet: z.string().optional(),
  screen: z.string().nullable().optional(),
  caption: z.string().optional(),
  /** 'key', 'number', or 'end' (nothing collected: the call ends after the prompt), 'reject'. */
  collects: z.enum(['key', 'number', 'end', 'nothing']).optional(),
});
const outcome = z.strictObject({
  status: z.string(),
  outcome: z.string().nullable(),
  keyPressed: z.string().nullable(),
  durationSeconds: z.number().nullable(),
  cost: z.string().nullable(),
  hangupCause: z.string().nullable(),
});
const transcript = z.strictObject({
  name: z.string(),
  phone: z.string(),
  clock: z.string(),
  outbound: z
    .strictObject({ purpose: z.enum(['call-back', 'reminder']), at: z.string().optional(), outcome: outcome.optional() })
    .optional(),
  steps: z.array(step),
  sms: z.array(z.strictObject({ to: z.string(), text: z.string() })).optional(),
});
type Step = z.infer<typeof step>;

const files = readdirSync(ROOT)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

const collectsOf = (xml: string) =>
  xml.includes('numDigits="1"') ? 'key' : xml.includes('finishOnKey="#"') ? 'number' : /<(Play|Say)\b/.test(xml) ? 'end' : 'nothing';

/** The call UTM places to the transcript's phone, placed through the fake voice API (it rings once). */
async function placeCall(
  app: TestApp,
  phone: string,
  o: { purpose: 'call-back' | 'reminder'; at?: string | undefined },
): Promise<VoiceCallRow> {
  const s = app.services;
  const household = s.households.findByPhone(phone);
  if (!household) throw new Error(`${phone} is no household's phone`);
  if (o.at) app.clock.set(o.at);
  if (o.purpose === 'call-back') s.calls.queueCallBack(phone, household.id, household.language, app.clock.now());
  else {
    s.preferences.setReminderChannel(household.id, 'voice', 'office', app.clock.now());
    s.reminders.run();
  }
  expect(await s.calls.drain()).toMatchObject({ placed: 1 });
  return s.calls.ofPhone(phone).at(-1) as VoiceCallRow;
}

describe('voice golden transcripts', () => {
  it('cover coverage, contribute, history and language in both languages, and the calls UTM places', () => {
    for (const flow of ['coverage', 'contribute', 'history', 'language', 'register', 'bad', 'call-back', 'reminder']) {
      for (const lang of ['fr', 'bm'])
        expect(
          files.some((f) => f.startsWith(`${flow}.${lang}.`)),
          `${flow}.${lang}.*.yaml`,
        ).toBe(true);
    }
  });

  for (const file of files) {
    it(file, async () => {
      const path = join(ROOT, file);
      const t = transcript.parse(YAML.parse(readFileSync(path, 'utf8')));
      const app = await startTestApp({
        clock: t.clock,
        ids: sequentialIds(),
        env: { SIMULATOR_DELIVERY_DELAY_MS: '600000', VOICE_PRERENDER: 'false' },
      });
      const placed = t.outbound ? await placeCall(app, t.phone, t.outbound) : undefined;
      const sessionId = placed?.sessionId ?? `ATVId_${file.replace(/[^a-z0-9]/gi, '')}`;
      const base: Record<string, string> = placed
        ? {
            sessionId,
            direction: 'Outbound',
            callerNumber: '+22320200000',
            destinationNumber: t.phone,
            clientRequestId: placed.clientRequestId,
          }
        : { sessionId, direction: 'Inbound', callerNumber: t.phone, destinationNumber: '+22320000000' };
      const api = simulatorApi(app.url);
      const problems: string[] = [];
      let current = 0;
      let last: Record<string, string> = { ...base, isActive: '1' };
      let lastStep: number | null = null;
      try {
        for (const [i, s] of t.steps.entries()) {
          app.clock.set(new Date(app.clock.now().getTime() + 1000));
          if (s.wallet) {
            const [verb, pin] = s.wallet.split(' ');
            await (verb === 'refuse' ? api.wallet(t.phone, 'refuse') : api.wallet(t.phone, { pin: pin as string }));
            await app.services.orange.flush();
            await app.services.dispatcher.drain();
            continue;
          }
          let form: Record<string, string>;
          let at: number | null = s.step ?? current;
          const kind = s.call ?? (s.digits !== undefined ? 'digits' : 'start');
          if (kind === 'start') [form, at] = [{ ...base, isActive: '1' }, null];
          else if (kind === 'digits') form = { ...base, isActive: '1', dtmfDigits: s.digits ?? '' };
          else if (kind === 'silence') form = { ...base, isActive: '1' };
          else if (kind === 'retry') [form, at] = [last, lastStep];
          else
            form = { ...base, isActive: '0', durationInSeconds: '42', amount: '10.0', currencyCode: 'XOF', hangupCause: 'NORMAL_CLEARING' };
          const r = await app.post(at === null ? '/voice' : `/voice?step=${at}`, form);
          [last, lastStep] = [form, at];
          if (r.status !== 200) {
            problems.push(`step ${i + 1}: HTTP ${r.status} ${r.body}`);
            continue;
          }
          const next = /step=(\d+)/.exec(r.body);
          if (next) current = Number(next[1]);
          const heard = app.services.voice.store.steps(sessionId).find((x) => x.xml === r.body);
          const actual: Step = { ...s, collects: collectsOf(r.body) };
          if (kind !== 'hangup') Object.assign(actual, { screen: heard?.screen ?? null, caption: heard?.caption ?? '' });
          if (UPDATE) Object.assign(s, actual);
          else
            for (const k of ['screen', 'caption', 'collects'] as const) {
              if (s[k] !== undefined && s[k] !== actual[k])
                problems.push(`step ${i + 1} ${k}:\n  expected ${s[k]}\n  actual   ${actual[k]}`);
            }
        }
        await app.services.orange.flush();
        await app.services.dispatcher.drain();
        const sms = app.services.db.prepare('SELECT to_phone AS "to", text FROM sim_sms ORDER BY id').all() as Array<{
          to: string;
          text: string;
        }>;
        if (UPDATE) t.sms = sms;
        else expect(sms).toEqual(t.sms ?? []);
        if (placed && t.outbound) {
          const { status, outcome, keyPressed, durationSeconds, cost, hangupCause } = app.services.calls.get(placed.id) as VoiceCallRow;
          const row = { status, outcome, keyPressed, durationSeconds, cost, hangupCause };
          if (UPDATE) t.outbound.outcome = row;
          else expect(row).toEqual(t.outbound.outcome);
        }
        if (UPDATE) writeFileSync(path, YAML.stringify(t, { lineWidth: 0 }));
        else expect(problems, problems.join('\n')).toEqual([]);
      } finally {
        await app.close();
      }
    });
  }
});
