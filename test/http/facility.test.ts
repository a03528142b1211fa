/**
 * The facility menu over real HTTP, as a health facility's agent lives it on the same USSD code, and
 * the member's NON by SMS. Demo network, clock at Tuesday 2026-03-10 09:00 in Bamako: Moussa's
 * household (+22376000001, Sikasso, French) is covered until 30/04/2026, Aminata's (+22376000002)
 * lapsed, Bakary's (+22376000003, Koutiala, Bambara) covered until 31/03/2026. The CSCom de Kléla
 * (agent +22377000001, French) serves the Sikasso mutuelles only; the CSCom de M'Pessoba (agent
 * +22377000002, Bambara) the Koutiala ones.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Claim } from '../../src/db/claims.ts';
import { openDatabase } from '../../src/db/connection.ts';
import { createFacilityStore } from '../../src/db/facilities.ts';
import type { SimulatedSms } from '../../src/simulator/sms.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const KLELA_AGENT = '+22377000001';
const MPESSOBA_AGENT = '+22377000002';
const MOUSSA = '+22376000001';
const AMINATA = '+22376000002';
const BAKARY = '+22376000003';

let app: TestApp;
beforeEach(async () => {
  app = await startTestApp({ env: { SIMULATOR_DELIVERY_DELAY_MS: '600000' } });
});
afterEach(() => app.close());

/** Plays the inputs of one session from the dial; returns every screen. */
async function session(id: string, phone: string, inputs: string[]): Promise<string[]> {
  const screens: string[] = [];
  let text = '';
  for (const [i, input] of ['', ...inputs].entries()) {
    text = i === 0 ? '' : i === 1 ? input : `${text}*${input}`;
    const r = await app.hop(id, phone, text);
    expect(r.status).toBe(200);
    screens.push(r.body);
  }
  return screens;
}

/** The facility's claims, oldest first, whatever their review status. */
function claimsOf(agentPhone: string): Claim[] {
  const agent = app.services.facilities.agentByPhone(agentPhone);
  if (!agent) throw new Error(`${agentPhone} is no agent`);
  return app.services.claims.queue(agent.facilityId, 'pending');
}

async function inbox(phone: string): Promise<string[]> {
  await app.services.dispatcher.drain();
  const res = await fetch(`${app.url}/simulator/api/sms?phone=${encodeURIComponent(phone)}`);
  return ((await res.json()) as SimulatedSms[]).map((m) => m.text);
}

