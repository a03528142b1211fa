import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response, type Router } from 'express';
import { smsEncoding } from '../i18n/gsm7.ts';
import type { Logger } from '../log.ts';

/**
 * A fake Africa's Talking SMS API (`POST /version1/messaging`), speaking the wire format of
 * shared/reference/africastalking.md: form body in, 201 JSON with one entry per recipient out.
 * Its behaviour can be changed at run time (per-number status codes, a whole-request error,
 * a hang, an unreadable body) to test how the app copes.
 *
 * `router` handles `POST /`: mount it at `/version1/messaging`.
 */

/** Per-recipient status codes and the `status` text the gateway puts next to each. */
export const AT_STATUS_NAMES = {
  100: 'Processed',
  101: 'Success',
  102: 'Queued',
  401: 'RiskHold',
  402: 'InvalidSenderId',
  403: 'InvalidPhoneNumber',
  404: 'UnsupportedNumberType',
  405: 'InsufficientBalance',
  406: 'UserInBlacklist',
  407: 'CouldNotRoute',
  409: 'DoNotDisturbRejection',
  500: 'InternalServerError',
  501: 'GatewayError',
  502: 'RejectedByGateway',
} as const;

export type AtStatusCode = keyof typeof AT_STATUS_NAMES;

/** The body Africa's Talking sends (text/plain) with a 401. */
export const AT_UNAUTHORIZED_BODY = 'The supplied authentication is invalid';

/** What the gateway does with the next requests, as a whole. */
export type FakeAtRequestBehaviour =
  /** Normal: 201 JSON with per-recipient codes. */
  | { kind: 'answer' }
  /** The whole request fails with this HTTP status (text/plain body). */
  | { kind: 'error'; status: number; body?: string }
  /** Reads the request and never answers (until released or closed). */
  | { kind: 'hang' }
  /** 201 with a body that is not JSON, although labelled as such. */
  | { kind: 'garbage'; body?: string };

export interface FakeAtBehaviour {
  request: FakeAtRequestBehaviour;
  /** Status code per number (as sent in `to`); numbers not listed get `defaultStatus`. */
  recipients: Record<string, AtStatusCode>;
  /** For a well-formed E.164 number not in `recipients`. Malformed numbers always get 403. */
  defaultStatus: AtStatusCode;
}

/** One request that reached the handler (whatever was answered). */
export interface FakeAtRequest {
  username: string;
  to: string[];
  message: string;
  from?: string;
  enqueue?: boolean;
  bulkSMSMode?: string;
  keyword?: string;
  linkId?: string;
  retryDurationInHours?: string;
  /** The `apiKey` header as received (null when absent). */
  apiKey: string | null;
  accept: string | null;
  /** Every form field as received. */
  form: Record<string, string>;
  /** HTTP status answered, or 'hang'. */
  answered: number | 'hang';
}

/** A recipient the gateway accepted (100–102): what a delivery report would refer to. */
export interface FakeAtAccepted {
  messageId: string;
  number: string;
  message: string;
  from?: string;
  username: string;
  statusCode: AtStatusCode;
  cost: string;
  segments: number;
}

export interface FakeAtGatewayOptions {
  /** The key expected in the `apiKey` header; anything else gets a 401. */
  apiKey: string;
  /** When set, any other `username` gets a 401 too. */
  username?: string;
  /** Default 'XOF'. */
  currency?: string;
  /** Price of one SMS segment, default 25. */
  unitCost?: number;
  /** Initial behaviour (merged over the default: answer, every valid number 101). */
  behaviour?: Partial<FakeAtBehaviour>;
  /** Called for each accepted recipient, after the 201 has been written (e.g. to post delivery reports later). */
  onAccepted?: (recipient: FakeAtAccepted) => void;
  logger?: Logger;
}

export interface FakeAtGateway {
  /** Handles `POST /`; mount at `/version1/messaging`. */
  router: Router;
  /** Every request received, in order. */
  readonly requests: FakeAtRequest[];
  /** Every recipient accepted, in order. */
  readonly accepted: FakeAtAccepted[];
  /** Changes the behaviour from now on; `recipients` is merged into the current map. */
  behave(change: Partial<FakeAtBehaviour>): void;
  /** Back to the initial behaviour; forgets requests and accepted recipients; drops hanging requests. */
  reset(): void;
  /** Drops the connection of every request currently left hanging. */
  releaseHanging(): void;
  /** How many requests are currently left hanging. */
  readonly hanging: number;
}

