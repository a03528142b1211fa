import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/connection.ts';
import type { Actor, Audit } from '../office/audit.ts';
import { exportLedger, parseStatement, reconcile, type ReconcileOptions } from '../payments/reconcile.ts';

export interface AdminDeps {
  db: Db;
  /** ADMIN_TOKEN; undefined when not configured (every admin API call then answers 503). */
  token: string | undefined;
  audit?: ApiAudit;
}

/** Where the admin API's calls are audited: the token is the actor (it is not a person). */
export interface ApiAudit {
  audit: Audit;
  clock: Clock;
}
export const API_ACTOR: Actor = { staffId: null, name: 'api-token' };

/** Largest statement accepted by POST /admin/api/reconcile. */
export const STATEMENT_LIMIT = '5mb';

/** Admin API errors are JSON, like its answers: `{ error, ... }`. */
function fail(res: Response, status: number, error: string, extra: Record<string, unknown> = {}): void {
  res.status(status).json({ error, ...extra });
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * `Authorization: Bearer <ADMIN_TOKEN>` on every admin API route: 503 while ADMIN_TOKEN is not set
 * (the office API stays closed rather than open), 401 without the right token. The comparison takes
 * the same time whatever the token sent.
 */
export function requireAdminToken(token: string | undefined, audited?: ApiAudit): RequestHandler {
  const expected = token === undefined ? undefined : digest(token);
  return (req: Request, res: Response, next: NextFunction) => {
    if (!expected) return fail(res, 503, 'ADMIN_TOKEN is not configured: set it (16 characters or more) to use the admin API');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!m || !timingSafeEqual(digest(m[1] as string), expected)) {
      res.set('WWW-Authenticate', 'Bearer realm="sabatili admin"');
      return fail(
        res,
        401,
        m ? 'the bearer token is not ADMIN_TOKEN' : 'missing bearer token: send the header Authorization: Bearer <ADMIN_TOKEN>',
      );
    }
    // Every accepted call is audited once answered (with its status): exports, reads and writes alike.
    if (audited) {
      res.on('finish', () =>
        audited.audit.record(API_ACTOR, audited.clock.now(), {
          action: `api.${req.method.toLowerCase()}`, entity: 'api', entityId: req.originalUrl.split('?')[0] ?? '',
          after: { query: req.query, status: res.statusCode, address: req.ip },
        }),
      );
    }
    next();
  };
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** `?from=&to=` as days, or a message naming the bad one. */
function period(req: Request): ReconcileOptions | string {
  const out: ReconcileOptions = {};
  for (const name of ['from', 'to'] as const) {
    const v = req.query[name];
    if (v === undefined || v === '') continue;
    if (typeof v !== 'string' || !DAY.test(v)) return `${name}: must be a day such as 2026-03-01 (YYYY-MM-DD)`;
    out[name] = v;
  }
  return out;
}

/** Runs `fn`, turning a RangeError (a bad or inverted period) into a 400. */
function withPeriod(res: Response, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (err instanceof RangeError) return fail(res, 400, err.message);
    throw err;
  }
}

/**
 * The office's payment reconciliation API:
 * - `POST /admin/api/reconcile[?from=&to=]` with the operator statement as the body
 *   (`Content-Type: text/csv`, up to 5 MB; format in src/payments/reconcile.ts) → the JSON report;
 *   a malformed statement → 400 `{ error, errors: [{ line, message }] }`.
 * - `GET /admin/api/ledger.csv[?from=&to=]` → the ledger's Orange Money rows as CSV, in the
 *   statement's layout, for the operator.
 */
export function adminRoutes(app: Express, deps: AdminDeps): void {
  const auth = requireAdminToken(deps.token, deps.audit);
  const csvBody = express.text({ type: ['text/csv', 'text/plain', 'application/csv'], limit: STATEMENT_LIMIT });
  // The body parser's own failures (too large, bad charset) answered here, in JSON, instead of the app's 500.
  const readCsv: RequestHandler = (req, res, next) => {
    if (!req.is(['text/csv', 'text/plain', 'application/csv'])) {
      return fail(res, 415, 'send the statement as the request body with Content-Type: text/csv');
    }
    csvBody(req, res, (err?: unknown) => {
      if (!err) return next();
      const e = err as { status?: number; type?: string; message?: string };
      if (e.type === 'entity.too.large') return fail(res, 413, `the statement is larger than ${STATEMENT_LIMIT.toUpperCase()}`);
      fail(res, e.status && e.status >= 400 && e.status < 500 ? e.status : 400, `could not read the body: ${e.message ?? String(err)}`);
    });
  };

  app.post('/admin/api/reconcile', auth, readCsv, (req, res) => {
    const p = period(req);
    if (typeof p === 'string') return fail(res, 400, p);
    const text = typeof req.body === 'string' ? req.body : '';
    const parsed = parseStatement(text);
    if (parsed.errors.length > 0) {
      return fail(res, 400, `the statement has ${parsed.errors.length} error${parsed.errors.length > 1 ? 's' : ''}; nothing was reconciled`, {
        errors: parsed.errors,
      });
    }
    withPeriod(res, () => {
      res.json(reconcile(deps.db, parsed.rows, p));
    });
  });

  app.get('/admin/api/ledger.csv', auth, (req, res) => {
    const p = period(req);
    if (typeof p === 'string') return fail(res, 400, p);
    withPeriod(res, () => {
      const csv = exportLedger(deps.db, p);
      const name = `sabatili-orange-money-ledger${p.from ? `-from-${p.from}` : ''}${p.to ? `-to-${p.to}` : ''}.csv`;
      res.attachment(name).type('text/csv; charset=utf-8').send(csv);
    });
  });
}
