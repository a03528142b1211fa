// The 'mobile' metadata says whether a number is a valid *mobile* number in one check.

import {
  type CountryCode,
  getCountryCallingCode,
  type PhoneNumber,
  parsePhoneNumberFromString,
  validatePhoneNumberLength,
} from 'libphonenumber-js/mobile';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/connection.ts';
import { createOutboxStore, type OutboxRow, type QueuedInsert, type SmsKind, type SmsStatus, type StatusChange } from '../db/outbox.ts';
import { atomic } from '../db/transaction.ts';
import type { Language } from '../i18n/catalog.ts';
import { type FoldMode, fold, smsEncoding } from '../i18n/gsm7.ts';
import { smsOnTheWire } from '../i18n/narrow.ts';
import { mobilePattern } from '../phone.ts';

export type { OutboxRow, SmsKind, SmsStatus };

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
  /** The member a campaign's send queues it for: the campaign's record of that member (see campaigns' results). */
  householdId?: number;
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

/** A message checked as enqueueing checks it (number, then text), or why it would be refused. */
export type Check = (m: NewSms) => CheckedSms | { status: 'rejected'; reason: string };

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

export class SmsRejected extends Error {}

/** Distinct texts a bulk enqueue, a campaign's preview or its send keeps folded and measured. */
const TEXT_MEMO = 20_000;

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
/** What String.prototype.trim removes is what \s matches: a text with anything else is not blank. */
const NOT_BLANK = /\S/;

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
 * checkRecipient limited to `countries`. A valid mobile number of a plain plan among them passes
 * on one regular expression (mobilePattern); any other number is parsed, which also says why a
 * refused one is refused. The allowed calling codes are computed once, so a number elsewhere is
 * refused on its prefix; a number under an allowed code shared by several countries (+1, +7,
 * +44…) is settled by the country its parse finds.
 */