const E164 = /^\+[1-9]\d{7,14}$/;
const DEFAULT_GARBAGE = '{"SMSMessageData":{"Message":"Sent to 1/1 Total Co';

export function createFakeAtGateway(opts: FakeAtGatewayOptions): FakeAtGateway {
  const currency = opts.currency ?? 'XOF';
  const unitCost = opts.unitCost ?? 25;
  const initial = (): FakeAtBehaviour => ({
    request: { kind: 'answer' },
    defaultStatus: 101,
    ...opts.behaviour,
    recipients: { ...opts.behaviour?.recipients },
  });
  let behaviour = initial();
  const requests: FakeAtRequest[] = [];
  const accepted: FakeAtAccepted[] = [];
  const hanging = heldRequests();

  const router = express.Router();
  router.post('/', express.urlencoded({ extended: false, limit: '1mb' }), (req: Request, res: Response) => {
    const form = readForm(req.body);
    const apiKey = req.get('apiKey') ?? null;
    const record: FakeAtRequest = {
      username: form.username ?? '',
      to: (form.to ?? '')
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== ''),
      message: form.message ?? '',
      apiKey,
      accept: req.get('accept') ?? null,
      form,
      answered: 0,
    };
    if (form.from !== undefined) record.from = form.from;
    if (form.enqueue !== undefined) record.enqueue = form.enqueue === '1' || form.enqueue.toLowerCase() === 'true';
    for (const k of ['bulkSMSMode', 'keyword', 'linkId', 'retryDurationInHours'] as const) {
      if (form[k] !== undefined) record[k] = form[k];
    }
    requests.push(record);

    const fields = ['username', 'to', 'message'] as const;
    if (answeredFirst(res, record, opts, behaviour.request, hanging, { fields, garbage: { status: 201, body: DEFAULT_GARBAGE } })) return;

    const segments = smsEncoding(record.message).segments;
    const price = unitCost * segments;
    const taken: FakeAtAccepted[] = [];
    let total = 0;
    const recipients = record.to.map((number) => {
      const statusCode: AtStatusCode = !E164.test(number) ? 403 : (behaviour.recipients[number] ?? behaviour.defaultStatus);
      if (statusCode > 102) {
        return { statusCode, number, status: AT_STATUS_NAMES[statusCode], cost: '0', messageId: 'None' };
      }
      const messageId = `ATXid_${randomBytes(16).toString('hex')}`;
      const cost = `${currency} ${formatAmount(price)}`;
      total += price;
      const a: FakeAtAccepted = { messageId, number, message: record.message, username: record.username, statusCode, cost, segments };
      if (record.from !== undefined) a.from = record.from;
      taken.push(a);
      return { statusCode, number, status: AT_STATUS_NAMES[statusCode], cost, messageId };
    });
    record.answered = 201;
    res.status(201).json({
      SMSMessageData: {
        Message: `Sent to ${taken.length}/${recipients.length} Total Cost: ${currency} ${formatAmount(total)}`,
        Recipients: recipients,
      },
    });
    accepted.push(...taken);
    tell(opts.onAccepted, taken, opts.logger, 'fake AT gateway: onAccepted hook failed');
  });

  const releaseHanging = hanging.release;

  return {
    router,
    requests,
    accepted,
    behave(change) {
      behaviour = { ...behaviour, ...change, recipients: { ...behaviour.recipients, ...change.recipients } };
    },
    reset() {
      releaseHanging();
      behaviour = initial();
      requests.length = 0;
      accepted.length = 0;
    },
    releaseHanging,
    get hanging() {
      return hanging.size();
    },
  };
}

/**
 * The voice API's outbound call (`POST /call`, shared/reference/africastalking-voice.md): form body
 * `username`, `from`, `to` (comma-separated), `clientRequestId`, header `apiKey`; answers
 * `{"entries":[{"phoneNumber","status":"Queued","sessionId"}],"errorMessage":"None"}`. Each call
 * queued is recorded as ringing its phone, for the simulator's phone and tests to pick up.
 * `router` handles `POST /call`: mount it at the voice base URL (what AT_VOICE_URL names).
 */
