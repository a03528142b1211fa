import { bamakoDay, type Clock } from '../clock.ts';
import type { CallbackStore } from '../db/callbacks.ts';
import type { ClaimStore } from '../db/claims.ts';
import type { Db } from '../db/connection.ts';
import type { HouseholdStore } from '../db/households.ts';
import { createInboundStore } from '../db/inbound.ts';
import type { PreferenceStore } from '../db/preferences.ts';
import { atomically } from '../db/transaction.ts';
import { coverageMessage, coverageView } from '../domain/coverage.ts';
import { type Catalogs, type Language, type Params, translate } from '../i18n/catalog.ts';
import { type Keyword, matchKeyword } from './keywords.ts';
import { type Outbox, SmsRejected } from './outbox.ts';

export interface InboundSms {
  /** The gateway's id: it retries until answered 200, so this is what deduplicates. */
  gatewayId: string;
  from: string;
  to?: string | undefined;
  text: string;
  linkId?: string | undefined;
  networkCode?: string | undefined;
  cost?: string | undefined;
  date?: string | undefined;
}

/**
 * Why a stored text got no answer: its sender already had SMS_REPLIES_PER_SENDER_PER_HOUR answers in
 * the last hour, is outside SMS_ALLOWED_COUNTRIES, or is no mobile number (a fixed line, a short code).
 */
export type UnansweredReason = 'rate_limited' | 'country' | 'recipient';

export type InboundOutcome =
  | { duplicate: true }
  | { duplicate: false; keyword: Keyword | null; registered: boolean; reply: number | null; unanswered: UnansweredReason | null };

const HOUR_MS = 3600_000;
/** A member's NON flags a visit recorded within this many days (the visit's SMS says to answer it). */
const DISPUTE_MS = 7 * 24 * HOUR_MS;

/** A stored text as the office reads it. */
export interface InboundRow {
  id: number;
  receivedAt: string;
  sender: string;
  text: string;
  keyword: Keyword | null;
  householdId: number | null;
  answered: boolean;
  unansweredReason: UnansweredReason | null;
}

export interface InboundDeps {
  db: Db;
  outbox: Outbox;
  households: HouseholdStore;
  preferences: PreferenceStore;
  callbacks: CallbackStore;
  /** The member's NON flags the household's latest visit recorded at a health facility. */
  claims: Pick<ClaimStore, 'disputeLatest'>;
  catalogs: Catalogs;
  clock: Clock;
  serviceCode: string;
  /** Answers to one sender in any hour (SMS_REPLIES_PER_SENDER_PER_HOUR). */
  repliesPerSenderPerHour: number;
}

/**
 * A member's text to UTM's number: a keyword is acted on and answered in the member's language;
 * anything else gets the help text and stays in `sms_inbound` for UTM's staff. Answers are
 * transactional (they go even after STOP: the member asked).
 *
 * Every text is stored, but a forged `from` must not make UTM pay: a sender gets at most
 * `repliesPerSenderPerHour` answers an hour, and none abroad. Beyond that a text only honours STOP and
 * START (they cost nothing) and is marked with why it was not answered.
 */
