/**
 * The outbox's tables, their one owner: sms_outbox (one row per message), sms_status_history (every
 * change of status after 'queued', with its time), sms_optouts (phones that texted STOP) and
 * sms_sent_per_day (the daily cap's count). Three groups of functions, one set of statements per
 * connection:
 * - queueing (src/sms/outbox.ts: receipts, notices, answers, campaigns, reminders): rows in
 *   multi-row inserts, opt-outs, a campaign's rows held, spread or expired;
 * - sending (the dispatcher, src/sms/dispatcher.ts): due → sending → sent, queued again, failed or
 *   expired, each change with its history row;
 * - reports (`sabatili sms stats`, `/healthz`, the console: a member's messages, a receipt to send again).
 * The rules (validation, folding, priorities, validity, the dispatcher's order) are src/sms's; this
 * is only how they are stored.
 */

import type { Language } from '../i18n/catalog.ts';
import type { Db } from './connection.ts';

export type SmsKind = 'transactional' | 'reminder' | 'campaign';
export type SmsStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'failed' | 'expired';
export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface OutboxRow {
  id: number;
  recipient: string;
  text: string;
  language: 'fr' | 'bm';
  encoding: SmsEncoding;
  segments: number;
  kind: SmsKind;
  status: SmsStatus;
  attempts: number;
  nextAttemptMs: number;
  expiresMs: number;
  providerMessageId: string | null;
  cost: string | null;
  lastError: string | null;
  createdMs: number;
}

/** A message ready to be queued: checked, folded and measured by the outbox. */
export interface QueuedInsert
  extends Pick<OutboxRow, 'recipient' | 'text' | 'language' | 'encoding' | 'segments' | 'kind' | 'nextAttemptMs' | 'expiresMs'> {
  campaignId: number | null;
  /** The member a campaign's send queued it for (the outbox row is then the member's whole record of the send). */
  householdId: number | null;
  priority: number;
  sourceKey: string | null;
}

export interface StatusChange {
  status: string;
  detail: string | null;
  atMs: number;
}

/** A message the dispatcher takes. */
export interface DueMessage {
  id: number;
  recipient: string;
  text: string;
  attempts: number;
}

export interface OutboxQueue {
  queued: number;
  /** The earliest `next_attempt_ms` among queued messages already due; null when none is. */
  oldestDueMs: number | null;
  /** Messages given up on since `failedSinceMs`. */
  failedSince: number;
}

export interface SentMessage {
  id: number;
  createdMs: number;
  kind: string;
  status: string;
  text: string;
  lastError: string | null;
}

const COLUMNS = `id, recipient, text, language, encoding, segments, kind, status, attempts,
  next_attempt_ms AS nextAttemptMs, expires_ms AS expiresMs, provider_message_id AS providerMessageId,
  cost, last_error AS lastError, created_ms AS createdMs`;

/**
 * The messages in a phone's index (migration 31): all but a household's campaign messages, which
 * are found by campaign and household. Spelled as the index's condition, so that SQLite uses it.
 */
const NOT_A_HOUSEHOLDS_CAMPAIGN = '(campaign_id IS NULL OR household_id IS NULL)';

const INSERT = `INSERT INTO sms_outbox (recipient, text, language, encoding, segments, kind, campaign_id, priority, status,
  next_attempt_ms, expires_ms, source_key, created_ms, updated_ms, household_id)`;
const ROW = `(?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)`;
const PARAMS_PER_ROW = 14;
/**
 * Rows per multi-row INSERT: one statement per hundred rows instead of one per row roughly halves
 * the cost of a bulk enqueue (the per-statement work of SQLite and of the native call dominates
 * the per-row work for these small rows); more rows per statement gained nothing measurable.
 */
const BULK = 100;

