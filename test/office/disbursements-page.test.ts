/**
 * « Paiements aux établissements » in the console: an officer prepares a batch from the approved
 * claims shown with their total; the manager who prepared another batch cannot approve it; another
 * manager approves it and it is paid once (the facility's simulated wallet, the float, the ledger,
 * the agent's SMS queued); a failed batch shows why and is retried; every action is audited; the
 * ledger is exported and reconciled with a statement; forms need their CSRF token.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StaffRef } from '../../src/claims/batches.ts';
import { approvedClaims, KLELA_AGENT, KLELA_WALLET, MPESSOBA_WALLET, walletBalance } from '../claims/support.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { type Browser, loggedIn } from './support.ts';

let app: TestApp;
let officer: Browser;
let manager: Browser;
let reviewer: StaffRef;
beforeEach(async () => {
  app = await startTestApp({ env: { SIMULATOR_DELIVERY_DELAY_MS: '600000' } });
  officer = await loggedIn(app, 'agent@utm.ml', 'officer');
  manager = await loggedIn(app, 'chef@utm.ml', 'manager');
  const chef = app.services.office.staff.list().find((s) => s.email === 'chef@utm.ml');
  reviewer = { staffId: chef?.id as number, name: 'chef@utm.ml' };
});
afterEach(() => app.close());

const klela = () => app.services.facilities.facilityByCode('CSCOM-KLE')?.id as number;
const batchesOf = () => app.services.batches.latest();

async function prepare(b: Browser, facility: number) {
  const page = await b.get(`/admin/disbursements/prepare?facility=${facility}`);
  expect(page.status).toBe(200);
  const claims = [...page.body.matchAll(/name="claim" value="(\d+)"/g)].map((m) => m[1] as string);
  const body = new URLSearchParams({ _csrf: await b.csrf('/admin/disbursements'), facility: String(facility) });
  for (const id of claims) body.append('claim', id);
  const res = await fetch(`${app.url}/admin/disbursements/prepare`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: b.cookie },
    body: body.toString(),
  });
  return { page: page.body, status: res.status, location: res.headers.get('location'), body: await res.text() };
}

describe('paying facilities in the console', () => {
  it('an officer prepares, a manager approves: paid once, the agent’s SMS queued, every step audited', async () => {
    approvedClaims(app, 'CSCOM-KLE', [1500, 7500], reviewer);
    const list = await officer.get('/admin/disbursements');
    expect(list.status).toBe(200);
    expect(list.body).toContain('Paiements aux établissements');
    expect(list.body).toMatch(/CSCom de Kléla[\s\S]*?<td class="num">2<\/td><td class="num">9\s000\sFCFA<\/td>/);

    const p = await prepare(officer, klela());
    expect(p.page).toMatch(/data-testid="total">9\s000\sFCFA</);
    expect(p.location).toBe('/admin/disbursements?done=prepare');
    const [batch] = batchesOf();
    expect(batch).toMatchObject({ status: 'prepared', amount: 9000, claimsCount: 2, preparedByName: 'agent' });
    // An officer sees no approve button and may not approve.
    expect((await officer.get('/admin/disbursements')).body).not.toContain(`/admin/disbursements/${batch!.id}/approve`);
    expect((await officer.post(`/admin/disbursements/${batch!.id}/approve`, {})).status).toBe(403);
    // Without the CSRF token nothing happens.
    expect((await manager.post(`/admin/disbursements/${batch!.id}/approve`, {}, { csrf: false })).status).toBe(403);
    expect(app.services.batches.get(batch!.id).status).toBe('prepared');

    const approved = await manager.post(`/admin/disbursements/${batch!.id}/approve`, {});
    expect(approved.location).toBe('/admin/disbursements?done=approve');
    await app.services.orange.flush();
    expect(app.services.batches.get(batch!.id)).toMatchObject({ status: 'paid', approvedByName: 'chef' });
    expect(walletBalance(app, KLELA_WALLET)).toBe(9000);
    expect(app.services.outbox.to(KLELA_AGENT).map((m) => m.text)).toEqual([expect.stringContaining(`Lot ${batch!.reference}`)]);
    // Approving again: refused on the page, nothing paid twice.
    const again = await manager.post(`/admin/disbursements/${batch!.id}/approve`, {});
    expect(again.status).toBe(409);
    expect(again.body).toContain('n’attend plus d’approbation');
    await app.services.orange.flush();
    expect(walletBalance(app, KLELA_WALLET)).toBe(9000);
    const shown = await manager.get('/admin/disbursements?done=approve');
    expect(shown.body).toContain('Lot approuvé et envoyé');
    expect(shown.body).toMatch(new RegExp(`${batch!.reference}[\\s\\S]*?payé`));

    const audit = app.services.office.audit.list({});
    expect(audit.filter((a) => a.action.startsWith('batch.')).map((a) => [a.action, a.actor, a.entityId])).toEqual(
      expect.arrayContaining([
        ['batch.prepare', 'agent@utm.ml', String(batch!.id)],
        ['batch.approve', 'chef@utm.ml', String(batch!.id)],
      ]),
    );
  });

  it('the manager who prepared a batch cannot approve it; insufficient float shows why, and another manager retries it', async () => {
    approvedClaims(app, 'CSCOM-MPE', [3000], reviewer);
    const mpe = app.services.facilities.facilityByCode('CSCOM-MPE')?.id as number;
    expect((await prepare(manager, mpe)).location).toBe('/admin/disbursements?done=prepare');
    const [batch] = batchesOf();
    expect((await manager.get('/admin/disbursements')).body).not.toContain(`/admin/disbursements/${batch!.id}/approve`);
    const own = await manager.post(`/admin/disbursements/${batch!.id}/approve`, {});
    expect(own.status).toBe(403);
    expect(own.body).toContain('Vous avez préparé ce lot : un autre responsable doit l’approuver.');

    const second = await loggedIn(app, 'directrice@utm.ml', 'manager');
    app.services.orange.changeFloat({ balance: 1000 });
    await second.post(`/admin/disbursements/${batch!.id}/approve`, {});
    await app.services.orange.flush();
    const failed = await second.get('/admin/disbursements');
    expect(failed.body).toContain('Float UTM insuffisant chez Orange Money : approvisionnez-le, puis relancez le lot.');
    expect(failed.body).toContain(`/admin/disbursements/${batch!.id}/retry`);
    expect(walletBalance(app, MPESSOBA_WALLET)).toBe(0);

    app.services.orange.changeFloat({ add: 10_000 });
    expect((await second.post(`/admin/disbursements/${batch!.id}/retry`, {})).location).toBe('/admin/disbursements?done=retry');
    await app.services.orange.flush();
    expect(app.services.batches.get(batch!.id)).toMatchObject({ status: 'paid', attempts: 2 });
    expect(walletBalance(app, MPESSOBA_WALLET)).toBe(3000);
    expect(app.services.office.audit.list({ action: 'batch.retry' })).toHaveLength(1);
  });

  it('a prepared batch is cancelled and its claims can be prepared again', async () => {
    approvedClaims(app, 'CSCOM-KLE', [1500], reviewer);
    await prepare(officer, klela());
    const [batch] = batchesOf();
    expect((await officer.post(`/admin/disbursements/${batch!.id}/cancel`, {})).location).toBe('/admin/disbursements?done=cancel');
    expect(app.services.batches.get(batch!.id).status).toBe('cancelled');
    expect((await prepare(officer, klela())).location).toBe('/admin/disbursements?done=prepare');
    expect(batchesOf()[0]).toMatchObject({ status: 'prepared', amount: 1500 });
  });

  it('exports the disbursement ledger and reconciles it with the operator statement', async () => {
    approvedClaims(app, 'CSCOM-KLE', [1500, 3000], reviewer);
    await prepare(officer, klela());
    const [batch] = batchesOf();
    await manager.post(`/admin/disbursements/${batch!.id}/approve`, {});
    await app.services.orange.flush();

    expect((await officer.get('/admin/disbursements/ledger.csv')).status).toBe(403);
    const csv = await manager.get('/admin/disbursements/ledger.csv');
    expect(csv.status).toBe(200);
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toBe('date,transaction_id,reference,msisdn,amount,fee,status');
    expect(lines.slice(1)).toEqual([expect.stringMatching(new RegExp(`,${batch!.reference}-1,'\\+22379000001,4500,0,SUCCESS$`))]);
    expect(app.services.office.audit.list({ action: 'export.disbursements' })).toHaveLength(1);

    const upload = async (text: string) => {
      const body = new FormData();
      body.set('_csrf', await manager.csrf('/admin/disbursements/reconcile'));
      body.set('file', new Blob([text], { type: 'text/csv' }), 'releve.csv');
      const res = await fetch(`${app.url}/admin/disbursements/reconcile`, { method: 'POST', headers: { cookie: manager.cookie }, body });
      return { status: res.status, body: await res.text() };
    };
    const same = await upload(csv.body);
    expect(same.status).toBe(200);
    expect(same.body).toContain('Tout concorde');

    const other = csv.body.replace(',4500,0,SUCCESS', ',4000,0,SUCCESS');
    const extra = `${other.trimEnd()}\n2026-03-10T10:00:00Z,CI260310.1000.ABCDEF,PB260310999999-1,+22379000002,2000,0,SUCCESS\n`;
    const diff = await upload(extra);
    expect(diff.body).toContain('Écarts à examiner');
    expect(diff.body).toMatch(/data-testid="amountMismatch"[\s\S]*?4\s000\sFCFA[\s\S]*?4\s500\sFCFA/);
    expect(diff.body).toMatch(/data-testid="missingInLedger"[\s\S]*?CI260310\.1000\.ABCDEF[\s\S]*?aucun lot n’a cette référence/);
  });
});
