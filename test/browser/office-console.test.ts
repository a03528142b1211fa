/**
 * The office console in headless Chromium, as an officer uses it: log in, register a household of
 * three, link its wallet, find it by phone; the member then sees the coverage and contributes over
 * USSD; a call-back asked over USSD shows in the queue and is closed with a note.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { computeKpis } from '../../src/office/kpi.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { browserAvailable, launchBrowser, until } from '../support/browser.ts';
import { addStaff, PASSWORD } from '../office/support.ts';

const NEW_PHONE = '+22376000124';

describe.skipIf(!browserAvailable())('the office console in a browser', () => {
  let browser: Browser;
  let app: TestApp;
  let page: Page;

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(() => browser?.close());
  beforeEach(async () => {
    app = await startTestApp();
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
    await until(() => phone.getByTestId('inbox').innerText(), { timeout: 15_000 }).toContain('recu 1 000 FCFA (frais');
    await sim.close();

    // Back at the office: the payment in the support view and in the figures.
    await page.reload();
    expect(await page.getByTestId('payments').innerText()).toContain('réussi');
    expect(await page.getByTestId('ledger').innerText()).toContain('1 000 FCFA');
    // Paid, but new members wait 30 days before care is covered.
    expect(await page.getByTestId('coverage').innerText()).toContain("Couverture aujourd'hui : en stage");
    const k = computeKpis(app.services.db, { from: '2026-03-01', to: '2026-03-10', today: '2026-03-10' });
    expect(k.totals.payments.byStatus.succeeded).toBeGreaterThan(0);
    expect(k.mutuelles.find((m) => m.id === 'sik-niena')?.contributions.total.amount).toBeGreaterThanOrEqual(1000);
  });

  it('shows a call-back asked over USSD in the queue; the officer takes it and closes it with a note', async () => {
    for (const text of ['', '5', '5*2']) expect((await app.hop('cb', '+22376000003', text)).status).toBe(200);
    await page.getByRole('link', { name: 'Rappels demandés' }).click();
    const row = page.getByTestId('queue').locator('tr', { hasText: '+22376000003' });
    expect(await row.innerText()).toContain('couverture');
    expect(await row.innerText()).toContain('Bakary Diarra');
    await row.getByRole('button', { name: "Je m'en occupe" }).click();
    await until(() => page.getByTestId('queue').innerText()).toContain('pris par awa@utm.ml');
    await page.getByLabel("Résultat de l'appel").fill('Expliqué le délai de grâce');
    await page.getByRole('button', { name: 'Terminé' }).click();
    await until(() => page.locator('.flash').innerText()).toBe('Rappel terminé.');
    expect(await page.locator('main').innerText()).toContain('Aucune demande en attente.');
    const done = app.services.db.prepare('SELECT status, outcome, claimed_by AS claimedBy FROM callback_requests').get();
    expect(done).toEqual({ status: 'done', outcome: 'Expliqué le délai de grâce', claimedBy: 'awa@utm.ml' });
  });
});

describe.skipIf(!browserAvailable())('the figures page in a browser', () => {
  let browser: Browser;
  let app: TestApp;
  beforeAll(async () => {
    browser = await launchBrowser();
    app = await startTestApp();
    await addStaff(app, 'chef@utm.ml', 'manager');
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

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
        const Chart = (window as unknown as { Chart: { getChart(c: Element): { data: { labels: unknown[]; datasets: Array<{ label: string; data: unknown[] }> } } | undefined } }).Chart;
        return ['chart-penetration', 'chart-contributions'].map((id) => {
          const c = Chart.getChart(document.getElementById(id) as Element);
          return c ? { labels: c.data.labels, datasets: c.data.datasets.map((d) => ({ label: d.label, data: d.data })) } : null;
        });
      });
    await until(async () => (await charts()).every((c) => c !== null)).toBe(true);
    const [penetration, contributions] = await charts();
    const k = computeKpis(app.services.db, { from: '2025-04-01', to: '2026-03-10', today: '2026-03-10' });
    expect(penetration?.labels).toEqual(k.trendDays);
    expect(penetration?.datasets.map((d) => d.label).sort()).toEqual(['Koutiala', 'Sikasso']);
    expect(contributions?.labels).toEqual(k.totals.contributions.months.map((m) => m.month));
    expect(contributions?.datasets[0]).toEqual({ label: 'Orange Money', data: k.totals.contributions.months.map((m) => m.byChannel.orange_money.amount) });
    expect(errors).toEqual([]);
    await page.close();
  });
});
