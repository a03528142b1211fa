import { readFileSync, writeFileSync } from 'node:fs';
import { type DisbursementReport, exportDisbursements, reconcileDisbursements } from '../claims/disbursement-reconcile.ts';
import { formatMoney } from '../i18n/format.ts';
import {
  CATEGORIES,
  exportLedger,
  formatReport,
  formatStatementErrors,
  ledgerRows,
  parseStatement,
  reconcile,
} from '../payments/reconcile.ts';
import { sampleStatement } from '../payments/sample-statement.ts';
import type { Cli } from './context.ts';

/** `sabatili reconcile STATEMENT`: like diff, 0 the statement and the ledger agree, 1 they do not, 2 bad input. */
export async function reconcileStatement(
  cli: Cli,
  file: string,
  opts: { from?: string; to?: string; json?: boolean; disbursements?: boolean },
): Promise<number> {
  cli.config();
  const parsed = parseStatement(readFileSync(file, 'utf8'));
  if (parsed.errors.length > 0) {
    cli.warn(formatStatementErrors(parsed.errors, file));
    cli.warn(`${file}: ${parsed.errors.length} error(s), nothing was reconciled`);
    return 2;
  }
  const period = { from: opts.from, to: opts.to };
  if (opts.disbursements) {
    const report = reconcileDisbursements((await cli.services()).db, parsed.rows, period);
    cli.print(opts.json ? JSON.stringify(report, null, 2) : formatDisbursementReport(report));
    return report.balanced ? 0 : 1;
  }
  const report = reconcile((await cli.services()).db, parsed.rows, period);
  cli.print(opts.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return report.balanced ? 0 : 1;
}

/** `sabatili ledger export`. */
export async function ledgerExport(
  cli: Cli,
  opts: { from?: string; to?: string; output?: string; disbursements?: boolean },
): Promise<void> {
  const period = { from: opts.from, to: opts.to };
  const { db } = await cli.services();
  const csv = opts.disbursements ? exportDisbursements(db, period) : exportLedger(db, period);
  if (opts.output) {
    writeFileSync(opts.output, csv);
    cli.warn(`${csv.trimEnd().split('\n').length - 1} ledger rows written to ${opts.output}`);
  } else {
    cli.stdout.write(csv);
  }
}

/** `sabatili ledger sample-statement`: the demo's operator statement, dated from its own ledger. */
export async function ledgerSampleStatement(cli: Cli, opts: { output?: string }): Promise<void> {
  const csv = sampleStatement(ledgerRows((await cli.services()).db));
  if (opts.output) {
    writeFileSync(opts.output, csv);
    cli.warn(`sample statement of ${csv.trimEnd().split('\n').length - 1} rows written to ${opts.output}`);
  } else {
    cli.stdout.write(csv);
  }
}

/** The report for a terminal: the totals, then every row that is not matched. */
function formatDisbursementReport(r: DisbursementReport): string {
  const out = [
    `Reconciliation of the operator's transfer statement with the disbursement ledger, ${r.period.from ?? '…'} to ${r.period.to ?? '…'}`,
  ];
  for (const c of CATEGORIES) {
    const t = r.totals[c];
    out.push(
      `  ${c.padEnd(18)} ${String(t.count).padStart(5)}   operator ${formatMoney(t.statementAmount)}   ledger ${formatMoney(t.ledgerAmount)}`,
    );
  }
  out.push(`  ${'FAILED (ignored)'.padEnd(18)} ${String(r.totals.ignored.count).padStart(5)}   ${formatMoney(r.totals.ignored.amount)}`);
  for (const c of CATEGORIES) {
    if (c === 'matched' || r[c].length === 0) continue;
    out.push('', `${c}:`);
    for (const i of r[c]) {
      const s = i.statement
        ? `operator line ${i.statement.line} ${i.statement.status} ${formatMoney(i.statement.amount)}`
        : 'not on the statement';
      const l = i.ledger
        ? `batch ${i.ledger.batchReference} ${i.ledger.facilityName} ${formatMoney(i.ledger.amount)}`
        : 'not in the ledger';
      out.push(`    ${i.transactionId}: ${s}; ${l}${i.note ? ` (${i.note})` : ''}`);
    }
  }
  out.push('', r.balanced ? 'The statement and the ledger agree.' : 'The statement and the ledger do NOT agree.');
  return out.join('\n');
}
