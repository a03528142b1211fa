// The 'mobile' metadata says whether a number is a valid *mobile* number in one check.
import { parsePhoneNumberFromString, validatePhoneNumberLength } from 'libphonenumber-js/mobile';
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
}

export type EnqueueResult =
  | { status: 'queued'; id: number; segments: number; encoding: 'GSM-7' | 'UCS-2' }
  | { status: 'duplicate'; id: number }
  /** Reminders and campaigns are not sent to a phone that texted STOP. */
  | { status: 'opted-out' };

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

/** An E.164 mobile number (Mali or abroad), or a clear reason why not. */
export function checkRecipient(to: string): string {
  if (!/^\+[1-9]\d{6,14}$/.test(to)) throw new SmsRejected(`recipient ${JSON.stringify(to)} is not an E.164 number such as +22376000001`);
  const parsed = parsePhoneNumberFromString(to);
  if (parsed?.isValid()) return parsed.number;
  // Only a refused number pays for the second look that says why.
  const length = validatePhoneNumberLength(to);
  if (length) throw new SmsRejected(`recipient ${to} is not a valid phone number (${length.toLowerCase().replace('_', ' ')})`);
  throw new SmsRejected(`recipient ${to} is not a mobile number in service (unassigned, or a fixed line that cannot receive SMS)`);
}

const COLUMNS = `id, recipient, text, language, encoding, segments, kind, status, attempts,
  next_attempt_ms AS nextAttemptMs, expires_ms AS expiresMs, provider_message_id AS providerMessageId,
  cost, last_error AS lastError, created_ms AS createdMs`;

/**
 * The durable outbox: every SMS is a row before anything is sent, and every change of status is
 * recorded with its time. The dispatcher is the only sender.
 */
export function createOutbox(db: Db, clock: Clock, opts: { foldMode: FoldMode; allowUcs2: boolean }) {
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

  const enqueueOne = (
    m: NewSms,
    nowMs: number,
    isOptedOut: (phone: string) => boolean,
    prepared: (text: string) => ReturnType<typeof prepare>,
  ): EnqueueResult => {
    const recipient = checkRecipient(m.to);
    if (m.kind !== 'transactional' && isOptedOut(recipient)) return { status: 'opted-out' };
    const p = prepared(m.text);
    const r = insert.run(
      recipient, p.text, m.lang, p.encoding, p.segments, m.kind, m.campaignId ?? null, PRIORITY[m.kind],
      nowMs, nowMs + (m.validityMs ?? DEFAULT_VALIDITY_MS[m.kind]), m.sourceKey ?? null, nowMs, nowMs,
    );
    if (r.changes === 0) return { status: 'duplicate', id: bySource.get(m.sourceKey) as number };
    // Its 'queued' time is created_ms: the history records the changes after it.
    return { status: 'queued', id: Number(r.lastInsertRowid), segments: p.segments, encoding: p.encoding };
  };

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

  return {
    prepare,
    /** A delivery report from the gateway, by the provider's message id. Idempotent. */
    recordDelivery(r: DeliveryReport): 'updated' | 'unchanged' | 'unknown' {
      return recordReport(r, clock.now().getTime());
    },
    /** Validates, folds, measures and queues one message. Throws SmsRejected with the reason. */
    enqueue(m: NewSms): EnqueueResult {
      const nowMs = clock.now().getTime();
      return db.transaction(() => enqueueOne(m, nowMs, (phone) => optedOut.get(phone) === 1, prepare))();
    },
    /** Many messages in one transaction (campaigns, bulk tests): each distinct text is folded and measured once. */
    enqueueMany(messages: Iterable<NewSms>): EnqueueResult[] {
      const nowMs = clock.now().getTime();
      return db.transaction(() => {
        const stopped = new Set(optedOutPhones.all() as string[]);
        const texts = new Map<string, ReturnType<typeof prepare>>();
        const prepared = (text: string) => {
          let p = texts.get(text);
          if (!p) texts.set(text, (p = prepare(text)));
          return p;
        };
        return Array.from(messages, (m) => enqueueOne(m, nowMs, (phone) => stopped.has(phone), prepared));
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
}

export type Outbox = ReturnType<typeof createOutbox>;
