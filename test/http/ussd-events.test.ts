/**
 * POST /ussd/events, the gateway's end-of-session notification, from a table: good notifications next
 * to bad ones, each row with its status, a fragment of the body and what the database holds afterwards.
 * Rows run in order against one app.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectAnswer, itAnsweredEveryRow } from '../support/table.ts';

const FORM = 'application/x-www-form-urlencoded';
const MOUSSA = '+22376000001';
const AMINATA = '+22376000002';
const HAWA = '+22366000004';
const UNKNOWN = '+22370123456';

type Form = Record<string, string>;

interface Row {
  label: string;
  body: Form | string;
  /** Content-Type sent; form by default. */
  type?: string;
  /** What must already have happened (the hops of the session being reported). */
  given?: (app: TestApp) => Promise<unknown>;
  status: number;
  says: string | string[];
  effect?: (app: TestApp) => unknown;
}

/** A notification as the gateway sends it; `undefined` leaves a field out. */
function notification(sessionId: string | undefined, over: Partial<Record<string, string | undefined>> = {}): Form {
  const all: Record<string, string | undefined> = {
    date: '2026-03-10 09:01:12',
    sessionId,
    serviceCode: '*384*123#',
    networkCode: '61001',
    phoneNumber: MOUSSA,
    status: 'Success',
    cost: 'XOF 0.0000',
    durationInMillis: '42150',
    hopsCount: '2',
    hopsMetadata: 'coverage',
    input: '1',
    lastAppResponse: 'CON Moussa Traoré, 5 pers.',
    errorMessage: '',
    ...over,
  };
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
}

const hops = (sessionId: string, phone: string, texts: string[]) => async (app: TestApp) => {
  for (const text of texts) expect((await app.hop(sessionId, phone, text)).status).toBe(200);
};

const events = (app: TestApp, sessionId: string) =>
  app.services.db.prepare('SELECT * FROM ussd_session_events WHERE session_id = ?').all(sessionId) as Array<Record<string, unknown>>;
const noEvent = (sessionId: string) => (app: TestApp) => expect(events(app, sessionId)).toEqual([]);
const sessionStatus = (app: TestApp, sessionId: string) => app.services.sessions.get(sessionId)?.status;

