import { randomBytes } from 'node:crypto';
import { readCapped } from './ussd-gateway.ts';
import { type Collect, readVoiceAnswer, type Said, VoiceXmlError } from './voice-xml.ts';

/**
 * The voice side of Africa's Talking as a library (../shared/reference/africastalking-voice.md):
 * calls in memory, each event posted to the number's voice callback as the gateway's form, the XML
 * answer read (src/simulator/voice-xml.ts) and played: its prompt, then the keys collected and
 * posted to the GetDigits callbackUrl, a timeout posted without digits, `<Reject/>` (free for the
 * caller), the end of the call after a prompt that collects nothing, and the last notification
 * (`isActive=0`, duration, cost, hang-up cause). Calls UTM places through the fake voice API ring
 * the simulated phone until answered (posted `direction=Outbound`), declined or left unanswered.
 * The browser and the terminal phones drive it through `/simulator/api/voice/*`.
 */

/** The gateway gives the application this long to answer an event; silence after it is a failed call. */
export const VOICE_ANSWER_MS = 10_000;
/** An outbound call rings this long before the gateway gives up (NO_ANSWER). */
export const RING_MS = 60_000;
/** What the simulated operator charges UTM per started minute of an answered call, in XOF. */
export const COST_PER_MINUTE_XOF = 30;
/** Bytes of an answer, and of a prompt's audio, the gateway reads. */
const MAX_XML_BYTES = 64 * 1024;
const MAX_AUDIO_BYTES = 8 * 1024 * 1024;
/** How long the gateway's own text to speech takes per character, to time a `<Say>`. */
const SAY_MS_PER_CHAR = 70;

export type VoiceEventKind = 'start' | 'digits' | 'timeout' | 'answer' | 'end';

/** One event as it crossed the wire, for the request log. */
export interface VoiceExchange {
  kind: VoiceEventKind;
  request: { url: string; body: string };
  httpStatus: number | null;
  response: string | null;
  ms: number;
  error?: string;
}

export interface VoicePrompt {
  /** The text spoken: the caption the application stored for this answer, else the `<Say>` texts. */
  caption: string;
  /** The audio files to play, in order (`<Play url>`), as the simulator relays them: `/simulator/api/voice/audio?…`. */
  audio: string[];
  /** The texts the gateway's own voice reads (`<Say>`). */
  say: string[];
}

export interface CallEnd {
  hangupCause: string;
  durationInSeconds: number;
  amount: string;
  currencyCode: string;
}

/** A call as the phones see it (the JSON of `/simulator/api/voice/*`). */
export interface VoiceCallView {
  sessionId: string;
  phone: string;
  direction: 'Inbound' | 'Outbound';
  /** The other end: UTM's number. */
  utm: string;
  clientRequestId: string | null;
  status: 'ringing' | 'active' | 'ended';
  prompt: VoicePrompt | null;
  collect: Omit<Collect, 'callbackUrl'> | null;
  /** Every event posted, oldest first. */
  exchanges: VoiceExchange[];
  /** How the call ended, once it has. */
  end: CallEnd | null;
  rejected: boolean;
  error: string | null;
}

interface Call extends VoiceCallView {
  url: string;
  /** The prompt's `<Play>` URLs as the application gave them (with the gateway key: never shown). */
  playUrls: string[];
  startedMs: number;
  answeredMs: number | null;
  callbackUrl: string | null;
  /** When the prompt has been heard and the collection times out. */
  deadlineMs: number | null;
  queue: Promise<unknown>;
}

export interface RingingCall {
  sessionId: string;
  from: string;
  to: string;
  clientRequestId: string | null;
}

export interface VoiceGatewayOptions {
  /** UTM's number: what the phones call, and the caller id UTM's calls show. */
  voiceNumber: string;
  /** The number's voice callback (this server's /voice); undefined until it listens. */
  url: () => string | undefined;
  /** The URL actually posted to for a callback URL (adds the gateway key to the server's own routes). */
  callbackUrl?: (url: string) => string;
  /** The text spoken by an answer, as the application stored it (null when it did not: another application). */
  caption?: (sessionId: string, xml: string) => string | null;
  now?: () => number;
  answerMs?: number;
  ringMs?: number;
}

/**
 * The gateway key out of what the phones show: the callback URLs and the application's answers
 * carry it, and the simulator page may be reached from another machine.
 */
