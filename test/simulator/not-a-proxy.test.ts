/**
 * The simulator cannot be turned against its host (issue 14): its gateway never follows a
 * redirect, reads a bounded part of any answer, and, on a server not bound to loopback, dials
 * only the server's own routes and SIMULATOR_ALLOWED_URLS.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUssdGateway, MAX_RELAYED_CHARS } from '../../src/simulator/ussd-gateway.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const DIAL = { phone: '+22376000001', code: '*384*123#' };

/** An application that redirects /redirect to `target`, and answers /huge with an endless body. */
function hostileApp(target: () => string) {
  let hugeBytesSent = 0;
  let hugeClosed = false;
  let redirectFollowed = false;
  const server: Server = createServer((req, res) => {
    req.resume();
    if (req.url === '/redirect') return void res.writeHead(302, { location: target() }).end('moved');
    if (req.url === '/followed') {
      redirectFollowed = true;
      return void res.writeHead(200, { 'content-type': 'text/plain' }).end('CON followed');
    }
    if (req.url === '/huge') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = 'A'.repeat(64 * 1024);
      // Writes until the gateway hangs up; a gateway buffering the whole body would never answer.
      const pump = () => {
        while (!hugeClosed && hugeBytesSent < 200 * 1024 * 1024) {
          hugeBytesSent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => (hugeClosed = true));
      return pump();
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('CON ok');
  });
  return {
    server,
    get hugeBytesSent() {
      return hugeBytesSent;
    },
    get redirectFollowed() {
      return redirectFollowed;
    },
  };
}

describe('the simulated gateway', () => {
  let base = '';
  const hostile = hostileApp(() => `${base}/followed`);
  beforeAll(async () => {
    await new Promise<void>((r) => hostile.server.listen(0, '127.0.0.1', () => r()));
    const a = hostile.server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => hostile.server.close(() => r())));

  it('does not follow a redirect: the handset shows an error naming it', async () => {
    const hop = await createUssdGateway().dial({ ...DIAL, url: `${base}/redirect` });
    expect(hop.httpStatus).toBe(302);
    expect(hop.end).toBe(true);
    expect(hop.error).toContain('redirect (HTTP 302), which the gateway does not follow');
    expect(hostile.redirectFollowed).toBe(false);
  });

  it('stops reading a huge answer and relays at most 300 characters of it', async () => {
    const started = Date.now();
    const hop = await createUssdGateway().dial({ ...DIAL, url: `${base}/huge` });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(hop.error).toContain('longer than 4096 bytes');
    expect((hop.response ?? '').length).toBeLessThanOrEqual(MAX_RELAYED_CHARS + 1);
    // Far less than the 200 MB the application would have sent (socket buffers hold a few MB at most).
    await expect.poll(() => hostile.hugeBytesSent < 32 * 1024 * 1024).toBe(true);
  });
});

describe('the simulator on a server not bound to loopback', () => {
  let app: TestApp;
  let other: TestApp;
  beforeAll(async () => {
    other = await startTestApp();
    // Listens on 127.0.0.1 like every test app; HOST is what tells the simulator it is reachable from the network.
    app = await startTestApp({ env: { HOST: '0.0.0.0', SIMULATOR_ALLOWED_URLS: `${other.url}/ussd` } });
  });
  afterAll(async () => {
    await app.close();
    await other.close();
  });

  const dial = (body: object) =>
    fetch(`${app.url}/simulator/api/ussd/dial`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...DIAL, ...body }),
    });

  it.each([
    ['a cloud metadata address', { url: 'http://169.254.169.254/latest/meta-data/' }, 'url:'],
    ['another port of this machine', { url: 'http://127.0.0.1:22/' }, 'url:'],
    ['the origin of an allowed prefix outside its path', { url: 'OTHER/admin/api/kpi' }, 'url:'],
    ['its own USSD route with a notification URL elsewhere', { url: 'OWN/ussd', eventsUrl: 'http://10.0.0.1/collect' }, 'eventsUrl:'],
  ])('refuses to dial %s (403, a clear message)', async (_label, body, field) => {
    const b = { ...body, url: body.url.replace(/^OWN/, app.url).replace(/^OTHER/, other.url) };
    const res = await dial(b);
    expect(res.status).toBe(403);
    const text = await res.text();
    expect(text).toContain(field);
    expect(text).toContain('SIMULATOR_ALLOWED_URLS');
  });

  it("dials the server's own routes, and offers them as the page's default", async () => {
    const config = (await (await fetch(`${app.url}/simulator/api/ussd/config`)).json()) as { appUrl: string; eventsUrl: string };
    expect(config).toMatchObject({ appUrl: `${app.url}/ussd`, eventsUrl: `${app.url}/ussd/events` });
    const res = await dial({ url: config.appUrl, eventsUrl: config.eventsUrl });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { response: string }).response).toMatch(/^CON /);
  });

  it('dials a URL under SIMULATOR_ALLOWED_URLS', async () => {
    const res = await dial({ url: `${other.url}/ussd` });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { response: string }).response).toMatch(/^CON /);
  });
});

describe('the simulator on loopback', () => {
  it('dials any application, as testers point it at their own', async () => {
    const app = await startTestApp();
    const other = await startTestApp();
    try {
      const res = await fetch(`${app.url}/simulator/api/ussd/dial`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...DIAL, url: `${other.url}/ussd` }),
      });
      expect(((await res.json()) as { response: string }).response).toMatch(/^CON /);
    } finally {
      await app.close();
      await other.close();
    }
  });
});
