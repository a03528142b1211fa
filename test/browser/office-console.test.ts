/**
 * The office console in headless Chromium, as an officer uses it: log in, register a household of
 * three, link its wallet, find it by phone; the member then sees the coverage and contributes over
 * USSD; a call-back asked over USSD shows in the queue and is closed with a note.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { flows } from '../../flows/index.ts';
import { loadCatalogs } from '../../src/i18n/catalog.ts';
import { formatDate } from '../../src/i18n/format.ts';
import { computeKpis } from '../../src/office/kpi.ts';
import {
  CALLBACK_CHANNELS,
  CALLBACK_STATUSES,
  FAILURE_REASONS,
  REMINDER_RULES,
  SESSION_STATUSES,
  SMS_KINDS,
  SMS_STATUSES,
} from '../../src/office/labels.ts';
import { addStaff, PASSWORD } from '../office/support.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { BROWSER_APP_ENV, BROWSER_TEST, browserAvailable, launchBrowser, until } from '../support/browser.ts';

const NEW_PHONE = '+22376000124';
const available = browserAvailable();

/** One Chromium for the whole file (each launch costs seconds of CPU); each test opens its own pages on its own app. */
let browser: Browser;
beforeAll(async () => {
  if (available) browser = await launchBrowser();
});
afterAll(() => browser?.close());

describe.skipIf(!available)('the office console in a browser', BROWSER_TEST, () => {
  let app: TestApp;
  let page: Page;

  beforeEach(async () => {
    app = await startTestApp({ env: BROWSER_APP_ENV });
    await addStaff(app, 'awa@utm.ml', 'officer');
    page = await browser.newPage();
    await page.goto(`${app.url}/admin`);
    // Sent to the login page, and back to the console after.
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await page.getByLabel('Adresse e-mail').fill('awa@utm.ml');
    await page.getByLabel('Mot de passe').fill(PASSWORD);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.waitForURL(`${app.url}/admin`);
  });
  afterEach(async () => {
    await page.close();
    await app.close();
  });

  it('registers a household of three with its wallet; the member contributes from the browser simulator; the payment shows in the support view and the figures', async () => {
    await page.getByRole('link', { name: 'Membres' }).click();
    await page.getByRole('link', { name: 'Inscrire un ménage' }).click();
    await page.getByLabel('Nom complet').fill('Oumou Sidibé');
    await page.getByLabel('Téléphone (mobile)').fill('76 00 01 24');
    await page.getByLabel('Mutuelle').selectOption('sik-niena');
    await page.getByLabel('N° de carte').fill('SIK-NIE-0124');
    const rows: Array<[string, string, string, boolean]> = [
      ['Oumou Sidibé', 'adherent', '1984', false],
      ['Adama Sidibé', 'child', '2012', true],
      ['Fanta Sidibé', 'child', '2016', true],
    ];
    for (const [i, [name, relation, year, subsidised]] of rows.entries()) {
      await page.getByLabel(`Nom du bénéficiaire ${i + 1}`, { exact: true }).fill(name);
      await page.getByLabel(`Lien ${i + 1}`, { exact: true }).selectOption(relation);
      await page.getByLabel(`Année de naissance ${i + 1}`, { exact: true }).fill(year);
      if (subsidised) await page.getByLabel(`Subventionné ${i + 1}`, { exact: true }).check();
    }
    await page.getByRole('button', { name: 'Inscrire le ménage' }).click();
    await until(() => page.locator('.flash').innerText()).toBe('Ménage inscrit.');
    expect(await page.getByTestId('coverage').innerText()).toContain('Reste 1 000 FCFA pour couvrir mars 2026');

    await page.getByRole('button', { name: 'Lier le portefeuille' }).click();
    await until(() => page.locator('.flash').innerText()).toContain('Portefeuille lié: ce numéro peut cotiser par USSD.');

    // Found again by its phone, typed the way it is said.
    await page.getByRole('link', { name: 'Membres' }).click();
    await page.getByLabel('Chercher un ménage').fill('76 00 01 24');
    await page.keyboard.press('Enter');
    await page.getByTestId('results').getByRole('link', { name: 'Oumou Sidibé' }).click();
    expect(await page.locator('h1').innerText()).toContain('Oumou Sidibé');

    // The member's phone in the browser simulator: an Orange Money account opened for the new
    // number, the coverage, a contribution and the operator's PIN prompt, then the receipt.
    app.services.dispatcher.start();
    app.services.orange.start();
    const sim = await browser.newPage();
    await sim.goto(`${app.url}/simulator`);
    const phone = sim.locator('section.phone').first();
    await phone.locator('select').selectOption('');
    await phone.getByLabel('Autre numéro').fill(NEW_PHONE);
    await phone.getByLabel('Autre numéro').press('Enter');
    await until(() => sim.locator(`section.phone[data-phone="${NEW_PHONE}"]`).count()).toBe(1);
    await phone.getByRole('button', { name: /Ouvrir un compte simulé/ }).click();
    await until(() => phone.getByTestId('wallet').innerText()).toContain('Solde 10 000 FCFA');
    const screen = () => phone.getByTestId('screen').innerText();
    await phone.locator('.handset').click();
    await sim.keyboard.press('Enter');
    await until(screen).toContain('2 Cotiser');
    // The first amount offered pays through April: March alone would end before care starts (30-day wait).
    // Each answer once the previous hop is back (a busy handset ignores keys): its row in the log.
    for (const key of ['2', '1', '1']) {
      const logged = await sim.locator('#log tr').count();
      await sim.keyboard.type(key);
      await sim.keyboard.press('Enter');
      await until(() => sim.locator('#log tr').count()).toBeGreaterThan(logged);
    }
    await until(screen, { timeout: 15_000 }).toContain('Code secret');
    await sim.keyboard.type('1234');
    await sim.keyboard.press('Enter');
    await until(screen).toContain('paiement effectué');
    await until(() => phone.getByTestId('inbox').innerText(), { timeout: 15_000 }).toContain('Recu 2 000 FCFA (frais');
    await sim.close();

    // Back at the office: the payment in the support view and in the figures.
    await page.reload();
    expect(await page.getByTestId('payments').innerText()).toContain('réussi');
    expect(await page.getByTestId('ledger').innerText()).toContain('2 000 FCFA');
    // Paid, but new members wait 30 days before care is covered.
    expect(await page.getByTestId('coverage').innerText()).toContain("Couverture aujourd'hui : en stage");
    const k = computeKpis(app.services.db, { from: '2026-03-01', to: '2026-03-10', today: '2026-03-10' });
    expect(k.totals.payments.byStatus.succeeded).toBeGreaterThan(0);
    expect(k.mutuelles.find((m) => m.id === 'sik-niena')?.contributions.total.amount).toBeGreaterThanOrEqual(1000);
  });

  it('shows a call-back asked over USSD in the queue; the officer takes it and closes it with a note', async () => {
    for (const text of ['', '5', '5*2']) expect((await app.hop('cb', '+22376000003', text)).status).toBe(200);
    await page.getByRole('link', { name: "Demandes d'appel" }).click();
    const row = page.getByTestId('queue').locator('tr', { hasText: '+22376000003' });
    expect(await row.innerText()).toContain('couverture');
    expect(await row.innerText()).toContain('Bakary Diarra');
    await row.getByRole('button', { name: "Je m'en occupe" }).click();
    await until(() => page.getByTestId('queue').innerText()).toContain('pris par awa@utm.ml');
    await page.getByLabel("Résultat de l'appel").fill('Expliqué le délai de grâce');
    await page.getByRole('button', { name: 'Terminé' }).click();
    await until(() => page.locator('.flash').innerText()).toBe("Demande d'appel terminée.");
    expect(await page.locator('main').innerText()).toContain('Aucune demande en attente.');
    const done = app.services.db.prepare('SELECT status, outcome, claimed_by AS claimedBy FROM callback_requests').get();
    expect(done).toEqual({ status: 'done', outcome: 'Expliqué le délai de grâce', claimedBy: 'awa@utm.ml' });
  });
});

