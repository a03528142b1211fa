import { bamakoDay, bamakoHour, bamakoInstant } from '../clock.ts';
import { CALLBACK_CLOSING_HOUR, callBackBy, type CallbackReason, type CallbackReceipt } from '../domain/callbacks.ts';
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
      insert.run(c.requestKey, c.phone, c.householdId, c.reason, c.channel, bamakoInstant(callBy, CALLBACK_CLOSING_HOUR).toISOString(), now.toISOString());
      const made = byKey.get(c.requestKey) as CallbackRequest;
      return { requestedOn: bamakoDay(new Date(made.createdAt)), callBy: bamakoDay(new Date(made.promisedBy)), alreadyOpen: false };
    },
    openFor(phone: string): CallbackRequest | undefined {
      return openForPhone.get(phone) as CallbackRequest | undefined;
    },
  };
}

export type CallbackStore = ReturnType<typeof createCallbackStore>;