const rows: Row[] = [
  {
    label: 'a Success notification is stored with every field, and ends the session',
    given: hops('ev-success', MOUSSA, ['', '1']),
    body: notification('ev-success'),
    status: 200,
    says: 'OK',
    effect: async (app) => {
      expect(events(app, 'ev-success')).toEqual([
        {
          session_id: 'ev-success',
          phone: MOUSSA,
          service_code: '*384*123#',
          network_code: '61001',
          status: 'Success',
          date: '2026-03-10 09:01:12',
          cost: 'XOF 0.0000',
          duration_ms: 42150,
          hops_count: 2,
          hops_metadata: 'coverage',
          input: '1',
          last_app_response: 'CON Moussa Traoré, 5 pers.',
          error_message: '',
          received_at: '2026-03-10T09:00:00.000Z',
        },
      ]);
      expect(sessionStatus(app, 'ev-success')).toBe('ended');
      // Ended, so the next call starts at the main menu instead of offering to resume.
      expect((await app.hop('ev-success-next', MOUSSA, '')).body).toMatch(/^CON Kénéya Sabatili\n1 Ma couverture/);
    },
  },
  {
    label: 'a Success notification naming another phone is stored but does not end that session',
    given: hops('ev-other-phone', '+22366000004', ['', '1']),
    body: notification('ev-other-phone', { phoneNumber: '+22370000001' }),
    status: 200,
    says: 'OK',
    effect: (app) => {
      expect(events(app, 'ev-other-phone')).toHaveLength(1);
      expect(sessionStatus(app, 'ev-other-phone')).toBe('open');
    },
  },
  {
    label: 'a repeat for the same sessionId updates the stored notification instead of adding one',
    body: notification('ev-success', { durationInMillis: '43000', hopsCount: '3', cost: 'XOF 5.0000' }),
    status: 200,
    says: 'OK',
    effect: (app) => {
      expect(events(app, 'ev-success')).toHaveLength(1);
      expect(events(app, 'ev-success')[0]).toMatchObject({ duration_ms: 43000, hops_count: 3, cost: 'XOF 5.0000', status: 'Success' });
    },
  },
  {
    label: 'an Incomplete notification leaves the session open, and the next call offers to resume the contribution it cut',
    given: hops('ev-cut', AMINATA, ['', '2', '2*4']),
    body: notification('ev-cut', { phoneNumber: AMINATA, status: 'Incomplete', errorMessage: 'Session timed out' }),
    status: 200,
    says: 'OK',
    effect: async (app) => {
      expect(events(app, 'ev-cut')[0]).toMatchObject({ status: 'Incomplete', error_message: 'Session timed out' });
      expect(sessionStatus(app, 'ev-cut')).toBe('open');
      expect((await app.hop('ev-cut-next', AMINATA, '')).body).toMatch(
        /^CON Kénéya Sabatili\n1 Ma couverture\n[\s\S]*\n6 Langue \/ Kan\n7 Continuer à cotiser$/,
      );
    },
  },
  {
    label: 'a Failed notification leaves the session open too',
    given: hops('ev-failed', HAWA, ['', '1']),
    body: notification('ev-failed', { phoneNumber: HAWA, status: 'Failed', errorMessage: 'Network error' }),
    status: 200,
    says: 'OK',
    effect: (app) => {
      expect(events(app, 'ev-failed')[0]).toMatchObject({ status: 'Failed' });
      expect(sessionStatus(app, 'ev-failed')).toBe('open');
    },
  },
  {
    label: 'a notification for a session the app never answered is stored all the same',
    body: notification('ev-never-seen', { phoneNumber: UNKNOWN, status: 'Failed' }),
    status: 200,
    says: 'OK',
    effect: (app) => {
      expect(events(app, 'ev-never-seen')).toHaveLength(1);
      expect(app.services.sessions.get('ev-never-seen')).toBeUndefined();
    },
  },
  {
    label: 'a notification with only sessionId, phoneNumber and status is stored with the rest empty',
    body: { sessionId: 'ev-bare', phoneNumber: UNKNOWN, status: 'Incomplete' },
    status: 200,
    says: 'OK',
    effect: (app) =>
      expect(events(app, 'ev-bare')[0]).toMatchObject({
        status: 'Incomplete',
        duration_ms: null,
        hops_count: null,
        cost: null,
        date: null,
      }),
  },

  // Bad notifications: 400 naming the field, nothing stored, the session left as it was.
  {
    label: 'an unknown status: 400 naming status, the open session left open',
    given: hops('ev-bad-status', UNKNOWN, ['', '1']),
    body: notification('ev-bad-status', { phoneNumber: UNKNOWN, status: 'Done' }),
    status: 400,
    says: 'Bad request: status: must be Success, Incomplete or Failed',
    effect: (app) => {
      noEvent('ev-bad-status')(app);
      expect(sessionStatus(app, 'ev-bad-status')).toBe('open');
    },
  },
  {
    label: 'a status in lower case',
    body: notification('ev-lower', { status: 'success' }),
    status: 400,
    says: 'status: must be Success',
    effect: noEvent('ev-lower'),
  },
  {
    label: 'status missing',
    body: notification('ev-no-status', { status: undefined }),
    status: 400,
    says: 'Bad request: status:',
    effect: noEvent('ev-no-status'),
  },
  {
    label: 'a non-numeric durationInMillis',
    body: notification('ev-duration', { durationInMillis: 'abc' }),
    status: 400,
    says: 'Bad request: durationInMillis: must be a whole number',
    effect: noEvent('ev-duration'),
  },
  {
    label: 'a fractional durationInMillis',
    body: notification('ev-frac', { durationInMillis: '12.5' }),
    status: 400,
    says: 'durationInMillis: must be a whole number',
  },
  {
    label: 'a negative durationInMillis',
    body: notification('ev-neg', { durationInMillis: '-5' }),
    status: 400,
    says: 'durationInMillis: must be a whole number',
  },
  {
    label: 'a non-numeric hopsCount',
    body: notification('ev-hops', { hopsCount: 'three' }),
    status: 400,
    says: 'Bad request: hopsCount: must be a whole number',
  },
  { label: 'sessionId missing', body: notification(undefined), status: 400, says: 'Bad request: sessionId:' },
  {
    label: 'sessionId with spaces',
    body: notification('ev with spaces'),
    status: 400,
    says: 'sessionId: must be printable ASCII without spaces',
  },
  {
    label: 'phoneNumber missing',
    body: notification('ev-no-phone', { phoneNumber: undefined }),
    status: 400,
    says: 'Bad request: phoneNumber:',
    effect: noEvent('ev-no-phone'),
  },
  {
    label: 'phoneNumber not E.164',
    body: notification('ev-bad-phone', { phoneNumber: '76000001' }),
    status: 400,
    says: 'phoneNumber: must be an E.164 number',
  },
  {
    label: 'an input longer than any session',
    body: notification('ev-long-input', { input: '1*'.repeat(2001) }),
    status: 400,
    says: 'Bad request: input:',
    effect: noEvent('ev-long-input'),
  },
  {
    label: 'an empty body: every required field named',
    body: '',
    status: 400,
    says: ['Bad request: sessionId:', 'phoneNumber:', 'status:'],
  },
  {
    label: 'JSON: 415',
    body: JSON.stringify(notification('ev-json')),
    type: 'application/json',
    status: 415,
    says: 'Content-Type must be',
    effect: noEvent('ev-json'),
  },
  {
    label: 'a body over 8 KB: 413',
    body: notification('ev-huge', { lastAppResponse: 'x'.repeat(9000) }),
    status: 413,
    says: 'Bad request: body larger than 8192 bytes',
    effect: noEvent('ev-huge'),
  },
];

async function check(app: TestApp, row: Row): Promise<number> {
  await row.given?.(app);
  const res = await fetch(`${app.url}/ussd/events`, {
    method: 'POST',
    headers: { 'content-type': row.type ?? FORM },
    body: typeof row.body === 'string' ? row.body : new URLSearchParams(row.body).toString(),
    signal: AbortSignal.timeout(5_000),
  });
  expectAnswer({ status: res.status, body: await res.text() }, row);
  await row.effect?.(app);
  return res.status;
}

describe('POST /ussd/events', () => {
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
