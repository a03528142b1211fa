import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/connection.ts';
import { Refusal } from '../domain/refusal.ts';
import type { Actor, Audit } from '../office/audit.ts';
import { exportLedger, parseStatement, type ReconcileOptions, reconcile } from '../payments/reconcile.ts';
import { jsonError, jsonRefusals } from './errors.ts';

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

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * `Authorization: Bearer <ADMIN_TOKEN>` on every admin API route: 503 while ADMIN_TOKEN is not set
 * (the office API stays closed rather than open), 401 without the right token. The comparison takes
 * the same time whatever the token sent.
 */
export function requireAdminToken(token: string | undefined, audited?: ApiAudit): RequestHandler {
  const expected = token === undefined ? undefined : digest(token);
  return (req: Request, res: Response, next: NextFunction) => {
    if (!expected) return jsonError(res, 503, 'ADMIN_TOKEN is not configured: set it (16 characters or more) to use the admin API');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!m || !timingSafeEqual(digest(m[1] as string), expected)) {
      res.set('WWW-Authenticate', 'Bearer realm="sabatili admin"');
      return jsonError(
        res,
        401,
        m ? 'the bearer token is not ADMIN_TOKEN' : 'missing bearer token: send the header Authorization: Bearer <ADMIN_TOKEN>',
      );
    }
    // Every accepted call is audited once answered (with its status): exports, reads and writes alike.
    if (audited) {
      res.on('finish', () =>
        audited.audit.record(API_ACTOR, audited.clock.now(), {
          action: `api.${req.method.toLowerCase()}`,
          entity: 'api',
          entityId: req.originalUrl.split('?')[0] ?? '',
          after: { query: req.query, status: res.statusCode, address: req.ip },
        }),
      );
    }
    next();
  };
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** `?from=&to=` as days, or a Refusal naming the bad one (an impossible or inverted period is refused by reconcile.ts). */
function period(req: Request): ReconcileOptions {
  const out: ReconcileOptions = {};
  for (const name of ['from', 'to'] as const) {
    const v = req.query[name];
    if (v === undefined || v === '') continue;
    if (typeof v !== 'string' || !DAY.test(v)) throw new Refusal(`${name}: must be a day such as 2026-03-01 (YYYY-MM-DD)`, name);
    out[name] = v;
  }
  return out;
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
  const router = express.Router();
  const csvBody = express.text({ type: ['text/csv', 'text/plain', 'application/csv'], limit: STATEMENT_LIMIT });
  // The body parser's own failures (too large, bad charset) worded for the office, instead of the parser's.
  const readCsv: RequestHandler = (req, res, next) => {
    if (!req.is(['text/csv', 'text/plain', 'application/csv'])) {
      return next(new Refusal('send the statement as the request body with Content-Type: text/csv', undefined, 415));
    }
    csvBody(req, res, (err?: unknown) => {
      if (!err) return next();
      const e = err as { type?: string; message?: string };
      if (e.type === 'entity.too.large')
        return next(new Refusal(`the statement is larger than ${STATEMENT_LIMIT.toUpperCase()}`, undefined, 413));
      const status = (err as { status?: number }).status;
      next(new Refusal(`could not read the body: ${e.message ?? String(err)}`, undefined, status === 415 ? 415 : 400));
    });
  };

  router.post('/reconcile', auth, readCsv, (req, res) => {
    const p = period(req);
    const parsed = parseStatement(typeof req.body === 'string' ? req.body : '');
    if (parsed.errors.length > 0) {
      const n = parsed.errors.length;
      throw new Refusal(`the statement has ${n} error${n > 1 ? 's' : ''}; nothing was reconciled`, undefined, 400, {
        errors: parsed.errors,
      });
    }
    res.json(reconcile(deps.db, parsed.rows, p));
  });

  router.get('/ledger.csv', auth, (req, res) => {
    const p = period(req);
    const csv = exportLedger(deps.db, p);
    const name = `sabatili-orange-money-ledger${p.from ? `-from-${p.from}` : ''}${p.to ? `-to-${p.to}` : ''}.csv`;
    res.attachment(name).type('text/csv; charset=utf-8').send(csv);
  });
  router.use(jsonRefusals);
  app.use('/admin/api', router);
}
