/**
 * Registering a household at the office, editing it, its beneficiaries and its wallet, over real
 * HTTP: the errors come back next to their fields with what was typed, a concurrent edit is
 * detected, every write is audited, and the new member can then use USSD.
 */
import { describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.ts';
import { type Browser, eachTestLoggedIn, loggedIn } from './support.ts';

const NEW_PHONE = '+22376000123';

const FORM = {
  adherentName: 'Kadiatou Coulibaly',
  phone: '76 00 01 23',
  language: 'fr',
  mutuelleId: 'sik-klela',
  cardNumber: 'sik-kle-0123',
  joinedOn: '2026-01-02',
  b0_name: 'Kadiatou Coulibaly',
  b0_relation: 'adherent',
  b0_birthYear: '1988',
  b1_name: 'Seydou Coulibaly',
  b1_relation: 'child',
  b1_birthYear: '2015',
  b1_subsidised: 'on',
  b2_name: 'Mariam Coulibaly',
  b2_relation: 'child',
  b2_birthYear: '2019',
  b2_subsidised: 'on',
};

describe('registering and editing a household at the office', () => {
  let app: TestApp;
  let officer: Browser;
  eachTestLoggedIn('awa@utm.ml', 'officer', (a, b) => ((app = a), (officer = b)));

  // Without the accounts the tests themselves created.
  // The writes, without the logins and file openings that are audited too.
  const audit = () =>
    app.services.office.audit
      .list()
      .filter((r) => r.actor !== 'test' && !['login.success', 'household.view'].includes(r.action))
      .map((r) => r.action);
  const householdId = () => app.services.households.findByPhone(NEW_PHONE)?.id as number;

  it('registers a household of 3, links its wallet, and that phone then sees its coverage and can contribute', async () => {
    const res = await officer.post('/admin/households', FORM);
    expect(res.status, res.body).toBe(303);
    const id = householdId();
    expect(res.location).toBe(`/admin/households/${id}?ok=household-registered`);
    expect((await officer.get(res.location as string)).body).toContain('Ménage inscrit.');
    const record = app.services.households.load(id);
    expect(record?.household).toMatchObject({
      cardNumber: 'SIK-KLE-0123',
      adherentName: 'Kadiatou Coulibaly',
      phone: NEW_PHONE,
      mutuelleId: 'sik-klela',
    });
    expect(record?.beneficiaries.map((b) => [b.name, b.subsidised, b.active])).toEqual([
      ['Kadiatou Coulibaly', false, true],
      ['Seydou Coulibaly', true, true],
      ['Mariam Coulibaly', true, true],
    ]);

    // The new member reaches the menu and the coverage screen at once; no wallet is linked yet.
    expect((await app.hop('r-1', NEW_PHONE, '')).body).toContain('1 Ma couverture');
    // One adult at 500 FCFA a month, two subsidised children at 250.
    expect((await app.hop('r-1', NEW_PHONE, '1')).body).toBe(
      'CON Kadiatou Coulibaly: non couvert\nPayez 1 000 FCFA\npour commencer\n1 Bénéficiaires\n2 Cotiser\n0 Retour',
    );
    expect(app.services.households.hasWallet(NEW_PHONE)).toBe(false);

    const link = await officer.post(`/admin/households/${id}/wallets`, { msisdn: '76000123' });
    expect(link.location).toBe(`/admin/households/${id}?ok=wallet-linked`);
    expect(app.services.households.hasWallet(NEW_PHONE)).toBe(true);
    const again = await officer.post(`/admin/households/${id}/wallets`, { msisdn: NEW_PHONE });
    expect([again.status, again.body.includes(`Le portefeuille ${NEW_PHONE} est déjà lié à un ménage.`)]).toEqual([400, true]);

    // The member contributes: the quote shows amount, fee and total before anything moves.
    app.services.orange.seedWallet(NEW_PHONE, 10_000, '1234');
    // The first session was left open on the coverage: no resume offer, the main menu and its usual numbers.
    const menu = (await app.hop('r-2', NEW_PHONE, '')).body;
    expect(menu).toContain('2 Cotiser');
    expect(menu).not.toContain('7 ');
    const choose = await app.hop('r-2', NEW_PHONE, '2');
    expect(choose.body).toMatch(/^CON Cotiser par Orange Money\. Combien\?\n1 /);
    const quote = await app.hop('r-2', NEW_PHONE, '2*1');
    expect(quote.body).toMatch(/Somme: [\d ]+ FCFA\nFrais: [\d ]+ FCFA, par vous\nTotal: /);

    expect(audit()).toEqual(['wallet.link', 'household.register']);
    const page = await officer.get(`/admin/households/${id}`);
    expect(page.body).toContain(`Orange Money : ${NEW_PHONE}`);
  });

  it('shows every error next to its field, keeps what was typed, and writes nothing', async () => {
    const res = await officer.post('/admin/households', {
      ...FORM,
      phone: '12',
      cardNumber: 'SIK-KLE-0001',
      mutuelleId: 'nowhere',
      b1_birthYear: '1850',
      b2_name: '',
      b0_name: '',
    });
    expect(res.status).toBe(400);
    expect(res.body).toContain('numéro de mobile invalide');
    expect(res.body).toContain('ce numéro de carte existe déjà');
    expect(res.body).toContain('mutuelle inconnue: nowhere');
    expect(res.body).toContain('année de naissance invalide: 1850');
    expect(res.body).toContain('value="Kadiatou Coulibaly"'); // the adherent's name, kept
    expect(res.body).toContain('value="12"');
    expect(app.services.db.prepare('SELECT count(*) FROM households').pluck().get()).toBe(4);
    expect(audit()).toEqual([]);

    const taken = await officer.post('/admin/households', { ...FORM, phone: '+22376000001' });
    expect(taken.body).toContain('déjà le téléphone du ménage SIK-KLE-0001 (Moussa Traoré)');
  });

  it('detects a concurrent edit instead of overwriting it', async () => {
    await officer.post('/admin/households', FORM);
    const id = householdId();
    const other = await loggedIn(app, 'binta@utm.ml', 'officer');
    const formA = await officer.get(`/admin/households/${id}/edit`);
    const formB = await other.get(`/admin/households/${id}/edit`);
    const version = (html: string) => /name="version" value="(\d+)"/.exec(html)?.[1] as string;
    expect(version(formA.body)).toBe(version(formB.body));

    const edit = { adherentName: 'Kadiatou Coulibaly', phone: NEW_PHONE, language: 'bm', mutuelleId: 'sik-klela' };
    expect((await officer.post(`/admin/households/${id}/edit`, { ...edit, version: version(formA.body) })).status).toBe(303);
    const late = await other.post(`/admin/households/${id}/edit`, {
      ...edit,
      language: 'fr',
      mutuelleId: 'sik-niena',
      version: version(formB.body),
    });
    expect(late.status).toBe(409);
    expect(late.body).toContain('modifié entre-temps par quelqu&#39;un d&#39;autre');
    expect(app.services.households.load(id)?.household).toMatchObject({ language: 'bm', mutuelleId: 'sik-klela' });
    // Saved again with the version now shown, the move to another mutuelle goes through.
    const retried = await other.post(`/admin/households/${id}/edit`, { ...edit, mutuelleId: 'sik-niena', version: version(late.body) });
    expect(retried.status).toBe(303);
    expect(app.services.households.load(id)?.household.mutuelleName).toBe('Mutuelle Sabatili de Niéna');
    const moves = app.services.office.audit.list({ action: 'household.edit' });
    expect(moves.map((m) => m.actor)).toEqual(['binta@utm.ml', 'awa@utm.ml']);
    expect(JSON.parse(moves[0]?.after as string)).toMatchObject({ mutuelleId: 'sik-niena' });
  });

  it('adds and withdraws beneficiaries, which changes what the household owes', async () => {
    await officer.post('/admin/households', FORM);
    const id = householdId();
    const due = () => app.services.office.support(id, app.clock.now())?.coverage.remaining;
    const before = due() as number;
    await officer.post(`/admin/households/${id}/beneficiaries`, { name: 'Awa Coulibaly', relation: 'spouse', birthYear: '1990' });
    const withFour = due() as number;
    expect(withFour).toBeGreaterThan(before);
    const fourth = app.services.households.load(id)?.beneficiaries.find((b) => b.name === 'Awa Coulibaly');
    await officer.post(`/admin/households/${id}/beneficiaries/${fourth?.id}/active`, { active: '0' });
    expect(due()).toBe(before);
    expect(app.services.households.load(id)?.beneficiaries.filter((b) => b.active)).toHaveLength(3);
    expect(audit().slice(0, 2)).toEqual(['beneficiary.deactivate', 'beneficiary.add']);
    const bad = await officer.post(`/admin/households/${id}/beneficiaries`, { name: 'X', relation: 'cousin' });
    expect([bad.status, bad.body.includes('lien inconnu: cousin')]).toEqual([400, true]);
  });
});
