import { randomBytes } from 'node:crypto';

/**
 * The USSD side of Africa's Talking as a library (../shared/reference/africastalking.md): it opens
 * sessions, builds the cumulative `text`, posts each hop as the gateway's form, holds the
 * application to the CON/END contract and the 10 s answer time, applies the idle and total session
 * limits, and posts the end-of-session notification. The terminal phone uses it in its own process;
 * the browser phone through `/simulator/api/ussd/*` on the server.
 */

/** The gateway gives an application this long to answer a hop before the handset shows a network error. */
export const GATEWAY_TIMEOUT_MS = 10_000;
/** The longest answer a handset sends in one hop. */
export const MAX_INPUT_CHARS = 182;
/** Bytes of an application's answer the gateway reads; a USSD screen is far shorter, the rest is not read. */
export const MAX_REPLY_BYTES = 4096;
/** Characters of an answer that is not a USSD screen relayed in the request log. */
export const MAX_RELAYED_CHARS = 300;

export type EndStatus = 'Success' | 'Incomplete' | 'Failed';

export interface GatewayLimits {
  /** An application slower than this is a network error on the handset. */
  timeoutMs: number;
  /** A session without an answer from the member for this long is closed by the gateway. */
  idleMs: number;
  /** A session never lasts longer than this. */
  maxMs: number;
}

export const DEFAULT_LIMITS: GatewayLimits = { timeoutMs: GATEWAY_TIMEOUT_MS, idleMs: 60_000, maxMs: 180_000 };

export interface DialOptions {
  /** The application's USSD callback. */
  url: string;
  phone: string;
  code: string;
  networkCode?: string;
  /** Where the end-of-session notification goes; none when absent. */
  eventsUrl?: string;
}

/** One hop as it crossed the wire, for the request log, and what the handset shows. */
export interface HopResult {
  sessionId: string;
  /** The form the gateway posted (empty when the gateway refused the hop itself). */
  request: { url: string; body: string } | null;
  httpStatus: number | null;
  response: string | null;
  ms: number;
  /** The session is over: an END screen, an error, or a limit reached. */
  end: boolean;
  screen: string;
  /** What went wrong, as the handset or the gateway would tell it; the screen is then the handset's error. */
  error?: string;
  /** Set when this hop closed the session. */
  closed?: SessionEnd;
}

export interface SessionEnd {
  status: EndStatus;
  notification: Record<string, string>;
  /** How the events callback answered; null when there is none. */
  delivery: { url: string; httpStatus: number | null; error?: string } | null;
}

export interface GatewaySession {
  id: string;
  dial: DialOptions;
  startedMs: number;
  lastInputMs: number;
  inputs: string[];
  hops: number;
  lastResponse: string;
  open: boolean;
}

/** What a handset prints when the network or the application fails (the wording of common Orange handsets). */
export const HANDSET_ERROR = 'Problème de connexion ou code IHM non valide';

