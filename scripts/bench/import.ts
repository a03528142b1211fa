/**
 * The office budget of issue 16 (design.md said 10 s): importing 50,000 members under 5 s. Members
 * are households here (what UTM registers; each with 1 to 8 beneficiaries, one CSV line each). A
 * file is generated (not measured), then the check and the confirmed import are timed as the
 * console and `sabatili import members --yes` run them: the check reads the file as a stream, the
 * import writes the households the check kept.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.ts';
import { openDatabase } from '../../src/db/connection.ts';
import { createHouseholdStore } from '../../src/db/households.ts';
import { createMutuelleStore } from '../../src/db/mutuelles.ts';
import { readDemoData, seedDemo } from '../../src/db/seed.ts';
import { createAudit } from '../../src/office/audit.ts';
import { COLUMNS, previewImport, runImport } from '../../src/office/import.ts';
import { PHONE_STRIDE } from './campaign.ts';
import { random } from './kpi.ts';

export interface ImportBenchFigures {
  households: number;
  lines: number;
  checkMs: number;
  importMs: number;
  totalMs: number;
  /** CPU time of check and import (user + system): below the wall time when the machine is busy. */
  cpuMs: number;
  rssPeakMb: number;
}

export async function benchImport(n: number, log: (line: string) => void): Promise<ImportBenchFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'sabatili-bench-import-'));
  try {
    const db = openDatabase(join(dir, 'import.db'));
    const today = '2026-03-10';
    seedDemo(db, new ManualClock(`${today}T09:00:00Z`), { ...readDemoData(), households: [] });
    const mutuelles = db.prepare('SELECT id FROM mutuelles ORDER BY id').pluck().all() as string[];
    const rnd = random(7);
    const file = join(dir, 'members.csv');
    const lines = writeMembersFile(file, n, mutuelles, rnd);
    log(`${n} households, ${lines} lines generated`);
    const deps = { db, households: createHouseholdStore(db), mutuelles: createMutuelleStore(db), audit: createAudit(db) };
    let peak = process.memoryUsage().rss;
    const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const checked = await previewImport(file, deps, today);
    const t1 = performance.now();
    const imported = await runImport(file, deps, { staffId: null, name: 'bench' }, new Date(`${today}T09:00:00Z`));
    const t2 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    clearInterval(sample);
    if (checked.households !== n || imported.households !== n)
      throw new Error(`import bench: ${checked.households} checked, ${imported.households} imported, expected ${n}`);
    db.close();
    return {
      households: n,
      lines,
      checkMs: t1 - t0,
      importMs: t2 - t1,
      totalMs: t2 - t0,
      cpuMs: (cpu.user + cpu.system) / 1000,
      rssPeakMb: peak / 1e6,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Writes the members file a block of households at a time and returns how many lines it has: the
 * generated text is garbage by the time the import is timed, not a live heap the import's
 * collections must mark (kept whole, it was some 180 MB of strings).
 */
function writeMembersFile(file: string, n: number, mutuelles: readonly string[], rnd: () => number): number {
  const fd = openSync(file, 'w');
  let count = 0;
  try {
    writeSync(fd, `${COLUMNS.join(',')}\n`);
    let block: string[] = [];
    for (let h = 1; h <= n; h++) {
      const card = `BEN-CHM-${String(h).padStart(6, '0')}`;
      // In no order of the households, as a real register has them (see campaign.ts).
      const phone = `+2237${String(1_000_000 + ((h * PHONE_STRIDE) % 1_000_000)).padStart(7, '0')}`;
      const mutuelle = mutuelles[h % mutuelles.length];
      const size = 1 + Math.floor(rnd() * 8);
      for (let i = 0; i < size; i++) {
        block.push(
          `${card},Adhérent ${h},${phone},${h % 3 ? 'fr' : 'bm'},${mutuelle},2026-01-0${1 + (h % 9)},Personne ${h}-${i},${i ? 'child' : 'adherent'},${1970 + 4 * i},${rnd() < 0.3 ? 'oui' : 'non'}`,
        );
      }
      count += size;
      if (block.length >= 10_000 || h === n) {
        writeSync(fd, `${block.join('\n')}\n`);
        block = [];
      }
    }
  } finally {
    closeSync(fd);
  }
  return count;
}
