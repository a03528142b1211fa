/**
 * The lean path (src/http/lean.ts) answers the gateway callbacks without express; startTestApp
 * serves through it, so the whole suite runs over it. Here: the same requests to the lean server
 * and to the express app alone (createApp, same services) get the same status, type and body,
 * including every spelling and method the lean path leaves to express; and the key is read from
 * the query string exactly as the WHATWG URL parser reads it.
 */
import { createServer, type Server } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.ts';
import { givenKeys } from '../../src/http/gateway-key.ts';
import { createHttpHandler } from '../../src/http/lean.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const KEY = 'k3y-for-the-lean-path-0123456789abcdef';
const MOUSSA = '+22376000001';
const FORM = 'application/x-www-form-urlencoded';

interface Req {
  label: string;
  method?: string;
  path: string;
  type?: string;
  body?: string;
  headers?: Record<string, string>;
}

const hop = (id: string, extra: Record<string, string> = {}) =>
  new URLSearchParams({
    sessionId: id,
    serviceCode: '*384*123#',
    phoneNumber: MOUSSA,
    networkCode: '61001',
    text: '',
    ...extra,
  }).toString();

const requests: Req[] = [
  { label: 'a hop', path: `/ussd?key=${KEY}`, body: hop('lean-S') },
  { label: 'a hop without the key', path: '/ussd', body: hop('lean-x1') },
  { label: 'a hop with the key twice', path: `/ussd?key=${KEY}&key=${KEY}`, body: hop('lean-x2') },
  { label: 'a hop with a wrong key after a fragment', path: `/ussd?key=${KEY}#x`, body: hop('lean-x3') },
  { label: 'GET /ussd', method: 'GET', path: `/ussd?key=${KEY}` },
  { label: 'GET /ussd without the key', method: 'GET', path: '/ussd' },
  { label: 'PUT /ussd', method: 'PUT', path: `/ussd?key=${KEY}`, body: hop('lean-x4') },
  { label: 'POST /USSD', path: `/USSD?key=${KEY}`, body: hop('lean-x5', { phoneNumber: 'bad' }) },
  { label: 'POST /ussd/ (trailing slash)', path: `/ussd/?key=${KEY}`, body: hop('lean-x6', { phoneNumber: 'bad' }) },
  { label: 'POST /ussd/other', path: `/ussd/other?key=${KEY}`, body: hop('lean-x7') },
  { label: 'an empty body', path: `/ussd?key=${KEY}`, body: '' },
  { label: 'JSON', path: `/ussd?key=${KEY}`, type: 'application/json', body: '{"sessionId":"x"}' },
  { label: 'no Content-Type', path: `/ussd?key=${KEY}`, type: '', body: hop('lean-x8') },
  { label: 'an oversized form', path: `/ussd?key=${KEY}`, body: hop('lean-x9', { text: 'x'.repeat(9000) }) },
  { label: 'bad fields', path: `/ussd?key=${KEY}`, body: 'sessionId=a%20b&phoneNumber=123&text=1' },
  { label: 'a text longer than any session', path: `/ussd?key=${KEY}`, body: hop('lean-x10', { text: '1'.repeat(4001) }) },
  { label: 'an event with a bad status', path: `/ussd/events?key=${KEY}`, body: 'sessionId=s&phoneNumber=%2B22376000001&status=Maybe' },
  { label: 'an event', path: `/ussd/events?key=${KEY}`, body: 'sessionId=lean-ev&phoneNumber=%2B22376000001&status=Success' },
  { label: 'an inbound SMS without from', path: `/sms/inbound?key=${KEY}`, body: 'id=x&text=hi' },
  { label: 'a delivery report with a bad status', path: `/sms/delivery?key=${KEY}`, body: 'id=x&status=Lost' },
  { label: 'a delivery report for an unknown id', path: `/sms/delivery?key=${KEY}`, body: 'id=ATXid-none&status=Success' },
  { label: 'an opt-out with a bad number', path: `/sms/optout?key=${KEY}`, body: 'phoneNumber=0700' },
  { label: 'GET /healthz', method: 'GET', path: '/healthz' },
  { label: 'an unknown route', path: '/nowhere', body: 'a=1' },
];

async function send(base: string, r: Req) {
  const headers: Record<string, string> = { ...r.headers };
  if (r.type !== '' && r.body !== undefined) headers['content-type'] = r.type ?? FORM;
  const res = await fetch(base + r.path, { method: r.method ?? 'POST', headers, body: r.body });
  // Session ids differ between the two servers only where a hop is answered; screens do not name them.
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

describe('the lean path answers as the express app does', () => {
  let app: TestApp;
  let expressOnly: Server;
  let expressUrl: string;
  beforeAll(async () => {
    app = await startTestApp({ env: { GATEWAY_CALLBACK_KEY: KEY } });
    expressOnly = await new Promise<Server>((resolve) => {
      const s = createApp(app.services).listen(0, '127.0.0.1', () => resolve(s));
    });
    const address = expressOnly.address();
    expressUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => {
      expressOnly.close(() => resolve());
      expressOnly.closeAllConnections();
    });
    await app.close();
  });

  it.each(requests)('$label', async (r) => {
    // The same session id must not be played twice: the lean server gets it, express a renamed copy.
    const lean = await send(app.url, r);
    const viaExpress = await send(expressUrl, { ...r, body: r.body?.replaceAll('lean-', 'expr-') });
    expect(viaExpress).toEqual(lean);
  });

  it("a GET /ussd is express's 404, and a hop without the key a 403 naming the parameter", async () => {
    expect(await send(app.url, { label: '', method: 'GET', path: `/ussd?key=${KEY}` })).toMatchObject({
      status: 404,
      body: 'Not found: GET /ussd\n',
    });
    expect(await send(app.url, { label: '', path: '/ussd', body: hop('lean-y') })).toMatchObject({ status: 403 });
  });
});

describe('what the lean path serves itself', () => {
  it('the five gateway callbacks (POST at their exact paths); everything else reaches express', async () => {
    const app = await startTestApp();
    const express = createApp(app.services);
    const reached: string[] = [];
    const spy = Object.assign((req: Parameters<typeof express>[0], res: Parameters<typeof express>[1]) => {
      reached.push(`${req.method} ${req.url}`);
      return express(req, res);
    }, express);
    const server = createServer(createHttpHandler(app.services, spy));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    try {
      for (const path of ['/ussd', '/ussd/events', '/sms/inbound', '/sms/delivery', '/sms/optout', '/ussd?x=1']) {
        const res = await send(base, { label: '', path, body: 'a=1' });
        expect(res.status, path).toBe(400);
      }
      expect(reached).toEqual([]);
      await send(base, { label: '', method: 'GET', path: '/ussd' });
      await send(base, { label: '', path: '/USSD', body: 'a=1' });
      await send(base, { label: '', method: 'GET', path: '/healthz' });
      expect(reached).toEqual(['GET /ussd', 'POST /USSD', 'GET /healthz']);
    } finally {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await app.close();
    }
  });
});

describe('the key in the query string', () => {
  it('is read as the WHATWG URL parser reads it, whatever the query', () => {
    const chars = fc.constantFrom(...'key=&%+#?/ aZ09._~-"<>\'é%2B%3D%26%6B'.split(''), 'key', '%6Bey', '%E9', '%C3%A9', '%zz');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 24 }), (parts) => {
        const url = `/ussd?${parts.join('')}`;
        expect(givenKeys(url)).toEqual(new URL(url, 'http://callback.invalid').searchParams.getAll('key'));
      }),
      { numRuns: 3000 },
    );
  });
});
