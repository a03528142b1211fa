import type { Db } from './connection.ts';

/** Texts members send to UTM's number (`sms_inbound`): every one kept, with the answer it got or why none. */

export interface NewInboundSms {
  gatewayId: string;
  from: string;
  to: string | null;
  text: string;
  linkId: string | null;
  networkCode: string | null;
  cost: string | null;
  date: string | null;
  keyword: string | null;
  householdId: number | null;
  receivedAt: string;
}

export interface InboundSmsRow {
  id: number;
  receivedAt: string;
  sender: string;
  text: string;
  keyword: string | null;
  householdId: number | null;
  answered: boolean;
  unansweredReason: string | null;
}

export function createInboundStore(db: Db) {
  const store = db.prepare(
    `INSERT INTO sms_inbound (gateway_id, sender, recipient, text, link_id, network_code, cost, date, keyword, household_id, received_at)
     VALUES (@gatewayId, @from, @to, @text, @linkId, @networkCode, @cost, @date, @keyword, @householdId, @receivedAt)
     ON CONFLICT (gateway_id) DO NOTHING`,
  );
  const answeredSince = db
    .prepare('SELECT COUNT(*) FROM sms_inbound WHERE sender = ? AND received_at > ? AND reply_id IS NOT NULL')
    .pluck();
  const recordAnswer = db.prepare('UPDATE sms_inbound SET reply_id = ?, unanswered_reason = ? WHERE id = ?');
  const recentRows = db.prepare(
    `SELECT id, received_at AS receivedAt, sender, text, keyword, household_id AS householdId, reply_id IS NOT NULL AS answered,
       unanswered_reason AS unansweredReason
     FROM sms_inbound WHERE (@sender IS NULL OR sender = @sender) AND (@unanswered = 0 OR unanswered_reason IS NOT NULL)
     ORDER BY id DESC LIMIT @limit`,
  );
  const unmatched = db.prepare('SELECT COUNT(*) FROM sms_inbound WHERE keyword IS NULL').pluck();

  return {
    /** Stores a text; undefined when the gateway sent this one before (it retries until answered). */
    add(m: NewInboundSms): number | undefined {
      const r = store.run(m);
      return r.changes === 0 ? undefined : Number(r.lastInsertRowid);
    },
    /** Answers sent to `sender` for texts received after `sinceIso`. */
    answeredSince(sender: string, sinceIso: string): number {
      return answeredSince.get(sender, sinceIso) as number;
    },
    /** The answer's outbox id, or why there was none. */
    recordAnswer(id: number, replyId: number | null, unansweredReason: string | null): void {
      recordAnswer.run(replyId, unansweredReason, id);
    },
    /** Newest first: one sender's, or only those left unanswered. */
    recent(f: { sender: string | null; unansweredOnly: boolean; limit: number }): InboundSmsRow[] {
      const rows = recentRows.all({ sender: f.sender, unanswered: f.unansweredOnly ? 1 : 0, limit: f.limit }) as Array<
        Omit<InboundSmsRow, 'answered'> & { answered: number }
      >;
      return rows.map((r) => ({ ...r, answered: r.answered === 1 }));
    },
    /** Texts that matched no keyword. */
    unmatchedCount(): number {
      return unmatched.get() as number;
    },
  };
}

export type InboundStore = ReturnType<typeof createInboundStore>;
