/**
 * The browser phone at /simulator in headless Chromium, used as a tester would: mouse on the keypad,
 * the computer's keyboard on a focused handset, the operator's PIN prompt on the screen, and the
 * receipt arriving in the phone's inbox. The app is the real server on a temp database (demo
 * network, clock frozen at 2026-03-10 09:00 Bamako) with its SMS dispatcher and simulated operator running.
 */
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { BROWSER_APP_ENV, BROWSER_TEST, browserAvailable, launchBrowser, until } from '../support/browser.ts';

const MOUSSA = '+22376000001';

describe.skipIf(!browserAvailable())('the browser phone', BROWSER_TEST, () => {
  let browser: Browser;
  let app: TestApp;
  let page: Page;

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(() => browser?.close());
  beforeEach(async () => {
    app = await startTestApp({ env: BROWSER_APP_ENV });
    app.services.dispatcher.start();
    app.services.orange.start();
    page = await browser.newPage();
    await page.goto(`${app.url}/simulator`);
  });
  afterEach(async () => {
    await page.close();
    await app.close();
  });

  const phone = (n = MOUSSA): Locator => page.locator(`section.phone[data-phone="${n}"]`);
  const screen = (p: Locator) => p.getByTestId('screen');
  const events = (phoneNumber: string) =>
    app.services.db
      .prepare('SELECT status, input, error_message AS error FROM ussd_session_events WHERE phone = ? ORDER BY received_at')
      .all(phoneNumber);

  it('checks coverage and contributes with the mouse and the keyboard, answers the PIN prompt, and receives the receipt', async () => {
    const p = phone();
    // Keyboard: focus the handset, type the service code, green key.
    await p.locator('.handset').click();
    await page.keyboard.type('*384*123#');
    await page.keyboard.press('Enter');
    await until(() => screen(p).innerText()).toContain('1 Ma couverture');
    // Mouse: 1 then the green key.
    await p.locator('button[data-key="1"]').click();
    await p.locator('button[data-key="green"]').click();
    await until(() => screen(p).innerText()).toContain('Moussa Traoré, 5 pers.');
    expect(await screen(p).innerText()).toContain("Couvert jusqu'au 30/04/2026");
    // Red key hangs up; the gateway tells the application the session was left incomplete.
    await page.keyboard.press('Escape');
    await until(() => events(MOUSSA)).toEqual([{ status: 'Incomplete', input: '1', error: 'the member hung up' }]);

    // The green key with nothing typed dials the service code; a session cut on the coverage is not
    // offered back: the main menu, with its usual numbers.
    await p.locator('button[data-key="green"]').click();
    await until(() => screen(p).innerText()).toContain('2 Cotiser');
    expect(await screen(p).innerText()).not.toContain('7 ');
    for (const answer of ['2', '1']) {
      await page.keyboard.type(answer);
      await page.keyboard.press('Enter');
      await until(() => p.getByTestId('entry').count()).toBe(1);
    }
    await until(() => screen(p).innerText()).toContain('Somme: 1 250 FCFA');
    expect(await screen(p).innerText()).toContain('Frais: 100 FCFA, par vous\nTotal: 1 350 FCFA');
    await page.keyboard.type('1');
    await page.keyboard.press('Enter');
    // The END screen may already have given way to the operator's prompt: the log keeps it.
    await until(() => page.locator('#log').innerText()).toContain('END Paiement demandé. Orange Money va vous demander');

    // The operator's prompt takes the screen; the PIN shows as stars.
    await until(() => screen(p).innerText(), { timeout: 15_000 }).toContain('Code secret');
    expect(await screen(p).innerText()).toContain('total 1 350 FCFA');
    await page.keyboard.type('1234');
    expect(await p.getByTestId('entry').innerText()).toBe('****');
    await page.keyboard.press('Enter');
    await until(() => screen(p).innerText()).toContain('paiement effectué');
    await until(() => p.getByTestId('wallet').innerText()).toContain('Solde 48 650 FCFA');

    // The receipt reaches the phone's inbox with its delivery state.
    const receipt = p.getByTestId('inbox').locator('li', { hasText: 'Recu 1 250 FCFA (frais' });
    await until(() => receipt.count(), { timeout: 15_000 }).toBe(1);
    await until(() => receipt.getAttribute('data-status'), { timeout: 10_000 }).toBe('Success');

    // The request log shows the raw exchange of every hop with its latency.
    const log = await page.locator('#log').innerText();
    expect(log).toContain('text=2*1*1');
    expect(log).toContain('END Paiement demandé');
    expect(log).toMatch(/\d+ ms/);
    expect(log).toContain('fin de session: Success');
    expect(events(MOUSSA)).toHaveLength(2);
  });

  it('copes with letters, a 500-character paste, a dropped session and an application that does not answer', async () => {
    const p = phone();
    await p.locator('.handset').click();
    await page.keyboard.press('Enter');
    await until(() => screen(p).innerText()).toContain('1 Ma couverture');
    // Letters reach the application, which answers with a helpful line, not a crash.
    await page.keyboard.type('abc');
    await page.keyboard.press('Enter');
    await until(() => p.getByTestId('text').innerText()).toMatch(/^Tapez 1 à 6\./);

    // A paste of 500 characters is refused by the gateway; the screen stays, the session goes on.
    await page.evaluate(() => {
      const data = new DataTransfer();
      data.setData('text/plain', '9'.repeat(500));
      document.querySelector('.handset')?.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true }));
    });
    await page.keyboard.press('Enter');
    await until(() => p.getByTestId('error').innerText()).toContain('answer too long: 500 characters');
    expect(await p.getByTestId('text').innerText()).toMatch(/^Tapez 1 à 6\./);

    // The network drops the session: the application hears Failed.
    await p.getByRole('button', { name: 'Couper la session' }).click();
    await until(() => events(MOUSSA)).toEqual([{ status: 'Failed', input: 'abc', error: 'the network dropped the session' }]);
    await until(() => p.getByTestId('error').innerText()).toContain('Connexion perdue');

    // An application URL that does not answer: the handset's error, and the reason in the log.
    await page.locator('#app-url').fill('http://127.0.0.1:9/ussd');
    await p.locator('.handset').click();
    await page.keyboard.press('Escape');
    await page.keyboard.press('Enter');
    await until(() => screen(p).innerText()).toContain('Problème de connexion');
    expect(await page.locator('#log').innerText()).toContain('network error');
    // Back to the real application: the phone recovers; the dropped session was on the main menu,
    // nothing to continue: the main menu again.
    await page.locator('#app-url').fill(`${app.url}/ussd`);
    await p.locator('.handset').click();
    await page.keyboard.press('Escape');
    await page.keyboard.press('Enter');
    await until(() => screen(p).innerText()).toContain('1 Ma couverture');
  });

  it('runs phones side by side, and a page closed mid-session hangs up (Incomplete)', async () => {
    await page.getByRole('button', { name: '+ Téléphone' }).click();
    const second = phone('+22376000002');
    await until(() => second.count()).toBe(1);
    await second.locator('.handset').click();
    await page.keyboard.press('Enter');
    await until(() => screen(second).innerText()).toContain('1 Ma couverture');
    await page.keyboard.type('1');
    await page.keyboard.press('Enter');
    await until(() => screen(second).innerText()).toContain('Aminata Sangaré');
    await page.close({ runBeforeUnload: true });
    await until(() => events('+22376000002')).toEqual([{ status: 'Incomplete', input: '1', error: 'the member hung up' }]);
    page = await browser.newPage();
  });
});