export function createInboundHandler(d: InboundDeps) {
  const texts = createInboundStore(d.db);

  return {
    /** The latest texts, newest first: one sender's, or those left unanswered, for UTM's staff. */
    recent(f: { sender?: string | undefined; unansweredOnly?: boolean; limit?: number } = {}): InboundRow[] {
      return texts.recent({ sender: f.sender ?? null, unansweredOnly: f.unansweredOnly ?? false, limit: f.limit ?? 200 }) as InboundRow[];
    },
    handle(msg: InboundSms): InboundOutcome {
      const now = d.clock.now();
      const match = matchKeyword(msg.text);
      const household = d.households.findByPhone(msg.from);
      const lang: Language = household?.language ?? d.preferences.callerLanguage(msg.from) ?? match?.lang ?? 'fr';
      const abroad = d.outbox.refusal(msg.from) === 'country';

      /** What the keyword does, and its answer's outbox id. */
      function act(keyword: Keyword | null, inboundId: number, answer: (key: string, params?: Params) => number | null): number | null {
        if (keyword === 'stop') {
          d.outbox.setOptOut(msg.from, true, 'sms');
          return answer('sms.stop');
        }
        if (keyword === 'start') {
          d.outbox.setOptOut(msg.from, false, 'sms');
          return answer('sms.start');
        }
        if (keyword === 'ambiguous') return answer('sms.which');
        if (keyword === 'callback') {
          const receipt = d.callbacks.ask(
            {
              requestKey: `sms:${msg.gatewayId}`,
              phone: msg.from,
              householdId: household?.id ?? null,
              reason: household ? 'other' : 'registration',
              channel: 'sms',
            },
            now,
          );
          return receipt.alreadyOpen
            ? answer('sms.callback.already', { since: receipt.requestedOn, date: receipt.callBy })
            : answer('sms.callback', { date: receipt.callBy });
        }
        if (!household) return answer('sms.join');
        if (keyword === 'dispute') {
          // With no recent visit to flag, NON is a word like any other: the help text.
          const flagged = d.claims.disputeLatest(household.id, new Date(now.getTime() - DISPUTE_MS), inboundId, now);
          return answer(flagged === null ? 'sms.help' : 'facility.sms.disputed');
        }
        if (keyword === 'coverage') {
          const rec = d.households.load(household.id);
          if (rec) {
            const m = coverageMessage(coverageView({ ...rec, adherentName: household.adherentName }, bamakoDay(now)));
            return answer(`sms.coverage.${m.status}`, m.params);
          }
        }
        return answer('sms.help');
      }

      return atomically(d.db, (): InboundOutcome => {
        const stored = texts.add({
          gatewayId: msg.gatewayId,
          from: msg.from,
          to: msg.to ?? null,
          text: msg.text,
          linkId: msg.linkId ?? null,
          networkCode: msg.networkCode ?? null,
          cost: msg.cost ?? null,
          date: msg.date ?? null,
          keyword: match?.keyword ?? null,
          householdId: household?.id ?? null,
          receivedAt: now.toISOString(),
        });
        if (stored === undefined) return { duplicate: true };

        let unanswered: UnansweredReason | null = null;
        /** Queues the answer; a sender we cannot text back (a fixed line, a short code) is kept unanswered. */
        const answer = (key: string, params: Params = {}): number | null => {
          try {
            const r = d.outbox.enqueue({
              to: msg.from,
              text: translate(d.catalogs, lang, key, { code: d.serviceCode, ...params }),
              lang,
              kind: 'transactional',
              sourceKey: `inbound:${msg.gatewayId}`,
            });
            return r.status === 'opted-out' ? null : r.id;
          } catch (err) {
            if (!(err instanceof SmsRejected)) throw err;
            unanswered = 'recipient';
            return null;
          }
        };

        let reply: number | null = null;
        const answeredLastHour = texts.answeredSince(msg.from, new Date(now.getTime() - HOUR_MS).toISOString());
        const silent = abroad ? 'country' : answeredLastHour >= d.repliesPerSenderPerHour ? 'rate_limited' : null;
        if (silent) {
          // STOP and START are honoured for any number: opting out must never depend on being a member, or on a limit.
          if (match?.keyword === 'stop' || match?.keyword === 'start') d.outbox.setOptOut(msg.from, match.keyword === 'stop', 'sms');
          unanswered = silent;
        } else {
          reply = act(match?.keyword ?? null, stored, answer);
        }
        texts.recordAnswer(stored, reply, unanswered);
        return { duplicate: false, keyword: match?.keyword ?? null, registered: household !== undefined, reply, unanswered };
      });
    },
  };
}

export type InboundHandler = ReturnType<typeof createInboundHandler>;
