import http from 'node:http';
import https from 'node:https';
import atCommon from 'africastalking/lib/common.js';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { type AtStatusCode, type RunningFakeAtGateway, startFakeAtGateway } from '../../src/simulator/fake-at-gateway.ts';
import type { RecipientOutcome, SmsBatch } from '../../src/sms/transport.ts';
import {
  type AfricasTalkingTransportOptions,
  AT_LIVE_SMS_URL,
  createAfricasTalkingTransport,
} from '../../src/sms/transports/africastalking.ts';

const API_KEY = 'atsk_test_0123456789abcdef';
const USERNAME = 'utm-mutuelles';
const TIMEOUT_MS = 400;

/** Valid Malian mobile numbers (the SDK checks them with libphonenumber). */
const num = (i: number) => `+2237600${String(i).padStart(4, '0')}`;

function batch(n: number, text = 'Votre cotisation de 1500 FCFA est reçue. Merci.', from?: string): SmsBatch {
  return { text, recipients: Array.from({ length: n }, (_, i) => ({ messageId: 1000 + i, to: num(i + 1) })), from };
}

// Every outgoing HTTP(S) request made by the SDK (axios via follow-redirects) goes through these.
const outgoing: string[] = [];
const httpRequest = vi.spyOn(http, 'request');
const httpsRequest = vi.spyOn(https, 'request');
function hostOf(args: unknown[]): string {
  const a = args[0];
  if (typeof a === 'string') return new URL(a).host;
  if (a instanceof URL) return a.host;
  const o = (a ?? {}) as { hostname?: string; host?: string; port?: number | string };
  return `${o.hostname ?? o.host}:${o.port ?? ''}`;
}

let gw: RunningFakeAtGateway;
const logLines: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
const logger = createLogger('debug', { write: (s: string) => void logLines.push(JSON.parse(s)) });

function transport(over: Partial<AfricasTalkingTransportOptions> = {}) {
  return createAfricasTalkingTransport({ username: USERNAME, apiKey: API_KEY, smsUrl: gw.smsUrl, timeoutMs: TIMEOUT_MS, logger, ...over });
}

beforeAll(async () => {
  httpRequest.mockClear();
  httpsRequest.mockClear();
  gw = await startFakeAtGateway({ apiKey: API_KEY, username: USERNAME });
});
afterEach(() => {
  gw.reset();
  logLines.length = 0;
  outgoing.push(...httpRequest.mock.calls.map(hostOf), ...httpsRequest.mock.calls.map((c) => `https:${hostOf(c)}`));
  httpRequest.mockClear();
  httpsRequest.mockClear();
});
afterAll(async () => {
  await gw.close();
  httpRequest.mockRestore();
  httpsRequest.mockRestore();
});

describe('africastalking transport: what goes on the wire', () => {
  it('sends one recipient: username, to, message, from, apiKey header, JSON accepted, no enqueue', async () => {
    const t = transport({ from: 'UTM-SANTE' });
    expect(t.name).toBe('africastalking');
    const [o] = await t.send(batch(1));
    expect(o).toMatchObject({ outcome: 'accepted', messageId: 1000, to: num(1) });

    expect(gw.requests).toHaveLength(1);
    const r = gw.requests[0]!;
    expect(r.apiKey).toBe(API_KEY);
    expect(r.accept).toBe('application/json');
    expect(r.username).toBe(USERNAME);
    expect(r.to).toEqual([num(1)]);
    expect(r.message).toBe('Votre cotisation de 1500 FCFA est reçue. Merci.');
    expect(r.from).toBe('UTM-SANTE');
    expect(r.enqueue).toBeUndefined();
    expect(r.form.bulkSMSMode).toBe('1');
    expect(Object.keys(r.form).sort()).toEqual(['bulkSMSMode', 'from', 'message', 'to', 'username']);
  });

  it('sends several recipients as one comma-separated `to`, with enqueue=1; a batch `from` wins over the configured one', async () => {
    const t = transport({ from: 'UTM-SANTE' });
    const out = await t.send(batch(3, 'Rappel: visite demain.', '36123'));
    expect(out.map((o) => o.outcome)).toEqual(['accepted', 'accepted', 'accepted']);
    const r = gw.requests[0]!;
    expect(r.form.to).toBe(`${num(1)},${num(2)},${num(3)}`);
    expect(r.to).toEqual([num(1), num(2), num(3)]);
    expect(r.form.enqueue).toBe('1');
    expect(r.enqueue).toBe(true);
    expect(r.from).toBe('36123');
    expect(r.message).toBe('Rappel: visite demain.');
  });

  it('omits `from` when none is configured', async () => {
    await transport().send(batch(1));
    expect(gw.requests[0]!.form).not.toHaveProperty('from');
  });

  it('splits a batch larger than maxBatch into several calls, answers in order', async () => {
    const t = transport({ maxBatch: 2 });
    expect(t.maxBatch).toBe(2);
    const out = await t.send(batch(5));
    expect(gw.requests.map((r) => r.to.length)).toEqual([2, 2, 1]);
    expect(gw.requests.map((r) => r.enqueue)).toEqual([true, true, undefined]);
    expect(out.map((o) => o.messageId)).toEqual([1000, 1001, 1002, 1003, 1004]);
    expect(out.every((o) => o.outcome === 'accepted')).toBe(true);
  });

  it('sends nothing for an empty batch', async () => {
    expect(await transport().send({ text: 'x', recipients: [] })).toEqual([]);
    expect(gw.requests).toHaveLength(0);
  });
});

