// The operator's fee grid file (fixtures/fees/orange-money.json): its shape, checked with
// zod, then its rules, checked by the domain (src/domain/fees.ts validateGrids).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { FeeGrid } from '../domain/fees.ts';
import { validateGrids } from '../domain/fees.ts';

export const DEFAULT_FEE_GRID_PATH = fileURLToPath(new URL('../../fixtures/fees/orange-money.json', import.meta.url));

const fcfa = z.number().int();

const bandSchema = z.object({ min: fcfa.min(1), max: fcfa.min(1), fee: fcfa.min(0) });

const gridSchema = z.object({
  $comment: z.string().optional(),
  version: z.string().trim().min(1),
  effectiveFrom: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected a day 'YYYY-MM-DD'"),
  bands: z.array(bandSchema).min(1),
});

export const feeGridFileSchema = z.object({
  $comment: z.string().optional(),
  operator: z.string().min(1),
  service: z.string().min(1),
  currency: z.literal('XOF'),
  grids: z.array(gridSchema).min(1),
});

export type FeeGridFile = z.infer<typeof feeGridFileSchema>;

/**
 * The grid versions of a parsed fee-grid file, in the file's order. Throws one Error listing
 * every problem (the shape first; then gaps, overlaps, repeated dates) naming `source`.
 */
export function loadFeeGrids(json: unknown, source = 'fee grid file'): FeeGrid[] {
  const parsed = feeGridFileSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${source}: ${z.prettifyError(parsed.error)}`);
  const grids: FeeGrid[] = parsed.data.grids.map((g) => ({
    version: g.version,
    effectiveFrom: g.effectiveFrom,
    bands: g.bands.map((b) => ({ min: b.min, max: b.max, fee: b.fee })),
  }));
  const problems = validateGrids(grids);
  if (problems.length > 0) throw new Error(`${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return grids;
}

/** Reads and checks a fee-grid file (by default the demo's illustrative Orange Money grid). */
export function readFeeGrids(path: string = DEFAULT_FEE_GRID_PATH): FeeGrid[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`fee grid file ${path}: ${(err as Error).message}`);
  }
  return loadFeeGrids(json, `fee grid file ${path}`);
}