export const redactKey = (s: string) => s.replace(/([?&]|&amp;)key=[^&"'\s<]*/g, '$1key=…');

const newSessionId = () => `ATVId_${randomBytes(16).toString('hex')}`;
const formatDate = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

/** A PCM WAV's length from its header (the byte rate and the data chunk), 0 when it is not one. */
export function wavMs(b: Buffer): number {
  if (b.length < 44 || b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') return 0;
  let at = 12;
  let byteRate = 0;
  while (at + 8 <= b.length) {
    const id = b.toString('ascii', at, at + 4);
    const size = b.readUInt32LE(at + 4);
    if (id === 'fmt ' && at + 20 <= b.length) byteRate = b.readUInt32LE(at + 16);
    if (id === 'data') return byteRate ? Math.round((Math.min(size, b.length - at - 8) / byteRate) * 1000) : 0;
    at += 8 + size + (size % 2);
  }
  return 0;
}

export function createVoiceGateway(opts: VoiceGatewayOptions) {
  const now = opts.now ?? Date.now;
  const answerMs = opts.answerMs ?? VOICE_ANSWER_MS;
  const ringMs = opts.ringMs ?? RING_MS;
  const target = opts.callbackUrl ?? ((u: string) => u);
  const calls = new Map<string, Call>();
  let sweeper: NodeJS.Timeout | undefined;

  const post = (url: string, body: string) =>
    fetch(target(url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(answerMs),
    });

  const view = (c: Call): VoiceCallView => ({
    sessionId: c.sessionId,
    phone: c.phone,
    direction: c.direction,
    utm: c.utm,
    clientRequestId: c.clientRequestId,
    status: c.status,
    prompt: c.prompt,
    collect: c.collect,
    exchanges: c.exchanges,
    end: c.end,
    rejected: c.rejected,
    error: c.error,
  });

  /** The fields every notification of the call carries, as the gateway names them. */
  function fields(c: Call, active: boolean): Record<string, string> {
    const f: Record<string, string> = {
      sessionId: c.sessionId,
      isActive: active ? '1' : '0',
      direction: c.direction,
      // Inbound: the phone called UTM's number. Outbound: UTM's number called the phone.
      callerNumber: c.direction === 'Inbound' ? c.phone : c.utm,
      destinationNumber: c.direction === 'Inbound' ? c.utm : c.phone,
    };
    if (c.clientRequestId) f.clientRequestId = c.clientRequestId;
    return f;
  }

  async function exchange(c: Call, kind: VoiceEventKind, url: string, form: Record<string, string>) {
    const body = new URLSearchParams(form).toString();
    const started = performance.now();
    const x: VoiceExchange = { kind, request: { url: redactKey(url), body }, httpStatus: null, response: null, ms: 0 };
    c.exchanges.push(x);
    let raw: string | null = null;
    try {
      const res = await post(url, body);
      const { text, truncated } = await readCapped(res, MAX_XML_BYTES);
      x.httpStatus = res.status;
      raw = text;
      x.response = redactKey(text);
      if (res.status !== 200) x.error = `the application answered HTTP ${res.status}`;
      else if (truncated) x.error = `the answer is longer than ${MAX_XML_BYTES} bytes`;
    } catch (err) {
      const e = err as Error;
      x.error = `network error: ${e.name === 'TimeoutError' ? `no answer within ${answerMs / 1000} s` : ((e.cause as Error | undefined)?.message ?? e.message)}`;
    }
    x.ms = Math.round(performance.now() - started);
    return { x, raw };
  }

  /** The last notification, once: duration, cost (nothing for a call never answered) and cause. */
  async function finish(c: Call, hangupCause: string): Promise<void> {
    if (c.status === 'ended') return;
    const t = now();
    const answered = c.answeredMs !== null && !c.rejected;
    const durationInSeconds = answered ? Math.max(1, Math.round((t - (c.answeredMs as number)) / 1000)) : 0;
    const amount = answered ? Math.ceil(durationInSeconds / 60) * COST_PER_MINUTE_XOF : 0;
    c.end = { hangupCause, durationInSeconds, amount: amount.toFixed(4), currencyCode: 'XOF' };
    c.status = 'ended';
    c.collect = null;
    c.deadlineMs = null;
    await exchange(c, 'end', c.url, {
      ...fields(c, false),
      durationInSeconds: String(durationInSeconds),
      currencyCode: 'XOF',
      amount: c.end.amount,
      hangupCause,
      callStartTime: formatDate(c.startedMs),
    });
  }

  /** How long the prompt plays: a `<Play>` file's length (the gateway fetches it, as the real one does), a `<Say>` by its length. */
  async function playMs(c: Call, said: Said[]): Promise<number> {
    let ms = 0;
    for (const s of said) {
      if ('say' in s) {
        ms += s.say.length * SAY_MS_PER_CHAR;
        continue;
      }
      try {
        const res = await fetch(target(s.play), { redirect: 'manual', signal: AbortSignal.timeout(answerMs) });
        if (res.status !== 200) c.error = `the prompt's audio ${s.play} answered HTTP ${res.status}`;
        ms += await audioMs(res);
      } catch (err) {
        c.error = `the prompt's audio ${s.play} could not be fetched: ${(err as Error).message}`;
      }
    }
    return ms;
  }

  async function audioMs(res: Response): Promise<number> {
    if (!res.body) return 0;
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      chunks.push(chunk);
      size += chunk.byteLength;
      if (size > MAX_AUDIO_BYTES) break;
    }
    return wavMs(Buffer.concat(chunks));
  }

  /** Plays what the application answered: a prompt, then digits, a rejection or the end of the call. */
  async function play(c: Call, { x, raw }: { x: VoiceExchange; raw: string | null }): Promise<void> {
    if (x.error || raw === null) {
      c.error = x.error ?? 'no answer';
      return finish(c, 'NORMAL_TEMPORARY_FAILURE');
    }
    let plan: ReturnType<typeof readVoiceAnswer>;
    try {
      plan = readVoiceAnswer(raw);
    } catch (err) {
      if (!(err instanceof VoiceXmlError)) throw err;
      x.error = `not a voice answer the gateway can play: ${err.message}`;
      c.error = x.error;
      return finish(c, 'NORMAL_TEMPORARY_FAILURE');
    }
    c.error = null;
    const said = plan.said;
    const playUrls = said.flatMap((s) => ('play' in s ? [s.play] : []));
    const step = c.exchanges.length;
    const prompt: VoicePrompt = {
      caption: opts.caption?.(c.sessionId, raw) ?? said.flatMap((s) => ('say' in s ? [s.say] : [])).join(' '),
      audio: playUrls.map((_, n) => `/simulator/api/voice/audio?sessionId=${encodeURIComponent(c.sessionId)}&step=${step}&n=${n}`),
      say: said.flatMap((s) => ('say' in s ? [s.say] : [])),
    };
    if ('reject' in plan.next) {
      Object.assign(c, { playUrls, prompt, rejected: true });
      return finish(c, 'CALL_REJECTED');
    }
    const heardMs = await playMs(c, said);
    // The prompt and what it collects change together: a phone polling meanwhile never sees one without the other.
    Object.assign(c, { playUrls, prompt });
    if ('hangUp' in plan.next) return finish(c, 'NORMAL_CLEARING');
    const { callbackUrl, ...collect } = plan.next.collect;
    c.collect = collect;
    c.callbackUrl = callbackUrl;
    c.deadlineMs = now() + heardMs + collect.timeoutSeconds * 1000;
  }

  /** One event of a call at a time, as the real gateway waits for each answer. */
  function serial(c: Call, f: () => Promise<void>): Promise<VoiceCallView> {
    const run = c.queue.then(f, f);
    c.queue = run.catch(() => undefined);
    return run.then(() => view(c));
  }

  type Opening = Pick<Call, 'sessionId' | 'phone' | 'direction' | 'utm' | 'clientRequestId' | 'url' | 'startedMs' | 'answeredMs'>;
  function open(c: Opening, status: Call['status']): Call {
    const call: Call = {
      ...c,
      status,
      playUrls: [],
      prompt: null,
      collect: null,
      exchanges: [],
      end: null,
      rejected: false,
      error: null,
      callbackUrl: null,
      deadlineMs: null,
      queue: Promise.resolve(),
    };
    calls.set(call.sessionId, call);
    return call;
  }

  function live(sessionId: string): Call {
    const c = calls.get(sessionId);
    if (!c) throw new UnknownCall(sessionId);
    return c;
  }

  /** Posts the digits (or a timeout: none) to the prompt's callbackUrl, or the number's callback. */
  async function collected(c: Call, kind: 'digits' | 'timeout', digits: string | null): Promise<void> {
    if (c.status !== 'active' || !c.collect) return;
    const url = c.callbackUrl ?? c.url;
    c.collect = null;
    c.deadlineMs = null;
    const form = fields(c, true);
    if (digits) form.dtmfDigits = digits;
    await play(c, await exchange(c, kind, url, form));
  }

  return {
    voiceNumber: opts.voiceNumber,
    /** The number's voice callback, where calls are posted. */
    url: opts.url,
    /** A phone calls UTM's number: the first notification, and what it answers played. */
    call(phone: string, url?: string): Promise<VoiceCallView> {
      const appUrl = url ?? opts.url();
      if (!appUrl) throw new Error('the server is not listening yet');
      const t = now();
      const c = open(
        {
          sessionId: newSessionId(),
          phone,
          direction: 'Inbound',
          utm: opts.voiceNumber,
          clientRequestId: null,
          url: appUrl,
          startedMs: t,
          answeredMs: t,
        },
        'active',
      );
      return serial(c, async () => play(c, await exchange(c, 'start', c.url, fields(c, true))));
    },
    /** A call UTM placed through the fake voice API starts ringing its phone. */
    ring(r: RingingCall): void {
      const url = opts.url();
      if (!url || calls.has(r.sessionId)) return;
      open(
        {
          sessionId: r.sessionId,
          phone: r.to,
          direction: 'Outbound',
          utm: r.from,
          clientRequestId: r.clientRequestId,
          url,
          startedMs: now(),
          answeredMs: null,
        },
        'ringing',
      );
    },
    /** The calls ringing a phone now, oldest first. */
    ringing(phone: string): VoiceCallView[] {
      return [...calls.values()].filter((c) => c.status === 'ringing' && c.phone === phone).map(view);
    },
    /** The phone picks up: the gateway posts `direction=Outbound` and plays the answer. */
    answer(sessionId: string): Promise<VoiceCallView> {
      const c = live(sessionId);
      return serial(c, async () => {
        if (c.status !== 'ringing') return;
        c.status = 'active';
        c.answeredMs = now();
        await play(c, await exchange(c, 'answer', c.url, fields(c, true)));
      });
    },
    /** The phone declines a ringing call: the application is told USER_BUSY. */
    decline(sessionId: string): Promise<VoiceCallView> {
      const c = live(sessionId);
      return serial(c, async () => {
        if (c.status === 'ringing') await finish(c, 'USER_BUSY');
      });
    },
    /**
     * Keys pressed while the gateway collects: a menu takes `numDigits` keys, a number ends on
     * `finishOnKey` (not sent); keys pressed when nothing is collected are lost, as on a real call.
     */
    press(sessionId: string, keys: string): Promise<VoiceCallView> {
      const c = live(sessionId);
      return serial(c, async () => {
        const k = c.collect;
        if (c.status !== 'active' || !k) return;
        let digits = keys;
        if (k.finishOnKey && digits.includes(k.finishOnKey)) digits = digits.slice(0, digits.indexOf(k.finishOnKey));
        if (k.numDigits) digits = digits.slice(0, k.numDigits);
        await collected(c, 'digits', digits);
      });
    },
    /** The collection timed out: posted with no digits. */
    timeout(sessionId: string): Promise<VoiceCallView> {
      const c = live(sessionId);
      return serial(c, () => collected(c, 'timeout', null));
    },
    /** The phone hangs up: the last notification (NORMAL_CLEARING). */
    hangUp(sessionId: string): Promise<VoiceCallView> {
      const c = live(sessionId);
      return serial(c, () => finish(c, c.status === 'ringing' ? 'USER_BUSY' : 'NORMAL_CLEARING'));
    },
    /** Where the prompt's n-th audio file is, as the gateway fetches it (the key added for this server). */
    audioUrl(sessionId: string, n: number): string | undefined {
      const url = calls.get(sessionId)?.playUrls[n];
      return url && target(url);
    },
    state(sessionId: string): VoiceCallView | undefined {
      const c = calls.get(sessionId);
      return c && view(c);
    },
    /** Times out the collections whose prompt has been heard and waited for, and gives up on calls rung too long. */
    async sweep(): Promise<void> {
      const t = now();
      const due: Promise<unknown>[] = [];
      for (const c of calls.values()) {
        if (c.status === 'active' && c.deadlineMs !== null && t >= c.deadlineMs) due.push(serial(c, () => collected(c, 'timeout', null)));
        else if (c.status === 'ringing' && t - c.startedMs >= ringMs) due.push(serial(c, () => finish(c, 'NO_ANSWER')));
        else if (c.status === 'ended' && c.end && t - c.startedMs > 3_600_000) calls.delete(c.sessionId);
      }
      await Promise.all(due);
    },
    start(everyMs = 1000): void {
      if (sweeper) return;
      sweeper = setInterval(() => void this.sweep(), everyMs);
      sweeper.unref();
    },
    stop(): void {
      clearInterval(sweeper);
      sweeper = undefined;
    },
  };
}

export class UnknownCall extends Error {
  constructor(sessionId: string) {
    super(`no such call: ${sessionId}`);
  }
}

export type VoiceGateway = ReturnType<typeof createVoiceGateway>;
