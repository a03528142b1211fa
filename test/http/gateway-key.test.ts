/**
 * Gateway callbacks attacked over real HTTP (issue 14): with GATEWAY_CALLBACK_KEY set, every
 * gateway route refuses a callback without the key in its query string, with a wrong one, or with
 * the key anywhere else (another parameter, the body, twice), with a 403 that changes nothing in
 * the database; with the key it behaves as before. GATEWAY_ALLOWED_IPS refuses other addresses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { sabatili } from '../support/cli.ts';

const KEY = 'k3y-for-the-gateway-callbacks-0123456789';
const MOUSSA = '+22376000001';
const FORM = 'application/x-www-form-urlencoded';

/** Every table a gateway callback may touch, as one comparable string. */
function gatewayTables(app: TestApp): string {
  const db = app.services.db;
  return JSON.stringify(
    [
      'ussd_sessions',
      'ussd_hops',
      'ussd_session_events',
      'sms_outbox',
      'sms_status_history',
      'sms_inbound',
      'sms_optouts',
      'callback_requests',
    ].map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()]),
  );
}

async function post(app: TestApp, pathAndQuery: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(app.url + pathAndQuery, {
    method: 'POST',
    headers: { 'content-type': FORM, ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

describe('gateway callbacks with GATEWAY_CALLBACK_KEY', () => {
  let app: TestApp;
  let providerId: string;
  let outboxId: number;
  beforeAll(async () => {
    // The simulator's own delivery report is held beyond the test: every report the app sees is posted here.
    app = await startTestApp({ env: { GATEWAY_CALLBACK_KEY: KEY, SIMULATOR_DELIVERY_DELAY_MS: '600000' } });
    const r = app.services.outbox.enqueue({ to: MOUSSA, text: 'Kénéya Sabatili: reçu de test.', lang: 'fr', kind: 'transactional' });
    if (r.status !== 'queued') throw new Error(r.status);
    outboxId = r.id;
    await app.services.dispatcher.drain();
    providerId = app.services.outbox.get(outboxId)?.providerMessageId as string;
  });
  afterAll(() => app.close());

  const routes: Array<{ path: string; form: () => Record<string, string>; done: (app: TestApp) => void }> = [
    {
      path: '/ussd',
      form: () => ({ sessionId: 'attack-1', serviceCode: '*384*123#', phoneNumber: MOUSSA, networkCode: '61001', text: '' }),
      done: (a) => expect(a.services.db.prepare("SELECT COUNT(*) FROM ussd_sessions WHERE session_id = 'attack-1'").pluck().get()).toBe(1),
    },
    {
      path: '/ussd/events',
      form: () => ({ sessionId: 'attack-2', phoneNumber: MOUSSA, status: 'Incomplete', serviceCode: '*384*123#' }),
      done: (a) =>
        expect(a.services.db.prepare("SELECT COUNT(*) FROM ussd_session_events WHERE session_id = 'attack-2'").pluck().get()).toBe(1),
    },
    {
      path: '/sms/inbound',
      form: () => ({ id: 'ATXid-attack-3', from: MOUSSA, text: 'APPELEZ', to: '36123', date: '2026-03-10 09:00:00' }),
      done: (a) => {
        expect(a.services.db.prepare("SELECT COUNT(*) FROM sms_inbound WHERE gateway_id = 'ATXid-attack-3'").pluck().get()).toBe(1);
        expect(a.services.db.prepare('SELECT COUNT(*) FROM callback_requests').pluck().get()).toBeGreaterThan(0);
      },
    },
    {
      path: '/sms/delivery',
      form: () => ({
        id: providerId,
        status: 'Failed',
        failureReason: 'UserInBlacklist',
        phoneNumber: MOUSSA,
        networkCode: '61001',
        retryCount: '0',
      }),
      done: (a) => expect(a.services.outbox.get(outboxId)?.status).toBe('failed'),
    },
    {
      path: '/sms/optout',
      form: () => ({ phoneNumber: MOUSSA, senderId: 'UTM' }),
      done: (a) => expect(a.services.db.prepare('SELECT COUNT(*) FROM sms_optouts').pluck().get()).toBe(1),
    },
  ];

  const attacks: Array<{ label: string; query: (path: string) => string; body?: Record<string, string> }> = [
    { label: 'without the key', query: (p) => p },
    { label: 'with a wrong key', query: (p) => `${p}?key=${'x'.repeat(KEY.length)}` },
    { label: 'with a key one character short', query: (p) => `${p}?key=${KEY.slice(0, -1)}` },
    { label: 'with an empty key', query: (p) => `${p}?key=` },
    { label: 'with the key in another parameter', query: (p) => `${p}?apikey=${KEY}` },
    { label: 'with the key as the value of another parameter named like it', query: (p) => `${p}?Key=${KEY}` },
    { label: 'with the key in the body', query: (p) => p, body: { key: KEY } },
    { label: 'with the key twice, once wrong', query: (p) => `${p}?key=${KEY}&key=wrong` },
  ];

  for (const route of routes) {
    describe(`POST ${route.path}`, () => {
      it.each(attacks)('$label → 403, nothing changes', async (attack) => {
        const before = gatewayTables(app);
        const res = await post(app, attack.query(route.path), { ...route.form(), ...attack.body });
        expect(res.status, res.body).toBe(403);
        expect(res.type).toMatch(/^text\/plain/);
        expect(res.body).toContain('?key=');
        expect(gatewayTables(app)).toBe(before);
      });

      it('with the key → the usual answer and effect', async () => {
        const res = await post(app, `${route.path}?key=${encodeURIComponent(KEY)}`, route.form());
        expect(res.status, res.body).toBe(200);
        route.done(app);
      });
    });
  }

  it('refuses before reading the body: an oversized body without the key is still a 403', async () => {
    const res = await post(app, '/ussd', { text: 'x'.repeat(20_000) });
    expect(res.status).toBe(403);
  });

  it('the simulator plays the gateway with the key: browser phone, inbound SMS and its delivery report', async () => {
    const dial = await fetch(`${app.url}/simulator/api/ussd/dial`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone: MOUSSA, code: '*384*123#', url: `${app.url}/ussd`, eventsUrl: `${app.url}/ussd/events` }),
    });
    const hop = (await dial.json()) as { response: string; sessionId: string; request: { url: string } };
    expect(hop.response).toMatch(/^CON /);
    // The request log shows the URL as typed: the key stays on the server.
    expect(hop.request.url).toBe(`${app.url}/ussd`);
    const ended = await fetch(`${app.url}/simulator/api/ussd/hangup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sessionId: hop.sessionId, how: 'user' }),
    });
    expect(((await ended.json()) as { delivery: { httpStatus: number } }).delivery.httpStatus).toBe(200);

    const sms = await fetch(`${app.url}/simulator/api/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+22376000003', text: 'SOLDE' }),
    });
    expect(await sms.json()).toMatchObject({ gatewayStatus: 200 });
  });

  it('sabatili simulate dials this server with the key from its configuration, and is refused without it', async () => {
    // Through the command parser with only this environment (the real binary runs simulate in test/simulator/terminal.test.ts).
    const simulate = async (env: Record<string, string>) => {
      const port = new URL(app.url).port;
      const r = await sabatili(['simulate', '--input', '1', '--sms-wait', '0'], { env: { NODE_ENV: 'development', PORT: port, ...env } });
      return { code: r.code, out: r.stdout + r.stderr };
    };
    const keyed = await simulate({ GATEWAY_CALLBACK_KEY: KEY });
    expect(keyed.code, keyed.out).toBe(0);
    expect(keyed.out).toContain('Moussa');
    const unkeyed = await simulate({});
    expect(unkeyed.code).toBe(1);
    expect(unkeyed.out).toContain('HTTP 403');
  });
});

