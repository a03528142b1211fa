import type { Express } from 'express';
import type { ReviewDecision } from '../../payments/payments.ts';
import { actorOf } from '../auth.ts';
import { idParam, type PageContext } from './shared.ts';

/** The outcome of a decision, shown once after the redirect: fixed texts only, never text from the URL. */
const DONE: Record<string, string> = {
  credit: "Paiement crédité du montant de l'opérateur; le reçu part par SMS.",
  refuse: 'Paiement refusé: rien n\u2019a été crédité.',
  gone: "Ce paiement n'attend plus de décision (un autre responsable a déjà décidé).",
};

/**
 * `/admin/reviews`: payments the operator reported as successful with another amount or another paying phone than
 * the payment's (status `review`): nothing was credited. A manager sees both sides and credits the
 * operator's amount or refuses; the decision and its audit row commit together.
 */
export function reviewPages(app: Express, c: PageContext): void {
  const { payments } = c;
  app.get('/admin/reviews', c.manager, (req, res) => {
    const done = typeof req.query.done === 'string' ? DONE[req.query.done] : undefined;
    c.page(res, 'reviews', { title: 'Paiements à vérifier', items: payments.inReview(), done });
  });

  const decide = (decision: ReviewDecision) =>
    app.post(`/admin/reviews/:id/${decision}`, c.manager, c.form, c.csrf, (req, res) => {
      const id = idParam.safeParse(req.params.id);
      if (!id.success) return void res.redirect(303, '/admin/reviews?done=gone');
      const actor = actorOf(res);
      const after = payments.resolveReview(id.data, decision, actor.name, (before, resolved) =>
        c.audit.record(actor, c.clock.now(), {
          action: `payment.review.${decision}`,
          entity: 'payment',
          entityId: before.id,
          before: {
            status: before.status,
            amount: before.amount,
            operatorAmount: before.operatorAmount,
            operatorMsisdn: before.operatorMsisdn,
          },
          after: { status: resolved.status, failureReason: resolved.failureReason },
        }),
      );
      res.redirect(303, `/admin/reviews?done=${after ? decision : 'gone'}`);
    });
  decide('credit');
  decide('refuse');
}
