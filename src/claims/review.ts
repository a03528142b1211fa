/**
 * The review of claims by UTM's officers: the automatic checks shown beside each claim, computed
 * when it is reviewed (never stored: a late payment or a corrected tariff leaves no stale flag),
 * and the decision, final once taken. `claimChecks` is the rule, pure; the service gathers what it
 * needs from the stores.
 */
import { type ClaimLine, createClaimReviewReads } from '../db/claim-review.ts';
import { type Claim, type ClaimStore, createClaimStore } from '../db/claims.ts';
import type { Db } from '../db/connection.ts';
import { createFacilityStore, type FacilityStore } from '../db/facilities.ts';
import type { HouseholdStore } from '../db/households.ts';
import { atomically } from '../db/transaction.ts';
import { allowedAmount, type CareTariff, careCovered, tariffsOn } from '../domain/care.ts';
import type { CoverageStatus, LocalDate } from '../domain/coverage.ts';
import { Refusal } from '../domain/refusal.ts';

/** What the checks of one claim are computed from. */
export interface ClaimFacts {
  claim: Pick<Claim, 'care' | 'days' | 'amount' | 'visitOn' | 'disputedAt'>;
  /** The household's cover on the visit day, as the member is told it; undefined when the household is gone. */
  coverage:
    | { status: CoverageStatus; paidThrough: LocalDate | null; waitingUntil: LocalDate | null; graceUntil: LocalDate | null }
    | undefined;
  beneficiaryActive: boolean;
  /** The other claims for the same patient, facility and day. */
  sameVisit: ReadonlyArray<Pick<Claim, 'id' | 'status'>>;
  /** Every version of the care tariffs of the household's product. */
  tariffVersions: readonly CareTariff[];
  /** Whether the facility serves the household's mutuelle. */
  serves: boolean;
}

/** Each check: `ok` false is what an officer must look at before paying. */
export interface ClaimChecks {
  /** (a) Care covered on the visit day; otherwise why not (the household's status, or the patient withdrawn). */
  covered: { ok: boolean; status: CoverageStatus | 'withdrawn' | 'unknown' } & Omit<NonNullable<ClaimFacts['coverage']>, 'status'>;
  /** (b) Another claim, not rejected, for the same patient at the same facility on the same day. */
  duplicate: { ok: boolean; claimIds: number[] };
  /** (c) The amount within what the tariff in force on the visit day allows (null: no tariff for this care then). */
  tariff: { ok: boolean; allowed: number | null; tariff: CareTariff | null };
  /** (d) The member answered NON to the visit's SMS. */
  disputed: { ok: boolean; at: string | null };
  /** (e) The facility serves the household's mutuelle. */
  mutuelle: { ok: boolean };
}

export function claimChecks(f: ClaimFacts): ClaimChecks {
  const cov = f.coverage;
  const status = !cov ? 'unknown' : cov.status === 'active' && !f.beneficiaryActive ? 'withdrawn' : cov.status;
  const duplicates = f.sameVisit.filter((c) => c.status !== 'rejected').map((c) => c.id);
  const tariff = tariffsOn(f.tariffVersions, f.claim.visitOn).find((t) => t.care === f.claim.care) ?? null;
  // Days beyond the tariff's maximum are not paid: what is allowed stops there.
  const allowed = tariff && allowedAmount(tariff, Math.min(f.claim.days, tariff.unit === 'day' ? tariff.maxDays : 1));
  return {
    covered: {
      ok: cov !== undefined && careCovered(cov.status, f.beneficiaryActive),
      status,
      paidThrough: cov?.paidThrough ?? null,
      waitingUntil: cov?.waitingUntil ?? null,
      graceUntil: cov?.graceUntil ?? null,
    },
    duplicate: { ok: duplicates.length === 0, claimIds: duplicates },
    tariff: { ok: allowed !== null && f.claim.amount <= allowed, allowed, tariff },
    disputed: { ok: f.claim.disputedAt === null, at: f.claim.disputedAt },
    mutuelle: { ok: f.serves },
  };
}