describe('the simulator posts its delivery reports with the key', () => {
  it('a message sent through the simulator ends delivered', async () => {
    const app = await startTestApp({ env: { GATEWAY_CALLBACK_KEY: KEY, SIMULATOR_DELIVERY_DELAY_MS: '0' } });
    try {
      const r = app.services.outbox.enqueue({ to: MOUSSA, text: 'Kénéya Sabatili: test.', lang: 'fr', kind: 'transactional' });
      if (r.status !== 'queued') throw new Error(r.status);
      await app.services.dispatcher.drain();
      await expect.poll(() => app.services.outbox.get(r.id)?.status, { timeout: 5000 }).toBe('delivered');
    } finally {
      await app.close();
    }
  });
});

describe('gateway callbacks without GATEWAY_CALLBACK_KEY (development)', () => {
  it('are accepted without a key, as before', async () => {
    const app = await startTestApp();
    try {
      const res = await app.hop('dev-1', MOUSSA, '');
      expect(res.status).toBe(200);
      expect(res.body).toMatch(/^CON /);
    } finally {
      await app.close();
    }
  });
});

describe('GATEWAY_ALLOWED_IPS', () => {
  const hop = { sessionId: 'ip-1', serviceCode: '*384*123#', phoneNumber: MOUSSA, networkCode: '61001', text: '' };

  it('refuses 127.0.0.1 when the list excludes it, even with the key, and changes nothing', async () => {
    const app = await startTestApp({ env: { GATEWAY_CALLBACK_KEY: KEY, GATEWAY_ALLOWED_IPS: '10.0.0.0/8, 2001:db8::/32' } });
    try {
      for (const path of ['/ussd', '/ussd/events', '/sms/inbound', '/sms/delivery', '/sms/optout']) {
        const before = gatewayTables(app);
        const res = await post(app, `${path}?key=${KEY}`, hop);
        expect(res.status, path).toBe(403);
        expect(res.body).toContain('address');
        expect(gatewayTables(app)).toBe(before);
      }
      // Without TRUST_PROXY a client cannot name its own address.
      expect((await post(app, `/ussd?key=${KEY}`, hop, { 'x-forwarded-for': '10.1.2.3' })).status).toBe(403);
    } finally {
      await app.close();
    }
  });

  it('accepts an address in the list (IPv4 block or single address)', async () => {
    const app = await startTestApp({ env: { GATEWAY_ALLOWED_IPS: '2001:db8::/32,127.0.0.0/8' } });
    try {
      expect((await post(app, '/ussd', hop)).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('behind a proxy named in TRUST_PROXY, checks the forwarded client address', async () => {
    const app = await startTestApp({ env: { GATEWAY_ALLOWED_IPS: '196.201.214.0/24', TRUST_PROXY: 'loopback' } });
    try {
      expect((await post(app, '/ussd', hop, { 'x-forwarded-for': '196.201.214.7' })).status).toBe(200);
      expect((await post(app, '/ussd', { ...hop, sessionId: 'ip-2' }, { 'x-forwarded-for': '203.0.113.9' })).status).toBe(403);
    } finally {
      await app.close();
    }
  });
});
