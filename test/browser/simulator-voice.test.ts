/**
 * The browser phone's voice calls in headless Chromium, as a tester does them: call UTM's voice
 * number from the Bambara demo phone, read the caption of what is spoken, answer with the keypad,
 * confirm the payment with the operator's PIN prompt, get the receipt; and, in missed-call mode,
 * be rejected and called back. Autoplay may be blocked headless: the caption is what is checked.
 */
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { BROWSER_APP_ENV, BROWSER_TEST, browserAvailable, launchBrowser, until } from '../support/browser.ts';

const BAKARY = '+22376000003';
const MOUSSA = '+22376000001';

describe.skipIf(!browserAvailable())('the browser phone, voice', BROWSER_TEST, () => {
  let browser: Browser;
  let app: TestApp;
  let page: Page;

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(() => browser?.close());
  afterEach(async () => {
    await page.close();
    await app.close();
  });

  async function open(env: Record<string, string> = {}) {
    app = await startTestApp({ env: { ...BROWSER_APP_ENV, ...env } });
    app.services.dispatcher.start();
    app.services.orange.start();
    page = await browser.newPage();
    await page.goto(`${app.url}/simulator`);
  }
  const phone = (n: string): Locator => page.locator(`section.phone[data-phone="${n}"]`);
  const key = (p: Locator, k: string) => p.locator(`button[data-key="${k}"]`).click();

  it('calls the voice number in Bambara, checks the cover and contributes by keypad, confirms with the PIN, gets the receipt', async () => {
    await open();
    await page.locator('section.phone select').selectOption(BAKARY);
    const p = phone(BAKARY);
    await p.getByRole('button', { name: 'Appeler le numéro vocal' }).click();
    const caption = p.getByTestId('caption');
    await until(() => caption.innerText()).toContain("Ni i b'a fè N ka lakanali, digi 1.");
    // The prompt's audio is loaded through the simulator (played when the browser allows it).
    expect(await p.locator('audio').getAttribute('src')).toMatch(/^\/simulator\/api\/voice\/audio\?sessionId=ATVId_/);
    await key(p, '1');
    await until(() => caption.innerText()).toContain('Lakanalen fo 31/03/2026');
    // 9: the main menu; 2 Cotiser; 3 another amount, typed then ended by the green key (it sends '#'):
    // amount, fee and total are heard before confirming.
    await key(p, '9');
    await until(() => caption.innerText()).toMatch(/^🔊 Kénéya Sabatili/);
    await key(p, '2');
    await until(() => caption.innerText()).toContain('Bolomafara sara Orange Money fɛ');
    await key(p, '3');
    await until(() => p.getByTestId('screen').innerText()).toContain('Tapez le nombre puis #');
    for (const k of '2000') await key(p, k);
    expect(await p.getByTestId('entry').innerText()).toBe('2000');
    await page.keyboard.press('Enter');
    await until(() => caption.innerText()).toContain('Wari: 2 000 FCFA. Musaka: 100 FCFA (i ta). A bɛɛ: 2 100 FCFA.');
    await key(p, '1');
    // Nothing more is collected: the call ends after the prompt; the log keeps every exchange.
    await until(() => page.locator('#log').innerText()).toContain("fin d'appel: NORMAL_CLEARING");
    const log = await page.locator('#log').innerText();
    expect(log).toContain('direction=Inbound');
    expect(log).toMatch(/&dtmfDigits=2000$/m);
    expect(log).toContain('<GetDigits');
    expect(log).toMatch(/\d+ ms/);

    // The operator's PIN prompt on the handset, then the receipt.
    await until(() => p.getByTestId('screen').innerText(), { timeout: 15_000 }).toContain('Code secret');
    expect(await p.getByTestId('screen').innerText()).toContain('total 2 100 FCFA');
    await p.locator('.handset').click();
    await page.keyboard.type('1234');
    await page.keyboard.press('Enter');
    await until(() => p.getByTestId('screen').innerText()).toContain('paiement effectué');
    const receipt = p.getByTestId('inbox').locator('li', { hasText: '2 000 FCFA sòròla' });
    await until(() => receipt.count(), { timeout: 15_000 }).toBe(1);
  });

  it('in missed-call mode, the voice number typed and the green key: rejected, then UTM calls back and the menu plays', async () => {
    await open({ VOICE_CALL_BACK_MISSED: 'true' });
    const p = phone(MOUSSA);
    await p.locator('.handset').click();
    await page.keyboard.type('+22320200000');
    await page.keyboard.press('Enter');
    await until(() => p.getByTestId('text').innerText()).toContain('appel rejeté (gratuit)');
    await app.services.calls.drain();
    await until(() => p.getByTestId('incoming').innerText(), { timeout: 15_000 }).toContain('Appel entrant de UTM');
    await p.getByRole('button', { name: 'Décrocher' }).click();
    await until(() => p.getByTestId('caption').innerText()).toContain('Kénéya Sabatili');
    expect(await page.locator('#log').innerText()).toContain('direction=Outbound');
    await p.getByRole('button', { name: 'Raccrocher' }).click();
    await until(() => p.getByTestId('text').innerText()).toContain('appel terminé (NORMAL_CLEARING');
  });
});
