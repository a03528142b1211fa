/**
 * `/admin/bambara`: the Bambara messages awaiting a native speaker's review, doubtful terms first;
 * `/admin/bambara.csv`, the spreadsheet to review them.
 */
import type { Express } from 'express';
import { exportReviewCsv, reviewItems } from '../../ussd/review.ts';
import { actorOf } from '../auth.ts';
import { whereInFrench } from '../labels.ts';
import type { PageContext } from './shared.ts';

export function bambaraPages(app: Express, c: PageContext): void {
  app.get('/admin/bambara', c.manager, (_req, res) => {
    const items = reviewItems().map((i) => ({ ...i, where: i.where.map(whereInFrench) }));
    c.page(res, 'bambara', { title: 'Relecture du bambara', items });
  });
  app.get('/admin/bambara.csv', c.manager, (_req, res) => {
    c.audit.record(actorOf(res), c.clock.now(), { action: 'export.bambara', entity: 'export', entityId: 'bambara.csv' });
    res.attachment('relecture-bambara.csv').type('text/csv; charset=utf-8').send(exportReviewCsv());
  });
}