describe.skipIf(!available)('the figures page in a browser', BROWSER_TEST, () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
    await addStaff(app, 'chef@utm.ml', 'manager');
  });
  afterAll(() => app?.close());

  it('draws the penetration and contributions charts with the numbers of the tables', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${app.url}/admin/login?next=%2Fadmin%2Ffigures`);
    await page.getByLabel('Adresse e-mail').fill('chef@utm.ml');
    await page.getByLabel('Mot de passe').fill(PASSWORD);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.waitForURL(`${app.url}/admin/figures`);
    const charts = () =>
      page.evaluate(() => {
        const Chart = (
          window as unknown as {
            Chart: {
              getChart(c: Element): { data: { labels: unknown[]; datasets: Array<{ label: string; data: unknown[] }> } } | undefined;
            };
          }
        ).Chart;
        return ['chart-penetration', 'chart-contributions'].map((id) => {
          const c = Chart.getChart(document.getElementById(id) as Element);
          return c ? { labels: c.data.labels, datasets: c.data.datasets.map((d) => ({ label: d.label, data: d.data })) } : null;
        });
      });
    await until(async () => (await charts()).every((c) => c !== null)).toBe(true);
    const [penetration, contributions] = await charts();
    const k = computeKpis(app.services.db, { from: '2025-04-01', to: '2026-03-10', today: '2026-03-10' });
    expect(penetration?.labels).toEqual(k.trendDays.map(formatDate));
    expect(penetration?.datasets.map((d) => d.label).sort()).toEqual(['Koutiala', 'Sikasso']);
    expect(contributions?.labels?.[0]).toMatch(/^[a-zéû]+ \d{4}$/);
    expect(contributions?.labels).toHaveLength(k.totals.contributions.months.length);
    // The chart plots per cent to two decimals, as the table shows them (same rounding: figures-page.test.ts).
    for (const d of penetration?.datasets ?? [])
      for (const v of d.data as Array<number | null>) if (v !== null) expect(Math.round(v * 100) / 100).toBe(v);
    expect(contributions?.datasets[0]).toEqual({
      label: 'Orange Money',
      data: k.totals.contributions.months.map((m) => m.byChannel.orange_money.amount),
    });
    expect(errors).toEqual([]);
    await page.close();
  });
});

/** Internal keys and English words that must never show in the console: codes of every table the console names, catalog keys, screen paths. */
function internalWords(): string[] {
  const screens: string[] = [];
  for (const [name, machine] of Object.entries(flows)) {
    const visit = (node: { path: string[]; states: Record<string, unknown> }) => {
      if (node.path.length) screens.push([name, ...node.path].join('.'));
      for (const child of Object.values(node.states)) visit(child as typeof node);
    };
    visit((machine as unknown as { root: { path: string[]; states: Record<string, unknown> } }).root);
  }
  return [
    ...[SMS_KINDS, SMS_STATUSES, SESSION_STATUSES, CALLBACK_STATUSES, CALLBACK_CHANNELS, REMINDER_RULES, FAILURE_REASONS].flatMap((t) =>
      Object.keys(t),
    ),
    'initiated',
    'pending',
    'succeeded',
    'cancelled',
    'review',
    'active',
    'waiting',
    'grace',
    'lapsed',
    'inactive',
    'never',
    'orange_money',
    'cash',
    'agent_id',
    'XOF',
    'undefined',
    'null',
    'NaN',
    ...[...loadCatalogs().fr.keys()].filter((k) => k.includes('.')),
    ...screens,
  ];
}

/** The words of `words` that appear in `text`, as whole words (case-sensitive: "SMS" is French too). */
function found(text: string, words: string[]): string[] {
  return [...new Set(words)].filter((w) =>
    new RegExp(`(^|[^\\p{L}\\d_.])${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\p{L}\\d_])`, 'u').test(text),
  );
}

describe.skipIf(!available)('the console speaks French', BROWSER_TEST, () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: BROWSER_APP_ENV });
    await addStaff(app, 'chef@utm.ml', 'manager');
  });
  afterAll(() => app?.close());

  it('shows no internal key and no English status word on the support view and the figures page', async () => {
    expect(found('x coverage.summary.active y', ['coverage.summary.active'])).toEqual(['coverage.summary.active']);
    expect(found('Délai de grâce, SMS envoyé', ['grace', 'sms', 'sent'])).toEqual([]);
    // Bakary's file with something in every table: a session cut off, a call-back closed, an alert and a receipt by SMS.
    const phone = '+22376000003';
    for (const text of ['', '5', '5*2']) expect((await app.hop('cb', phone, text)).status).toBe(200);
    expect((await app.hop('cut', phone, '')).status).toBe(200);
    expect((await app.post('/ussd/events', { sessionId: 'cut', phoneNumber: phone, status: 'Incomplete' })).status).toBe(200);
    app.services.db.prepare("UPDATE callback_requests SET status = 'done', outcome = 'Expliqué', claimed_by = 'chef@utm.ml'").run();
    app.clock.set('2026-03-24T09:00:00Z');
    app.services.reminders.run();
    await app.services.dispatcher.drain();
    await until(() => app.services.db.prepare("SELECT COUNT(*) FROM sms_outbox WHERE status = 'delivered'").pluck().get(), {
      timeout: 10_000,
    }).toBeGreaterThan(0);
    const householdId = app.services.db.prepare('SELECT id FROM households WHERE phone = ?').pluck().get(phone) as number;

    const page = await browser.newPage();
    await page.goto(`${app.url}/admin/login?next=%2Fadmin%2Fhouseholds%2F${householdId}`);
    await page.getByLabel('Adresse e-mail').fill('chef@utm.ml');
    await page.getByLabel('Mot de passe').fill(PASSWORD);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.waitForURL(`${app.url}/admin/households/${householdId}`);
    const words = internalWords();
    const support = await page.locator('body').innerText();
    expect(support).toContain('alerte de fin de couverture');
    expect(support).toContain('interrompue');
    expect(support).toContain("Demandes d'appel");
    expect(found(support, words)).toEqual([]);

    await page.goto(`${app.url}/admin/figures?from=01%2F04%2F2025&to=24%2F03%2F2026`);
    const figures = await page.locator('body').innerText();
    expect(figures).toContain('Pénétration');
    expect(figures).toMatch(/coût \d[\d ]* FCFA/);
    expect(found(figures, words)).toEqual([]);
    expect(await page.locator('input[type="date"]').count()).toBe(0);
    expect(await page.getByLabel('Du').inputValue()).toBe('01/04/2025');
    await page.close();
  });
});
