/**
 * `sabatili coverage check` and `sabatili coverage rebuild` on the demo database (through the
 * command parser; the check that finds a difference once more as the real binary, for its exit
 * code), and the check on a generated network.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKpiData } from '../../scripts/bench/kpi.ts';
import { ManualClock } from '../../src/clock.ts';
import { openDatabase } from '../../src/db/connection.ts';
import { createHouseholdStore } from '../../src/db/households.ts';
import { seedDemo } from '../../src/db/seed.ts';
import { sabatili, spawnSabatili } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sabatili-coverage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function coverage(path: string, command: 'check' | 'rebuild'): Promise<{ code: number; stdout: string }> {
  const r = await sabatili(['coverage', command], { env: { DATABASE_PATH: path } });
  return { code: r.code, stdout: r.stdout };
}

describe('sabatili coverage', () => {
  it('check passes on the demo database, lists a row that drifted and exits 1, and rebuild repairs it', async () => {
    const path = join(dir, 'demo.db');
    const db = openDatabase(path);
    seedDemo(db, new ManualClock('2026-03-10T09:00:00Z'));
    db.close();

    const ok = await coverage(path, 'check');
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.stdout).toContain('coverage check: 4 households, 0 differ from their ledger');

    const drift = openDatabase(path);
    drift.prepare('UPDATE household_coverage SET credit = credit + 100 WHERE household_id = 2').run();
    drift.prepare('DELETE FROM household_covered_periods WHERE household_id = 3').run();
    drift.close();
    const bad = await coverage(path, 'check');
    expect(bad.code).toBe(1);
    const binary = await spawnSabatili(['coverage', 'check'], { env: { DATABASE_PATH: path, LOG_LEVEL: 'silent' } });
    expect({ code: binary.code, stdout: binary.stdout }).toEqual(bad);
    expect(bad.stdout).toMatch(/^household 2: credit: \d+ → \d+$/m);
    expect(bad.stdout).toMatch(/^household 3: periods: \[\] → \[\{"from":"\d{4}-\d\d-\d\d","until":"\d{4}-\d\d-\d\d"\}.*$/m);
    expect(bad.stdout).toContain('coverage check: 4 households, 2 differ from their ledger');
    expect(bad.stdout).toContain('the sums kept for the figures differ from the rows (coverage rebuild recomputes them)');

    expect((await coverage(path, 'rebuild')).stdout).toMatch(/^coverage rebuild: 4 households in \d+\.\d s$/m);
    expect(await coverage(path, 'check')).toMatchObject({ code: 0 });
  }, 60_000);

  it('check finds nothing to say on a generated network of 1,500 households, and the stored rows are those of the ledgers', () => {
    const db = openDatabase(join(dir, 'generated.db'));
    generateKpiData(db, 1500, '2026-03-10');
    const store = createHouseholdStore(db);
    expect(store.checkCoverage()).toEqual({ checked: 1500, differences: [], sumsAgree: true });
    // The check compares with the rows it reads: one changed behind the store's back is found.
    db.prepare("UPDATE household_coverage SET paid_through = '2020-01-31' WHERE household_id = 77").run();
    expect(store.checkCoverage().differences.map((d) => d.householdId)).toEqual([77]);
    db.close();
  }, 120_000);
});
