/**
 * How the USSD route behaves across the hops of a session, as the gateway drives it: retries,
 * the input of each hop, invalid inputs, navigation, and many sessions at once.
 * Every hop of every test is checked, screen by screen, against the 160-septet budget.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readDemoData, seedDemo } from '../../src/db/seed.ts';
import { SCREEN_SEPTETS, septets } from '../../src/i18n/gsm7.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const MOUSSA = '+22376000001';

const screen = (...lines: string[]) => lines.join('\n');

const MAIN_MENU = screen(
  'CON Kénéya Sabatili',
  '1 Ma couverture',
  '2 Cotiser',
  '3 Mes paiements',
  '4 Alertes SMS',
  '5 Etre rappelé par UTM',
  '6 Langue / Kan',
);
const MAIN_MENU_LINES = MAIN_MENU.slice('CON '.length);
const COVERAGE_LINES = [
  'Moussa Traoré, 5 pers.',
  "Couvert jusqu'au 30/04/2026",
  'Reste 1 250 FCFA pour mai',
  '1 Bénéficiaires',
  '2 Cotiser',
  '0 Retour',
];
const COVERAGE = screen(`CON ${COVERAGE_LINES[0]}`, ...COVERAGE_LINES.slice(1));
const BENEFICIARIES = screen(
  'CON Bénéficiaires (5):',
  'Moussa Traoré: couvert',
  'Awa Coulibaly: couvert',
  'Fatoumata Traoré: couvert',
  'Seydou Traoré: couvert',
  'Kadiatou Traoré: couvert',
  '0 Retour 00 Menu',
);
const CALLBACK_REASON = screen(
  'CON UTM vous rappelle. Pour quelle raison?',
  '1 Problème de paiement',
  '2 Question sur ma couverture',
  '3 Inscription',
  '4 Autre',
  '0 Retour',
);
const CALLBACK_QUEUED = 'END Merci. Un agent UTM vous appellera le 10/03/2026 avant 17h.';
const HISTORY_PAGE_1 = screen(
  'CON Mes paiements (7):',
  '01/03/2026',
  '4 000 FCFA Orange Money',
  '02/01/2026',
  '3 500 FCFA Orange Money',
  '04/11/2025',
  '3 500 FCFA Orange Money',
  '98 Suite 0 Retour',
);
const HISTORY_PAGE_2 = screen(
  'CON Mes paiements (7):',
  '01/09/2025',
  '3 500 FCFA Orange Money',
  '05/07/2025',
  '3 500 FCFA Orange Money',
  '02/05/2025',
  '3 500 FCFA Orange Money',
  '98 Suite 0 Retour',
);
const HISTORY_PAGE_3 = screen('CON Mes paiements (7):', '03/03/2025', '3 500 FCFA espèces', '0 Retour');
const TOO_MANY = "END Trop d'erreurs. Recomposez *384*123# quand vous voulez. Merci.";
const HELP = screen("CON Trop d'erreurs. UTM peut vous rappeler.", '1 Etre rappelé par UTM', '00 Menu');

/** The gateway's hop; every answer is a 200 with a screen that fits a handset. */
async function hop(app: TestApp, sessionId: string, phone: string, text: string): Promise<string> {
  const res = await app.hop(sessionId, phone, text);
  expect(res.status, res.body).toBe(200);
  expect(res.body).toMatch(/^(CON|END) /);
  expect(septets(res.body.slice(4)), res.body).toBeLessThanOrEqual(SCREEN_SEPTETS);
  return res.body;
}

/** Plays the cumulative texts of one session in order and returns every screen. */
async function play(app: TestApp, sessionId: string, phone: string, texts: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const text of texts) out.push(await hop(app, sessionId, phone, text));
  return out;
}

const callbackCount = (app: TestApp) => app.services.db.prepare('SELECT COUNT(*) FROM callback_requests').pluck().get();

