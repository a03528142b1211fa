import { describe, expect, it } from 'vitest';
import { loadCatalogs } from '../../src/i18n/catalog.ts';
import type { ScreenData } from '../../src/ussd/render.ts';
import { numberWords } from '../../src/voice/numbers.ts';
import { speakScreen } from '../../src/voice/speech.ts';
import { escapeXml, response } from '../../src/voice/xml.ts';

const catalogs = loadCatalogs();
const say = (lang: 'fr' | 'bm', n: number) =>
  numberWords(lang, n)
    .map((k) => catalogs[lang].get(k)?.text)
    .join(' ');

describe('numbers spoken from recordable words', () => {
  it.each([
    [0, 'zéro'],
    [17, 'dix-sept'],
    [21, 'vingt et un'],
    [71, 'soixante et onze'],
    [75, 'soixante quinze'],
    [80, 'quatre-vingts'],
    [81, 'quatre-vingts un'],
    [99, 'quatre-vingts dix-neuf'],
    [100, 'cent'],
    [250, 'deux cent cinquante'],
    [1000, 'mille'],
    [1350, 'mille trois cent cinquante'],
    [2026, 'deux mille vingt six'],
    [999_999, 'neuf cent quatre-vingts dix-neuf mille neuf cent quatre-vingts dix-neuf'],
  ])('fr %i', (n, words) => expect(say('fr', n)).toBe(words));

  it.each([
    [11, 'tan ni kelen'],
    [25, 'mugan ni duuru'],
    [200, 'kèmè fila'],
    [1250, 'waa kelen ni kèmè fila ni biduuru'],
    [2026, 'waa fila ni mugan ni wòòrò'],
  ])('bm %i', (n, words) => expect(say('bm', n)).toBe(words));

  it('refuses what it cannot say', () => {
    expect(() => numberWords('fr', 1_000_000)).toThrow(RangeError);
    expect(() => numberWords('fr', -1)).toThrow(RangeError);
    expect(() => numberWords('fr', 1.5)).toThrow(RangeError);
  });
});

const screen = (over: Partial<ScreenData>): ScreenData => ({
  lang: 'fr',
  key: 'main.title',
  params: {},
  lines: null,
  choices: [],
  input: 'choice',
  end: false,
  error: null,
  back: false,
  home: false,
  ...over,
});

describe('the voice renderer', () => {
  it("never speaks a person's name: a parameter of kind name is left out of the fragments and the caption", () => {
    const p = speakScreen(
      catalogs,
      screen({
        key: 'coverage.active',
        params: { name: 'Awa <Traoré>', count: 5, until: '2026-05-31', remaining: 1250, month: '2026-06' },
        lines: { key: 'coverage.beneficiary', items: [{ name: 'Moussa Keïta', status: 'active' }] },
      }),
    );
    const spoken = `${p.caption} ${p.fragments.map((f) => f.text).join(' ')}`;
    expect(spoken).not.toMatch(/Awa|Traoré|Moussa|Keïta/);
    expect(p.caption).toBe("5 pers. Couvert jusqu'au 31/05/2026. Reste 1 250 FCFA pour juin. couvert.");
  });

  it('speaks amounts in FCFA, dates with their month and year, and choices as "pour …, tapez N"', () => {
    const p = speakScreen(
      catalogs,
      screen({
        key: 'contribute.quote.covered',
        params: { amount: 1250, fee: 100, bearer: 'member', total: 1350, until: '2026-05-31' },
        choices: [
          { value: 'confirm', labelKey: 'contribute.confirm', number: 1 },
          { value: 'cancel', labelKey: 'contribute.cancel', number: 2 },
        ],
      }),
    );
    expect(p.caption).toBe(
      "Somme: 1 250 FCFA. Frais: 100 FCFA, par vous. Total: 1 350 FCFA. Couvert jusqu'au 31/05/2026. Pour Confirmer, tapez 1. Pour Annuler, tapez 2.",
    );
    const text = p.fragments.map((f) => f.text).join(' ');
    expect(text).toContain('mille deux cent cinquante francs CFA');
    expect(text).toContain('cent francs CFA');
    expect(text).toContain('mille trois cent cinquante francs CFA');
    expect(text).toContain('trente et un mai deux mille vingt six');
    expect(p.collect).toBe('key');
    // Each piece of a message with placeholders is its own recording slot.
    expect(p.fragments[0]).toEqual({ slot: 'contribute.quote.covered@0', text: 'Somme:' });
  });

  it('asks for digits ended by # on a text screen, and speaks the error line first', () => {
    const p = speakScreen(
      catalogs,
      screen({
        key: 'contribute.enterAmount',
        params: { min: 100, max: 500000 },
        input: 'text',
        error: { key: 'contribute.amountRange', params: {} },
      }),
    );
    expect(p.collect).toBe('number');
    expect(p.caption).toMatch(
      /^Montant hors des limites\. Tapez le montant en chiffres\. Minimum 100 FCFA\. Maximum 500 000 FCFA\. Puis tapez dièse\.$/,
    );
  });

  it('speaks a data label (a district) for the synthetic voice only: it has no recording slot', () => {
    const p = speakScreen(catalogs, screen({ key: 'register.districts', choices: [{ value: 'Sikasso', label: 'Sikasso', number: 1 }] }));
    expect(p.fragments).toContainEqual({ slot: null, text: 'Sikasso' });
  });
});

describe('XML answers', () => {
  it('escape every text and attribute', () => {
    expect(escapeXml('a\ud800b\uffff\u{1F600}')).toBe('ab\u{1F600}');
    expect(escapeXml('Kati\tɔ\r\n\u{1F600}\ufffd\ud7ff\ue000')).toBe('Kati\tɔ\r\n\u{1F600}\ufffd\ud7ff\ue000');
    expect(escapeXml('a\ufffeb\udc00\u001f')).toBe('ab');
    expect(escapeXml(`<a href="x">Tom & Jerry's</a>\u0001`)).toBe('&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&apos;s&lt;/a&gt;');
    const xml = response([
      { say: 'Awa & <Fils>' },
      {
        getDigits: {
          prompt: { play: 'http://h/voice/audio/a.wav?key=a&b="c"' },
          timeoutSeconds: 10,
          numDigits: 1,
          callbackUrl: 'http://h/voice?step=1&key=k',
        },
      },
    ]);
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="woman" playBeep="false">Awa &amp; &lt;Fils&gt;</Say>' +
        '<GetDigits timeout="10" numDigits="1" callbackUrl="http://h/voice?step=1&amp;key=k"><Play url="http://h/voice/audio/a.wav?key=a&amp;b=&quot;c&quot;"/></GetDigits></Response>',
    );
  });
});
