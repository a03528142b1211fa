/**
 * `/admin/disbursements`, « Paiements aux établissements »: the payment batches of facilities' approved
 * claims (src/claims/batches.ts). Any staff member prepares a batch from the claims shown with their
 * total; a manager other than the preparer approves it (it is sent) or retries a failed one; a
 * prepared or failed batch can be cancelled. Managers export the disbursement ledger and reconcile
 * it with the operator's statement. Every write is audited in its own transaction.
 */
import type { Express, Request, Response } from 'express';
import { z } from 'zod';
import type { Batch, StaffRef } from '../../claims/batches.ts';
import { exportDisbursements, reconcileDisbursements } from '../../claims/disbursement-reconcile.ts';
import { Refusal } from '../../domain/refusal.ts';
import { actorOf } from '../auth.ts';
import { period, statementPage } from './reconcile.ts';
import { idParam, type PageContext } from './shared.ts';

/** What a redirect says, by code: fixed texts only, never text from the URL. */
const DONE: Record<string, string> = {
  prepare: 'Lot préparé. Un responsable (autre que vous) doit maintenant l’approuver.',
  approve: 'Lot approuvé et envoyé à Orange Money. Son statut change dès la réponse de l’opérateur.',
  retry: 'Lot relancé : nouvelle tentative envoyée à Orange Money.',
  cancel: 'Lot annulé : ses demandes peuvent entrer dans un nouveau lot.',
};

export const BATCH_STATUSES: Record<string, string> = {
  prepared: 'préparé, à approuver',
  approved: 'approuvé, en cours d’envoi',
  sending: 'envoyé, en attente de l’opérateur',
  paid: 'payé',
  failed: 'échec',
  cancelled: 'annulé',
};

/** Why a disbursement failed, as a manager can act on it. */
const FAILURES: Record<string, string> = {
  INSUFFICIENT_FUNDS: 'Float UTM insuffisant chez Orange Money : approvisionnez-le, puis relancez le lot.',
  UNKNOWN_WALLET: 'Numéro de paiement de l’établissement inconnu chez Orange Money : corrigez-le, puis préparez un nouveau lot.',
  WALLET_BLOCKED: 'Compte Orange Money de l’établissement bloqué : voyez avec l’établissement, puis relancez.',
  INVALID_REQUEST: 'Demande refusée par Orange Money (données invalides).',
  DUPLICATE_REFERENCE: 'Référence déjà utilisée chez Orange Money pour un autre transfert.',
};

export const failureText = (reason: string | null): string =>
  reason === null
    ? ''
    : reason.startsWith('OPERATOR_MISMATCH')
      ? `L’opérateur indique un paiement différent de celui approuvé (${reason.slice(19)}) : à vérifier avec Orange Money, rien ne sera relancé.`
      : (FAILURES[reason] ?? `Échec chez l’opérateur (${reason}).`);

const CARE: Record<string, string> = { consultation: 'consultation', delivery: 'accouchement', hospitalisation: 'hospitalisation' };

const prepareForm = z.object({
  facility: z.coerce.number().int().positive(),
  claim: z.union([z.coerce.number().int().positive(), z.array(z.coerce.number().int().positive())]).transform((v) => [v].flat()),
});

const staffOf = (res: Response): StaffRef => {
  const a = actorOf(res);
  return { staffId: a.staffId as number, name: a.name };
};

const summary = (b: Batch) => ({
  reference: b.reference,
  facility: b.facilityName,
  amount: b.amount,
  claims: b.claimsCount,
  status: b.status,
  attempts: b.attempts,
});

