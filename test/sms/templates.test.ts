/**
 * Golden texts of the SMS templates (`sms.*` in flows/messages): for each key, the params used and the
 * exact text each language sends, after folding to GSM-7 as the outbox does. A new `sms.*` key without
 * a golden entry fails; so does an entry whose key is gone.
 *
 * UPDATE_TRANSCRIPTS=1 rewrites fixtures/sms/templates.yaml from the catalogs (keeping the params of
 * existing entries, filling new placeholders with demo values), for review in the diff.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  isSmsKey,
  LANGUAGES,
  type Language,
  loadCatalogs,
  PARAM_KINDS,
  type ParamName,
  type ParamValue,
  paramsOf as paramsOfText,
  translate,
  WORST_CASE,
} from '../../src/i18n/catalog.ts';
import { type FoldMode, fold, smsEncoding } from '../../src/i18n/gsm7.ts';

const FILE = join(import.meta.dirname, '..', '..', 'fixtures', 'sms', 'templates.yaml');
const UPDATE = process.env.UPDATE_TRANSCRIPTS === '1';
/** The outbox folds with GSM_FOLD, `gsm7` by default: é è à ù stay, ç ê ô ɛ ɔ ɲ are folded. */
const FOLD: FoldMode = 'gsm7';

type Params = Record<string, ParamValue>;
type Golden = { params: Params } & Partial<Record<Language, string>>;

/** Demo values for a placeholder a golden entry does not give yet (update mode only). */
const DEMO: Record<(typeof PARAM_KINDS)[ParamName], ParamValue> = {
  money: 1250,
  date: '2026-03-10',
  month: '2026-05',
  status: 'active',
  channel: 'orange_money',
  bearer: 'member',
  care: 'consultation',
  name: 'Moussa Traoré',
  label: 'Mutuelle de Kléla',
  count: 5,
  code: '*384*123#',
  reference: 'MP260310.0912.A51234',
  phone: '+22376000001',
};

const catalogs = loadCatalogs();
/** Every SMS key (`sms.*`, `facility.sms.*`), in the order of the French catalog, then any only in Bambara. */
const KEYS = [...new Set(LANGUAGES.flatMap((lang) => [...catalogs[lang].keys()]))].filter(isSmsKey);

const kindOf = (name: string) => PARAM_KINDS[name as ParamName];
/** The params a key needs, in either language. */
const paramsOf = (key: string) => [...new Set(LANGUAGES.flatMap((lang) => paramsOfText(catalogs[lang].get(key)?.text ?? '')))];
/** A template as the outbox sends it. */
const render = (lang: Language, key: string, params: Params) => fold(translate(catalogs, lang, key, params), FOLD);

function readGoldens(): Record<string, Golden> {
  if (!existsSync(FILE)) return {};
  return (YAML.parse(readFileSync(FILE, 'utf8')) ?? {}) as Record<string, Golden>;
}

function writeGoldens(old: Record<string, Golden>): Record<string, Golden> {
  const out: Record<string, Golden> = {};
  for (const key of KEYS) {
    const params: Params = {};
    for (const name of paramsOf(key)) params[name] = old[key]?.params?.[name] ?? DEMO[kindOf(name)];
    const entry: Golden = { params };
    for (const lang of LANGUAGES) if (catalogs[lang].has(key)) entry[lang] = render(lang, key, params);
    out[key] = entry;
  }
  mkdirSync(dirname(FILE), { recursive: true });
  const header = [
    '# SMS templates exactly as sent (flows/messages, filled with `params`, folded to GSM-7).',
    '# Checked by test/sms/templates.test.ts; UPDATE_TRANSCRIPTS=1 rewrites the texts. Review the diff.',
    '',
  ].join('\n');
  writeFileSync(FILE, header + YAML.stringify(out, { lineWidth: 0 }));
  return out;
}

const goldens = UPDATE ? writeGoldens(readGoldens()) : readGoldens();

describe('SMS templates', () => {
  it('every SMS key has a golden entry, and every entry an SMS key', () => {
    expect(KEYS.length).toBeGreaterThan(0);
    expect(Object.keys(goldens).sort()).toEqual([...KEYS].sort());
  });

  for (const key of KEYS) {
    describe(key, () => {
      it('has params for exactly the placeholders it uses ({coverageCode} from `code`)', () => {
        const params = goldens[key]?.params ?? {};
        expect(Object.keys(params).sort()).toEqual(paramsOf(key).sort());
        for (const name of Object.keys(params)) expect(PARAM_KINDS, `{${name}} is a known placeholder`).toHaveProperty(name);
      });

      for (const lang of LANGUAGES) {
        it(`${lang}: sends the golden text, in one GSM-7 segment`, () => {
          const golden = goldens[key];
          expect(catalogs[lang].has(key), `${key} is in ${lang}.json`).toBe(true);
          expect(golden?.[lang], `a golden ${lang} text for ${key}`).toBeTypeOf('string');
          const text = render(lang, key, golden?.params ?? {});
          expect(text).toBe(golden?.[lang]);
          expect(smsEncoding(text)).toMatchObject({ encoding: 'GSM-7', segments: 1 });
        });

        it(`${lang}: stays in one segment with the longest values it may receive, in any month`, () => {
          const worst: Params = {};
          for (const name of paramsOf(key)) worst[name] = WORST_CASE[kindOf(name)];
          for (let m = 1; m <= 12; m++) {
            const params = 'month' in worst ? { ...worst, month: `2026-${String(m).padStart(2, '0')}` } : worst;
            const text = render(lang, key, params);
            expect(smsEncoding(text), text).toMatchObject({ encoding: 'GSM-7', segments: 1 });
          }
        });
      }
    });
  }
});
