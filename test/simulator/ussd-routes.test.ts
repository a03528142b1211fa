/**
 * The browser phone's HTTP side: the page and its files served by the app with nothing from
 * another host, and the gateway API under /simulator/api/ussd/* from a table of good and bad
 * requests (design.md, "Testing": bad bodies beside good ones).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGE_DIR } from '../../src/simulator/ussd-routes.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectAnswer, itAnsweredEveryRow } from '../support/table.ts';

const DIAL = { phone: '+22376000001', code: '*384*123#' };

describe('the browser phone page', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('serves the page, its script and its style from the app itself', async () => {
    for (const [path, type] of [
      ['/simulator', 'text/html'],
      ['/simulator/phone.js', 'text/javascript'],
      ['/simulator/phone.css', 'text/css'],
    ] as const) {
      const res = await fetch(app.url + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toContain(type);
    }
  });

  it('loads nothing from another host, so it works offline', () => {
    for (const file of readdirSync(PAGE_DIR)) {
      const text = readFileSync(PAGE_DIR + file, 'utf8');
      expect(text.match(/(src|href)=["']https?:|import\s.*from\s+["']https?:|url\(["']?https?:/g), file).toBeNull();
    }
  });

  it('lists the demo phones, the facilities’ agents among them, and the gateway limits', async () => {
    const res = await fetch(`${app.url}/simulator/api/ussd/config`);
    const body = (await res.json()) as {
      serviceCode: string;
      phones: Array<{ phone: string; label: string }>;
      limits: object;
      handset: object;
    };
    expect(body.serviceCode).toBe('*384*123#');
    // The page's pace: a poll a second, an END screen left two seconds before the operator's prompt.
    expect(body.handset).toEqual({ pollMs: 1000, readMs: 2000 });
    expect(body.phones.map((p) => p.phone)).toEqual([
      '+22376000001',
      '+22376000002',
      '+22376000003',
      '+22366000004',
      '+22377000001',
      '+22377000002',
      '+22376000099',
    ]);
    expect(body.phones[4]?.label).toBe('Agent Mariam Diarra, CSCom de Kléla (français)');
    expect(body.limits).toEqual({ idleSeconds: 60, maxSeconds: 180 });
  });

  it('dials sabatili through the gateway and returns the raw exchange', async () => {
    const res = await fetch(`${app.url}/simulator/api/ussd/dial`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...DIAL, url: `${app.url}/ussd`, eventsUrl: '' }),
    });
    const hop = (await res.json()) as { sessionId: string; request: { body: string }; response: string; end: boolean; ms: number };
    expect(res.status).toBe(200);
    expect(hop.request.body).toBe(`sessionId=${hop.sessionId}&serviceCode=*384*123%23&phoneNumber=%2B22376000001&networkCode=61001&text=`);
    expect(hop.response).toMatch(/^CON Kénéya Sabatili\n1 Ma couverture/);
    expect(hop.end).toBe(false);
    const hangUp = await fetch(`${app.url}/simulator/api/ussd/hangup`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' }, // as navigator.sendBeacon posts it
      body: JSON.stringify({ sessionId: hop.sessionId, how: 'user' }),
    });
    expect(hangUp.status).toBe(200);
    expect(((await hangUp.json()) as { status: string }).status).toBe('Incomplete');
  });

  const rows: Array<{ label: string; path: string; body: string; type?: string; status: number; says: string }> = [
    {
      label: 'dial without a phone',
      path: 'dial',
      body: JSON.stringify({ code: '*384*123#', url: 'http://127.0.0.1:9/ussd' }),
      status: 400,
      says: 'phone',
    },
    {
      label: 'dial from a number that is not E.164',
      path: 'dial',
      body: JSON.stringify({ ...DIAL, phone: '76000001', url: 'http://127.0.0.1:9/ussd' }),
      status: 400,
      says: 'phone',
    },
    {
      label: 'dial an application URL that is not http',
      path: 'dial',
      body: JSON.stringify({ ...DIAL, url: 'file:///etc/passwd' }),
      status: 400,
      says: 'url: must be an http(s) URL',
    },
    {
      label: 'dial with a delay beyond 15 s',
      path: 'dial',
      body: JSON.stringify({ ...DIAL, url: 'http://127.0.0.1:9/ussd', delayMs: 60_000 }),
      status: 400,
      says: 'delayMs',
    },
    { label: 'dial with a body that is not JSON', path: 'dial', body: '{"phone":', status: 400, says: '' },
    { label: 'answer without a session', path: 'answer', body: JSON.stringify({ input: '1' }), status: 400, says: 'sessionId' },
    {
      label: 'answer a session that never existed',
      path: 'answer',
      body: JSON.stringify({ sessionId: 'nope', input: '1' }),
      status: 200,
      says: 'no such session: dial again',
    },
    {
      label: 'answer of 3 000 characters',
      path: 'answer',
      body: JSON.stringify({ sessionId: 'x', input: '1'.repeat(3000) }),
      status: 400,
      says: 'input',
    },
    {
      label: 'retry of a session that never existed',
      path: 'retry',
      body: JSON.stringify({ sessionId: 'nope' }),
      status: 200,
      says: 'no such session',
    },
    {
      label: 'hang up an unknown session',
      path: 'hangup',
      body: JSON.stringify({ sessionId: 'nope', how: 'user' }),
      status: 404,
      says: 'NO_OPEN_SESSION',
    },
    { label: 'hang up in an unknown way', path: 'hangup', body: JSON.stringify({ sessionId: 'x', how: 'slam' }), status: 400, says: 'how' },
    { label: 'a body over 8 kB', path: 'answer', body: JSON.stringify({ sessionId: 'x', input: '1'.repeat(9000) }), status: 413, says: '' },
  ];
  const statuses = new Map<string, number>();
  it.each(rows)('$label → $status', async (row) => {
    const res = await fetch(`${app.url}/simulator/api/ussd/${row.path}`, {
      method: 'POST',
      headers: { 'content-type': row.type ?? 'application/json' },
      body: row.body,
    });
    const body = await res.text();
    statuses.set(row.label, res.status);
    expectAnswer({ status: res.status, body }, row);
  });
  itAnsweredEveryRow(rows, statuses);
});

describe('opening a simulated Orange Money account', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());
  const open = (body: unknown) =>
    fetch(`${app.url}/simulator/api/wallet`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('opens one for a number without (10 000 FCFA, PIN 1234 by default), once', async () => {
    const created = await open({ phone: '+22376000555' });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ phone: '+22376000555', balance: 10_000, state: 'active', pending: null });
    expect((await open({ phone: '+22376000555' })).status).toBe(409);
    expect((await open({ phone: '+22376000001' })).status).toBe(409);
    expect((await open({ phone: '+22376000556', balance: 2500, pin: '0000' })).status).toBe(201);
    const bad = await open({ phone: '76000557', pin: '12' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/phone: .*pin: must be 4 digits/);
  });
});
