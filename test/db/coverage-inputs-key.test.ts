/**
 * Migration 32: the coverage read model keeps the key of its inputs (what a campaign's audience
 * computes each distinct coverage once by) as a stored column that SQLite writes from the row
 * itself. Every row is kept; the key is that of the row after every write, and two rows share it
 * exactly when they share every input.
 */

import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createCoverageStore, type FullCoverageRow } from '../../src/db/coverage.ts';
import { migrate, migrations } from '../../src/db/migrations.ts';
import { databaseBefore, minimalNetwork, queryPlan } from '../support/migrated.ts';

const COVERAGE = `INSERT INTO household_coverage (household_id, mutuelle_id, last_paid_on, credit, paid_through, grace_until,
  episode_start, waiting_until, pending_start, full_count, subsidised_count, inactive_count) VALUES (?, 'm', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

describe('migration 32: the coverage inputs in one stored key', () => {
  /** Before migration 32: three households; two with the same inputs, one never covered (its days null). */
  function before32(): Database.Database {
    const db = databaseBefore(32);
    minimalNetwork(db, 'M32', ['+22376000001', '+22376000002', '+22376000003']);
    const coverage = db.prepare(COVERAGE);
    coverage.run(1, '2026-02-03', 250, '2026-03-31', '2026-04-30', '2025-10-01', '2025-10-31', null, 2, 1, 0);
    coverage.run(2, '2026-02-03', 250, '2026-03-31', '2026-04-30', '2025-10-01', '2025-10-31', null, 2, 1, 0);
    coverage.run(3, null, 0, null, null, null, null, null, 1, 0, 1);
    return db;
  }
  const keys = (db: Database.Database) =>
    db.prepare('SELECT household_id, inputs_key FROM household_coverage ORDER BY household_id').raw().all() as Array<[number, string]>;

  it('keeps every row, and gives each the key of its inputs', () => {
    const db = before32();
    const rows = db.prepare('SELECT * FROM household_coverage ORDER BY household_id').all();
    expect(migrate(db)).toBe(migrations.filter((m) => m.version >= 32).length);
    expect(db.prepare(`SELECT ${Object.keys(rows[0] as object).join(', ')} FROM household_coverage ORDER BY household_id`).all()).toEqual(
      rows,
    );
    expect(keys(db)).toEqual([
      [1, '2|1|0|250|2026-02-03|2026-03-31|2026-04-30|2025-10-01|2025-10-31|'],
      [2, '2|1|0|250|2026-02-03|2026-03-31|2026-04-30|2025-10-01|2025-10-31|'],
      [3, '1|0|1|0||||||'],
    ]);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(queryPlan(db, 'SELECT household_id FROM household_coverage WHERE last_paid_on < ?', 'x')).toContain(
      'household_coverage_last_paid',
    );
    db.close();
  });

  it('writes the key again with every write of the row, and only rows with the same inputs share it', () => {
    const db = before32();
    migrate(db);
    const store = createCoverageStore(db);
    const row = store.get(2) as FullCoverageRow;
    store.put({ ...row, credit: 750, lastPaidOn: '2026-03-09' });
    expect(keys(db)[1]).toEqual([2, '2|1|0|750|2026-03-09|2026-03-31|2026-04-30|2025-10-01|2025-10-31|']);
    store.put({ ...row, subsidised: 0, inactive: 1 });
    expect(keys(db)[1]).toEqual([2, '2|0|1|250|2026-02-03|2026-03-31|2026-04-30|2025-10-01|2025-10-31|']);
    store.put(row);
    expect(keys(db)[1]?.[1]).toBe(keys(db)[0]?.[1]);
    db.close();
  });
});
