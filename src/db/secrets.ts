import { randomBytes } from 'node:crypto';
import type { Db } from './connection.ts';

/**
 * A secret of this database, generated on first use (32 random bytes, hex) and kept in
 * `app_secrets`, so that no secret is ever a constant in the source. Outside production only:
 * production sets each secret in its environment. Insert-if-absent then read, so two processes
 * on one database (the server and a CLI command) agree on the value.
 */
export function secretFor(db: Db, name: string): string {
  db.prepare('INSERT INTO app_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING').run(
    name,
    randomBytes(32).toString('hex'),
    new Date().toISOString(),
  );
  return db.prepare('SELECT value FROM app_secrets WHERE name = ?').pluck().get(name) as string;
}