function formatDate(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

export function newSessionId(): string {
  return `ATUid_${randomBytes(8).toString('hex')}`;
}

/** The `text` field: every answer so far joined with `*`, empty on the dialling hop. */
export function cumulativeText(inputs: readonly string[]): string {
  return inputs.join('*');
}

export interface UssdGateway {
  dial(o: DialOptions): Promise<HopResult>;
  answer(sessionId: string, input: string): Promise<HopResult>;
  /** Sends the last hop again with the same text, as the gateway does after a lost answer. */
  retry(sessionId: string): Promise<HopResult>;
  /** The member pressed the red key (`Incomplete`) or the network dropped the call (`Failed`). */
  hangUp(sessionId: string, how: 'user' | 'dropped'): Promise<SessionEnd | null>;
  /** Closes every session past its idle or total limit; returns what it closed. */
  sweep(): Promise<SessionEnd[]>;
  session(sessionId: string): GatewaySession | undefined;
  /** Sweeps every `everyMs`, so that a session abandoned by a closed page still ends and is notified. */
  start(everyMs?: number): void;
  stop(): void;
}

/** How many closed sessions remember why they closed, to tell a late answer. */
const REMEMBERED = 500;

/**
 * Reads at most `maxBytes` of a body, then stops the download: an application answering a huge
 * body costs the gateway that much and no more.
 */
export async function readCapped(res: Response, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  if (!res.body) return { text: '', truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > maxBytes) {
      truncated = true;
      await reader.cancel();
      break;
    }
  }
  return { text: Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8'), truncated };
}

/** An answer that is not a USSD screen, as much of it as the request log shows. */
const relayed = (text: string) => (text.length > MAX_RELAYED_CHARS ? `${text.slice(0, MAX_RELAYED_CHARS)}…` : text);

export interface GatewayOptions {
  limits?: Partial<GatewayLimits>;
  now?: () => number;
  /** The URL actually posted to for a callback URL (adds the gateway key to the server's own routes); unchanged by default. */
  callbackUrl?: (url: string) => string;
}

export function createUssdGateway(opts: GatewayOptions = {}): UssdGateway {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const now = opts.now ?? Date.now;
  const callbackUrl = opts.callbackUrl ?? ((url: string) => url);
  // A real gateway posts to the configured URL and nowhere else: a redirect is an error, never followed.
  const post = (url: string, body: string) =>
    fetch(callbackUrl(url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(limits.timeoutMs),
    });
  const sessions = new Map<string, GatewaySession>();
  const closedWhy = new Map<string, string>();
  let sweeper: NodeJS.Timeout | undefined;

  async function close(s: GatewaySession, status: EndStatus, errorMessage: string): Promise<SessionEnd> {
    s.open = false;
    sessions.delete(s.id);
    closedWhy.set(s.id, errorMessage || 'ended by the application');
    if (closedWhy.size > REMEMBERED) closedWhy.delete(closedWhy.keys().next().value as string);
    const notification: Record<string, string> = {
      date: formatDate(now()),
      sessionId: s.id,
      serviceCode: s.dial.code,
      networkCode: s.dial.networkCode ?? '61001',
      phoneNumber: s.dial.phone,
      status,
      cost: 'XOF 0.0000',
      durationInMillis: String(now() - s.startedMs),
      hopsCount: String(s.hops),
      hopsMetadata: '',
      input: cumulativeText(s.inputs),
      lastAppResponse: s.lastResponse,
      errorMessage,
    };
    const url = s.dial.eventsUrl;
    if (!url) return { status, notification, delivery: null };
    try {
      const res = await post(url, new URLSearchParams(notification).toString());
      await res.body?.cancel();
      return { status, notification, delivery: { url, httpStatus: res.status } };
    } catch (err) {
      return { status, notification, delivery: { url, httpStatus: null, error: (err as Error).message } };
    }
  }

  /** Why the gateway would refuse to forward a hop of this session now, if it would. */
  function expired(s: GatewaySession): string | null {
    const t = now();
    if (t - s.startedMs > limits.maxMs) return `session longer than ${limits.maxMs / 1000} s`;
    if (t - s.lastInputMs > limits.idleMs) return `no answer for ${limits.idleMs / 1000} s`;
    return null;
  }

  async function forward(s: GatewaySession): Promise<HopResult> {
    const text = cumulativeText(s.inputs);
    const body = new URLSearchParams({
      sessionId: s.id,
      serviceCode: s.dial.code,
      phoneNumber: s.dial.phone,
      networkCode: s.dial.networkCode ?? '61001',
      text,
    }).toString();
    const request = { url: s.dial.url, body };
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    const fail = async (error: string, httpStatus: number | null, response: string | null): Promise<HopResult> => ({
      sessionId: s.id,
      request,
      httpStatus,
      response,
      ms: ms(),
      end: true,
      screen: HANDSET_ERROR,
      error,
      closed: await close(s, 'Failed', error),
    });
    let res: Response;
    let reply: string;
    let truncated: boolean;
    try {
      res = await post(s.dial.url, body);
      ({ text: reply, truncated } = await readCapped(res, MAX_REPLY_BYTES));
    } catch (err) {
      const e = err as Error;
      return fail(
        `network error: ${e.name === 'TimeoutError' ? `no answer within ${limits.timeoutMs / 1000} s` : ((e.cause as Error | undefined)?.message ?? e.message)}`,
        null,
        null,
      );
    }
    s.hops++;
    if (res.status >= 300 && res.status < 400) {
      return fail(
        `network error: the application answered a redirect (HTTP ${res.status}), which the gateway does not follow`,
        res.status,
        relayed(reply),
      );
    }
    if (res.status !== 200)
      return fail(`network error: the application answered HTTP ${res.status}: ${reply.slice(0, 120)}`, res.status, relayed(reply));
    if (truncated)
      return fail(`network error: the answer is longer than ${MAX_REPLY_BYTES} bytes, no USSD screen is`, res.status, relayed(reply));
    if (!/^(CON|END) /.test(reply)) {
      return fail(
        `network error: the answer does not start with "CON " or "END ": ${JSON.stringify(reply.slice(0, 80))}`,
        res.status,
        relayed(reply),
      );
    }
    s.lastResponse = reply.slice(4);
    const end = reply.startsWith('END');
    return {
      sessionId: s.id,
      request,
      httpStatus: res.status,
      response: reply,
      ms: ms(),
      end,
      screen: reply.slice(4),
      closed: end ? await close(s, 'Success', '') : undefined,
    };
  }

  function over(sessionId: string): HopResult {
    const why = closedWhy.get(sessionId);
    return refused(sessionId, why ? `this session is over (${why}): dial again` : 'no such session: dial again', true);
  }

  function refused(sessionId: string, error: string, end: boolean, closed?: SessionEnd): HopResult {
    return { sessionId, request: null, httpStatus: null, response: null, ms: 0, end, screen: end ? HANDSET_ERROR : '', error, closed };
  }

  return {
    dial(o) {
      const t = now();
      const s: GatewaySession = {
        id: newSessionId(),
        dial: o,
        startedMs: t,
        lastInputMs: t,
        inputs: [],
        hops: 0,
        lastResponse: '',
        open: true,
      };
      sessions.set(s.id, s);
      return forward(s);
    },
    async answer(sessionId, input) {
      const s = sessions.get(sessionId);
      if (!s) return over(sessionId);
      const why = expired(s);
      if (why) return refused(sessionId, `the gateway closed the session: ${why}`, true, await close(s, 'Incomplete', why));
      // A handset sends at most this much; the gateway never sees a longer answer, so it is not forwarded.
      if (input.length > MAX_INPUT_CHARS) {
        return refused(sessionId, `answer too long: ${input.length} characters, a handset sends at most ${MAX_INPUT_CHARS}`, false);
      }
      s.inputs.push(input);
      s.lastInputMs = now();
      return forward(s);
    },
    async retry(sessionId) {
      const s = sessions.get(sessionId);
      if (!s) return over(sessionId);
      return forward(s);
    },
    async hangUp(sessionId, how) {
      const s = sessions.get(sessionId);
      if (!s) return null;
      return how === 'user' ? close(s, 'Incomplete', 'the member hung up') : close(s, 'Failed', 'the network dropped the session');
    },
    async sweep() {
      const ended: SessionEnd[] = [];
      for (const s of [...sessions.values()]) {
        const why = expired(s);
        if (why) ended.push(await close(s, 'Incomplete', why));
      }
      return ended;
    },
    session: (id) => sessions.get(id),
    start(everyMs = 5_000) {
      if (sweeper) return;
      sweeper = setInterval(() => void this.sweep(), everyMs);
      sweeper.unref();
    },
    stop() {
      clearInterval(sweeper);
      sweeper = undefined;
    },
  };
}
