/**
 * Databases for tests, copied from ones this process has migrated (and seeded) once: the migrations
 * and the demo seed cost more than most tests, and give the same database each time.
 */

import { accessSync, constants, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Clock } from '../../src/clock.ts';
import { type Db, openDatabase } from '../../src/db/connection.ts';
import { migrate } from '../../src/db/migrations.ts';
import { seedDemo } from '../../src/db/seed.ts';

/**
 * Where test databases live: tmpfs when the machine has one. SQLite flushes the file to disk at each
 * checkpoint and close, a wait (and kernel time) per test app that a database deleted a moment later
 * does not need; the SQL and the files are the same.
 */
export const SCRATCH = (() => {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
})();

const files = new Map<string, string>();
let folder: string | undefined;

/** Writes at `path` a migrated database, with the demo network seeded at `seedAt`'s time when given. */
export function copyFreshDatabase(path: string, seedAt?: Clock): void {
  const key = seedAt ? seedAt.now().toISOString() : 'unseeded';
  let template = files.get(key);
  if (!template) {
    if (!folder) {
      const made = mkdtempSync(join(SCRATCH, 'sabatili-templates-'));
      process.once('exit', () => rmSync(made, { recursive: true, force: true }));
      folder = made;
    }
    template = join(folder, `${files.size}.db`);
    const db = openDatabase(template);
    if (seedAt) seedDemo(db, seedAt);
    // Closing the last connection checkpoints the WAL into the file, so the file alone is the database.
    db.close();
    files.set(key, template);
  }
  copyFileSync(template, path);
}

const images = new Map<string, Buffer>();

/**
 * A migrated in-memory database, as openDatabase(':memory:') opens it, with the demo network seeded
 * at `seedAt`'s time when given, from an image made once per process: migrating and seeding from
 * scratch cost a few milliseconds each time.
 */
export function memoryDatabase(seedAt?: Clock): Db {
  const key = seedAt ? seedAt.now().toISOString() : 'unseeded';
  let image = images.get(key);
  if (!image) {
    const db = openDatabase(':memory:');
    if (seedAt) seedDemo(db, seedAt);
    image = db.serialize();
    images.set(key, image);
    db.close();
  }
  const db = new Database(image);
  // A deserialized database keeps its schema but not the connection's settings.
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}
