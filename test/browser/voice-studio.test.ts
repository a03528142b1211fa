/**
 * The recording studio in headless Chromium with Chromium's test microphone (a beep): a manager
 * records the main menu's prompt from the microphone, the take is put in service, and the next call
 * plays audio made from it (the prompt's audio name, a hash of what it is made of, changes).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addStaff, PASSWORD } from '../office/support.ts';
import { startTestApp } from '../support/app.ts';
import { BROWSER_TEST, browserAvailable, FAKE_MICROPHONE, launchBrowser, until } from '../support/browser.ts';

const available = browserAvailable();
let browser: Browser;
beforeAll(async () => {
  if (available) browser = await launchBrowser(FAKE_MICROPHONE);
});
afterAll(() => browser?.close());

describe.skipIf(!available)('the recording studio', BROWSER_TEST, () => {
  it('records a prompt from the microphone; the next call plays it', async () => {
    const app = await startTestApp({ env: { VOICE_PRERENDER: 'false' } });
    const page = await browser.newPage();
    try {
      /** The audio the first prompt of a new call plays. */
      const firstPrompt = async (sessionId: string) => {
        const r = await app.post('/voice', {
          sessionId,
          isActive: '1',
          direction: 'Inbound',
          callerNumber: '+22376000001',
          destinationNumber: '+22320200000',
        });
        return /url="([^"]+\.wav)"/.exec(r.body)?.[1];
      };
      const before = await firstPrompt('studio-before');
      expect(before).toMatch(/\.wav$/);
      // Named by what it is made of, not by the call: another call plays the same file.
      expect(await firstPrompt('studio-before-2')).toBe(before);

      await addStaff(app, 'chef@utm.ml', 'manager');
      await page.goto(`${app.url}/admin/login`);
      await page.getByLabel('Adresse e-mail').fill('chef@utm.ml');
      await page.getByLabel('Mot de passe').fill(PASSWORD);
      await page.getByRole('button', { name: 'Se connecter' }).click();
      await page.waitForURL(`${app.url}/admin`);
      await page.goto(`${app.url}/admin/voice?lang=fr`);
      const row = page.locator('tr[data-slot="main.title"]');
      expect(await row.getAttribute('data-status')).toBe('synthetic');

      const mic = row.getByRole('button', { name: 'Enregistrer au micro' });
      await mic.click();
      await until(() => row.locator('button.record').innerText()).toBe('Arrêter et envoyer');
      // Over half a second of the test microphone's beep: a take needs 0.2 s (src/voice/studio.ts).
      await page.waitForTimeout(600);
      await row.locator('button.record').click();
      await until(() => page.locator('.flash.ok').innerText()).toContain('Enregistrement de « main.title » mis en service.');
      expect(await page.locator('tr[data-slot="main.title"]').getAttribute('data-status')).toBe('recorded');
      const audit = app.services.db.prepare(`SELECT after_json FROM audit_log WHERE action = 'voice.record'`).pluck().all() as string[];
      expect(audit).toHaveLength(1);
      expect(JSON.parse(audit[0] as string)).toMatchObject({ lang: 'fr', slot: 'main.title', source: 'micro' });

      // The next call's first prompt is made from the take: another audio file.
      const after = await firstPrompt('studio-after');
      expect(after).toMatch(/\.wav$/);
      expect(after).not.toBe(before);
    } finally {
      await page.close();
      await app.close();
    }
  });
});
