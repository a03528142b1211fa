import { statSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { bamakoDay, systemClock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/connection.ts';
import { createHouseholdStore } from '../db/households.ts';
import { createMutuelleStore } from '../db/mutuelles.ts';
import { createAudit } from '../office/audit.ts';
import { cliActor } from './staff.ts';
import { COLUMNS, forgetImport, ImportFileError, previewImport, runImport, type ImportPreview } from '../office/import.ts';

export function formatPreview(p: ImportPreview, done: boolean): string {
  const lines = [
    `${p.lines} lines read: ${p.households} households (${p.beneficiaries} beneficiaries) ${done ? 'imported' : 'can be imported'}` +
      (p.rejectedHouseholds ? `, ${p.rejectedHouseholds} left out` : ''),
    ...Object.entries(p.perMutuelle).map(([m, n]) => `  ${m}: ${n}`),
  ];
  if (p.problemCount) {
    lines.push(`${p.problemCount} problem(s):`, ...p.problems.map((x) => `  line ${x.line}: ${x.message}`));
    if (p.problemCount > p.problems.length) lines.push(`  … and ${p.problemCount - p.problems.length} more`);
  }
  return lines.join('\n');
}

/** A progress bar on a terminal, nothing otherwise (scripts read the summary). */
function progress(file: string): { update(bytes: number): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new SingleBar({ format: '{bar} {percentage}% | {value}/{total} bytes', stream: process.stderr }, Presets.shades_classic);
  bar.start(statSync(file).size, 0);
  return { update: (b) => bar.update(b), stop: () => bar.stop() };
}

export function registerImport(program: Command, deps: { config: () => Config; openDb: (c: Config) => Db }): void {
  program
    .command('import')
    .description('import data from a file')
    .command('members')
    .description(`check a CSV of members (one line per beneficiary: ${COLUMNS.join(',')}), then import its valid households in one transaction`)
    .argument('<file>')
    .option('--yes', 'import without asking, after the check')
    .option('--check', 'only check and report; write nothing')
    .action(async (file: string, o: { yes?: boolean; check?: boolean }) => {
      const db = deps.openDb(deps.config());
      const d = { db, households: createHouseholdStore(db), mutuelles: createMutuelleStore(db), audit: createAudit(db) };
      try {
        let bar = progress(file);
        // Without --yes and a terminal to ask on, nothing will be imported: a check alone.
        const mayImport = !o.check && (o.yes === true || process.stdin.isTTY);
        const preview = await previewImport(file, d, bamakoDay(systemClock.now()), bar.update, { keep: mayImport });
        bar.stop();
        console.log(formatPreview(preview, false));
        if (!mayImport || preview.households === 0) {
          if (mayImport) forgetImport(file, d);
          if (!o.check && preview.households > 0) console.log('Nothing written: run again with --yes to import.');
          return;
        }
        if (!o.yes) {
          const rl = createInterface({ input: process.stdin, output: process.stdout });
          const answer = await rl.question(`Import ${preview.households} households? [y/N] `);
          rl.close();
          if (!/^y(es)?$|^o(ui)?$/i.test(answer.trim())) {
            forgetImport(file, d);
            return void console.log('Nothing written.');
          }
        }
        bar = progress(file);
        const done = await runImport(file, d, cliActor(), systemClock.now(), bar.update);
        bar.stop();
        console.log(formatPreview(done, true));
      } catch (err) {
        if (!(err instanceof ImportFileError) && (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        console.error(err instanceof ImportFileError ? err.message : `${file}: no such file`);
        process.exitCode = 2;
      } finally {
        db.close();
      }
    });
}
