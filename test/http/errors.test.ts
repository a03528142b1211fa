/**
 * The HTTP edge's one error vocabulary (src/http/errors.ts), over real HTTP: a Refusal is answered
 * with its status and message (text/plain for the gateway and the rest, JSON in an API router);
 * anything else is a bug: a 500 that gives a reference and nothing of the error, and one log line
 * with that reference, the method and the path.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Refusal } from '../../src/domain/refusal.ts';
import { errorHandler, jsonRefusals, parse } from '../../src/http/errors.ts';
import { sequentialIds } from '../../src/ids.ts';
import { createLogger } from '../../src/log.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const SECRET = 'the database said something private';

/** An app whose routes throw, with the errors middleware as createApp installs it, logging into `lines`. */
function throwingApp(lines: string[]): express.Express {
  const app = express();
  app.get('/refused', () => {
    throw new Refusal('name: is required', 'name', 409);
  });
  app.get('/bug', async () => {
    await Promise.resolve();
    throw new Error(SECRET);
  });
  app.get('/parsed', (req, res) => {
    const q = parse(z.object({ n: z.string().regex(/^\d+$/, { error: 'must be a whole number' }) }), req.query);
    res.send(q.n);
  });
  const api = express.Router();
  api.get('/refused', () => {
    throw new Refusal('phonesCsv: 2 bad lines', 'phonesCsv', 400, { errors: [{ line: 3, message: 'not a phone' }] });
  });
  api.get('/bug', () => {
    throw new TypeError(SECRET);
  });
  api.use(jsonRefusals);
  app.use('/api', api);
  app.use(errorHandler({ logger: createLogger('info', { write: (line: string) => void lines.push(line) }), ids: sequentialIds() }));
  return app;
}

describe('the express edge', () => {
  const lines: string[] = [];
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = await new Promise((resolve) => {
      const s = throwingApp(lines).listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const get = async (path: string) => {
    const res = await fetch(url + path);
    return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
  };

  it('answers a Refusal with its status and message, text/plain', async () => {
    expect(await get('/refused')).toEqual({ status: 409, type: 'text/plain; charset=utf-8', body: 'Bad request: name: is required\n' });
    expect(lines).toEqual([]);
  });

  it('answers a value the schema refuses with a 400 naming the field', async () => {
    expect(await get('/parsed?n=12')).toMatchObject({ status: 200, body: '12' });
    expect(await get('/parsed?n=x')).toMatchObject({ status: 400, body: 'Bad request: n: must be a whole number\n' });
  });

  it('answers a Refusal in a JSON router as { error, field, ...details }', async () => {
    const res = await fetch(`${url}/api/refused`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'phonesCsv: 2 bad lines',
      field: 'phonesCsv',
      errors: [{ line: 3, message: 'not a phone' }],
    });
  });

  it('answers a bug (thrown or rejected, in a router or not) 500 with a reference, and logs it once with the path, never the query', async () => {
    lines.length = 0;
    const bug = await get('/bug?key=gateway-secret');
    const inRouter = await get('/api/bug');
    for (const [r, ref] of [
      [bug, '000000000001'],
      [inRouter, '000000000002'],
    ] as const) {
      expect(r).toEqual({ status: 500, type: 'text/plain; charset=utf-8', body: `Internal error (ref ${ref})\n` });
    }
    expect(lines).toHaveLength(2);
    const [first, second] = lines.map(
      (l) =>
        JSON.parse(l) as { level: number; msg: string; ref: string; method: string; path: string; err: { message: string; stack: string } },
    );
    expect(first).toMatchObject({
      level: 50,
      msg: 'http: unhandled error',
      ref: '000000000001',
      method: 'GET',
      path: '/bug',
      err: { message: SECRET },
    });
    expect(first?.err.stack).toContain('errors.test.ts');
    expect(second).toMatchObject({ ref: '000000000002', path: '/api/bug', err: { message: SECRET } });
    expect(lines.join('')).not.toContain('gateway-secret');
  });
});

describe('the lean path (gateway callbacks without express)', () => {
  const lines: string[] = [];
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { LOG_LEVEL: 'error' }, logDestination: { write: (line) => void lines.push(line) } });
  });
  afterAll(() => app.close());

  it('answers a bug in a handler 500 with a reference, and logs it with the path', async () => {
    const inbound = app.services.inbound;
    const handle = inbound.handle;
    inbound.handle = () => {
      throw new Error(SECRET);
    };
    try {
      const r = await app.post('/sms/inbound', { id: 'ATXid-bug', from: '+22376000001', text: 'SOLDE' });
      expect(r.status).toBe(500);
      const ref = /^Internal error \(ref ([0-9a-f]{12})\)\n$/.exec(r.body)?.[1];
      expect(ref, r.body).toBeDefined();
      const logged = lines.map((l) => JSON.parse(l) as { msg: string; ref: string; path: string; err: { message: string } });
      expect(logged).toEqual([
        expect.objectContaining({
          msg: 'http: unhandled error',
          ref,
          method: 'POST',
          path: '/sms/inbound',
          err: expect.objectContaining({ message: SECRET }),
        }),
      ]);
    } finally {
      inbound.handle = handle;
    }
  });

  it('answers a refused form with its 4xx, as express does, and logs nothing', async () => {
    lines.length = 0;
    expect(await app.post('/sms/inbound', { id: 'ATXid-x', text: 'hi' })).toEqual({
      status: 400,
      body: 'Bad request: from: Invalid input: expected string, received undefined\n',
    });
    expect(lines).toEqual([]);
  });
});
