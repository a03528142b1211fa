import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CARE_KINDS } from '../../src/domain/care.ts';
import {
  isSmsKey,
  type Kind,
  LABEL_MAX,
  loadCatalogs,
  NAME_MAX,
  type ParamValue,
  paramsFilled,
  translate,
  WORST_CASE,
} from '../../src/i18n/catalog.ts';
import { fold, septets } from '../../src/i18n/gsm7.ts';
import { cutUnits, keepUnitsWhole, wrap } from '../../src/i18n/narrow.ts';

const NO_KEYS = { choiceLines: new Set<number>(), footer: false };
const cut = (text: string) => cutUnits(text, NO_KEYS).map((u) => u.text);

/** Words of at most 17 letters, as a name appears once cut to its budget. */
const words = (max: number) =>
  fc.array(fc.stringMatching(/^[A-Za-zé]{1,17}$/), { minLength: 1, maxLength: 4 }).map((w) => w.join(' ').slice(0, max).trim() || 'A');
const day = fc
  .date({ min: new Date('2026-01-01'), max: new Date('2030-12-31'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));

/** Any values a message may be given, each of its kind. */
const values: fc.Arbitrary<Record<Kind, ParamValue>> = fc.record({
  ...(Object.fromEntries(Object.entries(WORST_CASE).map(([k, v]) => [k, fc.constant(v)])) as Record<Kind, fc.Arbitrary<ParamValue>>),
  money: fc.integer({ min: 0, max: 999_999 }),
  date: day,
  month: day.map((d) => d.slice(0, 7)),
  name: words(NAME_MAX),
  label: words(LABEL_MAX),
  count: fc.integer({ min: 0, max: 99 }),
  code: fc.constantFrom('*384*123#', '*384*123*1#', '*384*12345*99#'),
  care: fc.constantFrom(...CARE_KINDS),
});

describe('keepUnitsWhole', () => {
  it('breaks the line before an amount that a 20-column handset would cut, and nowhere else', () => {
    expect(keepUnitsWhole('Payez maintenant 1 250 FCFA')).toBe('Payez maintenant\n1 250 FCFA');
    // A date is one word: the wrap moves it whole.
    expect(keepUnitsWhole('Couverture finie le 31/12/2026.')).toBe('Couverture finie le 31/12/2026.');
    expect(keepUnitsWhole('Paiement de 1 250 FCFA annulé. Reçu 12 500 FCFA')).toBe('Paiement de\n1 250 FCFA annulé. Reçu 12 500 FCFA');
    expect(keepUnitsWhole('Reste 1 250 FCFA')).toBe('Reste 1 250 FCFA');
    expect(keepUnitsWhole('Rien à couper ici, même sur une ligne longue')).toBe('Rien à couper ici, même sur une ligne longue');
  });

  it('leaves nothing behind that changes what a later call finds (an amount on a line after a long one)', () => {
    const before = cut('Payez maintenant 1 250 FCFA');
    expect(keepUnitsWhole('Visite au CSCom de Kléla le 10/03/2026 pour Awa\nReste 1 250 FCFA')).toContain('Reste 1 250 FCFA');
    expect(cut('Payez maintenant 1 250 FCFA')).toEqual(before);
    expect(before).toEqual(['1 250 FCFA']);
  });

  it('leaves a unit whose word already starts a line as it is', () => {
    const stuck = 'Payez-maintenant-la-somme-de-1 250 FCFA';
    expect(keepUnitsWhole(stuck)).toBe(stuck);
  });

  it('lays every SMS of both catalogs out whole for any values, at the same length and cost, breaking only where needed', () => {
    const catalogs = loadCatalogs();
    const sms = [...catalogs.fr.keys()].filter(isSmsKey);
    expect(sms.length).toBeGreaterThan(20);
    fc.assert(
      fc.property(values, (v) => {
        for (const lang of ['fr', 'bm'] as const) {
          for (const key of sms) {
            const entry = catalogs[lang].get(key);
            if (!entry) continue;
            const text = fold(translate(catalogs, lang, key, paramsFilled(entry.text, v)));
            const laid = keepUnitsWhole(text);
            expect(cut(laid), `${lang} ${key}: ${laid}`).toEqual([]);
            expect(laid.length).toBe(text.length);
            expect(septets(laid)).toBe(septets(text));
            expect(laid.replace(/\n/g, ' ')).toBe(text.replace(/\n/g, ' '));
            // Each break it made is needed: a space there again, and the handset cuts an amount.
            for (let i = 0; i < laid.length; i++) {
              if (laid[i] === '\n' && text[i] === ' ') expect(cut(`${laid.slice(0, i)} ${laid.slice(i + 1)}`)).not.toEqual([]);
            }
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('without it, real values do cut amounts in the shipped SMS (what it is for)', () => {
    const catalogs = loadCatalogs();
    const text = fold(translate(catalogs, 'fr', 'sms.payment.expired', { amount: 1250, code: '*384*123#' }));
    expect(cut(text)).not.toEqual([]);
    expect(wrap(keepUnitsWhole(text)).map((l) => l.text)).toContain('1 250 FCFA non');
  });
});
