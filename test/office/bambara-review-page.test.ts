/** The Bambara review in the console: managers see what awaits a native speaker, doubtful terms first, and download the spreadsheet. */
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.ts';
import { type Browser, eachTestLoggedIn, loggedIn } from './support.ts';

describe('Bambara review page', () => {
  let app: TestApp;
  let manager: Browser;
  eachTestLoggedIn('chef@utm.ml', 'manager', (a, b) => ((app = a), (manager = b)));

  it('lists the messages awaiting review, doubtful terms first, with where the member meets them in French', async () => {
    const page = await manager.get('/admin/bambara');
    expect(page.status).toBe(200);
    const keys = [...page.body.matchAll(/<tr( class="doubt")? data-key="([^"]+)"/g)].map((m) => ({ doubt: m[1] !== undefined, key: m[2] }));
    expect(keys.length).toBeGreaterThan(100);
    const firstPlain = keys.findIndex((k) => !k.doubt);
    expect(firstPlain).toBeGreaterThan(0);
    expect(keys.slice(firstPlain).every((k) => !k.doubt)).toBe(true);
    expect(keys.slice(0, firstPlain).map((k) => k.key)).toContain('main.coverage');
    expect(page.body).toContain('sécurité, protection');
    expect(page.body).toContain('menu « Menu principal », écran « Kénéya Sabatili »');

    const csv = await manager.get('/admin/bambara.csv');
    expect(csv.status).toBe(200);
    const rows = parse(csv.body.replace(/^\uFEFF/, '')) as string[][];
    expect(rows[0]).toEqual(['clé', 'français', 'bambara', 'où', 'statut', 'doute']);
    expect(app.services.office.audit.list({ action: 'export.bambara' })).toHaveLength(1);
  });

  it('is for managers only', async () => {
    const officer = await loggedIn(app, 'agent@utm.ml', 'officer');
    expect((await officer.get('/admin/bambara')).status).toBe(403);
  });
});
