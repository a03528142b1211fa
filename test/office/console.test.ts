/**
 * The office console over real HTTP: logging in, who may see what, CSRF, what a hostile name or
 * search does, the call-back queue fed by a member's USSD request, the support view and its
 * actions, and an audit row for every write.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { addStaff, browser, loggedIn, PASSWORD } from './support.ts';

const MOUSSA = '+22376000001';

describe('the office console', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await startTestApp();
  });
  afterEach(() => app.close());

  // The writes, without the reads and logins that are audited too (test/office/security.test.ts).
  const auditActions = () =>
    app.services.office.audit
      .list()
      .filter((r) => !['household.view', 'login.success'].includes(r.action))
      .map((r) => `${r.actor} ${r.action} ${r.entity} ${r.entityId ?? ''}`.trim());

  it.each(['/admin', '/admin/members?q=x', '/admin/households/1', '/admin/callbacks', '/admin/audit', '/admin/staff', '/admin/nowhere'])(
    'sends a browser without a session from %s to the login page',
    async (path) => {
      const res = await browser(app).get(path);
      expect(res.status).toBe(303);
      expect(res.location).toBe(`/admin/login?next=${encodeURIComponent(path)}`);
    },
  );

  it('refuses a form posted without a session (401) and the API without its token (401, 503 when unset)', async () => {
    const b = browser(app);
    expect((await b.post('/admin/callbacks/1/claim', {}, { csrf: false })).status).toBe(401);
    expect((await b.get('/admin/api/ledger.csv')).status).toBe(503);
  });

  it('logs in with a session cookie that scripts cannot read, and logs out', async () => {
    await addStaff(app, 'awa@utm.ml', 'officer');
    const res = await fetch(`${app.url}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: 'AWA@utm.ml', password: PASSWORD, next: '/admin/callbacks' }).toString(),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/callbacks');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^sabatili_staff=[\w-]{43}; /);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toContain('Path=/admin');

    const b = browser(app);
    b.cookie = cookie.split(';')[0] as string;
    expect((await b.get('/admin')).status).toBe(200);
    expect((await b.post('/admin/logout', {})).location).toBe('/admin/login');
    expect((await b.get('/admin')).status).toBe(303);
  });

  it('does not follow a login redirect to another site', async () => {
    await addStaff(app, 'awa@utm.ml', 'officer');
    const res = await browser(app).post(
      '/admin/login',
      { email: 'awa@utm.ml', password: PASSWORD, next: 'https://evil.example/admin' },
      { csrf: false },
    );
    expect(res.location).toBe('/admin');
  });

  it('gives the same answer for an unknown email as for a wrong password', async () => {
    const r = await browser(app).post('/admin/login', { email: 'nobody@utm.ml', password: 'whatever-it-is' }, { csrf: false });
    expect(r.status).toBe(401);
    expect(r.body).toContain('Adresse e-mail ou mot de passe incorrect.');
  });

  it("shows an officer a manager's page as 403, and lets a manager in", async () => {
    const officer = await loggedIn(app, 'awa@utm.ml', 'officer');
    for (const path of ['/admin/audit', '/admin/staff']) {
      const r = await officer.get(path);
      expect(r.status, path).toBe(403);
      expect(r.body).toContain('Accès réservé aux responsables');
    }
    const manager = await loggedIn(app, 'chef@utm.ml', 'manager');
    expect((await manager.get('/admin/audit')).status).toBe(200);
    const staff = await manager.get('/admin/staff');
    expect(staff.body).toContain('awa@utm.ml');
  });

  it('refuses a form without its CSRF token, or with another session’s', async () => {
    const a = await loggedIn(app, 'awa@utm.ml', 'officer');
    const b = await loggedIn(app, 'binta@utm.ml', 'officer');
    const none = await a.post('/admin/households/1/notes', { text: 'x' }, { csrf: false });
    expect(none.status).toBe(403);
    expect(none.body).toContain('jeton CSRF');
    const other = await a.post('/admin/households/1/notes', { text: 'x', _csrf: await b.csrf() });
    expect(other.status).toBe(403);
    expect(app.services.db.prepare('SELECT count(*) FROM household_notes').pluck().get()).toBe(0);
  });

  it('renders a name containing HTML as text, and treats SQL characters in a search as characters', async () => {
    const id = app.services.households.create(
      {
        cardNumber: 'SIK-KLE-0666',
        adherentName: '<script>alert("x")</script> O\'Brien',
        phone: '+22376000666',
        language: 'fr',
        mutuelleId: 'sik-klela',
        joinedOn: '2026-01-01',
        beneficiaries: [{ name: '<img src=x onerror=alert(1)>', relation: 'adherent', subsidised: false }],
      },
      app.clock.now(),
    );
    const b = await loggedIn(app, 'awa@utm.ml', 'officer');
    const page = await b.get(`/admin/households/${id}`);
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('<script>alert');
    expect(page.body).not.toContain('<img src=x');
    expect(page.body).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; O&#39;Brien');

    const found = await b.get(`/admin/members?q=${encodeURIComponent("O'Brien")}`);
    expect(found.body).toContain(`/admin/households/${id}`);
    for (const q of ["'; DROP TABLE households; --", '%', '_', '" OR 1=1 --']) {
      const r = await b.get(`/admin/members?q=${encodeURIComponent(q)}`);
      expect(r.status, q).toBe(200);
      expect(r.body, q).toContain('0 ménage(s)');
    }
    expect(app.services.db.prepare('SELECT count(*) FROM households').pluck().get()).toBe(5);
  });

  it('finds a household by phone however it is written, by card, and by name without accents', async () => {
    const b = await loggedIn(app, 'awa@utm.ml', 'officer');
    for (const q of ['+22376000001', '76 00 00 01', '0022376000001', 'sik-kle-0001', 'traore', 'TRAORÉ', 'awa couli']) {
      const r = await b.get(`/admin/members?q=${encodeURIComponent(q)}`);
      expect(r.body, q).toContain('1 ménage(s)');
      expect(r.body, q).toContain('Moussa Traoré');
    }
    expect((await b.get('/admin/members?q=sangare')).body).toContain('Aminata Sangaré');
  });

  it('queues a call-back asked over USSD; an officer claims it and closes it with what was agreed', async () => {
    const sessionId = 'cb-1';
    for (const text of ['', '5', '5*1']) expect((await app.hop(sessionId, MOUSSA, text)).status).toBe(200);
    const b = await loggedIn(app, 'awa@utm.ml', 'officer');
    app.clock.advance(90 * 60_000);
    const queue = await b.get('/admin/callbacks');
    expect(queue.body).toContain('Moussa Traoré');
    expect(queue.body).toMatch(/<td>1 h 30 min<\/td>\s*<td>paiement <small>\(menu USSD\)<\/small><\/td>\s*<td>\+22376000001<\/td>/);
    const id = /data-callback="(\d+)"/.exec(queue.body)?.[1] as string;

    expect((await b.post(`/admin/callbacks/${id}/claim`, {})).location).toBe('/admin/callbacks?ok=callback-claimed');
    expect((await b.get('/admin/callbacks')).body).toContain('pris par awa@utm.ml');
    const empty = await b.post(`/admin/callbacks/${id}/done`, { outcome: '  ' });
    expect(empty.status).toBe(400);
    expect(empty.body).toContain('outcome: say what was agreed');
    app.clock.advance(30 * 60_000);
    await b.post(`/admin/callbacks/${id}/done`, { outcome: 'Paiement retrouvé, reçu renvoyé' });

    const after = await b.get('/admin/callbacks');
    expect(after.body).toContain('Aucune demande en attente.');
    expect(after.body).toMatch(/délai médian de rappel sur 30 jours : <strong>2 h 0 min<\/strong> \(1 rappel\(s\)\)/);
    expect(auditActions().slice(0, 2)).toEqual([
      `awa@utm.ml callback.done callback_request ${id}`,
      `awa@utm.ml callback.claim callback_request ${id}`,
    ]);
    const support = await b.get('/admin/households/1');
    expect(support.body).toContain('paiement · terminée : Paiement retrouvé, reçu renvoyé');
  });

  it('shows a member’s situation on one page and audits each action on it', async () => {
    const b = await loggedIn(app, 'awa@utm.ml', 'officer');
    await app.hop('s-1', MOUSSA, '');
    await app.hop('s-1', MOUSSA, '1');
    const page = await b.get('/admin/households/1');
    expect(page.body).toContain("Couverture aujourd'hui : couvert");
    expect(page.body).toContain("Payé jusqu'au <strong>30/04/2026</strong>");
    expect(page.body).toContain('Reste <strong>1 250 FCFA</strong> pour couvrir mai 2026.');
    // Every screen of the member's session, in order, with what was typed.
    const session = page.body.slice(page.body.indexOf('data-testid="sessions"'));
    const screens = [...session.matchAll(/<pre>([^<]*)<\/pre>/g)].map((m) => m[1]?.split('\n')[0]);
    expect(screens.slice(0, 2)).toEqual(['CON Kénéya Sabatili', 'CON Moussa Traoré, 5 pers.']);
    expect(session).toContain('a tapé <code>1</code>');
    expect(page.body).toContain('Orange Money : +22376000001');

    await b.post('/admin/households/1/notes', { text: 'A appelé pour sa carte' });
    await b.post('/admin/households/1/language', { language: 'bm' });
    const again = await b.get('/admin/households/1');
    expect(again.body).toContain('A appelé pour sa carte');
    expect(again.body).toContain('langue bambara');
    expect(app.services.households.load(1)?.household.language).toBe('bm');
    expect(auditActions().slice(0, 2)).toEqual(['awa@utm.ml household.language household 1', 'awa@utm.ml household.note household 1']);
    const language = app.services.office.audit.list({ action: 'household.language' })[0];
    expect([language?.before, language?.after]).toEqual(['{"language":"fr"}', '{"language":"bm"}']);
    const unknown = await b.post('/admin/households/1/language', { language: 'en' });
    expect([unknown.status, unknown.body.includes('Langue inconnue.')]).toEqual([400, true]);
    expect((await b.get('/admin/households/999')).status).toBe(404);
  });

  it('resends a receipt and cancels a stuck pending payment, each audited', async () => {
    const b = await loggedIn(app, 'awa@utm.ml', 'officer');
    const pay = async (session: string) => {
      for (const text of ['', '2', '2*1', '2*1*1']) expect((await app.hop(session, MOUSSA, text)).status).toBe(200);
      return app.services.payments.pendingFor(MOUSSA);
    };
    const first = await pay('pay-1');
    const confirm = await fetch(`${app.url}/simulator/api/wallet/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone: MOUSSA, pin: '1234' }),
    });
    expect(confirm.status).toBe(200);
    await app.services.orange.flush();
    const receipts = () =>
      app.services.db.prepare("SELECT text FROM sms_outbox WHERE recipient = ? AND text LIKE '%FCFA (frais%'").pluck().all(MOUSSA);
    expect(receipts()).toHaveLength(1);
    const resent = await b.post(`/admin/households/1/payments/${first?.id}/resend-receipt`, {});
    expect(resent.location).toBe('/admin/households/1?ok=receipt-resent');
    expect((await b.get(resent.location as string)).body).toContain('Reçu renvoyé.');
    expect(receipts()).toEqual([receipts()[0], receipts()[0]]);

    const stuck = await pay('pay-2');
    expect(stuck?.status).toBe('pending');
    const refused = await b.post(`/admin/households/1/payments/${first?.id}/cancel`, {});
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('Ce paiement n&#39;est pas en attente.');
    const cancelled = await b.post(`/admin/households/1/payments/${stuck?.id}/cancel`, {});
    expect(cancelled.location).toBe('/admin/households/1?ok=payment-cancelled');
    expect(app.services.payments.ofHousehold(1, stuck?.id as number)?.status).toBe('cancelled');
    // Another household's payment is not reachable through this one's page.
    expect((await b.post(`/admin/households/2/payments/${first?.id}/resend-receipt`, {})).body).toContain('Pas de reçu pour ce paiement.');
    expect(auditActions().slice(0, 2)).toEqual([
      `awa@utm.ml payment.cancel payment ${stuck?.id}`,
      `awa@utm.ml payment.resend-receipt payment ${first?.id}`,
    ]);
  });

  it("shows a household's campaign messages on its page, also once the household has moved to another phone", async () => {
    const c = app.services.campaigns.create({
      name: 'Relance',
      audience: {},
      messages: { fr: 'Bonjour {prenom}, pensez à cotiser' },
      fallbackLanguage: 'fr',
    });
    app.services.campaigns.startSend(c.id);
    expect(app.services.campaigns.enqueueAll(c.id).progress.queued).toBeGreaterThan(1);
    const moussa = app.services.households.findByPhone(MOUSSA)?.id as number;
    const b = await loggedIn(app, 'awa@utm.ml', 'officer');
    expect((await b.get(`/admin/households/${moussa}`)).body).toContain('Bonjour Moussa, pensez à cotiser');
    const h = app.services.households.load(moussa)?.household as { adherentName: string; language: 'fr' | 'bm'; mutuelleId: string };
    const moved = app.services.households.update(
      moussa,
      app.services.households.versionOf(moussa) as number,
      { adherentName: h.adherentName, phone: '+22376000777', language: h.language, mutuelleId: h.mutuelleId },
      app.clock.now(),
    );
    expect(moved).toBe(true);
    expect((await b.get(`/admin/households/${moussa}`)).body).toContain('Bonjour Moussa, pensez à cotiser');
  });

  it('lets a manager filter the audit log, and refuses a bad date', async () => {
    const m = await loggedIn(app, 'chef@utm.ml', 'manager');
    await m.post('/admin/households/2/notes', { text: 'note 2' });
    await m.post('/admin/households/1/notes', { text: 'note 1' });
    const filtered = await m.get('/admin/audit?entity=household&entityId=2');
    expect(filtered.body).toContain('note 2');
    expect(filtered.body).not.toContain('note 1');
    expect((await m.get('/admin/audit?from=10-03-2026')).status).toBe(400);
  });
});
