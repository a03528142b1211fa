import type { CareKind } from '../domain/care.ts';
import type { LocalDate } from '../domain/coverage.ts';
import type { Db } from './connection.ts';

export type ClaimStatus = 'pending' | 'approved' | 'rejected';

/** A visit recorded by a facility's agent: what the mutuelle is asked to pay. */
export interface Claim {
  id: number;
  facilityId: number;
  agentId: number;
  householdId: number;
  beneficiaryId: number;
  care: CareKind;
  days: number;
  /** The care's tariff (per visit or per day) in force on the visit day, when recorded. */
  tariff: number;
  amount: number;
  visitOn: LocalDate;
  recordedAt: string;
  /** When the member answered NON to the visit's SMS; null while undisputed. */
  disputedAt: string | null;
  status: ClaimStatus;
  decidedBy: number | null;
  decidedAt: string | null;
  decisionReason: string | null;
  /** The payment batch the claim is paid in, once an officer put it in one. */
  batchId: number | null;
}

export interface NewClaim {
  /** Idempotence key, e.g. `ussd:<sessionId>:<hop>`: a retried hop records the visit once. */
  requestKey: string;
  facilityId: number;
  agentId: number;
  householdId: number;
  beneficiaryId: number;
  care: CareKind;
  days: number;
  tariff: number;
  amount: number;
  visitOn: LocalDate;
}

/** A claim's columns as Claim names them (src/db/claim-review.ts reads them too). */
export const COLUMNS = `id, facility_id AS facilityId, agent_id AS agentId, household_id AS householdId,
  beneficiary_id AS beneficiaryId, care, days, tariff, amount, visit_on AS visitOn, recorded_at AS recordedAt,
  disputed_at AS disputedAt, status, decided_by AS decidedBy, decided_at AS decidedAt, decision_reason AS decisionReason,
  batch_id AS batchId`;

/** Owner of claims: visits recorded at facilities, the member's dispute, the officer's decision. */
export function createClaimStore(db: Db) {
  const insert = db.prepare(
    `INSERT INTO claims (request_key, facility_id, agent_id, household_id, beneficiary_id, care, days, tariff, amount, visit_on, recorded_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (request_key) DO NOTHING`,
  );
  const byKey = db.prepare(`SELECT ${COLUMNS} FROM claims WHERE request_key = ?`);
  const byId = db.prepare(`SELECT ${COLUMNS} FROM claims WHERE id = ?`);
  const sameVisit = db.prepare(
    `SELECT ${COLUMNS} FROM claims WHERE beneficiary_id = ? AND facility_id = ? AND visit_on = ? AND id != ? ORDER BY id`,
  );
  const queue = db.prepare(`SELECT ${COLUMNS} FROM claims WHERE facility_id = ? AND status = ? ORDER BY id LIMIT ?`);
  const latestUndisputed = db
    .prepare(`SELECT id FROM claims WHERE household_id = ? AND disputed_at IS NULL AND recorded_at >= ? ORDER BY id DESC LIMIT 1`)
    .pluck();
  const dispute = db.prepare('UPDATE claims SET disputed_at = ?, dispute_inbound_id = ? WHERE id = ? AND disputed_at IS NULL');
  const unbatched = db.prepare(
    `SELECT ${COLUMNS} FROM claims WHERE facility_id = ? AND status = 'approved' AND batch_id IS NULL ORDER BY id`,
  );
  const ofBatch = db.prepare(`SELECT ${COLUMNS} FROM claims WHERE batch_id = ? ORDER BY id`);
  // The triggers of migration 18 refuse a claim not approved, or already in a batch.
  const join = db.prepare('UPDATE claims SET batch_id = ? WHERE id = ? AND batch_id IS NULL');
  const leave = db.prepare('UPDATE claims SET batch_id = NULL WHERE batch_id = ?');
  const decide = db.prepare(
    `UPDATE claims SET status = ?, decided_by = ?, decided_at = ?, decision_reason = ? WHERE id = ? AND status = 'pending'`,
  );

  return {
    /** Records a visit once per request key; the same key again returns the claim first recorded. */
    record(c: NewClaim, now: Date): Claim {
      insert.run(
        c.requestKey,
        c.facilityId,
        c.agentId,
        c.householdId,
        c.beneficiaryId,
        c.care,
        c.days,
        c.tariff,
        c.amount,
        c.visitOn,
        now.toISOString(),
      );
      return byKey.get(c.requestKey) as Claim;
    },
    /** The claim a request key recorded, if any: a retried confirmation answers with it, checking nothing again. */
    byRequestKey(requestKey: string): Claim | undefined {
      return byKey.get(requestKey) as Claim | undefined;
    },
    get(id: number): Claim | undefined {
      return byId.get(id) as Claim | undefined;
    },
    /** Other claims for the same patient at the same facility on the same day (a duplicate visit). */
    sameVisit(c: Pick<Claim, 'id' | 'beneficiaryId' | 'facilityId' | 'visitOn'>): Claim[] {
      return sameVisit.all(c.beneficiaryId, c.facilityId, c.visitOn, c.id) as Claim[];
    },
    /** A facility's claims in a status, oldest first. */
    queue(facilityId: number, status: ClaimStatus, limit = 200): Claim[] {
      return queue.all(facilityId, status, limit) as Claim[];
    },
    /**
     * The member answered NON: the household's latest claim recorded since `since` that is not
     * disputed yet is flagged. Returns its id, or null when there is none to flag.
     */
    disputeLatest(householdId: number, since: Date, inboundId: number | null, now: Date): number | null {
      const id = latestUndisputed.get(householdId, since.toISOString()) as number | undefined;
      if (id === undefined) return null;
      dispute.run(now.toISOString(), inboundId, id);
      return id;
    },
    /** A facility's approved claims in no payment batch yet, oldest first: what the next batch pays. */
    approvedUnbatched(facilityId: number): Claim[] {
      return unbatched.all(facilityId) as Claim[];
    },
    /** The claims a batch pays. */
    ofBatch(batchId: number): Claim[] {
      return ofBatch.all(batchId) as Claim[];
    },
    /** Puts the claims in a batch; returns how many joined (one already in a batch does not move). */
    joinBatch(batchId: number, claimIds: readonly number[]): number {
      let n = 0;
      for (const id of claimIds) n += join.run(batchId, id).changes;
      return n;
    },
    /** The claims of a cancelled batch are free for the next one. */
    leaveBatch(batchId: number): number {
      return leave.run(batchId).changes;
    },
    /** An officer's decision on a pending claim; false when it was already decided. */
    decide(id: number, status: Exclude<ClaimStatus, 'pending'>, staffId: number, reason: string | null, now: Date): boolean {
      return decide.run(status, staffId, now.toISOString(), reason, id).changes === 1;
    },
  };
}

export type ClaimStore = ReturnType<typeof createClaimStore>;
