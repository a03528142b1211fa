import type { LocalDate } from '../domain/coverage.ts';
import type { Db } from './connection.ts';

/**
 * What the office figures (src/office/kpi.ts) read besides the coverage read model: aggregates,
 * each a few thousand rows at most. The ledger's and the payments' are sums kept per mutuelle and
 * day (migration 13: `contribution_days`, `payment_days`, kept by triggers with every write to
 * `contributions`, `payments` and a household's mutuelle), read instead of every row; SMS and USSD
 * sessions are grouped from their tables, which are small over a period. These reads cross the
 * tables of several families (outbox, sessions, payments): they are the figures', gathered here.
 */
export interface ContributionDay {
  mutuelleId: string;
  day: LocalDate;
  channel: string;
  count: number;
  amount: number;
}

export interface PaymentSum {
  mutuelleId: string;
  status: string;
  /** For failed and expired payments, why ('unknown' when the operator said nothing); '' otherwise. */
  reason: string;
  count: number;
  amount: number;
}

export interface FigureMutuelle {
  id: string;
  name: string;
  district: string;
  target: number;
  productId: string;
}

/** Per mutuelle of the recipient's household (null: a number that is no household's). */
export interface SmsGroup {
  mutuelleId: string | null;
  status: string;
  viaGateway: number;
  cost: string | null;
  n: number;
  segments: number;
}

export interface SessionGroup {
  mutuelleId: string | null;
  completed: number;
  /** For a session not completed: its flow and the screen it stopped on (the engine's state value, as JSON). */
  machine: string | null;
  state: string | null;
  n: number;
}

export interface GatewayEventGroup {
  mutuelleId: string | null;
  status: string;
  n: number;
}

/** Claims for visits in a period, by facility, the patient's mutuelle, the visit's month and the claim's status. */
export interface ClaimGroup {
  facilityId: number;
  mutuelleId: string;
  month: string;
  status: string;
  n: number;
  amount: number;
}

/** Claims paid in a period (their batch's disbursement), by facility, mutuelle and month of payment. */
export interface PaidClaimGroup {
  facilityId: number;
  mutuelleId: string;
  month: string;
  n: number;
  amount: number;
  /** Days from each claim's visit to its payment, summed (the mean is days / n). */
  days: number;
}

export interface FigureFacility {
  id: number;
  code: string;
  name: string;
  district: string;
}

/**
 * The figures' SQL. SMS, sessions and gateway events are joined to households by phone through
 * households_phone_mutuelle (migration 25), named, as SQLite's planner would take the phone's unique
 * index and then read each household's row for its mutuelle.
 */
