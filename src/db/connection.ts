import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrations.ts';

export type Db = Database.Database;
type Statement = Database.Statement;

/**
 * A statement prepared by SQLite on its first use. Each store prepares, when it is built, every
 * statement it may run; a process (a CLI command, a test, a request worker) runs few of them, and
 * preparing the five hundred of the composition root cost about 20 ms a start. Its result mode
 * (`pluck`, `raw`) is kept until then. `prepareAll` prepares the ones not used yet, so that a test
 * still finds a statement SQLite refuses.
 */
class LazyStatement {
  private statement: Statement | undefined;
  private mode: 'pluck' | 'raw' | undefined;

  constructor(
    private readonly prepareNow: (sql: string) => Statement,
    readonly source: string,
  ) {}

  private get ready(): Statement {
    if (!this.statement) {
      const s = this.prepareNow(this.source);
      if (this.mode === 'pluck') s.pluck();
      else if (this.mode === 'raw') s.raw();
      this.statement = s;
    }
    return this.statement;
  }

  pluck(on = true): this {
    this.statement?.pluck(on);
    this.mode = on ? 'pluck' : this.mode === 'pluck' ? undefined : this.mode;
    return this;
  }

  raw(on = true): this {
    this.statement?.raw(on);
    this.mode = on ? 'raw' : this.mode === 'raw' ? undefined : this.mode;
    return this;
  }

  get(...params: unknown[]): unknown {
    return this.ready.get(...params);
  }

  all(...params: unknown[]): unknown[] {
    return this.ready.all(...params);
  }

  run(...params: unknown[]): Database.RunResult {
    return this.ready.run(...params);
  }

  iterate(...params: unknown[]): IterableIterator<unknown> {
    return this.ready.iterate(...params);
  }

  get reader(): boolean {
    return this.ready.reader;
  }

  prepare(): void {
    void this.ready;
  }
}

const lazyStatements = new WeakMap<Db, LazyStatement[]>();

/** Makes `db.prepare` return statements prepared on first use (LazyStatement). */
function prepareOnFirstUse(db: Db): void {
  const prepareNow = db.prepare.bind(db);
  const made: LazyStatement[] = [];
  lazyStatements.set(db, made);
  db.prepare = ((sql: string) => {
    const s = new LazyStatement(prepareNow, sql);
    made.push(s);
    return s as unknown as Statement;
  }) as Db['prepare'];
}

/** Prepares every statement handed out on this connection and not used yet: SQLite's refusal, if any, is thrown here. Returns how many there are. */
export function prepareAll(db: Db): number {
  const made = lazyStatements.get(db) ?? [];
  for (const s of made) s.prepare();
  return made.length;
}

/**
 * Opens the database the way every process must: WAL so the server and CLI commands can
 * share it, foreign keys on, a busy timeout for the second writer, the schema migrated, and
 * statements prepared on first use.
 */
export function openDatabase(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // A checkpoint (the WAL copied into the database, two fsyncs) once the WAL holds 10,000 pages
  // (40 MB) rather than SQLite's 1,000: a bulk write (a campaign's send, a batch of SMS) is not
  // stopped every 4 MB to wait for the disk, and a page rewritten by consecutive transactions is
  // copied once. What a commit guarantees is unchanged.
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  prepareOnFirstUse(db);
  return db;
}
