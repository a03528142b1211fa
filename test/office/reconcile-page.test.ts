/**
 * The reconciliation page: a manager uploads the operator's statement and sees what matches and
 * what differs, with the statement's line for each row; an officer may not; a bad statement gets its
 * errors by line and reconciles nothing.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.ts';
import { type Browser, eachTestLoggedIn, loggedIn } from './support.ts';

const SAMPLE = 'fixtures/statements/orange-money-sample.csv';

describe('the reconciliation page', () => {
  let app: TestApp;
  let manager: Browser;
  eachTestLoggedIn('chef@utm.ml', 'manager', (a, b) => ((app = a), (manager = b)));

  async function upload(b: Browser, csv: string) {
    const body = new FormData();
    body.set('_csrf', await b.csrf('/admin/reconcile'));
    body.set('file', new Blob([csv], { type: 'text/csv' }), 'releve.csv');
    const res = await fetch(`${app.url}/admin/reconcile`, { method: 'POST', headers: { cookie: b.cookie }, body, redirect: 'manual' });
    return { status: res.status, body: await res.text() };
  }

  it("shows the sample statement's deliberate mismatches, each with its line", async () => {
    const r = await upload(manager, readFileSync(SAMPLE, 'utf8'));
    expect(r.status).toBe(200);
    expect(r.body).toContain('Écarts à examiner');
    expect(r.body).toMatch(/<td>Concordent<\/td><td class="num">6<\/td>/);
    const section = (name: string) =>
      r.body.slice(r.body.indexOf(`data-testid="${name}"`), r.body.indexOf('</table>', r.body.indexOf(`data-testid="${name}"`)));
    expect(section('amountMismatch')).toMatch(
      /<td>DEMO-SIK-KLE-0001-5<\/td><td class="num">10<\/td>\s*<td>3 000 FCFA \+ 0 FCFA · \+22376000001<\/td>\s*<td>3 500 FCFA/,
    );
    expect(section('feeMismatch')).toContain('DEMO-SIK-NIE-0002-3');
    expect(section('missingInLedger')).toContain('MP260214.1032.4F7A21');
    expect(section('missingAtOperator')).toContain('DEMO-SIK-KLE-0001-4');
    const ledger = await manager.get('/admin/reconcile/ledger.csv');
    expect(ledger.status).toBe(200);
    expect(ledger.body.split('\n')[0]).toContain('transaction_id');
  });

  it('lists the errors of a bad statement by line and reconciles nothing', async () => {
    const r = await upload(
      manager,
      'date,transaction_id,reference,msisdn,amount,fee,status\n2026-03-01 10:00:00,T1,R1,+22376000001,abc,0,SUCCESS\n',
    );
    expect(r.status).toBe(400);
    expect(r.body).toContain('rien n&#39;a été rapproché');
    expect(r.body).toMatch(/<td class="num">2<\/td><td>[^<]*amount/);
    expect(r.body).not.toContain('data-testid="reconcile-report"');
  });

  it('refuses an inverted period on the page, in French, before reading the statement', async () => {
    const ledger = await manager.get('/admin/reconcile/ledger.csv?from=10%2F03%2F2026&to=01%2F03%2F2026');
    expect(ledger.status).toBe(400);
    expect(ledger.body).toContain('Période inversée : la date de début est après la date de fin.');
    expect(ledger.body).toContain('<form');
    const badDay = await manager.get('/admin/reconcile/ledger.csv?from=2026-13-45');
    expect(badDay.status).toBe(400);
    expect(badDay.body).toContain('Dates au format JJ/MM/AAAA.');
  });

  it('is for managers only', async () => {
    const officer = await loggedIn(app, 'awa@utm.ml', 'officer');
    expect((await officer.get('/admin/reconcile')).status).toBe(403);
    expect((await officer.get('/admin/reconcile/ledger.csv')).status).toBe(403);
  });
});
