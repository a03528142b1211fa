/**
 * The outbox's tables: sms_outbox (one row per message), sms_status_history (every change of status
 * after 'queued', with its time) and sms_optouts (phones that texted STOP). The rules (validation,
 * folding, priorities, validity) are src/sms/outbox.ts's; this is only how they are stored.
 */
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
export interface QueuedInsert extends Pick<OutboxRow, 'recipient' | 'text' | 'language' | 'encoding' | 'segments' | 'kind' | 'nextAttemptMs' | 'expiresMs'> {
  campaignId: number | null;
  priority: number;
  sourceKey: string | null;
}

export interface StatusChange {
  status: string;
  detail: string | null;
  atMs: number;
}

const COLUMNS = `id, recipient, text, language, encoding, segments, kind, status, attempts,
  next_attempt_ms AS nextAttemptMs, expires_ms AS expiresMs, provider_message_id AS providerMessageId,
  cost, last_error AS lastError, created_ms AS createdMs`;

const INSERT = `INSERT INTO sms_outbox (recipient, text, language, encoding, segments, kind, campaign_id, priority, status,
  next_attempt_ms, expires_ms, source_key, created_ms, updated_ms)`;
const ROW = `(?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)`;
const PARAMS_PER_ROW = 13;
/**
 * Rows per multi-row INSERT: one statement per hundred rows instead of one per row roughly halves
 * the cost of a bulk enqueue (the per-statement work of SQLite and of the native call dominates
 * the per-row work for these small rows); more rows per statement gained nothing measurable.
 */
const BULK = 100;

export function createOutboxStore(db: Db) {
  const insertOne = db.prepare(`${INSERT} VALUES ${ROW} ON CONFLICT (source_key) DO NOTHING`);
  const insertBulk = db.prepare(`${INSERT} VALUES ${Array<string>(BULK).fill(ROW).join(', ')}`);
  const bulkArgs: unknown[] = new Array<unknown>(BULK * PARAMS_PER_ROW);
  const bySource = db.prepare('SELECT id FROM sms_outbox WHERE source_key = ?').pluck();
  const history = db.prepare('INSERT INTO sms_status_history (message_id, status, detail, at_ms) VALUES (?, ?, ?, ?)');
  const optedOut = db.prepare('SELECT opted_out FROM sms_optouts WHERE phone = ?').pluck();
  const optedOutPhones = db.prepare('SELECT phone FROM sms_optouts WHERE opted_out = 1').pluck();
  const setOptOut = db.prepare(
    `INSERT INTO sms_optouts (phone, opted_out, via, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (phone) DO UPDATE SET opted_out = excluded.opted_out, via = excluded.via, updated_at = excluded.updated_at`,
  );
  const byId = db.prepare(`SELECT ${COLUMNS} FROM sms_outbox WHERE id = ?`);
  const forRecipient = db.prepare(`SELECT ${COLUMNS} FROM sms_outbox WHERE recipient = ? ORDER BY id`);
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
  const expireQueued = db.prepare(`UPDATE sms_outbox SET status = 'expired', last_error = ?, updated_ms = ? WHERE id = ? AND status = 'queued'`);
  const waitingOfCampaign = db.prepare(`SELECT COUNT(*) FROM sms_outbox WHERE campaign_id = ? AND status IN ('queued', 'sending')`).pluck();
  const byProvider = db.prepare('SELECT id, status FROM sms_outbox WHERE provider_message_id = ?');
  const setFinal = db.prepare('UPDATE sms_outbox SET status = ?, last_error = ?, updated_ms = ? WHERE id = ?');
  const lastDetail = db.prepare('SELECT detail FROM sms_status_history WHERE message_id = ? ORDER BY id DESC LIMIT 1').pluck();

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
    /** A campaign's messages not sent yet (queued, or being sent). */
    waitingOfCampaign(campaignId: number): number {
      return waitingOfCampaign.get(campaignId) as number;
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
  };
}

export type OutboxStore = ReturnType<typeof createOutboxStore>;
