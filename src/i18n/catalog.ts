import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatDate, formatMoney } from './format.ts';

export const LANGUAGES = ['fr', 'bm'] as const;
export type Language = (typeof LANGUAGES)[number];

export function isLanguage(v: unknown): v is Language {
  return v === 'fr' || v === 'bm';
}

/** A Bambara string stays `pending` until a native speaker at UTM has read it. */
export type ReviewStatus = 'pending' | 'reviewed';

export interface Entry {
  text: string;
  review?: ReviewStatus;
  /** Why a Bambara term is doubtful (a guess, a word that means something else), for the reviewer. */
  doubt?: string;
}

export type Catalog = ReadonlyMap<string, Entry>;
export type Catalogs = Record<Language, Catalog>;

export type ParamValue = string | number;
export type Params = Readonly<Record<string, ParamValue>>;

/**
 * Placeholders are typed by their name, so flows pass raw values (integer FCFA, 'YYYY-MM-DD', a
 * status) and each channel decides how to say them. `worst` is the longest value a screen may
 * receive: `flows check` renders every screen with it.
 */
export const PARAM_KINDS = {
  amount: 'money',
  due: 'money',
  remaining: 'money',
  credit: 'money',
  contribution: 'money',
  monthly: 'money',
  subsidised: 'money',
  joiningFee: 'money',
  fee: 'money',
  needed: 'money',
  total: 'money',
  min: 'money',
  max: 'money',
  bearer: 'bearer',
  date: 'date',
  until: 'date',
  since: 'date',
  from: 'date',
  by: 'date',
  month: 'month',
  status: 'status',
  channel: 'channel',
  name: 'name',
  district: 'label',
  mutuelle: 'label',
  facility: 'label',
  care: 'care',
  count: 'count',
  percent: 'count',
  days: 'count',
  code: 'code',
  coverageCode: 'code',
  reference: 'reference',
  phone: 'phone',
} as const;

export type ParamName = keyof typeof PARAM_KINDS;
export type Kind = (typeof PARAM_KINDS)[ParamName];

/** A member's name is cut to this many characters on a screen; the name of a place or a mutuelle to LABEL_MAX. */
export const NAME_MAX = 20;
export const LABEL_MAX = 40;

export const WORST_CASE: Record<Kind, ParamValue> = {
  // Screens assume amounts below a million FCFA; contribution amounts are capped below that.
  money: 999_999,
  date: '2026-12-31',
  month: '2026-09',
  status: 'inactive',
  channel: 'orange_money',
  bearer: 'member',
  care: 'hospitalisation',
  name: 'W'.repeat(NAME_MAX),
  label: 'W'.repeat(LABEL_MAX),
  count: 99,
  code: '*384*123*99#',
  reference: 'MP261124.1234.A12345',
  phone: '+22376000000',
};

function isParamName(name: string): name is ParamName {
  return Object.hasOwn(PARAM_KINDS, name);
}

const PLACEHOLDER = /\{([a-zA-Z]+)\}/g;

export function placeholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

/** The params a text must be given: its placeholders, with {coverageCode} given as `code`. */
export function paramsOf(text: string): ParamName[] {
  return [...new Set(placeholders(text).map((name) => (name === 'coverageCode' ? 'code' : name)))].filter(isParamName);
}

/** The params `text` needs, each given the value of its kind in `values` (worst case, sample…). */
export function paramsFilled(text: string, values: Record<Kind, ParamValue>): Params {
  return Object.fromEntries(paramsOf(text).map((name) => [name, values[PARAM_KINDS[name]]]));
}

/** An SMS template: `sms.*`, or an SMS a part of the service sends under its own prefix (`facility.sms.*`). */
export function isSmsKey(key: string): boolean {
  return key.startsWith('sms.') || key.includes('.sms.');
}

export class MissingMessageError extends Error {}

export function loadCatalogs(dir: string = fileURLToPath(new URL('../../flows/messages/', import.meta.url))): Catalogs {
  const read = (lang: Language): Catalog => {
    const raw = JSON.parse(readFileSync(`${dir}/${lang}.json`, 'utf8')) as Record<string, string | Entry>;
    return new Map(
      Object.entries(raw)
        .filter(([k]) => !k.startsWith('$'))
        .map(([k, v]) => [k, typeof v === 'string' ? { text: v } : v]),
    );
  };
  return { fr: read('fr'), bm: read('bm') };
}

/** Each message with placeholders cut once into its text and placeholder names (at odd indexes). */
const pieces = new WeakMap<Entry, string[]>();

/**
 * Looks up and fills a message. A missing key is an error, never a silent fallback. `base`: parameters
 * any message may use (the service code), under `params`.
 */
export function translate(catalogs: Catalogs, lang: Language, key: string, params: Params = {}, base?: Params): string {
  const entry = catalogs[lang].get(key);
  if (!entry) throw new MissingMessageError(`no message "${key}" in ${lang}.json`);
  if (!entry.text.includes('{')) return entry.text;
  let cut = pieces.get(entry);
  if (!cut) pieces.set(entry, (cut = entry.text.split(PLACEHOLDER)));
  let out = cut[0] as string;
  for (let i = 1; i < cut.length; i += 2) {
    const name = cut[i] as string;
    const code = params.code ?? base?.code;
    const value =
      name === 'coverageCode' ? (code === undefined ? undefined : coverageShortcut(String(code))) : (params[name] ?? base?.[name]);
    if (value === undefined || !isParamName(name)) throw new MissingMessageError(`message "${key}" needs {${name}}`);
    out += formatParam(catalogs, lang, PARAM_KINDS[name], value) + (cut[i + 1] as string);
  }
  return out;
}

/**
 * The coverage shortcut taught in receipts and help: the service code with the coverage choice
 * (`1`) dialled along (`*384*123#` → `*384*123*1#`), derived so the two can never disagree.
 */
export function coverageShortcut(serviceCode: string): string {
  return serviceCode.replace(/#$/, '*1#');
}

function cut(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1).trimEnd()}.` : s;
}

function formatParam(catalogs: Catalogs, lang: Language, kind: Kind, value: ParamValue): string {
  switch (kind) {
    case 'money':
      return formatMoney(Number(value));
    case 'date':
      return formatDate(String(value));
    case 'month':
      return translate(catalogs, lang, `month.${String(value).slice(5, 7)}`);
    case 'status':
      return translate(catalogs, lang, `status.${value}`);
    case 'channel':
      return translate(catalogs, lang, `channel.${value}`);
    case 'bearer':
      return translate(catalogs, lang, `bearer.${value}`);
    case 'care':
      return translate(catalogs, lang, `facility.care.${value}`);
    case 'name':
      return cut(String(value), NAME_MAX);
    case 'label':
      return cut(String(value), LABEL_MAX);
    case 'count':
    case 'code':
    case 'reference':
    case 'phone':
      return String(value);
  }
}
