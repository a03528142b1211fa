import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FeeBand, FeeGrid } from '../../src/domain/fees.ts';
import { feeFor, gridOn, gridRange, validateGrids } from '../../src/domain/fees.ts';
import { DEFAULT_FEE_GRID_PATH, loadFeeGrids, readFeeGrids } from '../../src/payments/fee-grid.ts';

const GRIDS = readFeeGrids();
const [V2025, V2026] = GRIDS as [FeeGrid, FeeGrid];

function grid(bands: FeeBand[], effectiveFrom = '2025-01-01', version = `v-${effectiveFrom}`): FeeGrid {
  return { version, effectiveFrom, bands };
}
const band = (min: number, max: number, fee: number): FeeBand => ({ min, max, fee });

describe('the illustrative Orange Money grid file', () => {
  it('holds two versions, from 01/01/2025 and from 01/07/2026, that pass every check', () => {
    expect(GRIDS.map((g) => [g.version, g.effectiveFrom])).toEqual([
      ['om-ml-2025-01', '2025-01-01'],
      ['om-ml-2026-07', '2026-07-01'],
    ]);
    expect(validateGrids(GRIDS)).toEqual([]);
  });

  it('says it is illustrative, and prices every amount from 1 to 500 000 FCFA', () => {
    const raw = JSON.parse(readFileSync(DEFAULT_FEE_GRID_PATH, 'utf8')) as { $comment: string };
    expect(raw.$comment).toMatch(/illustrative/i);
    for (const g of GRIDS) expect(gridRange(g)).toEqual({ min: 1, max: 500_000 });
  });
});

describe('the version in force', () => {
  it('changes on the day the new version takes effect, not the day before', () => {
    expect(gridOn(GRIDS, '2025-01-01').version).toBe('om-ml-2025-01');
    expect(gridOn(GRIDS, '2026-06-30').version).toBe('om-ml-2025-01');
    expect(gridOn(GRIDS, '2026-07-01').version).toBe('om-ml-2026-07');
    expect(gridOn(GRIDS, '2031-01-01').version).toBe('om-ml-2026-07');
  });

  it('so 2 000 FCFA costs 100 FCFA of fee on 30/06/2026 and 75 FCFA on 01/07/2026', () => {
    expect(feeFor(gridOn(GRIDS, '2026-06-30'), 2000)).toBe(100);
    expect(feeFor(gridOn(GRIDS, '2026-07-01'), 2000)).toBe(75);
  });

  it('does not depend on the order the versions are listed in', () => {
    const reversed = [...GRIDS].reverse();
    expect(gridOn(reversed, '2026-06-30').version).toBe('om-ml-2025-01');
    expect(gridOn(reversed, '2026-07-01').version).toBe('om-ml-2026-07');
  });

  it('is refused clearly before the first version, with no grid at all, or for a bad day', () => {
    expect(() => gridOn(GRIDS, '2024-12-31')).toThrow(
      'no fee grid in force on 2024-12-31: the first version (om-ml-2025-01) takes effect on 2025-01-01',
    );
    expect(() => gridOn([], '2026-03-10')).toThrow(/no fee grid at all/);
    expect(() => gridOn(GRIDS, '2026-02-30')).toThrow(/invalid date/);
  });
});

describe('the fee for an amount', () => {
  it('follows the band edges: 1 000 FCFA is 50, 1 001 FCFA is 100', () => {
    const cases: Array<[number, number]> = [
      [1, 50],
      [1000, 50],
      [1001, 100],
      [5000, 100],
      [5001, 200],
      [20_000, 200],
      [20_001, 500],
      [100_000, 500],
      [100_001, 1000],
      [500_000, 1000],
    ];
    for (const [amount, fee] of cases) expect([amount, feeFor(V2025, amount)]).toEqual([amount, fee]);
    expect(feeFor(V2026, 2500)).toBe(75);
    expect(feeFor(V2026, 2501)).toBe(100);
  });

  it('is a RangeError outside the bands or for an amount that is not whole FCFA', () => {
    expect(() => feeFor(V2025, 500_001)).toThrow(RangeError);
    expect(() => feeFor(V2025, 500_001)).toThrow('500001 FCFA is outside the fee grid om-ml-2025-01 (it covers 1 to 500000 FCFA)');
    for (const bad of [0, -1000, 1000.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => feeFor(V2025, bad)).toThrow(RangeError);
    }
    // a grid starting above 1 FCFA: below its first band is out of range too
    expect(() => feeFor(grid([band(100, 1000, 25)]), 99)).toThrow(/outside the fee grid/);
  });

  it('never decreases as the amount grows, in every version of the file', () => {
    fc.assert(
      fc.property(fc.constantFrom(...GRIDS), fc.integer({ min: 1, max: 500_000 }), fc.integer({ min: 1, max: 500_000 }), (g, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(feeFor(g, lo)).toBeLessThanOrEqual(feeFor(g, hi));
      }),
    );
  });
});

