import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { fold, isGsm7, SCREEN_SEPTETS, septets } from '../i18n/gsm7.ts';

/**
 * Golden transcripts (design.md "Testing"): a phone, a clock and the inputs, with every screen the
 * member must see. The same runner serves the test suite and `sabatili simulate --script`.
 */
const hopStep = z
  .strictObject({
    /** What the member types at this hop; the runner builds the gateway's cumulative text. */
    input: z.string().optional(),
    /** An exact `text` to send instead (odd inputs, gateway retries). */
    raw: z.string().optional(),
    /** Play this hop in the gateway session of that name: a new one (redial), or one named before (its text goes on). */
    session: z.string().optional(),
    /** Advance the clock by this many seconds before the step (instead of one). */
    wait: z.number().int().nonnegative().optional(),
    /** The machine's state path after the hop, e.g. `coverage.summary.active`. */
    state: z.string().optional(),
    screen: z.string(),
  })
  .refine((s) => (s.input === undefined) !== (s.raw === undefined), { message: 'a step has exactly one of input or raw' });

/** The member answers Orange Money's PIN prompt on the handset (`confirm 1234`) or declines it (`refuse`). */
const walletStep = z.strictObject({
  wallet: z.string().regex(/^(confirm \d{4}|refuse)$/, { error: 'is "confirm" and a 4-digit PIN, or "refuse"' }),
  wait: z.number().int().nonnegative().optional(),
});

/** The member texts the service (a keyword such as SOLDE or STOP). */
const smsStep = z.strictObject({
  sms: z.string().min(1),
  wait: z.number().int().nonnegative().optional(),
});

const smsSchema = z.strictObject({ to: z.string(), text: z.string() });

export const transcriptSchema = z.object({
  name: z.string(),
  phone: z.string().regex(/^\+[1-9]\d{6,14}$/),
  lang: z.enum(['fr', 'bm']).optional(),
  /** Frozen time of the first step; each step advances it one second. */
  clock: z.iso.datetime(),
  /** When the demo data was loaded, if not at `clock` (to meet a household in grace or waiting). */
  seeded: z.iso.datetime().optional(),
  steps: z.array(z.union([hopStep, walletStep, smsStep])).min(1),
  /** Every SMS any phone received while the transcript played, in order: exactly these. */
  sms: z.array(smsSchema).optional(),
});

export type Transcript = z.infer<typeof transcriptSchema>;
export type Step = Transcript['steps'][number];
export type HopStep = z.infer<typeof hopStep>;
export type ReceivedSms = z.infer<typeof smsSchema>;
export type StepKind = 'hop' | 'wallet' | 'sms';

export function kindOf(step: Step): StepKind {
  return 'wallet' in step ? 'wallet' : 'sms' in step ? 'sms' : 'hop';
}

