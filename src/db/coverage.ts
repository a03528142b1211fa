import {
  addDays,
  type BeneficiaryCounts,
  type CoveredPeriod,
  type LedgerState,
  type LedgerStateNow,
  type LocalDate,
} from '../domain/coverage.ts';
import type { Db } from './connection.ts';

/**
 * The coverage read model (`household_coverage`, `household_covered_periods`): per household, the
 * state its ledger leaves after its last payment (src/domain/coverage.ts, LedgerState), the counts
 * of beneficiaries its dues come from, its mutuelle, and the periods it was covered. Written only
 * by the household store (src/db/households.ts), in the transaction of every change to a ledger,
 * to beneficiaries, to a household's mutuelle or to a product's parameters; read by the coverage
 * screen, campaign audiences, reminders and the office figures instead of each household's ledger.
 * `sabatili coverage check` compares it with the ledgers, `sabatili coverage rebuild` recomputes it.
 *
 * Two sums of the rows are kept with them for the figures, so that those read a few thousand rows
 * whatever the number of households: `coverage_groups` (households per mutuelle and the days their
 * status depends on) and `coverage_trend` (covered persons gained or lost per mutuelle and day).
 */

/** A household's row: what its coverage on any day from its last payment on is a cheap function of. */
export interface CoverageRow extends LedgerStateNow, BeneficiaryCounts {
  householdId: number;
  mutuelleId: string;
}

/** The same with its covered periods: what a further payment is applied to, and what the check compares. */
export type FullCoverageRow = CoverageRow & LedgerState;

/** The table's columns and the row's properties, in one order: the SELECT list and coverageRowOf follow it. */
const FIELDS = [
  ['household_id', 'householdId'],
  ['mutuelle_id', 'mutuelleId'],
  ['last_paid_on', 'lastPaidOn'],
  ['credit', 'credit'],
  ['paid_through', 'paidThrough'],
  ['grace_until', 'graceUntil'],
  ['episode_start', 'episodeStart'],
  ['waiting_until', 'waitingUntil'],
  ['pending_start', 'pendingStart'],
  ['full_count', 'full'],
  ['subsidised_count', 'subsidised'],
  ['inactive_count', 'inactive'],
] as const satisfies ReadonlyArray<readonly [string, keyof CoverageRow]>;

const COLUMNS = FIELDS.map(([column, property]) => (column === property ? column : `${column} AS ${property}`)).join(', ');

/**
 * The row's cells, for a query of another store that joins `household_coverage` under `alias` and
 * reads its rows as arrays: `COVERAGE_CELLS` cells in this order, made a row by `coverageRowOf`.
 */
export const coverageCells = (alias: string) => FIELDS.map(([column]) => `${alias}.${column}`).join(', ');
export const COVERAGE_CELLS = FIELDS.length;

/** The row whose cells (coverageCells) start at `at`; undefined when the join found none. */
export function coverageRowOf(cells: readonly unknown[], at: number): CoverageRow | undefined {
  if (cells[at] === null) return undefined;
  const row: Record<string, unknown> = {};
  FIELDS.forEach(([, property], i) => {
    row[property] = cells[at + i];
  });
  // Each cell has its column's type, as the SELECT coverageCells spelled gives it.
  return row as unknown as CoverageRow;
}

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

