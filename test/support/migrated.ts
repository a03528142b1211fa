import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { onTestFinished } from 'vitest';
import { migrations } from '../../src/db/migrations.ts';

/**
 * A database with the migrations before `version` applied, as an installation of that age has it,
 * in a temporary folder removed when the test that asked for it ends.
 */
export function databaseBefore(version: number): Database.Database {
  const dir = mkdtempSync(join(tmpdir(), `sabatili-m${version}-`));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const db = new Database(join(dir, 'x.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  for (const m of migrations.filter((m) => m.version < version)) {
    db.transaction(() => {
      db.exec(m.sql);
      m.run?.(db);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, '2026-12-03T00:00:00Z');
    })();
  }
  return db;
}

/**
 * What an upgrade test's rows refer to: product 'p', its mutuelle 'm', and one household (adherent
 * Awa, card `${prefix}-${n}`) per phone, numbered from 1 in the order given; campaigns by id.
 */
export function minimalNetwork(db: Database.Database, prefix: string, phones: readonly string[], campaigns: readonly number[] = []): void {
  db.exec(`INSERT INTO products (id, name) VALUES ('p', 'P'); INSERT INTO mutuelles VALUES ('m', 'M', 'D', 0, 'p')`);
  const household = db.prepare(
    `INSERT INTO households (card_number, adherent_name, phone, language, mutuelle_id, joined_on, created_at, updated_at)
     VALUES (?, 'Awa', ?, 'fr', 'm', '2024-06-01', 'x', 'x')`,
  );
  phones.forEach((phone, i) => household.run(`${prefix}-${i + 1}`, phone));
  const campaign = db.prepare(
    `INSERT INTO campaigns (id, name, audience, messages, created_at, updated_at) VALUES (?, 'c', '{}', '{}', 'x', 'x')`,
  );
  for (const id of campaigns) campaign.run(id);
}

/** How SQLite would run `sql` (its EXPLAIN QUERY PLAN lines, joined by ' | '): which index, whether a sort. */
export function queryPlan(db: Database.Database, sql: string, ...params: unknown[]): string {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
}
