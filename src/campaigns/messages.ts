/**
 * What each member of a campaign is sent: the message of the member's language (or the fallback's),
 * its placeholders filled from the member's household and coverage, folded as the outbox folds; and
 * who is held out as the control group. Preview, test sends and the send all read members through
 * `campaignReader`, so they decide alike.
 */
import type { CampaignRow } from '../db/campaigns.ts';
import type { Db } from '../db/connection.ts';
import { LANGUAGES, type Language } from '../i18n/catalog.ts';
import { formatDate, formatMoney } from '../i18n/format.ts';
import type { NewSms, Outbox } from '../sms/outbox.ts';
import { type AudienceFilter, createAudienceReader, type Member } from './audience.ts';
import { compile, type PlaceholderValues } from './render.ts';

/** Distinct names a send keeps folded. */
const VALUE_MEMO = 20_000;
/** Distinct sets of values whose message a preview or a send keeps rendered. */
const TEXT_MEMO = 20_000;

/** The first name: the name's first run of non-spaces (as trimming and splitting at spaces, without the copies). */
const FIRST_WORD = /\S+/;

export interface CampaignMessageDeps {
  db: Db;
  outbox: Outbox;
  serviceCode: string;
}

/** A stable draw in [0, 1) per campaign and household: the same members are held out by preview and send. */
export function controlDraw(campaignId: number, householdId: number): number {
  let h = Math.imul(campaignId ^ 0x9e3779b9, 0x85ebca6b) ^ householdId;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

/** The message of a member's language, or the fallback's; null when neither (refused at creation). */
export function messageFor(
  r: CampaignRow,
  messages: Partial<Record<Language, string>>,
  lang: Language,
): { lang: Language; template: string } | null {
  const own = messages[lang];
  if (own) return { lang, template: own };
  const fb = r.fallback_language;
  return fb && messages[fb] ? { lang: fb, template: messages[fb] as string } : null;
}

/**
 * A campaign's members share few first names, mutuelles, amounts and dates: each is formatted
 * and folded (as the outbox folds) once, so that the messages come out folded. Each memo is
 * bounded, as a huge audience has many distinct names.
 */
export function valueFormatter(outbox: Outbox, serviceCode: string) {
  const money = new Map<number, string>();
  const dates = new Map<string, string>();
  const folded = new Map<string, string>();
  const foldOnce = (text: string) => {
    let f = folded.get(text);
    if (f === undefined) {
      if (folded.size >= VALUE_MEMO) folded.clear();
      folded.set(text, (f = outbox.fold(text)));
    }
    return f;
  };
  const code = outbox.fold(serviceCode);
  return (m: Member): PlaceholderValues => {
    let due = money.get(m.remaining);
    if (due === undefined) money.set(m.remaining, (due = outbox.fold(formatMoney(m.remaining))));
    let until = m.paidThrough ? dates.get(m.paidThrough) : '-';
    if (until === undefined) dates.set(m.paidThrough as string, (until = outbox.fold(formatDate(m.paidThrough as string))));
    return {
      prenom: foldOnce(FIRST_WORD.exec(m.adherentName)?.[0] ?? ''),
      mutuelle: foldOnce(m.mutuelleName),
      montant_du: due,
      couvert_jusqu_au: until,
      code_ussd: code,
    };
  };
}

/** A message's rendered texts by first name, mutuelle, amount due and paid-through date. */
type RenderedTexts = Map<string, Map<string, Map<string, Map<string, string>>>>;
interface Compiled {
  lang: Language;
  render: (v: PlaceholderValues) => string;
  texts: RenderedTexts;
}

/** The map under `key`, made empty the first time. */
function below<T>(map: Map<string, Map<string, T>>, key: string): Map<string, T> {
  let m = map.get(key);
  if (m === undefined) map.set(key, (m = new Map<string, T>()));
  return m;
}

export function campaignReader(d: CampaignMessageDeps, r: CampaignRow, today: string) {
  const { db, outbox } = d;
  const messages = JSON.parse(r.messages) as Partial<Record<Language, string>>;
  const filter = JSON.parse(r.audience) as AudienceFilter;
  const usesCoverage = Object.values(messages).some((t) => /\{(montant_du|couvert_jusqu_au)\}/.test(t ?? ''));
  const reader = createAudienceReader(db, {
    filter,
    phoneListOf: r.phone_list > 0 ? r.id : undefined,
    today,
    needsCoverage: usesCoverage || filter.statuses !== undefined,
  });
  const values = valueFormatter(outbox, d.serviceCode);
  const compiled = new Map(
    LANGUAGES.flatMap((l) => {
      const msg = messageFor(r, messages, l);
      return msg ? [[l, { lang: msg.lang, render: compile(outbox.fold(msg.template)), texts: new Map() as RenderedTexts }] as const] : [];
    }),
  );
  /**
   * Each distinct set of values is rendered once (members share first names, mutuelles, amounts
   * and dates): a member whose values were seen gets the same string, which the outbox's memo of
   * checked texts then finds at once. Looked up value by value: the values are the formatter's
   * own strings, so each lookup is cheap. Bounded, as a huge audience has many distinct names.
   */
  let rendered = 0;
  const textOf = (msg: Compiled, v: PlaceholderValues): string => {
    if (rendered >= TEXT_MEMO) {
      for (const c of compiled.values()) c.texts.clear();
      rendered = 0;
    }
    const byUntil = below(below(below(msg.texts, v.prenom), v.mutuelle), v.montant_du);
    let text = byUntil.get(v.couvert_jusqu_au);
    if (text === undefined) {
      byUntil.set(v.couvert_jusqu_au, (text = msg.render(v)));
      rendered++;
    }
    return text;
  };
  /** What a member is sent (null: held out as control). */
  const smsFor = (m: Member): NewSms | null => {
    if (r.control_share > 0 && controlDraw(r.id, m.householdId) < r.control_share) return null;
    const msg = compiled.get(m.language) as Compiled;
    return { to: m.phone, text: textOf(msg, values(m)), lang: msg.lang, kind: 'campaign', campaignId: r.id };
  };
  return { reader, smsFor, check: outbox.checker() };
}

export type CampaignReader = ReturnType<typeof campaignReader>;
