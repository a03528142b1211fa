/**
 * The campaigns' tables: campaigns (one row per campaign, its state and enqueue cursor),
 * campaign_phones (an explicit list of phones) and campaign_recipients (what the send decided for
 * each member it did not message: held out, opted out, refused). A member messaged is recorded by
 * the outbox row queued for it, which names the household (migration 26; sends before it wrote a
 * 'queued' recipient row too). The results read them with the outbox's rows and the ledger: those
 * reads join other families' tables, here in src/db where every query lives.
 */
import type { Db } from './connection.ts';

export type CampaignState = 'draft' | 'scheduled' | 'sending' | 'paused' | 'cancelled' | 'done';
export type RecipientOutcome = 'queued' | 'control' | 'opted-out' | 'rejected';

export interface CampaignRow {
  id: number;
  name: string;
  audience: string;
  messages: string;
  fallback_language: 'fr' | 'bm' | null;
  send_at: string | null;
  rate_per_minute: number | null;
  control_share: number;
  state: CampaignState;
  enqueue_cursor: number;
  enqueue_done: number;
  schedule_origin_ms: number | null;
  schedule_index: number;
  scanned: number;
  queued: number;
  control: number;
  opted_out: number;
  rejected: number;
  started_at: string | null;
  created_at: string;
  updated_at: string;
  phone_list: number;
}

export interface NewCampaignRow {
  name: string;
  /** JSON of the audience filter, and of the messages per language. */
  audience: string;
  messages: string;
  fallback: 'fr' | 'bm' | null;
  sendAt: string | null;
  rate: number | null;
  controlShare: number;
  now: string;
}

/** A member the send did not message (a member messaged is its outbox row). */
export interface RecipientRow {
  householdId: number;
  phone: string;
  language: 'fr' | 'bm';
  control: boolean;
  outcome: Exclude<RecipientOutcome, 'queued'>;
  detail: string | null;
}

/** What one enqueue chunk adds to a campaign's progress, with its new cursor. */
export interface ChunkProgress {
  cursor: number;
  done: boolean;
  index: number;
  scanned: number;
  queued: number;
  control: number;
  optedOut: number;
  rejected: number;
  now: string;
}

const PARAMS_PER_RECIPIENT = 7;
/** Recipients per multi-row INSERT (see BULK in outbox.ts: one statement per row cost about twice as much). */
const BULK = 100;
const RECIPIENT = '(?, ?, ?, ?, ?, ?, ?)';
const INSERT_RECIPIENTS = 'INSERT INTO campaign_recipients (campaign_id, household_id, phone, language, control, outcome, detail) VALUES';
/**
 * Every member a campaign's send decided for, with its outcome and message: its campaign_recipients
 * rows, and its outbox rows naming a household (the members messaged). A member is in one of them only.
 */
const MEMBERS = `WITH members AS (
  SELECT household_id, phone, outcome, outbox_id FROM campaign_recipients WHERE campaign_id = @campaign
  UNION ALL
  SELECT household_id, recipient, 'queued', id FROM sms_outbox WHERE campaign_id = @campaign AND household_id IS NOT NULL)`;

