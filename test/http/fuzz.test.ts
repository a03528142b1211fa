/**
 * Random bodies against the real server: forms with arbitrary Unicode, huge or missing fields,
 * `*`-joined texts that follow real sessions (sessionIds are reused across runs, so sessions go deep),
 * raw random bytes with any Content-Type, and random end-of-session notifications.
 * Whatever arrives, the answer is a screen or a 4xx naming what was wrong: never a 5xx, never a hang.
 */
import { Agent, request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCREEN_SEPTETS, septets } from '../../src/i18n/gsm7.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const FORM = 'application/x-www-form-urlencoded';
const SERVICE_CODE = '*384*123#';
/** Kept out of the fuzz, so the last check can expect its menu in French, untouched. */
const HAWA = '+22366000004';
const PHONES = ['+22376000001', '+22376000002', '+22376000003', ...Array.from({ length: 9 }, (_, i) => `+2237088000${i}`)];
const SESSIONS = 48;
/** Each pooled sessionId has its own phone, so reused ids continue their sessions instead of only meeting 409s. */
const pairedPhone = (i: number) => PHONES[i % PHONES.length] as string;

const NAV = ['1', '2', '3', '4', '5', '6', '7', '9', '0', '00', '98', '99', '1*1', '#', '*', ''];

interface Answer {
  status: number;
  type: string;
  body: string;
}

/** node:http on a keep-alive agent (fetch costs more CPU than the server's answer); `chunked` streams the body in 997-byte pieces. */
const agent = new Agent({ keepAlive: true });
function post(app: TestApp, path: string, body: string | Uint8Array, type: string | null, chunked = false): Promise<Answer> {
  const raw = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
  const headers: Record<string, string | number> = type === null ? {} : { 'content-type': type };
  // Without a length, node:http sends the body chunked.
  if (!chunked) headers['content-length'] = raw.length;
  return new Promise((resolve, reject) => {
    // A hang fails the property: the gateway gives up after 10 s, we give up after 5.
    const req = request(app.url + path, { method: 'POST', agent, headers, signal: AbortSignal.timeout(5_000) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode as number, type: res.headers['content-type'] ?? '', body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (chunked) for (let i = 0; i < raw.length; i += 997) req.write(raw.subarray(i, i + 997));
    req.end(chunked ? undefined : raw);
  });
}

const encode = (pairs: Array<[string, string]>) => new URLSearchParams(pairs).toString();

/** Random text plans, resolved at run time against what each pooled session last had answered. */
type TextPlan = { extend: string } | { literal: string };

const anyText = fc.string({ unit: 'binary', maxLength: 40 });
const textPlan: fc.Arbitrary<TextPlan> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...NAV).map((extend) => ({ extend })) },
  { weight: 1, arbitrary: anyText.map((extend) => ({ extend })) },
  { weight: 2, arbitrary: fc.constant({ literal: '' }) },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...NAV), { maxLength: 10 }).map((a) => ({ literal: a.join('*') })) },
  { weight: 1, arbitrary: fc.array(anyText, { maxLength: 6 }).map((a) => ({ literal: a.join('*') })) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 400 }).map((literal) => ({ literal })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 5000 }).map((n) => ({ literal: '*'.repeat(n) })) },
  { weight: 1, arbitrary: fc.integer({ min: 3000, max: 9000 }).map((n) => ({ literal: 'é'.repeat(n) })) },
);

