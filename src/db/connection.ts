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
    private readonly window: ReadWindow,
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

  /**
   * The statement, about to run: a query (it returns rows and writes nothing) joins the read window,
   * anything else ends it. An INSERT … RETURNING returns rows and writes; BEGIN and COMMIT are
   * read-only for SQLite but no queries.
   */
  private get windowed(): Statement {
    const s = this.ready;
    this.window.around(s.reader && s.readonly);
    return s;
  }

  get(...params: unknown[]): unknown {
    return this.windowed.get(...params);
  }

  all(...params: unknown[]): unknown[] {
    return this.windowed.all(...params);
  }

  run(...params: unknown[]): Database.RunResult {
    return this.windowed.run(...params);
  }

  /** Outside the read window: an iterator may stay open past the turn, and the window's end would find the connection busy. */
  iterate(...params: unknown[]): IterableIterator<unknown> {
    this.window.close();
    return this.ready.iterate(...params);
  }

  get reader(): boolean {
    return this.ready.reader;
  }

  prepare(): void {
    void this.ready;
  }
}

/**
 * Reads made outside a transaction share one read transaction until the end of the event loop's
 * turn, or until the connection writes. On its own each such read opens and closes a read
 * transaction, which takes and drops a WAL read lock with two fcntl system calls (about 5 µs of a
 * 7 µs primary-key lookup here); a busy server makes dozens of reads a turn. A turn's reads see the
 * database as of its first read, as they would had they run a moment earlier: what another process
 * commits is seen from the next turn, as the in-memory copies already follow it (freshness.ts).
 * Only a query joins the window; anything else (another statement, a transaction, exec, a pragma)
 * ends it first, so writes and their commits are exactly as without it.
 */
class ReadWindow {
  private open = false;
  private readonly begin: Statement;
  private readonly end: Statement;

  constructor(
    private readonly db: Db,
    prepareNow: (sql: string) => Statement,
  ) {
    this.begin = prepareNow('BEGIN');
    this.end = prepareNow('COMMIT');
  }

  /** Before a statement runs: a query joins (or opens) the window, anything else closes it. */
  around(query: boolean): void {
    if (!query) this.close();
    else if (!this.open && !this.db.inTransaction) {
      this.begin.run();
      this.open = true;
      setImmediate(this.close);
    }
  }

  readonly close = (): void => {
    if (!this.open) return;
    this.open = false;
    if (this.db.open && this.db.inTransaction) this.end.run();
  };

  /** Whether the connection is in a transaction of its own code's (not the read window). */
  get writing(): boolean {
    return this.db.inTransaction && !this.open;
  }
}

const lazyStatements = new WeakMap<Db, LazyStatement[]>();
const windows = new WeakMap<Db, ReadWindow>();

/** Whether `db` is inside a transaction its callers opened (a read window does not count). */
export function inTransaction(db: Db): boolean {
  return windows.get(db)?.writing ?? db.inTransaction;
}

/** Makes `db.prepare` return statements prepared on first use (LazyStatement), reads sharing a window (ReadWindow). */
function prepareOnFirstUse(db: Db): void {
  const prepareNow = db.prepare.bind(db);
  const made: LazyStatement[] = [];
  lazyStatements.set(db, made);
  const window = new ReadWindow(db, prepareNow);
  windows.set(db, window);
  type Method = (...args: unknown[]) => unknown;
  /** `f`, run once the read window has given way. */
  const closingFirst =
    (f: Method): Method =>
    (...args) => {
      window.close();
      return f(...args);
    };
  const makeTransaction = db.transaction.bind(db);
  db.transaction = ((fn: Method) => {
    const t = makeTransaction(fn);
    const wrapped = closingFirst(t);
    for (const v of ['default', 'deferred', 'immediate', 'exclusive'] as const)
      Object.defineProperty(wrapped, v, { value: closingFirst(t[v]) });
    return Object.defineProperty(wrapped, 'database', { value: db, enumerable: true });
  }) as Db['transaction'];
  for (const m of ['exec', 'pragma', 'backup', 'close'] as const) {
    (db as unknown as Record<string, Method>)[m] = closingFirst((db[m] as Method).bind(db));
  }
  db.prepare = ((sql: string) => {
    const s = new LazyStatement(prepareNow, sql, window);
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
