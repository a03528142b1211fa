import { bamakoDay, type Clock } from '../clock.ts';
import type { CallbackStore } from '../db/callbacks.ts';
import type { Db } from '../db/connection.ts';
import type { HouseholdStore } from '../db/households.ts';
import type { PreferenceStore } from '../db/preferences.ts';
import { coverageMessage, coverageView } from '../domain/coverage.ts';
import { translate, type Catalogs, type Language, type Params } from '../i18n/catalog.ts';
import { matchKeyword, type Keyword } from './keywords.ts';
import { SmsRejected, type Outbox } from './outbox.ts';

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

export type InboundOutcome =
  | { duplicate: true }
  | { duplicate: false; keyword: Keyword | null; registered: boolean; reply: number | null };

export interface InboundDeps {
  db: Db;
  outbox: Outbox;
  households: HouseholdStore;
  preferences: PreferenceStore;
  callbacks: CallbackStore;
  catalogs: Catalogs;
  clock: Clock;
  serviceCode: string;
}

/**
 * A member's text to UTM's number: a keyword is acted on and answered in the member's language;
 * anything else gets the help text and stays in `sms_inbound` for UTM's staff. Answers are
 * transactional (they go even after STOP: the member asked).
 */
export function createInboundHandler(d: InboundDeps) {
  const store = d.db.prepare(
    `INSERT INTO sms_inbound (gateway_id, sender, recipient, text, link_id, network_code, cost, date, keyword, household_id, received_at)
     VALUES (@gatewayId, @from, @to, @text, @linkId, @networkCode, @cost, @date, @keyword, @householdId, @receivedAt)
     ON CONFLICT (gateway_id) DO NOTHING`,
  );

  /** Queues the answer; a sender we cannot text back (a fixed line, a short code) is kept unanswered. */
  function answer(msg: InboundSms, lang: Language, key: string, params: Params = {}): number | null {
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
      if (err instanceof SmsRejected) return null;
      throw err;
    }
  }

  return {
    handle(msg: InboundSms): InboundOutcome {
      const now = d.clock.now();
      const match = matchKeyword(msg.text);
      const household = d.households.findByPhone(msg.from);
      const lang: Language = household?.language ?? d.preferences.callerLanguage(msg.from) ?? match?.lang ?? 'fr';

      return d.db.transaction((): InboundOutcome => {
        const stored = store.run({
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
        if (stored.changes === 0) return { duplicate: true };
        const done = (reply: number | null): InboundOutcome => ({
          duplicate: false,
          keyword: match?.keyword ?? null,
          registered: household !== undefined,
          reply,
        });

        // STOP and START are honoured for any number: opting out must never depend on being a member.
        if (match?.keyword === 'stop') {
          d.outbox.setOptOut(msg.from, true, 'sms');
          return done(answer(msg, lang, 'sms.stop'));
        }
        if (match?.keyword === 'start') {
          d.outbox.setOptOut(msg.from, false, 'sms');
          return done(answer(msg, lang, 'sms.start'));
        }
        if (match?.keyword === 'callback') {
          const receipt = d.callbacks.ask(
            { requestKey: `sms:${msg.gatewayId}`, phone: msg.from, householdId: household?.id ?? null, reason: household ? 'other' : 'registration', channel: 'sms' },
            now,
          );
          return done(receipt.alreadyOpen
            ? answer(msg, lang, 'sms.callback.already', { since: receipt.requestedOn, date: receipt.callBy })
            : answer(msg, lang, 'sms.callback', { date: receipt.callBy }));
        }
        if (!household) return done(answer(msg, lang, 'sms.join'));
        if (match?.keyword === 'coverage') {
          const rec = d.households.load(household.id);
          if (rec) {
            const m = coverageMessage(coverageView({ ...rec, adherentName: household.adherentName }, bamakoDay(now)));
            return done(answer(msg, lang, `sms.coverage.${m.status}`, m.params));
          }
        }
        return done(answer(msg, lang, 'sms.help'));
      })();
    },
  };
}

export type InboundHandler = ReturnType<typeof createInboundHandler>;
