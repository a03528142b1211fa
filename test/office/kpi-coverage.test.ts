// The figures' coverage (the read model's state and covered periods) against the domain's
// coverageOn: the same status on every day asked, for generated households and for the demo
// network, and the same penetration.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKpiData } from '../../scripts/bench/kpi.ts';
import { ManualClock } from '../../src/clock.ts';
import { openDatabase } from '../../src/db/connection.ts';
import { createHouseholdStore } from '../../src/db/households.ts';
import { seedDemo } from '../../src/db/seed.ts';
import {
  type Beneficiary,
  coverageOn,
  coveredOn,
  ledgerState,
  type Payment,
  type ProductParameters,
  statusAt,
} from '../../src/domain/coverage.ts';
import { addDays, fromDayNumber, toDayNumber } from '../../src/domain/dates.ts';
import { computeKpis } from '../../src/office/kpi.ts';

const BASE = toDayNumber('2024-01-01');
const day = (max: number) => fc.integer({ min: 0, max }).map((d) => fromDayNumber(BASE + d));

/** Dated versions from 2024-01-01 on (the first on the 1st, or within January, as a product may start mid-month). */
const parameters = fc
  .array(
    fc.record({
      offset: fc.integer({ min: 0, max: 900 }),
      annualContribution: fc.constantFrom(0, 1200, 6000, 6600, 7000, 13_333),
      subsidyPercent: fc.constantFrom(0, 50, 75, 100),
      joiningFee: fc.constant(0),
      waitingDays: fc.integer({ min: 0, max: 90 }),
      graceDays: fc.integer({ min: 0, max: 45 }),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .chain((vs) =>
    fc.integer({ min: 0, max: 20 }).map((firstOffset) =>
      vs.map((v, i): ProductParameters => {
        const { offset, ...p } = v;
        return { ...p, effectiveFrom: fromDayNumber(BASE + (i === 0 ? firstOffset : firstOffset + offset)) };
      }),
    ),
  );

const household = fc.record({
  parameters,
  beneficiaries: fc.array(fc.record({ subsidised: fc.boolean(), active: fc.boolean() }), { maxLength: 8 }),
  // Payments in any order, same days included; from the product's first month on (coverageOn throws before it).
  ledger: fc.array(fc.record({ day: fc.integer({ min: 20, max: 1100 }), amount: fc.integer({ min: 1, max: 20_000 }) }), { maxLength: 25 }),
  days: fc.uniqueArray(day(1200), { minLength: 1, maxLength: 8 }),
});

function expected(status: string, paidThrough: string | null): string {
  return status === 'lapsed' && paidThrough === null ? 'never' : status;
}

describe('the read model state of a ledger', () => {
  it('gives, on every day asked, the status coverageOn gives that day: whether covered on any day, which status from its last payment on', () => {
    fc.assert(
      fc.property(household, (h) => {
        const beneficiaries: Beneficiary[] = h.beneficiaries.map((b, i) => ({ id: i, name: `b${i}`, ...b }));
        const ledger: Payment[] = h.ledger.map((p) => ({ amount: p.amount, paidOn: fromDayNumber(BASE + p.day) }));
        const state = ledgerState({ beneficiaries, parameters: h.parameters, ledger });
        for (const today of h.days) {
          const cov = coverageOn({ beneficiaries, parameters: h.parameters, ledger, today });
          expect(coveredOn(state.periods, today), today).toBe(cov.status !== 'lapsed');
          if (state.lastPaidOn === null || today >= state.lastPaidOn) {
            const status = state.paidThrough === null ? 'never' : statusAt(state, today);
            expect(status, today).toBe(expected(cov.status, cov.paidThrough));
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});

type Household = NonNullable<ReturnType<ReturnType<typeof createHouseholdStore>['load']>>;

/** Every household of the database as the household store loads it (read once: the counts below ask many days). */
function loadHouseholds(path: string): Household[] {
  const db = openDatabase(path);
  const store = createHouseholdStore(db);
  const ids = db.prepare('SELECT id FROM households ORDER BY id').pluck().all() as number[];
  const all = ids.map((id) => store.load(id)!);
  db.close();
  return all;
}

/** Covered persons and households by status, counted household by household with the domain's coverageOn. */
function countWithDomain(records: Household[], today: string) {
  let covered = 0;
  const households: Record<string, number> = { active: 0, waiting: 0, grace: 0, lapsed: 0 };
  for (const r of records) {
    const cov = coverageOn({ beneficiaries: r.beneficiaries, parameters: r.parameters, ledger: r.ledger, today });
    households[cov.status]!++;
    if (cov.status !== 'lapsed') covered += r.beneficiaries.filter((b) => b.active).length;
  }
  return { covered, households };
}

describe('penetration equals counting covered persons with coverageOn', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sabatili-kpi-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('on the demo network, today and a year of month ends', () => {
    const path = join(dir, 'demo.db');
    const db = openDatabase(path);
    seedDemo(db, new ManualClock('2026-03-10T09:00:00Z'));
    const records = loadHouseholds(path);
    for (const today of ['2026-03-10', '2026-01-31', '2025-10-31', '2026-04-30', '2026-06-15']) {
      const k = computeKpis(db, { from: addDays(today, -30), to: today, today });
      const domain = countWithDomain(records, today);
      expect(k.totals.penetration.coveredPersons, today).toBe(domain.covered);
      const { neverCovered: _never, total: _total, ...byStatus } = k.totals.households;
      expect(byStatus, today).toEqual(domain.households);
    }
    // The demo's own story (design.md): +22376000001 covered (5 persons), +22376000002 lapsed, +22376000003 covered (6), +22366000004 covered (2).
    const now = computeKpis(db, { from: '2026-03-01', to: '2026-03-10', today: '2026-03-10' }).totals;
    expect(now.penetration.coveredPersons).toBe(13);
    expect(now.households).toMatchObject({ lapsed: 1, total: 4 });
    db.close();
  });

  it('on 1,500 generated households, at each month end of the trend', () => {
    const path = join(dir, 'generated.db');
    const db = openDatabase(path);
    generateKpiData(db, 1500, '2026-03-10');
    const k = computeKpis(db, { from: '2025-04-01', to: '2026-03-10', today: '2026-03-10' });
    db.close();
    expect(k.totals.households.total).toBe(1500);
    const records = loadHouseholds(path);
    for (const [i, day] of k.trendDays.entries()) {
      expect(k.totals.penetration.trend[i]!.coveredPersons, day).toBe(countWithDomain(records, day).covered);
    }
  });
});