describe('USSD hops', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await startTestApp();
  });
  afterEach(() => app.close());

  describe('a gateway retry of the same (sessionId, text)', () => {
    it('gets the identical body, does not count a hop and does not queue a second call-back', async () => {
      expect(await play(app, 'retry-1', MOUSSA, ['', '5', '5*1'])).toEqual([MAIN_MENU, CALLBACK_REASON, CALLBACK_QUEUED]);
      expect(app.services.sessions.get('retry-1')).toMatchObject({ hops: 3, status: 'ended' });
      expect(callbackCount(app)).toBe(1);

      expect(await hop(app, 'retry-1', MOUSSA, '5*1')).toBe(CALLBACK_QUEUED);
      expect(app.services.sessions.get('retry-1')).toMatchObject({ hops: 3, lastText: '5*1' });
      expect(callbackCount(app)).toBe(1);
    });

    it('of a screen that continues gets the same page, and the next hop carries on from there', async () => {
      expect(await play(app, 'retry-2', MOUSSA, ['', '3', '3*98'])).toEqual([MAIN_MENU, HISTORY_PAGE_1, HISTORY_PAGE_2]);
      expect(await hop(app, 'retry-2', MOUSSA, '3*98')).toBe(HISTORY_PAGE_2);
      expect(app.services.sessions.get('retry-2')).toMatchObject({ hops: 3, page: 1, invalid: 0 });
      expect(await hop(app, 'retry-2', MOUSSA, '3*98*98')).toBe(HISTORY_PAGE_3);
    });

    it('sent twice at once gets the same screen twice, one hop and one call-back', async () => {
      await play(app, 'retry-3', MOUSSA, ['', '5']);
      const [first, second] = await Promise.all([app.hop('retry-3', MOUSSA, '5*1'), app.hop('retry-3', MOUSSA, '5*1')]);
      expect([first, second]).toEqual([
        { status: 200, body: CALLBACK_QUEUED },
        { status: 200, body: CALLBACK_QUEUED },
      ]);
      expect(app.services.sessions.get('retry-3')).toMatchObject({ hops: 3 });
      expect(callbackCount(app)).toBe(1);
    });
  });

  describe('the input of a hop is what follows the text already answered', () => {
    it('takes "1" after "" and "1" again after "1"', async () => {
      expect(await play(app, 'suffix-1', MOUSSA, ['', '1'])).toEqual([MAIN_MENU, COVERAGE]);
      expect(app.services.sessions.get('suffix-1')).toMatchObject({ machine: 'coverage', lastText: '1', hops: 2 });
      expect(await hop(app, 'suffix-1', MOUSSA, '1*1')).toBe(BENEFICIARIES);
    });

    it('answers a text that does not extend the previous one with an error line and the same screen', async () => {
      await play(app, 'suffix-2', MOUSSA, ['', '1']);
      expect(await hop(app, 'suffix-2', MOUSSA, '2*3')).toBe(screen('CON Non compris.', ...COVERAGE_LINES));
      expect(app.services.sessions.get('suffix-2')).toMatchObject({ machine: 'coverage', invalid: 1, status: 'open', lastText: '1' });
      // The out-of-step text is not kept: the next good hop still lines up with what was answered.
      expect(await hop(app, 'suffix-2', MOUSSA, '1*1')).toBe(BENEFICIARIES);
    });

    it('answers a late retry of an earlier hop with the current screen, counting nothing', async () => {
      await play(app, 'suffix-3', MOUSSA, ['', '1']);
      expect(await hop(app, 'suffix-3', MOUSSA, '')).toBe(COVERAGE);
      expect(app.services.sessions.get('suffix-3')).toMatchObject({ hops: 2, invalid: 0, lastText: '1' });
      expect(await hop(app, 'suffix-3', MOUSSA, '1*1')).toBe(BENEFICIARIES);
    });
  });

  describe('invalid inputs', () => {
    it('say what to type; three in a row offer a call-back instead of cutting the member off', async () => {
      const invalid = screen('CON Tapez 1 à 6.', MAIN_MENU_LINES);
      expect(await play(app, 'invalid-1', MOUSSA, ['', '7', '7*8', '7*8*9'])).toEqual([MAIN_MENU, invalid, invalid, HELP]);
      expect(app.services.sessions.get('invalid-1')).toMatchObject({ status: 'open', machine: '@help', invalid: 0 });
    });

    it('after the call-back offer, 1 files a call-back under the reason of the flow the member was stuck in', async () => {
      const screens = await play(app, 'invalid-cb', MOUSSA, ['', '2', '2*9', '2*9*9', '2*9*9*9', '2*9*9*9*1']);
      expect(screens[4]).toBe(HELP);
      expect(screens[5]).toMatch(/^END Merci\. Un agent UTM vous appellera le /);
      expect(callbackCount(app)).toBe(1);
      expect(app.services.db.prepare('SELECT reason FROM callback_requests').pluck().get()).toBe('payment');
    });

    it('after the call-back offer, 0 or 00 shows the menu, and three more mistakes end politely', async () => {
      expect((await play(app, 'invalid-home', MOUSSA, ['', '7', '7*7', '7*7*7', '7*7*7*0'])).at(-1)).toBe(MAIN_MENU);
      const more = await play(app, 'invalid-end', MOUSSA, ['', '7', '7*7', '7*7*7', '7*7*7*5', '7*7*7*5*5', '7*7*7*5*5*5']);
      expect(more.slice(3)).toEqual([
        HELP,
        screen('CON Tapez 1.', HELP.slice('CON '.length)),
        screen('CON Tapez 1.', HELP.slice('CON '.length)),
        TOO_MANY,
      ]);
      expect(app.services.sessions.get('invalid-end')).toMatchObject({ status: 'ended' });
      expect(callbackCount(app)).toBe(0);
    });

    it('are counted again from zero after a valid input', async () => {
      const screens = await play(app, 'invalid-2', MOUSSA, ['', '7', '7*8', '7*8*1', '7*8*1*7', '7*8*1*7*8']);
      expect(screens.slice(3)).toEqual([
        COVERAGE,
        screen('CON Tapez 1 à 2.', ...COVERAGE_LINES),
        screen('CON Tapez 1 à 2.', ...COVERAGE_LINES),
      ]);
      expect(app.services.sessions.get('invalid-2')).toMatchObject({ status: 'open', invalid: 2 });
    });
  });

  describe('navigation', () => {
    it('0 goes back one screen, and from the first screen of a flow back to the main menu', async () => {
      expect(await play(app, 'nav-1', MOUSSA, ['', '1', '1*1', '1*1*0', '1*1*0*0'])).toEqual([
        MAIN_MENU,
        COVERAGE,
        BENEFICIARIES,
        COVERAGE,
        MAIN_MENU,
      ]);
    });

    it('00 goes to the main menu from anywhere', async () => {
      expect(await play(app, 'nav-2', MOUSSA, ['', '1', '1*1', '1*1*00'])).toEqual([MAIN_MENU, COVERAGE, BENEFICIARIES, MAIN_MENU]);
      expect(app.services.sessions.get('nav-2')).toMatchObject({ machine: 'main', page: 0, invalid: 0 });
    });

    it('98 pages forward, and on the last page shows it again without counting a mistake; 0 then goes back a page', async () => {
      expect(await play(app, 'nav-3', MOUSSA, ['', '3', '3*98', '3*98*98', '3*98*98*98', '3*98*98*98*0', '3*98*98*98*0*00'])).toEqual([
        MAIN_MENU,
        HISTORY_PAGE_1,
        HISTORY_PAGE_2,
        HISTORY_PAGE_3,
        HISTORY_PAGE_3,
        HISTORY_PAGE_2,
        MAIN_MENU,
      ]);
    });

    it('98 on a screen that fits on one page, and 0 on the main menu, show it again and are not counted', async () => {
      expect(await play(app, 'nav-4', MOUSSA, ['', '7', '7*98', '7*98*0', '7*98*0*7'])).toEqual([
        MAIN_MENU,
        screen('CON Tapez 1 à 6.', MAIN_MENU_LINES),
        MAIN_MENU,
        MAIN_MENU,
        screen('CON Tapez 1 à 6.', MAIN_MENU_LINES),
      ]);
      expect(app.services.sessions.get('nav-4')).toMatchObject({ status: 'open', invalid: 2 });
    });

    it('an error shown on a screen is gone once the member goes back', async () => {
      const screens = await play(app, 'nav-5', MOUSSA, ['', '2', '2*3', '2*3*abc', '2*3*abc*0']);
      expect(screens[3]).toMatch(/^CON Chiffres seulement, sans lettres ni virgule\.\n/);
      expect(screens[4]).toBe(screens[1]);
      expect(app.services.sessions.get('nav-5')).toMatchObject({ machine: 'contribute', invalid: 0 });
    });
  });
});

