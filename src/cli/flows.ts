import { readFileSync, writeFileSync } from 'node:fs';
import { Refusal } from '../domain/refusal.ts';
import { isLanguage, loadCatalogs } from '../i18n/catalog.ts';
import { checkFlows } from '../ussd/check.ts';
import { CATALOG_DIR, exportReviewCsv, importReviewCsv, reviewItems, writeBambaraCatalog } from '../ussd/review.ts';
import { storyboard } from '../ussd/storyboard.ts';
import type { Cli } from './context.ts';

/** `sabatili flows print FLOW --lang fr|bm`: the flow's storyboard. */
export function print(cli: Cli, flow: string, opts: { lang: string }): number {
  if (!isLanguage(opts.lang)) throw new Refusal(`--lang ${opts.lang}: fr or bm`, 'lang');
  cli.print(storyboard(flow, opts.lang, loadCatalogs()));
  return 0;
}

/** `sabatili flows check`: 1 on any problem. */
export function check(cli: Cli, opts: { review?: boolean }): number {
  const report = checkFlows();
  for (const line of report.problems) cli.warn(`✗ ${line}`);
  if (opts.review) for (const line of report.pendingReview) cli.print(`… ${line}`);
  cli.print(
    `flows check: ${report.screens} screens in ${report.languages} languages, ${report.problems.length} problems, ` +
      `${report.pendingReview.length} Bambara messages awaiting review`,
  );
  return report.problems.length > 0 ? 1 : 0;
}

/** `sabatili flows review export FILE`. */
export function reviewExport(cli: Cli, file: string, opts: { catalogs?: string }): void {
  const catalogs = loadCatalogs(opts.catalogs ?? CATALOG_DIR);
  writeFileSync(file, exportReviewCsv(catalogs));
  const items = reviewItems(catalogs);
  cli.print(
    `${items.length} Bambara messages written to ${file}: ${items.filter((i) => i.doubt && i.status === 'pending').length} doubtful, ` +
      `${items.filter((i) => i.status === 'pending').length} awaiting review`,
  );
}

/** `sabatili flows review import FILE`: 1, and nothing written, on any error. */
export function reviewImport(cli: Cli, file: string, opts: { catalogs?: string }): number {
  const dir = opts.catalogs ?? CATALOG_DIR;
  const r = importReviewCsv(readFileSync(file, 'utf8'), dir);
  if (r.errors.length > 0 || r.bm === null) {
    for (const e of r.errors) cli.warn(`${file}:${e.line}: ${e.message}`);
    cli.warn(`flows review import: ${r.errors.length} errors, nothing written`);
    return 1;
  }
  writeBambaraCatalog(r.bm, dir);
  cli.print(`flows review import: ${r.changed.length} texts corrected, ${r.reviewed.length} messages marked reviewed`);
  return 0;
}