export interface FakeVoiceCall {
  sessionId: string;
  username: string;
  from: string;
  to: string;
  clientRequestId: string | null;
  /** Order of arrival, 1 first. */
  seq: number;
}

export interface FakeVoiceRequest {
  username: string;
  from: string;
  to: string[];
  clientRequestId: string | null;
  apiKey: string | null;
  form: Record<string, string>;
  answered: number | 'hang';
}

export interface FakeAtVoiceOptions {
  apiKey: string;
  username?: string;
  /** Entry status per number; others get 'Queued' (malformed numbers 'InvalidPhoneNumber'). */
  statuses?: Record<string, string>;
  /** Called for each call queued, after the answer has been written. */
  onCall?: (call: FakeVoiceCall) => void;
  /** Keeps only this many latest requests and calls (a long-running simulator); all by default. */
  keep?: number;
  logger?: Logger;
}

export interface FakeAtVoice {
  router: Router;
  readonly requests: FakeVoiceRequest[];
  readonly calls: FakeVoiceCall[];
  /** How the next requests are answered (as for SMS: answer, an HTTP error, a hang, an unreadable body). */
  behave(request: FakeAtRequestBehaviour): void;
  /** Entry status for a number from now on ('Queued' to undo). */
  status(phone: string, status: string): void;
  reset(): void;
  releaseHanging(): void;
  readonly hanging: number;
}

export function createFakeAtVoice(opts: FakeAtVoiceOptions): FakeAtVoice {
  let behaviour: FakeAtRequestBehaviour = { kind: 'answer' };
  let statuses: Record<string, string> = { ...opts.statuses };
  const requests: FakeVoiceRequest[] = [];
  const calls: FakeVoiceCall[] = [];
  const hanging = heldRequests();
  let seq = 0;

  const router = express.Router();
  router.post('/call', express.urlencoded({ extended: false, limit: '64kb' }), (req: Request, res: Response) => {
    const form = readForm(req.body);
    const apiKey = req.get('apiKey') ?? null;
    const record: FakeVoiceRequest = {
      username: form.username ?? '',
      from: form.from ?? '',
      to: (form.to ?? '')
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== ''),
      clientRequestId: form.clientRequestId ?? null,
      apiKey,
      form,
      answered: 0,
    };
    requests.push(record);
    const fields = ['username', 'from', 'to'] as const;
    if (answeredFirst(res, record, opts, behaviour, hanging, { fields, garbage: { status: 200, body: '{"entries":[{"phoneNumber":' } }))
      return;
    const placed: FakeVoiceCall[] = [];
    const entries = record.to.map((phoneNumber) => {
      const status = !E164.test(phoneNumber) ? 'InvalidPhoneNumber' : (statuses[phoneNumber] ?? 'Queued');
      if (status !== 'Queued') return { phoneNumber, status, sessionId: 'None' };
      const call: FakeVoiceCall = {
        sessionId: `ATVId_${randomBytes(16).toString('hex')}`,
        username: record.username,
        from: record.from,
        to: phoneNumber,
        clientRequestId: record.clientRequestId,
        seq: ++seq,
      };
      placed.push(call);
      return { phoneNumber, status, sessionId: call.sessionId };
    });
    record.answered = 200;
    res.status(200).json({ entries, errorMessage: 'None' });
    calls.push(...placed);
    if (opts.keep !== undefined) {
      if (calls.length > opts.keep) calls.splice(0, calls.length - opts.keep);
      if (requests.length > opts.keep) requests.splice(0, requests.length - opts.keep);
    }
    tell(opts.onCall, placed, opts.logger, 'fake AT voice: onCall hook failed');
  });

  const releaseHanging = hanging.release;
  return {
    router,
    requests,
    calls,
    behave(request) {
      behaviour = request;
    },
    status(phone, status) {
      statuses[phone] = status;
    },
    reset() {
      releaseHanging();
      behaviour = { kind: 'answer' };
      statuses = { ...opts.statuses };
      requests.length = 0;
      calls.length = 0;
    },
    releaseHanging,
    get hanging() {
      return hanging.size();
    },
  };
}