describe('shortcut dials and the resume offer', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await startTestApp();
  });
  afterEach(() => app.close());

  const payments = () => app.services.db.prepare('SELECT COUNT(*) FROM payments').pluck().get();
  const QUOTE = screen(
    'CON Somme: 1 250 FCFA',
    'Frais: 100 FCFA, par vous',
    'Total: 1 350 FCFA',
    "Couvert jusqu'au 31/05/2026",
    '1 Confirmer',
    '2 Annuler',
    '0 Retour 00 Menu',
  );
  const OFFER = screen(MAIN_MENU, '7 Continuer à', 'payer 1 250 FCFA');

  it('*384*123*1# (text "1") shows the coverage on the first hop, one hop per input played', async () => {
    expect(await hop(app, 'sc-1', MOUSSA, '1')).toBe(COVERAGE);
    expect(app.services.sessions.get('sc-1')).toMatchObject({ machine: 'coverage', hops: 2, lastText: '1', invalid: 0 });
    expect(await hop(app, 'sc-1', MOUSSA, '1*1')).toBe(BENEFICIARIES);
  });

  it('*384*123*2*1# stops at the quote; only the next hop, typed on the quote, confirms it', async () => {
    expect(await hop(app, 'sc-2', MOUSSA, '2*1')).toBe(QUOTE);
    expect(app.services.sessions.get('sc-2')).toMatchObject({ machine: 'contribute', hops: 3, lastText: '2*1' });
    expect(payments()).toBe(0);
    expect(await hop(app, 'sc-2', MOUSSA, '2*1*1')).toMatch(/^END Paiement demandé\./);
    expect(payments()).toBe(1);
  });

  it('a confirm inside the shortcut text is not applied: the quote is shown, nothing is paid, a retry of the hop changes nothing', async () => {
    expect(await hop(app, 'sc-3', MOUSSA, '2*1*1')).toBe(QUOTE);
    expect(await hop(app, 'sc-3', MOUSSA, '2*1*1')).toBe(QUOTE);
    expect(app.services.sessions.get('sc-3')).toMatchObject({ hops: 3, lastText: '2*1*1' });
    expect(payments()).toBe(0);
  });

  it('a wrong key inside a shortcut stops there, with its hint, counted once', async () => {
    expect(await hop(app, 'sc-4', MOUSSA, '7*1')).toBe(screen('CON Tapez 1 à 6.', MAIN_MENU_LINES));
    expect(app.services.sessions.get('sc-4')).toMatchObject({ machine: 'main', hops: 2, invalid: 1 });
  });

  it('a text no handset dials (too many inputs, an empty one) shows the home menu', async () => {
    expect(await hop(app, 'sc-5', MOUSSA, '1*1*0*1*0*1*0*1*0')).toBe(MAIN_MENU);
    expect(await hop(app, 'sc-6', MOUSSA, '1**1')).toBe(MAIN_MENU);
    expect(app.services.sessions.get('sc-6')).toMatchObject({ hops: 1 });
  });

  it('no offer after a session cut on the coverage; after one cut on a quote, the offer is an extra line, wrong keys keep it', async () => {
    await play(app, 'cut-1', MOUSSA, ['', '1', '1*1']);
    expect(await hop(app, 'cut-1b', MOUSSA, '')).toBe(MAIN_MENU);

    await play(app, 'cut-2', MOUSSA, ['', '2', '2*1']);
    expect(await play(app, 'cut-2b', MOUSSA, ['', '9', '9*0', '9*0*98'])).toEqual([
      OFFER,
      screen('CON Tapez 1 à 7.', OFFER.slice('CON '.length)),
      OFFER,
      OFFER,
    ]);
    expect(app.services.sessions.get('cut-2b')).toMatchObject({ machine: 'resume', invalid: 1 });
    expect(await hop(app, 'cut-2b', MOUSSA, '9*0*98*7')).toBe(QUOTE);
    expect(app.services.sessions.get('cut-2')).toMatchObject({ status: 'resumed' });
  });

  it('a menu key on the offer goes where it always goes, and the offer is not made again', async () => {
    await play(app, 'cut-3', MOUSSA, ['', '2', '2*1']);
    expect(await play(app, 'cut-3b', MOUSSA, ['', '3'])).toEqual([OFFER, HISTORY_PAGE_1]);
    expect(await hop(app, 'cut-3c', MOUSSA, '')).toBe(MAIN_MENU);
  });
});

