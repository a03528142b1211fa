/**
 * Claims review: `/admin/claims` (each facility's claims by status), `/admin/claims/facilities/:id`
 * (its queue: pending claims first, each with its automatic checks, then the latest decided), and
 * `POST /admin/claims/:id/{approve,reject}` (an officer's decision, final, audited). The checks and
 * the decision's rules are src/claims/review.ts.
 */
import type { Express, Request, Response } from 'express';
import { type ClaimChecks, type ClaimDecision, checksPass, createClaimReview, REASON_MAX } from '../../claims/review.ts';
import { createFacilityStore } from '../../db/facilities.ts';
import type { CareKind } from '../../domain/care.ts';
import { Refusal } from '../../domain/refusal.ts';
import { actorOf } from '../auth.ts';
import { FACILITY_KINDS } from '../facilities.ts';
import { f, idParam, type PageContext } from './shared.ts';

const CARE_NAMES: Record<CareKind, string> = {
  consultation: 'consultation',
  delivery: 'accouchement',
  hospitalisation: 'hospitalisation',
};

const DONE: Record<string, string> = {
  approved: 'Demande approuvée: elle sera payée avec le prochain paiement à l’établissement.',
  rejected: 'Demande refusée.',
};

/** Each check as the officer reads it: what is checked, and what was found. */
function checkLines(c: ClaimChecks, amount: number): Array<{ ok: boolean; label: string; text: string }> {
  const cov = c.covered;
  const paid = cov.paidThrough ? ` (payé jusqu'au ${f.day(cov.paidThrough)})` : ' (rien de payé)';
  const why: Record<typeof cov.status, string> = {
    active: 'couvert',
    waiting: `en stage jusqu'au ${cov.waitingUntil ? f.day(cov.waitingUntil) : '—'}`,
    grace: `délai de grâce${cov.graceUntil ? ` jusqu'au ${f.day(cov.graceUntil)}` : ''}${paid}: pas couvert pour les soins`,
    lapsed: `couverture finie${paid}`,
    withdrawn: 'bénéficiaire retiré du ménage',
    unknown: 'ménage introuvable',
  };
  const t = c.tariff;
  return [
    { ok: cov.ok, label: 'Couvert le jour de la visite', text: cov.ok ? 'oui' : `non: ${why[cov.status]}` },
    {
      ok: c.duplicate.ok,
      label: 'Visite en double',
      text: c.duplicate.ok ? 'non' : `oui: même patient, même jour, demande(s) n° ${c.duplicate.claimIds.join(', ')}`,
    },
    {
      ok: t.ok,
      label: 'Montant dans le tarif',
      text:
        t.allowed === null
          ? 'non: aucun tarif pour ce soin à cette date'
          : t.ok
            ? `oui (au plus ${f.money(t.allowed)})`
            : `non: ${f.money(amount)} demandés, ${f.money(t.allowed)} au plus`,
    },
    { ok: c.disputed.ok, label: 'Contesté par le membre', text: c.disputed.at ? `oui: NON reçu le ${f.when(c.disputed.at)}` : 'non' },
    { ok: c.mutuelle.ok, label: 'Mutuelle servie par l’établissement', text: c.mutuelle.ok ? 'oui' : 'non' },
  ];
}

/** What the console shows of a patient: the first name only. */
const firstName = (name: string) => name.trim().split(/\s+/)[0] ?? name;

export function claimPages(app: Express, c: PageContext): void {
  const facilities = createFacilityStore(c.db);
  const review = createClaimReview({ db: c.db, households: c.households, facilities });

  app.get('/admin/claims', c.officer, (_req, res) => {
    const counts = review.counts();
    const rows = facilities.facilities().map((fa) => {
      const of = (status: string) => counts.find((x) => x.facilityId === fa.id && x.status === status) ?? { claims: 0, amount: 0 };
      return { ...fa, pending: of('pending'), approved: of('approved'), rejected: of('rejected') };
    });
    c.page(res, 'claims', { title: 'Demandes de remboursement', rows, kinds: FACILITY_KINDS });
  });

  const queuePage = (res: Response, facilityId: number, data: Record<string, unknown>, status = 200) => {
    const facility = facilities.facility(facilityId);
    if (!facility) return c.notFound(res, 'Établissement introuvable');
    c.page(
      res,
      'claim-queue',
      {
        title: `Demandes de remboursement · ${facility.name}`,
        facility,
        ...review.queue(facilityId),
        care: CARE_NAMES,
        checkLines,
        checksPass,
        firstName,
        reasonMax: REASON_MAX,
        typed: {},
        ...data,
      },
      status,
    );
  };
  const doneOf = (req: Request) => {
    const code = req.query.done;
    return typeof code === 'string' && Object.hasOwn(DONE, code) ? { kind: 'ok', text: DONE[code] } : undefined;
  };
  app.get('/admin/claims/facilities/:id', c.officer, (req, res) => {
    const id = idParam.safeParse(req.params.id);
    if (!id.success) return c.notFound(res, 'Établissement introuvable');
    queuePage(res, id.data, { flash: doneOf(req) });
  });

  const decide = (path: string, decision: ClaimDecision) =>
    app.post(`/admin/claims/:id/${path}`, c.officer, c.form, c.csrf, (req, res) => {
      const id = idParam.safeParse(req.params.id);
      const claim = id.success ? review.line(id.data) : undefined;
      if (!claim) return c.notFound(res, 'Demande de remboursement introuvable');
      const reason = String((req.body as Record<string, unknown>).reason ?? '');
      const actor = actorOf(res);
      const at = c.clock.now();
      try {
        review.decide(claim.id, decision, reason, actor.staffId as number, at, (before, after) =>
          c.audit.record(actor, at, {
            action: `claim.${path}`,
            entity: 'claim',
            entityId: after.id,
            before: {
              status: before.status,
              amount: before.amount,
              failedChecks: Object.entries(before.checks)
                .filter(([, x]) => !x.ok)
                .map(([k]) => k),
            },
            after: { status: after.status, reason: after.decisionReason },
          }),
        );
      } catch (err) {
        if (!(err instanceof Refusal)) throw err;
        return queuePage(
          res,
          claim.facilityId,
          { flash: { kind: 'error', text: `Demande n° ${claim.id}: ${err.message}` }, typed: { [claim.id]: reason } },
          err.status,
        );
      }
      res.redirect(303, `/admin/claims/facilities/${claim.facilityId}?done=${decision}`);
    });
  decide('approve', 'approved');
  decide('reject', 'rejected');
}
