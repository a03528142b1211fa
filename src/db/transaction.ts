import type Database from 'better-sqlite3';
import type { Db } from './connection.ts';

/**
 * Work that spans owners commits as one: a household change with its audit row, a ledger credit
 * with its receipt. The owners' functions called inside join the transaction (SQLite savepoints
 * when nested), so callers never write SQL to get atomicity.
 */

/**
 * `work` wrapped once (for paths run often): each call is one transaction; `.immediate(...)` takes
 * the write lock first. `any[]` is better-sqlite3's own bound on a transaction's arguments.
 */
// biome-ignore lint/suspicious/noExplicitAny: better-sqlite3 declares Transaction<F> over functions of any[] parameters.
export function atomic<F extends (...args: any[]) => unknown>(db: Db, work: F): Database.Transaction<F> {
  return db.transaction(work);
}

/** Runs `work` once in a transaction. */
export function atomically<T>(db: Db, work: () => T): T {
  return db.transaction(work)();
}

/** Runs `work` once in an IMMEDIATE transaction: a second process on the file waits instead of failing to upgrade its lock. */
export function atomicallyFirst<T>(db: Db, work: () => T): T {
  return db.transaction(work).immediate();
}

/**
 * Runs `work` with synchronous=FULL: what it commits is on disk before it returns (money the
 * operator moved must survive a power cut before the operator is answered); NORMAL afterwards.
 */
export function durably<T>(db: Db, work: () => T): T {
  db.pragma('synchronous = FULL');
  try {
    return work();
  } finally {
    db.pragma('synchronous = NORMAL');
  }
}
