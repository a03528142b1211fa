/**
 * The simulated gateway (src/simulator/ussd-gateway.ts) as an application sees it: the exact form of
 * each hop, the CON/END contract, the 10 s answer time, the idle and total limits, and the
 * end-of-session notification, against a recording fake application and against sabatili itself.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createUssdGateway, HANDSET_ERROR, MAX_INPUT_CHARS } from '../../src/simulator/ussd-gateway.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

interface Received {
  path: string;
  contentType: string | undefined;
  form: Record<string, string>;
}

/** An application that records what it receives; `answer` decides each reply by path. */
function fakeApp() {
  const received: Received[] = [];
  let answer: (path: string, form: Record<string, string>) => { status: number; body: string; delayMs?: number } = () => ({
    status: 200,
    body: 'CON Menu\n1 Suite',
  });
  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let b = '';
      req.on('data', (d: Buffer) => (b += d));
      req.on('end', () => resolve(b));
    });
  const server: Server = createServer(async (req, res) => {
    const form = Object.fromEntries(new URLSearchParams(await read(req)));
    received.push({ path: req.url ?? '', contentType: req.headers['content-type'], form });
    const a = answer(req.url ?? '', form);
    setTimeout(() => res.writeHead(a.status, { 'content-type': 'text/plain' }).end(a.body), a.delayMs ?? 0);
  });
  return {
    received,
    server,
    set answer(f: typeof answer) {
      answer = f;
    },
    url: '',
  };
}

