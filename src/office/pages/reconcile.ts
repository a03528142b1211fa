/**
 * `/admin/reconcile`: the operator's statement against the ledger for a period, and
 * `/admin/reconcile/ledger.csv`, the ledger of that period. The matching is src/payments/reconcile.ts.
 */
import { readFileSync, rmSync } from 'node:fs';
import type { Express, Response } from 'express';
import { z } from 'zod';
import { CATEGORIES, exportLedger, parseStatement, reconcile, STATEMENT_COLUMNS, type StatementRow } from '../../payments/reconcile.ts';
import { actorOf } from '../auth.ts';
import { dayField, type PageContext } from './shared.ts';

const day = dayField('date invalide (JJ/MM/AAAA)');
const INVERTED = 'Période inversée : la date de début est après la date de fin.';
export const period = z.object({ from: day, to: day }).refine((p) => !p.from || !p.to || p.from <= p.to, { error: INVERTED });

const datesError = (e: z.ZodError) => (e.issues.some((i) => i.message === INVERTED) ? INVERTED : 'Dates au format JJ/MM/AAAA.');

/** A statement-against-ledger page: its URL and view, and the ledger's comparison. */
export interface StatementPage {
  path: string;
  view: string;
  title: string;
  compare: (rows: readonly StatementRow[], period: { from?: string | undefined; to?: string | undefined }) => unknown;
  /** What a bad period is called on this page. */
  datesError: (e: z.ZodError) => string;
}

/**
 * The page that takes an operator's statement (an upload, CSRF after the body) and shows how it
 * compares with a ledger: contributions here, disbursements in disbursements.ts. Returns how the
 * page is drawn, for the page's other routes.
 */
export function statementPage(app: Express, c: PageContext, s: StatementPage) {
  const draw = (res: Response, data: Record<string, unknown>, status = 200) =>
    c.page(
      res,
      s.view,
      {
        title: s.title,
        columns: STATEMENT_COLUMNS.join(','),
        categories: CATEGORIES,
        report: null,
        errors: null,
        error: null,
        ...data,
      },
      status,
    );

  app.get(s.path, c.manager, (_req, res) => draw(res, {}));

  app.post(
    s.path,
    c.manager,
    (req, res, next) => {
      c.uploads.receive(req, res, (err: unknown) =>
        err ? draw(res, { error: `Fichier refusé: ${(err as Error).message}` }, 400) : next(),
      );
    },
    c.uploads.csrf,
    (req, res) => {
      const p = period.safeParse(req.body);
      const file = req.file;
      try {
        if (!p.success) return draw(res, { error: s.datesError(p.error) }, 400);
        if (!file) return draw(res, { error: "Choisissez le relevé de l'opérateur." }, 400);
        const parsed = parseStatement(readFileSync(file.path, 'utf8'));
        if (parsed.errors.length) {
          return draw(
            res,
            { ...p.data, errors: parsed.errors, error: `Le relevé contient ${parsed.errors.length} erreur(s): rien n'a été rapproché.` },
            400,
          );
        }
        draw(res, { ...p.data, report: s.compare(parsed.rows, p.data) });
      } finally {
        if (file) rmSync(file.path, { force: true });
      }
    },
  );
  return draw;
}

export function reconcilePages(app: Express, c: PageContext): void {
  const reconcilePage = statementPage(app, c, {
    path: '/admin/reconcile',
    view: 'reconcile',
    title: 'Rapprochement',
    compare: (rows, p) => reconcile(c.db, rows, p),
    datesError,
  });

  app.get('/admin/reconcile/ledger.csv', c.manager, (req, res) => {
    const p = period.safeParse(req.query);
    if (!p.success) return reconcilePage(res, { error: datesError(p.error) }, 400);
    const csv = exportLedger(c.db, p.data);
    c.audit.record(actorOf(res), c.clock.now(), { action: 'export.ledger', entity: 'export', entityId: 'ledger.csv', after: p.data });
    res.type('text/csv').attachment('registre-cotisations.csv').send(csv);
  });
}
