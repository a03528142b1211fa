/**
 * The send, chunk by chunk: each chunk's members are read, rendered and checked outside the write
 * transaction, then written (outbox rows for the members messaged, campaign_recipients rows for the
 * others) in one IMMEDIATE transaction that re-reads the campaign's state and advances the enqueue
 * cursor with its rows (see the top of campaigns.ts for why). Message k of a campaign is scheduled
 * k × interval after its origin, in the sending hours only.
 */
import { bamakoDay, type Clock } from '../clock.ts';
import type { CampaignRow, CampaignStore, RecipientRow } from '../db/campaigns.ts';
import type { Db } from '../db/connection.ts';
import { atomic } from '../db/transaction.ts';
import { type SendingHours, sendableFrom, sendingCloses } from '../domain/reminders.ts';
import type { Language } from '../i18n/catalog.ts';
import type { CheckedSms, Outbox } from '../sms/outbox.ts';
import type { AudiencePage, Member } from './audience.ts';
import type { CampaignReader } from './messages.ts';

/**
 * When message k of a schedule may go: `offsetMs` (k × interval) after `originMs`, counted in the
 * sending hours only. Without hours, plainly originMs + offsetMs.
 */
export function scheduledAt(originMs: number, offsetMs: number, hours?: SendingHours): number {
  if (!hours) return originMs + offsetMs;
  let t = sendableFrom(new Date(originMs), hours).getTime();
  let rest = offsetMs;
  for (;;) {
    const closes = sendingCloses(new Date(t), hours).getTime();
    if (t + rest < closes) return t + rest;
    rest -= closes - t;
    t = sendableFrom(new Date(closes), hours).getTime();
  }
}

/**
 * scheduledAt for one origin and offsets that mostly grow (message k, k + 1, … of a send or of a
 * resume): the sending window reached by the last offset is kept, so that each message costs an
 * addition instead of the hours' arithmetic of Bamako days (2–4 µs a message, most of a
 * 200 000-member send's scheduling). A smaller offset starts again from the origin. Equal to
 * scheduledAt for every offset.
 */
export function schedule(originMs: number, hours?: SendingHours): (offsetMs: number) => number {
  if (!hours) return (offsetMs) => originMs + offsetMs;
  const first = sendableFrom(new Date(originMs), hours).getTime();
  // The window [opens, closes) reached, and the offset its opening stands for.
  let opens = first;
  let closes = sendingCloses(new Date(first), hours).getTime();
  let consumed = 0;
  return (offsetMs) => {
    if (offsetMs < consumed) {
      opens = first;
      closes = sendingCloses(new Date(first), hours).getTime();
      consumed = 0;
    }
    while (opens + (offsetMs - consumed) >= closes) {
      consumed += closes - opens;
      opens = sendableFrom(new Date(closes), hours).getTime();
      closes = sendingCloses(new Date(opens), hours).getTime();
    }
    return opens + (offsetMs - consumed);
  };
}

/** The time between two messages of a campaign sent at `rate_per_minute` (0: as fast as the dispatcher sends). */
export const intervalMs = (r: CampaignRow) => (r.rate_per_minute ? 60_000 / r.rate_per_minute : 0);

/** One send's readers: the campaign's reader for today, made again when the day changes. */
export type Readers = (r: CampaignRow) => CampaignReader;

export interface SendChunkDeps {
  db: Db;
  clock: Clock;
  outbox: Outbox;
  store: CampaignStore;
  hours?: SendingHours | undefined;
  /** The campaign's row (a refusal when there is none). */
  row: (id: number) => CampaignRow;
  /** Who is sent what, as of `day`. */
  reader: (r: CampaignRow, day: string) => CampaignReader;
}

