import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrations } from '../../src/db/migrations.ts';

/** A database in `dir` with the migrations before `version` applied, as an installation of that age has it. */
export function databaseBefore(version: number, dir: string): Database.Database {
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
