/**
 * `/admin/reminder-rules` (the *Alertes SMS* page): the default reminder rules and each mutuelle's
 * own; `POST /admin/reminder-rules/{customise,mutuelles/:mutuelleId/reset,:id}` change them. The
 * rules themselves are src/office/reminder-rules.ts.
 */
import type { Express, Request, Response } from 'express';
import { actorOf } from '../auth.ts';
import { type Flash, type FlashCode, flashOf, withFlash } from '../flash.ts';
import { RuleError } from '../reminder-rules.ts';
import type { PageContext } from './shared.ts';

export function reminderRulePages(app: Express, c: PageContext): void {
  const rulesPage = (res: Response, flash: Flash | undefined, status = 200) => {
    const rules = c.reminderRules.list();
    const mutuelles = c.districts().flatMap((x) => x.mutuelles);
    const own = new Set(rules.map((r) => r.mutuelleId).filter((m): m is string => m !== null));
    const groups = [
      { mutuelleId: null, title: 'Règles par défaut', rules: rules.filter((r) => r.mutuelleId === null) },
      ...mutuelles
        .filter((m) => own.has(m.id))
        .map((m) => ({ mutuelleId: m.id, title: m.name, rules: rules.filter((r) => r.mutuelleId === m.id) })),
    ];
    c.page(
      res,
      'reminder-rules',
      {
        title: 'Alertes SMS',
        groups,
        withoutOwn: mutuelles.filter((m) => !own.has(m.id)),
        intervalMinutes: Math.round(c.remindersIntervalSeconds / 60),
        flash,
      },
      status,
    );
  };
  app.get('/admin/reminder-rules', c.manager, (req, res) => rulesPage(res, flashOf(req)));

  /** A change to the rules, then the rules page with what happened. */
  const ruleAction = (path: string, run: (req: Request, res: Response) => FlashCode) => {
    app.post(`/admin/reminder-rules${path}`, c.manager, c.form, c.csrf, (req, res) => {
      try {
        res.redirect(303, withFlash('/admin/reminder-rules', run(req, res)));
      } catch (err) {
        if (!(err instanceof RuleError)) throw err;
        rulesPage(res, { kind: 'error', text: err.message }, 400);
      }
    });
  };
  ruleAction('/customise', (req, res) => {
    const id = String((req.body as Record<string, unknown>).mutuelleId ?? '');
    if (!c.districts().some((x) => x.mutuelles.some((m) => m.id === id))) throw new RuleError('mutuelle inconnue');
    c.reminderRules.customise(id, actorOf(res));
    return 'rules-customised';
  });
  ruleAction('/mutuelles/:mutuelleId/reset', (req, res) => {
    c.reminderRules.reset(String(req.params.mutuelleId), actorOf(res));
    return 'rules-reset';
  });
  ruleAction('/:id', (req, res) => {
    const b = req.body as Record<string, unknown>;
    const offset = String(b.offsetDays ?? '').trim();
    c.reminderRules.change(Number(req.params.id), offset === '' ? Number.NaN : Number(offset), b.enabled === 'on', actorOf(res));
    return 'rule-saved';
  });
}
