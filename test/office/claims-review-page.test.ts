/**
 * Claims review in the console, over real HTTP with a logged-in officer: the counts per facility,
 * a facility's queue with each claim's automatic checks, an approval, a rejection refused without
 * its reason, a flagged claim approved only with one, a second decision refused, and the audit rows.
 */
import { describe, expect, it } from 'vitest';
import type { Claim } from '../../src/db/claims.ts';
import type { TestApp } from '../support/app.ts';
import { type Browser, eachTestLoggedIn, loggedIn } from './support.ts';

describe('claims review in the console', () => {
  let app: TestApp;
  let officer: Browser;
  eachTestLoggedIn('awa@utm.ml', 'officer', (a, b) => ((app = a), (officer = b)));

  let key = 0;
  /** A consultation recorded by Kléla's agent for the household on that phone (its `nth` beneficiary), as the USSD menu records it. */
  const visit = (phone: string, opts: { nth?: number; amount?: number; visitOn?: string } = {}): Claim => {
    const { households, facilities, claims } = app.services;
    const agent = facilities.agentByPhone('+22377000001');
    const h = households.findByPhone(phone);
    const b = h && households.load(h.id)?.beneficiaries[opts.nth ?? 0];
    if (!agent || !h || !b) throw new Error(`no agent or household ${phone}`);
    return claims.record(
      {
        requestKey: `test:${++key}`,
        facilityId: agent.facilityId,
        agentId: agent.id,
        householdId: h.id,
        beneficiaryId: b.id,
        care: 'consultation',
        days: 1,
        tariff: 1500,
        amount: opts.amount ?? 1500,
        visitOn: opts.visitOn ?? '2026-03-10',
      },
      app.clock.now(),
    );
  };
  const row = (body: string, id: number) => {
    const at = body.indexOf(`data-claim="${id}"`);
    return at < 0 ? '' : body.slice(at, body.indexOf('</tr>', at));
  };
  const failed = (html: string) => [...html.matchAll(/class="check-fail">⚠ ([^<]+)<\/li>/g)].map((m) => (m[1] as string).trim());

  it('counts claims per facility and shows each claim with its checks, pending first', async () => {
    const moussa = visit('+22376000001', { nth: 1 });
    const aminata = visit('+22376000002', { amount: 2000 });
    const bakary = visit('+22376000003', { visitOn: '2026-04-05' });
    const kle = moussa.facilityId;

    const index = await officer.get('/admin/claims');
    expect(index.status).toBe(200);
    const kleRow = index.body.slice(index.body.indexOf('data-facility="CSCOM-KLE"'));
    expect(kleRow).toMatch(/<strong>3<\/strong> · 5 000 FCFA/);
    expect(index.body).toContain(`href="/admin/claims/facilities/${kle}"`);

    const queue = await officer.get(`/admin/claims/facilities/${kle}`);
    expect(queue.status).toBe(200);
    const m = row(queue.body, moussa.id);
    for (const shown of [
      '10/03/2026',
      'CSCom de Kléla',
      'Mariam Diarra',
      'Awa, né(e) en 1985',
      'SIK-KLE-0001',
      'consultation',
      '1 500 FCFA',
    ])
      expect(m).toContain(shown);
    expect(m).not.toContain('Coulibaly');
    expect(failed(m)).toEqual([]);

    // The same patient again that day, then the member's NON: the second visit is flagged twice.
    const again = visit('+22376000001', { nth: 1 });
    app.services.claims.disputeLatest(again.householdId, new Date('2026-03-10T00:00:00Z'), null, app.clock.now());
    expect(failed(row((await officer.get(`/admin/claims/facilities/${kle}`)).body, again.id))).toEqual([
      `Visite en double : oui: même patient, même jour, demande(s) n° ${moussa.id}`,
      'Contesté par le membre : oui: NON reçu le 10/03/2026 09:00',
    ]);
    expect(failed(row(queue.body, aminata.id))).toEqual([
      'Couvert le jour de la visite : non: couverture finie (payé jusqu&#39;au 31/07/2025)',
      'Montant dans le tarif : non: 2 000 FCFA demandés, 1 500 FCFA au plus',
    ]);
    expect(failed(row(queue.body, bakary.id))).toEqual([
      'Couvert le jour de la visite : non: délai de grâce jusqu&#39;au 15/04/2026 (payé jusqu&#39;au 31/03/2026): pas couvert pour les soins',
      'Mutuelle servie par l’établissement : non',
    ]);
  });

  it('approves a claim whose checks pass, refuses a rejection without reason and a flagged approval without one, and decides once; audited', async () => {
    const good = visit('+22376000001');
    const lapsed = visit('+22376000002');
    const path = `/admin/claims/facilities/${good.facilityId}`;

    const approved = await officer.post(`/admin/claims/${good.id}/approve`, { reason: '' });
    expect([approved.status, approved.location]).toEqual([303, `${path}?done=approved`]);
    expect(app.services.claims.get(good.id)).toMatchObject({ status: 'approved', decisionReason: null });

    const noReason = await officer.post(`/admin/claims/${lapsed.id}/reject`, { reason: ' ' });
    expect(noReason.status).toBe(400);
    expect(noReason.body).toContain(`Demande n° ${lapsed.id}: Indiquez le motif du refus.`);
    expect(noReason.body).toContain(`action="/admin/claims/${lapsed.id}/approve"`);
    const flagged = await officer.post(`/admin/claims/${lapsed.id}/approve`, { reason: '' });
    expect(flagged.status).toBe(400);
    expect(flagged.body).toContain('indiquez pourquoi vous approuvez quand même');
    expect(app.services.claims.get(lapsed.id)?.status).toBe('pending');

    const rejected = await officer.post(`/admin/claims/${lapsed.id}/reject`, { reason: 'Ménage non couvert le jour de la visite' });
    expect(rejected.location).toBe(`${path}?done=rejected`);
    const page = await officer.get(`${path}?done=rejected`);
    expect(page.body).toContain('Demande refusée.');
    expect(row(page.body, lapsed.id)).toContain('<strong>refusée</strong> par awa');
    expect(row(page.body, lapsed.id)).toContain('Ménage non couvert le jour de la visite');

    const manager = await loggedIn(app, 'chef@utm.ml', 'manager');
    const twice = await manager.post(`/admin/claims/${good.id}/reject`, { reason: 'doublon' });
    expect(twice.status).toBe(409);
    expect(twice.body).toContain('Cette demande a déjà été approuvée par awa: une décision est définitive.');
    expect(app.services.claims.get(good.id)?.status).toBe('approved');
    expect((await officer.post(`/admin/claims/${lapsed.id}/approve`, { reason: 'x' }, { csrf: false })).status).toBe(403);
    expect((await officer.post('/admin/claims/9999/approve', { reason: 'x' })).status).toBe(404);

    const audit = app.services.office.audit.list().filter((r) => r.action.startsWith('claim.'));
    expect(
      audit.map((r) => [r.actor, r.action, r.entityId, JSON.parse(r.before as string), JSON.parse(r.after as string)]).reverse(),
    ).toEqual([
      [
        'awa@utm.ml',
        'claim.approve',
        String(good.id),
        { status: 'pending', amount: 1500, failedChecks: [] },
        { status: 'approved', reason: null },
      ],
      [
        'awa@utm.ml',
        'claim.reject',
        String(lapsed.id),
        { status: 'pending', amount: 1500, failedChecks: ['covered'] },
        { status: 'rejected', reason: 'Ménage non couvert le jour de la visite' },
      ],
    ]);
  });
});
