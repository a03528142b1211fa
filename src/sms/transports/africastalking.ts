import type { Logger } from '../../log.ts';
import { africastalkingSdk, clip, describe, digits, isObject, withinTimeout } from '../../sdk-call.ts';
import { outcomeOfCode, type RecipientOutcome, type SmsBatch, type SmsTransport } from '../transport.ts';

/** The SDK's own SMS endpoints (lib/common.js), used when no `smsUrl` is given. */
export const AT_LIVE_SMS_URL = 'https://api.africastalking.com/version1/messaging';
export const AT_SANDBOX_SMS_URL = 'https://api.sandbox.africastalking.com/version1/messaging';

/** Recipients per gateway call unless told otherwise: about 1.5 KB of `to` per request. */
export const AT_DEFAULT_MAX_BATCH = 100;

export interface AfricasTalkingTransportOptions {
  username: string;
  apiKey: string;
  /** Sender id or short code; a batch's own `from` wins. */
  from?: string | undefined;
  /** Full messaging URL, e.g. http://127.0.0.1:3000/version1/messaging (simulator, tests). */
  smsUrl?: string | undefined;
  /** Whole-call limit; the SDK (axios with no timeout) has none of its own. */
  timeoutMs: number;
  maxBatch?: number | undefined;
  logger?: Logger | undefined;
}

type Recipient = SmsBatch['recipients'][number];