describe('africastalking transport: per-recipient outcomes from the 201', () => {
  const codes: AtStatusCode[] = [101, 100, 102, 403, 404, 406, 409, 405, 500, 501, 502];

  it('maps each status code, by number and in order', async () => {
    gw.behave({ recipients: Object.fromEntries(codes.map((c, i) => [num(i + 1), c])) });
    const out = await transport().send(batch(codes.length));
    expect(out).toHaveLength(codes.length);
    expect(out.map((o) => [o.messageId, o.to, o.code])).toEqual(codes.map((c, i) => [1000 + i, num(i + 1), c]));
    expect(out.map((o) => o.outcome)).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'failed',
      'failed',
      'failed',
      'failed',
      'retry',
      'retry',
      'retry',
      'retry',
    ]);

    // Accepted: the gateway's messageId and cost string.
    expect(gw.accepted).toHaveLength(3);
    for (let i = 0; i < 3; i++) {
      const o = out[i] as Extract<RecipientOutcome, { outcome: 'accepted' }>;
      expect(o.providerId).toBe(gw.accepted[i]!.messageId);
      expect(o.providerId).toMatch(/^ATXid_[0-9a-f]{32}$/);
      expect(o.cost).toBe('XOF 25');
    }
    // Failed and retry carry the gateway's status name.
    expect(out[3]).toMatchObject({ outcome: 'failed', code: 403, reason: 'InvalidPhoneNumber (403)' });
    expect(out[5]).toMatchObject({ outcome: 'failed', code: 406, reason: 'UserInBlacklist (406)' });
    expect(out[7]).toMatchObject({ outcome: 'retry', code: 405, reason: 'InsufficientBalance (405)' });
    expect(out[8]).toMatchObject({ outcome: 'retry', code: 500, reason: 'InternalServerError (500)' });
  });

  it('matches recipients by number, not by position, and retries one the answer leaves out', async () => {
    const body = JSON.stringify({
      SMSMessageData: {
        Message: 'Sent to 2/3 Total Cost: XOF 50',
        Recipients: [
          { statusCode: 406, number: num(3), status: 'UserInBlacklist', cost: '0', messageId: 'None' },
          { statusCode: 101, number: num(1), status: 'Success', cost: 'XOF 25', messageId: 'ATXid_one' },
        ],
      },
    });
    gw.behave({ request: { kind: 'garbage', body } });
    const out = await transport().send(batch(3));
    expect(out[0]).toEqual({ messageId: 1000, to: num(1), outcome: 'accepted', providerId: 'ATXid_one', cost: 'XOF 25', code: 101 });
    expect(out[1]).toMatchObject({ messageId: 1001, to: num(2), outcome: 'retry', code: null });
    expect((out[1] as { reason: string }).reason).toMatch(/did not mention/);
    expect(out[2]).toMatchObject({ messageId: 1002, to: num(3), outcome: 'failed', code: 406 });
  });

  it('keeps a number the SDK would reject out of the call (failed), and sends the others', async () => {
    const out = await transport().send({
      text: 'Bonjour',
      recipients: [
        { messageId: 1, to: num(1) },
        { messageId: 2, to: '+22312' },
        { messageId: 3, to: '76000002' },
        { messageId: 4, to: num(2) },
      ],
    });
    expect(out.map((o) => [o.messageId, o.outcome])).toEqual([
      [1, 'accepted'],
      [2, 'failed'],
      [3, 'failed'],
      [4, 'accepted'],
    ]);
    expect(gw.requests[0]!.to).toEqual([num(1), num(2)]);
  });

  it('prices by segment', async () => {
    const [o] = await transport().send(batch(1, 'x'.repeat(200)));
    expect(o).toMatchObject({ outcome: 'accepted', cost: 'XOF 50' });
  });
});

