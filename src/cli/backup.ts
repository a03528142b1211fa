import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Db } from '../db/connection.ts';
import { Refusal } from '../domain/refusal.ts';
import type { Cli } from './context.ts';

export interface BackupResult {
  file: string;
  pages: number;
  ms: number;
}

/**
 * A consistent copy of the live database through SQLite's online backup API, while the server
 * keeps writing: pages are copied in steps, and the copy restarts from the changed pages when
 * another connection writes meanwhile. Written to `FILE.partial` first, renamed when complete, so a
 * cron job that dies never leaves a half copy under the real name.
 */
export async function backupDatabase(
  db: Db,
  file: string,
  opts: { force?: boolean; onProgress?: (copied: number, total: number) => void } = {},
): Promise<BackupResult> {
  // SQLite would say only "unable to open database file".
  if (!existsSync(dirname(file))) throw new Refusal(`${dirname(file)}: no such folder; create it first`, 'file');
  if (existsSync(file) && !opts.force) {
    throw new Refusal(`${file} exists: choose another name, or add --force to overwrite it`, 'file', 409);
  }
  const partial = `${file}.partial`;
  rmSync(partial, { force: true });
  const started = Date.now();
  let pages = 0;
  try {
    const done = await db.backup(partial, {
      progress: ({ totalPages, remainingPages }) => {
        opts.onProgress?.(totalPages - remainingPages, totalPages);
        // Pages per step: small enough that the server's writers are not held up for long.
        return 1000;
      },
    });
    pages = done.totalPages;
    opts.onProgress?.(pages, pages);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
  renameSync(partial, file);
  return { file, pages, ms: Date.now() - started };
}

/** `sabatili backup FILE`: progress on standard error, the summary on standard output. */
export async function backup(cli: Cli, file: string, opts: { force?: boolean; quiet?: boolean }): Promise<void> {
  const s = await cli.services();
  let shown = -1;
  const r = await backupDatabase(s.db, file, {
    force: opts.force === true,
    onProgress: (copied, total) => {
      const pct = total > 0 ? Math.floor((100 * copied) / total) : 100;
      if (opts.quiet || pct === shown) return;
      shown = pct;
      cli.stderr.write(`\rbackup: ${pct}% (${copied}/${total} pages)`);
    },
  });
  if (opts.quiet) return;
  cli.stderr.write('\n');
  cli.print(`${s.config.DATABASE_PATH} copied to ${r.file}: ${r.pages} pages in ${(r.ms / 1000).toFixed(1)} s`);
}
