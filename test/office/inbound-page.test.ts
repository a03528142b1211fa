/**
 * The texts the SMS cost limits leave unanswered are read by staff: the console's "SMS reçus"
 * page lists them with why no answer went, over real HTTP.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { loggedIn } from './support.ts';

describe('SMS reçus', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await startTestApp();
  });
  afterEach(() => app.close());

  it('lists a flood from one sender with the texts left unanswered and why, and filters them', async () => {
    for (let i = 1; i <= 7; i++) {
      expect((await app.post('/sms/inbound', { id: `flood-${i}`, from: '+22376000001', text: `SOLDE ${i}`, to: '36123' })).status).toBe(
        200,
      );
    }
    await app.post('/sms/inbound', { id: 'abroad-1', from: '+33612345678', text: 'BONJOUR', to: '36123' });
    const officer = await loggedIn(app, 'agent@utm.ml', 'officer');

    const all = await officer.get('/admin/inbound');
    expect(all.status).toBe(200);
    expect(all.body).toContain('BONJOUR');
    expect(all.body).toContain('sans réponse: numéro étranger');

    const one = await officer.get('/admin/inbound?phone=%2B22376000001');
    expect(one.body.match(/SOLDE \d/g)).toHaveLength(7);
    expect(one.body.match(/>répondu</g)).toHaveLength(5);
    expect(one.body.match(/limite par heure atteinte/g)).toHaveLength(2);
    expect(one.body).not.toContain('BONJOUR');

    const unanswered = await officer.get('/admin/inbound?unanswered=1');
    expect(unanswered.body.match(/SOLDE \d/g)).toHaveLength(2);
    expect(unanswered.body).toContain('BONJOUR');

    const bad = await officer.get('/admin/inbound?phone=%3Cscript%3E');
    expect(bad.status).toBe(400);
    expect(bad.body).not.toContain('<script>');
  });
});

describe('the audit log', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await startTestApp();
  });
  afterEach(() => app.close());

  it('names each action in French and filters by it', async () => {
    const manager = await loggedIn(app, 'chef@utm.ml', 'manager');
    await manager.get('/admin/households/1');
    const rows = async (path: string) => /data-testid="audit">([\s\S]*?)<\/table>/.exec((await manager.get(path)).body)?.[1] ?? '';
    const all = await rows('/admin/audit');
    expect(all).toContain('>connexion<');
    expect(all).toContain('>dossier consulté<');
    expect(all).not.toContain('>household.view<');
    const only = await rows('/admin/audit?action=household.view');
    expect(only).toContain('>dossier consulté<');
    expect(only).not.toContain('>connexion<');
  });
});