export function createSendChunks(d: SendChunkDeps) {
  const { db, clock, outbox, store, row } = d;
  const nowIso = () => clock.now().toISOString();

  /**
   * One send's reader, kept from chunk to chunk (what it reads by is fixed once the campaign is
   * created) so that what it computed once serves every chunk; made again when the day changes.
   */
  function readersOfSend(): Readers {
    let kept: { day: string; reader: CampaignReader } | undefined;
    return (r) => {
      const day = bamakoDay(clock.now());
      if (kept?.day !== day) kept = { day, reader: d.reader(r, day) };
      return kept.reader;
    };
  }

  /**
   * One chunk of the send. The members are read, rendered, validated and folded outside the write
   * transaction (a read of the cursor); the IMMEDIATE transaction then re-reads the campaign and
   * only writes: a pause or cancel from another process, and the server's own writes, get the lock
   * between two chunks instead of waiting for the whole send. If another process advanced the
   * cursor meanwhile, the chunk is planned again from there.
   */
  function step(id: number, size: number, readers: Readers): { stop: boolean; scanned: number } {
    for (;;) {
      const r = row(id);
      if ((r.state !== 'sending' && r.state !== 'scheduled') || r.enqueue_done === 1) return { stop: true, scanned: 0 };
      const { reader, smsFor, check } = readers(r);
      const page = reader.page(r.enqueue_cursor, size);
      const interval = intervalMs(r);
      const at = schedule(r.schedule_origin_ms as number, d.hours);
      let index = r.schedule_index;
      const control: Member[] = [];
      const refused: Array<{ m: Member; lang: Language; reason: string }> = [];
      const checked: Array<{ m: Member; c: CheckedSms }> = [];
      for (const m of page.members) {
        const sms = smsFor(m);
        if (sms === null) {
          control.push(m);
          continue;
        }
        sms.notBeforeMs = at(Math.floor(index++ * interval));
        sms.householdId = m.householdId;
        const c = check(sms);
        if ('status' in c) refused.push({ m, lang: sms.lang, reason: c.reason });
        else checked.push({ m, c });
      }
      const written = writeChunk.immediate(id, { from: r.enqueue_cursor, page, index, control, refused, checked });
      if (written !== 'moved') return written;
    }
  }

  const writeChunk = atomic(
    db,
    (
      id: number,
      plan: {
        from: number;
        page: AudiencePage;
        index: number;
        control: Member[];
        refused: Array<{ m: Member; lang: Language; reason: string }>;
        checked: Array<{ m: Member; c: CheckedSms }>;
      },
    ): { stop: boolean; scanned: number } | 'moved' => {
      const r = row(id);
      if ((r.state !== 'sending' && r.state !== 'scheduled') || r.enqueue_done === 1) return { stop: true, scanned: 0 };
      if (r.enqueue_cursor !== plan.from) return 'moved';
      const recipients: RecipientRow[] = [];
      const decided = (m: Member, language: Language, control: boolean, outcome: RecipientRow['outcome'], detail: string | null) =>
        recipients.push({ householdId: m.householdId, phone: m.phone, language, control, outcome, detail });
      for (const m of plan.control) decided(m, m.language, true, 'control', null);
      for (const { m, lang, reason } of plan.refused) decided(m, lang, false, 'rejected', reason);
      // A queued member's outbox row carries the household: it is the member's record of the send.
      const results = outbox.enqueueChecked(plan.checked.map((x) => x.c));
      let queued = 0;
      results.forEach((res, i) => {
        const { m, c } = plan.checked[i] as { m: Member; c: CheckedSms };
        if (res.status === 'opted-out') decided(m, c.sms.lang, false, 'opted-out', null);
        else queued++;
      });
      store.addRecipients(id, recipients);
      const done = plan.page.scanned === 0;
      store.advance(id, {
        cursor: plan.page.lastId,
        done,
        index: plan.index,
        scanned: plan.page.scanned,
        control: plan.control.length,
        queued,
        optedOut: results.length - queued,
        rejected: plan.refused.length,
        now: nowIso(),
      });
      return { stop: done, scanned: plan.page.scanned };
    },
  );

  return { readersOfSend, step };
}
