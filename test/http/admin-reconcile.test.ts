import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connection.ts';
import { adminRoutes } from '../../src/http/admin.ts';
import { exportLedger, type ReconcileReport } from '../../src/payments/reconcile.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const TOKEN = 'admin-token-for-the-tests-0123';
const SAMPLE = readFileSync(fileURLToPath(new URL('../../fixtures/statements/orange-money-sample.csv', import.meta.url)), 'utf8');
const HEADER = 'date,transaction_id,reference,msisdn,amount,fee,status';

/** adminRoutes on a fresh express app over the test app's database (the demo seeded on 2026-03-10). */
async function serveAdmin(db: Db, token: string | undefined): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  adminRoutes(app, { db, token });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let t: TestApp;
let admin: { url: string; close(): Promise<void> };
let unset: { url: string; close(): Promise<void> };

beforeAll(async () => {
  t = await startTestApp({ clock: '2026-03-10T09:00:00Z', env: { ADMIN_TOKEN: TOKEN } });
  admin = await serveAdmin(t.services.db, t.services.config.ADMIN_TOKEN);
  unset = await serveAdmin(t.services.db, undefined);
});
afterAll(async () => {
  await admin.close();
  await unset.close();
  await t.close();
});

const auth = { authorization: `Bearer ${TOKEN}` };
const postStatement = (body: string, headers: Record<string, string> = {}, query = '') =>
  fetch(`${admin.url}/admin/api/reconcile${query}`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv', ...auth, ...headers },
    body,
  });

describe('admin API: the bearer token', () => {
  it.each([
    ['no Authorization header', {}, /missing bearer token: send the header Authorization: Bearer <ADMIN_TOKEN>/],
    ['a wrong token', { authorization: 'Bearer not-the-admin-token-at-all' }, /the bearer token is not ADMIN_TOKEN/],
    ['the token as Basic credentials', { authorization: `Basic ${TOKEN}` }, /missing bearer token/],
    ['a token that is a prefix of the right one', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }, /not ADMIN_TOKEN/],
  ])('refuses %s with 401 and says what to send', async (_label, headers, message) => {
    for (const req of [
      fetch(`${admin.url}/admin/api/reconcile`, { method: 'POST', headers: { 'content-type': 'text/csv', ...headers }, body: SAMPLE }),
      fetch(`${admin.url}/admin/api/ledger.csv`, { headers }),
    ]) {
      const res = await req;
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="sabatili admin"');
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    }
  });

  it('answers 503 on every route while ADMIN_TOKEN is not configured, whatever is sent', async () => {
    for (const req of [
      fetch(`${unset.url}/admin/api/reconcile`, { method: 'POST', headers: { 'content-type': 'text/csv', ...auth }, body: SAMPLE }),
      fetch(`${unset.url}/admin/api/ledger.csv`, { headers: auth }),
      fetch(`${unset.url}/admin/api/ledger.csv`),
    ]) {
      const res = await req;
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: string }).error).toMatch(/^ADMIN_TOKEN is not configured/);
    }
  });
});