/** Sends through the real `africastalking` SDK. `send` never rejects. */
export function createAfricasTalkingTransport(opts: AfricasTalkingTransportOptions): SmsTransport {
  const maxBatch = opts.maxBatch ?? AT_DEFAULT_MAX_BATCH;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
  if (!(opts.timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${opts.timeoutMs}`);

  const { AfricasTalking, atCommon } = africastalkingSdk();
  const sms = AfricasTalking({ username: opts.username, apiKey: opts.apiKey, format: 'json' }).SMS;
  const log = opts.logger;
  // The SDK has no base-URL option. lib/sms.js reads `Common.SMS_URL` (a mutable property of
  // lib/common's exports) synchronously inside send(), before its first await. Setting it once at
  // creation is NOT enough: every `AfricasTalking({ username: 'sandbox' })` built later anywhere in
  // the process (AT_USERNAME defaults to 'sandbox') runs enableSandbox(), which rewrites all URLs,
  // and two transports (tests, simulator + live) would share one global. So each call pins the URL
  // it needs just around the synchronous send() call and puts the previous value back.
  const smsUrl = opts.smsUrl ?? (opts.username.toLowerCase() === 'sandbox' ? AT_SANDBOX_SMS_URL : AT_LIVE_SMS_URL);

  function sdkSend(params: { to: string[]; message: string; from?: string; enqueue?: boolean }): Promise<unknown> {
    const previous = atCommon.SMS_URL;
    atCommon.SMS_URL = smsUrl;
    try {
      return sms.send(params);
    } finally {
      atCommon.SMS_URL = previous;
    }
  }

  async function sendChunk(text: string, from: string | undefined, recipients: Recipient[]): Promise<RecipientOutcome[]> {
    const out = new Map<Recipient, RecipientOutcome>();
    // One number the SDK's validator rejects (libphonenumber) makes it reject the whole call before
    // sending; keep such numbers out, as final failures, so they cannot block the others forever.
    const valid: Recipient[] = [];
    for (const r of recipients) {
      if (isValidForSdk(atCommon, r.to)) valid.push(r);
      else
        out.set(r, {
          messageId: r.messageId,
          to: r.to,
          outcome: 'failed',
          code: null,
          reason: 'invalid phone number (rejected by the SDK before sending)',
        });
    }
    if (valid.length) {
      // callGateway answers one outcome per recipient, in the order given.
      const results = await callGateway(text, from, valid);
      valid.forEach((r, i) => out.set(r, results[i] as RecipientOutcome));
    }
    return recipients.map((r) => out.get(r) as RecipientOutcome);
  }

  async function callGateway(text: string, from: string | undefined, recipients: Recipient[]): Promise<RecipientOutcome[]> {
    const allRetry = (code: number | null, reason: string): RecipientOutcome[] =>
      recipients.map((r) => ({ messageId: r.messageId, to: r.to, outcome: 'retry', code, reason }));
    const params: { to: string[]; message: string; from?: string; enqueue?: boolean } = {
      to: recipients.map((r) => r.to),
      message: text,
    };
    if (from) params.from = from;
    if (recipients.length > 1) params.enqueue = true;

    let call: Promise<unknown>;
    try {
      call = sdkSend(params);
    } catch (err) {
      log?.error({ err }, 'sms: africastalking SDK threw');
      return allRetry(null, `SDK error: ${describe(err)}`);
    }

    // The abandoned request keeps running (the SDK cannot be aborted); an answer after the timeout
    // is only logged. If it accepted messages, the retry will send them a second time.
    const result = await withinTimeout(call, opts.timeoutMs, (r) => {
      const accepted = r.ok ? (parseRecipients(r.data)?.filter((e) => outcomeOfCode(e.statusCode) === 'accepted').length ?? 0) : 0;
      log?.warn(
        { recipients: recipients.length, accepted, ok: r.ok },
        'sms: africastalking answered after the timeout; messages already marked for retry',
      );
    });
    if (result === 'timeout') {
      log?.warn({ recipients: recipients.length, timeoutMs: opts.timeoutMs }, 'sms: africastalking call timed out');
      return allRetry(null, 'timeout');
    }
    if (!result.ok) {
      const f = describeFailure(result.err);
      if (f.code === 401)
        log?.error(
          { status: 401, body: f.body },
          'sms: africastalking rejected the credentials (check AT_USERNAME / AT_API_KEY); messages kept for retry',
        );
      else log?.warn({ status: f.code, reason: f.reason, recipients: recipients.length }, 'sms: africastalking call failed');
      return allRetry(f.code, f.reason);
    }

    const entries = parseRecipients(result.data);
    if (!entries) {
      const reason =
        typeof result.data === 'string'
          ? `unreadable gateway answer (not JSON): ${clip(result.data)}`
          : 'gateway answer has no SMSMessageData.Recipients list';
      log?.warn({ recipients: recipients.length }, `sms: ${reason}`);
      return allRetry(201, reason);
    }

    // Match by number, in order: each requested recipient takes the first unused entry for its number.
    const byNumber = new Map<string, AtRecipientEntry[]>();
    for (const e of entries) {
      const key = digits(e.number);
      const list = byNumber.get(key);
      if (list) list.push(e);
      else byNumber.set(key, [e]);
    }
    let missing = 0;
    const outcomes = recipients.map((r): RecipientOutcome => {
      const e = byNumber.get(digits(r.to))?.shift();
      if (!e) {
        missing++;
        return { messageId: r.messageId, to: r.to, outcome: 'retry', code: null, reason: 'the gateway answer did not mention this number' };
      }
      const outcome = outcomeOfCode(e.statusCode);
      if (outcome === 'accepted') {
        return { messageId: r.messageId, to: r.to, outcome, providerId: e.messageId ?? '', cost: e.cost, code: e.statusCode };
      }
      return { messageId: r.messageId, to: r.to, outcome, code: e.statusCode, reason: `${e.status ?? 'status'} (${e.statusCode})` };
    });
    if (missing) log?.warn({ missing, recipients: recipients.length }, 'sms: africastalking answer is missing recipients; kept for retry');
    return outcomes;
  }

  return {
    name: 'africastalking',
    maxBatch,
    async send(batch: SmsBatch): Promise<RecipientOutcome[]> {
      const from = batch.from ?? opts.from;
      const out: RecipientOutcome[] = [];
      try {
        for (let i = 0; i < batch.recipients.length; i += maxBatch) {
          out.push(...(await sendChunk(batch.text, from, batch.recipients.slice(i, i + maxBatch))));
        }
        return out;
      } catch (err) {
        // Not expected; the contract is that send never rejects.
        log?.error({ err }, 'sms: africastalking transport failed unexpectedly');
        const done = new Set(out.map((o) => o.messageId));
        return [
          ...out,
          ...batch.recipients
            .filter((r) => !done.has(r.messageId))
            .map(
              (r): RecipientOutcome => ({
                messageId: r.messageId,
                to: r.to,
                outcome: 'retry',
                code: null,
                reason: `transport error: ${describe(err)}`,
              }),
            ),
        ];
      }
    },
  };
}

interface AtRecipientEntry {
  statusCode: number;
  number: string;
  status: string | null;
  cost: string | null;
  messageId: string | null;
}

/** `SMSMessageData.Recipients` of a 201 body, or null when the body is not that shape. */
function parseRecipients(data: unknown): AtRecipientEntry[] | null {
  if (!isObject(data) || !isObject(data.SMSMessageData) || !Array.isArray(data.SMSMessageData.Recipients)) return null;
  const out: AtRecipientEntry[] = [];
  for (const raw of data.SMSMessageData.Recipients as unknown[]) {
    if (!isObject(raw)) continue;
    const statusCode = typeof raw.statusCode === 'number' ? raw.statusCode : Number(raw.statusCode);
    if (!Number.isInteger(statusCode) || typeof raw.number !== 'string') continue;
    out.push({
      statusCode,
      number: raw.number,
      status: typeof raw.status === 'string' ? raw.status : null,
      cost: typeof raw.cost === 'string' ? raw.cost : null,
      messageId: typeof raw.messageId === 'string' ? raw.messageId : null,
    });
  }
  return out;
}

/** What a rejected SDK call means: the HTTP status when there was one, and a reason to keep. */
function describeFailure(err: unknown): { code: number | null; reason: string; body?: string } {
  if (isObject(err) && isObject(err.response) && typeof err.response.status === 'number') {
    // AxiosError: a non-2xx answer.
    const status = err.response.status;
    const body = clip(typeof err.response.data === 'string' ? err.response.data : safeJson(err.response.data));
    if (status === 401) return { code: 401, reason: `gateway rejected the credentials (HTTP 401, configuration error): ${body}`, body };
    return { code: status, reason: `gateway answered HTTP ${status}: ${body}`, body };
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code) return { code: null, reason: `network error: ${code} ${err.message}`.trim() };
    return { code: null, reason: `SDK error: ${err.message}` };
  }
  // lib/sms.js rejects with the bare body for a 2xx other than 201.
  return { code: null, reason: `gateway answered 2xx but not 201: ${clip(typeof err === 'string' ? err : safeJson(err))}` };
}

/** Whether the SDK's own validator (its `common` module's libphonenumber) accepts the number. */
function isValidForSdk(atCommon: ReturnType<typeof africastalkingSdk>['atCommon'], to: string): boolean {
  try {
    return atCommon.phoneUtil.isValidNumber(to);
  } catch {
    return false;
  }
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