export function createOutboxStore(db: Db) {
  const insertOne = db.prepare(`${INSERT} VALUES ${ROW} ON CONFLICT (source_key) WHERE source_key IS NOT NULL DO NOTHING`);
  const insertBulk = db.prepare(`${INSERT} VALUES ${Array<string>(BULK).fill(ROW).join(', ')}`);
  const bulkArgs: unknown[] = new Array<unknown>(BULK * PARAMS_PER_ROW);
  const bySource = db.prepare('SELECT id FROM sms_outbox WHERE source_key = ?').pluck();
  const history = db.prepare('INSERT INTO sms_status_history (message_id, status, detail, at_ms) VALUES (?, ?, ?, ?)');
  const optedOut = db.prepare('SELECT opted_out FROM sms_optouts WHERE phone = ?').pluck();
  const optedOutPhones = db.prepare('SELECT phone FROM sms_optouts WHERE opted_out = 1').pluck();
  // Each phone given looked up by the table's key (json_each first): a campaign chunk's 2 000
  // phones cost about the same against a hundred or fifty thousand opt-outs. Reading the whole
  // table for each chunk grew with it: 2.5 s of CPU over the 100 chunks of a 200 000-member send
  // against 50 000 opt-outs, 0.1 s this way (measured).
  const optedOutAmong = db
    .prepare('SELECT o.phone FROM json_each(?) j CROSS JOIN sms_optouts o ON o.phone = j.value WHERE o.opted_out = 1')
    .pluck();
  const setOptOut = db.prepare(
    `INSERT INTO sms_optouts (phone, opted_out, via, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (phone) DO UPDATE SET opted_out = excluded.opted_out, via = excluded.via, updated_at = excluded.updated_at`,
  );
  const byId = db.prepare(`SELECT ${COLUMNS} FROM sms_outbox WHERE id = ?`);
  const forRecipient = db.prepare(`SELECT ${COLUMNS} FROM sms_outbox WHERE recipient = ? AND ${NOT_A_HOUSEHOLDS_CAMPAIGN} ORDER BY id`);
  const historyOf = db.prepare('SELECT status, detail, at_ms AS atMs FROM sms_status_history WHERE message_id = ? ORDER BY id');
  const holdQueued = db.prepare(
    `UPDATE sms_outbox SET next_attempt_ms = @held, expires_ms = @held, updated_ms = @now
     WHERE campaign_id = @campaign AND status = 'queued'`,
  );
  // Window function in UPDATE … FROM: one statement spreads every waiting row by its rank.
  const spreadQueued = db.prepare(
    `UPDATE sms_outbox SET next_attempt_ms = @origin + CAST(r.k * @interval AS INTEGER),
       expires_ms = @origin + CAST(r.k * @interval AS INTEGER) + @validity, updated_ms = @now
     FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM sms_outbox WHERE campaign_id = @campaign AND status = 'queued') AS r
     WHERE sms_outbox.id = r.id`,
  );
  const queuedOfCampaign = db.prepare(`SELECT id FROM sms_outbox WHERE campaign_id = ? AND status = 'queued' ORDER BY id`).pluck();
  const setAttempt = db.prepare('UPDATE sms_outbox SET next_attempt_ms = @next, expires_ms = @expires, updated_ms = @now WHERE id = @id');
  const expireQueuedOfCampaign = db.prepare(
    `UPDATE sms_outbox SET status = 'expired', last_error = @why, updated_ms = @now
     WHERE campaign_id = @campaign AND status = 'queued' RETURNING id`,
  );
  const expireQueued = db.prepare(
    `UPDATE sms_outbox SET status = 'expired', last_error = ?, updated_ms = ? WHERE id = ? AND status = 'queued'`,
  );
  // Through the queued and the sending rows' own indexes (the queue, not the campaign's every
  // message): a campaign done sending has none there, and is told so without reading its rows.
  const campaignWaits = db
    .prepare(
      `SELECT EXISTS (SELECT 1 FROM sms_outbox INDEXED BY sms_outbox_due WHERE status = 'queued' AND campaign_id = @campaign)
         OR EXISTS (SELECT 1 FROM sms_outbox INDEXED BY sms_outbox_sending WHERE status = 'sending' AND campaign_id = @campaign)`,
    )
    .pluck();
  const byProvider = db.prepare('SELECT id, status FROM sms_outbox WHERE provider_message_id = ?');
  const setFinal = db.prepare('UPDATE sms_outbox SET status = ?, last_error = ?, updated_ms = ? WHERE id = ?');
  const lastDetail = db.prepare('SELECT detail FROM sms_status_history WHERE message_id = ? ORDER BY id DESC LIMIT 1').pluck();

  // Sending.
  const expireOverdue = db.prepare(
    `UPDATE sms_outbox SET status = 'expired', updated_ms = @now WHERE status = 'queued' AND expires_ms <= @now RETURNING id`,
  );
  // A paused campaign's rows are held out of the due range (outbox HELD_MS); the held campaigns'
  // ids (the campaigns' owner says which) also keep back the few that come back 'queued' from a
  // retry after the pause or the cancel.
  const due = db.prepare(
    `SELECT id, recipient, text, attempts FROM sms_outbox
     WHERE status = 'queued' AND next_attempt_ms <= @now
       AND (campaign_id IS NULL OR campaign_id NOT IN (SELECT value FROM json_each(@held)))
     ORDER BY priority, next_attempt_ms, id LIMIT @limit`,
  );
  const markSending = db.prepare(
    `UPDATE sms_outbox SET status = 'sending', attempts = attempts + 1, transport = ?, updated_ms = ? WHERE id = ?`,
  );
  const markSent = db.prepare(
    `UPDATE sms_outbox SET status = 'sent', provider_message_id = ?, cost = ?, last_error = NULL, updated_ms = ? WHERE id = ?`,
  );
  const markRetry = db.prepare(`UPDATE sms_outbox SET status = 'queued', next_attempt_ms = ?, last_error = ?, updated_ms = ? WHERE id = ?`);
  const markFailed = db.prepare(`UPDATE sms_outbox SET status = 'failed', last_error = ?, updated_ms = ? WHERE id = ?`);
  const stuck = db.prepare(`SELECT id, attempts FROM sms_outbox WHERE status = 'sending' AND updated_ms <= ?`);
  const sentOn = db.prepare('SELECT sent FROM sms_sent_per_day WHERE day = ?').pluck();
  const countSent = db.prepare(
    `INSERT INTO sms_sent_per_day (day, sent) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET sent = sent + excluded.sent`,
  );

  // Reports.
  const byKindAndStatus = db.prepare('SELECT kind, status, COUNT(*) AS n FROM sms_outbox GROUP BY kind, status');
  const costs = db.prepare(`SELECT cost, COUNT(*) AS n FROM sms_outbox WHERE cost IS NOT NULL GROUP BY cost`);
  const failedAfterSending = db
    .prepare(`SELECT COUNT(*) FROM sms_outbox WHERE status = 'failed' AND provider_message_id IS NOT NULL`)
    .pluck();
  const segmentsSent = db.prepare(`SELECT COALESCE(SUM(segments), 0) FROM sms_outbox WHERE status IN ('sent', 'delivered')`).pluck();
  const optedOutCount = db.prepare('SELECT COUNT(*) FROM sms_optouts WHERE opted_out = 1').pluck();
  const queue = db.prepare(
    `SELECT COUNT(*) AS queued, MIN(CASE WHEN next_attempt_ms <= ? THEN next_attempt_ms END) AS oldestDueMs FROM sms_outbox WHERE status = 'queued'`,
  );
  const failedSince = db.prepare(`SELECT COUNT(*) FROM sms_outbox WHERE status = 'failed' AND updated_ms >= ?`).pluck();
  const messageBySource = db.prepare('SELECT recipient, text, language FROM sms_outbox WHERE source_key = ?');
  const SENT = 'id, created_ms AS createdMs, kind, status, text, last_error AS lastError';
  // The campaigns that wrote messages, one seek each in sms_outbox_campaign (a skip-scan: a handful
  // of campaigns, each with up to every household), then the household's message in each.
  const latestOfHousehold = db.prepare(
    `WITH RECURSIVE campaign(id) AS (
       SELECT MIN(campaign_id) FROM sms_outbox WHERE campaign_id IS NOT NULL
       UNION ALL
       SELECT (SELECT MIN(campaign_id) FROM sms_outbox WHERE campaign_id > campaign.id) FROM campaign WHERE campaign.id IS NOT NULL)
     SELECT * FROM (SELECT ${SENT} FROM sms_outbox WHERE recipient = @phone AND ${NOT_A_HOUSEHOLDS_CAMPAIGN} ORDER BY id DESC LIMIT @limit)
     UNION ALL
     SELECT * FROM (SELECT ${SENT} FROM sms_outbox WHERE campaign_id IN (SELECT id FROM campaign) AND household_id = @household)
     ORDER BY id DESC LIMIT @limit`,
  );

  const bind = (args: unknown[], at: number, r: QueuedInsert, nowMs: number) => {
    args[at] = r.recipient;
    args[at + 1] = r.text;
    args[at + 2] = r.language;
    args[at + 3] = r.encoding;
    args[at + 4] = r.segments;
    args[at + 5] = r.kind;
    args[at + 6] = r.campaignId;
    args[at + 7] = r.priority;
    args[at + 8] = r.nextAttemptMs;
    args[at + 9] = r.expiresMs;
    args[at + 10] = r.sourceKey;
    args[at + 11] = nowMs;
    args[at + 12] = nowMs;
    args[at + 13] = r.householdId;
  };
  const single = (r: QueuedInsert, nowMs: number): number | null => {
    const one = new Array<unknown>(PARAMS_PER_ROW);
    bind(one, 0, r, nowMs);
    const res = insertOne.run(one);
    return res.changes === 0 ? null : Number(res.lastInsertRowid);
  };

  /**
   * Queues rows in their order. Each gets its id, or null when its source key was queued before
   * (idBySource then finds that message). Rows without a source key, which cannot collide, go in
   * multi-row statements.
   */
  const insertQueued = db.transaction((rows: readonly QueuedInsert[], nowMs: number): Array<number | null> => {
    const ids = new Array<number | null>(rows.length);
    let pending = 0;
    let from = 0;
    const flush = (to: number) => {
      let i = from;
      for (; to - i >= BULK; i += BULK) {
        for (let j = 0; j < BULK; j++) bind(bulkArgs, j * PARAMS_PER_ROW, rows[i + j] as QueuedInsert, nowMs);
        const res = insertBulk.run(bulkArgs);
        // Each new row takes the largest rowid plus one (no AUTOINCREMENT, far from the largest
        // integer), so the statement's rows have consecutive ids, in the order of its VALUES.
        const first = Number(res.lastInsertRowid) - BULK + 1;
        for (let j = 0; j < BULK; j++) ids[i + j] = first + j;
      }
      for (; i < to; i++) ids[i] = single(rows[i] as QueuedInsert, nowMs);
      pending = 0;
    };
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k] as QueuedInsert;
      if (r.sourceKey === null) {
        if (pending++ === 0) from = k;
        continue;
      }
      if (pending > 0) flush(k);
      ids[k] = single(r, nowMs);
    }
    if (pending > 0) flush(rows.length);
    return ids;
  });

  return {
    insertQueued,
    idBySource(sourceKey: string): number | undefined {
      return bySource.get(sourceKey) as number | undefined;
    },
    get(id: number): OutboxRow | undefined {
      return byId.get(id) as OutboxRow | undefined;
    },
    /** The messages to a phone, oldest first, but a household's campaign messages (see latestOfHousehold). */
    to(phone: string): OutboxRow[] {
      return forRecipient.all(phone) as OutboxRow[];
    },
    /** The changes after 'queued', oldest first. */
    historyOf(id: number): StatusChange[] {
      return historyOf.all(id) as StatusChange[];
    },
    addHistory(id: number, status: SmsStatus, detail: string | null, atMs: number): void {
      history.run(id, status, detail, atMs);
    },
    isOptedOut(phone: string): boolean {
      return optedOut.get(phone) === 1;
    },
    optedOutPhones(): Set<string> {
      return new Set(optedOutPhones.all() as string[]);
    },
    /** Those of `phones` that texted STOP (and not START since). */
    optedOutAmong(phones: readonly string[]): Set<string> {
      return new Set(phones.length === 0 ? [] : (optedOutAmong.all(JSON.stringify(phones)) as string[]));
    },
    setOptOut(phone: string, optOut: boolean, via: string, atIso: string): void {
      setOptOut.run(phone, optOut ? 1 : 0, via, atIso);
    },
    holdCampaign(campaignId: number, heldMs: number, nowMs: number): number {
      return holdQueued.run({ campaign: campaignId, held: heldMs, now: nowMs }).changes;
    },
    spreadCampaign(campaignId: number, originMs: number, intervalMs: number, validityMs: number, nowMs: number): number {
      return spreadQueued.run({ campaign: campaignId, origin: originMs, interval: intervalMs, validity: validityMs, now: nowMs }).changes;
    },
    /** A campaign's queued messages, oldest first. */
    queuedOfCampaign(campaignId: number): number[] {
      return queuedOfCampaign.all(campaignId) as number[];
    },
    setAttempt(id: number, nextMs: number, expiresMs: number, nowMs: number): void {
      setAttempt.run({ id, next: nextMs, expires: expiresMs, now: nowMs });
    },
    /** Expires a campaign's queued messages; returns their ids. */
    expireQueuedOfCampaign(campaignId: number, why: string, nowMs: number): number[] {
      return (expireQueuedOfCampaign.all({ campaign: campaignId, why, now: nowMs }) as Array<{ id: number }>).map((r) => r.id);
    },
    /**
     * Expires one message if it is still queued (not yet taken by the dispatcher), the reason in
     * its history; false otherwise (it is on its way). Joins the caller's transaction.
     */
    expireIfQueued: db.transaction((id: number, why: string, nowMs: number): boolean => {
      if (expireQueued.run(why, nowMs, id).changes === 0) return false;
      history.run(id, 'expired', why, nowMs);
      return true;
    }),
    /** Whether any of a campaign's messages is not sent yet (queued, or being sent). */
    campaignWaits(campaignId: number): boolean {
      return campaignWaits.get({ campaign: campaignId }) === 1;
    },
    byProvider(providerId: string): { id: number; status: SmsStatus } | undefined {
      return byProvider.get(providerId) as { id: number; status: SmsStatus } | undefined;
    },
    setFinal(id: number, status: SmsStatus, lastError: string | null, nowMs: number): void {
      setFinal.run(status, lastError, nowMs, id);
    },
    lastDetail(id: number): string | null | undefined {
      return lastDetail.get(id) as string | null | undefined;
    },

    // Sending: call inside the dispatcher's transactions.

    /** Queued messages whose validity passed by `nowMs` are expired; returns how many. */
    expireOverdue(nowMs: number): number {
      const expired = expireOverdue.all({ now: nowMs }) as Array<{ id: number }>;
      for (const { id } of expired) history.run(id, 'expired', 'validity passed before sending', nowMs);
      return expired.length;
    },
    /** Up to `limit` messages due by `nowMs`, in priority order; none of the `heldCampaigns` (paused or cancelled). */
    due(nowMs: number, limit: number, heldCampaigns: readonly number[]): DueMessage[] {
      return due.all({ now: nowMs, limit, held: JSON.stringify(heldCampaigns) }) as DueMessage[];
    },
    /** A message handed to the transport: one more attempt. */
    markSending(id: number, transport: string, detail: string, nowMs: number): void {
      markSending.run(transport, nowMs, id);
      history.run(id, 'sending', detail, nowMs);
    },
    markSent(id: number, providerId: string, cost: string | null, detail: string, nowMs: number): void {
      markSent.run(providerId, cost, nowMs, id);
      history.run(id, 'sent', detail, nowMs);
    },
    /** Queued again for `nextMs`, with the error that sent it back. */
    markRetry(id: number, nextMs: number, error: string, detail: string, nowMs: number): void {
      markRetry.run(nextMs, error, nowMs, id);
      history.run(id, 'queued', detail, nowMs);
    },
    markFailed(id: number, error: string, detail: string, nowMs: number): void {
      markFailed.run(error, nowMs, id);
      history.run(id, 'failed', detail, nowMs);
    },
    /** Messages `sending` since `beforeMs` or earlier: left by a crash once older than any gateway call. */
    stuckSending(beforeMs: number): Array<{ id: number; attempts: number }> {
      return stuck.all(beforeMs) as Array<{ id: number; attempts: number }>;
    },
    /** Messages the gateway accepted on a Bamako day ('YYYY-MM-DD'), for the daily cap. */
    sentOn(day: string): number {
      return (sentOn.get(day) as number | undefined) ?? 0;
    },
    countSent(day: string, n: number): void {
      countSent.run(day, n);
    },

    // Reports.

    /** How many messages per (kind, status). */
    countsByKindAndStatus(): Array<{ kind: string; status: string; n: number }> {
      return byKindAndStatus.all() as Array<{ kind: string; status: string; n: number }>;
    },
    /** The distinct costs the gateway reported (e.g. 'XOF 25'), with how many messages each. */
    costs(): Array<{ cost: string; n: number }> {
      return costs.all() as Array<{ cost: string; n: number }>;
    },
    /** Failed after the gateway took them (a delivery report said so), as opposed to refused before. */
    failedAfterSending(): number {
      return failedAfterSending.get() as number;
    },
    segmentsSent(): number {
      return segmentsSent.get() as number;
    },
    optedOutCount(): number {
      return optedOutCount.get() as number;
    },
    /** The queue as `/healthz` reports it. */
    queue(nowMs: number, failedSinceMs: number): OutboxQueue {
      const q = queue.get(nowMs) as { queued: number; oldestDueMs: number | null };
      return { ...q, failedSince: failedSince.get(failedSinceMs) as number };
    },
    /** The message queued under a source key (e.g. `receipt:<operator txn id>`), to send it again. */
    bySourceKey(sourceKey: string): { recipient: string; text: string; language: Language } | undefined {
      return messageBySource.get(sourceKey) as { recipient: string; text: string; language: Language } | undefined;
    },
    /** A household's latest messages, newest first: those to its phone, and its campaigns' messages (to whichever phone it had). */
    latestOfHousehold(phone: string, householdId: number, limit: number): SentMessage[] {
      return latestOfHousehold.all({ phone, household: householdId, limit }) as SentMessage[];
    },
  };
}

export type OutboxStore = ReturnType<typeof createOutboxStore>;