describe('the simulated USSD gateway', () => {
  const app = fakeApp();
  let base = '';
  let clock = 1_000_000;
  const gateway = () => createUssdGateway({ limits: { timeoutMs: 300, idleMs: 60_000, maxMs: 180_000 }, now: () => clock });
  const dial = (g: ReturnType<typeof gateway>, path = '/ussd') =>
    g.dial({ url: `${base}${path}`, phone: '+22376000001', code: '*384*123#', eventsUrl: `${base}/events` });

  beforeAll(async () => {
    await new Promise<void>((r) => app.server.listen(0, '127.0.0.1', () => r()));
    const a = app.server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => app.server.close(() => r())));
  beforeEach(() => {
    app.received.length = 0;
    clock = 1_000_000;
    app.answer = (path) => (path === '/events' ? { status: 200, body: '' } : { status: 200, body: 'CON Menu\n1 Suite' });
  });

  it('posts each hop as the gateway form with the cumulative text, then notifies Success when the application ends', async () => {
    let hop = 0;
    app.answer = (path) =>
      path === '/events' ? { status: 200, body: '' } : { status: 200, body: ++hop < 3 ? 'CON Menu\n1 Suite' : 'END Merci' };
    const g = gateway();
    const first = await dial(g);
    clock += 1500;
    const second = await g.answer(first.sessionId, '1');
    clock += 2500;
    const last = await g.answer(first.sessionId, '1*2');

    expect(app.received.map((r) => r.form.text)).toEqual(['', '1', '1*1*2', undefined]);
    const firstForm = app.received[0] as Received;
    expect(firstForm.contentType).toBe('application/x-www-form-urlencoded');
    expect(firstForm.form).toEqual({
      sessionId: first.sessionId,
      serviceCode: '*384*123#',
      phoneNumber: '+22376000001',
      networkCode: '61001',
      text: '',
    });
    expect(second).toMatchObject({ end: false, screen: 'Menu\n1 Suite', httpStatus: 200, response: 'CON Menu\n1 Suite' });
    expect(last).toMatchObject({ end: true, screen: 'Merci' });

    const event = app.received[3] as Received;
    expect(event.path).toBe('/events');
    expect(event.form).toMatchObject({
      sessionId: first.sessionId,
      serviceCode: '*384*123#',
      networkCode: '61001',
      phoneNumber: '+22376000001',
      status: 'Success',
      durationInMillis: '4000',
      hopsCount: '3',
      input: '1*1*2',
      lastAppResponse: 'Merci',
      errorMessage: '',
    });
    expect(event.form.date).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(Object.keys(event.form).sort()).toEqual(
      [
        'cost',
        'date',
        'durationInMillis',
        'errorMessage',
        'hopsCount',
        'hopsMetadata',
        'input',
        'lastAppResponse',
        'networkCode',
        'phoneNumber',
        'serviceCode',
        'sessionId',
        'status',
      ].sort(),
    );
    expect(last.closed?.delivery).toEqual({ url: `${base}/events`, httpStatus: 200 });
  });

  it.each([
    ['an HTTP 500', () => ({ status: 500, body: 'boom' }), 'the application answered HTTP 500: boom'],
    ['a body without CON or END', () => ({ status: 200, body: 'Bonjour' }), 'does not start with "CON " or "END "'],
    ['CON without its space', () => ({ status: 200, body: 'CONMenu' }), 'does not start with "CON " or "END "'],
    ['no answer within the time', () => ({ status: 200, body: 'CON tard', delayMs: 600 }), 'no answer within 0.3 s'],
  ])('shows the handset error and notifies Failed on %s', async (_label, reply, message) => {
    app.answer = (path) => (path === '/events' ? { status: 200, body: '' } : reply());
    const hop = await dial(gateway());
    expect(hop).toMatchObject({ end: true, screen: HANDSET_ERROR });
    expect(hop.error).toContain(message);
    expect(hop.closed?.status).toBe('Failed');
    expect(hop.closed?.notification.errorMessage).toContain(message);
  });

  it('reports an application that does not answer at all, and a late answer to the closed session says why', async () => {
    const g = gateway();
    const hop = await g.dial({ url: 'http://127.0.0.1:9/ussd', phone: '+22376000001', code: '*384*123#' });
    expect(hop).toMatchObject({ end: true, screen: HANDSET_ERROR, httpStatus: null });
    expect(hop.error).toMatch(/^network error: /);
    expect(hop.closed?.delivery).toBeNull();
    const late = await g.answer(hop.sessionId, '1');
    expect(late).toMatchObject({ end: true, request: null });
    expect(late.error).toContain('this session is over (network error');
  });

  it('closes a session idle too long (Incomplete) without forwarding the late answer', async () => {
    const g = gateway();
    const hop = await dial(g);
    clock += 60_001;
    const late = await g.answer(hop.sessionId, '1');
    expect(late).toMatchObject({ end: true, request: null, screen: HANDSET_ERROR });
    expect(late.error).toBe('the gateway closed the session: no answer for 60 s');
    expect(app.received.map((r) => r.path)).toEqual(['/ussd', '/events']);
    expect(late.closed?.notification).toMatchObject({ status: 'Incomplete', errorMessage: 'no answer for 60 s', hopsCount: '1' });
  });

  it('never lets a session outlive its total limit, however quick the answers', async () => {
    const g = gateway();
    const hop = await dial(g);
    for (let i = 0; i < 4; i++) {
      clock += 45_000;
      expect((await g.answer(hop.sessionId, '1')).end).toBe(false);
    }
    clock += 1;
    const over = await g.answer(hop.sessionId, '1');
    expect(over.error).toBe('the gateway closed the session: session longer than 180 s');
    expect(over.closed?.status).toBe('Incomplete');
  });

  it('sweeps abandoned sessions and notifies them', async () => {
    const g = gateway();
    const open = await dial(g);
    clock += 30_000;
    const fresh = await dial(g);
    clock += 30_001;
    const ended = await g.sweep();
    expect(ended.map((e) => e.notification.sessionId)).toEqual([open.sessionId]);
    expect(g.session(open.sessionId)).toBeUndefined();
    expect(g.session(fresh.sessionId)?.open).toBe(true);
  });

  it(`does not forward an answer longer than ${MAX_INPUT_CHARS} characters and keeps the session`, async () => {
    const g = gateway();
    const hop = await dial(g);
    const long = await g.answer(hop.sessionId, '1'.repeat(500));
    expect(long).toMatchObject({ end: false, request: null });
    expect(long.error).toBe(`answer too long: 500 characters, a handset sends at most ${MAX_INPUT_CHARS}`);
    const next = await g.answer(hop.sessionId, '1');
    expect(next.end).toBe(false);
    expect(app.received.filter((r) => r.path === '/ussd').map((r) => r.form.text)).toEqual(['', '1']);
  });

  it('tells a hang-up (Incomplete) from a dropped network (Failed)', async () => {
    const g = gateway();
    const a = await dial(g);
    const b = await dial(g);
    expect((await g.hangUp(a.sessionId, 'user'))?.notification).toMatchObject({ status: 'Incomplete', errorMessage: 'the member hung up' });
    expect((await g.hangUp(b.sessionId, 'dropped'))?.notification).toMatchObject({
      status: 'Failed',
      errorMessage: 'the network dropped the session',
    });
    expect(await g.hangUp(a.sessionId, 'user')).toBeNull();
  });
});

describe('the simulated gateway against sabatili', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('retries a hop with the same text and gets the same screen; the notification is recorded by /ussd/events', async () => {
    const g = createUssdGateway();
    const dialOpts = { url: `${app.url}/ussd`, phone: '+22376000001', code: '*384*123#', eventsUrl: `${app.url}/ussd/events` };
    const first = await g.dial(dialOpts);
    const answer = await g.answer(first.sessionId, '1');
    const retried = await g.retry(first.sessionId);
    expect(retried.request?.body).toBe(answer.request?.body);
    expect(retried.response).toBe(answer.response);
    expect(answer.response).toContain('Moussa Traoré, 5 pers.');
    const ended = await g.hangUp(first.sessionId, 'user');
    expect(ended?.delivery?.httpStatus).toBe(200);
    const row = app.services.db
      .prepare('SELECT status, hops_count, input, error_message FROM ussd_session_events WHERE session_id = ?')
      .get(first.sessionId);
    expect(row).toEqual({ status: 'Incomplete', hops_count: 3, input: '1', error_message: 'the member hung up' });
  });
});
