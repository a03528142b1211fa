import { statSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { Presets, SingleBar } from 'cli-progress';
import { bamakoDay } from '../clock.ts';
import { Refusal } from '../domain/refusal.ts';
import { forgetImport, type ImportPreview, previewImport, runImport } from '../office/import.ts';
import { type Cli, cliActor } from './context.ts';

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
function progress(cli: Cli, file: string): { update(bytes: number): void; stop(): void } {
  if (!cli.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new SingleBar(
    { format: '{bar} {percentage}% | {value}/{total} bytes', stream: cli.stderr as NodeJS.WritableStream },
    Presets.shades_classic,
  );
  bar.start(statSync(file).size, 0);
  return { update: (b) => bar.update(b), stop: () => bar.stop() };
}

/** `sabatili import members FILE`: checks, asks (on a terminal) or needs --yes, then imports. */
export async function members(cli: Cli, file: string, o: { yes?: boolean; check?: boolean }): Promise<number> {
  const s = await cli.services();
  const d = { db: s.db, households: s.households, mutuelles: s.mutuelles, audit: s.office.audit };
  try {
    let bar = progress(cli, file);
    // Without --yes and a terminal to ask on, nothing will be imported: a check alone.
    const mayImport = !o.check && (o.yes === true || cli.io.stdin.isTTY === true);
    const preview = await previewImport(file, d, bamakoDay(s.clock.now()), bar.update, { keep: mayImport });
    bar.stop();
    cli.print(formatPreview(preview, false));
    if (!mayImport || preview.households === 0) {
      if (mayImport) forgetImport(file, d);
      if (!o.check && preview.households > 0) cli.print('Nothing written: run again with --yes to import.');
      return 0;
    }
    if (!o.yes) {
      const rl = createInterface({ input: cli.io.stdin, output: cli.stdout as NodeJS.WritableStream });
      const answer = await rl.question(`Import ${preview.households} households? [y/N] `);
      rl.close();
      if (!/^y(es)?$|^o(ui)?$/i.test(answer.trim())) {
        forgetImport(file, d);
        cli.print('Nothing written.');
        return 0;
      }
    }
    bar = progress(cli, file);
    const done = await runImport(file, d, cliActor(), s.clock.now(), bar.update);
    bar.stop();
    cli.print(formatPreview(done, true));
    return 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Refusal(`${file}: no such file`, 'file', 404);
    throw err;
  }
}
