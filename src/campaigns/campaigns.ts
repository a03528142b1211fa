/**
 * Outreach campaigns: an audience, a message per language, a send time and a rate.
 *
 * Life of a campaign: `draft` (created; preview and test sends as often as wanted) → send →
 * `scheduled` (its send time is still ahead) or `sending` → `done` once nothing of it is waiting in
 * the outbox; `paused` and back, or `cancelled`, at any point before `done`. A campaign is sent once.
 *
 * Sending only writes intent, one row per member: the outbox row of a member messaged (it names the
 * household), a campaign_recipients row for a member held out, opted out or refused; in chunks of
 * CHUNK households. Each chunk is read and rendered first, then written in one IMMEDIATE transaction
 * that re-reads the campaign's state (so a pause or a cancel from another process stops the loop at
 * the next chunk) and advances the enqueue cursor with its rows (so a killed send resumes where it
 * stopped, never queuing a member twice). The server's dispatcher sends.
 *
 * Send time and rate are written into the rows: message k of the campaign is not sent before
 * origin + k × (60 000 / rate) ms (origin: the send time, or when sending started). Rather than a
 * per-campaign rate inside the dispatcher, because the schedule is then durable and visible in the
 * outbox, survives restarts of either process, needs no campaign bookkeeping on the dispatcher's hot
 * path, and the dispatcher's own order (receipts first) and global rate still apply on top.
 *
 * Like reminders, campaigns speak only within the sending hours (REMINDER_START_HOUR to
 * REMINDER_END_HOUR, Bamako): the schedule counts its k × interval in open time only, so a campaign
 * sent at night holds every message until the hours open (and stays `scheduled` until then), and a
 * send that runs past the closing hour carries on the next morning at the same rate.
 */

import { z } from 'zod';
import { bamakoDay, type Clock } from '../clock.ts';
import { type CampaignRow, type CampaignState, type CampaignStore, createCampaignStore } from '../db/campaigns.ts';
import type { Db } from '../db/connection.ts';
import { createHouseholdStore } from '../db/households.ts';
import { atomicallyFirst } from '../db/transaction.ts';
import { fieldOf, Refusal } from '../domain/refusal.ts';
import type { SendingHours } from '../domain/reminders.ts';
import { LANGUAGES, type Language } from '../i18n/catalog.ts';
import { type Assessment, DEFAULT_VALIDITY_MS, type Outbox } from '../sms/outbox.ts';
import { type AudienceFilter, audienceSchema, createAudienceReader, type Member } from './audience.ts';
import { type Conversions, conversions } from './conversions.ts';
import { campaignReader, messageFor, valueFormatter } from './messages.ts';
import { type PhoneListError, parsePhoneCsv } from './phones-csv.ts';
import { type ReminderRuleResults, reminderRuleResults } from './reminder-results.ts';
import { checkTemplate, render, TemplateError } from './render.ts';
import { createSendChunks, intervalMs, schedule, scheduledAt } from './send-chunks.ts';

/** Households per enqueue transaction: big enough to amortise the commit, small enough to pause quickly. */
export const CHUNK = 2000;
/** Inside the server each chunk holds the event loop: smaller ones keep USSD hops answered meanwhile. */
export const BACKGROUND_CHUNK = 250;

export { controlDraw } from './messages.ts';
export { scheduledAt } from './send-chunks.ts';
export type { CampaignState };

