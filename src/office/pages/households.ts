/**
 * Members and their households: `/admin/members` (the search), `/admin/households/new` and
 * `POST /admin/households` (registration), `/admin/households/:id/edit`, `/admin/households/:id`
 * (the member's file). The changes made from that file are in household-actions.ts.
 */
import type { Express, Request, Response } from 'express';
import { atomically } from '../../db/transaction.ts';
import { actorOf } from '../auth.ts';
import { type Flash, flashOf, withFlash } from '../flash.ts';
import { BENEFICIARY_ROWS, checkHousehold, type FormValues } from '../registration.ts';
import { idParam, type PageContext } from './shared.ts';

/** The posted form's text fields, without its CSRF token. */
export const formValues = (req: Request): FormValues =>
  Object.fromEntries(
    Object.entries(req.body as Record<string, unknown>).filter(([k, v]) => k !== '_csrf' && typeof v === 'string'),
  ) as FormValues;

/** A member's file (the support view); each opening is audited, as a read of personal data. */
export function householdPage(c: PageContext, res: Response, id: number, flash: Flash | undefined, status = 200): void {
  const at = c.clock.now();
  const view = c.support(id, at);
  if (!view) return c.notFound(res, 'Ménage introuvable');
  c.audit.record(actorOf(res), at, { action: 'household.view', entity: 'household', entityId: id });
  c.page(res, 'household', { title: view.household.adherentName, view, flash }, status);
}

export function householdPages(app: Express, c: PageContext): void {
  app.get('/admin/members', c.officer, (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q.slice(0, 100) : '';
    c.page(res, 'members', { title: 'Membres', q, hits: c.search(q) });
  });

  const householdForm = (res: Response, values: FormValues, errors: Record<string, string>, householdId?: number, status = 200) =>
    c.page(
      res,
      'household-form',
      {
        title: householdId ? 'Modifier le ménage' : 'Inscrire un ménage',
        values,
        errors,
        householdId,
        districts: c.districts(),
        rows: BENEFICIARY_ROWS,
      },
      status,
    );

  app.get('/admin/households/new', c.officer, (_req, res) => householdForm(res, { joinedOn: c.today() }, {}));

  app.post('/admin/households', c.officer, c.form, c.csrf, (req, res) => {
    const v = formValues(req);
    const checked = checkHousehold(v, c, { today: c.today() });
    if (!checked.ok) return householdForm(res, v, checked.errors, undefined, 400);
    const at = c.clock.now();
    const id = atomically(c.db, () => {
      const created = c.households.create(checked.value, at);
      c.audit.record(actorOf(res), at, { action: 'household.register', entity: 'household', entityId: created, after: checked.value });
      return created;
    });
    res.redirect(303, withFlash(`/admin/households/${id}`, 'household-registered'));
  });

  app.get('/admin/households/:id/edit', c.officer, (req, res) => {
    const id = idParam.safeParse(req.params.id);
    const record = id.success ? c.households.load(id.data) : undefined;
    if (!record || !id.success) return c.notFound(res, 'Ménage introuvable');
    const h = record.household;
    householdForm(
      res,
      {
        adherentName: h.adherentName,
        phone: h.phone,
        language: h.language,
        mutuelleId: h.mutuelleId,
        version: String(c.households.versionOf(id.data)),
      },
      {},
      id.data,
    );
  });

  app.post('/admin/households/:id/edit', c.officer, c.form, c.csrf, (req, res) => {
    const id = idParam.safeParse(req.params.id);
    const before = id.success ? c.households.load(id.data)?.household : undefined;
    if (!before || !id.success) return c.notFound(res, 'Ménage introuvable');
    const v = formValues(req);
    const checked = checkHousehold(v, c, { today: c.today(), editing: id.data });
    if (!checked.ok) return householdForm(res, v, checked.errors, id.data, 400);
    const { adherentName, phone, language, mutuelleId } = checked.value;
    const at = c.clock.now();
    const saved = atomically(c.db, () => {
      if (!c.households.update(id.data, Number(v.version), { adherentName, phone, language, mutuelleId }, at)) return false;
      c.audit.record(actorOf(res), at, {
        action: 'household.edit',
        entity: 'household',
        entityId: id.data,
        before: { adherentName: before.adherentName, phone: before.phone, language: before.language, mutuelleId: before.mutuelleId },
        after: { adherentName, phone, language, mutuelleId },
      });
      return true;
    });
    if (!saved) {
      // Someone saved first: show their version, never overwrite it silently.
      const now = c.households.load(id.data)?.household;
      return householdForm(
        res,
        { ...v, version: String(c.households.versionOf(id.data)) },
        {
          adherentName: `modifié entre-temps par quelqu'un d'autre (nom actuel: ${now?.adherentName}, téléphone: ${now?.phone}); vérifiez puis enregistrez à nouveau`,
        },
        id.data,
        409,
      );
    }
    res.redirect(303, withFlash(`/admin/households/${id.data}`, 'household-edited'));
  });

  app.get('/admin/households/:id', c.officer, (req, res) => {
    const id = idParam.safeParse(req.params.id);
    if (!id.success) return c.notFound(res, 'Ménage introuvable');
    householdPage(c, res, id.data, flashOf(req));
  });
}
