import type { Command } from 'commander';
import type { Config } from '../config.ts';
import type { CoverageDifference } from '../db/households.ts';
import type { FullCoverageRow } from '../db/coverage.ts';
import type { WithDatabase } from './index.ts';

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

/** `sabatili coverage check` and `sabatili coverage rebuild`: the coverage read model against the ledgers. */
export function registerCoverage(program: Command, cli: { config: () => Config; withDatabase: WithDatabase }): void {
  const coverage = program.command('coverage').description("the coverage read model (each household's state from its ledger)");
  coverage
    .command('check')
    .description("compare every household's coverage row with its ledger, and the figures' sums with the rows; exit code 1 listing what differs")
    .action(() =>
      cli.withDatabase(cli.config(), async (db) => {
        const { createHouseholdStore } = await import('../db/households.ts');
        const r = createHouseholdStore(db).checkCoverage();
        for (const d of r.differences) console.log(describeDifference(d));
        if (!r.sumsAgree) console.log('the sums kept for the figures differ from the rows (coverage rebuild recomputes them)');
        console.log(`coverage check: ${r.checked} households, ${r.differences.length} differ from their ledger`);
        if (r.differences.length > 0 || !r.sumsAgree) process.exitCode = 1;
      }),
    );
  coverage
    .command('rebuild')
    .description("recompute every household's coverage row from its ledger, in one transaction")
    .action(() =>
      cli.withDatabase(cli.config(), async (db) => {
        const { createHouseholdStore } = await import('../db/households.ts');
        const started = Date.now();
        const n = createHouseholdStore(db).rebuildCoverage();
        console.log(`coverage rebuild: ${n} households in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      }),
    );
}