describe('checking grids', () => {
  it('finds a gap between bands, naming the amounts without a fee', () => {
    expect(validateGrids([grid([band(1, 1000, 50), band(1100, 5000, 100)])])).toEqual([
      'fee grid v-2025-01-01: gap between 1–1000 and 1100–5000: no fee for 1001–1099 FCFA',
    ]);
  });

  it('finds overlapping bands, naming the amounts priced twice', () => {
    expect(validateGrids([grid([band(1, 1000, 50), band(900, 5000, 100)])])).toEqual([
      'fee grid v-2025-01-01: 1–1000 and 900–5000 overlap on 900–1000 FCFA',
    ]);
    expect(validateGrids([grid([band(1, 5000, 50), band(1001, 2000, 100)])])).toEqual([
      'fee grid v-2025-01-01: 1–5000 and 1001–2000 overlap on 1001–2000 FCFA',
    ]);
    // a wide band over two narrow ones: two overlaps, and no gap between the narrow ones
    expect(validateGrids([grid([band(1, 1000, 50), band(100, 200, 10), band(300, 400, 20)])])).toEqual([
      'fee grid v-2025-01-01: 1–1000 and 100–200 overlap on 100–200 FCFA',
      'fee grid v-2025-01-01: 1–1000 and 300–400 overlap on 300–400 FCFA',
    ]);
  });

  it('accepts contiguous bands listed out of order', () => {
    expect(validateGrids([grid([band(1001, 5000, 100), band(1, 1000, 50)])])).toEqual([]);
  });

  it('finds bad bands, repeated dates and versions, and empty grids', () => {
    const problems = validateGrids([
      grid([band(0, 1000, 50), band(1001, 900, 10), band(1001, 5000, -5), band(5001, 6000.5, 1)], '2025-01-01', 'a'),
      grid([band(1, 1000, 50)], '2025-01-01', 'b'),
      grid([band(1, 1000, 50)], '2026-01-01', 'b'),
      grid([], '2026-02-01', 'c'),
      grid([band(1, 1000, 50)], '2026-02-30', 'd'),
      grid([band(1, 1000, 50)], '2027-01-01', ' '),
    ]);
    expect(problems).toEqual([
      'fee grid a, band 1: min must be a whole number of FCFA of at least 1, got 0',
      'fee grid a, band 2: max 900 is below min 1001',
      'fee grid a, band 3: fee must be a whole number of FCFA, 0 or more, got -5',
      'fee grid a, band 4: max must be a whole number of FCFA of at least 1, got 6000.5',
      'fee grid b: takes effect on 2025-01-01, the same day as a',
      'fee grid b: the version name is used twice',
      'fee grid c: no bands',
      `fee grid d: effectiveFrom "2026-02-30" is not a day 'YYYY-MM-DD'`,
      'fee grid #6: the version needs a name',
    ]);
    expect(validateGrids([])).toEqual(['no fee grid: at least one dated version is needed']);
  });

  it('reports no problem exactly when every amount from the lowest band to the highest is priced once', () => {
    // Bands laid end to end from a random start, each shifted now and then by a few francs
    // (leaving a gap or an overlap), listed in order or reversed.
    const bandsArb = fc
      .record({
        start: fc.integer({ min: 1, max: 20 }),
        steps: fc.array(
          fc.record({
            shift: fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.integer({ min: -3, max: 3 }), weight: 1 }),
            length: fc.integer({ min: 1, max: 12 }),
            fee: fc.nat(500),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        reversed: fc.boolean(),
      })
      .map(({ start, steps, reversed }) => {
        const bands: FeeBand[] = [];
        let next = start;
        for (const st of steps) {
          const min = Math.max(1, next + st.shift);
          bands.push(band(min, min + st.length - 1, st.fee));
          next = min + st.length;
        }
        return reversed ? bands.reverse() : bands;
      });
    fc.assert(
      fc.property(bandsArb, (bands) => {
        const lo = Math.min(...bands.map((b) => b.min));
        const hi = Math.max(...bands.map((b) => b.max));
        let pricedOnce = true;
        for (let a = lo; a <= hi; a++) {
          if (bands.filter((b) => b.min <= a && a <= b.max).length !== 1) pricedOnce = false;
        }
        expect(validateGrids([grid(bands)]).length === 0).toBe(pricedOnce);
        if (pricedOnce) {
          for (let a = lo; a <= hi; a++) expect(feeFor(grid(bands), a)).toBe(bands.find((b) => b.min <= a && a <= b.max)!.fee);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('loading a grid file', () => {
  const file = (grids: unknown[]) => ({ operator: 'orange_money', service: 'merchant_payment', currency: 'XOF', grids });

  it('returns the versions of a well-formed file', () => {
    const grids = loadFeeGrids(file([{ version: 'x', effectiveFrom: '2025-01-01', bands: [band(1, 100, 5)] }]));
    expect(grids).toEqual([{ version: 'x', effectiveFrom: '2025-01-01', bands: [band(1, 100, 5)] }]);
  });

  it('refuses a file with a gap, listing the problem', () => {
    expect(() =>
      loadFeeGrids(file([{ version: 'x', effectiveFrom: '2025-01-01', bands: [band(1, 100, 5), band(200, 300, 10)] }]), 'grid.json'),
    ).toThrow('grid.json:\n  - fee grid x: gap between 1–100 and 200–300: no fee for 101–199 FCFA');
  });

  it('refuses a malformed file with the path of the bad value', () => {
    expect(() => loadFeeGrids(file([{ version: 'x', effectiveFrom: '2025-01-01', bands: [{ min: 1, max: '100', fee: 5 }] }]))).toThrow(
      /grids\[0\]\.bands\[0\]\.max/,
    );
    expect(() => loadFeeGrids({ ...file([]), currency: 'EUR' })).toThrow(/currency/);
    expect(() => loadFeeGrids(file([]))).toThrow(/grids/);
  });

  it('names the file that cannot be read or parsed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fees-'));
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ "grids": [');
    expect(() => readFeeGrids(broken)).toThrow(`fee grid file ${broken}:`);
    expect(() => readFeeGrids(join(dir, 'missing.json'))).toThrow(/missing\.json.*ENOENT/);
  });
});
