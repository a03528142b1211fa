import type { Db } from './connection.ts';
import type { BeneficiaryCounts, CoveredPeriod, LedgerState, LedgerStateNow, LocalDate } from '../domain/coverage.ts';

/**
 * The coverage read model (`household_coverage`, `household_covered_periods`): per household, the
 * state its ledger leaves after its last payment (src/domain/coverage.ts, LedgerState), the counts
 * of beneficiaries its dues come from, its mutuelle, and the periods it was covered. Written only
 * by the household store (src/db/households.ts), in the transaction of every change to a ledger,
 * to beneficiaries, to a household's mutuelle or to a product's parameters; read by the coverage
 * screen, campaign audiences, reminders and the office figures instead of each household's ledger.
 * `sabatili coverage check` compares it with the ledgers, `sabatili coverage rebuild` recomputes it.
 */

/** A household's row: what its coverage on any day from its last payment on is a cheap function of. */
export interface CoverageRow extends LedgerStateNow, BeneficiaryCounts {
  householdId: number;
  mutuelleId: string;
}

/** The same with its covered periods: what a further payment is applied to, and what the check compares. */
export type FullCoverageRow = CoverageRow & LedgerState;

const COLUMNS = `household_id AS householdId, mutuelle_id AS mutuelleId, last_paid_on AS lastPaidOn, credit,
  paid_through AS paidThrough, grace_until AS graceUntil, episode_start AS episodeStart, waiting_until AS waitingUntil,
  pending_start AS pendingStart, full_count AS full, subsidised_count AS subsidised, inactive_count AS inactive`;

/** The mutuelle's households by status input: how many and their beneficiaries, for one combination of days. */
export interface CoverageGroup {
  mutuelleId: string;
  paidThrough: LocalDate | null;
  graceUntil: LocalDate | null;
  waitingUntil: LocalDate | null;
  households: number;
  full: number;
  subsidised: number;
  inactive: number;
}

/** Active beneficiaries whose household's covered periods start (or end) on a day, per mutuelle. */
export interface PeriodEdge {
  mutuelleId: string;
  day: LocalDate;
  persons: number;
}

