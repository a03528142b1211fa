/**
 * POST /ussd, the gateway's USSD callback, from a table: good bodies next to bad ones, each row with
 * the status it gets, a fragment of the body and, where it matters, what the database holds afterwards.
 * Rows run in order against one app; every row uses its own sessionId unless it says otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectAnswer, itAnsweredEveryRow } from '../support/table.ts';

const FORM = 'application/x-www-form-urlencoded';
const MEMBER = '+22376000001';
const OTHER_MEMBER = '+22376000002';
const BAMBARA_MEMBER = '+22376000003';
const HAWA = '+22366000004';
const UNKNOWN = '+22370123456';

const MAIN_MENU = 'CON Kénéya Sabatili\n1 Ma couverture\n2 Cotiser\n3 Mes paiements\n4 Alertes SMS\n5 Etre rappelé par UTM\n6 Langue / Kan';
const JOIN_MENU = 'CON Kénéya Sabatili: numéro non inscrit.\n1 Soins couverts';
const BAMBARA_MENU = 'CON Kénéya Sabatili\n1 N ka lakanali\n2 Bolomafara sara\n3 N ka saraliw';
const HAWA_COVERAGE = "CON Hawa Konaté, 2 pers.\nCouvert jusqu'au";

type Form = Record<string, string>;

interface Row {
  label: string;
  /** A form object (encoded as the gateway does), a raw body string, or raw bytes. */
  body: Form | string | Uint8Array;
  /** Content-Type sent; `null` sends none. Form by default. */
  type?: string | null;
  /** Sends the body in 1 KB chunks without a Content-Length. */
  chunked?: boolean;
  /** What must already have happened (an earlier hop of the same session). */
  given?: (app: TestApp) => Promise<unknown>;
  status: number;
  /** Fragments the body contains. */
  says: string | string[];
  /** What the row leaves behind. */
  effect?: (app: TestApp) => unknown;
}

/** One gateway hop as a form; `undefined` leaves a field out. */
function gw(sessionId: string | undefined, over: Partial<Record<keyof Form, string | undefined>> = {}): Form {
  const all: Record<string, string | undefined> = {
    sessionId,
    serviceCode: '*384*123#',
    phoneNumber: MEMBER,
    networkCode: '61001',
    text: '',
    ...over,
  };
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
}

