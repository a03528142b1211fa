import type { FullCoverageRow } from '../db/coverage.ts';
import type { CoverageDifference } from '../db/households.ts';
import type { Cli } from './context.ts';

/** The fields of a row that differ, `field: stored → computed`, for one line per household. */
export function describeDifference(d: CoverageDifference): string {
  if (!d.stored) return `household ${d.householdId}: no coverage row`;
  if (!d.computed) return `household ${d.householdId}: a coverage row but no such household`;
  const stored = d.stored as unknown as Record<string, unknown>;
  const computed = d.computed as unknown as Record<string, unknown>;
  const fields = (Object.keys(computed) as Array<keyof FullCoverageRow>)
    .filter((k) => JSON.stringify(stored[k]) !== JSON.stringify(computed[k]))
    .map((k) => `${k}: ${JSON.stringify(stored[k])} → ${JSON.stringify(computed[k])}`);
  return `household ${d.householdId}: ${fields.join('; ')}`;
}

/** `sabatili coverage check`: exit code 1 listing what differs. */
export async function check(cli: Cli): Promise<number> {
  const r = (await cli.services()).households.checkCoverage();
  for (const d of r.differences) cli.print(describeDifference(d));
  if (!r.sumsAgree) cli.print('the sums kept for the figures differ from the rows (coverage rebuild recomputes them)');
  cli.print(`coverage check: ${r.checked} households, ${r.differences.length} differ from their ledger`);
  return r.differences.length > 0 || !r.sumsAgree ? 1 : 0;
}

/** `sabatili coverage rebuild`: every row and sum recomputed in one transaction. */
export async function rebuild(cli: Cli): Promise<number> {
  const started = Date.now();
  const n = (await cli.services()).households.rebuildCoverage();
  cli.print(`coverage rebuild: ${n} households in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}