/** Active beneficiaries of the households whose covered periods start on a day (less those ending the day before), per mutuelle. */
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
  // A household's first row (putCreated): positional, without the upsert's conflict clause nor names to look up.
  const insertFirst = db.prepare(
    `INSERT INTO household_coverage (household_id, mutuelle_id, last_paid_on, credit, paid_through, grace_until, episode_start,
       waiting_until, pending_start, full_count, subsidised_count, inactive_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const clearPeriods = db.prepare('DELETE FROM household_covered_periods WHERE household_id = ?');
  const insertPeriod = db.prepare('INSERT INTO household_covered_periods (household_id, covered_from, covered_until) VALUES (?, ?, ?)');
  const allIds = db.prepare('SELECT household_id FROM household_coverage ORDER BY household_id').pluck();
  const clearAll = db.prepare('DELETE FROM household_coverage');
  const clearAllPeriods = db.prepare('DELETE FROM household_covered_periods');

  // The sums, moved by each row written: a row's group and its periods' edges, added or taken away.
  const bumpGroup = db.prepare(
    `INSERT INTO coverage_groups VALUES (@mutuelleId, @paidThrough, @graceUntil, @waitingUntil, @sign, @full, @subsidised, @inactive)
     ON CONFLICT DO UPDATE SET households = households + excluded.households, full_count = full_count + excluded.full_count,
       subsidised_count = subsidised_count + excluded.subsidised_count, inactive_count = inactive_count + excluded.inactive_count`,
  );
  const dropEmptyGroup = db.prepare(
    `DELETE FROM coverage_groups WHERE mutuelle_id = @mutuelleId AND paid_through = @paidThrough AND grace_until = @graceUntil
       AND waiting_until = @waitingUntil AND households = 0`,
  );
  const bumpTrend = db.prepare(
    'INSERT INTO coverage_trend VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET persons = persons + excluded.persons',
  );
  const dropEmptyTrend = db.prepare('DELETE FROM coverage_trend WHERE mutuelle_id = ? AND day = ? AND persons = 0');
  const clearSums = db.prepare('DELETE FROM coverage_groups');
  const clearTrend = db.prepare('DELETE FROM coverage_trend');
  // The sums as the rows give them: what a rebuild writes and a check compares with.
  const GROUPS_OF_ROWS = `SELECT mutuelle_id, COALESCE(paid_through, ''), COALESCE(grace_until, ''), COALESCE(waiting_until, ''),
      COUNT(*), SUM(full_count), SUM(subsidised_count), SUM(inactive_count)
    FROM household_coverage GROUP BY 1, 2, 3, 4`;
  const TREND_OF_ROWS = `SELECT mutuelle_id, day, SUM(persons) FROM (
      SELECT c.mutuelle_id, p.covered_from AS day, c.full_count + c.subsidised_count AS persons
      FROM household_covered_periods p JOIN household_coverage c ON c.household_id = p.household_id
      UNION ALL
      SELECT c.mutuelle_id, date(p.covered_until, '+1 day'), -(c.full_count + c.subsidised_count)
      FROM household_covered_periods p JOIN household_coverage c ON c.household_id = p.household_id)
    GROUP BY 1, 2 HAVING SUM(persons) <> 0`;
  const fillGroups = db.prepare(`INSERT INTO coverage_groups ${GROUPS_OF_ROWS}`);
  const fillTrend = db.prepare(`INSERT INTO coverage_trend ${TREND_OF_ROWS}`);
  const groupsDiffer = db
    .prepare(
      `SELECT COUNT(*) FROM (SELECT * FROM (${GROUPS_OF_ROWS}) EXCEPT SELECT * FROM coverage_groups
       UNION ALL SELECT * FROM (SELECT * FROM coverage_groups EXCEPT SELECT * FROM (${GROUPS_OF_ROWS})))`,
    )
    .pluck();
  const trendDiffers = db
    .prepare(
      `SELECT COUNT(*) FROM (SELECT * FROM (${TREND_OF_ROWS}) EXCEPT SELECT * FROM coverage_trend
       UNION ALL SELECT * FROM (SELECT * FROM coverage_trend EXCEPT SELECT * FROM (${TREND_OF_ROWS})))`,
    )
    .pluck();

  // The figures: the groups as the status on `today` sees them (a waiting period over by then counts as
  // none), so that the status itself is the domain's statusAt on each group, never a second rule in SQL.
  const groups = db.prepare(
    `SELECT mutuelle_id AS mutuelleId, NULLIF(paid_through, '') AS paidThrough, NULLIF(grace_until, '') AS graceUntil,
       CASE WHEN waiting_until >= @today THEN waiting_until END AS waitingUntil,
       SUM(households) AS households, SUM(full_count) AS full, SUM(subsidised_count) AS subsidised, SUM(inactive_count) AS inactive
     FROM coverage_groups GROUP BY 1, 2, 3, 4`,
  );
  const after = db.prepare(`SELECT ${COLUMNS} FROM household_coverage WHERE last_paid_on > ? ORDER BY household_id`);
  const trend = db.prepare('SELECT mutuelle_id AS mutuelleId, day, persons FROM coverage_trend WHERE day <= ? ORDER BY day');

  /** Adds (sign 1) or takes away (-1) a row and its periods from the sums. */
  function bump(row: FullCoverageRow, sign: 1 | -1): void {
    const key = {
      mutuelleId: row.mutuelleId,
      paidThrough: row.paidThrough ?? '',
      graceUntil: row.graceUntil ?? '',
      waitingUntil: row.waitingUntil ?? '',
    };
    bumpGroup.run({ ...key, sign, full: sign * row.full, subsidised: sign * row.subsidised, inactive: sign * row.inactive });
    if (sign < 0) dropEmptyGroup.run(key);
    const persons = row.full + row.subsidised;
    if (persons === 0) return;
    for (const p of row.periods) {
      for (const [day, n] of [
        [p.from, sign * persons],
        [addDays(p.until, 1), -sign * persons],
      ] as const) {
        bumpTrend.run(row.mutuelleId, day, n);
        dropEmptyTrend.run(row.mutuelleId, day);
      }
    }
  }

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
      const before = one.get(row.householdId) as CoverageRow | undefined;
      if (before) bump(withPeriods(before), -1);
      const { periods, ...values } = row;
      upsert.run(values);
      clearPeriods.run(row.householdId);
      for (const p of periods) insertPeriod.run(row.householdId, p.from, p.until);
      bump(row, 1);
    },
    /**
     * Writes the rows of households just created, which had none (an import, in its transaction):
     * the sums are moved once per group of the rows rather than once per row.
     */
    putCreated(rows: readonly FullCoverageRow[]): void {
      const groups = new Map<string, { sum: FullCoverageRow; households: number }>();
      for (const row of rows) {
        insertFirst.run(
          row.householdId,
          row.mutuelleId,
          row.lastPaidOn,
          row.credit,
          row.paidThrough,
          row.graceUntil,
          row.episodeStart,
          row.waitingUntil,
          row.pendingStart,
          row.full,
          row.subsidised,
          row.inactive,
        );
        const periods = row.periods;
        for (const p of periods) insertPeriod.run(row.householdId, p.from, p.until);
        if (periods.length > 0) {
          bump(row, 1);
          continue;
        }
        // A row without periods moves only its group: each group once, by all its rows.
        const key = `${row.mutuelleId}|${row.paidThrough}|${row.graceUntil}|${row.waitingUntil}`;
        const g = groups.get(key);
        if (!g) groups.set(key, { sum: { ...row }, households: 1 });
        else {
          g.households++;
          g.sum.full += row.full;
          g.sum.subsidised += row.subsidised;
          g.sum.inactive += row.inactive;
        }
      }
      for (const { sum, households } of groups.values()) {
        bumpGroup.run({
          mutuelleId: sum.mutuelleId,
          paidThrough: sum.paidThrough ?? '',
          graceUntil: sum.graceUntil ?? '',
          waitingUntil: sum.waitingUntil ?? '',
          sign: households,
          full: sum.full,
          subsidised: sum.subsidised,
          inactive: sum.inactive,
        });
      }
    },
    /**
     * Writes many rows at once (a rebuild, on an emptied model): the sums are computed from the rows
     * at the end, in SQL, rather than moved row by row.
     */
    putAll(rows: Iterable<FullCoverageRow>): number {
      let n = 0;
      for (const row of rows) {
        const { periods, ...values } = row;
        upsert.run(values);
        for (const p of periods) insertPeriod.run(row.householdId, p.from, p.until);
        n++;
      }
      clearSums.run();
      clearTrend.run();
      fillGroups.run();
      fillTrend.run();
      return n;
    },
    /** Whether the sums kept with the rows are those of the rows (`sabatili coverage check`). */
    sumsAgree(): boolean {
      return groupsDiffer.get() === 0 && trendDiffers.get() === 0;
    },
    /** Every household with a row, in id order. */
    householdIds(): number[] {
      return allIds.all() as number[];
    },
    /** Empties the read model (a rebuild then writes every row again, in the same transaction). */
    clear(): void {
      clearAllPeriods.run();
      clearAll.run();
      clearSums.run();
      clearTrend.run();
    },
    /**
     * Every household grouped by mutuelle and by the days its status on `today` depends on (a waiting
     * period over before `today` counts as none), those paid after `today` included (see paidAfter).
     */
    groupsOn(today: LocalDate): CoverageGroup[] {
      return groups.all({ today }) as CoverageGroup[];
    },
    /** The rows of households with a payment dated after `today`: their status that day needs their ledger up to it. */
    paidAfter(today: LocalDate): CoverageRow[] {
      return after.all(today) as CoverageRow[];
    },
    /** Covered persons gained (or lost, negative) per mutuelle and day, up to `last`: those covered on a day are their running sum. */
    trendChanges(last: LocalDate): PeriodEdge[] {
      return trend.all(last) as PeriodEdge[];
    },
  };
}

export type CoverageStore = ReturnType<typeof createCoverageStore>;