export function createFigureSums(db: Db) {
  const mutuelles = db.prepare(
    'SELECT id, name, district, target_population AS target, product_id AS productId FROM mutuelles ORDER BY district, name, id',
  );
  const sms = db.prepare(
    `SELECT h.mutuelle_id AS mutuelleId, o.status, o.provider_message_id IS NOT NULL AS viaGateway, o.cost, COUNT(*) AS n, SUM(o.segments) AS segments
     FROM sms_outbox o LEFT JOIN households h INDEXED BY households_phone_mutuelle ON h.phone = o.recipient
     WHERE o.created_ms >= ? AND o.created_ms < ? GROUP BY 1, 2, 3, 4`,
  );
  const sessions = db.prepare(
    `SELECT h.mutuelle_id AS mutuelleId, s.status = 'ended' AS completed,
       CASE WHEN s.status <> 'ended' THEN s.machine END AS machine,
       CASE WHEN s.status <> 'ended' THEN s.state END AS state,
       COUNT(*) AS n
     FROM ussd_sessions s LEFT JOIN households h INDEXED BY households_phone_mutuelle ON h.phone = s.phone
     WHERE s.created_ms >= ? AND s.created_ms < ? GROUP BY 1, 2, 3, 4`,
  );
  const events = db.prepare(
    `SELECT h.mutuelle_id AS mutuelleId, e.status, COUNT(*) AS n
     FROM ussd_session_events e LEFT JOIN households h INDEXED BY households_phone_mutuelle ON h.phone = e.phone
     WHERE e.received_at >= ? AND e.received_at < ? GROUP BY 1, 2`,
  );
  const contributions = db.prepare(
    `SELECT mutuelle_id AS mutuelleId, day, channel, count, amount FROM contribution_days WHERE day >= ? AND day <= ? AND count <> 0`,
  );
  const payments = db.prepare(
    `SELECT mutuelle_id AS mutuelleId, status, reason, SUM(count) AS count, SUM(amount) AS amount
     FROM payment_days WHERE day >= ? AND day <= ? GROUP BY 1, 2, 3 HAVING SUM(count) <> 0`,
  );
  const facilities = db.prepare('SELECT id, code, name, district FROM facilities ORDER BY district, name, id');
  const claims = db.prepare(
    `SELECT c.facility_id AS facilityId, h.mutuelle_id AS mutuelleId, substr(c.visit_on, 1, 7) AS month, c.status,
       COUNT(*) AS n, SUM(c.amount) AS amount
     FROM claims c JOIN households h ON h.id = c.household_id
     WHERE c.visit_on >= ? AND c.visit_on <= ? GROUP BY 1, 2, 3, 4`,
  );
  const paidClaims = db.prepare(
    `SELECT c.facility_id AS facilityId, h.mutuelle_id AS mutuelleId, substr(l.paid_on, 1, 7) AS month,
       COUNT(*) AS n, SUM(c.amount) AS amount, SUM(julianday(l.paid_on) - julianday(c.visit_on)) AS days
     FROM disbursement_ledger l JOIN claims c ON c.batch_id = l.batch_id JOIN households h ON h.id = c.household_id
     WHERE l.paid_on >= ? AND l.paid_on <= ? GROUP BY 1, 2, 3`,
  );
  return {
    /** Every health facility, by district and name. */
    facilities(): FigureFacility[] {
      return facilities.all() as FigureFacility[];
    },
    /** Claims for visits on the days from..to (see ClaimGroup). */
    claimGroups(from: LocalDate, to: LocalDate): ClaimGroup[] {
      return claims.all(from, to) as ClaimGroup[];
    },
    /** Claims whose batch was paid on the days from..to (see PaidClaimGroup). */
    paidClaimGroups(from: LocalDate, to: LocalDate): PaidClaimGroup[] {
      return paidClaims.all(from, to) as PaidClaimGroup[];
    },
    /** Every mutuelle, by district and name. */
    mutuelles(): FigureMutuelle[] {
      return mutuelles.all() as FigureMutuelle[];
    },
    /** SMS written to the outbox in [fromMs, toMs), by the recipient's mutuelle, status, whether the gateway took it, and cost. */
    smsGroups(fromMs: number, toMs: number): SmsGroup[] {
      return sms.all(fromMs, toMs) as SmsGroup[];
    },
    /** USSD sessions started in [fromMs, toMs), by the caller's mutuelle, completion and where the others stopped. */
    sessionGroups(fromMs: number, toMs: number): SessionGroup[] {
      return sessions.all(fromMs, toMs) as SessionGroup[];
    },
    /** The gateway's end-of-session notifications received in [fromIso, toIso), by the caller's mutuelle and status. */
    gatewayEventGroups(fromIso: string, toIso: string): GatewayEventGroup[] {
      return events.all(fromIso, toIso) as GatewayEventGroup[];
    },
    /** Contributions paid on the days from..to, per mutuelle, day and channel. */
    contributionDays(from: LocalDate, to: LocalDate): ContributionDay[] {
      return contributions.all(from, to) as ContributionDay[];
    },
    /** Payments created on the days from..to, per mutuelle, status and reason. */
    paymentSums(from: LocalDate, to: LocalDate): PaymentSum[] {
      return payments.all(from, to) as PaymentSum[];
    },
  };
}
