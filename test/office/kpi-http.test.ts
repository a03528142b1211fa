import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kpiRoutes } from '../../src/http/kpi.ts';
import { CSV_SECTIONS, computeKpis, type Kpis } from '../../src/office/kpi.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const TOKEN = 'admin-token-for-the-tests-0123';
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ clock: '2026-03-10T09:00:00Z', env: { ADMIN_TOKEN: TOKEN } });
});
afterAll(() => t.close());

const get = (path: string, token: string | null = TOKEN) =>
  fetch(`${t.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('GET /admin/api/kpi', () => {
  it('needs the admin token', async () => {
    expect((await get('/admin/api/kpi?from=2026-01-01&to=2026-03-10', null)).status).toBe(401);
    expect((await get('/admin/api/kpi.csv?from=2026-01-01&to=2026-03-10', 'wrong')).status).toBe(401);
  });

  it("answers the figures of the period, today being the server clock's day", async () => {
    const res = await get('/admin/api/kpi?from=2026-01-01&to=2026-03-10&district=Sikasso');
    expect(res.status).toBe(200);
    const k = (await res.json()) as Kpis;
    expect(k.period).toEqual({ from: '2026-01-01', to: '2026-03-10', today: '2026-03-10' });
    expect(k.districts.map((d) => d.district)).toEqual(['Sikasso']);
    const direct = computeKpis(t.services.db, {
      from: '2026-01-01',
      to: '2026-03-10',
      today: '2026-03-10',
      district: 'Sikasso',
      campaigns: t.services.campaigns,
    });
    expect(k).toEqual(JSON.parse(JSON.stringify(direct)));
    expect(k.totals.penetration.coveredPersons).toBe(5); // Moussa Traoré's household; Aminata's has lapsed
  });

  it('400 with the field named on a bad day, a missing bound, an inverted period or an unknown mutuelle', async () => {
    const cases: Array<[string, RegExp]> = [
      ['from=2026-02-30&to=2026-03-10', /^from: must be a day such as 2026-03-01/],
      ['from=2026-01-01', /^to: /],
      ['from=2026-03-10&to=2026-03-01', /inverted/],
      ['from=2026-03-01&to=2026-03-10&mutuelle=nope', /no mutuelle "nope"/],
      ['from=2026-03-01&to=2026-03-10&color=red', /color/],
    ];
    for (const [query, error] of cases) {
      const res = await get(`/admin/api/kpi?${query}`);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: string }).error, query).toMatch(error);
    }
  });
});

describe('GET /admin/api/kpi.csv', () => {
  it('the figures as CSV, one section per figure, as a download', async () => {
    const res = await get('/admin/api/kpi.csv?from=2026-01-01&to=2026-03-10&mutuelle=sik-klela');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toContain('sabatili-kpi-2026-01-01-2026-03-10-sik-klela.csv');
    const text = await res.text();
    expect(text.match(/^# \w+$/gm)).toHaveLength(CSV_SECTIONS.length);
    expect(text).toContain('# claims_by_facility_month');
    expect(text).toContain('mutuelle,Sikasso,sik-klela,Mutuelle de Kléla,2026-03-10,21000,5,0.000238');
  });

  it('only the sections asked for; an unknown one is a 400', async () => {
    const text = await (await get('/admin/api/kpi.csv?from=2026-01-01&to=2026-03-10&section=sms,ussd')).text();
    expect(text.match(/^# \w+$/gm)).toEqual(['# sms', '# ussd']);
    expect((await get('/admin/api/kpi.csv?from=2026-01-01&to=2026-03-10&section=weather')).status).toBe(400);
  });
});

describe('a large network: the figures from a worker thread', () => {
  it('answers the same figures, and a refusal of the worker as a 400 naming the field', async () => {
    const app = express();
    kpiRoutes(app, { db: t.services.db, clock: t.clock, token: TOKEN, config: t.services.config, workerAboveHouseholds: 0 });
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const headers = { authorization: `Bearer ${TOKEN}` };
      const res = await fetch(`${url}/admin/api/kpi?from=2026-01-01&to=2026-03-10`, { headers });
      expect(res.status).toBe(200);
      const direct = computeKpis(t.services.db, {
        from: '2026-01-01',
        to: '2026-03-10',
        today: '2026-03-10',
        campaigns: t.services.campaigns,
      });
      expect(await res.json()).toEqual(JSON.parse(JSON.stringify(direct)));
      const unknown = await fetch(`${url}/admin/api/kpi?from=2026-01-01&to=2026-03-10&district=Kayes`, { headers });
      expect(unknown.status).toBe(400);
      const body = (await unknown.json()) as { error: string; field: string };
      expect(body.error).toMatch(/no district "Kayes"/);
      expect(body.field).toBe('district');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