describe('POST /admin/api/reconcile', () => {
  it('reconciles the sample statement with the demo ledger: the JSON report', async () => {
    const res = await postStatement(SAMPLE);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const report = (await res.json()) as ReconcileReport;
    expect(report.period).toEqual({ from: '2025-05-02', to: '2026-03-01' });
    expect(report.balanced).toBe(false);
    expect(report.matched).toHaveLength(6);
    expect(report.amountMismatch.map((i) => [i.transactionId, i.statement?.line, i.statement?.amount, i.ledger?.amount])).toEqual([
      ['DEMO-SIK-KLE-0001-5', 10, 3000, 3500],
    ]);
    expect(report.feeMismatch.map((i) => [i.transactionId, i.statement?.fee, i.ledger?.fee])).toEqual([['DEMO-SIK-NIE-0002-3', 50, 0]]);
    expect(report.missingInLedger.map((i) => [i.transactionId, i.statement?.line, i.ledger])).toEqual([['MP260214.1032.4F7A21', 13, null]]);
    expect(report.missingAtOperator.map((i) => [i.transactionId, i.statement, i.ledger?.paidOn])).toEqual([
      ['DEMO-SIK-KLE-0001-4', null, '2025-09-01'],
    ]);
    expect(report.ignored.map((r) => r.transactionId)).toEqual(['MP260220.0815.9C03B7']);
    expect(report.totals.matched).toEqual({ count: 6, statementAmount: 22000, statementFee: 0, ledgerAmount: 22000, ledgerFee: 0 });
  });

  it('takes the period from the query', async () => {
    const report = (await (await postStatement(SAMPLE, {}, '?from=2025-10-01')).json()) as ReconcileReport;
    expect(report.period).toEqual({ from: '2025-10-01', to: '2026-03-01' });
    expect(report.missingAtOperator).toEqual([]);
  });

  it('answers 400 with the line-numbered errors of a malformed statement, and reconciles nothing', async () => {
    const bad = `# March\n${HEADER}\n2026-03-01 09:00:00,MP1,,+22376000001,1 000,50,SUCCESS\n2026-03-02 09:00:00,MP1,,76000001,1000,50,SUCCESS\n`;
    const res = await postStatement(bad);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'the statement has 3 errors; nothing was reconciled',
      errors: [
        { line: 3, message: expect.stringMatching(/amount "1 000" is not a whole number/) },
        { line: 4, message: expect.stringMatching(/duplicate transaction_id "MP1" \(first on line 3\)/) },
        { line: 4, message: expect.stringMatching(/msisdn "76000001"/) },
      ],
    });
  });

  it.each([
    ['an empty body', '', { line: 1, message: expect.stringMatching(/the file is empty/) }],
    [
      'a header without the status column',
      'date,transaction_id,reference,msisdn,amount,fee\n',
      { line: 1, message: expect.stringMatching(/missing column "status"/) },
    ],
  ])('answers 400 for %s', async (_label, body, error) => {
    const res = await postStatement(body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: unknown[] }).errors).toEqual([error]);
  });

  it('answers 400 for a bad period', async () => {
    for (const [query, message] of [
      ['?from=01-03-2026', /^from: must be a day such as 2026-03-01/],
      ['?from=2026-03-10&to=2026-03-01', /from \(2026-03-10\) is after to \(2026-03-01\)/],
      ['?to=2026-02-30', /to: "2026-02-30" is not a day/],
    ] as const) {
      const res = await postStatement(SAMPLE, {}, query);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    }
  });

  it('answers 415 for a body that is not CSV', async () => {
    const res = await postStatement(JSON.stringify({ csv: SAMPLE }), { 'content-type': 'application/json' });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: string }).error).toMatch(/Content-Type: text\/csv/);
  });

  it('answers 413 for a statement over 5 MB', async () => {
    const line = '2026-03-01 09:00:00,MP000000000000,,+22376000001,1000,50,SUCCESS\n';
    const res = await postStatement(`${HEADER}\n${line.repeat(Math.ceil((5 * 1024 * 1024) / line.length) + 10)}`);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toBe('the statement is larger than 5MB');
  });

  it('changes nothing in the ledger', async () => {
    const count = () => t.services.db.prepare("SELECT COUNT(*) || ':' || SUM(amount) FROM contributions").pluck().get();
    const before = count();
    await postStatement(SAMPLE);
    expect(count()).toBe(before);
  });
});

describe('GET /admin/api/ledger.csv', () => {
  it('exports the Orange Money ledger as CSV for the operator', async () => {
    const res = await fetch(`${admin.url}/admin/api/ledger.csv`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename=sabatili-orange-money-ledger.csv');
    const csv = await res.text();
    expect(csv).toBe(exportLedger(t.services.db));
    expect(csv.split('\n')[0]).toBe(HEADER);
    expect(csv.trimEnd().split('\n')).toHaveLength(10);
  });

  it('keeps to ?from=&to=, and names the period in the file name', async () => {
    const res = await fetch(`${admin.url}/admin/api/ledger.csv?from=2026-01-01&to=2026-01-31`, { headers: auth });
    expect(res.headers.get('content-disposition')).toBe(
      'attachment; filename=sabatili-orange-money-ledger-from-2026-01-01-to-2026-01-31.csv',
    );
    expect(
      (await res.text())
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[1]),
    ).toEqual(['DEMO-SIK-KLE-0001-6', 'DEMO-KOU-MPE-0003-2']);
    const bad = await fetch(`${admin.url}/admin/api/ledger.csv?to=yesterday`, { headers: auth });
    expect(bad.status).toBe(400);
  });

  it('round-trips: the export posted back as a statement is balanced', async () => {
    const csv = await (await fetch(`${admin.url}/admin/api/ledger.csv`, { headers: auth })).text();
    const report = (await (await postStatement(csv)).json()) as ReconcileReport;
    expect(report.balanced).toBe(true);
    expect(report.totals.matched.count).toBe(9);
  });
});
