import type { Db } from './connection.ts';

export type CallbackReason = 'payment' | 'coverage' | 'registration' | 'other';

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
  promisedBy: Date;
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

  return {
    openFor(phone: string): CallbackRequest | undefined {
      return openForPhone.get(phone) as CallbackRequest | undefined;
    },
    /** Queues a request, or returns the one already queued under the same key. */
    request(c: NewCallback, now: Date): CallbackRequest {
      insert.run(c.requestKey, c.phone, c.householdId, c.reason, c.channel, c.promisedBy.toISOString(), now.toISOString());
      return byKey.get(c.requestKey) as CallbackRequest;
    },
  };
}

export type CallbackStore = ReturnType<typeof createCallbackStore>;