export interface RunningFakeAtGateway extends FakeAtGateway {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  /** The voice API (POST `${voiceUrl}/call`). */
  voice: FakeAtVoice;
  /** The voice base URL the SDK's calls go to (what AT_VOICE_URL would be): `${url}/voice`. */
  voiceUrl: string;
  /** The messaging endpoint: `${url}/version1/messaging` (what a transport's smsUrl is). */
  smsUrl: string;
  server: Server;
  /** Drops hanging requests and open connections, then stops listening. */
  close(): Promise<void>;
}

/** The fake gateway alone on 127.0.0.1 and a free port (tests, benchmark). */
export async function startFakeAtGateway(opts: FakeAtGatewayOptions): Promise<RunningFakeAtGateway> {
  const gateway = createFakeAtGateway(opts);
  const voiceOpts: FakeAtVoiceOptions = { apiKey: opts.apiKey };
  if (opts.username !== undefined) voiceOpts.username = opts.username;
  const voice = createFakeAtVoice(voiceOpts);
  const app = express();
  app.set('etag', false);
  app.disable('x-powered-by');
  app.use('/version1/messaging', gateway.router);
  app.use('/voice', voice.router);
  app.use((req, res) => {
    res.status(404).type('text/plain').send(`Not found: ${req.method} ${req.path}\n`);
  });

  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    router: gateway.router,
    requests: gateway.requests,
    accepted: gateway.accepted,
    behave: gateway.behave,
    reset: gateway.reset,
    releaseHanging: gateway.releaseHanging,
    get hanging() {
      return gateway.hanging;
    },
    url,
    smsUrl: `${url}/version1/messaging`,
    voice,
    voiceUrl: `${url}/voice`,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        gateway.releaseHanging();
        voice.releaseHanging();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * What both fake APIs answer before their own work, as Africa's Talking does: a wrong key or
 * username (401), a missing form field (400), then the misbehaviour a test asked for (an HTTP
 * error, a hang, an unreadable body of the API's success status). True when it answered; the
 * answer is noted on the request's record.
 */
function answeredFirst(
  res: Response,
  record: { username: string; apiKey: string | null; form: Record<string, string>; answered: number | 'hang' },
  expected: { apiKey: string; username?: string | undefined },
  b: FakeAtRequestBehaviour,
  hanging: ReturnType<typeof heldRequests>,
  api: { fields: readonly string[]; garbage: { status: number; body: string } },
): boolean {
  const plain = (status: number, body: string) => {
    record.answered = status;
    res.status(status).type('text/plain').send(body);
    return true;
  };
  if (record.apiKey !== expected.apiKey || (expected.username !== undefined && record.username !== expected.username)) {
    return plain(401, AT_UNAUTHORIZED_BODY);
  }
  for (const field of api.fields) {
    if (!record.form[field]) return plain(400, `Request is missing required form field '${field}'`);
  }
  if (b.kind === 'error') return plain(b.status, b.body ?? 'Internal Server Error');
  if (b.kind === 'hang') {
    record.answered = 'hang';
    hanging.hold(res);
    return true;
  }
  if (b.kind === 'garbage') {
    record.answered = api.garbage.status;
    res
      .status(api.garbage.status)
      .type('application/json')
      .send(b.body ?? api.garbage.body);
    return true;
  }
  return false;
}

/** Requests the fake API was told to leave hanging (a gateway that never answers), until released or closed by the client. */
function heldRequests() {
  const held = new Set<Response>();
  return {
    hold(res: Response): void {
      held.add(res);
      res.on('close', () => held.delete(res));
    },
    release(): void {
      for (const res of held) res.socket?.destroy();
      held.clear();
    },
    size: () => held.size,
  };
}

/** Tells a test's hook of each item; a hook that throws is logged, never fails the request it watches. */
function tell<T>(hook: ((item: T) => void) | undefined, items: readonly T[], logger: Logger | undefined, failed: string): void {
  if (!hook) return;
  for (const item of items) {
    try {
      hook(item);
    } catch (err) {
      logger?.error({ err }, failed);
    }
  }
}

function readForm(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof body !== 'object' || body === null) return out;
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (typeof first === 'string') out[k] = first;
  }
  return out;
}

function formatAmount(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(4);
}
