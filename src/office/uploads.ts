import { chmodSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** An upload not confirmed within this time is abandoned. */
export const UPLOAD_MAX_AGE_MS = 3600_000;

/**
 * Where uploaded files wait for their confirmation: beside the database (same disk, same backups
 * policy, not the shared /tmp), readable by the server's user only.
 */
export function uploadsDir(databasePath: string): string {
  const dir = join(dirname(databasePath), 'uploads');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}

/** A file's name carries its upload time (the app's clock, so tests can move it) and a random part. */
export const uploadName = (nowMs: number, random: string): string => `${nowMs}-${random}.csv`;

/** Deletes the uploads older than UPLOAD_MAX_AGE_MS (previews never confirmed); run on each upload. */
export function sweepUploads(dir: string, now: Date): number {
  let removed = 0;
  for (const name of readdirSync(dir)) {
    const at = Number(/^(\d+)-/.exec(name)?.[1] ?? 0);
    if (now.getTime() - at > UPLOAD_MAX_AGE_MS) {
      rmSync(join(dir, name), { force: true });
      removed++;
    }
  }
  return removed;
}
