import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RequestHandler } from 'express';
import multer from 'multer';
import type { Clock } from '../clock.ts';
import { requireCsrf } from './auth.ts';

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

export interface CsvUploads {
  /** The folder the files wait in (uploadsDir). */
  dir: string;
  /** Receives the form's one file (field `file`, 50 MB at most) into `dir`. */
  receive: RequestHandler;
  /** The CSRF check, after the upload (the token is in the multipart body): a refused form's file goes at once. */
  csrf: RequestHandler;
}

/**
 * Uploads go to disk as they arrive (memory stays flat whatever the file), in a private folder,
 * under a name that the confirmation then names; each is deleted once refused, confirmed or
 * abandoned (the sweep on each upload).
 */
export function csvUploads(dir: string, clock: Clock): CsvUploads {
  const receive = multer({
    storage: multer.diskStorage({
      destination: (_req, _file, cb) => {
        sweepUploads(dir, clock.now());
        cb(null, dir);
      },
      filename: (_req, _file, cb) => cb(null, uploadName(clock.now().getTime(), randomUUID())),
    }),
    limits: { fileSize: 50 * 1024 * 1024, files: 1, fields: 5 },
  }).single('file');
  const csrf: RequestHandler = (req, res, next) => {
    let passed = false;
    requireCsrf(req, res, () => ((passed = true), next()));
    if (!passed && req.file) rmSync(req.file.path, { force: true });
  };
  return { dir, receive, csrf };
}
