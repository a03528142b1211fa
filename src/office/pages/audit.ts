/** `/admin/audit` (the *Journal*): every audited action, filtered by who, what, which record and when. */
import type { Express } from 'express';
import { z } from 'zod';
import type { AuditFilter } from '../audit.ts';
import { dayField, type PageContext } from './shared.ts';

const auditQuery = z.object({
  actor: z.string().max(200).optional(),
  action: z.string().max(100).optional(),
  entity: z.string().max(50).optional(),
  entityId: z.string().max(50).optional(),
  from: dayField('must be a date'),
  to: dayField('must be a date'),
});

export function auditPages(app: Express, c: PageContext): void {
  app.get('/admin/audit', c.manager, (req, res) => {
    const q = auditQuery.safeParse(req.query);
    const filter: AuditFilter = q.success ? q.data : {};
    c.page(
      res,
      'audit',
      { title: 'Journal', filter, rows: c.audit.list(filter), error: q.success ? null : 'Filtre invalide: dates au format JJ/MM/AAAA.' },
      q.success ? 200 : 400,
    );
  });
}
