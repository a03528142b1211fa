/**
 * Keywords end to end, as a member lives them: a simulated phone texts the app through the simulator
 * API (posted to /sms/inbound as the gateway would), the real dispatcher drains the outbox through
 * the simulator transport, and the answer is read back from the phone's inbox
 * (`GET /simulator/api/sms?phone=`), exactly as folded for the wire.
 *
 * Each test has a fresh app (demo network, clock at Tuesday 2026-03-10 09:00 in Bamako, UTC+0).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SimulatedSms } from '../../src/simulator/sms.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const MOUSSA = '+22376000001'; // French, covered
const AMINATA = '+22376000002'; // French, lapsed
const BAKARY = '+22376000003'; // Bambara, covered
const HAWA = '+22366000004'; // French, on Moov
const UNKNOWN = '+22370123456'; // not registered

// What the phones receive (folded to GSM-7: é stays, ɔ→ò, ɛ→è, ɲ→ny, ç→c, ê→e).
const COVERAGE = {
  moussa:
    "Kénéya Sabatili: Moussa Traoré, votre ménage (5 pers.) est couvert jusqu'au 30/04/2026. Reste\n1 250 FCFA pour mai. Menu: *384*123#",
  aminata:
    "Kénéya Sabatili: Aminata Sangaré, votre ménage n'est pas couvert (fin le 31/07/2025). Payez 500 FCFA pour reprendre. Menu: *384*123#",
  bakary: 'Kénéya Sabatili: Bakary Diarra, i ka denbaya (mògò 6) lakanalen don fo 31/03/2026. Wari tò 2 000 FCFA awirili kama. *384*123#',
  hawa: "Kénéya Sabatili: Hawa Konaté, votre ménage (2 pers.) est couvert jusqu'au 31/03/2026. Reste\n1 100 FCFA pour avril. Menu: *384*123#",
};
const STOPPED = {
  fr: "Vous ne recevrez plus d'alertes ni d'informations. Les recus de paiement et les réponses à vos demandes restent envoyés. Envoyez ALERTES pour reprendre.",
  bm: 'Hakilijigin ni kunnafoni tèna na tugun. Seereyasèbèn ni i ka nyininkaliw jaabi bè na hali bi. HAKILIJIGIN ci ka a daminè kura.',
};
const STARTED = {
  fr: 'Alertes et informations de la mutuelle réactivées. Envoyez STOP pour ne plus les recevoir.',
  bm: 'Tòn ka hakilijigin ni kunnafoni daminèna kura. DABILA ci ka u dabila.',
};
const HELP = {
  fr: "Kénéya Sabatili. Envoyez: SOLDE (couverture), APPELEZ (UTM vous appelle), STOP (plus d'alertes), ALERTES (les reprendre). Couverture: *384*123*1#",
  bm: 'Kénéya Sabatili. A ci: LAKANA (lakanali), WELE (UTM bè i wele), DABILA (hakilijigin dabila), DAMINE (a daminè). Lakanali: *384*123*1# wele',
};
const JOIN = {
  fr: "Kénéya Sabatili: ce numéro n'est pas inscrit. La mutuelle paie une grande part de vos soins. Composez *384*123# pour savoir comment adhérer.",
  bm: 'Kénéya Sabatili: i ka nimòrò ma sèbèn tòn na. Tòn bè i ka furakèli musaka caman sara. *384*123# wele ka a dòn i bè don cogo min na.',
};
const callback = {
  fr: (date: string) => `Merci. Un agent UTM vous appellera le ${date} avant 17h.`,
  bm: (date: string) => `I ni ce. UTM bèna i wele ${date} sani 17h.`,
};
const callbackAlready = {
  fr: (since: string, date: string) => `Votre demande du ${since} est déjà enregistrée. UTM vous appellera le ${date} avant 17h.`,
  bm: (since: string, date: string) => `I ka nyinini ${since} sèbènna ka ban. UTM bèna i wele ${date} sani 17h.`,
};

let app: TestApp;
beforeEach(async () => {
  // The simulator's delivery reports are left for the test that waits for them.
  app = await startTestApp({ env: { SIMULATOR_DELIVERY_DELAY_MS: '600000' } });
});
afterEach(() => app.close());

async function inbox(phone: string): Promise<SimulatedSms[]> {
  const res = await fetch(`${app.url}/simulator/api/sms?phone=${encodeURIComponent(phone)}`);
  expect(res.status).toBe(200);
  return (await res.json()) as SimulatedSms[];
}

/** Messages that reached the phone since `before` (compared by id, not by position in the inbox). */
async function newIn(phone: string, before: SimulatedSms[]): Promise<SimulatedSms[]> {
  const seen = new Set(before.map((m) => m.id));
  return (await inbox(phone)).filter((m) => !seen.has(m.id));
}

