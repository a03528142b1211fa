// The coverage read model kept by the household store, write after write, against the same model
// computed from scratch from the ledger (and against coverageOn read on later days): random
// ledgers (backdated payments and lapses included), beneficiaries joining and leaving, moves to
// another mutuelle, and new dated versions of the product's parameters.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCoverageStore } from '../../src/db/coverage.ts';
import { createHouseholdStore } from '../../src/db/households.ts';
import { coverageAt, coverageOn, coverageView, coveredOn, ledgerState } from '../../src/domain/coverage.ts';
import { addDays, fromDayNumber, toDayNumber } from '../../src/domain/dates.ts';
import { memoryDatabase } from '../support/databases.ts';

const BASE = toDayNumber('2025-01-01');
const day = (d: number) => fromDayNumber(BASE + d);
const NOW = new Date('2025-01-01T08:00:00Z');

const version = fc.record({
  annualContribution: fc.constantFrom(0, 1200, 6000, 7200, 13_333),
  subsidyPercent: fc.constantFrom(0, 50, 100),
  joiningFee: fc.constant(0),
  waitingDays: fc.integer({ min: 0, max: 60 }),
  graceDays: fc.integer({ min: 0, max: 40 }),
});

const operation = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('pay' as const),
      household: fc.nat(2),
      amount: fc.integer({ min: 1, max: 3000 }),
      // Mostly after the household's previous payment (often past its grace), sometimes dated before it.
      gap: fc.integer({ min: 0, max: 90 }),
      backdated: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 700 }) }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('join' as const), household: fc.nat(2), subsidised: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('leave' as const), household: fc.nat(2), which: fc.nat(5), active: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('move' as const), household: fc.nat(2), mutuelle: fc.constantFrom('ma', 'mb') }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('version' as const),
      product: fc.constantFrom('pa', 'pb'),
      day: fc.integer({ min: 0, max: 700 }),
      v: version,
    }),
  },
);

