/**
 * Paying facilities: a facility's approved claims grouped in a payment batch, prepared by one staff
 * member, approved by another, and paid by the operator's disbursement exactly once.
 *
 * ## How a batch pays once
 *
 * - The batch row is durable before anything leaves: approval commits `approved`; each send commits
 *   `sending` with a new attempt number before the operator is called (synchronous=FULL). The
 *   operator is asked with the attempt's own reference `<reference>-<attempt>`, and keys the
 *   transfer on it: the same attempt asked again (a recovery after a crash, a lost answer) is the
 *   same transfer, never a second one.
 * - Only a verified outcome of the current attempt settles it: a signed callback or the status
 *   query. SUCCESS with the batch's amount and number writes `paid`, the ledger row (unique per
 *   batch and per operator transaction) and the agents' SMS in one durable transaction, before the
 *   operator hears 200. Duplicated, late or reordered callbacks find the attempt settled and change
 *   nothing. A SUCCESS with another amount or number keeps the batch `sending` with the discrepancy
 *   as its reason, for a person: it can neither be paid again nor retried.
 * - A lost callback is recovered by `recover()`: a batch sending for longer than `statusAfterMs` is
 *   asked about; an operator that never heard of the attempt is asked again with the same reference.
 * - `failed` is reached only when the operator refused the attempt at once (it created nothing) or
 *   reported it FAILED (a FAILED transfer never succeeds later). A retry is a new attempt, so a new
 *   reference, and is made only after the operator, asked again at that moment, confirms the last
 *   attempt did not succeed (a success found then refuses the retry, for a person). Old attempts are never
 *   sent again (the sweep resends only the current one). So at most one attempt of a batch can ever
 *   be paid, whatever the retries, duplicates, lost callbacks or crashes.
 */
import { bamakoDay, type Clock } from '../clock.ts';
import type { Claim, ClaimStore } from '../db/claims.ts';
import type { Db } from '../db/connection.ts';
import { type Batch, createDisbursementStore } from '../db/disbursements.ts';
import type { Agent, FacilityStore } from '../db/facilities.ts';
import { atomic, durably } from '../db/transaction.ts';
import { Refusal } from '../domain/refusal.ts';
import type { Logger } from '../log.ts';
import type { DisbursementCallback, DisbursementProvider, DisbursementStatus } from '../payments/port.ts';
import { type Outbox, SmsRejected } from '../sms/outbox.ts';

export type { Batch, BatchStatus, DisbursementRow } from '../db/disbursements.ts';

/** Who acts: a staff member signed in to the console. */
export interface StaffRef {
  staffId: number;
  name: string;
}

export interface BatchesDeps {
  db: Db;
  claims: ClaimStore;
  facilities: FacilityStore;
  outbox: Outbox;
  provider: DisbursementProvider;
  clock: Clock;
  logger: Logger;
  /** A catalog message in a language (flows/messages), for the agents' SMS. */
  message: (lang: Agent['language'], key: string, params: Record<string, string | number>) => string;
  /** Where the operator posts the disbursement callback. */
  callbackUrl: () => string;
  /** How long a batch waits for its callback before the operator is asked. */
  statusAfterMs: number;
}

export type CallbackOutcome = 'paid' | 'failed' | 'duplicate' | 'mismatch' | 'stale' | 'unknown';

/** What the recovery sweep did. */
export interface BatchRecovery {
  sent: number;
  asked: number;
  settled: number;
}

/** A reference readable on a statement line, unique by construction. */
export function batchReference(id: number, day: string): string {
  return `PB${day.replaceAll('-', '').slice(2)}${String(id).padStart(6, '0')}`;
}

/** The operator reference of a batch's attempt. */
export const attemptReference = (b: Pick<Batch, 'reference' | 'attempts'>, attempt = b.attempts) => `${b.reference}-${attempt}`;

/** `<reference>-<attempt>` back to its parts, or null. */
function splitReference(reference: string): { reference: string; attempt: number } | null {
  const m = /^(.+)-(\d{1,4})$/.exec(reference);
  return m ? { reference: m[1] as string, attempt: Number(m[2]) } : null;
}

