import type { Claim, ClaimStatus } from './claims.ts';
import { COLUMNS } from './claims.ts';
import type { Db } from './connection.ts';

/**
 * Claims as the office reviews them (src/db/claims.ts writes them): each with who recorded it, the
 * patient and the household it is for, and who decided it; and how many each facility has per
 * status. Reads only.
 */

/** A claim with what its review shows beside it. */
export interface ClaimLine extends Claim {
  agentName: string;
  /** The beneficiary's name as registered (the page shows the first name only). */
  patientName: string;
  patientBirthYear: number | null;
  cardNumber: string;
  /** The household's mutuelle and its product today: whose tariffs apply, whether the facility serves it. */
  mutuelleId: string;
  productId: string;
  decidedByName: string | null;
}

/** A facility's claims in one status: how many, for how much. */
export interface ClaimCount {
  facilityId: number;
  status: ClaimStatus;
  claims: number;
  amount: number;
}

const LINE = `SELECT c.*, a.name AS agentName, b.name AS patientName, b.birth_year AS patientBirthYear,
  h.card_number AS cardNumber, h.mutuelle_id AS mutuelleId, m.product_id AS productId, s.name AS decidedByName
  FROM (SELECT ${COLUMNS} FROM claims WHERE %WHERE%) c
  JOIN facility_agents a ON a.id = c.agentId
  JOIN beneficiaries b ON b.id = c.beneficiaryId
  JOIN households h ON h.id = c.householdId
  JOIN mutuelles m ON m.id = h.mutuelle_id
  LEFT JOIN staff s ON s.id = c.decidedBy`;
const line = (where: string, order: string) => `${LINE.replace('%WHERE%', where)} ${order}`;

export function createClaimReviewReads(db: Db) {
  const one = db.prepare(line('id = ?', ''));
  // The claims_queue index (facility_id, status, id) serves both lists.
  const pending = db.prepare(line(`facility_id = ? AND status = 'pending' ORDER BY id LIMIT ?`, 'ORDER BY c.id'));
  const decided = db.prepare(
    line(`facility_id = ? AND status != 'pending' ORDER BY decided_at DESC, id DESC LIMIT ?`, 'ORDER BY c.decidedAt DESC, c.id DESC'),
  );
  const counts = db.prepare(
    `SELECT facility_id AS facilityId, status, count(*) AS claims, sum(amount) AS amount FROM claims GROUP BY facility_id, status`,
  );
  return {
    line(id: number): ClaimLine | undefined {
      return one.get(id) as ClaimLine | undefined;
    },
    /** A facility's pending claims, oldest first. */
    pending(facilityId: number, limit = 200): ClaimLine[] {
      return pending.all(facilityId, limit) as ClaimLine[];
    },
    /** A facility's decided claims, the latest decision first. */
    decided(facilityId: number, limit = 50): ClaimLine[] {
      return decided.all(facilityId, limit) as ClaimLine[];
    },
    counts(): ClaimCount[] {
      return counts.all() as ClaimCount[];
    },
  };
}

export type ClaimReviewReads = ReturnType<typeof createClaimReviewReads>;
