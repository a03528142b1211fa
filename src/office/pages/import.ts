/**
 * `/admin/import`: a members CSV uploaded and checked (the preview), then
 * `POST /admin/import/:token/confirm` imports it. The import itself is src/office/import.ts.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Express, Response } from 'express';
import { actorOf } from '../auth.ts';
import { COLUMNS, ImportFileError, previewImport, runImport } from '../import.ts';
import type { PageContext } from './shared.ts';

export function importPages(app: Express, c: PageContext): void {
  const importPage = (res: Response, data: Record<string, unknown>, status = 200) =>
    c.page(
      res,
      'import',
      { title: 'Importer des membres', columns: COLUMNS.join(','), preview: null, error: null, done: false, ...data },
      status,
    );
  const importDeps = { db: c.db, households: c.households, mutuelles: c.mutuelles, audit: c.audit };

  app.get('/admin/import', c.officer, (_req, res) => importPage(res, {}));

  app.post(
    '/admin/import',
    c.officer,
    (req, res, next) => {
      c.uploads.receive(req, res, (err: unknown) => {
        if (!err) return next();
        importPage(res, { error: `Fichier refusé: ${(err as Error).message}` }, 400);
      });
    },
    c.uploads.csrf,
    async (req, res) => {
      if (!req.file) return importPage(res, { error: 'Choisissez un fichier CSV.' }, 400);
      const token = req.file.filename.replace(/\.csv$/, '');
      try {
        const preview = await previewImport(req.file.path, importDeps, c.today());
        importPage(res, { preview, token, fileName: req.file.originalname });
      } catch (err) {
        rmSync(req.file.path, { force: true });
        if (!(err instanceof ImportFileError)) throw err;
        importPage(res, { error: err.message }, 400);
      }
    },
  );

  app.post('/admin/import/:token/confirm', c.officer, c.form, c.csrf, async (req, res) => {
    const token = String(req.params.token);
    const path = join(c.uploads.dir, `${token}.csv`);
    if (!/^\d{1,15}-[0-9a-f-]{36}$/.test(token)) return c.notFound(res, 'Fichier introuvable');
    try {
      const preview = await runImport(path, importDeps, actorOf(res), c.clock.now());
      importPage(res, { preview, done: true, fileName: `${token}.csv` });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return c.notFound(res, 'Fichier introuvable (déjà importé ?)');
      if (!(err instanceof ImportFileError)) throw err;
      importPage(res, { error: err.message }, 400);
    } finally {
      rmSync(path, { force: true });
    }
  });
}
