/**
 * `sabatili backup FILE` on the database of a running server that keeps answering USSD hops
 * meanwhile (its own connection, as when cron runs it): the copy is a consistent database. The
 * refusal runs the real binary.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { sabatili, spawnSabatili } from '../support/cli.ts';

let app: TestApp;
let dir: string;

beforeAll(async () => {
  app = await startTestApp();
  dir = mkdtempSync(join(tmpdir(), 'sabatili-backup-'));
});
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

const backup = (...args: string[]) => sabatili(['backup', ...args], { env: { DATABASE_PATH: app.dbPath } });

const TABLES = ['households', 'beneficiaries', 'contributions', 'mutuelles', 'product_parameters', 'wallets', 'ussd_sessions'];
const counts = (db: Database.Database) =>
  Object.fromEntries(TABLES.map((t) => [t, db.prepare(`SELECT COUNT(*) FROM ${t}`).pluck().get() as number]));

describe('sabatili backup', () => {
  it('copies the live database while the server writes: the copy opens, is intact and has the same rows', async () => {
    // Make the database larger than one backup step, so that writes land between steps.
    const live = app.services.db;
    live.transaction(() => {
      const insert = live.prepare(
        `INSERT INTO ussd_session_events (session_id, phone, status, last_app_response, received_at) VALUES (?, '+22376000001', 'Success', ?, '2026-03-10T09:00:00Z')`,
      );
      for (let i = 0; i < 20_000; i++) insert.run(`bulk-${i}`, 'x'.repeat(200));
    })();
    const before = counts(live);
    let hops = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const r = await app.hop(`backup-${hops}`, '+22376000001', '');
        expect(r.status).toBe(200);
        hops++;
      }
    })();
    const file = join(dir, 'copy.db');
    const r = await backup(file);
    writing = false;
    await writer;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/copied to .*copy\.db: \d+ pages in/);
    expect(r.stderr).toContain('backup: 100%');
    expect(hops).toBeGreaterThan(0);
    expect(existsSync(`${file}.partial`)).toBe(false);

    const copy = new Database(file, { readonly: true });
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    const copied = counts(copy);
    const after = counts(live);
    // Tables nobody wrote to: identical. The sessions table: somewhere between before and after.
    expect({ ...copied, ussd_sessions: 0 }).toEqual({ ...before, ussd_sessions: 0 });
    expect(copied.ussd_sessions).toBeGreaterThanOrEqual(before.ussd_sessions!);
    expect(copied.ussd_sessions).toBeLessThanOrEqual(after.ussd_sessions!);
    expect(copy.prepare('SELECT COUNT(*) FROM ussd_session_events').pluck().get()).toBe(20_000);
    expect(copy.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get()).toBe(
      live.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get(),
    );
    copy.close();
  });

  it('refuses to overwrite an existing file unless --force', async () => {
    const file = join(dir, 'existing.db');
    writeFileSync(file, 'keep me');
    const refused = await spawnSabatili(['backup', file], { env: { DATABASE_PATH: app.dbPath } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('existing.db exists: choose another name, or add --force to overwrite it');
    expect(readFileSync(file, 'utf8')).toBe('keep me');

    const forced = await backup(file, '--force', '--quiet');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toBe('');
    const copy = new Database(file, { readonly: true });
    expect(copy.prepare('SELECT COUNT(*) FROM households').pluck().get()).toBe(4);
    copy.close();
  });
});