const ussdForm = fc.record({
  session: fc.oneof(
    { weight: 8, arbitrary: fc.nat(SESSIONS - 1) },
    { weight: 1, arbitrary: fc.string({ maxLength: 140 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  ),
  /** `null`: the session's own phone. */
  phone: fc.oneof(
    { weight: 8, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom(...PHONES) },
    { weight: 1, arbitrary: fc.stringMatching(/^\+[1-9]\d{6,14}$/) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  ),
  serviceCode: fc.oneof(
    { weight: 9, arbitrary: fc.constant(SERVICE_CODE) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  ),
  networkCode: fc.oneof({ weight: 9, arbitrary: fc.constant('61001') }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }),
  text: textPlan,
  missing: fc.oneof(
    { weight: 9, arbitrary: fc.constant([] as string[]) },
    { weight: 1, arbitrary: fc.subarray(['sessionId', 'serviceCode', 'phoneNumber', 'networkCode', 'text'], { minLength: 1 }) },
  ),
  extra: fc.oneof(
    { weight: 4, arbitrary: fc.constant([] as Array<[string, string]>) },
    {
      weight: 1,
      arbitrary: fc.array(fc.tuple(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 60 })), {
        maxLength: 4,
      }),
    },
  ),
});

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant<string | null>(FORM) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<string | null>(
      `${FORM}; charset=UTF-8`,
      null,
      'application/json',
      'text/plain',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
    ),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[!-~][ -~]{0,58}[!-~]$/) },
);

const rawBody = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 3_000 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 8_000, maxLength: 12_000 }) },
  {
    weight: 3,
    arbitrary: fc.tuple(fc.nat(SESSIONS - 1), fc.uint8Array({ maxLength: 600 })).map(([i, tail]) =>
      Buffer.concat([
        Buffer.from(
          `${encode([
            ['sessionId', `fz-raw-${i}`],
            ['serviceCode', SERVICE_CODE],
            ['phoneNumber', pairedPhone(i)],
          ])}&`,
        ),
        tail,
      ]),
    ),
  },
);

const whole = fc.oneof(fc.nat().map(String), fc.string({ unit: 'binary', maxLength: 12 }));
const eventForm = fc.record(
  {
    date: fc.string({ unit: 'binary', maxLength: 70 }),
    sessionId: fc.oneof(
      fc.nat(SESSIONS - 1).map((i) => `fz-${i}-0`),
      fc.string({ unit: 'binary', maxLength: 140 }),
    ),
    serviceCode: fc.constantFrom(SERVICE_CODE, ''),
    networkCode: fc.string({ maxLength: 20 }),
    phoneNumber: fc.oneof(fc.constantFrom(...PHONES), fc.string({ unit: 'binary', maxLength: 20 })),
    status: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('Success', 'Incomplete', 'Failed') },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
    ),
    cost: fc.string({ unit: 'binary', maxLength: 70 }),
    durationInMillis: whole,
    hopsCount: whole,
    hopsMetadata: fc.string({ unit: 'binary', maxLength: 120 }),
    input: fc.array(fc.constantFrom(...NAV), { maxLength: 12 }).map((a) => a.join('*')),
    lastAppResponse: fc.string({ unit: 'binary', maxLength: 200 }),
    errorMessage: fc.string({ unit: 'binary', maxLength: 80 }),
  },
  { requiredKeys: ['sessionId', 'phoneNumber', 'status'] },
);

