import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Db, inTransaction, openDatabase } from '../../src/db/connection.ts';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** Reads outside a transaction share one read transaction per turn of the event loop (src/db/connection.ts ReadWindow). */
describe('the read window', () => {
  let dir: string;
  let db: Db;
  /** A second process on the same file. */
  let other: Database.Database;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sabatili-window-'));
    db = openDatabase(join(dir, 'x.db'));
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    other = new Database(join(dir, 'x.db'));
    other.pragma('busy_timeout = 5000');
  });
  afterEach(() => {
    other.close();
    if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const count = () => db.prepare('SELECT COUNT(*) FROM t').pluck().get();

  it("sees, within one turn, the database as of the turn's first read; the next turn sees what others committed", async () => {
    expect(count()).toBe(0);
    other.prepare('INSERT INTO t (v) VALUES (?)').run('elsewhere');
    expect(count()).toBe(0);
    await nextTurn();
    expect(count()).toBe(1);
  });

  it('ends at a write of its own connection: the write commits at once, and later reads see it and others', () => {
    expect(count()).toBe(0);
    other.prepare('INSERT INTO t (v) VALUES (?)').run('elsewhere');
    db.prepare('INSERT INTO t (v) VALUES (?)').run('here');
    // Committed by itself, not held in a transaction until the turn ends.
    expect(other.prepare('SELECT COUNT(*) FROM t').pluck().get()).toBe(2);
    expect(inTransaction(db)).toBe(false);
    expect(count()).toBe(2);
  });

  it('ends at a statement that returns rows and writes (INSERT … RETURNING): it commits at once', () => {
    expect(count()).toBe(0);
    expect(db.prepare('INSERT INTO t (v) VALUES (?) RETURNING id').pluck().get('returned')).toBe(1);
    expect(inTransaction(db)).toBe(false);
    expect(other.prepare('SELECT v FROM t').pluck().all()).toEqual(['returned']);
  });

  it('gives way to transaction statements prepared by hand (BEGIN and COMMIT are read-only for SQLite)', () => {
    expect(count()).toBe(0);
    db.prepare('BEGIN').run();
    expect(inTransaction(db)).toBe(true);
    db.prepare('INSERT INTO t (v) VALUES (?)').run('by hand');
    db.prepare('COMMIT').run();
    expect(inTransaction(db)).toBe(false);
    expect(other.prepare('SELECT v FROM t').pluck().all()).toEqual(['by hand']);
  });

  it('gives way to a transaction, which starts fresh and commits as without the window', () => {
    expect(count()).toBe(0);
    other.prepare('INSERT INTO t (v) VALUES (?)').run('elsewhere');
    expect(inTransaction(db)).toBe(false);
    const seen = db
      .transaction(() => {
        expect(inTransaction(db)).toBe(true);
        db.prepare('INSERT INTO t (v) VALUES (?)').run('here');
        return count();
      })
      .immediate();
    expect(seen).toBe(2);
    expect(other.prepare('SELECT COUNT(*) FROM t').pluck().get()).toBe(2);
    // Every variant of a transaction function gives way too, and a failing one rolls back as before.
    const fail = db.transaction(() => {
      db.prepare('INSERT INTO t (v) VALUES (?)').run('rolled back');
      throw new Error('refused');
    });
    for (const variant of [fail, fail.default, fail.deferred, fail.immediate, fail.exclusive]) {
      expect(count()).toBe(2);
      expect(() => variant()).toThrow('refused');
    }
    expect((fail as unknown as { database: Db }).database).toBe(db);
    expect(other.prepare('SELECT COUNT(*) FROM t').pluck().get()).toBe(2);
  });

  it('gives way to exec, to a pragma and to an iterator, and leaves nothing behind when the connection closes', async () => {
    expect(count()).toBe(0);
    db.exec("INSERT INTO t (v) VALUES ('exec')");
    expect(other.prepare('SELECT COUNT(*) FROM t').pluck().get()).toBe(1);
    expect(count()).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    expect(count()).toBe(1);
    expect([...db.prepare('SELECT v FROM t').pluck().iterate()]).toEqual(['exec']);
    expect(count()).toBe(1);
    db.close();
    // The end of the turn finds the connection closed and does nothing.
    await nextTurn();
    expect(other.prepare('SELECT COUNT(*) FROM t').pluck().get()).toBe(1);
  });

  it('holds no read lock past its turn: another connection checkpoints the whole WAL', async () => {
    db.prepare('INSERT INTO t (v) VALUES (?)').run('x');
    expect(count()).toBe(1);
    other.prepare('INSERT INTO t (v) VALUES (?)').run('y');
    other.pragma('busy_timeout = 0');
    expect(other.pragma('wal_checkpoint(TRUNCATE)')).toEqual([{ busy: 1, log: expect.any(Number), checkpointed: expect.any(Number) }]);
    await nextTurn();
    expect(other.pragma('wal_checkpoint(TRUNCATE)')).toEqual([{ busy: 0, log: 0, checkpointed: 0 }]);
  });
});
