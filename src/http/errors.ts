import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, Response } from 'express';
import type { ZodError, ZodType } from 'zod';
import { isRefusal, Refusal, type RefusalStatus } from '../domain/refusal.ts';
import { type IdSource, randomIds } from '../ids.ts';
import type { Logger } from '../log.ts';

// Every error an HTTP route answers is worded here. A route throws a Refusal (or lets one through);
// the edge answers it: text/plain `Bad request: …` for the gateway and the simulator, JSON
// `{ error, field?, ...details }` for the admin API. Anything else is a bug: logged with a
// reference, answered 500 without its stack.

/** A text/plain answer, written by express or by the lean path (lean.ts) alike. */
export interface PlainReply {
  status: number;
  body: string;
}

/** A refusal's text/plain answer: its status, naming the field so a caller (or a test) can act on it. */
export const plainRefusal = (message: string, status = 400): PlainReply => ({ status, body: `Bad request: ${message}\n` });

/** Writes a reply with the headers express's res.type('text/plain').send() would set, without its per-reply work. */
export function writePlain(res: ServerResponse, reply: PlainReply): void {
  res.writeHead(reply.status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(reply.body) });
  res.end(reply.body);
}

/** The admin API's error answer: JSON like its answers, `{ error, ...extra }`. */
export function jsonError(res: Response, status: number, error: string, extra: Readonly<Record<string, unknown>> = {}): void {
  res.status(status).json({ error, ...extra });
}

function describeZodError(error: ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

/** `value` read through `schema`, or a Refusal (400) naming the first field at fault and saying what each one lacks. */
export function parse<T>(schema: ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const path = r.error.issues[0]?.path;
  throw new Refusal(describeZodError(r.error), path?.length ? path.join('.') : undefined);
}

const REFUSAL_STATUSES: ReadonlySet<number> = new Set<RefusalStatus>([400, 401, 403, 404, 409, 413, 415, 422]);

/**
 * What was thrown, as a Refusal when it is one: a Refusal itself, or a body parser's 4xx (an
 * oversized or unreadable body, which express's parsers report with `status` and `expose`).
 */
export function asRefusal(err: unknown): Refusal | null {
  if (isRefusal(err)) return err;
  const e = err as { status?: unknown; expose?: unknown; message?: unknown } | null;
  if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose !== false) {
    const message = typeof e.message === 'string' && e.message ? e.message : 'unreadable body';
    return new Refusal(message, undefined, REFUSAL_STATUSES.has(e.status) ? (e.status as RefusalStatus) : 400);
  }
  return null;
}

/**
 * A bug met while answering `req`: logged with the method, the path (never the query string: it
 * may hold the gateway key) and a reference, which the 500 answer gives without any detail.
 */
export function bugReply(logger: Logger, req: IncomingMessage, err: unknown, ids: IdSource = randomIds): PlainReply {
  const ref = ids.hex(6);
  const url = req.url ?? '';
  const q = url.indexOf('?');
  logger.error({ err, ref, method: req.method, path: q < 0 ? url : url.slice(0, q) }, 'http: unhandled error');
  return { status: 500, body: `Internal error (ref ${ref})\n` };
}

/**
 * A router's last middleware where the routes answer text/plain (the simulator's APIs): a refusal →
 * its text/plain 4xx, so the router answers alike on any app; anything else goes on to errorHandler.
 */
export const plainRefusals: ErrorRequestHandler = (err, _req, res, next) => {
  const refusal = asRefusal(err);
  if (!refusal || res.headersSent) return next(err);
  writePlain(res, plainRefusal(refusal.message, refusal.status));
};

/** The app's last middleware: a refusal → its text/plain 4xx; anything else → bugReply's 500. */
export function errorHandler(deps: { logger: Logger; ids?: IdSource }): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const refusal = asRefusal(err);
    const reply = refusal ? plainRefusal(refusal.message, refusal.status) : bugReply(deps.logger, req, err, deps.ids);
    // Too late for an answer (a stream half sent): the client sees the connection end.
    if (res.headersSent) return void res.destroy();
    writePlain(res, reply);
  };
}

/**
 * A JSON API router's last middleware: a refusal → `{ error, field?, ...details }` with its status;
 * anything else goes on to the app's errorHandler (500, logged).
 */
export const jsonRefusals: ErrorRequestHandler = (err, _req, res, next) => {
  const refusal = asRefusal(err);
  if (!refusal || res.headersSent) return next(err);
  jsonError(
    res,
    refusal.status,
    refusal.message,
    refusal.field === undefined ? refusal.details : { field: refusal.field, ...refusal.details },
  );
};
