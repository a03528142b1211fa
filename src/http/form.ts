import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express, Request, Response } from 'express';
import { z } from 'zod';
import { badRequest } from './errors.ts';

export class FormError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Gateway callbacks are small; anything larger is not from the gateway. */
export const FORM_LIMIT_BYTES = 8 * 1024;

/**
 * Reads an application/x-www-form-urlencoded body into a plain object, with a size limit.
 * Lighter than a general body parser on the USSD hot path; a repeated field keeps its first value.
 */
export function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    return Promise.reject(new FormError('Content-Type must be application/x-www-form-urlencoded', 415));
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > FORM_LIMIT_BYTES) {
    req.resume();
    return Promise.reject(new FormError(`body larger than ${FORM_LIMIT_BYTES} bytes`, 413));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > FORM_LIMIT_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(new FormError(`body larger than ${FORM_LIMIT_BYTES} bytes`, 413));
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
    req.on('error', reject);
  });
}

/** Field shapes shared by the gateway callbacks. */
export const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, { error: 'must be an E.164 number such as +22376000001' });
export const token = (max: number) =>
  z.string().min(1, { error: 'is required' }).max(max).regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces' });

/** What a gateway callback answers: always text/plain. */
export interface PlainReply {
  status: number;
  body: string;
}

/** A gateway callback's work once its form is read: validation (4xx) and effect, never touching the response itself. */
export type FormHandler = (form: Record<string, string>) => PlainReply | Promise<PlainReply>;

export const OK: PlainReply = { status: 200, body: 'OK' };

/** The same text as errors.ts badRequest, for handlers that do not hold an express response. */
export const refusal = (message: string, status = 400): PlainReply => ({ status, body: `Bad request: ${message}\n` });

/** The reply of a form that could not be read (FormError's status, or 400). */
export function formRefusal(err: unknown): PlainReply {
  return err instanceof FormError ? refusal(err.message, err.status) : refusal('unreadable body');
}

/** Writes a reply with the headers express's res.type('text/plain').send() would set, without its per-reply work. */
export function writePlain(res: ServerResponse, reply: PlainReply): void {
  res.writeHead(reply.status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(reply.body) });
  res.end(reply.body);
}

/** Registers a FormHandler as an express POST route (the lean path in lean.ts serves the same handler without express). */
export function postForm(app: Express, path: string, handler: FormHandler): void {
  app.post(path, async (req, res) => {
    const body = await form(req, res);
    if (!body) return;
    writePlain(res, await handler(body));
  });
}

/** Reads the form or answers the 4xx itself (null). */
export async function form(req: Request, res: Response): Promise<Record<string, string> | null> {
  try {
    return await readForm(req);
  } catch (err) {
    if (err instanceof FormError) badRequest(res, err.message, err.status);
    else badRequest(res, 'unreadable body');
    return null;
  }
}