/** A refused campaign request, with the HTTP status that fits it; the field is the one its message starts with. */
export class CampaignError extends Refusal {
  constructor(message: string, status: 400 | 404 | 409, details: Record<string, unknown> = {}) {
    super(message, fieldOf(message), status, details);
  }
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/;

export const campaignInputSchema = z
  .object({
    name: z.string().trim().min(1, { error: 'is required' }).max(120),
    audience: audienceSchema.default({}),
    /** An explicit list of phones, as CSV text (format in phones-csv.ts): only these members. */
    phonesCsv: z.string().optional(),
    messages: z
      .object({
        fr: z.string().trim().min(1, { error: 'is empty' }).optional(),
        bm: z.string().trim().min(1, { error: 'is empty' }).optional(),
      })
      .strict(),
    /** The message members of a language without one receive; without it, every language needs a message. */
    fallbackLanguage: z.enum(LANGUAGES).optional(),
    /** ISO 8601; a time without a zone is Bamako time (UTC+0). Absent: as soon as it is sent. */
    sendAt: z.string().regex(ISO_TIME, { error: 'must be a time such as 2026-03-12T08:00 or 2026-03-12T08:00:00Z' }).optional(),
    /** Messages per minute at most; absent: as fast as the dispatcher sends (SMS_RATE_PER_SECOND). */
    ratePerMinute: z.number().int().min(1).max(600_000).optional(),
    /** Share of the audience held out as a control group (sent nothing, compared in the results). */
    controlShare: z
      .number()
      .min(0)
      .max(0.5, { error: 'at most 0.5: a control group larger than the audience reached tells little' })
      .default(0),
  })
  .strict();

export type CampaignInput = z.input<typeof campaignInputSchema>;

export interface Campaign {
  id: number;
  name: string;
  audience: AudienceFilter;
  phoneList: number;
  messages: Partial<Record<Language, string>>;
  fallbackLanguage: Language | null;
  sendAt: string | null;
  ratePerMinute: number | null;
  controlShare: number;
  state: CampaignState;
  progress: { scanned: number; queued: number; control: number; optedOut: number; rejected: number; enqueueDone: boolean };
  startedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface LanguageFigures {
  messages: number;
  segments: number;
  maxSegments: number;
  characters: number;
  maxCharacters: number;
  /** Members of this language who get the fallback language's message. */
  fallback: number;
}

export interface Preview {
  campaignId: number;
  /** Members matching the filters (control included). */
  audience: number;
  control: number;
  optedOut: number;
  rejected: number;
  rejectedSamples: Array<{ phone: string; reason: string }>;
  /** Phones of the explicit list that are not members (no message: nothing to fill the placeholders with). */
  notMembers: number;
  /** Messages that sending would queue. */
  messages: number;
  segments: number;
  /** Characters and segments are those of each recipient's own message after folding, summed; max is the longest. */
  byLanguage: Record<Language, LanguageFigures>;
  costPerSegmentFcfa: number;
  estimatedCostFcfa: number;
  samples: Array<{ phone: string; language: Language; text: string; characters: number; segments: number }>;
  warnings: string[];
}

export interface Results {
  campaign: Campaign;
  /**
   * audience: members the send decided for; queued: messages written to the outbox; waiting: not
   * sent yet (held while paused included); sent: accepted by the gateway (delivered and failed after
   * sending included); delivered; failed; expired (validity passed, or cancelled).
   */
  counts: {
    audience: number;
    control: number;
    optedOutBefore: number;
    rejected: number;
    queued: number;
    waiting: number;
    sent: number;
    delivered: number;
    failed: number;
    expired: number;
  };
  /** Members messaged whose phone texted STOP after the campaign started. */
  optedOutAfter: number;
  conversions: Conversions;
}

export interface CampaignDeps {
  db: Db;
  clock: Clock;
  outbox: Outbox;
  serviceCode: string;
  costPerSegmentFcfa: number;
  /** Households per enqueue transaction (default CHUNK; tests use small chunks to pause between them). */
  chunkSize?: number;
  /** The sending hours (those of the reminders); without them, a campaign may send at any hour. */
  hours?: SendingHours;
}

export function createCampaigns(deps: CampaignDeps) {
  const { db, clock, outbox } = deps;
  const chunkSize = deps.chunkSize ?? CHUNK;
  const store = createCampaignStore(db);

  const nowIso = () => clock.now().toISOString();

  function toCampaign(r: CampaignRow): Campaign {
    return {
      id: r.id,
      name: r.name,
      audience: JSON.parse(r.audience) as AudienceFilter,
      phoneList: r.phone_list,
      messages: JSON.parse(r.messages) as Partial<Record<Language, string>>,
      fallbackLanguage: r.fallback_language,
      sendAt: r.send_at,
      ratePerMinute: r.rate_per_minute,
      controlShare: r.control_share,
      state: r.state,
      progress: {
        scanned: r.scanned,
        queued: r.queued,
        control: r.control,
        optedOut: r.opted_out,
        rejected: r.rejected,
        enqueueDone: r.enqueue_done === 1,
      },
      startedAt: r.started_at,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }

  function row(id: number): CampaignRow {
    const r = store.get(id);
    if (!r) throw new CampaignError(`no campaign ${id}`, 404);
    return r;
  }

  /** scheduled → sending once its time has come; → done once the enqueue is over and nothing waits. */
  function refresh(r: CampaignRow): CampaignRow {
    if ((r.state !== 'scheduled' && r.state !== 'sending') || r.schedule_origin_ms === null) return r;
    let state: CampaignState = r.state;
    if (r.enqueue_done === 1 && !outbox.campaignWaits(r.id)) state = 'done';
    else if (state === 'scheduled' && clock.now().getTime() >= r.schedule_origin_ms) state = 'sending';
    if (state === r.state) return r;
    store.setState(r.id, state, nowIso());
    return { ...r, state };
  }

  const readerFor = (r: CampaignRow, today = bamakoDay(clock.now())) => campaignReader(deps, r, today);
  const chunks = createSendChunks({ db, clock, outbox, store, hours: deps.hours, row, reader: readerFor });

  function assertSendable(r: CampaignRow): void {
    if (r.state !== 'draft') {
      throw new CampaignError(
        `campaign ${r.id} was already sent (it is ${r.state}): a campaign is sent once; create a new one to send again`,
        409,
      );
    }
  }

  const api = {
    create(input: unknown): Campaign {
      const parsed = campaignInputSchema.safeParse(input);
      if (!parsed.success) {
        throw new CampaignError(
          parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; '),
          400,
        );
      }
      const c = parsed.data;
      for (const lang of LANGUAGES) {
        const text = c.messages[lang];
        if (text === undefined) continue;
        try {
          checkTemplate(text);
        } catch (err) {
          if (err instanceof TemplateError) throw new CampaignError(`messages.${lang}: ${err.message}`, 400);
          throw err;
        }
      }
      if (c.fallbackLanguage && !c.messages[c.fallbackLanguage]) {
        throw new CampaignError(`fallbackLanguage: there is no ${c.fallbackLanguage} message to fall back on`, 400);
      }
      const missing = LANGUAGES.filter((l) => !c.messages[l]);
      if (missing.length === LANGUAGES.length) throw new CampaignError('messages: give at least one message (fr, bm)', 400);
      if (missing.length > 0 && !c.fallbackLanguage) {
        throw new CampaignError(
          `messages.${missing[0]}: no message for members speaking ${missing.join(', ')}; write one, or choose explicitly ` +
            `which message they get with fallbackLanguage (--fallback ${LANGUAGES.find((l) => c.messages[l])} on the command line)`,
          400,
        );
      }
      let sendAt: string | null = null;
      if (c.sendAt) {
        const t = Date.parse(/(Z|[+-]\d{2}:\d{2})$/.test(c.sendAt) ? c.sendAt : `${c.sendAt.replace(' ', 'T')}Z`);
        if (Number.isNaN(t)) throw new CampaignError(`sendAt: ${JSON.stringify(c.sendAt)} is not a valid time`, 400);
        if (t < clock.now().getTime()) {
          throw new CampaignError(
            `sendAt: ${new Date(t).toISOString()} is in the past (now ${nowIso()}); leave it out to send at once`,
            400,
          );
        }
        sendAt = new Date(t).toISOString();
      }
      let phones: string[] = [];
      if (c.phonesCsv !== undefined) {
        const list = parsePhoneCsv(c.phonesCsv);
        if (list.errors.length > 0) {
          throw new CampaignError(
            `phonesCsv: ${list.errors.length} bad line${list.errors.length > 1 ? 's' : ''}; nothing was created`,
            400,
            { errors: list.errors satisfies PhoneListError[] },
          );
        }
        phones = list.phones;
      }
      const id = store.create(
        {
          name: c.name,
          audience: JSON.stringify(c.audience),
          messages: JSON.stringify(c.messages),
          fallback: c.fallbackLanguage ?? null,
          sendAt,
          rate: c.ratePerMinute ?? null,
          controlShare: c.controlShare,
          now: nowIso(),
        },
        phones,
      );
      return toCampaign(row(id));
    },

    get(id: number): Campaign {
      return toCampaign(refresh(row(id)));
    },

    list(): Campaign[] {
      return store.all().map((r) => toCampaign(refresh(r)));
    },

    /** What sending now would do, member by member, by the same rules as the send. Streams the audience. */
    preview(id: number): Preview {
      const r = row(id);
      const { reader, smsFor, check } = readerFor(r);
      const stopped = outbox.optedOut();
      const lang = (): LanguageFigures => ({ messages: 0, segments: 0, maxSegments: 0, characters: 0, maxCharacters: 0, fallback: 0 });
      const p: Preview = {
        campaignId: id,
        audience: 0,
        control: 0,
        optedOut: 0,
        rejected: 0,
        rejectedSamples: [],
        notMembers: r.phone_list > 0 ? store.notMembers(id) : 0,
        messages: 0,
        segments: 0,
        byLanguage: { fr: lang(), bm: lang() },
        costPerSegmentFcfa: deps.costPerSegmentFcfa,
        estimatedCostFcfa: 0,
        samples: [],
        warnings: [],
      };
      for (let after = 0; ; ) {
        const page = reader.page(after, CHUNK);
        if (page.scanned === 0) break;
        after = page.lastId;
        for (const m of page.members) {
          p.audience++;
          const sms = smsFor(m);
          if (sms === null) {
            p.control++;
            continue;
          }
          const a: Assessment = outbox.assess(sms, stopped, check);
          if (a.status === 'opted-out') p.optedOut++;
          else if (a.status === 'rejected') {
            p.rejected++;
            if (p.rejectedSamples.length < 10) p.rejectedSamples.push({ phone: m.phone, reason: a.reason });
          } else {
            const f = p.byLanguage[sms.lang];
            f.messages++;
            f.segments += a.segments;
            f.maxSegments = Math.max(f.maxSegments, a.segments);
            f.characters += a.characters;
            f.maxCharacters = Math.max(f.maxCharacters, a.characters);
            if (sms.lang !== m.language) p.byLanguage[m.language].fallback++;
            p.messages++;
            p.segments += a.segments;
            if (p.samples.length < 3)
              p.samples.push({ phone: m.phone, language: sms.lang, text: a.text, characters: a.characters, segments: a.segments });
          }
        }
      }
      p.estimatedCostFcfa = Math.round(p.segments * deps.costPerSegmentFcfa);
      if (p.audience === 0) p.warnings.push('the audience is empty: no member matches these filters, nothing would be sent');
      else if (p.messages === 0)
        p.warnings.push('no message would be sent: every member of the audience is held out, opted out or refused');
      if (p.rejected > 0) p.warnings.push(`${p.rejected} member(s) have a phone or message the outbox refuses (see rejectedSamples)`);
      if (p.notMembers > 0) p.warnings.push(`${p.notMembers} phone(s) of the list are not members: they get nothing`);
      return p;
    },

    /**
     * One message to one phone, now, rendered with that member's values (or, for a phone that is not
     * a member, those of the first member of the audience). Not counted in the campaign's results.
     */
    testSend(id: number, phone: string, language?: Language): { outboxId: number; text: string; segments: number } {
      const r = row(id);
      const messages = JSON.parse(r.messages) as Partial<Record<Language, string>>;
      const { reader } = readerFor(r);
      const memberId = createHouseholdStore(db).findByPhone(phone)?.id;
      let member: Member | undefined;
      if (memberId !== undefined) {
        member = createAudienceReader(db, { filter: {}, today: bamakoDay(clock.now()), needsCoverage: true }).page(memberId - 1, 1)
          .members[0];
      } else {
        for (let after = 0; !member; ) {
          const page = reader.page(after, CHUNK);
          if (page.scanned === 0) break;
          after = page.lastId;
          member = page.members[0];
        }
      }
      if (!member)
        throw new CampaignError('the audience is empty and the phone is not a member: no values to fill the placeholders with', 409);
      const msg = messageFor(r, messages, language ?? (memberId !== undefined ? member.language : 'fr'));
      if (!msg) throw new CampaignError(`no ${language} message in campaign ${id}, and no fallback language`, 400);
      const res = outbox.enqueueEach([
        {
          to: phone,
          text: render(msg.template, valueFormatter(outbox, deps.serviceCode)(member)),
          lang: msg.lang,
          kind: 'campaign',
          sourceKey: `campaign-test:${id}:${phone}:${clock.now().getTime()}`,
        },
      ])[0];
      if (!res || res.status === 'rejected')
        throw new CampaignError(`the test message was refused: ${res?.status === 'rejected' ? res.reason : 'unknown'}`, 400);
      if (res.status === 'opted-out') throw new CampaignError(`${phone} texted STOP: campaigns are not sent to it`, 409);
      if (res.status === 'duplicate') throw new CampaignError('a test message was just sent to this phone', 409);
      const row2 = outbox.get(res.id);
      return { outboxId: res.id, text: row2?.text ?? '', segments: res.segments };
    },

    /**
     * Starts sending: refuses a campaign sent before, or whose audience is empty; the caller then
     * runs the enqueue (enqueueAll or enqueueInBackground). Returns the households to scan (progress total).
     */
    startSend(id: number): { campaign: Campaign; total: number } {
      return atomicallyFirst(db, () => {
        const r = row(id);
        assertSendable(r);
        const total = readerFor(r).reader.candidates();
        if (total === 0)
          throw new CampaignError('the audience is empty: no member matches these filters; nothing was sent', 409, {
            warning: 'empty audience',
          });
        const now = clock.now().getTime();
        const sendAt = r.send_at ? Date.parse(r.send_at) : now;
        // Outside the sending hours, the campaign waits for them: scheduled until they open.
        const origin = scheduledAt(Math.max(now, sendAt), 0, deps.hours);
        store.startSending(id, origin > now ? 'scheduled' : 'sending', origin, nowIso());
        return { campaign: toCampaign(row(id)), total };
      });
    },

    /** Households still to scan (a resumed send's progress total). */
    remaining(id: number): number {
      const r = row(id);
      return r.enqueue_done === 1 ? 0 : Math.max(0, readerFor(r).reader.candidates() - r.scanned);
    },

    /** Runs the enqueue to its end or until the campaign is paused or cancelled. */
    enqueueAll(id: number, onProgress?: (scanned: number) => void): Campaign {
      const readers = chunks.readersOfSend();
      for (;;) {
        const step = chunks.step(id, chunkSize, readers);
        if (step.scanned > 0) onProgress?.(step.scanned);
        if (step.stop) break;
      }
      return api.get(id);
    },

    /** The same inside the server: one chunk per turn of the event loop, so requests keep being answered. */
    async enqueueInBackground(id: number): Promise<Campaign> {
      const readers = chunks.readersOfSend();
      for (;;) {
        const step = chunks.step(id, Math.min(chunkSize, BACKGROUND_CHUNK), readers);
        if (step.stop) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      return api.get(id);
    },

    /**
     * At server start: continues in the background the sends a stopped process left half-written
     * (safe beside a CLI still writing the same campaign: each chunk re-reads the cursor in its transaction).
     */
    continueUnfinished(onError: (err: unknown, id: number) => void): number[] {
      const ids = store.unfinished();
      for (const id of ids) api.enqueueInBackground(id).catch((err: unknown) => onError(err, id));
      return ids;
    },

    /** Stops the enqueue at its next chunk and holds the queued messages. */
    pause(id: number): Campaign {
      atomicallyFirst(db, () => {
        const r = refresh(row(id));
        if (r.state !== 'scheduled' && r.state !== 'sending') {
          throw new CampaignError(`campaign ${id} is ${r.state}: only a scheduled or sending campaign can be paused`, 409);
        }
        store.setState(id, 'paused', nowIso());
        outbox.holdCampaign(id);
      });
      return api.get(id);
    },

    /**
     * Releases the held messages, spread again at the campaign's rate from now (or its send time if
     * still ahead). The caller then continues an unfinished enqueue (progress.enqueueDone false).
     */
    resume(id: number): Campaign {
      atomicallyFirst(db, () => {
        const r = row(id);
        if (r.state !== 'paused') throw new CampaignError(`campaign ${id} is ${r.state}: only a paused campaign can be resumed`, 409);
        const now = clock.now().getTime();
        const sendAt = r.send_at ? Date.parse(r.send_at) : now;
        const origin = scheduledAt(Math.max(now, sendAt), 0, deps.hours);
        const interval = intervalMs(r);
        const at = schedule(origin, deps.hours);
        const released = deps.hours
          ? outbox.releaseCampaignAt(id, (k) => at(Math.floor(k * interval)), DEFAULT_VALIDITY_MS.campaign)
          : outbox.releaseCampaign(id, origin, interval, DEFAULT_VALIDITY_MS.campaign);
        store.resumeSchedule(id, origin > now ? 'scheduled' : 'sending', origin, released, nowIso());
      });
      return api.get(id);
    },

    /** Stops the enqueue and expires every message of the campaign not sent yet. */
    cancel(id: number): Campaign & { expired: number } {
      const expired = atomicallyFirst(db, () => {
        const r = refresh(row(id));
        if (r.state === 'done' || r.state === 'cancelled') throw new CampaignError(`campaign ${id} is already ${r.state}`, 409);
        store.setState(id, 'cancelled', nowIso());
        return outbox.cancelCampaign(id, 'campaign cancelled');
      });
      return { ...api.get(id), expired };
    },

    results(id: number): Results {
      const r = refresh(row(id));
      return { campaign: toCampaign(r), ...campaignResults(store, r.id, r.schedule_origin_ms, r.started_at) };
    },

    /** The same figures per reminder rule. */
    reminderResults(): ReminderRuleResults[] {
      return reminderRuleResults(db);
    },
  };
  return api;
}

export type Campaigns = ReturnType<typeof createCampaigns>;

/** Counts, opt-outs after the campaign and conversions, from campaign_recipients, the outbox and the ledger. */
function campaignResults(store: CampaignStore, id: number, originMs: number | null, startedAt: string | null): Omit<Results, 'campaign'> {
  const outcomes = store.outcomes(id);
  const by = (o: string) => outcomes.find((x) => x.outcome === o)?.n ?? 0;
  const statuses = store.statuses(id);
  const st = (s: string) => statuses.find((x) => x.status === s)?.n ?? 0;
  const failedAfterSending = statuses.find((x) => x.status === 'failed')?.viaGateway ?? 0;
  const optedOutAfter = startedAt ? store.optedOutSince(id, startedAt) : 0;
  const reached = store.reached(id);
  const control = by('control');
  const from = originMs ?? 0;
  const comparison = control > 0 ? store.controlGroup(id) : store.notDelivered(id);
  const payments = store.paymentsSince(id, new Date(from).toISOString());

  return {
    counts: {
      audience: outcomes.reduce((n, o) => n + o.n, 0),
      control,
      optedOutBefore: by('opted-out'),
      rejected: by('rejected'),
      queued: by('queued'),
      waiting: st('queued') + st('sending'),
      sent: st('sent') + st('delivered') + failedAfterSending,
      delivered: st('delivered'),
      failed: st('failed'),
      expired: st('expired'),
    },
    optedOutAfter,
    conversions: conversions({
      reached,
      comparison: comparison.map((c) => ({ householdId: c.householdId, fromMs: from })),
      comparisonKind: control > 0 ? 'control' : 'not-reached',
      payments: payments.map((p) => ({ householdId: p.householdId, paidMs: Date.parse(p.paidAt) })),
    }),
  };
}
