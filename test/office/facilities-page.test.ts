/**
 * Health facilities and their agents in the console, over real HTTP: the list per district, a
 * facility registered by a manager (refused with its errors, in French, when the form is wrong), an
 * agent added and deactivated by an officer, and the agents' CSV import, all or nothing. Every
 * change is audited.
 */
import { describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.ts';
import { type Browser, eachTestLoggedIn, loggedIn } from './support.ts';

describe('facilities and agents in the console', () => {
  let app: TestApp;
  let officer: Browser;
  eachTestLoggedIn('awa@utm.ml', 'officer', (a, b) => ((app = a), (officer = b)));

  const facilities = () => app.services.facilities;
  const audit = (action: string) => app.services.office.audit.list({ action });
  const kle = () => facilities().facilityByCode('CSCOM-KLE')?.id as number;

  async function upload(b: Browser, csv: string, csrf?: string) {
    const body = new FormData();
    body.set('_csrf', csrf ?? (await b.csrf('/admin/facilities')));
    body.set('file', new Blob([csv], { type: 'text/csv' }), 'agents.csv');
    const res = await fetch(`${app.url}/admin/facilities/import-agents`, {
      method: 'POST',
      headers: { cookie: b.cookie },
      body,
      redirect: 'manual',
    });
    return { status: res.status, body: await res.text() };
  }

  it('lists the facilities per district with their payment number, mutuelles and agents; registering one is for managers', async () => {
    const page = await officer.get('/admin/facilities');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<a href="/admin/facilities">Établissements</a>');
    expect(page.body).toContain('<a href="/admin/claims">Demandes de remboursement</a>');
    const sikasso = page.body.slice(page.body.indexOf('data-testid="district-Sikasso"'));
    expect(sikasso).toMatch(
      /CSCOM-KLE<\/td><td><a href="\/admin\/facilities\/\d+">CSCom de Kléla<\/a><\/td><td>CSCom<\/td>\s*<td>\+22379000001<\/td>/,
    );
    expect(page.body).toContain('data-testid="district-Koutiala"');
    expect(page.body).not.toContain('Inscrire un établissement');
    expect((await officer.get('/admin/facilities/new')).status).toBe(403);
    expect((await officer.post('/admin/facilities', { code: 'CSREF-SIK' })).status).toBe(403);
    const detail = await officer.get(`/admin/facilities/${kle()}`);
    expect(detail.body).toContain('Mariam Diarra');
    expect(detail.body).toContain('+22377000001');
    expect((await officer.get('/admin/facilities/999')).status).toBe(404);
  });

  it('registers a facility with its mobile-money number and mutuelles, refusing a bad form in French without writing', async () => {
    const manager = await loggedIn(app, 'chef@utm.ml', 'manager');
    const form = await manager.get('/admin/facilities/new');
    expect(form.body).toContain('Numéro mobile money des paiements');
    const bad = await manager.post('/admin/facilities', {
      code: 'cscom-kle',
      name: 'CSRef de Sikasso',
      kind: 'clinic',
      district: 'Sikasso',
      paymentMsisdn: '+33612345678',
    });
    expect(bad.status).toBe(400);
    for (const error of [
      'déjà le code de CSCom de Kléla',
      'choisissez CSCom, CSRef ou hôpital',
      'numéro de mobile malien invalide',
      'cochez au moins une mutuelle servie',
    ])
      expect(bad.body).toContain(error);
    expect(bad.body).toContain('value="CSRef de Sikasso"');
    expect(facilities().facilities()).toHaveLength(2);

    const body = new URLSearchParams({
      code: 'csref-sik',
      name: 'CSRef de Sikasso',
      kind: 'csref',
      district: 'Sikasso',
      paymentMsisdn: '79 00 00 09',
    });
    body.append('mutuelleIds', 'sik-ville');
    body.append('mutuelleIds', 'sik-klela');
    // Two boxes ticked: posted as a browser does, the same name twice.
    body.set('_csrf', await manager.csrf());
    const res = await fetch(`${app.url}/admin/facilities`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: manager.cookie },
      body: body.toString(),
    });
    expect(res.status).toBe(303);
    const created = facilities().facilityByCode('CSREF-SIK');
    expect(created).toMatchObject({
      name: 'CSRef de Sikasso',
      kind: 'csref',
      paymentMsisdn: '+22379000009',
      mutuelleIds: ['sik-klela', 'sik-ville'],
    });
    expect(res.headers.get('location')).toBe(`/admin/facilities/${created?.id}?done=registered`);
    expect((await manager.get(res.headers.get('location') as string)).body).toContain('Établissement inscrit.');
    const row = audit('facility.register')[0];
    expect([row?.actor, row?.entityId, JSON.parse(row?.after as string).paymentMsisdn]).toEqual([
      'chef@utm.ml',
      String(created?.id),
      '+22379000009',
    ]);
  });

  it('adds an agent and deactivates one, refusing a bad phone or one already used, each change audited', async () => {
    const id = kle();
    const bad = await officer.post(`/admin/facilities/${id}/agents`, { phone: '20 22 33 44', name: 'Ko', language: 'fr' });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('numéro de mobile malien invalide');
    expect(bad.body).toContain('le nom de l&#39;agent est requis');
    const taken = await officer.post(`/admin/facilities/${id}/agents`, { phone: '+22377000002', name: 'Fanta Koné', language: 'bm' });
    expect(taken.status).toBe(400);
    expect(taken.body).toContain('déjà le numéro de l&#39;agent Oumar Dembélé (CSCom de M&#39;Pessoba)');

    const added = await officer.post(`/admin/facilities/${id}/agents`, { phone: '77 00 00 11', name: 'Fanta Koné', language: 'bm' });
    expect([added.status, added.location]).toEqual([303, `/admin/facilities/${id}?done=agent-added`]);
    const fanta = facilities().agentByPhone('+22377000011');
    expect(fanta).toMatchObject({ name: 'Fanta Koné', language: 'bm', facilityId: id });
    expect(audit('agent.add')[0]).toMatchObject({ actor: 'awa@utm.ml', entityId: String(fanta?.id) });

    const off = await officer.post(`/admin/facilities/${id}/agents/${fanta?.id}/deactivate`, {});
    expect(off.location).toBe(`/admin/facilities/${id}?done=agent-deactivated`);
    expect(facilities().agentByPhone('+22377000011')).toBeUndefined();
    expect(JSON.parse(audit('agent.deactivate')[0]?.before as string)).toMatchObject({ phone: '+22377000011', active: true });
    const again = await officer.post(`/admin/facilities/${id}/agents/${fanta?.id}/deactivate`, {});
    expect([again.status, again.body.includes('Cet agent est déjà désactivé.')]).toEqual([409, true]);
    const elsewhere = facilities().agentByPhone('+22377000002')?.id;
    expect((await officer.post(`/admin/facilities/${id}/agents/${elsewhere}/deactivate`, {})).status).toBe(404);
    expect(facilities().agentByPhone('+22377000002')).toBeDefined();
    expect((await officer.post(`/admin/facilities/${id}/agents`, { phone: '77000012', name: 'X Y Z' }, { csrf: false })).status).toBe(403);
  });

  it('imports a good agents file in one go, audited', async () => {
    const r = await upload(
      officer,
      'phone,name,language,facility_code\n77 00 00 21,Sira Traoré,,cscom-kle\n+22377000022,Modibo Keïta,bm,CSCOM-MPE\n',
    );
    expect(r.status).toBe(200);
    expect(r.body).toContain('agents.csv : 2 agent(s) importé(s).');
    expect(facilities().agentByPhone('+22377000021')).toMatchObject({
      name: 'Sira Traoré',
      language: 'fr',
      facilityName: 'CSCom de Kléla',
    });
    expect(facilities().agentByPhone('+22377000022')).toMatchObject({ language: 'bm', district: 'Koutiala' });
    const row = audit('agents.import')[0];
    expect(row?.actor).toBe('awa@utm.ml');
    expect(JSON.parse(row?.after as string).agents).toHaveLength(2);
  });

  it('refuses a file with bad lines, each with its number, and writes nothing of it', async () => {
    const r = await upload(
      officer,
      [
        'facility_code,phone,name,language',
        'CSCOM-KLE,77 00 00 31,Sira Traoré,fr',
        'CSCOM-XXX,77 00 00 32,Modibo Keïta,fr',
        'CSCOM-KLE,+22377000001,Mariam Bis,fr',
        'CSCOM-KLE,77 00 00 31,Sira Encore,fr',
        'CSCOM-MPE,1234,Ab,en',
      ].join('\n'),
    );
    expect(r.status).toBe(400);
    expect(r.body).toContain("agents.csv : 4 ligne(s) sur 5 à corriger ; aucun agent n'a été importé.");
    const problems = [...r.body.matchAll(/<tr><td class="num">(\d+)<\/td><td>([^<]+)<\/td><\/tr>/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(problems).toEqual([
      '3 facility_code: établissement inconnu: CSCOM-XXX',
      '4 phone: déjà le numéro de l&#39;agent Mariam Diarra (CSCom de Kléla)',
      '5 phone: 77 00 00 31 est déjà à la ligne 2',
      '6 phone: numéro de mobile malien invalide (ex. 77 00 00 01 ou +22377000001); name: le nom de l&#39;agent est requis; language: fr (français) ou bm (bambara)',
    ]);
    expect(facilities().agentByPhone('+22377000031')).toBeUndefined();
    expect(audit('agents.import')).toEqual([]);

    const noColumns = await upload(officer, 'telephone,nom\n77000041,A B C\n');
    expect([noColumns.status, noColumns.body.includes('ligne 1: colonne(s) manquante(s) phone, name, language, facility_code')]).toEqual([
      400,
      true,
    ]);
    expect((await upload(officer, 'phone,name,language,facility_code\n', 'forged')).status).toBe(403);
  });
});
