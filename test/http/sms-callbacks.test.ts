/**
 * The gateway's SMS callbacks (POST /sms/delivery, /sms/inbound, /sms/optout), each from a table: good
 * bodies next to bad ones, each row with the status it gets, a fragment of the body and, where it
 * matters, what the database holds afterwards.
 *
 * Rules the runner applies to every row:
 * - no row gets a 5xx, and every answer is text/plain;
 * - a rejected row (4xx) changes nothing in the SMS tables;
 * - in a form body, a value `@name` stands for the provider id of the message the app sent under
 *   that name (enqueued through the outbox and drained through the dispatcher before the rows run).
 *
 * Rows of a table run in order against one app. The simulator's own delivery reports are delayed
 * beyond the test, so every report the app sees is one a row posted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmsKind } from '../../src/sms/outbox.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectAnswer, itAnsweredEveryRow } from '../support/table.ts';

const FORM = 'application/x-www-form-urlencoded';
const MOUSSA = '+22376000001';
const AMINATA = '+22376000002';
const BAKARY = '+22376000003';
const HAWA = '+22366000004';
const UNKNOWN = '+22370123456';
/** A Bamako fixed line: a valid number that cannot receive SMS. */
const FIXED_LINE = '+22320221234';

type Form = Record<string, string>;

/** Messages the app sent, by name: their outbox id and the provider id the gateway gave them. */
type Sent = Map<string, { id: number; providerId: string }>;

interface Ctx {
  app: TestApp;
  sent: Sent;
  /** The SMS tables as they were before the row. */
  before: string;
}

interface Row {
  label: string;
  /** A form object (encoded as the gateway does, `@name` replaced by a provider id) or a raw body. */
  body: Form | string;
  /** Content-Type sent; form by default. */
  type?: string;
  status: number;
  /** Fragments the body contains. */
  says: string | string[];
  /** What the row leaves behind. */
  effect?: (ctx: Ctx) => unknown;
}

const encode = (form: Form) => new URLSearchParams(form).toString();

/** Pads a form with an ignored field up to exactly `size` bytes on the wire. */
function padded(form: Form, size: number): string {
  const head = `${encode(form)}&pad=`;
  return head + 'p'.repeat(size - head.length);
}

/** Every table an SMS callback may touch, as one comparable string. */
function smsTables(app: TestApp): string {
  const db = app.services.db;
  return JSON.stringify(
    ['sms_outbox', 'sms_status_history', 'sms_inbound', 'sms_optouts', 'callback_requests', 'sim_sms'].map((t) => [
      t,
      db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all(),
    ]),
  );
}

const nothingChanges = ({ app, before }: Ctx) => expect(smsTables(app)).toBe(before);

