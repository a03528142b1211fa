// The 'mobile' metadata says whether a number is a valid *mobile* number in one check.
import { getCountryCallingCode, parsePhoneNumberFromString, validatePhoneNumberLength, type CountryCode, type PhoneNumber } from 'libphonenumber-js/mobile';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/connection.ts';
import type { Language } from '../i18n/catalog.ts';
import { fold, isGsm7, smsEncoding, type FoldMode } from '../i18n/gsm7.ts';

export type SmsKind = 'transactional' | 'reminder' | 'campaign';
export type SmsStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'failed' | 'expired';

/** Transactional messages (receipts, answers to a member) go before reminders, reminders before campaigns. */
export const PRIORITY: Record<SmsKind, number> = { transactional: 0, reminder: 1, campaign: 2 };

/** Longer texts cost too much to be a mistake worth sending. */
export const MAX_SEGMENTS = 6;

/** How long a message may wait before arriving late is worse than not arriving. */
export const DEFAULT_VALIDITY_MS: Record<SmsKind, number> = {
  transactional: 24 * 3600_000,
  reminder: 12 * 3600_000,
  campaign: 48 * 3600_000,
};

export interface NewSms {
  to: string;
  text: string;
  lang: Language;
  kind: SmsKind;
  campaignId?: number;
  /** What caused it, e.g. `inbound:<gateway id>`: the same cause never queues a second message. */
  sourceKey?: string;
  validityMs?: number;
  /** Not sent before this instant (a scheduled or rate-spread campaign); the validity counts from it. */
  notBeforeMs?: number;
}

export type EnqueueResult =
  | { status: 'queued'; id: number; segments: number; encoding: 'GSM-7' | 'UCS-2' }
  | { status: 'duplicate'; id: number }
  /** Reminders and campaigns are not sent to a phone that texted STOP. */
  | { status: 'opted-out' };

/** One message's fate in a batch that must not fail as a whole (campaigns): a refused one says why. */
export type EachResult = EnqueueResult | { status: 'rejected'; reason: string };

/** A message whose number is valid and whose text is folded and measured: only the opt-out is left to decide. */
export interface CheckedSms {
  sms: NewSms;
  recipient: string;
  text: string;
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
}

/** What enqueueing would do, without writing: the text as it would go on the wire, or why not. */
export type Assessment =
  | { status: 'would-queue'; text: string; characters: number; segments: number; encoding: 'GSM-7' | 'UCS-2' }
  | { status: 'opted-out' }
  | { status: 'rejected'; reason: string };

/**
 * A paused campaign's queued rows wait with this next attempt and expiry (the latest instant a Date
 * holds): out of the dispatcher's due range without a status the CHECK constraint does not know, and
 * without expiring while paused. Resuming spreads them again from the resume time.
 */
export const HELD_MS = 8_640_000_000_000_000;

