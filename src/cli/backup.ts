import type { Command } from 'commander';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config.ts';
import type { WithDatabase } from './index.ts';
import type { Db } from '../db/connection.ts';

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
  if (!existsSync(dirname(file))) throw new RangeError(`${dirname(file)}: no such folder; create it first`);
  if (existsSync(file) && !opts.force) {
    throw new RangeError(`${file} exists: choose another name, or add --force to overwrite it`);
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

/** `sabatili backup FILE`. */
export function registerBackup(program: Command, cli: { config: () => Config; withDatabase: WithDatabase }): void {
  program
    .command('backup')
    .description("copy the database to FILE while the server runs (SQLite's online backup API); for cron, see the README")
    .argument('<file>', 'where to write the copy (refused if it exists, unless --force)')
    .option('--force', 'overwrite FILE if it exists')
    .option('--quiet', 'no progress, only errors (for cron)')
    .action((file: string, opts: { force?: boolean; quiet?: boolean }) => {
      const c = cli.config();
      return cli.withDatabase(c, async (db) => {
        let shown = -1;
        const r = await backupDatabase(db, file, {
          force: opts.force === true,
          onProgress: (copied, total) => {
            const pct = total > 0 ? Math.floor((100 * copied) / total) : 100;
            if (opts.quiet || pct === shown) return;
            shown = pct;
            process.stderr.write(`\rbackup: ${pct}% (${copied}/${total} pages)`);
          },
        });
        if (!opts.quiet) process.stderr.write('\n');
        if (!opts.quiet) console.log(`${c.DATABASE_PATH} copied to ${r.file}: ${r.pages} pages in ${(r.ms / 1000).toFixed(1)} s`);
      });
    });
}