export function disbursementPages(app: Express, c: PageContext): void {
  const { batches } = c;
  const listPage = (req: Request, res: Response, error?: string, status = 200) => {
    const done = typeof req.query.done === 'string' ? DONE[req.query.done] : undefined;
    c.page(
      res,
      'disbursements',
      {
        title: 'Paiements aux établissements',
        facilities: batches.payable(),
        batches: batches.latest(),
        statuses: BATCH_STATUSES,
        failureText,
        done,
        error,
        me: actorOf(res).staffId,
      },
      status,
    );
  };
  const audit = (res: Response, action: string) => (before: Batch | null, after: Batch) =>
    c.audit.record(actorOf(res), c.clock.now(), {
      action,
      entity: 'batch',
      entityId: after.id,
      before: before && summary(before),
      after: summary(after),
    });
  /** A refusal is shown on the list with its status; anything else is a bug. */
  const orRefusal = async (req: Request, res: Response, work: () => Promise<string> | string) => {
    try {
      res.redirect(303, `/admin/disbursements?done=${await work()}`);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      listPage(req, res, err.message, err.status === 403 ? 403 : 409);
    }
  };

  app.get('/admin/disbursements', c.officer, (req, res) => listPage(req, res));

  app.get('/admin/disbursements/prepare', c.officer, (req, res) => {
    const id = idParam.safeParse(req.query.facility);
    const facility = id.success ? batches.payable().find((f) => f.id === id.data) : undefined;
    if (!facility) return c.notFound(res, 'Établissement introuvable');
    c.page(res, 'disbursement-prepare', {
      title: `Préparer un lot · ${facility.name}`,
      facility,
      ...batches.candidates(facility.id),
      care: CARE,
    });
  });

  app.post('/admin/disbursements/prepare', c.officer, c.form, c.csrf, (req, res) => {
    const form = prepareForm.safeParse(req.body);
    if (!form.success) return listPage(req, res, 'Choisissez au moins une demande approuvée.', 400);
    return orRefusal(req, res, () => {
      batches.prepare(form.data.facility, form.data.claim, staffOf(res), audit(res, 'batch.prepare'));
      return 'prepare';
    });
  });

  app.post('/admin/disbursements/:id/approve', c.manager, c.form, c.csrf, (req, res) => {
    const id = idParam.safeParse(req.params.id);
    if (!id.success) return c.notFound(res, 'Lot introuvable');
    return orRefusal(req, res, async () => {
      await batches.approve(id.data, staffOf(res), audit(res, 'batch.approve'));
      return 'approve';
    });
  });

  app.post('/admin/disbursements/:id/retry', c.manager, c.form, c.csrf, (req, res) => {
    const id = idParam.safeParse(req.params.id);
    if (!id.success) return c.notFound(res, 'Lot introuvable');
    return orRefusal(req, res, async () => {
      await batches.retry(id.data, staffOf(res), audit(res, 'batch.retry'));
      return 'retry';
    });
  });

  app.post('/admin/disbursements/:id/cancel', c.officer, c.form, c.csrf, (req, res) => {
    const id = idParam.safeParse(req.params.id);
    if (!id.success) return c.notFound(res, 'Lot introuvable');
    return orRefusal(req, res, () => {
      batches.cancel(id.data, staffOf(res), audit(res, 'batch.cancel'));
      return 'cancel';
    });
  });

  app.get('/admin/disbursements/ledger.csv', c.manager, (req, res) => {
    const p = period.safeParse(req.query);
    if (!p.success) return listPage(req, res, 'Dates au format JJ/MM/AAAA, la première avant la seconde.', 400);
    const csv = exportDisbursements(c.db, p.data);
    c.audit.record(actorOf(res), c.clock.now(), {
      action: 'export.disbursements',
      entity: 'export',
      entityId: 'disbursements.csv',
      after: p.data,
    });
    res.type('text/csv').attachment('registre-paiements-etablissements.csv').send(csv);
  });

  statementPage(app, c, {
    path: '/admin/disbursements/reconcile',
    view: 'disbursement-reconcile',
    title: 'Rapprochement des paiements aux établissements',
    compare: (rows, p) => reconcileDisbursements(c.db, rows, p),
    datesError: () => 'Dates au format JJ/MM/AAAA, la première avant la seconde.',
  });
}
