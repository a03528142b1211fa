import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../src/clock.ts';
import { type Db, openDatabase } from '../../src/db/connection.ts';
import { copyFreshDatabase, SCRATCH } from './databases.ts';

export interface TempDb {
  dir: string;
  path: string;
  db: Db;
  /** Closes the connection (if still open) and removes the folder. */
  cleanup(): void;
}

/** A migrated SQLite file in a fresh temp folder: no demo seed (the SMS tables stand alone), unless seeded at `seedAt`'s time. */
export function tempDb(prefix = 'sabatili-sms-', seedAt?: Clock): TempDb {
  const dir = mkdtempSync(join(SCRATCH, prefix));
  const path = join(dir, 'sms.db');
  copyFreshDatabase(path, seedAt);
  const db = openDatabase(path);
  return {
    dir,
    path,
    db,
    cleanup() {
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Distinct valid Malian mobile numbers: +22376000000 + i (i < 10,000). */
export const mobile = (i: number): string => `+2237600${String(i).padStart(4, '0')}`;