export interface OutboxRow {
  id: number;
  recipient: string;
  text: string;
  language: Language;
  encoding: 'GSM-7' | 'UCS-2';
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

export class SmsRejected extends Error {}

/** Delivery report statuses (reference/africastalking.md) and what they make of a message. */
export const DELIVERY_STATUS = {
  Sent: 'sent',
  Submitted: 'sent',
  Buffered: 'sent',
  Success: 'delivered',
  Rejected: 'failed',
  Failed: 'failed',
  AbsentSubscriber: 'failed',
  Expired: 'failed',
} as const satisfies Record<string, SmsStatus>;

export interface DeliveryReport {
  providerId: string;
  status: keyof typeof DELIVERY_STATUS;
  failureReason?: string | undefined;
}

const E164 = /^\+[1-9]\d{6,14}$/;

/** A valid mobile number, parsed, or SmsRejected saying why not. */
function parseMobile(to: string): PhoneNumber {
  if (!E164.test(to)) throw new SmsRejected(`recipient ${JSON.stringify(to)} is not an E.164 number such as +22376000001`);
  // The whole string is the number (it has the E.164 shape): no extraction from text, about 40% faster.
  const parsed = parsePhoneNumberFromString(to, { extract: false });
  if (parsed?.isValid()) return parsed;
  // Only a refused number pays for the second look that says why.
  const length = validatePhoneNumberLength(to);
  if (length) throw new SmsRejected(`recipient ${to} is not a valid phone number (${length.toLowerCase().replace('_', ' ')})`);
  throw new SmsRejected(`recipient ${to} is not a mobile number in service (unassigned, or a fixed line that cannot receive SMS)`);
}

/** An E.164 mobile number (Mali or abroad), or a clear reason why not. Says nothing of where SMS may go: see recipientCheck. */
export function checkRecipient(to: string): string {
  return parseMobile(to).number;
}

/** A number in a country SMS may not go to (SMS_ALLOWED_COUNTRIES). */
export class SmsCountryRefused extends SmsRejected {}

/**
 * checkRecipient limited to `countries`. The allowed calling codes are computed once, so a number
 * elsewhere is refused on its prefix without parsing; a number under an allowed code is parsed
 * anyway (validity), and its country then settles codes shared by several countries (+1, +7, +44…).
 */
export function recipientCheck(countries: readonly string[]): (to: string) => string {
  const allowed = new Set(countries);
  // Calling codes are prefix-free, so a prefix match is the code.
  const codes = [...new Set(countries.map((c) => getCountryCallingCode(c as CountryCode)))];
  const refuse = (to: string) =>
    new SmsCountryRefused(`recipient ${to} is outside the countries SMS may go to (SMS_ALLOWED_COUNTRIES=${countries.join(',')})`);
  return (to) => {
    if (E164.test(to) && !codes.some((code) => to.startsWith(code, 1))) throw refuse(to);
    const parsed = parseMobile(to);
    if (parsed.country === undefined || !allowed.has(parsed.country)) throw refuse(to);
    return parsed.number;
  };
}

const COLUMNS = `id, recipient, text, language, encoding, segments, kind, status, attempts,
  next_attempt_ms AS nextAttemptMs, expires_ms AS expiresMs, provider_message_id AS providerMessageId,
  cost, last_error AS lastError, created_ms AS createdMs`;

/**
 * The durable outbox: every SMS is a row before anything is sent, and every change of status is
 * recorded with its time. The dispatcher is the only sender.
 */
export function createOutbox(
  db: Db,
  clock: Clock,
  // allowedCountries defaults to the configuration's default (ML): only readers of the outbox leave it out.
  opts: { foldMode: FoldMode; allowUcs2: boolean; allowedCountries?: readonly string[] },
) {
  const checkAllowed = recipientCheck(opts.allowedCountries ?? ['ML']);
  const insert = db.prepare(
    `INSERT INTO sms_outbox (recipient, text, language, encoding, segments, kind, campaign_id, priority, status,
       next_attempt_ms, expires_ms, source_key, created_ms, updated_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)
     ON CONFLICT (source_key) DO NOTHING`,
  );
  const bySource = db.prepare('SELECT id FROM sms_outbox WHERE source_key = ?').pluck();
  const history = db.prepare('INSERT INTO sms_status_history (message_id, status, detail, at_ms) VALUES (?, ?, ?, ?)');
  const optedOut = db.prepare('SELECT opted_out FROM sms_optouts WHERE phone = ?').pluck();
  const setOptOut = db.prepare(
    `INSERT INTO sms_optouts (phone, opted_out, via, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (phone) DO UPDATE SET opted_out = excluded.opted_out, via = excluded.via, updated_at = excluded.updated_at`,
  );
  const byId = db.prepare(`SELECT ${COLUMNS} FROM sms_outbox WHERE id = ?`);
  const forRecipient = db.prepare(`SELECT ${COLUMNS} FROM sms_outbox WHERE recipient = ? ORDER BY id`);
  const historyOf = db.prepare('SELECT status, detail, at_ms AS atMs FROM sms_status_history WHERE message_id = ? ORDER BY id');

  /** Folds and measures a text as it will go on the wire. */
  function prepare(text: string) {
    if (text.trim() === '') throw new SmsRejected('the text is empty');
    const folded = fold(text, opts.foldMode);
    if (!isGsm7(folded) && !opts.allowUcs2) {
      throw new SmsRejected('the text has characters outside GSM-7 after folding, and UCS-2 is not allowed (SMS_ALLOW_UCS2)');
    }
    const enc = smsEncoding(folded);
    if (enc.segments > MAX_SEGMENTS) {
      throw new SmsRejected(`the text needs ${enc.segments} SMS segments (${enc.units} ${enc.encoding} units); at most ${MAX_SEGMENTS} are allowed`);
    }
    return { text: folded, encoding: enc.encoding, segments: enc.segments };
  }

  const optedOutPhones = db.prepare('SELECT phone FROM sms_optouts WHERE opted_out = 1').pluck();

  const insertChecked = (c: CheckedSms, nowMs: number): EnqueueResult => {
    const m = c.sms;
    const firstMs = Math.max(nowMs, m.notBeforeMs ?? nowMs);
    const r = insert.run(
      c.recipient, c.text, m.lang, c.encoding, c.segments, m.kind, m.campaignId ?? null, PRIORITY[m.kind],
      firstMs, firstMs + (m.validityMs ?? DEFAULT_VALIDITY_MS[m.kind]), m.sourceKey ?? null, nowMs, nowMs,
    );
    if (r.changes === 0) return { status: 'duplicate', id: bySource.get(m.sourceKey) as number };
    // Its 'queued' time is created_ms: the history records the changes after it.
    return { status: 'queued', id: Number(r.lastInsertRowid), segments: c.segments, encoding: c.encoding };
  };

  const enqueueOne = (
    m: NewSms,
    nowMs: number,
    isOptedOut: (phone: string) => boolean,
    prepared: (text: string) => ReturnType<typeof prepare>,
  ): EnqueueResult => {
    const recipient = checkAllowed(m.to);
    if (m.kind !== 'transactional' && isOptedOut(recipient)) return { status: 'opted-out' };
    return insertChecked({ sms: m, recipient, ...prepared(m.text) }, nowMs);
  };

  /** Per-batch memo of the distinct texts (bulk sends repeat a few texts many times). */
  const memoPrepare = () => {
    const texts = new Map<string, ReturnType<typeof prepare>>();
    return (text: string) => {
      let p = texts.get(text);
      if (!p) texts.set(text, (p = prepare(text)));
      return p;
    };
  };
  const refusal = (err: unknown): string => {
    if (err instanceof SmsRejected) return err.message;
    throw err;
  };

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
  const cancelQueued = db.prepare(
    `UPDATE sms_outbox SET status = 'expired', last_error = @why, updated_ms = @now
     WHERE campaign_id = @campaign AND status = 'queued' RETURNING id`,
  );

  const byProvider = db.prepare('SELECT id, status FROM sms_outbox WHERE provider_message_id = ?');
  const setFinal = db.prepare('UPDATE sms_outbox SET status = ?, last_error = ?, updated_ms = ? WHERE id = ?');
  const lastDetail = db.prepare('SELECT detail FROM sms_status_history WHERE message_id = ? ORDER BY id DESC LIMIT 1').pluck();
  const recordReport = db.transaction((r: DeliveryReport, nowMs: number): 'updated' | 'unchanged' | 'unknown' => {
    const row = byProvider.get(r.providerId) as { id: number; status: SmsStatus } | undefined;
    if (!row) return 'unknown';
    const next = DELIVERY_STATUS[r.status];
    const detail = [r.status, r.failureReason].filter(Boolean).join(': ');
    // A report repeated by the gateway, or one arriving after a final one, changes nothing.
    if (row.status === 'delivered' || row.status === 'failed' || (next === 'sent' && row.status === 'sent' && lastDetail.get(row.id) === detail)) {
      return 'unchanged';
    }
    if (next !== 'sent') setFinal.run(next, next === 'failed' ? detail : null, nowMs, row.id);
    history.run(row.id, next, detail, nowMs);
    return 'updated';
  });

  const api = {
    prepare,
    /** A delivery report from the gateway, by the provider's message id. Idempotent. */
    recordDelivery(r: DeliveryReport): 'updated' | 'unchanged' | 'unknown' {
      return recordReport(r, clock.now().getTime());
    },
    /** Validates, folds, measures and queues one message. Throws SmsRejected with the reason (SmsCountryRefused outside SMS_ALLOWED_COUNTRIES). */
    enqueue(m: NewSms): EnqueueResult {
      const nowMs = clock.now().getTime();
      return db.transaction(() => enqueueOne(m, nowMs, (phone) => optedOut.get(phone) === 1, prepare))();
    },
    /** Many messages in one transaction (campaigns, bulk tests): each distinct text is folded and measured once. */
    enqueueMany(messages: Iterable<NewSms>): EnqueueResult[] {
      const nowMs = clock.now().getTime();
      return db.transaction(() => {
        const stopped = new Set(optedOutPhones.all() as string[]);
        const prepared = memoPrepare();
        return Array.from(messages, (m) => enqueueOne(m, nowMs, (phone) => stopped.has(phone), prepared));
      })();
    },
    /**
     * Validates, folds and measures, without touching the database: campaigns do this work outside
     * their write transaction, so that other writers (the server's USSD hops, a pause) are not kept waiting.
     */
    check(m: NewSms): CheckedSms | { status: 'rejected'; reason: string } {
      try {
        return { sms: m, recipient: checkAllowed(m.to), ...prepare(m.text) };
      } catch (err) {
        return { status: 'rejected', reason: refusal(err) };
      }
    },
    /** Queues checked messages, each on its own (one to a phone that texted STOP is 'opted-out'). Joins the caller's transaction. */
    enqueueChecked(checked: readonly CheckedSms[]): EnqueueResult[] {
      const nowMs = clock.now().getTime();
      return db.transaction(() => {
        const stopped = new Set(optedOutPhones.all() as string[]);
        return checked.map((c): EnqueueResult => (c.sms.kind !== 'transactional' && stopped.has(c.recipient) ? { status: 'opted-out' } : insertChecked(c, nowMs)));
      })();
    },
    /**
     * Like enqueueMany, but each message stands alone: a bad number or text is reported as
     * 'rejected' with the reason and the others are still queued. Joins the caller's transaction.
     */
    enqueueEach(messages: Iterable<NewSms>): EachResult[] {
      const all = Array.from(messages, (m) => api.check(m));
      const ok = api.enqueueChecked(all.filter((c): c is CheckedSms => !('status' in c)));
      let i = 0;
      return all.map((c) => ('status' in c ? c : (ok[i++] as EnqueueResult)));
    },
    /**
     * What enqueueEach would decide, by the same checks in the same order (number, text, STOP),
     * without writing (a campaign preview). `stopped` is optedOut(), read once by the caller.
     */
    assess(m: NewSms, stopped: ReadonlySet<string>): Assessment {
      const c = api.check(m);
      if ('status' in c) return c;
      if (m.kind !== 'transactional' && stopped.has(c.recipient)) return { status: 'opted-out' };
      return { status: 'would-queue', text: c.text, characters: c.text.length, segments: c.segments, encoding: c.encoding };
    },
    /** Why a message to `to` would be refused: outside SMS_ALLOWED_COUNTRIES, or no mobile number at all; null if it would go. */
    refusal(to: string): 'country' | 'recipient' | null {
      try {
        checkAllowed(to);
        return null;
      } catch (err) {
        if (err instanceof SmsCountryRefused) return 'country';
        if (err instanceof SmsRejected) return 'recipient';
        throw err;
      }
    },
    /** Phones that texted STOP. */
    optedOut(): Set<string> {
      return new Set(optedOutPhones.all() as string[]);
    },
    /** Pausing a campaign: its queued rows wait (HELD_MS) until releaseCampaign. Returns how many. */
    holdCampaign(campaignId: number): number {
      return holdQueued.run({ campaign: campaignId, held: HELD_MS, now: clock.now().getTime() }).changes;
    },
    /**
     * Resuming a campaign: its queued rows, in their order, get next attempts from `originMs` every
     * `intervalMs` (0: all at once), each valid `validityMs` from then. Returns how many.
     */
    releaseCampaign(campaignId: number, originMs: number, intervalMs: number, validityMs = DEFAULT_VALIDITY_MS.campaign): number {
      return spreadQueued.run({ campaign: campaignId, origin: originMs, interval: intervalMs, validity: validityMs, now: clock.now().getTime() }).changes;
    },
    /**
     * Resuming a campaign under sending hours: its queued rows, in their order, get next attempts at
     * `at(k)`, each valid `validityMs` from then. Returns how many.
     */
    releaseCampaignAt(campaignId: number, at: (k: number) => number, validityMs = DEFAULT_VALIDITY_MS.campaign): number {
      const nowMs = clock.now().getTime();
      return db.transaction(() => {
        const ids = queuedOfCampaign.all(campaignId) as number[];
        ids.forEach((id, k) => {
          const when = at(k);
          setAttempt.run({ id, next: when, expires: when + validityMs, now: nowMs });
        });
        return ids.length;
      })();
    },
    /** Cancelling a campaign: its queued rows are expired, with the reason in their history. Returns how many. */
    cancelCampaign(campaignId: number, why: string): number {
      const nowMs = clock.now().getTime();
      return db.transaction(() => {
        const ids = cancelQueued.all({ campaign: campaignId, why, now: nowMs }) as Array<{ id: number }>;
        for (const { id } of ids) history.run(id, 'expired', why, nowMs);
        return ids.length;
      })();
    },
    get(id: number): OutboxRow | undefined {
      return byId.get(id) as OutboxRow | undefined;
    },
    to(phone: string): OutboxRow[] {
      return forRecipient.all(phone) as OutboxRow[];
    },
    /** Every status the message went through, from 'queued' at its creation. */
    history(id: number): Array<{ status: string; detail: string | null; atMs: number }> {
      const row = byId.get(id) as OutboxRow | undefined;
      if (!row) return [];
      return [{ status: 'queued', detail: null, atMs: row.createdMs }, ...(historyOf.all(id) as Array<{ status: string; detail: string | null; atMs: number }>)];
    },
    isOptedOut(phone: string): boolean {
      return optedOut.get(phone) === 1;
    },
    /** STOP / START: reminders and campaigns only; receipts and answers still go. */
    setOptOut(phone: string, optOut: boolean, via: string): void {
      setOptOut.run(phone, optOut ? 1 : 0, via, clock.now().toISOString());
    },
  };
  return api;
}

export type Outbox = ReturnType<typeof createOutbox>;