describe('random bodies against the real server', () => {
  let app: TestApp;
  /** The engine's failure screen in each language (a French and a Bambara member). */
  let failures: string[];
  /** The text each pooled session last had answered with a screen. */
  const answered = new Map<string, string>();
  /** A pooled session that ended is replaced by a new one on the same phone (which may then be offered a resume). */
  const generation = new Map<number, number>();
  const seen = { screens: 0, ends: 0, rejected: 0 };

  beforeAll(async () => {
    app = await startTestApp();
    failures = ['+22376000001', '+22376000003'].map((phone) => app.services.engine.failureReply(phone).body);
  });
  afterAll(() => {
    agent.destroy();
    return app.close();
  });

  /** A screen that fits a handset, never the engine's own failure screen; or a 4xx naming what was wrong. */
  function expectSane(res: Answer, screen: RegExp): void {
    expect(res.status, res.body).toBeLessThan(500);
    if (res.status < 300) {
      expect(res.status).toBe(200);
      expect(res.body).toMatch(screen);
      expect(failures, 'the engine failed and fell back to its failure screen').not.toContain(res.body);
      expect(res.type).toMatch(/^text\/plain/);
    } else {
      expect([400, 409, 413, 415], res.body).toContain(res.status);
      expect(res.body).toMatch(/^Bad request: \S/);
      seen.rejected++;
    }
  }

  function expectScreen(res: Answer): void {
    expectSane(res, /^(CON|END) /);
    if (res.status === 200) {
      expect(septets(res.body.slice(4)), res.body).toBeLessThanOrEqual(SCREEN_SEPTETS);
      seen.screens++;
      if (res.body.startsWith('END ')) seen.ends++;
    }
  }

  it('answers 1 100 random gateway forms with a screen or a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(ussdForm, async (f) => {
        const pooled = typeof f.session === 'number';
        const sessionId = pooled ? `fz-${f.session}-${generation.get(f.session as number) ?? 0}` : (f.session as string);
        // Another phone on a pooled id only once its own phone holds it: the id is never captured.
        const phone =
          pooled && (f.phone === null || !answered.has(sessionId)) ? pairedPhone(f.session as number) : (f.phone ?? (PHONES[0] as string));
        let text: string;
        if ('literal' in f.text) text = f.text.literal;
        else {
          const before = answered.get(sessionId) ?? '';
          text = before === '' ? f.text.extend : `${before}*${f.text.extend}`;
        }
        const fields: Array<[string, string]> = [
          ['sessionId', sessionId],
          ['serviceCode', f.serviceCode],
          ['phoneNumber', phone],
          ['networkCode', f.networkCode],
          ['text', text],
        ];
        const pairs = [...fields.filter(([k]) => !f.missing.includes(k)), ...f.extra];
        const res = await post(app, '/ussd', encode(pairs), FORM);
        expectScreen(res);
        if (res.status === 200 && pooled) answered.set(sessionId, text);
        if (res.body.startsWith('END ') && pooled) generation.set(f.session as number, (generation.get(f.session as number) ?? 0) + 1);
      }),
      { numRuns: 1_100 },
    );
  }, 60_000);

  it('answers 500 raw random byte bodies, with any Content-Type, with a screen or a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(rawBody, contentType, fc.boolean(), async (body, type, chunked) => {
        expectScreen(await post(app, '/ussd', body, type, chunked));
      }),
      { numRuns: 500 },
    );
  }, 60_000);

  it('answers 400 random end-of-session notifications with OK or a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(eventForm, async (e) => {
        const pairs = Object.entries(e).filter((p): p is [string, string] => p[1] !== undefined);
        expectSane(await post(app, '/ussd/events', encode(pairs), FORM), /^OK$/);
      }),
      { numRuns: 400 },
    );
  }, 60_000);

  it('reached screens, endings, rejections and sessions many hops deep', () => {
    expect(seen.screens).toBeGreaterThan(250);
    expect(seen.ends).toBeGreaterThan(20);
    expect(seen.rejected).toBeGreaterThan(200);
    const deepest = app.services.db.prepare(`SELECT MAX(hops) FROM ussd_sessions WHERE session_id LIKE 'fz-%'`).pluck().get();
    expect(deepest).toBeGreaterThanOrEqual(5);
  });

  it('is still healthy afterwards, and a member who calls gets the main menu and her coverage', async () => {
    const health = await fetch(`${app.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });

    // Past the resume window, so no session cut off by the fuzz is offered back.
    app.clock.advance(11 * 60_000);
    expect(await app.hop('after-fuzz', HAWA, '')).toEqual({
      status: 200,
      body: 'CON Kénéya Sabatili\n1 Ma couverture\n2 Cotiser\n3 Mes paiements\n4 Alertes SMS\n5 Etre rappelé par UTM\n6 Langue / Kan',
    });
    const coverage = await app.hop('after-fuzz', HAWA, '1');
    expect(coverage.status).toBe(200);
    expect(coverage.body).toMatch(/^CON Hawa Konaté, 2 pers\.\n/);
    expect((await app.hop('after-fuzz-2', '+22370999999', '')).body).toMatch(/^CON Kénéya Sabatili: numéro non inscrit\.\n/);
  });
});
