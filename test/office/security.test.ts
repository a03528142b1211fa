/**
 * Staff access, audit and exports over real HTTP (issue 14, items 6 to 8): throttling per (account,
 * address) with no lock a stranger can trigger, Secure cookies behind a trusted proxy, same-origin
 * POSTs, no text from the URL, password rules and change, private short-lived uploads, formula
 * cells neutralised in every CSV export, and the audit rows of it all.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { PasswordError } from '../../src/office/staff.ts';
import { UPLOAD_MAX_AGE_MS } from '../../src/office/uploads.ts';
import { parseStatement } from '../../src/payments/reconcile.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { addStaff, type Browser, browser, loggedIn, PASSWORD } from './support.ts';

const TOKEN = 'an-admin-token-for-the-tests';
let app: TestApp;
afterEach(() => app?.close());

/** A login form posted from a given client address (X-Forwarded-For, believed with TRUST_PROXY). */
async function login(email: string, password: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${app.url}/admin/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'test-agent/1.0', ...headers },
    body: new URLSearchParams({ email, password }).toString(),
  });
  return { status: res.status, body: await res.text(), cookie: res.headers.get('set-cookie') ?? '' };
}
const from = (address: string) => ({ 'x-forwarded-for': address });
const actions = (action: string) => app.services.office.audit.list({ action });

describe('logging in', () => {
  it('throttles the (account, address) pair after wrong passwords, exactly like a wrong password, and lets the owner in from elsewhere', async () => {
    app = await startTestApp({ env: { TRUST_PROXY: 'loopback' } });
    await addStaff(app, 'awa@utm.ml', 'manager');
    const wrong = [];
    for (let i = 1; i <= 10; i++) wrong.push(await login('awa@utm.ml', `wrong password ${i}`, from('203.0.113.10')));
    expect(wrong.map((r) => r.status)).toEqual(Array(10).fill(401));
    // The right password from another address gets in at once: no lock a stranger can trigger.
    expect((await login('awa@utm.ml', PASSWORD, from('198.51.100.20'))).status).toBe(303);
    // From the guesser's address the right password is throttled, and reads exactly as a wrong one.
    const throttled = await login('awa@utm.ml', PASSWORD, from('203.0.113.10'));
    expect(throttled).toEqual(wrong[0]);
    expect(throttled.body).toContain('Adresse e-mail ou mot de passe incorrect.');

    expect(actions('login.failure')).toHaveLength(5);
    expect(actions('login.throttled')).toHaveLength(6);
    const ok = actions('login.success')[0];
    expect(ok?.actor).toBe('awa@utm.ml');
    expect(JSON.parse(ok?.after as string)).toEqual({ address: '198.51.100.20', userAgent: 'test-agent/1.0' });
    expect(JSON.parse(actions('login.failure')[0]?.after as string).address).toBe('203.0.113.10');

    // The delay grows from 30 s; once it has passed, the pair may try again.
    app.clock.advance(31_000);
    expect((await login('awa@utm.ml', PASSWORD, from('203.0.113.10'))).status).toBe(303);
  });

  it('throttles an unknown email the same way, so the answers reveal no account', async () => {
    app = await startTestApp({ env: { TRUST_PROXY: 'loopback' } });
    for (let i = 0; i < 6; i++) await login('nobody@utm.ml', 'whatever it is', from('203.0.113.10'));
    expect(actions('login.failure')).toHaveLength(5);
    expect(actions('login.throttled')).toHaveLength(1);
  });

  it('sets a Secure cookie behind a trusted TLS proxy, and not when the proxy is not trusted', async () => {
    app = await startTestApp({ env: { TRUST_PROXY: '127.0.0.1' } });
    await addStaff(app, 'awa@utm.ml', 'officer');
    const behindTls = await login('awa@utm.ml', PASSWORD, { 'x-forwarded-proto': 'https' });
    expect(behindTls.cookie).toMatch(/; Secure/);
    expect((await login('awa@utm.ml', PASSWORD)).cookie).not.toMatch(/Secure/);
    await app.close();

    app = await startTestApp();
    await addStaff(app, 'awa@utm.ml', 'officer');
    expect((await login('awa@utm.ml', PASSWORD, { 'x-forwarded-proto': 'https' })).cookie).not.toMatch(/Secure/);
  });

  it('refuses a login and a console form posted from another site, and audits logout', async () => {
    app = await startTestApp();
    await addStaff(app, 'awa@utm.ml', 'officer');
    for (const origin of [{ origin: 'https://evil.example' }, { referer: 'https://evil.example/page' }, { origin: 'null' }] as Record<
      string,
      string
    >[]) {
      const r = await login('awa@utm.ml', PASSWORD, origin);
      expect(r.status, JSON.stringify(origin)).toBe(403);
      expect(r.cookie).toBe('');
    }
    expect((await login('awa@utm.ml', PASSWORD, { origin: app.url })).status).toBe(303);

    const b = await loggedIn(app, 'chef@utm.ml', 'manager');
    const note = (headers: Record<string, string>) =>
      b.csrf().then((csrf) =>
        fetch(`${app.url}/admin/households/1/notes`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: b.cookie, ...headers },
          body: new URLSearchParams({ _csrf: csrf, text: 'une note' }).toString(),
        }),
      );
    expect((await note({ origin: 'https://evil.example' })).status).toBe(403);
    expect(actions('household.note')).toHaveLength(0);
    expect((await note({ origin: app.url })).status).toBe(303);
    expect((await note({})).status).toBe(303);

    expect((await b.post('/admin/logout', {})).status).toBe(303);
    expect(actions('logout')[0]?.actor).toBe('chef@utm.ml');
  });
});