describe('the coverage read model', () => {
  it('kept write after write equals the model computed from each ledger, and reads as coverageOn on later days', () => {
    fc.assert(
      fc.property(version, version, fc.array(operation, { minLength: 1, maxLength: 40 }), (va, vb, ops) => {
        const db = memoryDatabase();
        db.exec(`INSERT INTO products VALUES ('pa', 'A'), ('pb', 'B');
          INSERT INTO mutuelles VALUES ('ma', 'Mutuelle A', 'D', 100, 'pa'), ('mb', 'Mutuelle B', 'D', 100, 'pb');`);
        const store = createHouseholdStore(db);
        const model = createCoverageStore(db);
        store.setProductParameters('pa', { effectiveFrom: day(0), ...va });
        store.setProductParameters('pb', { effectiveFrom: day(0), ...vb });
        const ids = [0, 1, 2].map((i) =>
          store.create(
            {
              cardNumber: `C-${i}`,
              adherentName: `H${i}`,
              phone: `+2237000000${i}`,
              language: 'fr',
              mutuelleId: i === 2 ? 'mb' : 'ma',
              joinedOn: day(0),
              beneficiaries: [{ name: 'a', relation: 'adherent', subsidised: i === 1 }],
            },
            NOW,
          ),
        );
        let txn = 0;
        const last = [0, 0, 0];
        for (const o of ops) {
          const id = ids[o.op === 'version' ? 0 : o.household]!;
          if (o.op === 'pay') {
            const d = o.backdated ?? (last[o.household] = Math.min(700, last[o.household]! + o.gap));
            const paidOn = day(d);
            store.addContribution(
              {
                householdId: id,
                amount: o.amount,
                fee: 0,
                channel: 'cash',
                operatorTxnId: `T${txn++}`,
                paidOn,
                paidAt: `${paidOn}T10:00:00.000Z`,
              },
              NOW,
            );
          } else if (o.op === 'join') store.addBeneficiary(id, { name: 'b', relation: 'child', subsidised: o.subsidised }, NOW);
          else if (o.op === 'leave') {
            const b = store.load(id)!.beneficiaries;
            store.setBeneficiaryActive(id, b[o.which % b.length]!.id, o.active, NOW);
          } else if (o.op === 'move') {
            const h = store.load(id)!.household;
            store.update(
              id,
              store.versionOf(id)!,
              { adherentName: h.adherentName, phone: h.phone, language: h.language, mutuelleId: o.mutuelle },
              NOW,
            );
          } else store.setProductParameters(o.product, { effectiveFrom: day(o.day), ...o.v });
        }

        for (const id of ids) {
          const rec = store.load(id)!;
          const kept = model.get(id)!;
          const scratch = ledgerState({ beneficiaries: rec.beneficiaries, parameters: rec.parameters, ledger: rec.ledger });
          const { householdId, mutuelleId, full, subsidised, inactive, ...state } = kept;
          expect(state).toEqual(scratch);
          expect(mutuelleId).toBe(rec.household.mutuelleId);
          const active = rec.beneficiaries.filter((b) => b.active);
          expect({ householdId, full, subsidised, inactive }).toEqual({
            householdId: id,
            full: active.filter((b) => !b.subsidised).length,
            subsidised: active.filter((b) => b.subsidised).length,
            inactive: rec.beneficiaries.length - active.length,
          });
          // Read on days from its last payment on, the row says what the whole ledger says.
          const from = kept.lastPaidOn ?? day(0);
          for (const later of [0, 1, 20, 45, 100].map((n) => addDays(from, n))) {
            const household = { beneficiaries: rec.beneficiaries, parameters: rec.parameters };
            expect(coverageAt(kept, household, later), later).toEqual(coverageOn({ ...household, ledger: rec.ledger, today: later }));
          }
          // The coverage screen's read (one statement joining the row and the beneficiaries) says the
          // same as the view computed from the whole ledger, on days before the last payment too.
          const whole = { adherentName: rec.household.adherentName, ...rec };
          const before = from >= day(3) ? [addDays(from, -3)] : [];
          for (const d of [...before, from, addDays(from, 45)]) {
            expect(store.coverageView(id, d), d).toEqual(coverageView(whole, d));
          }
          // And its covered periods say, on every past day, whether coverageOn then said covered.
          for (let d = 0; d <= 720; d += 9) {
            const cov = coverageOn({ beneficiaries: rec.beneficiaries, parameters: rec.parameters, ledger: rec.ledger, today: day(d) });
            expect(coveredOn(kept.periods, day(d)), day(d)).toBe(cov.status !== 'lapsed');
          }
        }
        expect(store.checkCoverage()).toMatchObject({ differences: [], sumsAgree: true });
        db.close();
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it('is read for the coverage screen for a household without beneficiaries, and for one without a row', () => {
    const db = memoryDatabase();
    db.exec(`INSERT INTO products VALUES ('pa', 'A');
      INSERT INTO mutuelles VALUES ('ma', 'Mutuelle A', 'D', 100, 'pa');`);
    const store = createHouseholdStore(db);
    store.setProductParameters('pa', {
      effectiveFrom: day(0),
      annualContribution: 6000,
      subsidyPercent: 0,
      joiningFee: 0,
      waitingDays: 0,
      graceDays: 30,
    });
    const household = (i: number) =>
      store.create(
        {
          cardNumber: `C-${i}`,
          adherentName: `H${i}`,
          phone: `+2237000000${i}`,
          language: 'fr',
          mutuelleId: 'ma',
          joinedOn: day(0),
          beneficiaries: [],
        },
        NOW,
      );
    const empty = household(0);
    expect(store.coverageView(empty, day(3))).toEqual(coverageView({ adherentName: 'H0', ...store.load(empty)! }, day(3)));
    expect(store.coverageView(empty, day(3))?.beneficiaries).toEqual([]);
    const rowless = household(1);
    store.addBeneficiary(rowless, { name: 'b', relation: 'adherent', subsidised: false }, NOW);
    db.prepare('DELETE FROM household_coverage WHERE household_id = ?').run(rowless);
    expect(store.coverageView(rowless, day(3))).toEqual(coverageView({ adherentName: 'H1', ...store.load(rowless)! }, day(3)));
    expect(store.coverageView(999, day(3))).toBeUndefined();
    db.close();
  });

  it("reads a product's new parameters in a household record loaded before they were set", () => {
    const db = memoryDatabase();
    db.exec(`INSERT INTO products VALUES ('pa', 'A');
      INSERT INTO mutuelles VALUES ('ma', 'Mutuelle A', 'D', 100, 'pa');`);
    const store = createHouseholdStore(db);
    const v = { annualContribution: 6000, subsidyPercent: 0, joiningFee: 0, waitingDays: 0, graceDays: 30 };
    store.setProductParameters('pa', { effectiveFrom: day(0), ...v });
    const id = store.create(
      {
        cardNumber: 'C-0',
        adherentName: 'H0',
        phone: '+22370000000',
        language: 'fr',
        mutuelleId: 'ma',
        joinedOn: day(0),
        beneficiaries: [],
      },
      NOW,
    );
    expect(store.load(id)?.parameters).toHaveLength(1);
    store.setProductParameters('pa', { effectiveFrom: day(100), ...v, annualContribution: 7200 });
    expect(store.load(id)?.parameters.map((p) => p.annualContribution)).toEqual([6000, 7200]);
    db.close();
  });
});
