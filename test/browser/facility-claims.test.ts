/**
 * Issue 20 end to end, in headless Chromium, as the people who do it: the CSCom de Kléla's agent
 * records Awa's consultation on the browser phone; an officer approves the claim in the console and
 * prepares the facility's payment batch; a manager approves the batch, which the simulated operator
 * pays from UTM's float; the facility's wallet is credited once, the agent is told by SMS, and the
 * figures show the loss ratio. The app is the real server with its SMS dispatcher and simulated
 * operator running (clock frozen at 2026-03-10 09:00 Bamako, demo network).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { computeKpis } from '../../src/office/kpi.ts';
import { addStaff, PASSWORD } from '../office/support.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { BROWSER_APP_ENV, BROWSER_TEST, browserAvailable, launchBrowser, until } from '../support/browser.ts';

const AGENT = '+22377000001';
const MOUSSA = '+22376000001';
const KLELA_WALLET = '+22379000001';
const available = browserAvailable();

let browser: Browser;
beforeAll(async () => {
  if (available) browser = await launchBrowser();
});
afterAll(() => browser?.close());

describe.skipIf(!available)('a visit paid to the facility, from the agent’s phone to the figures', BROWSER_TEST, () => {
  let app: TestApp;
  const pages: Page[] = [];

  beforeEach(async () => {
    app = await startTestApp({ env: BROWSER_APP_ENV });
    app.services.dispatcher.start();
    app.services.orange.start();
    await addStaff(app, 'awa@utm.ml', 'officer');
    await addStaff(app, 'chef@utm.ml', 'manager');
  });
  afterEach(async () => {
    for (const p of pages.splice(0)) await p.close();
    await app.close();
  });

  /** A console page in a context of its own (its own session cookie), logged in. */
  async function loggedInConsole(email: string): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    pages.push(page);
    await page.goto(`${app.url}/admin/login`);
    await page.getByLabel('Adresse e-mail').fill(email);
    await page.getByLabel('Mot de passe').fill(PASSWORD);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.waitForURL(`${app.url}/admin`);
    return page;
  }

  const wallet = async (phone: string) =>
    ((await (await fetch(`${app.url}/simulator/api/wallet?phone=${encodeURIComponent(phone)}`)).json()) as { balance: number }).balance;
  const inbox = async (phone: string) =>
    ((await (await fetch(`${app.url}/simulator/api/sms?phone=${encodeURIComponent(phone)}`)).json()) as Array<{ text: string }>).map(
      (m) => m.text,
    );

  it('records a consultation on the agent’s phone; the claim is approved, batched, approved by a manager and paid once', async () => {
    // The agent's phone: the demo list names the agent and the facility.
    const sim = await browser.newPage();
    pages.push(sim);
    await sim.goto(`${app.url}/simulator`);
    const first = sim.locator('section.phone').first();
    await first.locator('select').selectOption(AGENT);
    const phone = sim.locator(`section.phone[data-phone="${AGENT}"]`);
    const screen = phone.getByTestId('screen');
    await phone.locator('.handset').click();
    const send = async (text: string) => {
      await sim.keyboard.type(text);
      await sim.keyboard.press('Enter');
    };
    await send('*384*123#');
    await until(() => screen.innerText()).toContain('Téléphone ou carte du membre');
    await send('76000001');
    await until(() => screen.innerText()).toContain('Soins couverts: OUI');
    expect(await screen.innerText()).toContain('2 Awa 1985 OUI');
    await send('2');
    await until(() => screen.innerText()).toContain('1 consultation:');
    await send('1');
    await until(() => screen.innerText()).toContain('Maximum 1 500 FCFA');
    // Above the tariff: refused with what is allowed, and asked again.
    await send('2000');
    await until(() => screen.innerText()).toContain('Au-dessus du tarif');
    await send('1500');
    await until(() => screen.innerText()).toContain('1 Enregistrer');
    await send('1');
    await until(() => screen.innerText()).toContain('Visite enregistrée, numéro 1');
    await until(() => inbox(MOUSSA)).toContainEqual(expect.stringContaining('Visite au CSCom de Kléla le 10/03/2026 pour Awa'));

    // The officer sees the claim with its checks, approves it, and prepares the facility's batch.
    const officer = await loggedInConsole('awa@utm.ml');
    await officer.getByRole('link', { name: 'Demandes de remboursement' }).click();
    await officer
      .getByRole('link', { name: /CSCom de Kléla/ })
      .first()
      .click();
    const claim = officer.locator('tr[data-claim="1"]');
    await until(() => claim.innerText()).toContain('Awa');
    expect(await claim.locator('li.check-fail').count()).toBe(0);
    await claim.getByRole('button', { name: 'Approuver' }).click();
    await until(() => officer.getByTestId('decided-claims').innerText()).toContain('approuvée');

    await officer.getByRole('link', { name: 'Paiements aux établissements' }).click();
    await officer.getByRole('link', { name: 'Préparer un lot' }).click();
    expect(await officer.getByTestId('total').innerText()).toMatch(/1\s500\sFCFA/);
    await officer.getByRole('button', { name: /Préparer le lot de/ }).click();
    const batches = officer.getByTestId('batches');
    await until(() => batches.innerText()).toContain('CSCom de Kléla');
    // The one who prepared it cannot approve it.
    expect(await batches.getByRole('button', { name: /Approuver et payer/ }).count()).toBe(0);

    // A manager approves: the operator pays from UTM's float, once.
    expect(await wallet(KLELA_WALLET)).toBe(0);
    const manager = await loggedInConsole('chef@utm.ml');
    await manager.getByRole('link', { name: 'Paiements aux établissements' }).click();
    await manager.getByRole('button', { name: /Approuver et payer 1\s500\sFCFA/ }).click();
    await until(async () => {
      await manager.reload();
      return manager.getByTestId('batches').innerText();
    }).toMatch(/payé/i);
    expect(await wallet(KLELA_WALLET)).toBe(1500);
    expect(app.services.db.prepare('SELECT COUNT(*) FROM disbursement_ledger').pluck().get()).toBe(1);
    await until(() => inbox(AGENT)).toContainEqual(expect.stringContaining('UTM a versé 1 500 FCFA'));
    // The approval posted again (a stale page resubmitted): refused, nothing more paid.
    const csrf = await manager.locator('input[name="_csrf"]').first().getAttribute('value');
    const batchId = app.services.db.prepare('SELECT id FROM payment_batches').pluck().get() as number;
    const again = await manager.request.post(`${app.url}/admin/disbursements/${batchId}/approve`, {
      form: { _csrf: csrf ?? '' },
      maxRedirects: 0,
    });
    expect(again.status()).toBe(409);
    expect(await wallet(KLELA_WALLET)).toBe(1500);
    expect(app.services.db.prepare('SELECT COUNT(*) FROM disbursement_ledger').pluck().get()).toBe(1);

    // The figures: the claim paid against the contributions received, per mutuelle and district.
    await manager.getByRole('link', { name: 'Chiffres' }).click();
    const lossRatio = manager.getByTestId('figures-loss-ratio');
    await until(() => lossRatio.innerText()).toContain('Sinistralité');
    const k = computeKpis(app.services.db, { from: '2025-04-01', to: '2026-03-10', today: '2026-03-10' });
    const sikasso = k.districts.find((d) => d.district === 'Sikasso')!;
    expect(sikasso.claims.paid).toEqual({ count: 1, amount: 1500 });
    const shown = `${((sikasso.claims.lossRatio as number) * 100).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} %`;
    expect((await lossRatio.locator('tr', { hasText: 'Sikasso' }).first().innerText()).replace(/\s/g, ' ')).toContain(
      shown.replace(/\s/g, ' '),
    );
    expect(await manager.getByTestId('figures-facilities').innerText()).toContain('CSCom de Kléla');
  });
});
