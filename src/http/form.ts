import type { IncomingMessage } from 'node:http';
import type { Express } from 'express';
import { z } from 'zod';
import { Refusal } from '../domain/refusal.ts';
import { type PlainReply, writePlain } from './errors.ts';

/** Gateway callbacks are small; anything larger is not from the gateway. */
export const FORM_LIMIT_BYTES = 8 * 1024;

/**
 * Reads an application/x-www-form-urlencoded body into a plain object, with a size limit.
 * Lighter than a general body parser on the USSD hot path; a repeated field keeps its first value.
 * A body it cannot read is a Refusal (415, 413, or 400).
 */
export function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    return Promise.reject(new Refusal('Content-Type must be application/x-www-form-urlencoded', undefined, 415));
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > FORM_LIMIT_BYTES) {
    req.resume();
    return Promise.reject(new Refusal(`body larger than ${FORM_LIMIT_BYTES} bytes`, undefined, 413));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > FORM_LIMIT_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(new Refusal(`body larger than ${FORM_LIMIT_BYTES} bytes`, undefined, 413));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const out: Record<string, string> = Object.create(null);
      for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) {
        if (!(k in out)) out[k] = v;
      }
      resolve(out);
    });
    req.on('error', () => reject(new Refusal('unreadable body')));
  });
}

/** Field shapes shared by the gateway callbacks. */
export const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, { error: 'must be an E.164 number such as +22376000001' });
export const token = (max: number) =>
  z
    .string()
    .min(1, { error: 'is required' })
    .max(max)
    .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces' });

/** A gateway callback's work once its form is read: validation (a thrown Refusal) and effect, never touching the response itself. */
export type FormHandler = (form: Record<string, string>) => PlainReply | Promise<PlainReply>;

export const OK: PlainReply = { status: 200, body: 'OK' };

/**
 * Registers a FormHandler as an express POST route (the lean path in lean.ts serves the same handler
 * without express); a refusal goes to the app's errorHandler, which answers it as lean.ts does.
 */
export function postForm(app: Express, path: string, handler: FormHandler): void {
  app.post(path, async (req, res) => {
    writePlain(res, await handler(await readForm(req)));
  });
}