describe('africastalking transport: whole-call failures (every recipient retry, never a throw)', () => {
  it('a whole-request 500', async () => {
    gw.behave({ request: { kind: 'error', status: 500, body: 'Internal Server Error' } });
    const out = await transport().send(batch(3));
    expect(out.map((o) => [o.messageId, o.outcome, o.code])).toEqual([
      [1000, 'retry', 500],
      [1001, 'retry', 500],
      [1002, 'retry', 500],
    ]);
    expect((out[0] as { reason: string }).reason).toMatch(/HTTP 500/);
  });

  it('a 401 (bad key): retry with code 401, logged at error level', async () => {
    const out = await transport({ apiKey: 'wrong' }).send(batch(2));
    expect(gw.requests[0]!.apiKey).toBe('wrong');
    expect(gw.requests[0]!.answered).toBe(401);
    expect(out.map((o) => [o.outcome, o.code])).toEqual([
      ['retry', 401],
      ['retry', 401],
    ]);
    expect((out[0] as { reason: string }).reason).toMatch(/credentials.*401.*The supplied authentication is invalid/);
    const errors = logLines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toMatch(/credentials/);
  });

  it('a 401 for a wrong username too', async () => {
    const out = await transport({ username: 'someone-else' }).send(batch(1));
    expect(out[0]).toMatchObject({ outcome: 'retry', code: 401 });
  });

  it('a 201 whose body is not JSON', async () => {
    gw.behave({ request: { kind: 'garbage' } });
    const out = await transport().send(batch(2));
    expect(out.map((o) => [o.outcome, o.code])).toEqual([
      ['retry', 201],
      ['retry', 201],
    ]);
    expect((out[0] as { reason: string }).reason).toMatch(/not JSON/);
  });

  it('a 201 that is JSON but not the SMSMessageData shape', async () => {
    gw.behave({ request: { kind: 'garbage', body: '{"ok":true}' } });
    const out = await transport().send(batch(1));
    expect(out[0]).toMatchObject({ outcome: 'retry', code: 201 });
    expect((out[0] as { reason: string }).reason).toMatch(/SMSMessageData/);
  });

  it('a 2xx other than 201 (the SDK rejects with the bare body)', async () => {
    gw.behave({ request: { kind: 'error', status: 200, body: 'OK' } });
    const out = await transport().send(batch(1));
    expect(out[0]).toMatchObject({ outcome: 'retry', code: null });
    expect((out[0] as { reason: string }).reason).toMatch(/not 201/);
  });

  it('a hang: retry with reason timeout, within about timeoutMs', async () => {
    gw.behave({ request: { kind: 'hang' } });
    const started = performance.now();
    const out = await transport().send(batch(3));
    const elapsed = performance.now() - started;
    expect(out.map((o) => [o.messageId, o.outcome, o.code, (o as { reason: string }).reason])).toEqual([
      [1000, 'retry', null, 'timeout'],
      [1001, 'retry', null, 'timeout'],
      [1002, 'retry', null, 'timeout'],
    ]);
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 1000);
    expect(gw.hanging).toBe(1);
  });

  it('a connection refused', async () => {
    const other = await startFakeAtGateway({ apiKey: API_KEY });
    const deadUrl = other.smsUrl;
    await other.close();
    const out = await transport({ smsUrl: deadUrl }).send(batch(2));
    expect(out.map((o) => [o.outcome, o.code])).toEqual([
      ['retry', null],
      ['retry', null],
    ]);
    expect((out[0] as { reason: string }).reason).toMatch(/network error: ECONNREFUSED/);
  });
});

describe('africastalking transport: only the configured URL is contacted', () => {
  it("a 'sandbox' username (the SDK switches the whole process to its sandbox URLs) still goes to smsUrl", async () => {
    const sandboxGw = await startFakeAtGateway({ apiKey: API_KEY, username: 'sandbox' });
    try {
      const t = createAfricasTalkingTransport({ username: 'sandbox', apiKey: API_KEY, smsUrl: sandboxGw.smsUrl, timeoutMs: TIMEOUT_MS });
      const out = await t.send(batch(1));
      expect(out[0]).toMatchObject({ outcome: 'accepted' });
      expect(sandboxGw.requests).toHaveLength(1);
      expect(gw.requests).toHaveLength(0);
    } finally {
      await sandboxGw.close();
    }
  });

  it('two transports with different URLs, sending at the same time, each reach their own gateway', async () => {
    const second = await startFakeAtGateway({ apiKey: API_KEY, username: USERNAME });
    try {
      const a = transport();
      const b = transport({ smsUrl: second.smsUrl });
      const results = await Promise.all([a.send(batch(1)), b.send(batch(2)), a.send(batch(3))]);
      expect(results.flat().every((o) => o.outcome === 'accepted')).toBe(true);
      expect(gw.requests.map((r) => r.to.length).sort()).toEqual([1, 3]);
      expect(second.requests.map((r) => r.to.length)).toEqual([2]);
    } finally {
      await second.close();
    }
  });

  it("leaves the SDK's global SMS_URL as it found it", async () => {
    const before = atCommon.SMS_URL;
    await transport().send(batch(1));
    expect(atCommon.SMS_URL).toBe(before);
    expect([AT_LIVE_SMS_URL, 'https://api.sandbox.africastalking.com/version1/messaging']).toContain(before);
  });

  it('no request in this file went anywhere but 127.0.0.1 (no HTTPS, no africastalking.com)', () => {
    // Checked last (after every other test's afterEach has collected its requests).
    expect(outgoing.length).toBeGreaterThan(20);
    expect(outgoing.filter((h) => !h.startsWith('127.0.0.1:'))).toEqual([]);
  });
});
