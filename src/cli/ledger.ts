import { readFileSync, writeFileSync } from 'node:fs';
import { exportLedger, formatReport, formatStatementErrors, ledgerRows, parseStatement, reconcile } from '../payments/reconcile.ts';
import { sampleStatement } from '../payments/sample-statement.ts';
import type { Cli } from './context.ts';

/** `sabatili reconcile STATEMENT`: like diff, 0 the statement and the ledger agree, 1 they do not, 2 bad input. */
export function reconcileStatement(cli: Cli, file: string, opts: { from?: string; to?: string; json?: boolean }): number {
  cli.config();
  const parsed = parseStatement(readFileSync(file, 'utf8'));
  if (parsed.errors.length > 0) {
    cli.warn(formatStatementErrors(parsed.errors, file));
    cli.warn(`${file}: ${parsed.errors.length} error(s), nothing was reconciled`);
    return 2;
  }
  const report = reconcile(cli.services().db, parsed.rows, { from: opts.from, to: opts.to });
  cli.print(opts.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return report.balanced ? 0 : 1;
}

/** `sabatili ledger export`. */
export function ledgerExport(cli: Cli, opts: { from?: string; to?: string; output?: string }): void {
  const csv = exportLedger(cli.services().db, { from: opts.from, to: opts.to });
  if (opts.output) {
    writeFileSync(opts.output, csv);
    cli.warn(`${csv.trimEnd().split('\n').length - 1} ledger rows written to ${opts.output}`);
  } else {
    cli.stdout.write(csv);
  }
}

/** `sabatili ledger sample-statement`: the demo's operator statement, dated from its own ledger. */
export function ledgerSampleStatement(cli: Cli, opts: { output?: string }): void {
  const csv = sampleStatement(ledgerRows(cli.services().db));
  if (opts.output) {
    writeFileSync(opts.output, csv);
    cli.warn(`sample statement of ${csv.trimEnd().split('\n').length - 1} rows written to ${opts.output}`);
  } else {
    cli.stdout.write(csv);
  }
}
