import { bamakoDay, bamakoHour, bamakoInstant } from '../clock.ts';
import { CALLBACK_CLOSING_HOUR, type CallbackReason, type CallbackReceipt, callBackBy } from '../domain/callbacks.ts';
import type { Db } from './connection.ts';

export interface CallbackRequest {
  id: number;
  phone: string;
  householdId: number | null;
  reason: CallbackReason;
  status: 'open' | 'claimed' | 'done';
  promisedBy: string;
  createdAt: string;
}

export interface NewCallback {
  /** Idempotence key, e.g. `ussd:<sessionId>:<hop>`: a retried hop never queues a second call. */
  requestKey: string;
  phone: string;
  householdId: number | null;
  reason: CallbackReason;
  channel: 'ussd' | 'sms' | 'office';
}

const COLUMNS = `id, phone, household_id AS householdId, reason, status, promised_by AS promisedBy, created_at AS createdAt`;

export function createCallbackStore(db: Db) {
  const insert = db.prepare(
    `INSERT INTO callback_requests (request_key, phone, household_id, reason, channel, promised_by, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (request_key) DO NOTHING`,
  );
  const byKey = db.prepare(`SELECT ${COLUMNS} FROM callback_requests WHERE request_key = ?`);
  const openForPhone = db.prepare(
    `SELECT ${COLUMNS} FROM callback_requests WHERE phone = ? AND status != 'done' ORDER BY created_at LIMIT 1`,
  );

  const renew = db.prepare('UPDATE callback_requests SET promised_by = ? WHERE id = ?');

  return {
    /**
     * A member asks to be called back (USSD or SMS): one open request per phone; a promise already
     * past is renewed rather than repeated.
     */
    ask(c: NewCallback, now: Date): CallbackReceipt {
      const callBy = callBackBy(bamakoDay(now), bamakoHour(now));
      const open = openForPhone.get(c.phone) as CallbackRequest | undefined;
      if (open) {
        let promised = bamakoDay(new Date(open.promisedBy));
        if (promised < bamakoDay(now)) {
          renew.run(bamakoInstant(callBy, CALLBACK_CLOSING_HOUR).toISOString(), open.id);
          promised = callBy;
        }
        return { requestedOn: bamakoDay(new Date(open.createdAt)), callBy: promised, alreadyOpen: true };
      }
      insert.run(
        c.requestKey,
        c.phone,
        c.householdId,
        c.reason,
        c.channel,
        bamakoInstant(callBy, CALLBACK_CLOSING_HOUR).toISOString(),
        now.toISOString(),
      );
      const made = byKey.get(c.requestKey) as CallbackRequest;
      return { requestedOn: bamakoDay(new Date(made.createdAt)), callBy: bamakoDay(new Date(made.promisedBy)), alreadyOpen: false };
    },
    openFor(phone: string): CallbackRequest | undefined {
      return openForPhone.get(phone) as CallbackRequest | undefined;
    },
  };
}

export type CallbackStore = ReturnType<typeof createCallbackStore>;

/** A request in the office's queue, with its household when known. */
export interface QueuedCallbackRow {
  id: number;
  phone: string;
  reason: string;
  channel: string;
  status: 'open' | 'claimed';
  createdAt: string;
  promisedBy: string;
  claimedBy: string | null;
  householdId: number | null;
  adherentName: string | null;
  cardNumber: string | null;
}

/** The request as the audit log records it, before and after a change. */
export interface CallbackState {
  id: number;
  status: string;
  claimedBy: string | null;
  outcome: string | null;
  doneAt: string | null;
}

/** A request as the member's file lists it. */
export interface MemberCallbackRow {
  id: number;
  reason: string;
  status: string;
  createdAt: string;
  promisedBy: string;
  claimedBy: string | null;
  outcome: string | null;
}

/** The office's side of the call-back requests: the queue, claiming, closing, and how long members waited. */
export function createCallbackQueueStore(db: Db) {
  const open = db.prepare(
    `SELECT c.id, c.phone, c.reason, c.channel, c.status, c.created_at AS createdAt, c.promised_by AS promisedBy,
       c.claimed_by AS claimedBy, c.household_id AS householdId, h.adherent_name AS adherentName, h.card_number AS cardNumber
     FROM callback_requests c LEFT JOIN households h ON h.id = c.household_id
     WHERE c.status IN ('open', 'claimed') ORDER BY c.created_at, c.id`,
  );
  const byId = db.prepare('SELECT id, status, claimed_by AS claimedBy, outcome, done_at AS doneAt FROM callback_requests WHERE id = ?');
  const claim = db.prepare(
    "UPDATE callback_requests SET status = 'claimed', claimed_by = ?, claimed_at = ? WHERE id = ? AND status = 'open'",
  );
  const done = db.prepare(
    "UPDATE callback_requests SET status = 'done', done_at = ?, outcome = ?, claimed_by = coalesce(claimed_by, ?) WHERE id = ? AND status != 'done'",
  );
  const durations = db
    .prepare(
      `SELECT (julianday(done_at) - julianday(created_at)) * 1440 FROM callback_requests
     WHERE status = 'done' AND done_at >= ? ORDER BY 1`,
    )
    .pluck();
  const ofMember = db.prepare(
    `SELECT id, reason, status, created_at AS createdAt, promised_by AS promisedBy, claimed_by AS claimedBy, outcome
     FROM callback_requests WHERE phone = ? OR household_id = ? ORDER BY id DESC LIMIT 20`,
  );

  return {
    /** Requests not done yet, oldest first. */
    openRequests(): QueuedCallbackRow[] {
      return open.all() as QueuedCallbackRow[];
    },
    state(id: number): CallbackState | undefined {
      return byId.get(id) as CallbackState | undefined;
    },
    /** An officer takes an open request; false when it was not open. */
    claim(id: number, by: string, at: string): boolean {
      return claim.run(by, at, id).changes === 1;
    },
    /** Closes a request not done yet with what was said; false when it was done already. */
    close(id: number, outcome: string, by: string, at: string): boolean {
      return done.run(at, outcome, by, id).changes === 1;
    },
    /** Minutes from request to done of the requests done since `sinceIso`, ascending. */
    minutesToCallBackSince(sinceIso: string): number[] {
      return durations.all(sinceIso) as number[];
    },
    /** A member's latest 20 requests, by phone or household, newest first. */
    ofMember(phone: string, householdId: number): MemberCallbackRow[] {
      return ofMember.all(phone, householdId) as MemberCallbackRow[];
    },
  };
}