export interface TranscriptTarget {
  hop(sessionId: string, phone: string, text: string): Promise<{ status: number; body: string }>;
  /** Moves a frozen server clock; absent when playing against a remote URL. */
  setClock?(instant: Date): void;
  /** The machine state after a hop, for `state:` checks; absent against a remote URL. */
  stateOf?(sessionId: string): string | undefined;
  /**
   * Answers the phone's pending PIN prompt; a problem when there was none to answer. `open`: the
   * prompt is still open (a wrong PIN with tries left), so nothing was set going and nothing settles.
   */
  wallet?(phone: string, answer: { pin: string } | 'refuse'): Promise<{ problem?: string; open?: boolean }>;
  /** The phone texts the service. */
  sendSms?(phone: string, text: string): Promise<{ problem?: string }>;
  /** Lets what a step set going finish: the operator's callback lands, the outbox is sent. */
  settle?(after: StepKind): Promise<void>;
  /** Every SMS received since the transcript began, oldest first; without it, SMS are not checked. */
  sms?(): Promise<ReceivedSms[]>;
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

function describe(step: Step, i: number): string {
  if ('wallet' in step) return `step ${i + 1} (wallet "${step.wallet}")`;
  if ('sms' in step) return `step ${i + 1} (sms "${step.sms}")`;
  return `step ${i + 1} (${step.raw !== undefined ? `raw "${step.raw}"` : `input "${step.input}"`})`;
}

const smsLines = (list: ReceivedSms[]) => list.map((m) => `${m.to}: ${m.text}`).join('\n');

/**
 * Plays every step and checks every screen, not only the last, each against the 160-septet
 * budget; then every SMS the phones received (when the target can read them).
 */
export async function playTranscript(t: Transcript, target: TranscriptTarget, slug = 'transcript'): Promise<TranscriptResult> {
  const problems: string[] = [];
  const actualSteps: Step[] = [];
  let sessionId = `${slug}-0`;
  // Each gateway session's cumulative text, so that a transcript can go back to an earlier session.
  const texts = new Map<string, string>();
  let time = new Date(t.clock).getTime();

  for (const [i, step] of t.steps.entries()) {
    if (i > 0) time += (step.wait ?? 1) * 1000;
    target.setClock?.(new Date(time));
    const where = describe(step, i);
    const kind = kindOf(step);

    if ('wallet' in step || 'sms' in step) {
      const act =
        'wallet' in step
          ? target.wallet?.(t.phone, step.wallet === 'refuse' ? 'refuse' : { pin: step.wallet.slice('confirm '.length) })
          : target.sendSms?.(t.phone, step.sms);
      let open = false;
      if (!act) problems.push(`${where}: this target cannot play it`);
      else {
        const answered: { problem?: string; open?: boolean } = await act;
        if (answered.problem) problems.push(`${where}: ${answered.problem}`);
        open = answered.open === true;
      }
      // Settling waits for what the step set going (an SMS); a prompt left open set nothing going.
      if (!open) await target.settle?.(kind);
      actualSteps.push(step);
      continue;
    }

    if (step.session !== undefined) sessionId = `${slug}-${step.session}`;
    const before = texts.get(sessionId);
    // The gateway sends the first input alone, then every input joined with '*'.
    const text =
      step.raw !== undefined ? step.raw : before === undefined || before === '' ? (step.input as string) : `${before}*${step.input}`;
    texts.set(sessionId, text);

    const res = await target.hop(sessionId, t.phone, text);
    if (res.status !== 200) problems.push(`${where}: HTTP ${res.status}: ${res.body}`);
    if (!/^(CON|END) /.test(res.body))
      problems.push(`${where}: the reply does not start with "CON " or "END ": ${JSON.stringify(res.body.slice(0, 80))}`);
    const shown = res.body.slice(4);
    if (!isGsm7(shown)) problems.push(`${where}: characters outside GSM-7 on the wire`);
    else if (septets(shown) > SCREEN_SEPTETS) problems.push(`${where}: screen is ${septets(shown)} septets, over ${SCREEN_SEPTETS}`);
    if (trimEnd(step.screen) !== res.body) problems.push(`${where}: screen differs\n${diff(trimEnd(step.screen), res.body)}`);

    const state = step.state !== undefined ? target.stateOf?.(sessionId) : undefined;
    if (step.state !== undefined && target.stateOf && state !== step.state) {
      problems.push(`${where}: state is ${state}, expected ${step.state}`);
    }
    await target.settle?.(kind);
    actualSteps.push({ ...step, screen: res.body, ...(state !== undefined ? { state } : {}) });
  }

  const actual: Transcript = { ...t, steps: actualSteps };
  if (target.sms) {
    const got = (await target.sms()).map((m) => ({ to: m.to, text: m.text }));
    // The wire carries folded text; an expected SMS may be written unfolded.
    const expected = (t.sms ?? []).map((m) => ({ to: m.to, text: fold(m.text) }));
    if (smsLines(got) !== smsLines(expected)) {
      const what =
        got.length > expected.length
          ? 'an SMS more than expected'
          : got.length < expected.length
            ? 'an expected SMS missing'
            : 'an SMS different';
      problems.push(`SMS differ (${what}; each line "to: text"):\n${diff(smsLines(expected), smsLines(got))}`);
    }
    if (got.length > 0) actual.sms = got;
    else delete actual.sms;
  }
  return { ok: problems.length === 0, problems, actual };
}

/**
 * sabatili's simulator API at `base` (design.md, "Simulator JSON API") as a transcript needs it:
 * the phone's Orange Money prompt, a phone texting the service, and the phones' inboxes.
 */
export function simulatorApi(base: string) {
  const json = async (path: string, body: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  };
  return {
    async wallet(phone: string, answer: { pin: string } | 'refuse'): Promise<{ problem?: string; open?: boolean }> {
      const r =
        answer === 'refuse'
          ? await json('/simulator/api/wallet/refuse', { phone })
          : await json('/simulator/api/wallet/confirm', { phone, pin: answer.pin });
      // A wrong PIN leaves the prompt open (409): a transcript may mean it. Anything else unanswered is a mistake.
      if (r.status === 409) return { open: true };
      return r.status === 200 ? {} : { problem: `the wallet answered ${r.status} ${String(r.body.error ?? '')}` };
    },
    async sendSms(phone: string, text: string): Promise<{ problem?: string }> {
      const r = await json('/simulator/api/sms', { from: phone, text });
      return r.status === 202 ? {} : { problem: `the simulator answered ${r.status} (gateway ${String(r.body.gatewayStatus ?? '?')})` };
    },
    /** A phone's inbox, oldest first (`id` is the gateway's message id). */
    async inbox(phone: string): Promise<Array<{ id: string; to: string; text: string; createdAt: string }>> {
      const res = await fetch(`${base}/simulator/api/sms?phone=${encodeURIComponent(phone)}`);
      if (!res.ok) throw new Error(`the simulator's inbox answered ${res.status}`);
      return (await res.json()) as Array<{ id: string; to: string; text: string; createdAt: string }>;
    },
  };
}