async function send(app: TestApp, path: string, row: Row, sent: Sent): Promise<{ status: number; type: string; body: string }> {
  let body: string;
  if (typeof row.body === 'string') body = row.body;
  else {
    const form: Form = {};
    for (const [k, v] of Object.entries(row.body)) {
      const named = v.startsWith('@') ? sent.get(v.slice(1)) : undefined;
      if (v.startsWith('@') && !named) throw new Error(`row "${row.label}": no message sent as ${v}`);
      form[k] = named ? named.providerId : v;
    }
    body = encode(form);
  }
  const res = await fetch(app.url + path, {
    method: 'POST',
    headers: { 'content-type': row.type ?? FORM },
    body,
    signal: AbortSignal.timeout(5_000),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** Plays a table against one app, one `it` per row, then checks no row got a 5xx. */
function table(path: string, rows: Row[], setup: (app: TestApp) => Promise<Sent> = async () => new Map()): void {
  describe(`POST ${path}`, () => {
    let app: TestApp;
    let sent: Sent;
    const statuses = new Map<string, number>();
    beforeAll(async () => {
      app = await startTestApp({ env: { SIMULATOR_DELIVERY_DELAY_MS: '600000' } });
      sent = await setup(app);
    });
    afterAll(() => app.close());

    for (const row of rows) {
      it(row.label, async () => {
        const before = smsTables(app);
        const res = await send(app, path, row, sent);
        statuses.set(row.label, res.status);
        expectAnswer(res, row);
        if (res.status >= 400) expect(smsTables(app), 'a rejected callback changes nothing').toBe(before);
        await row.effect?.({ app, sent, before });
      });
    }

    itAnsweredEveryRow(rows, statuses);
  });
}

// ---------------------------------------------------------------------------
// POST /sms/delivery

/** The messages the delivery rows report on: name → recipient. Each text differs, so each is its own gateway call. */
const OUTGOING: Record<string, string> = {
  receipt: MOUSSA,
  failed: AMINATA,
  absent: HAWA,
  rejected: BAKARY,
  buffered: MOUSSA,
};

async function sendOutgoing(app: TestApp): Promise<Sent> {
  const ids = new Map<string, number>();
  for (const [name, to] of Object.entries(OUTGOING)) {
    const r = app.services.outbox.enqueue({ to, text: `Kénéya Sabatili: reçu de test (${name}).`, lang: 'fr', kind: 'transactional' });
    if (r.status !== 'queued') throw new Error(`${name}: ${r.status}`);
    ids.set(name, r.id);
  }
  await app.services.dispatcher.drain();
  const sent: Sent = new Map();
  for (const [name, id] of ids) {
    const row = app.services.outbox.get(id);
    if (row?.status !== 'sent' || !row.providerMessageId) throw new Error(`${name} was not sent: ${JSON.stringify(row)}`);
    sent.set(name, { id, providerId: row.providerMessageId });
  }
  return sent;
}

/** A delivery report as the gateway posts it. */
const report = (id: string, status: string, over: Form = {}): Form => ({
  id,
  status,
  phoneNumber: MOUSSA,
  networkCode: '61001',
  retryCount: '0',
  ...over,
});

/** The message sent as `name` is now in `status`, its last history entry saying `detail`. */
const isNow =
  (name: string, status: string, detail: string, lastError: string | null = null) =>
  ({ app, sent }: Ctx) => {
    const id = (sent.get(name) as { id: number }).id;
    expect(app.services.outbox.get(id)).toMatchObject({ status, lastError });
    expect(app.services.outbox.history(id).at(-1)).toMatchObject({ status, detail });
  };

table(
  '/sms/delivery',
  [
    {
      label: 'Success for a message the app sent: delivered, the report in its history',
      body: report('@receipt', 'Success'),
      status: 200,
      says: 'OK',
      effect: isNow('receipt', 'delivered', 'Success'),
    },
    {
      label: 'the same Success again (the gateway repeating itself): 200, nothing changes',
      body: report('@receipt', 'Success'),
      status: 200,
      says: 'OK',
      effect: nothingChanges,
    },
    {
      label: 'a Failed arriving after Success: 200, the message stays delivered',
      body: report('@receipt', 'Failed', { failureReason: 'DeliveryFailure' }),
      status: 200,
      says: 'OK',
      effect: nothingChanges,
    },
    {
      label: 'Failed with a failureReason: failed, the reason kept',
      body: report('@failed', 'Failed', { phoneNumber: AMINATA, failureReason: 'DeliveryFailure' }),
      status: 200,
      says: 'OK',
      effect: isNow('failed', 'failed', 'Failed: DeliveryFailure', 'Failed: DeliveryFailure'),
    },
    {
      label: 'the same Failed again: 200, nothing changes',
      body: report('@failed', 'Failed', { phoneNumber: AMINATA, failureReason: 'DeliveryFailure' }),
      status: 200,
      says: 'OK',
      effect: nothingChanges,
    },
    {
      label: 'a late Success after Failed: 200, the message stays failed',
      body: report('@failed', 'Success', { phoneNumber: AMINATA }),
      status: 200,
      says: 'OK',
      effect: nothingChanges,
    },
    {
      label: 'AbsentSubscriber with a failureReason: failed, the reason kept',
      body: report('@absent', 'AbsentSubscriber', {
        phoneNumber: HAWA,
        networkCode: '61002',
        failureReason: 'UserIsInactive',
        retryCount: '3',
      }),
      status: 200,
      says: 'OK',
      effect: isNow('absent', 'failed', 'AbsentSubscriber: UserIsInactive', 'AbsentSubscriber: UserIsInactive'),
    },
    {
      label: 'Rejected (no failureReason): failed',
      body: report('@rejected', 'Rejected', { phoneNumber: BAKARY }),
      status: 200,
      says: 'OK',
      effect: isNow('rejected', 'failed', 'Rejected', 'Rejected'),
    },
    {
      label: 'Buffered: still sent, the report in its history',
      body: report('@buffered', 'Buffered'),
      status: 200,
      says: 'OK',
      effect: isNow('buffered', 'sent', 'Buffered'),
    },
    {
      label: 'the same Buffered again: 200, nothing changes',
      body: report('@buffered', 'Buffered'),
      status: 200,
      says: 'OK',
      effect: nothingChanges,
    },
    {
      label: 'then Success with only the two required fields: delivered',
      body: { id: '@buffered', status: 'Success' },
      status: 200,
      says: 'OK',
      effect: isNow('buffered', 'delivered', 'Success'),
    },
    {
      label: 'an id the app never sent: 200 all the same, nothing changes',
      body: report('ATXid_0123456789abcdef', 'Success'),
      status: 200,
      says: 'OK',
      effect: nothingChanges,
    },
    {
      label: 'an unknown id in a body of exactly 8 KB: 200, nothing changes',
      body: padded(report('ATXid_padded', 'Success'), 8 * 1024),
      status: 200,
      says: 'OK',
      effect: nothingChanges,
    },

    // Bad bodies: 400 naming the field, nothing changes.
    {
      label: 'a status the gateway never sends (Delivered)',
      body: report('@receipt', 'Delivered'),
      status: 400,
      says: 'Bad request: status: must be one of Sent, Submitted, Buffered, Success, Rejected, Failed, AbsentSubscriber, Expired',
    },
    {
      label: 'status missing',
      body: { id: 'ATXid_nostatus', phoneNumber: MOUSSA },
      status: 400,
      says: 'Bad request: status: must be one of',
    },
    { label: 'id missing', body: { status: 'Success', phoneNumber: MOUSSA }, status: 400, says: 'Bad request: id:' },
    { label: 'id empty', body: report('', 'Success'), status: 400, says: 'Bad request: id: is required' },
    { label: 'id with a space', body: report('ATXid 1', 'Success'), status: 400, says: 'id: must be printable ASCII without spaces' },
    { label: 'id of 129 characters', body: report('A'.repeat(129), 'Success'), status: 400, says: 'Bad request: id:' },
    {
      label: 'phoneNumber not E.164',
      body: report('@failed', 'Success', { phoneNumber: '76000001' }),
      status: 400,
      says: 'phoneNumber: must be an E.164 number',
    },
    {
      label: 'retryCount not a number',
      body: report('@failed', 'Failed', { retryCount: 'three' }),
      status: 400,
      says: 'retryCount: must be a whole number',
    },
    { label: 'an empty body: id and status both named', body: '', status: 400, says: ['Bad request: id:', 'status:'] },
    {
      label: 'JSON: 415',
      body: JSON.stringify({ id: 'ATXid_json', status: 'Success' }),
      type: 'application/json',
      status: 415,
      says: 'Bad request: Content-Type must be application/x-www-form-urlencoded',
    },
    {
      label: 'a body one byte over 8 KB: 413',
      body: padded(report('ATXid_big', 'Failed'), 8 * 1024 + 1),
      status: 413,
      says: 'Bad request: body larger than 8192 bytes',
    },
  ],
  sendOutgoing,
);

// ---------------------------------------------------------------------------
// POST /sms/inbound

/** A member's text as the gateway posts it. */
const inbound = (id: string, from: string, text: string, over: Form = {}): Form => ({
  date: '2026-03-10 09:00:00',
  from,
  id,
  linkId: '',
  text,
  to: '36123',
  networkCode: '61001',
  cost: 'None',
  ...over,
});

const MOUSSA_COVERAGE =
  "Kénéya Sabatili: Moussa Traoré, votre ménage (5 pers.) est couvert jusqu'au 30/04/2026. Reste\n1 250 FCFA pour mai. Menu: *384*123#";
const HELP =
  "Kénéya Sabatili. Envoyez: SOLDE (couverture), APPELEZ (UTM vous appelle), STOP (plus d'alertes), ALERTES (les reprendre). Couverture: *384*123*1#";
const JOIN =
  "Kénéya Sabatili: ce numéro n'est pas inscrit. La mutuelle paie une grande part de vos soins. Composez *384*123# pour savoir comment adhérer.";

const storedAs = (app: TestApp, gatewayId: string) =>
  app.services.db.prepare('SELECT sender, text, keyword, household_id AS householdId FROM sms_inbound WHERE gateway_id = ?').all(gatewayId);
const answersTo = (app: TestApp, gatewayId: string) =>
  app.services.db.prepare('SELECT recipient, text, kind, status FROM sms_outbox WHERE source_key = ?').all(`inbound:${gatewayId}`);

/** The text is stored once as given, and answered once with `answer` (or not at all). */
const handled =
  (
    gatewayId: string,
    stored: { sender: string; text: string; keyword: string | null; householdId: number | null },
    answer: string | null,
  ) =>
  ({ app }: Ctx) => {
    expect(storedAs(app, gatewayId)).toEqual([stored]);
    expect(answersTo(app, gatewayId)).toEqual(
      answer === null ? [] : [{ recipient: stored.sender, text: answer, kind: 'transactional', status: 'queued' }],
    );
  };

table('/sms/inbound', [
  {
    label: 'SOLDE from a member: stored with its keyword, one coverage answer queued',
    body: inbound('in-solde', MOUSSA, 'SOLDE'),
    status: 200,
    says: 'OK',
    effect: handled('in-solde', { sender: MOUSSA, text: 'SOLDE', keyword: 'coverage', householdId: 1 }, MOUSSA_COVERAGE),
  },
  {
    label: 'the same gateway id again (the gateway retrying): 200, no second row, no second answer',
    body: inbound('in-solde', MOUSSA, 'SOLDE'),
    status: 200,
    says: 'OK',
    effect: nothingChanges,
  },
  {
    label: 'the same gateway id with another text: 200, nothing changes',
    body: inbound('in-solde', MOUSSA, 'STOP'),
    status: 200,
    says: 'OK',
    effect: nothingChanges,
  },
  {
    label: 'the same text under a new gateway id: a message of its own, answered',
    body: inbound('in-solde-2', MOUSSA, 'SOLDE'),
    status: 200,
    says: 'OK',
    effect: handled('in-solde-2', { sender: MOUSSA, text: 'SOLDE', keyword: 'coverage', householdId: 1 }, MOUSSA_COVERAGE),
  },
  {
    label: 'only the required fields (id, from, text)',
    body: { id: 'in-minimal', from: MOUSSA, text: 'aide' },
    status: 200,
    says: 'OK',
    effect: handled('in-minimal', { sender: MOUSSA, text: 'aide', keyword: 'help', householdId: 1 }, HELP),
  },
  {
    label: 'empty text from a member: stored without keyword, answered with the help',
    body: inbound('in-empty', MOUSSA, ''),
    status: 200,
    says: 'OK',
    effect: handled('in-empty', { sender: MOUSSA, text: '', keyword: null, householdId: 1 }, HELP),
  },
  {
    label: 'empty text from an unregistered number: stored, answered with the joining information',
    body: inbound('in-empty-unknown', UNKNOWN, ''),
    status: 200,
    says: 'OK',
    effect: handled('in-empty-unknown', { sender: UNKNOWN, text: '', keyword: null, householdId: null }, JOIN),
  },
  {
    label: 'a text of exactly 2000 characters: stored whole, the first word answered',
    body: inbound('in-2000', MOUSSA, `SOLDE ${'x'.repeat(1994)}`),
    status: 200,
    says: 'OK',
    effect: handled('in-2000', { sender: MOUSSA, text: `SOLDE ${'x'.repeat(1994)}`, keyword: 'coverage', householdId: 1 }, MOUSSA_COVERAGE),
  },
  {
    label: 'from a fixed line: stored for UTM staff, no answer (it cannot receive SMS)',
    body: inbound('in-fixed', FIXED_LINE, 'SOLDE'),
    status: 200,
    says: 'OK',
    effect: handled('in-fixed', { sender: FIXED_LINE, text: 'SOLDE', keyword: 'coverage', householdId: null }, null),
  },
  {
    label: 'a sender E.164 in shape but no real number: stored, no answer',
    body: inbound('in-invalid', '+22300000000', 'SOLDE'),
    status: 200,
    says: 'OK',
    effect: handled('in-invalid', { sender: '+22300000000', text: 'SOLDE', keyword: 'coverage', householdId: null }, null),
  },

  // Bad bodies: 400 naming the field, nothing stored or answered.
  { label: 'from missing', body: { id: 'in-no-from', text: 'SOLDE' }, status: 400, says: 'Bad request: from:' },
  { label: 'id missing', body: { from: MOUSSA, text: 'SOLDE' }, status: 400, says: 'Bad request: id:' },
  { label: 'id empty', body: inbound('', MOUSSA, 'SOLDE'), status: 400, says: 'Bad request: id: is required' },
  { label: 'text missing', body: { id: 'in-no-text', from: MOUSSA }, status: 400, says: 'Bad request: text:' },
  { label: 'from without the +', body: inbound('in-no-plus', '22376000001', 'SOLDE'), status: 400, says: 'from: must be an E.164 number' },
  {
    label: 'from in national format',
    body: inbound('in-national', '76000001', 'SOLDE'),
    status: 400,
    says: 'from: must be an E.164 number',
  },
  {
    label: 'from with spaces',
    body: inbound('in-spaces', '+223 76 00 00 01', 'SOLDE'),
    status: 400,
    says: 'from: must be an E.164 number',
  },
  {
    label: 'from an alphanumeric sender id',
    body: inbound('in-alpha', 'UTM', 'SOLDE'),
    status: 400,
    says: 'from: must be an E.164 number',
  },
  {
    label: 'from with a raw + in the body (decoded as a space)',
    body: 'id=in-raw-plus&from=+22376000001&text=SOLDE',
    status: 400,
    says: 'from: must be an E.164 number',
  },
  {
    label: 'text of 2001 characters',
    body: inbound('in-2001', MOUSSA, 'x'.repeat(2001)),
    status: 400,
    says: 'Bad request: text: is longer than any SMS',
  },
  { label: 'an empty body: id, from and text all named', body: '', status: 400, says: ['Bad request: id:', 'from:', 'text:'] },
  {
    label: 'JSON: 415',
    body: JSON.stringify(inbound('in-json', MOUSSA, 'SOLDE')),
    type: 'application/json',
    status: 415,
    says: 'Bad request: Content-Type must be application/x-www-form-urlencoded',
  },
  {
    label: 'a body one byte over 8 KB: 413',
    body: padded(inbound('in-big', MOUSSA, 'SOLDE'), 8 * 1024 + 1),
    status: 413,
    says: 'Bad request: body larger than 8192 bytes',
  },
]);

// ---------------------------------------------------------------------------
// POST /sms/optout

const optedOut =
  (phone: string, via: string) =>
  ({ app }: Ctx) => {
    expect(app.services.db.prepare('SELECT opted_out AS optedOut, via FROM sms_optouts WHERE phone = ?').all(phone)).toEqual([
      { optedOut: 1, via },
    ]);
    // Reminders and campaigns are no longer queued for it (nothing is written for them).
    for (const kind of ['reminder', 'campaign'] satisfies SmsKind[]) {
      expect(app.services.outbox.enqueue({ to: phone, text: 'Rappel: votre cotisation est due.', lang: 'fr', kind })).toEqual({
        status: 'opted-out',
      });
    }
  };

table('/sms/optout', [
  {
    label: 'phoneNumber and senderId: the phone opted out of reminders and campaigns',
    body: { senderId: 'UTM', phoneNumber: AMINATA },
    status: 200,
    says: 'OK',
    effect: optedOut(AMINATA, 'gateway opt-out UTM'),
  },
  {
    label: 'the same opt-out again: 200, nothing changes',
    body: { senderId: 'UTM', phoneNumber: AMINATA },
    status: 200,
    says: 'OK',
    effect: nothingChanges,
  },
  {
    label: 'phoneNumber alone (senderId is optional)',
    body: { phoneNumber: HAWA },
    status: 200,
    says: 'OK',
    effect: optedOut(HAWA, 'gateway opt-out'),
  },
  {
    label: 'an unregistered number is opted out all the same',
    body: { senderId: 'UTM', phoneNumber: UNKNOWN },
    status: 200,
    says: 'OK',
    effect: optedOut(UNKNOWN, 'gateway opt-out UTM'),
  },
  { label: 'phoneNumber missing', body: { senderId: 'UTM' }, status: 400, says: 'Bad request: phoneNumber:' },
  { label: 'phoneNumber empty', body: { senderId: 'UTM', phoneNumber: '' }, status: 400, says: 'phoneNumber: must be an E.164 number' },
  {
    label: 'phoneNumber without the +',
    body: { senderId: 'UTM', phoneNumber: '22376000001' },
    status: 400,
    says: 'phoneNumber: must be an E.164 number',
  },
  {
    label: 'senderId longer than any sender id',
    body: { senderId: 'U'.repeat(65), phoneNumber: MOUSSA },
    status: 400,
    says: 'Bad request: senderId:',
  },
  {
    label: 'JSON: 415',
    body: JSON.stringify({ phoneNumber: MOUSSA }),
    type: 'application/json',
    status: 415,
    says: 'Bad request: Content-Type must be application/x-www-form-urlencoded',
  },
  {
    label: 'a body one byte over 8 KB: 413',
    body: padded({ phoneNumber: MOUSSA }, 8 * 1024 + 1),
    status: 413,
    says: 'Bad request: body larger than 8192 bytes',
  },
]);