export function createCampaignStore(db: Db) {
  const insertCampaign = db.prepare(
    `INSERT INTO campaigns (name, audience, messages, fallback_language, send_at, rate_per_minute, control_share, created_at, updated_at)
     VALUES (@name, @audience, @messages, @fallback, @sendAt, @rate, @controlShare, @now, @now)`,
  );
  const insertPhone = db.prepare('INSERT OR IGNORE INTO campaign_phones (campaign_id, phone) VALUES (?, ?)');
  const SELECT = `SELECT c.*, (SELECT COUNT(*) FROM campaign_phones p WHERE p.campaign_id = c.id) AS phone_list FROM campaigns c`;
  const byId = db.prepare(`${SELECT} WHERE c.id = ?`);
  const all = db.prepare(`${SELECT} ORDER BY c.id DESC`);
  const setState = db.prepare('UPDATE campaigns SET state = ?, updated_at = ? WHERE id = ?');
  const startSending = db.prepare(
    `UPDATE campaigns SET state = @state, started_at = @now, schedule_origin_ms = @origin, schedule_index = 0, updated_at = @now WHERE id = @id`,
  );
  const advance = db.prepare(
    `UPDATE campaigns SET enqueue_cursor = @cursor, enqueue_done = @done, schedule_index = @index, scanned = scanned + @scanned,
       queued = queued + @queued, control = control + @control, opted_out = opted_out + @optedOut, rejected = rejected + @rejected,
       updated_at = @now WHERE id = @id`,
  );
  const resumeSchedule = db.prepare(
    'UPDATE campaigns SET state = @state, schedule_origin_ms = @origin, schedule_index = @index, updated_at = @now WHERE id = @id',
  );
  const insertOne = db.prepare(`${INSERT_RECIPIENTS} ${RECIPIENT}`);
  const insertBulk = db.prepare(`${INSERT_RECIPIENTS} ${Array<string>(BULK).fill(RECIPIENT).join(', ')}`);
  const bulkArgs = new Array<unknown>(BULK * PARAMS_PER_RECIPIENT);
  const notMembers = db
    .prepare(
      `SELECT COUNT(*) FROM campaign_phones p WHERE p.campaign_id = ? AND NOT EXISTS (SELECT 1 FROM households h WHERE h.phone = p.phone)`,
    )
    .pluck();
  const unfinished = db.prepare(`SELECT id FROM campaigns WHERE state IN ('scheduled', 'sending') AND enqueue_done = 0`).pluck();
  const held = db.prepare(`SELECT id FROM campaigns WHERE state IN ('paused', 'cancelled')`).pluck();
  const outcomes = db.prepare(`${MEMBERS} SELECT outcome, COUNT(*) AS n FROM members GROUP BY outcome`);
  const statuses = db.prepare(
    `${MEMBERS} SELECT o.status, COUNT(*) AS n, SUM(o.provider_message_id IS NOT NULL) AS viaGateway FROM members r
     JOIN sms_outbox o ON o.id = r.outbox_id GROUP BY o.status`,
  );
  const optedOutAfter = db
    .prepare(
      `${MEMBERS} SELECT COUNT(*) FROM members r JOIN sms_optouts s ON s.phone = r.phone AND s.opted_out = 1 AND s.updated_at >= @since
     WHERE r.outcome = 'queued'`,
    )
    .pluck();
  const reached = db.prepare(
    `${MEMBERS} SELECT r.household_id AS householdId, MIN(h.at_ms) AS deliveredMs FROM members r
     JOIN sms_outbox o ON o.id = r.outbox_id AND o.status = 'delivered'
     JOIN sms_status_history h ON h.message_id = o.id AND h.status = 'delivered'
     GROUP BY r.household_id`,
  );
  const controlGroup = db.prepare(
    `SELECT household_id AS householdId FROM campaign_recipients WHERE campaign_id = ? AND outcome = 'control'`,
  );
  const notDelivered = db.prepare(
    `${MEMBERS} SELECT r.household_id AS householdId FROM members r JOIN sms_outbox o ON o.id = r.outbox_id
     WHERE o.status <> 'delivered'`,
  );
  // Each key names a member once (the recipients' primary key, the outbox's unique campaign and
  // household): one row per payment, as a join would give.
  const paymentsSince = db.prepare(
    `SELECT c.household_id AS householdId, c.paid_at AS paidAt FROM contributions c
     WHERE c.paid_at >= @since AND (
       EXISTS (SELECT 1 FROM campaign_recipients r
               WHERE r.campaign_id = @campaign AND r.household_id = c.household_id AND r.outcome IN ('queued', 'control'))
       OR EXISTS (SELECT 1 FROM sms_outbox o WHERE o.campaign_id = @campaign AND o.household_id = c.household_id))`,
  );

  const bind = (args: unknown[], at: number, campaignId: number, r: RecipientRow) => {
    args[at] = campaignId;
    args[at + 1] = r.householdId;
    args[at + 2] = r.phone;
    args[at + 3] = r.language;
    args[at + 4] = r.control ? 1 : 0;
    args[at + 5] = r.outcome;
    args[at + 6] = r.detail;
  };

  return {
    /** A new draft, with its explicit phone list. */
    create: db.transaction((c: NewCampaignRow, phones: readonly string[]): number => {
      const id = Number(insertCampaign.run(c).lastInsertRowid);
      for (const p of phones) insertPhone.run(id, p);
      return id;
    }),
    get(id: number): CampaignRow | undefined {
      return byId.get(id) as CampaignRow | undefined;
    },
    /** Newest first. */
    all(): CampaignRow[] {
      return all.all() as CampaignRow[];
    },
    setState(id: number, state: CampaignState, now: string): void {
      setState.run(state, now, id);
    },
    startSending(id: number, state: 'scheduled' | 'sending', originMs: number, now: string): void {
      startSending.run({ id, state, origin: originMs, now });
    },
    advance(id: number, p: ChunkProgress): void {
      advance.run({ id, ...p, done: p.done ? 1 : 0 });
    },
    resumeSchedule(id: number, state: 'scheduled' | 'sending', originMs: number, index: number, now: string): void {
      resumeSchedule.run({ id, state, origin: originMs, index, now });
    },
    /** What the send decided for these members, none of them messaged (in the caller's transaction). */
    addRecipients(campaignId: number, rows: readonly RecipientRow[]): void {
      let i = 0;
      for (; rows.length - i >= BULK; i += BULK) {
        for (let j = 0; j < BULK; j++) bind(bulkArgs, j * PARAMS_PER_RECIPIENT, campaignId, rows[i + j] as RecipientRow);
        insertBulk.run(bulkArgs);
      }
      const one = new Array<unknown>(PARAMS_PER_RECIPIENT);
      for (; i < rows.length; i++) {
        bind(one, 0, campaignId, rows[i] as RecipientRow);
        insertOne.run(one);
      }
    },
    /** Phones of the campaign's list that are no member's. */
    notMembers(campaignId: number): number {
      return notMembers.get(campaignId) as number;
    },
    /** Paused and cancelled campaigns: the dispatcher sends none of their messages. */
    held(): number[] {
      return held.all() as number[];
    },
    /** Campaigns whose send started and whose enqueue did not finish. */
    unfinished(): number[] {
      return unfinished.all() as number[];
    },
    outcomes(campaignId: number): Array<{ outcome: RecipientOutcome; n: number }> {
      return outcomes.all({ campaign: campaignId }) as Array<{ outcome: RecipientOutcome; n: number }>;
    },
    /** The outbox statuses of the campaign's messages; viaGateway: those the gateway accepted. */
    statuses(campaignId: number): Array<{ status: string; n: number; viaGateway: number }> {
      return statuses.all({ campaign: campaignId }) as Array<{ status: string; n: number; viaGateway: number }>;
    },
    /** Members messaged whose phone texted STOP since `sinceIso`. */
    optedOutSince(campaignId: number, sinceIso: string): number {
      return optedOutAfter.get({ campaign: campaignId, since: sinceIso }) as number;
    },
    /** Households whose message was delivered, with when. */
    reached(campaignId: number): Array<{ householdId: number; deliveredMs: number }> {
      return reached.all({ campaign: campaignId }) as Array<{ householdId: number; deliveredMs: number }>;
    },
    controlGroup(campaignId: number): Array<{ householdId: number }> {
      return controlGroup.all(campaignId) as Array<{ householdId: number }>;
    },
    notDelivered(campaignId: number): Array<{ householdId: number }> {
      return notDelivered.all({ campaign: campaignId }) as Array<{ householdId: number }>;
    },
    /** Payments since `sinceIso` by households messaged or held out. */
    paymentsSince(campaignId: number, sinceIso: string): Array<{ householdId: number; paidAt: string }> {
      return paymentsSince.all({ campaign: campaignId, since: sinceIso }) as Array<{ householdId: number; paidAt: string }>;
    },
  };
}

export type CampaignStore = ReturnType<typeof createCampaignStore>;