export function recipientCheck(countries: readonly string[]): (to: string) => string {
  const allowed = new Set(countries);
  // Calling codes are prefix-free, so a prefix match is the code.
  const codes = [...new Set(countries.map((c) => getCountryCallingCode(c as CountryCode)))];
  const plain = countries.map(mobilePattern).flatMap((p) => (p ? [`${p.code}${p.national}`] : []));
  const fast = plain.length > 0 ? new RegExp(`^\\+(?:${plain.join('|')})$`) : null;
  const refuse = (to: string) =>
    new SmsCountryRefused(`recipient ${to} is outside the countries SMS may go to (SMS_ALLOWED_COUNTRIES=${countries.join(',')})`);
  return (to) => {
    if (fast?.test(to)) return to;
    if (E164.test(to) && !codes.some((code) => to.startsWith(code, 1))) throw refuse(to);
    const parsed = parseMobile(to);
    if (parsed.country === undefined || !allowed.has(parsed.country)) throw refuse(to);
    return parsed.number;
  };
}

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
  const store = createOutboxStore(db);

  /** Folds and measures a text as it will go on the wire. */
  function prepare(text: string) {
    // As text.trim() === '', without a copy of every text.
    if (!NOT_BLANK.test(text)) throw new SmsRejected('the text is empty');
    const folded = smsOnTheWire(text, opts.foldMode);
    const enc = smsEncoding(folded);
    if (enc.encoding !== 'GSM-7' && !opts.allowUcs2) {
      throw new SmsRejected('the text has characters outside GSM-7 after folding, and UCS-2 is not allowed (SMS_ALLOW_UCS2)');
    }
    if (enc.segments > MAX_SEGMENTS) {
      throw new SmsRejected(
        `the text needs ${enc.segments} SMS segments (${enc.units} ${enc.encoding} units); at most ${MAX_SEGMENTS} are allowed`,
      );
    }
    return { text: folded, encoding: enc.encoding, segments: enc.segments };
  }

  const row = (c: CheckedSms, nowMs: number): QueuedInsert => {
    const m = c.sms;
    const firstMs = Math.max(nowMs, m.notBeforeMs ?? nowMs);
    return {
      recipient: c.recipient,
      text: c.text,
      language: m.lang,
      encoding: c.encoding,
      segments: c.segments,
      kind: m.kind,
      campaignId: m.campaignId ?? null,
      householdId: m.householdId ?? null,
      priority: PRIORITY[m.kind],
      nextAttemptMs: firstMs,
      expiresMs: firstMs + (m.validityMs ?? DEFAULT_VALIDITY_MS[m.kind]),
      sourceKey: m.sourceKey ?? null,
    };
  };

  /**
   * Queues messages in their order, in the caller's transaction. `admit` checks one, or returns null
   * when it is not to be queued ('opted-out'); one whose cause was queued before is 'duplicate'.
   * Its 'queued' time is created_ms: the history records the changes after it.
   */
  const queue = <T>(items: readonly T[], admit: (item: T) => CheckedSms | null, nowMs: number): EnqueueResult[] => {
    const results = new Array<EnqueueResult>(items.length);
    const rows: QueuedInsert[] = [];
    // Where each row's item is, and its check: plain arrays rather than an object per row (bulk enqueues allocate less).
    const at: number[] = [];
    const checked: CheckedSms[] = [];
    for (let i = 0; i < items.length; i++) {
      const c = admit(items[i] as T);
      if (c === null) results[i] = { status: 'opted-out' };
      else {
        rows.push(row(c, nowMs));
        at.push(i);
        checked.push(c);
      }
    }
    const ids = store.insertQueued(rows, nowMs);
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k] as number | null;
      const c = checked[k] as CheckedSms;
      results[at[k] as number] =
        id === null
          ? { status: 'duplicate', id: store.idBySource(c.sms.sourceKey as string) as number }
          : { status: 'queued', id, segments: c.segments, encoding: c.encoding };
    }
    return results;
  };
  /** A message whose number passed: its text folded and measured (throws SmsRejected for a text that cannot go). */
  const checkedAs = (m: NewSms, recipient: string, prepared: (text: string) => ReturnType<typeof prepare>): CheckedSms => {
    const p = prepared(m.text);
    return { sms: m, recipient, text: p.text, encoding: p.encoding, segments: p.segments };
  };
  const stoppedFor = (m: NewSms, recipient: string, stopped: (phone: string) => boolean) =>
    m.kind !== 'transactional' && stopped(recipient);
  /** Number, then STOP, then text: a message to a phone that texted STOP is 'opted-out' whatever its text. */
  const admitNew =
    (stopped: (phone: string) => boolean, prepared: (text: string) => ReturnType<typeof prepare>) =>
    (m: NewSms): CheckedSms | null => {
      const recipient = checkAllowed(m.to);
      return stoppedFor(m, recipient, stopped) ? null : checkedAs(m, recipient, prepared);
    };

  /**
   * A memo of the distinct texts (bulk sends repeat a few texts many times; a campaign's members
   * share names, amounts and dates), bounded as a huge campaign has many distinct texts.
   */
  const memoPrepare = () => {
    const texts = new Map<string, ReturnType<typeof prepare>>();
    return (text: string) => {
      let p = texts.get(text);
      if (!p) {
        if (texts.size >= TEXT_MEMO) texts.clear();
        texts.set(text, (p = prepare(text)));
      }
      return p;
    };
  };
  const refusal = (err: unknown): string => {
    if (err instanceof SmsRejected) return err.message;
    throw err;
  };

  const checkWith = (m: NewSms, prepared: (text: string) => ReturnType<typeof prepare>): ReturnType<Check> => {
    try {
      return checkedAs(m, checkAllowed(m.to), prepared);
    } catch (err) {
      return { status: 'rejected', reason: refusal(err) };
    }
  };

  const recordReport = atomic(db, (r: DeliveryReport, nowMs: number): 'updated' | 'unchanged' | 'unknown' => {
    const row = store.byProvider(r.providerId);
    if (!row) return 'unknown';
    const next = DELIVERY_STATUS[r.status];
    const detail = [r.status, r.failureReason].filter(Boolean).join(': ');
    // A report repeated by the gateway, or one arriving after a final one, changes nothing.
    if (
      row.status === 'delivered' ||
      row.status === 'failed' ||
      (next === 'sent' && row.status === 'sent' && store.lastDetail(row.id) === detail)
    ) {
      return 'unchanged';
    }
    if (next !== 'sent') store.setFinal(row.id, next, next === 'failed' ? detail : null, nowMs);
    store.addHistory(row.id, next, detail, nowMs);
    return 'updated';
  });

  const enqueueOne = atomic(
    db,
    (m: NewSms, nowMs: number): EnqueueResult =>
      queue(
        [m],
        admitNew((phone) => store.isOptedOut(phone), prepare),
        nowMs,
      )[0] as EnqueueResult,
  );
  const enqueueMany = atomic(db, (messages: readonly NewSms[], nowMs: number): EnqueueResult[] => {
    const stopped = store.optedOutPhones();
    return queue(
      messages,
      admitNew((phone) => stopped.has(phone), memoPrepare()),
      nowMs,
    );
  });
  // Only the messages' own phones are looked up, in the transaction that queues them: a send's
  // chunks each see the opt-outs as of their write, without reading the whole table each time.
  const enqueueChecked = atomic(db, (checked: readonly CheckedSms[], nowMs: number): EnqueueResult[] => {
    const stopped = store.optedOutAmong(checked.map((c) => c.recipient));
    return queue(checked, (c) => (stoppedFor(c.sms, c.recipient, (phone) => stopped.has(phone)) ? null : c), nowMs);
  });
  const releaseAt = atomic(db, (campaignId: number, at: (k: number) => number, validityMs: number, nowMs: number): number => {
    const ids = store.queuedOfCampaign(campaignId);
    ids.forEach((id, k) => {
      const when = at(k);
      store.setAttempt(id, when, when + validityMs, nowMs);
    });
    return ids.length;
  });
  const cancel = atomic(db, (campaignId: number, why: string, nowMs: number): number => {
    const ids = store.expireQueuedOfCampaign(campaignId, why, nowMs);
    for (const id of ids) store.addHistory(id, 'expired', why, nowMs);
    return ids.length;
  });

  const api = {
    prepare,
    /**
     * A text folded as this outbox folds what it queues: a campaign folds its template and each
     * distinct value once, so that each message it renders is already folded (prepare then only checks it).
     */
    fold(text: string): string {
      return fold(text, opts.foldMode);
    },
    /** A delivery report from the gateway, by the provider's message id. Idempotent. */
    recordDelivery(r: DeliveryReport): 'updated' | 'unchanged' | 'unknown' {
      return recordReport(r, clock.now().getTime());
    },
    /** Validates, folds, measures and queues one message. Throws SmsRejected with the reason (SmsCountryRefused outside SMS_ALLOWED_COUNTRIES). */
    enqueue(m: NewSms): EnqueueResult {
      return enqueueOne(m, clock.now().getTime());
    },
    /** Many messages in one transaction (campaigns, bulk tests): each distinct text is folded and measured once. Throws like enqueue, writing nothing. */
    enqueueMany(messages: Iterable<NewSms>): EnqueueResult[] {
      return enqueueMany(Array.from(messages), clock.now().getTime());
    },
    /**
     * Validates, folds and measures, without touching the database: campaigns do this work outside
     * their write transaction, so that other writers (the server's USSD hops, a pause) are not kept waiting.
     */
    check(m: NewSms): ReturnType<Check> {
      return checkWith(m, prepare);
    },
    /** check, each distinct text folded and measured once: for a campaign's preview or send, kept from chunk to chunk. */
    checker(): Check {
      const prepared = memoPrepare();
      return (m) => checkWith(m, prepared);
    },
    /** Queues checked messages, each on its own (one to a phone that texted STOP is 'opted-out'). Joins the caller's transaction. */
    enqueueChecked(checked: readonly CheckedSms[]): EnqueueResult[] {
      return enqueueChecked(checked, clock.now().getTime());
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
     * without writing (a campaign preview). `stopped` is optedOut(), read once by the caller; `check`, a
     * checker() the caller keeps.
     */
    assess(m: NewSms, stopped: ReadonlySet<string>, check: Check = (x) => checkWith(x, prepare)): Assessment {
      const c = check(m);
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
      return store.optedOutPhones();
    },
    /** Pausing a campaign: its queued rows wait (HELD_MS) until releaseCampaign. Returns how many. */
    holdCampaign(campaignId: number): number {
      return store.holdCampaign(campaignId, HELD_MS, clock.now().getTime());
    },
    /**
     * Resuming a campaign: its queued rows, in their order, get next attempts from `originMs` every
     * `intervalMs` (0: all at once), each valid `validityMs` from then. Returns how many.
     */
    releaseCampaign(campaignId: number, originMs: number, intervalMs: number, validityMs = DEFAULT_VALIDITY_MS.campaign): number {
      return store.spreadCampaign(campaignId, originMs, intervalMs, validityMs, clock.now().getTime());
    },
    /**
     * Resuming a campaign under sending hours: its queued rows, in their order, get next attempts at
     * `at(k)`, each valid `validityMs` from then. Returns how many.
     */
    releaseCampaignAt(campaignId: number, at: (k: number) => number, validityMs = DEFAULT_VALIDITY_MS.campaign): number {
      return releaseAt(campaignId, at, validityMs, clock.now().getTime());
    },
    /** Cancelling a campaign: its queued rows are expired, with the reason in their history. Returns how many. */
    cancelCampaign(campaignId: number, why: string): number {
      return cancel(campaignId, why, clock.now().getTime());
    },
    /**
     * Expires one message the dispatcher has not taken yet, with the reason in its history (a
     * reminder a payment made pointless); false if it already left the queue. Joins the caller's transaction.
     */
    expireQueued(id: number, why: string, now: Date = clock.now()): boolean {
      return store.expireIfQueued(id, why, now.getTime());
    },
    /** Whether any of a campaign's messages is not sent yet (queued or being sent). */
    campaignWaits(campaignId: number): boolean {
      return store.campaignWaits(campaignId);
    },
    get(id: number): OutboxRow | undefined {
      return store.get(id);
    },
    /** The messages to a phone, oldest first, but a household's campaign messages (src/db/outbox.ts latestOfHousehold). */
    to(phone: string): OutboxRow[] {
      return store.to(phone);
    },
    /** Every status the message went through, from 'queued' at its creation. */
    history(id: number): StatusChange[] {
      const row = store.get(id);
      if (!row) return [];
      return [{ status: 'queued', detail: null, atMs: row.createdMs }, ...store.historyOf(id)];
    },
    isOptedOut(phone: string): boolean {
      return store.isOptedOut(phone);
    },
    /** STOP / START: reminders and campaigns only; receipts and answers still go. */
    setOptOut(phone: string, optOut: boolean, via: string): void {
      store.setOptOut(phone, optOut, via, clock.now().toISOString());
    },
  };
  return api;
}

export type Outbox = ReturnType<typeof createOutbox>;
