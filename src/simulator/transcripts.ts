import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { fold, isGsm7, SCREEN_SEPTETS, septets } from '../i18n/gsm7.ts';

/**
 * Golden transcripts (design.md "Testing"): a phone, a clock and the inputs, with every screen the
 * member must see. The same runner serves the test suite and `sabatili simulate --script`.
 */
const stepSchema = z
  .object({
    /** What the member types at this hop; the runner builds the gateway's cumulative text. */
    input: z.string().optional(),
    /** An exact `text` to send instead (odd inputs, gateway retries). */
    raw: z.string().optional(),
    /** Start a new gateway session from this step (redial). */
    session: z.string().optional(),
    /** Advance the clock by this many seconds before the hop (instead of one). */
    wait: z.number().int().nonnegative().optional(),
    /** The machine's state path after the hop, e.g. `coverage.summary.active`. */
    state: z.string().optional(),
    screen: z.string(),
  })
  .refine((s) => (s.input === undefined) !== (s.raw === undefined), { message: 'a step has exactly one of input or raw' });

export const transcriptSchema = z.object({
  name: z.string(),
  phone: z.string().regex(/^\+[1-9]\d{6,14}$/),
  lang: z.enum(['fr', 'bm']).optional(),
  /** Frozen time of the first hop; each hop advances it one second. */
  clock: z.iso.datetime(),
  /** When the demo data was loaded, if not at `clock` (to meet a household in grace or waiting). */
  seeded: z.iso.datetime().optional(),
  steps: z.array(stepSchema).min(1),
  sms: z.array(z.object({ to: z.string(), text: z.string() })).optional(),
});

export type Transcript = z.infer<typeof transcriptSchema>;
export type Step = Transcript['steps'][number];

export interface TranscriptTarget {
  hop(sessionId: string, phone: string, text: string): Promise<{ status: number; body: string }>;
  /** Moves a frozen server clock; absent when playing against a remote URL. */
  setClock?(instant: Date): void;
  /** The machine state after a hop, for `state:` checks; absent against a remote URL. */
  stateOf?(sessionId: string): string | undefined;
  /** SMS sent to a phone, oldest first. */
  sms?(phone: string): Promise<Array<{ to: string; text: string }>>;
}

export interface TranscriptResult {
  ok: boolean;
  problems: string[];
  /** The transcript with the screens and SMS actually seen, for `--update`. */
  actual: Transcript;
}

export function readTranscript(path: string): Transcript {
  return transcriptSchema.parse(YAML.parse(readFileSync(path, 'utf8')));
}

export function stringifyTranscript(t: Transcript): string {
  return YAML.stringify(t, { blockQuote: 'literal', lineWidth: 0 });
}

const trimEnd = (s: string) => s.replace(/\n+$/, '');

function diff(expected: string, actual: string): string {
  const e = expected.split('\n');
  const a = actual.split('\n');
  const out: string[] = [];
  for (let i = 0; i < Math.max(e.length, a.length); i++) {
    if (e[i] === a[i]) out.push(`    ${e[i]}`);
    else {
      if (e[i] !== undefined) out.push(`  - ${e[i]}`);
      if (a[i] !== undefined) out.push(`  + ${a[i]}`);
    }
  }
  return out.join('\n');
}

/** Plays every hop and checks every screen, not only the last, and each against the 160-septet budget. */
export async function playTranscript(t: Transcript, target: TranscriptTarget, slug = 'transcript'): Promise<TranscriptResult> {
  const problems: string[] = [];
  const actualSteps: Step[] = [];
  let sessionId = `${slug}-0`;
  let text: string | null = null;
  let time = new Date(t.clock).getTime();

  for (const [i, step] of t.steps.entries()) {
    if (step.session !== undefined) {
      sessionId = `${slug}-${step.session}`;
      text = null;
    }
    if (i > 0) time += (step.wait ?? 1) * 1000;
    target.setClock?.(new Date(time));
    if (step.raw !== undefined) text = step.raw;
    // The gateway sends the first input alone, then every input joined with '*'.
    else text = text === null || text === '' ? (step.input as string) : `${text}*${step.input}`;

    const res = await target.hop(sessionId, t.phone, text);
    const where = `step ${i + 1} (${step.raw !== undefined ? `raw "${step.raw}"` : `input "${step.input}"`})`;
    if (res.status !== 200) problems.push(`${where}: HTTP ${res.status}: ${res.body}`);
    if (!/^(CON|END) /.test(res.body)) problems.push(`${where}: the reply does not start with "CON " or "END ": ${JSON.stringify(res.body.slice(0, 80))}`);
    const shown = res.body.slice(4);
    if (!isGsm7(shown)) problems.push(`${where}: characters outside GSM-7 on the wire`);
    else if (septets(shown) > SCREEN_SEPTETS) problems.push(`${where}: screen is ${septets(shown)} septets, over ${SCREEN_SEPTETS}`);
    if (trimEnd(step.screen) !== res.body) problems.push(`${where}: screen differs\n${diff(trimEnd(step.screen), res.body)}`);

    const state = step.state !== undefined ? target.stateOf?.(sessionId) : undefined;
    if (step.state !== undefined && target.stateOf && state !== step.state) {
      problems.push(`${where}: state is ${state}, expected ${step.state}`);
    }
    actualSteps.push({ ...step, screen: res.body, ...(state !== undefined ? { state } : {}) });
  }

  const actual: Transcript = { ...t, steps: actualSteps };
  if (target.sms) {
    const sent = await target.sms(t.phone);
    const expected = t.sms ?? [];
    const got = sent.map((m) => ({ to: m.to, text: m.text }));
    if (JSON.stringify(got) !== JSON.stringify(expected.map((m) => ({ to: m.to, text: fold(m.text) })))) {
      problems.push(`SMS differ:\n${diff(expected.map((m) => `${m.to}: ${m.text}`).join('\n'), got.map((m) => `${m.to}: ${m.text}`).join('\n'))}`);
    }
    if (got.length > 0) actual.sms = got;
  }
  return { ok: problems.length === 0, problems, actual };
}