describe('console pages', () => {
  it('show only their own messages for ?ok= and ignore ?error=', async () => {
    app = await startTestApp();
    const b = await loggedIn(app, 'awa@utm.ml', 'officer');
    const page = await b.get(
      `/admin/households/1?error=${encodeURIComponent('Votre compte est suspendu: appelez le +223 00 00 00 00')}&ok=Bravo`,
    );
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('suspendu');
    expect(page.body).not.toContain('Bravo');
    expect(page.body).not.toContain('class="flash');
    expect((await b.get('/admin/callbacks?ok=callback-done')).body).toContain('Demande d&#39;appel terminée.');
    expect((await b.get('/admin/callbacks?ok=toString')).body).not.toContain('class="flash');
    // Opening a member's file is audited.
    expect(actions('household.view').map((r) => [r.actor, r.entityId])).toEqual([['awa@utm.ml', '1']]);
  });
});

describe('passwords', () => {
  it('refuses short, common and email-containing passwords', async () => {
    app = await startTestApp();
    const add = (email: string, password: string) =>
      app.services.office.staff.add({ email, name: 'X', role: 'officer', password }, { staffId: null, name: 'test' });
    for (const [password, problem] of [
      ['short pass', 'short'],
      ['password1234', 'common'],
      ['qwertyuiop!!', 'common'],
      ['111111111111', 'common'],
      ['Moussa.Keita-2026!', 'email'],
    ] as const) {
      await expect(add('moussa.keita@utm.ml', password), password).rejects.toSatisfy(
        (e) => e instanceof PasswordError && e.problem === problem,
      );
    }
    await expect(add('moussa.keita@utm.ml', 'trois chameaux au marché')).resolves.toMatchObject({ email: 'moussa.keita@utm.ml' });
  });

  it('changes a password on its page: current one checked, rules applied, other sessions ended', async () => {
    app = await startTestApp();
    const here = await loggedIn(app, 'awa@utm.ml', 'officer');
    const elsewhere = browser(app);
    await elsewhere.post('/admin/login', { email: 'awa@utm.ml', password: PASSWORD }, { csrf: false });
    expect((await here.get('/admin/password')).body).toContain('Nouveau mot de passe');

    const change = (current: string, next: string, again = next) => here.post('/admin/password', { current, next, again });
    const wrongCurrent = await change('not my password', 'trois chameaux au marché');
    expect([wrongCurrent.status, wrongCurrent.body.includes('Mot de passe actuel incorrect.')]).toEqual([400, true]);
    const weak = await change(PASSWORD, 'password1234');
    expect([weak.status, weak.body.includes('trop courant')]).toEqual([400, true]);
    const differ = await change(PASSWORD, 'trois chameaux au marché', 'trois chameaux au marche');
    expect(differ.body).toContain('Les deux saisies du nouveau mot de passe diffèrent.');

    const done = await change(PASSWORD, 'trois chameaux au marché');
    expect(done.location).toBe('/admin/password?ok=password-changed');
    expect((await here.get('/admin')).status).toBe(200);
    expect((await elsewhere.get('/admin')).status).toBe(303);
    expect((await login('awa@utm.ml', PASSWORD)).status).toBe(401);
    expect((await login('awa@utm.ml', 'trois chameaux au marché')).status).toBe(303);
    expect(JSON.parse(actions('staff.password')[0]?.after as string)).toEqual({ otherSessionsEnded: 1 });
  });
});

