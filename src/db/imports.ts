/**
 * A members import between its check and its confirmation (member_imports, member_import_chunks):
 * what the check accepted, a chunk of households per row, and what it reported. Keyed by the file
 * being imported (its chunks under the check's number); a check of the same file replaces the
 * previous one.
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
  /** The line of the file the household starts on. */
  line: number;
  household: NewHousehold;
}

/** A chunk of staged households: its order among the import's chunks (the row's own number), and them in the file's order. */
export interface StagedChunk {
  seq: number;
  households: StagedHousehold[];
}

/** A beneficiary as staged: name, relation, birth year (null: unknown), subsidised and active (1 or 0). */
type StagedBeneficiary = [string, string, number | null, 0 | 1, 0 | 1];
/** A household as staged: its line, card, adherent, phone, language, mutuelle, joining day and beneficiaries. */
type StagedRow = [number, string, string, string, NewHousehold['language'], string, string, StagedBeneficiary[]];

export function createImportStore(db: Db) {
  const idOf = db.prepare('SELECT id FROM member_imports WHERE import_key = ?').pluck();
  const forget = db.prepare('DELETE FROM member_imports WHERE id = ?');
  const forgetChunks = db.prepare('DELETE FROM member_import_chunks WHERE import_id = ?');
  const stale = db.prepare('SELECT id FROM member_imports WHERE today < ?').pluck();
  const begin = db.prepare(
    'INSERT INTO member_imports (import_key, file_size, file_mtime_ms, today) VALUES (@key, @size, @mtimeMs, @today)',
  );
  const setPreview = db.prepare('UPDATE member_imports SET preview = ? WHERE id = ?');
  const header = db.prepare('SELECT file_size AS size, file_mtime_ms AS mtimeMs, today, preview FROM member_imports WHERE import_key = ?');
  const stage = db.prepare('INSERT INTO member_import_chunks (import_id, households) VALUES (?, ?)');
  const next = db.prepare('SELECT seq, households FROM member_import_chunks WHERE import_id = ? AND seq > ? ORDER BY seq LIMIT 1').raw();

  const discard = (id: number) => {
    forgetChunks.run(id);
    forget.run(id);
  };
  /** The number a check of `key` stages its households under. */
  const numberOf = (key: string): number => {
    const id = idOf.get(key) as number | undefined;
    if (id === undefined) throw new Error(`no check of ${key} under way`);
    return id;
  };

  return {
    /**
     * Starts a check of `key` (replacing any earlier one), and forgets the checks of earlier days
     * nobody confirmed (an upload left unconfirmed, a CLI run answered no): a confirmation the next
     * day checks its file again, its dates judged against the new day anyway.
     */
    begin: db.transaction((key: string, file: CheckedFile): void => {
      for (const old of stale.all(file.today) as number[]) discard(old);
      const earlier = idOf.get(key) as number | undefined;
      if (earlier !== undefined) discard(earlier);
      begin.run({ key, ...file });
    }),
    /** Households the check accepted, in the file's order: one chunk, one row (nothing written for none). */
    stage(key: string, chunk: readonly StagedHousehold[]): void {
      if (chunk.length === 0) return;
      const rows = chunk.map(
        ({ line, household: h }): StagedRow => [
          line,
          h.cardNumber,
          h.adherentName,
          h.phone,
          h.language,
          h.mutuelleId,
          h.joinedOn,
          h.beneficiaries.map((b) => [b.name, b.relation, b.birthYear ?? null, b.subsidised ? 1 : 0, b.active === false ? 0 : 1]),
        ],
      );
      stage.run(numberOf(key), JSON.stringify(rows));
    },
    /** The check is over: what it reported. */
    finish<P>(key: string, preview: P): void {
      setPreview.run(JSON.stringify(preview), numberOf(key));
    },
    /** A finished check of `key`: the file it read and what it reported. */
    checked<P>(key: string): (CheckedFile & { preview: P }) | undefined {
      const r = header.get(key) as (CheckedFile & { preview: string | null }) | undefined;
      if (!r || r.preview === null) return undefined;
      return { size: r.size, mtimeMs: r.mtimeMs, today: r.today, preview: JSON.parse(r.preview) as P };
    },
    /** The chunk staged after chunk `afterSeq` (0: the first), if any. */
    next(key: string, afterSeq: number): StagedChunk | undefined {
      const row = next.get(numberOf(key), afterSeq) as [number, string] | undefined;
      if (!row) return undefined;
      return {
        seq: row[0],
        households: (JSON.parse(row[1]) as StagedRow[]).map(
          ([line, cardNumber, adherentName, phone, language, mutuelleId, joinedOn, beneficiaries]) => ({
            line,
            household: {
              cardNumber,
              adherentName,
              phone,
              language,
              mutuelleId,
              joinedOn,
              beneficiaries: beneficiaries.map(([name, relation, birthYear, subsidised, active]) => ({
                name,
                relation,
                birthYear: birthYear ?? undefined,
                subsidised: subsidised === 1,
                active: active === 1,
              })),
            },
          }),
        ),
      };
    },
    discard: db.transaction((key: string): void => {
      const id = idOf.get(key) as number | undefined;
      if (id !== undefined) discard(id);
    }),
  };
}

export type ImportStore = ReturnType<typeof createImportStore>;