describe('100 sessions at once', () => {
  /** Deterministic randomness (mulberry32), so a failure replays the same interleaving. */
  function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const demo = readDemoData();
  /** More members than the demo's four: copies of its households under new numbers, so no phone has two sessions. */
  const copies = Array.from({ length: 46 }, (_, i) => {
    const h = demo.households[i % demo.households.length] as (typeof demo.households)[number];
    const phone = `+2237610${String(i).padStart(4, '0')}`;
    return { ...h, phone, cardNumber: `${h.cardNumber}-C${i}`, wallet: h.wallet ? { ...h.wallet, msisdn: phone } : null };
  });
  const members = [...demo.households.map((h) => h.phone), ...copies.map((h) => h.phone)];
  const unknown = Array.from({ length: 50 }, (_, i) => `+2237099${String(i).padStart(4, '0')}`);

  const INPUTS = ['1', '2', '3', '4', '5', '6', '0', '00', '98', '9', '1*1'];

  interface Script {
    sessionId: string;
    phone: string;
    /** Cumulative texts, as the gateway sends them. */
    texts: string[];
  }

  function scripts(random: () => number): Script[] {
    return [...members, ...unknown].map((phone, i) => {
      const texts = [''];
      const hops = 1 + Math.floor(random() * 6);
      for (let h = 0; h < hops; h++) {
        const input = INPUTS[Math.floor(random() * INPUTS.length)] as string;
        const last = texts[texts.length - 1] as string;
        texts.push(last === '' ? input : `${last}*${input}`);
      }
      return { sessionId: `crowd-${i}`, phone, texts };
    });
  }

  async function appWithCopies(): Promise<TestApp> {
    const app = await startTestApp();
    seedDemo(app.services.db, app.clock, { ...demo, households: copies });
    return app;
  }

  it('each end up with the screens they would get alone', async () => {
    const random = prng(20260310);
    const all = scripts(random);
    expect(new Set(all.map((s) => s.phone)).size).toBe(100);

    const crowd = await appWithCopies();
    const together = new Map<string, string[]>(all.map((s) => [s.sessionId, []]));
    try {
      // Rounds: every session still talking sends its next hop, all at once, dispatched in random order.
      for (let round = 0; all.some((s) => s.texts.length > round); round++) {
        const talking = all.filter((s) => s.texts.length > round);
        for (let i = talking.length - 1; i > 0; i--) {
          const j = Math.floor(random() * (i + 1));
          [talking[i], talking[j]] = [talking[j] as Script, talking[i] as Script];
        }
        await Promise.all(
          talking.map(async (s) => {
            if (random() < 0.3) await new Promise((r) => setTimeout(r, Math.floor(random() * 3)));
            (together.get(s.sessionId) as string[])[round] = await hop(crowd, s.sessionId, s.phone, s.texts[round] as string);
          }),
        );
      }
    } finally {
      await crowd.close();
    }

    const quiet = await appWithCopies();
    const alone = new Map<string, string[]>();
    try {
      for (const s of all) alone.set(s.sessionId, await play(quiet, s.sessionId, s.phone, s.texts));
    } finally {
      await quiet.close();
    }

    expect(together).toEqual(alone);
    // The scripts reach past the home menus: sessions in coverage, history, call-backs, endings.
    const last = [...alone.values()].map((screens) => screens[screens.length - 1] as string);
    expect(last.filter((b) => b.startsWith('END ')).length).toBeGreaterThan(5);
    expect(last.filter((b) => b.includes('Mes paiements') || b.includes('pers.')).length).toBeGreaterThan(2);
  }, 60_000);
});