describe('uploads', () => {
  const folder = () => join(dirname(app.dbPath), 'uploads');
  async function upload(b: Browser, path: string, csv: string, csrf?: string) {
    const body = new FormData();
    body.set('_csrf', csrf ?? (await b.csrf(path)));
    body.set('file', new Blob([csv], { type: 'text/csv' }), 'fichier.csv');
    const res = await fetch(`${app.url}${path}`, { method: 'POST', headers: { cookie: b.cookie }, body, redirect: 'manual' });
    return { status: res.status, body: await res.text() };
  }
  const SAMPLE = readFileSync('fixtures/import/members-sample.csv', 'utf8');

  it('live in a private folder beside the database and go once refused, confirmed or abandoned', async () => {
    app = await startTestApp();
    const b = await loggedIn(app, 'chef@utm.ml', 'manager');
    expect(statSync(folder()).mode & 0o777).toBe(0o700);

    expect((await upload(b, '/admin/import', 'not,the,right,header\n1,2,3,4\n')).status).toBe(400);
    expect((await upload(b, '/admin/import', SAMPLE, 'a-forged-token')).status).toBe(403);
    expect((await upload(b, '/admin/reconcile', 'date,transaction_id\n')).status).toBe(400);
    expect((await upload(b, '/admin/reconcile', readFileSync('fixtures/import/members-sample.csv', 'utf8'))).status).toBe(400);
    expect(readdirSync(folder())).toEqual([]);

    // A preview never confirmed is swept by an upload once an hour has passed.
    const tokenOf = (page: { body: string }) => /action="\/admin\/import\/([^/"]+)\/confirm"/.exec(page.body)?.[1] as string;
    const abandoned = tokenOf(await upload(b, '/admin/import', SAMPLE));
    app.clock.advance(UPLOAD_MAX_AGE_MS / 2);
    const later = tokenOf(await upload(b, '/admin/import', SAMPLE));
    expect(existsSync(join(folder(), `${abandoned}.csv`))).toBe(true);
    app.clock.advance(UPLOAD_MAX_AGE_MS / 2 + 1000);
    const last = tokenOf(await upload(b, '/admin/import', SAMPLE));
    expect(readdirSync(folder()).sort()).toEqual([`${later}.csv`, `${last}.csv`].sort());

    // Confirmed: imported, then gone.
    expect((await b.post(`/admin/import/${last}/confirm`, {})).status).toBe(200);
    expect(readdirSync(folder())).toEqual([`${later}.csv`]);
  });
});

describe('CSV exports', () => {
  const FORMULA = "=cmd|' /C calc'!A0";
  /** Every cell of a CSV export, with the `# section` lines of the figures left out. */
  const cells = (csv: string): string[] =>
    (parse(csv.replace(/^#.*$/gm, ''), { relax_column_count: true, skip_empty_lines: true }) as string[][]).flat();
  const unsafe = (csv: string) => cells(csv).filter((c) => /^[=+\-@\t\r]/.test(c) && !/^-?\d+(\.\d+)?$/.test(c));

  it('neutralise formula cells in every export, console and API, and audit each download', async () => {
    app = await startTestApp({ env: { ADMIN_TOKEN: TOKEN } });
    const db = app.services.db;
    db.prepare('UPDATE mutuelles SET name = ? WHERE id = ?').run(FORMULA, 'sik-klela');
    db.prepare('UPDATE households SET adherent_name = ? WHERE id = 1').run(FORMULA);
    const campaign = app.services.campaigns.create({
      name: '@SUM(1+1)*cmd|" /C calc"!A0',
      messages: { fr: 'Bonjour {prenom}' },
      fallbackLanguage: 'fr',
    });
    app.services.campaigns.startSend(campaign.id);
    const b = await loggedIn(app, 'chef@utm.ml', 'manager');
    const api = (path: string) => fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.text());

    const exports = {
      consoleLedger: (await b.get('/admin/reconcile/ledger.csv')).body,
      consoleFigures: (await b.get('/admin/figures.csv?from=2025-04-01&to=2026-03-10')).body,
      apiLedger: await api('/admin/api/ledger.csv'),
      apiFigures: await api('/admin/api/kpi.csv?from=2025-04-01&to=2026-03-10'),
    };
    for (const [name, csv] of Object.entries(exports)) {
      expect(cells(csv).length, name).toBeGreaterThan(10);
      expect(unsafe(csv), name).toEqual([]);
    }
    expect(exports.consoleFigures).toContain(`'${FORMULA.replace(/"/g, '""')}`);
    expect(exports.apiFigures).toContain("'@SUM(1+1)");
    expect(exports.consoleLedger).toContain(",'+22376000001,");
    // Read back by our own importer, the phone is what it was.
    const back = parseStatement(exports.consoleLedger);
    expect(back.errors).toEqual([]);
    expect(back.rows[0]?.msisdn).toBe('+22376000001');

    expect(actions('export.ledger')[0]?.actor).toBe('chef@utm.ml');
    expect(actions('export.figures')[0]?.actor).toBe('chef@utm.ml');
    const calls = actions('api.get').map((r) => [r.actor, r.entityId, JSON.parse(r.after as string).status]);
    expect(calls).toEqual([
      ['api-token', '/admin/api/kpi.csv', 200],
      ['api-token', '/admin/api/ledger.csv', 200],
    ]);
  });
});