async function sms(from: string, text: string): Promise<void> {
  const res = await fetch(`${app.url}/simulator/api/sms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from, text }),
  });
  expect(res.status).toBe(202);
}

/** Moussa's wife Awa (the 2nd beneficiary), a consultation, up to the amount screen. */
const TO_AMOUNT = ['76000001', '2', '1'];

describe('who gets which menu on the same code', () => {
  it('an agent gets the facility menu; a member the main menu and any other number the joining menu, as before', async () => {
    expect((await session('m1', KLELA_AGENT, []))[0]).toBe('CON CSCom de Kléla\nTéléphone ou carte du membre:');
    expect((await session('m2', MPESSOBA_AGENT, []))[0]).toBe("CON CSCom de M'Pessoba\nTònden telefòni nimòrò walima a karti nimòrò:");
    expect((await session('m3', MOUSSA, []))[0]).toMatch(/^CON Kénéya Sabatili\n1 Ma couverture\n2 Cotiser/);
    expect((await session('m4', '+22370000099', []))[0]).toMatch(/^CON Kénéya Sabatili: numéro non inscrit\./);
  });

  it('an agent no longer active gets the member or joining menu again', async () => {
    const agent = app.services.facilities.agentByPhone(KLELA_AGENT);
    app.services.facilities.deactivateAgent(agent?.id ?? 0);
    expect((await session('d1', KLELA_AGENT, []))[0]).toMatch(/^CON Kénéya Sabatili: numéro non inscrit\./);
  });

  it('an agent registered meanwhile, here or by another connection (a CLI import), gets the facility menu at the next call', async () => {
    expect((await session('g1', '+22377000009', []))[0]).toMatch(/^CON Kénéya Sabatili: numéro non inscrit\./);
    const other = openDatabase(app.dbPath);
    try {
      const facilities = createFacilityStore(other);
      const klela = facilities.facilityByCode('CSCOM-KLE');
      facilities.addAgent({ facilityId: klela?.id ?? 0, phone: '+22377000009', name: 'Awa Sanogo', language: 'fr' }, app.clock.now());
    } finally {
      other.close();
    }
    expect((await session('g2', '+22377000009', []))[0]).toBe('CON CSCom de Kléla\nTéléphone ou carte du membre:');
    const mpessoba = app.services.facilities.facilityByCode('CSCOM-MPE');
    app.services.facilities.addAgent(
      { facilityId: mpessoba?.id ?? 0, phone: '+22377000008', name: 'Issa Koné', language: 'bm' },
      app.clock.now(),
    );
    expect((await session('g3', '+22377000008', []))[0]).toMatch(/^CON CSCom de M'Pessoba\n/);
  });
});

describe('checking a member', () => {
  it('finds a member by the card as well as by the phone, and shows nothing of the household but cover and patients', async () => {
    const byCard = await session('c1', KLELA_AGENT, ['sik-kle-0001']);
    const byPhone = await session('c2', KLELA_AGENT, ['76 00 00 01']);
    expect(byCard[1]).toBe(byPhone[1]);
    expect(byCard[1]).toBe(
      "CON Soins couverts: OUI\njusqu'au 30/04/2026\nPatient?\n1 Moussa 1979 OUI\n2 Awa 1985 OUI\n3 Fatoumata 2010 OUI\n4 Seydou 2014 OUI\n5 Kadiatou 2019 OUI\n0 Retour",
    );
    expect(byCard[1]).not.toMatch(/Traoré|Coulibaly|FCFA|Mutuelle/);
  });

  it('an unknown number is said so, on the same screen', async () => {
    const screens = await session('u1', KLELA_AGENT, ['76999999']);
    expect(screens[1]).toBe('CON Membre introuvable. Vérifiez le numéro.\nCSCom de Kléla\nTéléphone ou carte du membre:');
  });

  it('a lapsed member is a clear NON, and no visit can be recorded for any of the household', async () => {
    const screens = await session('l1', KLELA_AGENT, ['76000002', '2']);
    expect(screens[1]).toMatch(/^CON Soins couverts: NON\ncouverture finie le 31\/07\/2025\n1 Aminata 1990 NON\n2 Ibrahim 1986 NON/);
    expect(screens[2]).toBe(
      "CON Ibrahim 1986: soins NON couverts aujourd'hui. Aucune visite ne peut etre enregistrée.\n1 Membre suivant\n0 Retour",
    );
    expect(claimsOf(KLELA_AGENT)).toEqual([]);
  });

  it('a facility that does not serve the member’s mutuelle says so, and offers only the next member', async () => {
    const screens = await session('n1', KLELA_AGENT, [BAKARY, '1']);
    expect(screens[1]).toBe(
      "CON Membre de: Mutuelle Jigiya de M'Pessoba\nMutuelle non servie par ce centre: aucune visite à enregistrer.\n1 Membre suivant\n0 Retour",
    );
    expect(screens[2]).toBe('CON CSCom de Kléla\nTéléphone ou carte du membre:');
    expect(claimsOf(KLELA_AGENT)).toEqual([]);
  });
});

describe('recording a visit', () => {
  it('refuses an amount above the tariff with what is allowed, and one that is not a whole positive number', async () => {
    // Two refusals in a row; a third would offer a call-back, as on every screen.
    const screens = await session('a1', KLELA_AGENT, [...TO_AMOUNT, '1501', '1500,5', '1 500']);
    expect(screens[3]).toBe('CON Soins: consultation\nMontant pris en charge?\nMaximum 1 500 FCFA\n0 Retour');
    expect(screens[4]).toBe('CON Au-dessus du tarif: refusé.\nSoins: consultation\nMontant pris en charge?\nMaximum 1 500 FCFA\n0 Retour');
    expect(screens[5]).toMatch(/^CON Tapez un montant entier en chiffres\.\nSoins: consultation/);
    expect(screens[6]).toBe('CON Visite du 10/03/2026\nAwa 1985\nconsultation\n1 500 FCFA\n1 Enregistrer\n2 Annuler\n0 Retour');
    expect(claimsOf(KLELA_AGENT)).toEqual([]);
  });

  it('care paid per day: the days within the tariff, then at most the tariff times the days', async () => {
    const screens = await session('h1', KLELA_AGENT, ['76000001', '1', '3', '16', '3', '9001', '9000', '1']);
    expect(screens[3]).toBe('CON Soins: hospitalisation\nCombien de jours?\n1 à 15\n0 Retour');
    expect(screens[4]).toMatch(/^CON Nombre de jours refusé\.\nSoins: hospitalisation/);
    expect(screens[5]).toMatch(/Maximum 9 000 FCFA/);
    expect(screens[6]).toMatch(/^CON Au-dessus du tarif: refusé\./);
    expect(screens[7]).toBe(
      'CON Visite du 10/03/2026\nMoussa 1979\nhospitalisation, 3 jours\n9 000 FCFA\n1 Enregistrer\n2 Annuler\n0 Retour',
    );
    expect(screens[8]).toBe('CON Visite enregistrée, numéro 1. Le membre recoit un SMS.\n1 Membre suivant');
    expect(claimsOf(KLELA_AGENT).map((c) => [c.care, c.days, c.tariff, c.amount])).toEqual([['hospitalisation', 3, 3000, 9000]]);
  });

  it('records once whatever the retries of the confirming hop, with the facility, the agent and the day', async () => {
    const screens = await session('r1', KLELA_AGENT, [...TO_AMOUNT, '1500']);
    const confirm = `${TO_AMOUNT.join('*')}*1500*1`;
    const [a, b] = await Promise.all([app.hop('r1', KLELA_AGENT, confirm), app.hop('r1', KLELA_AGENT, confirm)]);
    const late = await app.hop('r1', KLELA_AGENT, confirm);
    expect(screens[4]).toMatch(/^CON Visite du 10\/03\/2026/);
    expect(a.body).toBe('CON Visite enregistrée, numéro 1. Le membre recoit un SMS.\n1 Membre suivant');
    expect(b.body).toBe(a.body);
    expect(late.body).toBe(a.body);
    const agent = app.services.facilities.agentByPhone(KLELA_AGENT);
    const claims = claimsOf(KLELA_AGENT);
    expect(claims).toHaveLength(1);
    expect(claims[0]).toMatchObject({ agentId: agent?.id, facilityId: agent?.facilityId, care: 'consultation', amount: 1500 });
    expect(claims[0]).toMatchObject({ visitOn: '2026-03-10', recordedAt: '2026-03-10T09:00:00.000Z', disputedAt: null });
    expect(await inbox(MOUSSA)).toHaveLength(1);

    // The next patient starts from the facility menu, in the same call.
    const next = await app.hop('r1', KLELA_AGENT, `${confirm}*1`);
    expect(next.body).toBe('CON CSCom de Kléla\nTéléphone ou carte du membre:');
  });

  it('texts the member in the household’s language, whatever the agent’s', async () => {
    await session('s1', KLELA_AGENT, [...TO_AMOUNT, '1500', '1']);
    expect(await inbox(MOUSSA)).toEqual([
      'Visite au CSCom de Kléla le 10/03/2026 pour Awa: consultation,\n1 500 FCFA pris en charge. Pas vous? Répondez NON',
    ]);

    const moussa = app.services.households.findByPhone(MOUSSA);
    app.services.households.setLanguage(moussa?.id ?? 0, 'bm', app.clock.now());
    const screens = await session('s2', KLELA_AGENT, ['76000001', '3', '1', '1000', '1']);
    expect(screens[5]).toBe('CON Visite enregistrée, numéro 2. Le membre recoit un SMS.\n1 Membre suivant');
    expect((await inbox(MOUSSA))[1]).toBe(
      "Taali CSCom de Kléla 10/03/2026, Fatoumata ye: lajèli, tòn bè\n1 000 FCFA sara. N'i tè, AYI ci.",
    );
  });

  it('checks cover and tariff again when recording: a confirmation made on an older screen records nothing', async () => {
    const agent = app.services.facilities.agentByPhone(KLELA_AGENT);
    const aminata = app.services.households.findByPhone(AMINATA);
    const moussa = app.services.households.findByPhone(MOUSSA);
    const beneficiaryOf = (householdId: number) => app.services.households.beneficiariesWithBirthYears(householdId)[0]?.id ?? 0;
    const visit = { agentId: agent?.id ?? 0, care: 'consultation' as const, days: 1, amount: 1500 };
    expect(
      app.services.visits.record({
        ...visit,
        requestKey: 'k1',
        householdId: aminata?.id ?? 0,
        beneficiaryId: beneficiaryOf(aminata?.id ?? 0),
      }),
    ).toEqual({ status: 'refused', reason: 'cover' });
    // A beneficiary of another household, an amount above the tariff.
    expect(
      app.services.visits.record({
        ...visit,
        requestKey: 'k2',
        householdId: moussa?.id ?? 0,
        beneficiaryId: beneficiaryOf(aminata?.id ?? 0),
      }),
    ).toEqual({ status: 'refused', reason: 'cover' });
    expect(
      app.services.visits.record({
        ...visit,
        requestKey: 'k3',
        householdId: moussa?.id ?? 0,
        beneficiaryId: beneficiaryOf(moussa?.id ?? 0),
        amount: 1501,
      }),
    ).toEqual({ status: 'refused', reason: 'tariff' });

    // The tariff lowered while the agent was on the confirmation screen.
    const screens = await session('t1', KLELA_AGENT, [...TO_AMOUNT, '1500']);
    expect(screens[4]).toMatch(/^CON Visite du/);
    app.services.facilities.setTariff('rural', {
      care: 'consultation',
      effectiveFrom: '2026-03-10',
      unit: 'visit',
      tariff: 1000,
      maxDays: 1,
    });
    const refused = await app.hop('t1', KLELA_AGENT, `${TO_AMOUNT.join('*')}*1500*1`);
    expect(refused.body).toBe('CON Visite non enregistrée: le tarif a changé. Recommencez.\n1 Membre suivant');
    expect(claimsOf(KLELA_AGENT)).toEqual([]);
    expect(await inbox(MOUSSA)).toEqual([]);
  });
});

describe('the member answers NON', () => {
  it('flags the household’s latest visit and thanks the member; with nothing left to flag, the help text', async () => {
    await session('v1', KLELA_AGENT, [...TO_AMOUNT, '1500', '1']);
    app.clock.set(new Date('2026-03-11T08:00:00Z'));
    await sms(MOUSSA, 'Non');
    const [claim] = claimsOf(KLELA_AGENT);
    expect(claim?.disputedAt).toBe('2026-03-11T08:00:00.000Z');
    await sms(MOUSSA, 'NON');
    const texts = await inbox(MOUSSA);
    expect(texts.slice(1)).toEqual([
      'Merci. UTM vérifiera cette visite et vous appellera si besoin.',
      expect.stringMatching(/^Kénéya Sabatili\. Envoyez: SOLDE/),
    ]);
    expect(app.services.inbound.recent({ sender: MOUSSA }).map((t) => t.keyword)).toEqual(['dispute', 'dispute']);
  });

  it('in Bambara: AYI to a visit recorded at M’Pessoba', async () => {
    await session('v2', MPESSOBA_AGENT, [BAKARY, '6', '1', '1500', '1']);
    await sms(BAKARY, 'ayi');
    expect(claimsOf(MPESSOBA_AGENT)[0]?.disputedAt).not.toBeNull();
    expect((await inbox(BAKARY))[1]).toBe('I ni ce. UTM bèna taali in lajè, a bèna i wele ni a magoya bè.');
  });

  it('a visit older than 7 days is not flagged, nor one of another household', async () => {
    await session('v3', KLELA_AGENT, [...TO_AMOUNT, '1500', '1']);
    await sms(AMINATA, 'NON');
    expect((await inbox(AMINATA))[0]).toMatch(/^Kénéya Sabatili\. Envoyez: SOLDE/);
    expect(await inbox(MOUSSA)).toHaveLength(1);
    app.clock.set(new Date('2026-03-17T09:00:01Z'));
    await sms(MOUSSA, 'NON');
    expect(claimsOf(KLELA_AGENT)[0]?.disputedAt).toBeNull();
    expect((await inbox(MOUSSA))[1]).toMatch(/^Kénéya Sabatili\. Envoyez: SOLDE/);
  });
});