type Audit = (before: Batch | null, after: Batch) => void;
type Outcome = { status: 'SUCCESS' | 'FAILED'; txnId: string; reason?: string | undefined; amount: number; msisdn: string };

export function createBatches(d: BatchesDeps) {
  const { db } = d;
  const store = createDisbursementStore(db);
  const now = () => d.clock.now().toISOString();
  const get = (id: number): Batch => {
    const b = store.get(id);
    if (!b) throw new Refusal(`Lot de paiement n° ${id} introuvable.`, 'batch', 404);
    return b;
  };

  /** The agents' SMS; an agent we cannot text never undoes a payment (logged instead). */
  function tellAgents(b: Batch): void {
    for (const agent of d.facilities.agentsOf(b.facilityId)) {
      try {
        d.outbox.enqueue({
          to: agent.phone,
          text: d.message(agent.language, 'disbursement.paid', { amount: b.amount, count: b.claimsCount, reference: b.reference }),
          lang: agent.language,
          kind: 'transactional',
          sourceKey: `disbursement:${b.id}:${agent.id}`,
        });
      } catch (err) {
        if (!(err instanceof SmsRejected)) throw err;
        d.logger.warn(
          { batch: b.reference, phone: agent.phone, reason: err.message },
          'disbursements: no SMS could be queued for an agent',
        );
      }
    }
  }

  /** Settles the attempt the outcome is about; what it changed. */
  const settle = atomic(db, (batchId: number, attempt: number, o: Outcome): CallbackOutcome => {
    const b = store.get(batchId) as Batch;
    if (b.status !== 'sending' || b.attempts !== attempt) return 'duplicate';
    if (b.operatorTxnId && b.operatorTxnId !== o.txnId) return 'unknown';
    const at = now();
    if (o.status === 'FAILED') {
      store.settle(b.id, attempt, { status: 'failed', txnId: o.txnId, reason: o.reason ?? 'FAILED' }, at);
      return 'failed';
    }
    if (o.amount !== b.amount || o.msisdn !== b.msisdn) {
      // Money moved, but not as approved: nobody may pay or retry it until a person has looked.
      const why = `OPERATOR_MISMATCH: ${o.amount} FCFA to ${o.msisdn}`;
      if (b.failureReason !== why) store.setDiscrepancy(b.id, attempt, o.txnId, why, at);
      return 'mismatch';
    }
    store.settle(b.id, attempt, { status: 'paid', txnId: o.txnId, reason: null }, at);
    store.addLedgerRow({
      batchId: b.id,
      facilityId: b.facilityId,
      reference: attemptReference(b, attempt),
      msisdn: b.msisdn,
      amount: b.amount,
      fee: 0,
      txnId: o.txnId,
      paidOn: bamakoDay(d.clock.now()),
      paidAt: at,
      now: at,
    });
    tellAgents(b);
    return 'paid';
  });

  /** An outcome on disk before anyone is told (the operator's retry is the safety net, never a lost payment). */
  const settleDurably = (batchId: number, attempt: number, o: Outcome): CallbackOutcome => {
    const out = durably(db, () => settle.immediate(batchId, attempt, o));
    if (out === 'mismatch') d.logger.error({ batch: batchId, attempt, o }, 'disbursements: the operator paid another amount or number');
    return out;
  };

  /** One attempt sent (or sent again, same reference): the operator's answer recorded. */
  async function ask(b: Batch): Promise<void> {
    const attempt = b.attempts;
    let outcome: Awaited<ReturnType<DisbursementProvider['disburse']>>;
    try {
      outcome = await d.provider.disburse({
        reference: attemptReference(b),
        msisdn: b.msisdn,
        amount: b.amount,
        callbackUrl: d.callbackUrl(),
      });
    } catch (err) {
      d.logger.warn({ err, batch: b.reference }, 'disbursements: the operator could not be reached; the recovery sweep will ask again');
      return;
    }
    if (outcome.status === 'rejected') {
      // Refused at once: the operator created nothing for this reference.
      durably(db, () =>
        atomic(db, () => store.settle(b.id, attempt, { status: 'failed', txnId: null, reason: outcome.reason }, now())).immediate(),
      );
      return;
    }
    store.setOperatorTxn(b.id, attempt, outcome.txnId, now());
  }

  /** A new attempt: durably `sending` first, then the operator. */
  async function send(id: number): Promise<Batch> {
    const started = durably(db, () => atomic(db, () => store.startAttempt(id, now())).immediate());
    if (!started) return get(id);
    await ask(get(id));
    return get(id);
  }

  /** What the operator says of the current attempt, settled; true when the batch was settled. */
  function apply(b: Batch, s: DisbursementStatus): boolean {
    if (s.status !== 'SUCCESS' && s.status !== 'FAILED') return false;
    const out = settleDurably(b.id, b.attempts, s);
    return out === 'paid' || out === 'failed';
  }

  return {
    store,
    get,
    latest: store.latest,
    ledgerBetween: store.ledgerBetween,
    /** The claims a batch pays. */
    claimsOf: (batchId: number): Claim[] => d.claims.ofBatch(batchId),
    /** Every active facility with what a new batch would pay it now (approved claims in no batch). */
    payable(): Array<{ id: number; name: string; district: string; paymentMsisdn: string; count: number; total: number }> {
      return d.facilities
        .facilities()
        .filter((f) => f.active)
        .map((f) => {
          const claims = d.claims.approvedUnbatched(f.id);
          return { ...f, count: claims.length, total: claims.reduce((s, c) => s + c.amount, 0) };
        });
    },
    /** A facility's approved claims in no batch yet, and their total: what a new batch would pay. */
    candidates(facilityId: number): { claims: Claim[]; total: number } {
      const claims = d.claims.approvedUnbatched(facilityId);
      return { claims, total: claims.reduce((s, c) => s + c.amount, 0) };
    },

    /**
     * An officer prepares a batch of exactly the claims they saw (approved, in no batch). Refused
     * when one of them is not payable any more, so the total approved is the total shown.
     */
    prepare(facilityId: number, claimIds: readonly number[], by: StaffRef, audit?: Audit): Batch {
      const facility = d.facilities.facility(facilityId);
      if (!facility) throw new Refusal(`Établissement n° ${facilityId} introuvable.`, 'facility', 404);
      const ids = [...new Set(claimIds)];
      if (ids.length === 0) throw new Refusal('Aucune demande à payer : choisissez au moins une demande approuvée.', 'claims');
      return atomic(db, (): Batch => {
        const payable = new Map(d.claims.approvedUnbatched(facilityId).map((c) => [c.id, c]));
        const chosen = ids.map((id) => payable.get(id));
        if (chosen.some((c) => c === undefined)) {
          throw new Refusal(
            'Une des demandes n’est plus à payer (déjà dans un lot, ou pas approuvée). Rechargez la page et vérifiez le total.',
            'claims',
            409,
          );
        }
        const amount = (chosen as Claim[]).reduce((s, c) => s + c.amount, 0);
        const at = d.clock.now();
        const b = store.record(
          { facilityId, msisdn: facility.paymentMsisdn, amount, claimsCount: ids.length, preparedBy: by.staffId, now: at.toISOString() },
          (id) => batchReference(id, bamakoDay(at)),
        );
        if (d.claims.joinBatch(b.id, ids) !== ids.length) throw new Error(`batch ${b.reference}: a claim did not join`);
        audit?.(null, b);
        return b;
      }).immediate();
    },

    /**
     * A manager approves a prepared batch, and it is sent. The preparer can never approve their own
     * batch (refused here, and by the table's CHECK).
     */
    async approve(id: number, by: StaffRef, audit?: Audit): Promise<Batch> {
      const before = get(id);
      if (before.preparedBy === by.staffId) {
        throw new Refusal('Vous avez préparé ce lot : un autre responsable doit l’approuver.', 'batch', 403);
      }
      const approved = durably(db, () =>
        atomic(db, () => {
          if (!store.approve(id, by.staffId, now())) return false;
          audit?.(before, get(id));
          return true;
        }).immediate(),
      );
      if (!approved) throw new Refusal('Ce lot n’attend plus d’approbation (déjà approuvé ou annulé).', 'batch', 409);
      return send(id);
    },

    /**
     * A failed batch sent again, as a new attempt, by a manager other than its preparer, once the
     * operator confirms the last attempt did not succeed.
     */
    async retry(id: number, by: StaffRef, audit?: Audit): Promise<Batch> {
      const before = get(id);
      if (before.preparedBy === by.staffId) {
        throw new Refusal('Vous avez préparé ce lot : un autre responsable doit le relancer.', 'batch', 403);
      }
      if (before.status !== 'failed') throw new Refusal('Seul un lot en échec peut être relancé.', 'batch', 409);
      const last = await d.provider.disbursementStatus(attemptReference(before));
      if (last.status === 'SUCCESS') {
        // Cannot happen if the operator keeps its word (FAILED is final); if it does, never pay twice.
        throw new Refusal(
          `L’opérateur indique que la tentative ${attemptReference(before)} a réussi : ne relancez pas, signalez-le au responsable financier.`,
          'batch',
          409,
        );
      }
      if (last.status === 'pending') {
        throw new Refusal('L’opérateur traite encore la dernière tentative : attendez son résultat.', 'batch', 409);
      }
      const started = durably(db, () =>
        atomic(db, () => {
          if (!store.startAttempt(id, now())) return false;
          audit?.(before, get(id));
          return true;
        }).immediate(),
      );
      if (!started) throw new Refusal('Ce lot a changé entre-temps : rechargez la page.', 'batch', 409);
      await ask(get(id));
      return get(id);
    },

    /** A prepared or failed batch cancelled: its claims are free for another batch. */
    cancel(id: number, by: StaffRef, audit?: Audit): Batch {
      const before = get(id);
      return atomic(db, (): Batch => {
        if (!store.cancel(id, by.staffId, now())) throw new Refusal('Seul un lot préparé ou en échec peut être annulé.', 'batch', 409);
        d.claims.leaveBatch(id);
        const after = get(id);
        audit?.(before, after);
        return after;
      }).immediate();
    },

    /** A verified operator callback. */
    handleCallback(cb: DisbursementCallback): CallbackOutcome {
      const ref = splitReference(cb.reference);
      const b = ref && store.byReference(ref.reference);
      if (!ref || !b) return 'unknown';
      if (ref.attempt !== b.attempts) {
        // An older attempt's outcome: by construction it failed (a retry waits for that), so nothing to do.
        if (cb.status === 'SUCCESS') d.logger.error({ batch: b.reference, cb }, 'disbursements: success of an earlier attempt');
        return 'stale';
      }
      return settleDurably(b.id, ref.attempt, cb);
    },

    /**
     * The recovery sweep (at start-up, then regularly): a batch approved but never sent is sent; one
     * sending for longer than `statusAfterMs` is asked about, and sent again (same reference) if
     * the operator never heard of it.
     */
    async recover(): Promise<BatchRecovery> {
      const r: BatchRecovery = { sent: 0, asked: 0, settled: 0 };
      const nowMs = d.clock.now().getTime();
      for (const b of store.inStatus('approved')) {
        try {
          r.sent++;
          await send(b.id);
        } catch (err) {
          d.logger.error({ err, batch: b.reference }, 'disbursements: sending an approved batch failed; next sweep tries again');
        }
      }
      for (const b of store.inStatus('sending')) {
        // A discrepancy waits for a person; asking again would only repeat it.
        if (b.failureReason || Date.parse(b.sentAt ?? b.updatedAt) + d.statusAfterMs > nowMs) continue;
        try {
          r.asked++;
          const s = await d.provider.disbursementStatus(attemptReference(b));
          if (s.status === 'unknown') await ask(b);
          else if (apply(b, s)) r.settled++;
        } catch (err) {
          d.logger.error({ err, batch: b.reference }, 'disbursements: recovery of a batch failed; next sweep tries again');
        }
      }
      if (r.sent || r.asked) d.logger.info(r, 'disbursements: recovery sweep');
      return r;
    },
  };
}

export type Batches = ReturnType<typeof createBatches>;