export function createCoverageStore(db: Db) {
  const one = db.prepare(`SELECT ${COLUMNS} FROM household_coverage WHERE household_id = ?`);
  const range = db.prepare(`SELECT ${COLUMNS} FROM household_coverage WHERE household_id BETWEEN ? AND ? ORDER BY household_id`);
  const periodsOf = db.prepare(
    'SELECT covered_from AS "from", covered_until AS until FROM household_covered_periods WHERE household_id = ? ORDER BY covered_from',
  );
  const upsert = db.prepare(
    `INSERT INTO household_coverage (household_id, mutuelle_id, last_paid_on, credit, paid_through, grace_until, episode_start,
       waiting_until, pending_start, full_count, subsidised_count, inactive_count)
     VALUES (@householdId, @mutuelleId, @lastPaidOn, @credit, @paidThrough, @graceUntil, @episodeStart, @waitingUntil, @pendingStart,
       @full, @subsidised, @inactive)
     ON CONFLICT (household_id) DO UPDATE SET mutuelle_id = excluded.mutuelle_id, last_paid_on = excluded.last_paid_on,
       credit = excluded.credit, paid_through = excluded.paid_through, grace_until = excluded.grace_until,
       episode_start = excluded.episode_start, waiting_until = excluded.waiting_until, pending_start = excluded.pending_start,
       full_count = excluded.full_count, subsidised_count = excluded.subsidised_count, inactive_count = excluded.inactive_count`,
  );
  const clearPeriods = db.prepare('DELETE FROM household_covered_periods WHERE household_id = ?');
  const insertPeriod = db.prepare('INSERT INTO household_covered_periods (household_id, covered_from, covered_until) VALUES (?, ?, ?)');
  const allIds = db.prepare('SELECT household_id FROM household_coverage ORDER BY household_id').pluck();
  const clearAll = db.prepare('DELETE FROM household_coverage');
  const clearAllPeriods = db.prepare('DELETE FROM household_covered_periods');

  // The figures: grouped in SQL by the days the status depends on (few combinations per mutuelle),
  // so that the status itself is the domain's statusAt on each group, never a second rule in SQL.
  const groups = db.prepare(
    `SELECT mutuelle_id AS mutuelleId, paid_through AS paidThrough, grace_until AS graceUntil,
       CASE WHEN waiting_until >= @today THEN waiting_until END AS waitingUntil,
       COUNT(*) AS households, SUM(full_count) AS full, SUM(subsidised_count) AS subsidised, SUM(inactive_count) AS inactive
     FROM household_coverage WHERE last_paid_on IS NULL OR last_paid_on <= @today GROUP BY 1, 2, 3, 4`,
  );
  const after = db.prepare(`SELECT household_id FROM household_coverage WHERE last_paid_on > ? ORDER BY household_id`).pluck();
  const starts = db.prepare(
    `SELECT c.mutuelle_id AS mutuelleId, p.covered_from AS day, SUM(c.full_count + c.subsidised_count) AS persons
     FROM household_covered_periods p JOIN household_coverage c ON c.household_id = p.household_id
     WHERE p.covered_from <= @last AND p.covered_until >= @first GROUP BY 1, 2`,
  );
  const ends = db.prepare(
    `SELECT c.mutuelle_id AS mutuelleId, p.covered_until AS day, SUM(c.full_count + c.subsidised_count) AS persons
     FROM household_covered_periods p JOIN household_coverage c ON c.household_id = p.household_id
     WHERE p.covered_from <= @last AND p.covered_until >= @first GROUP BY 1, 2`,
  );

  function withPeriods(row: CoverageRow): FullCoverageRow {
    return { ...row, periods: periodsOf.all(row.householdId) as CoveredPeriod[] };
  }

  return {
    /** The household's row with its covered periods; undefined before it has one. */
    get(householdId: number): FullCoverageRow | undefined {
      const row = one.get(householdId) as CoverageRow | undefined;
      return row && withPeriods(row);
    },
    /** The rows of households `first..last` (those that exist), without their periods: what readers of a page need. */
    range(first: number, last: number): CoverageRow[] {
      return range.all(first, last) as CoverageRow[];
    },
    /** Writes the household's row and periods (call it in the transaction of the change it follows). */
    put(row: FullCoverageRow): void {
      const { periods, ...values } = row;
      upsert.run(values);
      clearPeriods.run(row.householdId);
      for (const p of periods) insertPeriod.run(row.householdId, p.from, p.until);
    },
    /** Every household with a row, in id order. */
    householdIds(): number[] {
      return allIds.all() as number[];
    },
    /** Empties the read model (a rebuild then writes every row again, in the same transaction). */
    clear(): void {
      clearAllPeriods.run();
      clearAll.run();
    },
    /**
     * The households whose last payment is on or before `today`, grouped by mutuelle and by the days
     * their status on `today` depends on (a waiting period over before `today` counts as none).
     */
    groupsOn(today: LocalDate): CoverageGroup[] {
      return groups.all({ today }) as CoverageGroup[];
    },
    /** Households with a payment dated after `today`: their status that day needs their ledger up to it. */
    paidAfter(today: LocalDate): number[] {
      return after.all(today) as number[];
    },
    /** Where the covered periods overlapping [first, last] start and end: covered persons on a day are a running sum. */
    periodEdges(first: LocalDate, last: LocalDate): { starts: PeriodEdge[]; ends: PeriodEdge[] } {
      return { starts: starts.all({ first, last }) as PeriodEdge[], ends: ends.all({ first, last }) as PeriodEdge[] };
    },
  };
}

export type CoverageStore = ReturnType<typeof createCoverageStore>;
