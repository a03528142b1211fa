// The mobile-money operator's fees, as pure functions.
//
// An operator's fee grid is a table of amount bands, each with a fixed fee, and it
// changes by decree: every version has the day it takes effect, and a payment pays the
// fee of the version in force on its day. Amounts and fees are integer FCFA; a band
// [min, max] includes both ends. Reading the grid file is in src/payments/fee-grid.ts.

import type { LocalDate } from './dates.ts';
import { isLocalDate, toDayNumber } from './dates.ts';

export interface FeeBand {
  min: number; // integer FCFA >= 1, included
  max: number; // integer FCFA >= min, included
  fee: number; // integer FCFA >= 0, for any amount in [min, max]
}

export interface FeeGrid {
  version: string; // recorded with each payment (payments.fee_grid)
  effectiveFrom: LocalDate; // in force from this day on, until a later version takes effect
  bands: readonly FeeBand[];
}

/** The version in force on `day`: the latest effectiveFrom <= day. Throws a clear Error if none is. */
export function gridOn(grids: readonly FeeGrid[], day: LocalDate): FeeGrid {
  const d = toDayNumber(day); // throws on a bad day
  if (grids.length === 0) throw new Error(`no fee grid at all: cannot price a payment on ${day}`);
  let best: FeeGrid | undefined;
  let bestDay = -Infinity;
  let first: FeeGrid = grids[0]!;
  let firstDay = Infinity;
  for (const g of grids) {
    const e = toDayNumber(g.effectiveFrom);
    if (e < firstDay) {
      first = g;
      firstDay = e;
    }
    if (e <= d && e >= bestDay) {
      // on equal dates the later-listed version wins (validateGrids reports such a pair)
      best = g;
      bestDay = e;
    }
  }
  if (!best) {
    throw new Error(`no fee grid in force on ${day}: the first version (${first.version}) takes effect on ${first.effectiveFrom}`);
  }
  return best;
}

/** The fee for `amount` FCFA in `grid`. Throws a RangeError for an amount no band covers. */
export function feeFor(grid: FeeGrid, amount: number): number {
  if (!Number.isSafeInteger(amount) || amount < 1) {
    throw new RangeError(`amount must be a whole number of FCFA of at least 1, got ${amount}`);
  }
  for (const b of grid.bands) {
    if (b.min <= amount && amount <= b.max) return b.fee;
  }
  throw new RangeError(`${amount} FCFA is outside the fee grid ${grid.version} (${describeRange(grid)})`);
}

/** The smallest and largest amounts a grid prices, e.g. for the limits of an amount entry. */
export function gridRange(grid: FeeGrid): { min: number; max: number } {
  if (grid.bands.length === 0) throw new Error(`fee grid ${grid.version} has no bands`);
  let min = Infinity;
  let max = -Infinity;
  for (const b of grid.bands) {
    if (b.min < min) min = b.min;
    if (b.max > max) max = b.max;
  }
  return { min, max };
}

function describeRange(grid: FeeGrid): string {
  if (grid.bands.length === 0) return 'it has no bands';
  const { min, max } = gridRange(grid);
  return `it covers ${min} to ${max} FCFA`;
}

function isWholeFcfa(n: unknown, least: number): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= least;
}

/**
 * Everything wrong with a list of grid versions, one sentence each; [] when they are usable.
 * Checks: at least one version; versions named and distinct; valid and distinct effective
 * days; in each version at least one band, whole FCFA with min >= 1, max >= min, fee >= 0,
 * and bands contiguous (no gap, no overlap) once sorted by min.
 */
export function validateGrids(grids: readonly FeeGrid[]): string[] {
  const problems: string[] = [];
  if (grids.length === 0) return ['no fee grid: at least one dated version is needed'];
  const versions = new Map<string, number>();
  const days = new Map<string, string>();
  grids.forEach((g, gi) => {
    const name = typeof g.version === 'string' && g.version.trim() !== '' ? g.version : `#${gi + 1}`;
    const at = `fee grid ${name}`;
    if (name.startsWith('#')) problems.push(`fee grid #${gi + 1}: the version needs a name`);
    else if (versions.has(name)) problems.push(`${at}: the version name is used twice`);
    else versions.set(name, gi);

    if (!isLocalDate(g.effectiveFrom)) {
      problems.push(`${at}: effectiveFrom ${JSON.stringify(g.effectiveFrom)} is not a day 'YYYY-MM-DD'`);
    } else {
      const other = days.get(g.effectiveFrom);
      if (other !== undefined) problems.push(`${at}: takes effect on ${g.effectiveFrom}, the same day as ${other}`);
      else days.set(g.effectiveFrom, name);
    }

    if (!Array.isArray(g.bands) || g.bands.length === 0) {
      problems.push(`${at}: no bands`);
      return;
    }
    const sound: FeeBand[] = [];
    g.bands.forEach((b, bi) => {
      const band = `${at}, band ${bi + 1}`;
      let ok = true;
      if (!isWholeFcfa(b.min, 1)) {
        problems.push(`${band}: min must be a whole number of FCFA of at least 1, got ${b.min}`);
        ok = false;
      }
      if (!isWholeFcfa(b.max, 1)) {
        problems.push(`${band}: max must be a whole number of FCFA of at least 1, got ${b.max}`);
        ok = false;
      }
      if (!isWholeFcfa(b.fee, 0)) {
        problems.push(`${band}: fee must be a whole number of FCFA, 0 or more, got ${b.fee}`);
      }
      if (ok && b.max < b.min) {
        problems.push(`${band}: max ${b.max} is below min ${b.min}`);
        ok = false;
      }
      if (ok) sound.push(b);
    });
    sound.sort((a, b) => a.min - b.min || a.max - b.max);
    // compare each band with the one reaching furthest before it (a wide band may span several)
    let reach: FeeBand | undefined;
    for (const cur of sound) {
      if (reach && cur.min > reach.max + 1) {
        problems.push(
          `${at}: gap between ${reach.min}–${reach.max} and ${cur.min}–${cur.max}: no fee for ${reach.max + 1}–${cur.min - 1} FCFA`,
        );
      } else if (reach && cur.min <= reach.max) {
        problems.push(
          `${at}: ${reach.min}–${reach.max} and ${cur.min}–${cur.max} overlap on ${cur.min}–${Math.min(reach.max, cur.max)} FCFA`,
        );
      }
      if (!reach || cur.max > reach.max) reach = cur;
    }
  });
  return problems;
}
