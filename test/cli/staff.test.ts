/**
 * `sabatili staff add|password|list|disable` as UTM's administrator runs them on the server: the password
 * piped on standard input, a clear message and exit code 2 for anything wrong, and the account
 * then usable (or no longer usable) to log in.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browser } from '../office/support.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { sabatili as run, spawnSabatili } from '../support/cli.ts';

/** In this process, through the command parser; the real binary runs once below. */
async function sabatili(dbPath: string, args: string[], stdin = ''): Promise<{ code: number | null; out: string; err: string }> {
  const r = await run(args, { env: { DATABASE_PATH: dbPath }, stdin });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

describe('sabatili staff', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sabatili-staff-'));
  const dbPath = join(dir, 'staff.db');
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ dbPath, seed: false });
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds a manager with the password piped to the real binary, who can then log in', async () => {
    const r = await spawnSabatili(['staff', 'add', '--email', 'Fatou@UTM.ml', '--name', 'Fatou Diallo', '--role', 'manager'], {
      env: { DATABASE_PATH: dbPath },
      stdin: 'un mot de passe long\n',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('manager fatou@utm.ml created: log in at /admin\n');
    const login = await browser(app).post('/admin/login', { email: 'fatou@utm.ml', password: 'un mot de passe long' }, { csrf: false });
    expect(login.status).toBe(303);
    const row = app.services.office.audit.list({ action: 'staff.add' })[0];
    expect(row?.actor).toBe(userInfo().username);
    expect(row?.after).not.toContain('password');
  });

  it.each([
    [['--email', 'x@utm.ml', '--name', 'X', '--role', 'chief'], 'long enough password', '--role: "chief" is neither officer nor manager'],
    [
      ['--email', 'not-an-email', '--name', 'X', '--role', 'officer'],
      'long enough password',
      'email: "not-an-email" is not an email address',
    ],
    [['--email', 'y@utm.ml', '--name', 'Y', '--role', 'officer'], 'short', 'password: must have at least 12 characters'],
    [
      ['--email', 'FATOU@utm.ml', '--name', 'Again', '--role', 'officer'],
      'long enough password',
      'email: fatou@utm.ml already has an account',
    ],
  ])('refuses %j with a message and exit code 2', async (args, password, message) => {
    const r = await sabatili(dbPath, ['staff', 'add', ...args], password);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe(message);
  });

  it('sets a password read from standard input (never argv), ends the sessions, and audits under the system user', async () => {
    const b = browser(app);
    await b.post('/admin/login', { email: 'fatou@utm.ml', password: 'un mot de passe long' }, { csrf: false });
    expect((await sabatili(dbPath, ['staff', 'password', '--email', 'fatou@utm.ml'], 'password1234\n')).err).toBe(
      'password: is too common (a well-known password, or one with a few digits added)\n',
    );
    const r = await sabatili(dbPath, ['staff', 'password', '--email', 'fatou@utm.ml'], 'trois chameaux au marché\n');
    expect([r.code, r.out]).toEqual([0, 'fatou@utm.ml: password changed, sessions ended\n']);
    expect((await b.get('/admin')).status).toBe(303);
    expect(
      (await browser(app).post('/admin/login', { email: 'fatou@utm.ml', password: 'trois chameaux au marché' }, { csrf: false })).status,
    ).toBe(303);
    const audit = app.services.office.audit;
    expect(audit.list({ action: 'staff.password' })[0]?.actor).toBe(userInfo().username);
    const run = audit.list({ action: 'cli.run' })[0];
    expect([run?.actor, run?.entityId]).toEqual([userInfo().username, 'staff password']);
    expect(run?.after).not.toContain('chameaux');
  });

  it('lists accounts and disables one, ending its sessions', async () => {
    const b = browser(app);
    await b.post('/admin/login', { email: 'fatou@utm.ml', password: 'trois chameaux au marché' }, { csrf: false });
    expect((await b.get('/admin')).status).toBe(200);
    expect((await sabatili(dbPath, ['staff', 'list'])).out).toBe('fatou@utm.ml\tFatou Diallo\tmanager\tactive\n');
    const r = await sabatili(dbPath, ['staff', 'disable', 'fatou@utm.ml']);
    expect(r.out).toBe('fatou@utm.ml disabled\n');
    expect((await b.get('/admin')).status).toBe(303);
    const again = await browser(app).post('/admin/login', { email: 'fatou@utm.ml', password: 'trois chameaux au marché' }, { csrf: false });
    expect(again.body).toContain('Ce compte est désactivé.');
    expect((await sabatili(dbPath, ['staff', 'disable', 'nobody@utm.ml'])).err).toBe('no account for nobody@utm.ml\n');
  });
});
