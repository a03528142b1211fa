/**
 * Campaigns from the console, on top of the campaign service: a manager creates one for lapsed
 * members from the form, reads the preview, tests it on one phone, sends it, and reads the
 * delivery and the results; mistakes come back on the form; each action is audited.
 */
import { describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.ts';
import { type Browser, eachTestLoggedIn, loggedIn } from './support.ts';

const LAPSED_FORM = {
  name: 'Relance des ménages non couverts',
  statuses: 'lapsed',
  messageFr: 'Bonjour {prenom}, votre ménage n’est plus couvert par {mutuelle}. Payez {montant_du} au {code_ussd}.',
  fallback: 'fr',
};

describe('campaigns in the console', () => {
  let app: TestApp;
  let manager: Browser;
  eachTestLoggedIn('chef@utm.ml', 'manager', (a, b) => ((app = a), (manager = b)));

  it('creates a campaign to lapsed members, previews it, tests it, sends it and shows its delivery', async () => {
    const created = await manager.post('/admin/campaigns', LAPSED_FORM);
    expect(created.status, created.body).toBe(303);
    const path = created.location as string;
    const page = await manager.get(path);
    expect(page.body).toContain('Relance des ménages non couverts');
    expect(page.body).toContain('data-testid="campaign-preview"');
    const preview = app.services.campaigns.preview(Number(path.split('/').pop()));
    expect(preview.messages).toBeGreaterThan(0);
    expect(page.body).toContain(`<strong>${preview.messages}</strong> message(s) à envoyer, <strong>${preview.segments}</strong> SMS`);
    expect(page.body).toContain('Bonjour Aminata, votre ménage');

    const test = await manager.post(`${path}/test`, { phone: '+22376000099' });
    expect(test.location).toBe(`${path}?ok=campaign-test`);
    expect((await manager.get(test.location as string)).body).toContain('Message de test mis en file.');

    const sent = await manager.post(`${path}/send`, {});
    expect(sent.location).toBe(`${path}?ok=campaign-send`);
    await expect.poll(() => app.services.campaigns.get(Number(path.split('/').pop())).progress.enqueueDone, { timeout: 10_000 }).toBe(true);
    await app.services.dispatcher.drain();
    const id = Number(path.split('/').pop());
    await expect.poll(() => app.services.campaigns.results(id).counts.delivered, { timeout: 10_000 }).toBe(preview.messages);
    const results = await manager.get(path);
    expect(results.body).toContain(`data-count="delivered">${preview.messages}</td>`);
    expect(results.body).toContain('data-testid="campaign-results"');
    expect(results.body).toMatch(new RegExp(`<td>Mis en file</td><td class="num" data-count="queued">${preview.messages}</td>`));
    expect(results.body).toContain('Conversions : ont payé dans les 14 jours');

    const again = await manager.post(`${path}/send`, {});
    expect(again.status).toBeGreaterThanOrEqual(400);
    expect(again.body).toContain('class="flash error"');
    expect(app.services.office.audit.list({ entity: 'campaign' }).map((r) => r.action)).toEqual([
      'campaign.send',
      'campaign.test',
      'campaign.create',
    ]);
  });

  it('sends back an unknown placeholder with the list of valid ones, keeping what was typed', async () => {
    const r = await manager.post('/admin/campaigns', { ...LAPSED_FORM, messageFr: 'Bonjour {nom}' });
    expect(r.status).toBe(400);
    expect(r.body).toMatch(/\{nom\}/);
    expect(r.body).toContain('prenom');
    expect(r.body).toContain('>Bonjour {nom}</textarea>');
    expect(app.services.campaigns.list()).toEqual([]);
  });

  it('is for managers only', async () => {
    const officer = await loggedIn(app, 'awa@utm.ml', 'officer');
    expect((await officer.get('/admin/campaigns')).status).toBe(403);
    expect((await officer.post('/admin/campaigns', LAPSED_FORM)).status).toBe(403);
  });
});