/** Sends everything due, then returns the texts that reached `phone` meanwhile. */
async function drainTo(phone: string): Promise<string[]> {
  const before = await inbox(phone);
  await app.services.dispatcher.drain();
  return (await newIn(phone, before)).map((m) => m.text);
}

/** `from` texts the app through the simulator; returns the texts its phone received in answer. */
async function sms(from: string, text: string): Promise<string[]> {
  const before = await inbox(from);
  const res = await fetch(`${app.url}/simulator/api/sms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from, text }),
  });
  expect(res.status).toBe(202);
  expect(await res.json()).toMatchObject({ id: expect.stringMatching(/^SIMIN-/), gatewayStatus: 200 });
  await app.services.dispatcher.drain();
  return (await newIn(from, before)).map((m) => m.text);
}

/** What `sms_inbound` kept of the texts a phone sent, oldest first. */
const received = (phone: string) =>
  app.services.db
    .prepare('SELECT text, keyword, household_id AS householdId FROM sms_inbound WHERE sender = ? ORDER BY id')
    .all(phone) as Array<{ text: string; keyword: string | null; householdId: number | null }>;

const callbacksOf = (phone: string) =>
  app.services.db
    .prepare(
      'SELECT household_id AS householdId, reason, channel, status, promised_by AS promisedBy, created_at AS createdAt FROM callback_requests WHERE phone = ?',
    )
    .all(phone);

/** A reminder, a campaign message and a receipt for `phone`: what the outbox made of each. */
function enqueueEachKind(phone: string) {
  const outbox = app.services.outbox;
  return {
    reminder: outbox.enqueue({ to: phone, text: 'Kénéya Sabatili: votre couverture finit bientôt.', lang: 'fr', kind: 'reminder' }).status,
    campaign: outbox.enqueue({
      to: phone,
      text: 'Kénéya Sabatili: journée de sensibilisation samedi.',
      lang: 'fr',
      kind: 'campaign',
      campaignId: 1,
    }).status,
    receipt: outbox.enqueue({ to: phone, text: 'Kénéya Sabatili: paiement de 3 500 FCFA reçu.', lang: 'fr', kind: 'transactional' }).status,
  };
}

describe('coverage keywords', () => {
  it('SOLDE from +22376000001: the coverage SMS lands in its inbox', async () => {
    expect(await sms(MOUSSA, 'SOLDE')).toEqual([COVERAGE.moussa]);
    const [message] = await inbox(MOUSSA);
    expect(message).toMatchObject({
      to: MOUSSA,
      from: null,
      text: COVERAGE.moussa,
      segments: 1,
      status: 'Sent',
      createdAt: '2026-03-10T09:00:00.000Z',
    });
    expect(received(MOUSSA)).toEqual([{ text: 'SOLDE', keyword: 'coverage', householdId: 1 }]);
    expect(app.services.outbox.to(MOUSSA)).toMatchObject([
      { text: COVERAGE.moussa, kind: 'transactional', status: 'sent', segments: 1, encoding: 'GSM-7' },
    ]);
  });

  it('lakana from +22376000003: the Bambara coverage SMS', async () => {
    expect(await sms(BAKARY, 'lakana')).toEqual([COVERAGE.bakary]);
    expect(received(BAKARY)).toEqual([{ text: 'lakana', keyword: 'coverage', householdId: 3 }]);
  });

  it('answers in the member’s language, whatever the language of the keyword', async () => {
    expect(await sms(BAKARY, 'SOLDE')).toEqual([COVERAGE.bakary]);
    expect(await sms(MOUSSA, 'lakana')).toEqual([COVERAGE.moussa]);
  });

  it('a lapsed member gets what restarts the coverage; a Moov member is answered too', async () => {
    expect(await sms(AMINATA, 'COUVERTURE')).toEqual([COVERAGE.aminata]);
    expect(await sms(HAWA, 'solde')).toEqual([COVERAGE.hawa]);
  });

  it.each([
    ['Solde', MOUSSA, COVERAGE.moussa],
    ['sOlDe svp', MOUSSA, COVERAGE.moussa],
    ['COUVERTRE', MOUSSA, COVERAGE.moussa],
    ['  couverture ?', MOUSSA, COVERAGE.moussa],
    ['Lakanali', BAKARY, COVERAGE.bakary],
    ['ARRÊT', MOUSSA, STOPPED.fr],
    ['arrêter', MOUSSA, STOPPED.fr],
    ['Stop!', MOUSSA, STOPPED.fr],
    ['Dabila', BAKARY, STOPPED.bm],
    ['Reprendre', MOUSSA, STARTED.fr],
    ['démarrer', MOUSSA, STARTED.fr],
    ['Aide', MOUSSA, HELP.fr],
  ])('case, accents and typos: %j from %s', async (text, from, answer) => {
    expect(await sms(from, text)).toEqual([answer]);
  });
});

describe('STOP and START', () => {
  it.each([
    { who: 'French member', phone: MOUSSA, stop: 'STOP', start: 'START', lang: 'fr' as const },
    { who: 'French member', phone: MOUSSA, stop: 'ARRET', start: 'REPRENDRE', lang: 'fr' as const },
    { who: 'Bambara member', phone: BAKARY, stop: 'dabila', start: 'damine', lang: 'bm' as const },
    { who: 'Bambara member, French keywords', phone: BAKARY, stop: 'STOP', start: 'START', lang: 'bm' as const },
    { who: 'French member, Bambara keywords', phone: MOUSSA, stop: 'dabila', start: 'damine', lang: 'fr' as const },
    { who: 'unregistered number, Bambara keywords', phone: UNKNOWN, stop: 'dabila', start: 'damine', lang: 'bm' as const },
    { who: 'unregistered number, French keywords', phone: UNKNOWN, stop: 'STOP', start: 'START', lang: 'fr' as const },
  ])('$stop then $start from a $who ($lang answers)', async ({ phone, stop, start, lang }) => {
    expect(await sms(phone, stop)).toEqual([STOPPED[lang]]);
    expect(app.services.outbox.isOptedOut(phone)).toBe(true);
    // Reminders and campaigns are refused; a receipt still goes.
    expect(enqueueEachKind(phone)).toEqual({ reminder: 'opted-out', campaign: 'opted-out', receipt: 'queued' });
    expect(await drainTo(phone)).toEqual(['Kénéya Sabatili: paiement de\n3 500 FCFA recu.']);

    expect(await sms(phone, start)).toEqual([STARTED[lang]]);
    expect(app.services.outbox.isOptedOut(phone)).toBe(false);
    expect(enqueueEachKind(phone)).toEqual({ reminder: 'queued', campaign: 'queued', receipt: 'queued' });
    expect((await drainTo(phone)).sort()).toEqual([
      'Kénéya Sabatili: journée de sensibilisation samedi.',
      'Kénéya Sabatili: paiement de\n3 500 FCFA recu.',
      'Kénéya Sabatili: votre couverture finit bientot.',
    ]);
    expect(received(phone).map((r) => r.keyword)).toEqual(['stop', 'start']);
  });

  it('STOP twice: confirmed twice, still opted out; answers to the member’s own requests still go', async () => {
    expect(await sms(MOUSSA, 'STOP')).toEqual([STOPPED.fr]);
    expect(await sms(MOUSSA, 'STOP')).toEqual([STOPPED.fr]);
    expect(await sms(MOUSSA, 'SOLDE')).toEqual([COVERAGE.moussa]);
    expect(app.services.outbox.isOptedOut(MOUSSA)).toBe(true);
  });
});

describe('APPELEZ: a call-back request', () => {
  it('APPELEZ creates one request and answers with the day; a second one says it is already registered', async () => {
    expect(await sms(MOUSSA, 'APPELEZ')).toEqual([callback.fr('10/03/2026')]);
    const expected = [
      {
        householdId: 1,
        reason: 'other',
        channel: 'sms',
        status: 'open',
        promisedBy: '2026-03-10T17:00:00.000Z',
        createdAt: '2026-03-10T09:00:00.000Z',
      },
    ];
    expect(callbacksOf(MOUSSA)).toEqual(expected);

    expect(await sms(MOUSSA, 'Appelez-moi')).toEqual([callbackAlready.fr('10/03/2026', '10/03/2026')]);
    expect(callbacksOf(MOUSSA)).toEqual(expected);
    expect(received(MOUSSA).map((r) => r.keyword)).toEqual(['callback', 'callback']);
  });

  it('wele from the Bambara member: the same, in Bambara', async () => {
    expect(await sms(BAKARY, 'wele')).toEqual([callback.bm('10/03/2026')]);
    expect(await sms(BAKARY, 'WELE')).toEqual([callbackAlready.bm('10/03/2026', '10/03/2026')]);
    expect(callbacksOf(BAKARY)).toEqual([
      {
        householdId: 3,
        reason: 'other',
        channel: 'sms',
        status: 'open',
        promisedBy: '2026-03-10T17:00:00.000Z',
        createdAt: '2026-03-10T09:00:00.000Z',
      },
    ]);
  });

  it.each([
    ['Tuesday 14:59, before the cut-off: the same day', '2026-03-10T14:59:00Z', '10/03/2026', '2026-03-10T17:00:00.000Z'],
    ['Tuesday 15:00, at the cut-off: the next day', '2026-03-10T15:00:00Z', '11/03/2026', '2026-03-11T17:00:00.000Z'],
    ['Friday evening: Monday', '2026-03-13T18:30:00Z', '16/03/2026', '2026-03-16T17:00:00.000Z'],
    ['Saturday morning: Monday', '2026-03-14T08:00:00Z', '16/03/2026', '2026-03-16T17:00:00.000Z'],
    ['Sunday night: Monday', '2026-03-15T23:59:00Z', '16/03/2026', '2026-03-16T17:00:00.000Z'],
  ])('%s', async (_when, now, day, promisedBy) => {
    app.clock.set(now);
    expect(await sms(HAWA, 'appelez')).toEqual([callback.fr(day)]);
    expect(callbacksOf(HAWA)).toMatchObject([{ promisedBy, createdAt: new Date(now).toISOString() }]);
  });

  it('asked on Friday evening, asked again on Saturday: the Friday request and its Monday promise', async () => {
    app.clock.set('2026-03-13T18:30:00Z');
    expect(await sms(MOUSSA, 'RAPPELEZ-MOI')).toEqual([callback.fr('16/03/2026')]);
    app.clock.set('2026-03-14T10:00:00Z');
    expect(await sms(MOUSSA, 'rappelez svp')).toEqual([callbackAlready.fr('13/03/2026', '16/03/2026')]);
    expect(callbacksOf(MOUSSA)).toHaveLength(1);
  });

  it('an unregistered number: a registration call-back, in the keyword’s language', async () => {
    expect(await sms(UNKNOWN, 'wele')).toEqual([callback.bm('10/03/2026')]);
    expect(callbacksOf(UNKNOWN)).toEqual([
      {
        householdId: null,
        reason: 'registration',
        channel: 'sms',
        status: 'open',
        promisedBy: '2026-03-10T17:00:00.000Z',
        createdAt: '2026-03-10T09:00:00.000Z',
      },
    ]);
  });
});

describe('RAPPEL, which meant both the alerts and a call-back', () => {
  const WHICH =
    'Kénéya Sabatili: pour etre appelé par UTM, envoyez APPELEZ. Pour recevoir les alertes SMS, envoyez ALERTES. Ou composez *384*123#';

  it('RAPPEL (and APPEL, one letter away) only asks which was meant: no call-back is queued, the alerts stay as they were', async () => {
    await sms(MOUSSA, 'STOP');
    expect(await sms(MOUSSA, 'RAPPEL')).toEqual([WHICH]);
    expect(await sms(MOUSSA, 'rappels svp')).toEqual([WHICH]);
    expect(await sms(MOUSSA, 'Appel')).toEqual([WHICH]);
    expect(callbacksOf(MOUSSA)).toEqual([]);
    expect(app.services.outbox.isOptedOut(MOUSSA)).toBe(true);
    expect(received(MOUSSA).map((r) => r.keyword)).toEqual(['stop', 'ambiguous', 'ambiguous', 'ambiguous']);
  });

  it('ALERTES turns the alerts back on after STOP; HAKILIJIGIN in Bambara', async () => {
    await sms(MOUSSA, 'STOP');
    expect(await sms(MOUSSA, 'Alertes')).toEqual([STARTED.fr]);
    expect(app.services.outbox.isOptedOut(MOUSSA)).toBe(false);
    await sms(BAKARY, 'DABILA');
    expect(await sms(BAKARY, 'hakilijigin')).toEqual([STARTED.bm]);
    expect(app.services.outbox.isOptedOut(BAKARY)).toBe(false);
    expect(callbacksOf(MOUSSA)).toEqual([]);
  });
});

describe('help, unknown texts and unregistered senders', () => {
  it('an unknown text gets the help answer and stays in sms_inbound with keyword NULL', async () => {
    expect(await sms(MOUSSA, 'Bonjour, je veux payer pour ma femme')).toEqual([HELP.fr]);
    expect(await sms(BAKARY, 'I ni ce, n bɛ se ka sara cogo di?')).toEqual([HELP.bm]);
    expect(received(MOUSSA)).toEqual([{ text: 'Bonjour, je veux payer pour ma femme', keyword: null, householdId: 1 }]);
    expect(received(BAKARY)).toEqual([{ text: 'I ni ce, n bɛ se ka sara cogo di?', keyword: null, householdId: 3 }]);
    const unmatched = app.services.db.prepare('SELECT sender FROM sms_inbound WHERE keyword IS NULL ORDER BY id').pluck().all();
    expect(unmatched).toEqual([MOUSSA, BAKARY]);
  });

  it('AIDE and deme: the list of keywords and the USSD code', async () => {
    expect(await sms(MOUSSA, 'AIDE')).toEqual([HELP.fr]);
    expect(await sms(BAKARY, 'deme')).toEqual([HELP.bm]);
    expect(received(MOUSSA)).toEqual([{ text: 'AIDE', keyword: 'help', householdId: 1 }]);
  });

  it('an unregistered number texting SOLDE gets the joining information', async () => {
    expect(await sms(UNKNOWN, 'SOLDE')).toEqual([JOIN.fr]);
    expect(received(UNKNOWN)).toEqual([{ text: 'SOLDE', keyword: 'coverage', householdId: null }]);
  });

  it('an unregistered number: lakana gets it in Bambara, any other text in French', async () => {
    expect(await sms(UNKNOWN, 'lakana')).toEqual([JOIN.bm]);
    expect(await sms(UNKNOWN, 'bonjour')).toEqual([JOIN.fr]);
    expect(await sms(UNKNOWN, 'AIDE')).toEqual([JOIN.fr]);
  });
});

describe('delivery reports from the simulator', () => {
  it('come back through POST /sms/delivery: delivered, or failed for a phone switched off', async () => {
    await app.close();
    app = await startTestApp({ env: { SIMULATOR_DELIVERY_DELAY_MS: '0', SIMULATOR_ABSENT_PHONES: HAWA } });
    expect(await sms(MOUSSA, 'SOLDE')).toEqual([COVERAGE.moussa]);
    expect(await sms(HAWA, 'SOLDE')).toEqual([COVERAGE.hawa]);
    await vi.waitFor(() => {
      expect(app.services.outbox.to(MOUSSA)).toMatchObject([{ status: 'delivered' }]);
      expect(app.services.outbox.to(HAWA)).toMatchObject([{ status: 'failed', lastError: 'AbsentSubscriber: AbsentSubscriber' }]);
    });
    expect((await inbox(MOUSSA)).map((m) => m.status)).toEqual(['Success']);
    expect((await inbox(HAWA)).map((m) => m.status)).toEqual(['AbsentSubscriber']);
  });
});
