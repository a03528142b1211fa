import type AfricasTalking from 'africastalking';
import type atCommon from 'africastalking/lib/common.js';
import { systemTimers, type Timers } from '../clock.ts';
import type { Logger } from '../log.ts';
import { africastalkingSdk, clip, describe, digits, isObject, withinTimeout } from '../sdk-call.ts';

/** The SDK's own voice endpoint (lib/common.js), used when no `voiceUrl` is given. */
export const AT_LIVE_VOICE_URL = 'https://voice.africastalking.com';

/** What became of one request to place a call. */
export type PlaceResult =
  /** The gateway took it and will ring the phone; its callbacks will carry this session id. */
  | { outcome: 'queued'; sessionId: string | null }
  /** Worth asking again later (network, timeout, 5xx, credentials, credit). */
  | { outcome: 'retry'; code: number | null; reason: string }
  /** Asking again would not help (a number the gateway or the SDK refuses). */
  | { outcome: 'failed'; code: number | null; reason: string };

export interface CallTransport {
  name: string;
  /** Never rejects. */
  place(call: { from: string; to: string; clientRequestId: string }): Promise<PlaceResult>;
}

export interface AfricasTalkingCallsOptions {
  username: string;
  apiKey: string;
  /**
   * Voice base URL (the SDK posts to `${voiceUrl}/call`), e.g. the simulator's fake gateway; read at
   * each call (the server's own URL is known once it listens). Undefined: the live gateway.
   */
  voiceUrl?: () => string | undefined;
  /** Whole-call limit; the SDK (axios with no timeout) has none of its own. */
  timeoutMs: number;
  /** The timeout's timer (tests step it). */
  timers?: Timers;
  logger?: Logger | undefined;
}

/** Entry statuses after which asking again cannot succeed. */
const FINAL_STATUSES = new Set(['InvalidPhoneNumber', 'DestinationNotSupported', 'InvalidCallerId', 'NotAllowed']);

/** Places calls through the real `africastalking` SDK's `VOICE.call`. */
export function createAfricasTalkingCalls(opts: AfricasTalkingCallsOptions): CallTransport {
  if (!(opts.timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${opts.timeoutMs}`);
  const log = opts.logger;
  const timers = opts.timers ?? systemTimers;
  // The SDK is loaded and its client built when the first call is placed: most processes (CLI
  // commands, tests) never place one, and loading it costs about half a second of CPU.
  let sdk: { voice: ReturnType<typeof AfricasTalking>['VOICE']; atCommon: typeof atCommon } | undefined;

  // As for SMS (src/sms/transports/africastalking.ts): the SDK reads Common.VOICE_URL synchronously
  // inside call(), and any AfricasTalking({ username: 'sandbox' }) built later rewrites it; so the
  // URL is pinned just around the synchronous call (the client built before) and the previous value put back.
  function sdkCall(params: { callFrom: string; callTo: string; clientRequestId: string }): Promise<unknown> {
    if (!sdk) {
      const { AfricasTalking, atCommon } = africastalkingSdk();
      sdk = { voice: AfricasTalking({ username: opts.username, apiKey: opts.apiKey, format: 'json' }).VOICE, atCommon };
    }
    const { voice, atCommon } = sdk;
    const previous = atCommon.VOICE_URL;
    atCommon.VOICE_URL = opts.voiceUrl?.() ?? AT_LIVE_VOICE_URL;
    try {
      return voice.call(params);
    } finally {
      atCommon.VOICE_URL = previous;
    }
  }

  async function place(call: { from: string; to: string; clientRequestId: string }): Promise<PlaceResult> {
    let pending: Promise<unknown>;
    try {
      pending = sdkCall({ callFrom: call.from, callTo: call.to, clientRequestId: call.clientRequestId });
    } catch (err) {
      return { outcome: 'retry', code: null, reason: `SDK error: ${describe(err)}` };
    }
    // If the gateway did place a call answered after the limit, the retry places a second one (the
    // member may hear two rings).
    const result = await withinTimeout(
      pending,
      opts.timeoutMs,
      (r) => log?.warn({ ok: r.ok }, 'voice: the call API answered after the timeout; the call is already marked for retry'),
      timers,
    );
    if (result === 'timeout') return { outcome: 'retry', code: null, reason: 'timeout' };
    if (!result.ok) return failure(result.err);
    return readAnswer(result.data, call.to);
  }

  return {
    name: 'africastalking',
    async place(call) {
      try {
        return await place(call);
      } catch (err) {
        log?.error({ err }, 'voice: call transport failed unexpectedly');
        return { outcome: 'retry', code: null, reason: `transport error: ${describe(err)}` };
      }
    },
  };
}

/** `{"entries":[{"phoneNumber","status","sessionId"}],"errorMessage":"None"}` for the one number called. */
function readAnswer(data: unknown, to: string): PlaceResult {
  if (!isObject(data)) return { outcome: 'retry', code: null, reason: `unreadable answer: ${clip(String(data))}` };
  const entries = Array.isArray(data.entries) ? (data.entries as unknown[]).filter(isObject) : [];
  const entry = entries.find((e) => typeof e.phoneNumber === 'string' && digits(e.phoneNumber) === digits(to)) ?? entries[0];
  const errorMessage = typeof data.errorMessage === 'string' ? data.errorMessage : 'None';
  if (!entry) return { outcome: 'retry', code: null, reason: `no entry for the number; errorMessage: ${clip(errorMessage)}` };
  const status = typeof entry.status === 'string' ? entry.status : '';
  if (status === 'Queued') return { outcome: 'queued', sessionId: typeof entry.sessionId === 'string' ? entry.sessionId : null };
  const reason = `gateway status ${status || 'missing'}${errorMessage !== 'None' ? `: ${clip(errorMessage)}` : ''}`;
  return FINAL_STATUSES.has(status) ? { outcome: 'failed', code: null, reason } : { outcome: 'retry', code: null, reason };
}

function failure(err: unknown): PlaceResult {
  // lib/voice.js rejects with a bare string when its own validation (libphonenumber) refuses a number.
  if (typeof err === 'string') return { outcome: 'failed', code: null, reason: `refused by the SDK: ${clip(err)}` };
  if (isObject(err) && isObject(err.response) && typeof err.response.status === 'number') {
    const status = err.response.status;
    const body = clip(typeof err.response.data === 'string' ? err.response.data : JSON.stringify(err.response.data ?? ''));
    // A 4xx other than credentials and rate limits is the request itself: asking again would not help.
    const final = status >= 400 && status < 500 && status !== 401 && status !== 408 && status !== 429;
    return { outcome: final ? 'failed' : 'retry', code: status, reason: `gateway answered HTTP ${status}: ${body}` };
  }
  const code = isObject(err) && typeof err.code === 'string' ? `${err.code} ` : '';
  return { outcome: 'retry', code: null, reason: `network error: ${code}${describe(err)}`.trim() };
}
