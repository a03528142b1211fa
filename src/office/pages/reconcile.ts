/**
 * `/admin/reconcile`: the operator's statement against the ledger for a period, and
 * `/admin/reconcile/ledger.csv`, the ledger of that period. The matching is src/payments/reconcile.ts.
 */
import { readFileSync, rmSync } from 'node:fs';
import type { Express, Response } from 'express';
import { z } from 'zod';
import { CATEGORIES, exportLedger, parseStatement, reconcile, STATEMENT_COLUMNS } from '../../payments/reconcile.ts';
import { actorOf } from '../auth.ts';
import { dayField, type PageContext } from './shared.ts';

const day = dayField('date invalide (JJ/MM/AAAA)');
const INVERTED = 'Période inversée : la date de début est après la date de fin.';
const period = z.object({ from: day, to: day }).refine((p) => !p.from || !p.to || p.from <= p.to, { error: INVERTED });

const datesError = (e: z.ZodError) => (e.issues.some((i) => i.message === INVERTED) ? INVERTED : 'Dates au format JJ/MM/AAAA.');

export function reconcilePages(app: Express, c: PageContext): void {
  const reconcilePage = (res: Response, data: Record<string, unknown>, status = 200) =>
    c.page(
      res,
      'reconcile',
      {
        title: 'Rapprochement',
        columns: STATEMENT_COLUMNS.join(','),
        categories: CATEGORIES,
        report: null,
        errors: null,
        error: null,
        ...data,
      },
      status,
    );

  app.get('/admin/reconcile', c.manager, (_req, res) => reconcilePage(res, {}));

  app.post(
    '/admin/reconcile',
    c.manager,
    (req, res, next) => {
      c.uploads.receive(req, res, (err: unknown) =>
        err ? reconcilePage(res, { error: `Fichier refusé: ${(err as Error).message}` }, 400) : next(),
      );
    },
    c.uploads.csrf,
    (req, res) => {
      const p = period.safeParse(req.body);
      const file = req.file;
      try {
        if (!p.success) return reconcilePage(res, { error: datesError(p.error) }, 400);
        if (!file) return reconcilePage(res, { error: "Choisissez le relevé de l'opérateur." }, 400);
        const parsed = parseStatement(readFileSync(file.path, 'utf8'));
        if (parsed.errors.length) {
          return reconcilePage(
            res,
            { ...p.data, errors: parsed.errors, error: `Le relevé contient ${parsed.errors.length} erreur(s): rien n'a été rapproché.` },
            400,
          );
        }
        reconcilePage(res, { ...p.data, report: reconcile(c.db, parsed.rows, p.data) });
      } finally {
        if (file) rmSync(file.path, { force: true });
      }
    },
  );

  app.get('/admin/reconcile/ledger.csv', c.manager, (req, res) => {
    const p = period.safeParse(req.query);
    if (!p.success) return reconcilePage(res, { error: datesError(p.error) }, 400);
    const csv = exportLedger(c.db, p.data);
    c.audit.record(actorOf(res), c.clock.now(), { action: 'export.ledger', entity: 'export', entityId: 'ledger.csv', after: p.data });
    res.type('text/csv').attachment('registre-cotisations.csv').send(csv);
  });
}