const encode = (form: Form) => new URLSearchParams(form).toString();
const bytes = (...parts: Array<string | Uint8Array>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

/** Deterministic garbage: every byte value, NULs, stray `&`, `=` and `%`, invalid UTF-8. */
function garbage(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Pads a form with an ignored field up to exactly `size` bytes on the wire. */
function padded(form: Form, size: number): string {
  const head = `${encode(form)}&pad=`;
  return head + 'p'.repeat(size - head.length);
}

const stored = (id: string) => (app: TestApp) => expect(app.services.sessions.get(id)).toBeDefined();
const nothingStored = (id: string) => (app: TestApp) => expect(app.services.sessions.get(id)).toBeUndefined();

const rows: Row[] = [
  // First hops.
  {
    label: 'first hop for a member: the main menu, and a new open session at home',
    body: gw('r-member'),
    status: 200,
    says: MAIN_MENU,
    effect: (app) =>
      expect(app.services.sessions.get('r-member')).toMatchObject({
        phone: MEMBER,
        home: 'main',
        machine: 'main',
        hops: 1,
        invalid: 0,
        lastText: '',
        lastReply: MAIN_MENU,
        status: 'open',
      }),
  },
  {
    label: 'first hop for an unknown E.164 number: the joining menu',
    body: gw('r-unknown', { phoneNumber: UNKNOWN }),
    status: 200,
    says: JOIN_MENU,
    effect: (app) =>
      expect(app.services.sessions.get('r-unknown')).toMatchObject({ phone: UNKNOWN, home: 'register', machine: 'register', hops: 1 }),
  },
  {
    label: 'first hop for a Bambara-speaking member: the main menu in Bambara',
    body: gw('r-bambara', { phoneNumber: BAMBARA_MEMBER }),
    status: 200,
    says: BAMBARA_MENU,
  },
  {
    label: 'no networkCode (optional)',
    body: gw('r-no-network', { networkCode: undefined }),
    status: 200,
    says: MAIN_MENU,
    effect: stored('r-no-network'),
  },
  { label: 'Content-Type with a charset parameter', body: gw('r-charset'), type: `${FORM}; charset=UTF-8`, status: 200, says: MAIN_MENU },
  {
    label: 'Content-Type in capitals (media types are case-insensitive)',
    body: gw('r-caps'),
    type: 'Application/X-WWW-Form-Urlencoded',
    status: 200,
    says: MAIN_MENU,
  },
  {
    label: 'a sessionId of exactly 128 characters',
    body: gw('s'.repeat(128)),
    status: 200,
    says: MAIN_MENU,
    effect: stored('s'.repeat(128)),
  },
  {
    label: 'an unknown sessionId with non-empty text: played as a shortcut from the home menu, stopping at a quote',
    body: gw('r-late-start', { text: '1*2*2' }),
    status: 200,
    says: 'CON Somme: 4 750 FCFA\n',
    effect: (app) =>
      expect(app.services.sessions.get('r-late-start')).toMatchObject({
        hops: 4,
        lastText: '1*2*2',
        status: 'open',
        machine: 'contribute',
      }),
  },
  {
    label: 'text of 3000 `*` for an unknown sessionId: the home menu',
    body: gw('r-stars', { text: '*'.repeat(3000) }),
    status: 200,
    says: MAIN_MENU,
    effect: (app) => expect(app.services.sessions.get('r-stars')?.lastText).toHaveLength(3000),
  },
  {
    label: 'text of 3000 `*` for an unknown number: the joining menu',
    body: gw('r-stars-unknown', { phoneNumber: UNKNOWN, text: '*'.repeat(3000) }),
    status: 200,
    says: JOIN_MENU,
  },
  {
    label: 'unknown fields such as __proto__ and constructor are ignored',
    body: `${encode(gw('r-proto'))}&__proto__=x&constructor=y&toString=z`,
    status: 200,
    says: MAIN_MENU,
  },
  {
    label: 'a valid form followed by garbage bytes: the fields that parse are enough',
    body: bytes(encode(gw('r-tail')), '&', garbage(300, 7)),
    status: 200,
    says: MAIN_MENU,
    effect: stored('r-tail'),
  },
  {
    label: 'text with broken percent-escapes for an unknown sessionId',
    body: `${encode(gw('r-pct', { text: undefined }))}&text=%FF%FE%G1%`,
    status: 200,
    says: MAIN_MENU,
  },
  { label: 'a body of exactly 8 KB', body: padded(gw('r-8k'), 8 * 1024), status: 200, says: MAIN_MENU, effect: stored('r-8k') },

  // Later hops.
  {
    label: 'a repeated field keeps its first value (text=1 then text=3: coverage)',
    given: (app) => app.hop('r-repeat', HAWA, ''),
    body: `${encode(gw('r-repeat', { phoneNumber: HAWA, text: undefined }))}&text=1&text=3`,
    status: 200,
    says: HAWA_COVERAGE,
    effect: (app) => expect(app.services.sessions.get('r-repeat')).toMatchObject({ hops: 2, lastText: '1', machine: 'coverage' }),
  },
  {
    label: 'a hop on a session that has ended answers its last END screen',
    given: async (app) => {
      for (const text of ['', '5', '5*4']) await app.hop('r-ended', OTHER_MEMBER, text);
    },
    body: gw('r-ended', { phoneNumber: OTHER_MEMBER, text: '5*4*1' }),
    status: 200,
    says: 'END Merci. Un agent UTM vous appellera le',
    effect: (app) => expect(app.services.sessions.get('r-ended')).toMatchObject({ hops: 3, lastText: '5*4', status: 'ended' }),
  },
  {
    label: 'a sessionId reused by another phone: 409, the session untouched',
    given: (app) => app.hop('r-taken', OTHER_MEMBER, ''),
    body: gw('r-taken', { text: '1' }),
    status: 409,
    says: 'Bad request: sessionId: sessionId already belongs to another phoneNumber',
    effect: (app) => expect(app.services.sessions.get('r-taken')).toMatchObject({ phone: OTHER_MEMBER, hops: 1, lastText: '' }),
  },

  // Fields missing or malformed: 400 naming the field, nothing stored.
  { label: 'sessionId missing', body: gw(undefined), status: 400, says: 'Bad request: sessionId:' },
  {
    label: 'phoneNumber missing',
    body: gw('r-no-phone', { phoneNumber: undefined }),
    status: 400,
    says: 'Bad request: phoneNumber:',
    effect: nothingStored('r-no-phone'),
  },
  {
    label: 'text missing',
    body: gw('r-no-text', { text: undefined }),
    status: 400,
    says: 'Bad request: text: is required (empty on the first hop)',
    effect: nothingStored('r-no-text'),
  },
  {
    label: 'serviceCode missing',
    body: gw('r-no-code', { serviceCode: undefined }),
    status: 400,
    says: 'Bad request: serviceCode:',
    effect: nothingStored('r-no-code'),
  },
  { label: 'serviceCode empty', body: gw('r-empty-code', { serviceCode: '' }), status: 400, says: 'serviceCode: is required' },
  {
    label: 'an empty form: every required field named',
    body: '',
    status: 400,
    says: ['Bad request: sessionId:', 'serviceCode:', 'phoneNumber:', 'text: is required'],
  },
  {
    label: 'phone without the +',
    body: gw('r-no-plus', { phoneNumber: '22376000001' }),
    status: 400,
    says: 'phoneNumber: must be an E.164 number',
    effect: nothingStored('r-no-plus'),
  },
  {
    label: 'phone with spaces',
    body: gw('r-spaces', { phoneNumber: '+223 76 00 00 01' }),
    status: 400,
    says: 'phoneNumber: must be an E.164 number',
  },
  {
    label: 'phone that is not a number',
    body: gw('r-abc', { phoneNumber: 'abc' }),
    status: 400,
    says: 'phoneNumber: must be an E.164 number',
  },
  {
    label: 'phone with a leading 0 after the +',
    body: gw('r-zero', { phoneNumber: '+022376000001' }),
    status: 400,
    says: 'phoneNumber: must be an E.164 number',
  },
  {
    label: 'phone with a raw + in the body (decoded as a space)',
    body: 'sessionId=r-raw-plus&serviceCode=*384*123%23&phoneNumber=+22376000001&text=',
    status: 400,
    says: 'phoneNumber: must be an E.164 number',
    effect: nothingStored('r-raw-plus'),
  },
  {
    label: 'sessionId with spaces',
    body: gw('r with spaces'),
    status: 400,
    says: 'sessionId: must be printable ASCII without spaces',
    effect: nothingStored('r with spaces'),
  },
  {
    label: 'sessionId with a control character',
    body: gw('r-\u0000-nul'),
    status: 400,
    says: 'sessionId: must be printable ASCII without spaces',
  },
  {
    label: 'sessionId of 129 characters',
    body: gw('s'.repeat(129)),
    status: 400,
    says: 'Bad request: sessionId:',
    effect: nothingStored('s'.repeat(129)),
  },
  {
    label: 'networkCode longer than any network code',
    body: gw('r-network', { networkCode: '6'.repeat(17) }),
    status: 400,
    says: 'Bad request: networkCode:',
  },
  {
    label: 'text longer than any USSD session (4001 `*`)',
    body: gw('r-4001', { text: '*'.repeat(4001) }),
    status: 400,
    says: 'text: is longer than any USSD session',
    effect: nothingStored('r-4001'),
  },

  // Bodies that are not a gateway form.
  {
    label: 'JSON: 415',
    body: JSON.stringify(gw('r-json')),
    type: 'application/json',
    status: 415,
    says: 'Bad request: Content-Type must be application/x-www-form-urlencoded',
    effect: nothingStored('r-json'),
  },
  {
    label: 'no Content-Type at all: 415',
    body: bytes(encode(gw('r-untyped'))),
    type: null,
    status: 415,
    says: 'Content-Type must be',
    effect: nothingStored('r-untyped'),
  },
  {
    label: 'binary garbage as a form: 400 naming the missing fields',
    body: garbage(2048, 1),
    status: 400,
    says: 'Bad request: sessionId:',
  },
  {
    label: 'binary garbage as application/octet-stream: 415',
    body: garbage(2048, 2),
    type: 'application/octet-stream',
    status: 415,
    says: 'Bad request: Content-Type',
  },
  {
    label: 'a body one byte over 8 KB: 413',
    body: padded(gw('r-8k1'), 8 * 1024 + 1),
    status: 413,
    says: 'Bad request: body larger than 8192 bytes',
    effect: nothingStored('r-8k1'),
  },
  {
    label: 'a 10 KB body: 413',
    body: padded(gw('r-10k'), 10 * 1024),
    status: 413,
    says: 'Bad request: body larger than 8192 bytes',
    effect: nothingStored('r-10k'),
  },
  {
    label: 'a 10 KB body streamed without Content-Length: 413',
    body: padded(gw('r-10k-chunked'), 10 * 1024),
    chunked: true,
    status: 413,
    says: 'Bad request: body larger than 8192 bytes',
    effect: nothingStored('r-10k-chunked'),
  },
];

async function send(app: TestApp, path: string, row: Row): Promise<{ status: number; type: string; body: string }> {
  const raw =
    row.body instanceof Uint8Array
      ? Buffer.from(row.body)
      : Buffer.from(typeof row.body === 'string' ? row.body : encode(row.body), 'utf8');
  const headers: Record<string, string> = {};
  const type = row.type === undefined ? FORM : row.type;
  if (type !== null) headers['content-type'] = type;
  const init: RequestInit & { duplex?: 'half' } = { method: 'POST', headers, signal: AbortSignal.timeout(5_000), body: raw };
  if (row.chunked) {
    init.body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < raw.length; i += 1024) c.enqueue(raw.subarray(i, i + 1024));
        c.close();
      },
    });
    init.duplex = 'half';
  }
  const res = await fetch(app.url + path, init);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** Plays one row: its precondition, the request, the answer, the effect. Returns the status it got. */
async function check(app: TestApp, row: Row): Promise<number> {
  await row.given?.(app);
  const res = await send(app, '/ussd', row);
  expectAnswer(res, row);
  await row.effect?.(app);
  return res.status;
}

describe('POST /ussd', () => {
  let app: TestApp;
  const statuses = new Map<string, number>();
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  for (const row of rows) {
    it(row.label, async () => void statuses.set(row.label, await check(app, row)));
  }

  itAnsweredEveryRow(rows, statuses);
});