/** Whether every check passed: a claim that fails one is approved only with a reason. */
export const checksPass = (c: ClaimChecks): boolean => Object.values(c).every((x) => x.ok);

export interface ReviewedClaim extends ClaimLine {
  checks: ClaimChecks;
}

export type ClaimDecision = Exclude<Claim['status'], 'pending'>;

/** A decision longer than this is refused (it is stored and audited as typed). */
export const REASON_MAX = 500;

export interface ClaimReviewDeps {
  db: Db;
  households: HouseholdStore;
  facilities?: FacilityStore;
  claims?: ClaimStore;
}

export function createClaimReview(deps: ClaimReviewDeps) {
  const { db, households } = deps;
  const facilities = deps.facilities ?? createFacilityStore(db);
  const claims = deps.claims ?? createClaimStore(db);
  const reads = createClaimReviewReads(db);

  const review = (line: ClaimLine, tariffs: (productId: string) => CareTariff[]): ReviewedClaim => {
    const view = households.coverageView(line.householdId, line.visitOn);
    const patient = households.load(line.householdId)?.beneficiaries.find((b) => b.id === line.beneficiaryId);
    const checks = claimChecks({
      claim: line,
      coverage: view,
      beneficiaryActive: patient?.active === true,
      sameVisit: claims.sameVisit(line),
      tariffVersions: tariffs(line.productId),
      serves: facilities.serves(line.facilityId, line.mutuelleId),
    });
    return { ...line, checks };
  };
  /** Tariff versions read once per product for a page of claims. */
  const tariffCache = () => {
    const kept = new Map<string, CareTariff[]>();
    return (productId: string) => {
      let v = kept.get(productId);
      if (!v) kept.set(productId, (v = facilities.tariffVersions(productId)));
      return v;
    };
  };

  return {
    /** A facility's queue: its pending claims first, oldest first, then the latest decided ones. */
    queue(facilityId: number): { pending: ReviewedClaim[]; decided: ReviewedClaim[] } {
      const tariffs = tariffCache();
      return {
        pending: reads.pending(facilityId).map((l) => review(l, tariffs)),
        decided: reads.decided(facilityId).map((l) => review(l, tariffs)),
      };
    },
    /** Per facility, its claims per status with their amount. */
    counts: reads.counts,
    /** A claim with its patient, household and agent, unchecked. */
    line: reads.line,
    /**
     * Approves or rejects a pending claim. A rejection needs a reason, and so does the approval of a
     * claim that fails a check (the checks are computed again here, not taken from the page). A
     * decision is final: a second one is refused, whoever tries. `record` runs in the decision's
     * transaction (the audit row), with the claim as reviewed and as decided.
     */
    decide(
      claimId: number,
      decision: ClaimDecision,
      typedReason: string,
      staffId: number,
      now: Date,
      record: (before: ReviewedClaim, after: Claim) => void,
    ): Claim {
      const line = reads.line(claimId);
      if (!line) throw new Refusal('Demande de remboursement introuvable.', undefined, 404);
      const before = review(line, tariffCache());
      const reason = typedReason.trim();
      if (reason.length > REASON_MAX) throw new Refusal(`Le motif est trop long (${REASON_MAX} caractères au plus).`, 'reason');
      if (line.status === 'pending') {
        if (decision === 'rejected' && !reason) throw new Refusal('Indiquez le motif du refus.', 'reason');
        if (decision === 'approved' && !reason && !checksPass(before.checks))
          throw new Refusal('Un contrôle signale un problème: indiquez pourquoi vous approuvez quand même.', 'reason');
      }
      return atomically(db, () => {
        if (!claims.decide(claimId, decision, staffId, reason || null, now)) {
          const done = reads.line(claimId) as ClaimLine;
          throw new Refusal(
            `Cette demande a déjà été ${done.status === 'approved' ? 'approuvée' : 'refusée'}${done.decidedByName ? ` par ${done.decidedByName}` : ''}: une décision est définitive.`,
            undefined,
            409,
          );
        }
        const after = claims.get(claimId) as Claim;
        record(before, after);
        return after;
      });
    },
  };
}

export type ClaimReview = ReturnType<typeof createClaimReview>;
