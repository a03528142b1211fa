/**
 * `sabatili report kpi` as UTM's staff run it, on the demo network seeded on a known day and on the
 * hand-computed fixture of test/office: through the command parser, and once as the real binary.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { openDatabase } from '../../src/db/connection.ts';
import { seedDemo } from '../../src/db/seed.ts';
import { computeKpis, type Kpis } from '../../src/office/kpi.ts';
import { fixtureDb, PERIOD } from '../office/kpi-fixture.ts';
import { sabatili, spawnSabatili } from '../support/cli.ts';

let dir: string;
let demo: string;
let fixture: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sabatili-report-'));
  demo = join(dir, 'demo.db');
  const db = openDatabase(demo);
  seedDemo(db, new ManualClock('2026-03-10T09:00:00Z'));
  db.close();
  fixture = join(dir, 'fixture.db');
  fixtureDb(fixture).close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const report = (db: string, ...args: string[]) => sabatili(['report', 'kpi', ...args], { env: { DATABASE_PATH: db } });

describe('sabatili report kpi', () => {
  it("prints the demo network's figures as tables: penetration per district and mutuelle, its trend, statuses", async () => {
    const r = await report(demo, '--from', '2026-01-01', '--to', '2026-03-10', '--today', '2026-03-10');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('Figures for 2026-01-01 to 2026-03-10 (statuses and penetration on 2026-03-10)');
    // Same numbers as the library, which kpi-coverage.test.ts checks against coverageOn.
    const db = openDatabase(demo);
    const k = computeKpis(db, { from: '2026-01-01', to: '2026-03-10', today: '2026-03-10' });
    db.close();
    const total = lines.find((l) => /^ {2}total .*2026-03-10/.test(l))!;
    expect(total.split(/\s+/).filter(Boolean).slice(-3)).toEqual([
      '188200',
      String(k.totals.penetration.coveredPersons),
      expect.stringMatching(/%$/),
    ]);
    const klela = lines.find((l) => l.includes('sik-klela') && l.includes('2026-03-10'))!;
    expect(klela).toMatch(/21000\s+5\s+0\.024%$/); // Moussa Traoré's household of 5 over 21 000
    expect(r.stdout).toMatch(/Penetration at the end of each month\n +level +district +mutuelle_id +2026-01-31 +2026-02-28 +2026-03-10\n/);
    expect(r.stdout).toContain('Contributions per month (FCFA)');
    expect(r.stdout).toContain('USSD drop-off: where unfinished sessions stopped\n  (none)');
  });

  it('--csv: the same figures as CSV, one section per figure; --district narrows them', async () => {
    const r = await report(fixture, '--from', PERIOD.from, '--to', PERIOD.to, '--today', PERIOD.today, '--district', 'A', '--csv');
    expect(r.code).toBe(0);
    const sections = r.stdout.split(/^# /m).filter(Boolean);
    expect(sections[0]!.startsWith('penetration\n')).toBe(true);
    const rows = parse(sections[0]!.split('\n').slice(1).join('\n'), { columns: true, skip_empty_lines: true }) as Array<
      Record<string, string>
    >;
    expect(rows.map((x) => [x.level, x.mutuelle_id, x.target_population, x.covered_persons])).toEqual([
      ['total', '', '150', '4'],
      ['district', '', '150', '4'],
      ['mutuelle', 'm2', '50', '0'],
      ['mutuelle', 'm1', '100', '4'],
    ]);
  });

  it("--json: the library's object", async () => {
    const r = await report(fixture, '--from', PERIOD.from, '--to', PERIOD.to, '--today', PERIOD.today, '--json');
    const k = JSON.parse(r.stdout) as Kpis;
    expect(k.totals.contributions.total).toMatchObject({ count: 3, amount: 8500 });
    expect(k.conversions.campaigns).toEqual([]);
  });

  it('without a period: the last twelve months to today, as the console shows them', async () => {
    const r = await report(fixture, '--today', '2026-03-10', '--json');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Kpis).period).toMatchObject({ from: '2025-04-01', to: '2026-03-10', today: '2026-03-10' });
  });

  it('a bad day or an inverted period: a clear message and exit code 2', async () => {
    const bad = await spawnSabatili(['report', 'kpi', '--from', '2026-02-30', '--to', '2026-03-10'], { env: { DATABASE_PATH: fixture } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('from: "2026-02-30" is not a day; give YYYY-MM-DD');
    const inverted = await report(fixture, '--from', '2026-03-10', '--to', '2026-03-01');
    expect(inverted.code).toBe(2);
    expect(inverted.stderr).toContain('the period is inverted');
    const unknown = await report(fixture, '--from', '2026-03-01', '--to', '2026-03-10', '--mutuelle', 'zz');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no mutuelle "zz"');
  });
});
