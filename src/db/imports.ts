/**
 * A members import between its check and its confirmation (member_imports, member_import_households):
 * what the check accepted, household by household, and what it reported. Keyed by the file being
 * imported; a check of the same file replaces the previous one.
 */
import type { Db } from './connection.ts';
import type { NewHousehold } from './households.ts';

export interface CheckedFile {
  size: number;
  mtimeMs: number;
  /** The day the check judged the dates against. */
  today: string;
}

export interface StagedHousehold {
  seq: number;
  /** The line of the file the household starts on. */
  line: number;
  household: NewHousehold;
}

export function createImportStore(db: Db) {
  const forget = db.prepare('DELETE FROM member_imports WHERE import_key = ?');
  const forgetHouseholds = db.prepare('DELETE FROM member_import_households WHERE import_key = ?');
  const stale = db.prepare('SELECT import_key FROM member_imports WHERE today < ?').pluck();
  const begin = db.prepare(
    'INSERT INTO member_imports (import_key, file_size, file_mtime_ms, today) VALUES (@key, @size, @mtimeMs, @today)',
  );
  const setPreview = db.prepare('UPDATE member_imports SET preview = ? WHERE import_key = ?');
  const header = db.prepare('SELECT file_size AS size, file_mtime_ms AS mtimeMs, today, preview FROM member_imports WHERE import_key = ?');
  const stage = db.prepare('INSERT INTO member_import_households (import_key, seq, line, household) VALUES (?, ?, ?, ?)');
  const page = db.prepare(
    'SELECT seq, line, household FROM member_import_households WHERE import_key = ? AND seq > ? ORDER BY seq LIMIT ?',
  );

  const discard = (key: string) => {
    forgetHouseholds.run(key);
    forget.run(key);
  };

  return {
    /**
     * Starts a check of `key` (replacing any earlier one), and forgets the checks of earlier days
     * nobody confirmed (an upload left unconfirmed, a CLI run answered no): a confirmation the next
     * day checks its file again, its dates judged against the new day anyway.
     */
    begin: db.transaction((key: string, file: CheckedFile): void => {
      for (const old of stale.all(file.today) as string[]) discard(old);
      discard(key);
      begin.run({ key, ...file });
    }),
    /** Households the check accepted, in the file's order (one transaction per call). */
    stage: db.transaction((key: string, households: readonly StagedHousehold[]): void => {
      for (const h of households) stage.run(key, h.seq, h.line, JSON.stringify(h.household));
    }),
    /** The check is over: what it reported. */
    finish<P>(key: string, preview: P): void {
      setPreview.run(JSON.stringify(preview), key);
    },
    /** A finished check of `key`: the file it read and what it reported. */
    checked<P>(key: string): (CheckedFile & { preview: P }) | undefined {
      const r = header.get(key) as (CheckedFile & { preview: string | null }) | undefined;
      if (!r || r.preview === null) return undefined;
      return { size: r.size, mtimeMs: r.mtimeMs, today: r.today, preview: JSON.parse(r.preview) as P };
    },
    /** The staged households after `afterSeq`, at most `limit`. */
    page(key: string, afterSeq: number, limit: number): StagedHousehold[] {
      return (page.all(key, afterSeq, limit) as Array<{ seq: number; line: number; household: string }>).map((r) => ({
        seq: r.seq,
        line: r.line,
        household: JSON.parse(r.household) as NewHousehold,
      }));
    },
    discard: db.transaction(discard),
  };
}

export type ImportStore = ReturnType<typeof createImportStore>;
