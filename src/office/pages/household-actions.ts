/**
 * The changes made from a member's file, each `POST /admin/households/:id/<action>`: a note, the
 * language, a receipt sent again, a pending payment cancelled, beneficiaries added, withdrawn or
 * reactivated, wallets linked and unlinked. Each is audited, then the file shows what happened.
 */
import type { Express, Request, Response } from 'express';
import { createHouseholdFile } from '../../db/household-file.ts';
import { createOutboxStore } from '../../db/outbox.ts';
import { createPreferenceStore } from '../../db/preferences.ts';
import { atomically } from '../../db/transaction.ts';
import { Refusal } from '../../domain/refusal.ts';
import { actorOf } from '../auth.ts';
import { type FlashCode, withFlash } from '../flash.ts';
import { checkBeneficiary, mobileNumber } from '../registration.ts';
import { formValues, householdPage } from './households.ts';
import { idParam, type PageContext } from './shared.ts';

export function householdActionPages(app: Express, c: PageContext): void {
  const householdFile = createHouseholdFile(c.db);
  const outboxReports = createOutboxStore(c.db);
  const preferences = createPreferenceStore(c.db);

  /** Runs one audited change to a household, then shows its page again with what happened (a refusal in place, with its status). */
  const householdAction = (path: string, run: (req: Request, res: Response, householdId: number) => Promise<FlashCode> | FlashCode) => {
    app.post(`/admin/households/:id/${path}`, c.officer, c.form, c.csrf, async (req, res) => {
      const id = idParam.safeParse(req.params.id);
      if (!id.success || !c.households.load(id.data)) return c.notFound(res, 'Ménage introuvable');
      try {
        res.redirect(303, withFlash(`/admin/households/${id.data}`, await run(req, res, id.data)));
      } catch (err) {
        if (!(err instanceof Refusal)) throw err;
        householdPage(c, res, id.data, { kind: 'error', text: err.message }, err.status);
      }
    });
  };

  householdAction('notes', (req, res, householdId) => {
    const text = String((req.body as Record<string, unknown>).text ?? '').trim();
    if (!text) throw new Refusal('La note est vide.', 'text');
    const actor = actorOf(res);
    atomically(c.db, () => {
      const at = c.clock.now();
      const id = householdFile.addNote(householdId, actor.staffId, at, text.slice(0, 2000));
      c.audit.record(actor, at, { action: 'household.note', entity: 'household', entityId: householdId, after: { noteId: id, text } });
    });
    return 'note-saved';
  });

  householdAction('language', (req, res, householdId) => {
    const language = (req.body as Record<string, unknown>).language;
    if (language !== 'fr' && language !== 'bm') throw new Refusal('Langue inconnue.', 'language');
    const before = c.households.load(householdId)?.household.language;
    atomically(c.db, () => {
      const at = c.clock.now();
      c.households.setLanguage(householdId, language, at);
      c.audit.record(actorOf(res), at, {
        action: 'household.language',
        entity: 'household',
        entityId: householdId,
        before: { language: before },
        after: { language },
      });
    });
    return 'language-changed';
  });

  // For a member who cannot read, asked on the phone or at the office: reminders become calls.
  householdAction('reminder-channel', (req, res, householdId) => {
    const channel = (req.body as Record<string, unknown>).channel;
    if (channel !== 'sms' && channel !== 'voice') throw new Refusal('Canal inconnu.', 'channel');
    atomically(c.db, () => {
      const at = c.clock.now();
      const before = preferences.reminderChannel(householdId);
      preferences.setReminderChannel(householdId, channel, 'office', at);
      c.audit.record(actorOf(res), at, {
        action: 'household.reminder-channel',
        entity: 'household',
        entityId: householdId,
        before: { channel: before },
        after: { channel },
      });
    });
    return 'reminder-channel-changed';
  });

  householdAction('payments/:paymentId/resend-receipt', (req, res, householdId) => {
    const payment = c.payments.ofHousehold(householdId, Number(req.params.paymentId));
    if (payment?.status !== 'succeeded' || !payment.operatorTxnId) throw new Refusal('Pas de reçu pour ce paiement.');
    const original = outboxReports.bySourceKey(`receipt:${payment.operatorTxnId}`);
    if (!original) throw new Refusal("Le reçu d'origine est introuvable.");
    atomically(c.db, () => {
      const at = c.clock.now();
      const resent = c.outbox.enqueue({
        to: original.recipient,
        text: original.text,
        lang: original.language,
        kind: 'transactional',
        sourceKey: `resend:${payment.operatorTxnId}:${at.getTime()}`,
      });
      c.audit.record(actorOf(res), at, {
        action: 'payment.resend-receipt',
        entity: 'payment',
        entityId: payment.id,
        after: { outbox: resent },
      });
    });
    return 'receipt-resent';
  });

  householdAction('payments/:paymentId/cancel', async (req, res, householdId): Promise<FlashCode> => {
    const payment = c.payments.ofHousehold(householdId, Number(req.params.paymentId));
    if (!payment || (payment.status !== 'pending' && payment.status !== 'initiated'))
      throw new Refusal("Ce paiement n'est pas en attente.");
    const cancelled = await c.payments.cancel(payment.payerMsisdn);
    c.audit.record(actorOf(res), c.clock.now(), {
      action: 'payment.cancel',
      entity: 'payment',
      entityId: payment.id,
      before: { status: payment.status },
      after: { status: cancelled?.status ?? 'cancelled' },
    });
    return 'payment-cancelled';
  });

  householdAction('beneficiaries', (req, res, householdId) => {
    const b = checkBeneficiary(formValues(req), '', c.today());
    if (b === null) throw new Refusal('Le nom du bénéficiaire est requis.', 'name');
    if ('error' in b) throw new Refusal(b.error);
    const at = c.clock.now();
    atomically(c.db, () => {
      const id = c.households.addBeneficiary(householdId, b.value, at);
      c.audit.record(actorOf(res), at, {
        action: 'beneficiary.add',
        entity: 'household',
        entityId: householdId,
        after: { beneficiaryId: id, ...b.value },
      });
    });
    return 'beneficiary-added';
  });

  householdAction('beneficiaries/:beneficiaryId/active', (req, res, householdId) => {
    const active = (req.body as Record<string, unknown>).active === '1';
    const beneficiaryId = Number(req.params.beneficiaryId);
    const at = c.clock.now();
    atomically(c.db, () => {
      if (!c.households.setBeneficiaryActive(householdId, beneficiaryId, active, at)) throw new Refusal('Bénéficiaire introuvable.');
      c.audit.record(actorOf(res), at, {
        action: active ? 'beneficiary.reactivate' : 'beneficiary.deactivate',
        entity: 'household',
        entityId: householdId,
        before: { beneficiaryId, active: !active },
        after: { beneficiaryId, active },
      });
    });
    return active ? 'beneficiary-reactivated' : 'beneficiary-withdrawn';
  });

  householdAction('wallets', (req, res, householdId) => {
    const msisdn = mobileNumber(String((req.body as Record<string, unknown>).msisdn ?? ''));
    if (!msisdn) throw new Refusal('Numéro Orange Money invalide.', 'msisdn');
    const at = c.clock.now();
    atomically(c.db, () => {
      if (!c.households.linkWallet(householdId, msisdn, at))
        throw new Refusal(`Le portefeuille ${msisdn} est déjà lié à un ménage.`, 'msisdn');
      c.audit.record(actorOf(res), at, { action: 'wallet.link', entity: 'household', entityId: householdId, after: { msisdn } });
    });
    return 'wallet-linked';
  });

  householdAction('wallets/unlink', (req, res, householdId) => {
    const msisdn = String((req.body as Record<string, unknown>).msisdn ?? '');
    const at = c.clock.now();
    atomically(c.db, () => {
      if (!c.households.unlinkWallet(householdId, msisdn, at)) throw new Refusal("Ce portefeuille n'est pas lié à ce ménage.", 'msisdn');
      c.audit.record(actorOf(res), at, { action: 'wallet.unlink', entity: 'household', entityId: householdId, before: { msisdn } });
    });
    return 'wallet-unlinked';
  });
}
