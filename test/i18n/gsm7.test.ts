import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FoldMode, fold, isGsm7, septets, smsEncoding, unfoldable } from '../../src/i18n/gsm7.ts';

// The GSM 03.38 tables, written out again from the reference, row by row.
const BASIC_ROWS = [
  ['@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å'],
  ['Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', 'Æ', 'æ', 'ß', 'É'],
  [' ', '!', '"', '#', '¤', '%', '&', "'", '(', ')', '*', '+', ',', '-', '.', '/'],
  [...'0123456789:;<=>?'],
  ['¡', ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'Ä', 'Ö', 'Ñ', 'Ü', '§'],
  ['¿', ...'abcdefghijklmnopqrstuvwxyz', 'ä', 'ö', 'ñ', 'ü', 'à'],
];
const BASIC = BASIC_ROWS.flat();
const EXTENSION = ['^', '{', '}', '\\', '[', '~', ']', '|', '€', '\f'];
const GSM = [...BASIC, ...EXTENSION];

const nfd = (s: string): string => s.normalize('NFD');
const weight = (c: string): number => (EXTENSION.includes(c) ? 2 : 1);

describe('the GSM 03.38 tables', () => {
  it('has 127 basic characters and 10 extension characters', () => {
    expect(new Set(BASIC).size).toBe(127);
    expect(new Set(EXTENSION).size).toBe(10);
  });

  it.each(BASIC.map((c) => [JSON.stringify(c), c]))('basic %s is GSM-7 and counts 1 septet', (_, c) => {
    expect(isGsm7(c)).toBe(true);
    expect(septets(c)).toBe(1);
  });

  it.each(EXTENSION.map((c) => [JSON.stringify(c), c]))('extension %s is GSM-7 and counts 2 septets', (_, c) => {
    expect(isGsm7(c)).toBe(true);
    expect(septets(c)).toBe(2);
  });

  it('knows nothing else in Latin-1, General Punctuation or Greek', () => {
    const others: string[] = [];
    for (let cp = 0; cp < 0x2100; cp++) {
      const c = String.fromCharCode(cp);
      if (!GSM.includes(c) && isGsm7(c)) others.push(c);
    }
    expect(others).toEqual([]);
  });

  it.each([
    'ç',
    'ê',
    'â',
    'î',
    'ô',
    'û',
    'ë',
    'ï',
    'ÿ',
    'œ',
    'À',
    'È',
    'Ê',
    'Î',
    'Ô',
    'Û',
    'ó',
    'á',
    '’',
    '‘',
    '“',
    '”',
    '«',
    '»',
    '…',
    '\u00A0',
    '\u202F',
    '\t',
    '`',
    'ɛ',
    'Ɛ',
    'ɔ',
    'Ɔ',
    'ɲ',
    'Ɲ',
    'ŋ',
    'Ŋ',
    '\u0300',
    '\u0301',
    'δ',
    '😀',
  ])('%s is not GSM-7', (c) => {
    expect(isGsm7(c)).toBe(false);
    expect(isGsm7(`abc${c}def`)).toBe(false);
    expect(() => septets(c)).toThrow(/not GSM-7/);
  });

  it('accepts the empty string', () => {
    expect(isGsm7('')).toBe(true);
    expect(septets('')).toBe(0);
  });
});

describe('fold', () => {
  // [input, gsm7 mode, ascii mode]: every mapping of the reference table.
  const TABLE: Array<[string, string, string]> = [
    ['ç', 'c', 'c'],
    ['ê', 'e', 'e'],
    ['ë', 'e', 'e'],
    ['â', 'a', 'a'],
    ['î', 'i', 'i'],
    ['ï', 'i', 'i'],
    ['ô', 'o', 'o'],
    ['û', 'u', 'u'],
    ['ÿ', 'y', 'y'],
    ['œ', 'oe', 'oe'],
    ['Œ', 'OE', 'OE'],
    ['À', 'A', 'A'],
    ['Â', 'A', 'A'],
    ['È', 'E', 'E'],
    ['Ê', 'E', 'E'],
    ['Ë', 'E', 'E'],
    ['Î', 'I', 'I'],
    ['Ï', 'I', 'I'],
    ['Ô', 'O', 'O'],
    ['Û', 'U', 'U'],
    ['Ù', 'U', 'U'],
    ['Ÿ', 'Y', 'Y'],
    ['\u2019', "'", "'"],
    ['\u2018', "'", "'"],
    ['\u201A', "'", "'"],
    ['\u2032', "'", "'"],
    ['`', "'", "'"],
    ['\u201C', '"', '"'],
    ['\u201D', '"', '"'],
    ['\u00AB', '"', '"'],
    ['\u00BB', '"', '"'],
    ['\u201E', '"', '"'],
    ['\u2026', '...', '...'],
    ['\u2013', '-', '-'],
    ['\u2014', '-', '-'],
    ['\u2212', '-', '-'],
    ['\u00A0', ' ', ' '],
    ['\u202F', ' ', ' '],
    ['\u2009', ' ', ' '],
    ['\u2002', ' ', ' '],
    ['\u3000', ' ', ' '],
    ['\t', ' ', ' '],
    ['\u200B', '', ''],
    ['\u00AD', '', ''],
    ['\uFEFF', '', ''],
    ['ɛ', 'è', 'e'],
    ['Ɛ', 'E', 'E'],
    ['ɔ', 'ò', 'o'],
    ['Ɔ', 'O', 'O'],
    ['ɲ', 'ny', 'ny'],
    ['Ɲ', 'Ny', 'Ny'],
    ['ŋ', 'ng', 'ng'],
    ['Ŋ', 'Ng', 'Ng'],
    // Letters with a diacritic that are not in the table fold to their base letter.
    ['ó', 'o', 'o'],
    ['á', 'a', 'a'],
    ['í', 'i', 'i'],
    ['ú', 'u', 'u'],
    ['ý', 'y', 'y'],
    ['ã', 'a', 'a'],
    ['ǹ', 'n', 'n'],
    ['ń', 'n', 'n'],
    ['ě', 'e', 'e'],
    ['ē', 'e', 'e'],
    ['Ó', 'O', 'O'],
    ['Ò', 'O', 'O'],
    ['Ì', 'I', 'I'],
    ['Á', 'A', 'A'],
    ['Ã', 'A', 'A'],
    ['Ž', 'Z', 'Z'],
    ['Ş', 'S', 'S'],
    ['İ', 'I', 'I'],
    ['ł', 'l', 'l'],
    ['đ', 'd', 'd'],
    ['ɗ', 'd', 'd'],
    ['Ɓ', 'B', 'B'],
    ['ƴ', 'y', 'y'],
    // Compatibility forms.
    ['ﬁ', 'fi', 'fi'],
    ['½', '1/2', '1/2'],
    ['²', '2', '2'],
    ['Ｆ', 'F', 'F'],
    ['™', 'TM', 'TM'],
  ];

  it.each(TABLE)('%j → %j (gsm7), %j (ascii)', (input, gsm7, ascii) => {
    expect(fold(input)).toBe(gsm7);
    expect(fold(input, 'gsm7')).toBe(gsm7);
    expect(fold(input, 'ascii')).toBe(ascii);
  });

  it.each(TABLE.filter(([input]) => nfd(input) !== input))('decomposed %j folds like the precomposed form', (input, gsm7, ascii) => {
    expect(fold(nfd(input))).toBe(gsm7);
    expect(fold(nfd(input), 'ascii')).toBe(ascii);
  });

  // GSM letters with a diacritic: kept in gsm7 mode, folded to the base letter in ascii mode.
  const GSM_ACCENTED: Array<[string, string]> = [
    ['é', 'e'],
    ['è', 'e'],
    ['à', 'a'],
    ['ù', 'u'],
    ['ì', 'i'],
    ['ò', 'o'],
    ['É', 'E'],
    ['Ç', 'C'],
    ['Ä', 'A'],
    ['Ö', 'O'],
    ['Ñ', 'N'],
    ['Ü', 'U'],
    ['ä', 'a'],
    ['ö', 'o'],
    ['ñ', 'n'],
    ['ü', 'u'],
    ['å', 'a'],
    ['Å', 'A'],
    ['Ø', 'O'],
    ['ø', 'o'],
  ];

  it.each(GSM_ACCENTED)('%s stays in gsm7 mode and becomes %s in ascii mode', (input, ascii) => {
    expect(fold(input)).toBe(input);
    expect(fold(input, 'ascii')).toBe(ascii);
  });

  it.each(GSM_ACCENTED.filter(([input]) => nfd(input) !== input))('decomposed %s composes back to the GSM letter', (input, ascii) => {
    expect(nfd(input)).toHaveLength(2);
    expect(fold(nfd(input))).toBe(input);
    expect(fold(nfd(input), 'ascii')).toBe(ascii);
  });

  it('keeps the non-letter GSM characters and Æ æ ß in ascii mode', () => {
    const kept = '£$¥¤§¡¿@_ΔΦΓΛΩΠΨΣΘΞÆæß€^{}[]~|\\\f\n\r';
    expect(fold(kept, 'ascii')).toBe(kept);
  });

  describe('tone marks and combining sequences', () => {
    const CASES: Array<[string, string, string, string]> = [
      ['e + acute', 'e\u0301', 'é', 'e'],
      ['e + grave', 'e\u0300', 'è', 'e'],
      ['E + acute', 'E\u0301', 'É', 'E'],
      ['a + grave', 'a\u0300', 'à', 'a'],
      ['c + cedilla', 'c\u0327', 'c', 'c'],
      ['C + cedilla', 'C\u0327', 'Ç', 'C'],
      ['o + acute', 'o\u0301', 'o', 'o'],
      ['o + circumflex', 'o\u0302', 'o', 'o'],
      ['ɛ + grave', 'ɛ\u0300', 'è', 'e'],
      ['ɛ + acute', 'ɛ\u0301', 'è', 'e'],
      ['Ɛ + grave', 'Ɛ\u0300', 'E', 'E'],
      ['ɔ + acute', 'ɔ\u0301', 'ò', 'o'],
      ['ɔ + caron', 'ɔ\u030C', 'ò', 'o'],
      ['Ɔ + grave', 'Ɔ\u0300', 'O', 'O'],
      ['ɲ + grave', 'ɲ\u0300', 'ny', 'ny'],
      ['ŋ + acute', 'ŋ\u0301', 'ng', 'ng'],
      ['n + grave (precomposed ǹ decomposed)', 'n\u0300', 'n', 'n'],
      ['u + diaeresis + acute', 'u\u0308\u0301', 'ü', 'u'],
      ['precomposed ǘ', 'ǘ', 'ü', 'u'],
      ['è + acute (two tones)', 'è\u0301', 'è', 'e'],
      ['e + grave + acute', 'e\u0300\u0301', 'è', 'e'],
      ['e + dot below + acute', 'e\u0323\u0301', 'e', 'e'],
      ['ɛ + two marks', 'ɛ\u0300\u0301', 'è', 'e'],
      ['marks at the start are dropped', '\u0301\u0300abc', 'abc', 'abc'],
      ['digit + mark', '3\u0301', '3', '3'],
      ['keycap #', '#\uFE0F\u20E3', '#', '#'],
    ];

    it.each(CASES)('%s', (_, input, gsm7, ascii) => {
      expect(fold(input)).toBe(gsm7);
      expect(fold(input, 'ascii')).toBe(ascii);
      expect(fold(input.normalize('NFC'))).toBe(gsm7);
      expect(fold(nfd(input))).toBe(gsm7);
    });
  });

  describe('sentences', () => {
    const SENTENCES: Array<[string, string, string]> = [
      [
        'Votre cotisation reçue: 3\u00A0000 FCFA. Couvert jusqu’au 31/12/2026 « merci »…',
        'Votre cotisation recue: 3 000 FCFA. Couvert jusqu\'au 31/12/2026 " merci "...',
        'Votre cotisation recue: 3 000 FCFA. Couvert jusqu\'au 31/12/2026 " merci "...',
      ],
      [
        'Frais\u202F: 150 FCFA – total à payer\u202F: 3\u202F150 FCFA. Réessayez ?',
        'Frais : 150 FCFA - total à payer : 3 150 FCFA. Réessayez ?',
        'Frais : 150 FCFA - total a payer : 3 150 FCFA. Reessayez ?',
      ],
      [
        'Êtes-vous sûr ? Ça coûte 500 FCFA. Numéro de téléphone, cœur, Noël, maïs, où, déjà',
        'Etes-vous sur ? Ça coute 500 FCFA. Numéro de téléphone, coeur, Noel, mais, où, déjà',
        'Etes-vous sur ? Ca coute 500 FCFA. Numero de telephone, coeur, Noel, mais, ou, deja',
      ],
      ['Aw bisimila', 'Aw bisimila', 'Aw bisimila'],
      ['I ka kɛnɛya tɔn', 'I ka kènèya tòn', 'I ka keneya ton'],
      ['ɲɛ fɔlɔ', 'nyè fòlò', 'nye folo'],
      ['Ɲɛ', 'Nyè', 'Nye'],
      ['ŋ', 'ng', 'ng'],
      ['Ɔwɔ / Ayi', 'Owò / Ayi', 'Owo / Ayi'],
      [
        'dɔgɔtɔrɔso, tɔnden, sɛmɛntiya, kɔsegin, dɛmɛ',
        'dògòtòròso, tònden, sèmèntiya, kòsegin, dèmè',
        'dogotoroso, tonden, sementiya, kosegin, deme',
      ],
      ['an bɛna i wele', 'an bèna i wele', 'an bena i wele'],
      // Tone-marked Bambara (marks dropped).
      ['À bɛ̀ sàn kɔ́nɔ', 'A bè sàn kònò', 'A be san kono'],
    ];

    it.each(SENTENCES)('%j', (input, gsm7, ascii) => {
      expect(fold(input)).toBe(gsm7);
      expect(fold(input, 'ascii')).toBe(ascii);
      expect(fold(nfd(input))).toBe(gsm7);
      expect(fold(nfd(input), 'ascii')).toBe(ascii);
      expect(isGsm7(gsm7)).toBe(true);
      expect(unfoldable(input)).toEqual([]);
    });
  });

  it('returns text that is already GSM-7 unchanged', () => {
    const text = 'CON Choisissez:\n1. Couverture\n2. Payer\n0. Retour\n00. Menu €5 {x} [y] ~ | ^ \\';
    expect(fold(text)).toBe(text);
    expect(fold('')).toBe('');
    expect(fold('', 'ascii')).toBe('');
  });

  it('leaves characters it cannot fold as they are, with their marks', () => {
    expect(fold('Prix: 5 000 FCFA 😀 merci')).toBe('Prix: 5 000 FCFA 😀 merci');
    expect(fold('中文 ça')).toBe('中文 ca');
    expect(fold('й')).toBe('й');
    expect(fold('а\u0301')).toBe('а\u0301'); // Cyrillic a + acute
    expect(fold('👍🏽 👨\u200D👩\u200D👧')).toBe('👍🏽 👨\u200D👩\u200D👧');
  });
});

describe('unfoldable', () => {
  it.each<[string, FoldMode, string[]]>([
    ['', 'gsm7', []],
    ['Aw bisimila ɲɛ fɔlɔ « ok »…', 'gsm7', []],
    ['Aw bisimila ɲɛ fɔlɔ « ok »…', 'ascii', []],
    ['ok 😀 ok 😀 中', 'gsm7', ['😀', '中']],
    ['Ελλάδα', 'gsm7', ['Ε', 'λ', 'ά', 'δ', 'α']],
    ['₩ ok ₩', 'ascii', ['₩']],
  ])('%j (%s) → %j', (input, mode, expected) => {
    expect(unfoldable(input, mode)).toEqual(expected);
  });

  it('defaults to gsm7 mode', () => {
    expect(unfoldable('café ɛ')).toEqual([]);
    expect(unfoldable('° ✓')).toEqual(['°', '✓']);
  });
});

describe('septets', () => {
  it.each<[string, number]>([
    ['', 0],
    ['a', 1],
    ['Aw bisimila', 11],
    ['€', 2],
    ['5 €', 4],
    ['{}[]~|^\\\f', 18],
    ['\r\n', 2],
    ['éèàÇ', 4],
  ])('%j → %i', (text, expected) => {
    expect(septets(text)).toBe(expected);
  });

  it('throws on text that is not GSM-7, naming the character', () => {
    expect(() => septets('reçu')).toThrow(/U\+00E7 at index 2/);
    expect(() => septets('ok 😀')).toThrow(/U\+1F600/);
  });
});

describe('smsEncoding', () => {
  const a = (n: number): string => 'a'.repeat(n);
  const euro = (n: number): string => '€'.repeat(n);

  it.each<[string, string, number, number, number]>([
    ['empty', '', 0, 1, 160],
    ['1 char', a(1), 1, 1, 160],
    ['160 chars', a(160), 160, 1, 160],
    ['161 chars', a(161), 161, 2, 153],
    ['306 chars (2×153)', a(306), 306, 2, 153],
    ['307 chars', a(307), 307, 3, 153],
    ['459 chars (3×153)', a(459), 459, 3, 153],
    ['460 chars', a(460), 460, 4, 153],
    ['1530 chars (10×153)', a(1530), 1530, 10, 153],
    ['1531 chars', a(1531), 1531, 11, 153],
    ['80 € = 160 septets', euro(80), 160, 1, 160],
    ['159 + € = 161 septets', `${a(159)}€`, 161, 2, 153],
    ['81 € = 162 septets', euro(81), 162, 2, 153],
    ['€ never split: 152 + € + 152 = 306 septets', `${a(152)}€${a(152)}`, 306, 3, 153],
    ['151 + € + 153 = 306 septets', `${a(151)}€${a(153)}`, 306, 2, 153],
  ])('GSM-7 %s', (_, text, units, segments, perSegment) => {
    expect(smsEncoding(text)).toEqual({ encoding: 'GSM-7', units, segments, perSegment });
  });

  const o = (n: number): string => 'ó'.repeat(n);
  it.each<[string, string, number, number, number]>([
    ['1 char', 'ó', 1, 1, 70],
    ['70 chars', o(70), 70, 1, 70],
    ['71 chars', o(71), 71, 2, 67],
    ['134 chars (2×67)', o(134), 134, 2, 67],
    ['135 chars', o(135), 135, 3, 67],
    ['201 chars (3×67)', o(201), 201, 3, 67],
    ['202 chars', o(202), 202, 4, 67],
    ['69 GSM chars + one ç', `${a(69)}ç`, 70, 1, 70],
    ['70 GSM chars + one ç', `${a(70)}ç`, 71, 2, 67],
    ['35 emoji = 70 code units', '😀'.repeat(35), 70, 1, 70],
    ['36 emoji = 72 code units', '😀'.repeat(36), 72, 2, 67],
    ['surrogate pair never split: 66 + 😀 + 66 = 134 units', `${o(66)}😀${o(66)}`, 134, 3, 67],
  ])('UCS-2 %s', (_, text, units, segments, perSegment) => {
    expect(smsEncoding(text)).toEqual({ encoding: 'UCS-2', units, segments, perSegment });
  });

  it('decides on the text as given: fold first to stay in GSM-7', () => {
    const notice = 'Votre cotisation reçue: 3 000 FCFA. Couvert jusqu’au 31/12/2026 « merci »…';
    expect(smsEncoding(notice)).toEqual({ encoding: 'UCS-2', units: 74, segments: 2, perSegment: 67 });
    expect(smsEncoding(fold(notice))).toEqual({ encoding: 'GSM-7', units: 76, segments: 1, perSegment: 160 });
  });
});

describe('properties', () => {
  const FRENCH = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', ...'àâäçéèêëîïôöùûüÿœæÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ'];
  const BAMBARA = [...'ɛɔɲŋƐƆƝŊ'];
  const TONES = ['\u0300', '\u0301', '\u0302', '\u0303', '\u0304', '\u030C', '\u0308', '\u0327'];
  const PUNCT = [
    ...' .,;:!?\'"-()/%+*#@=<>\n0123456789€[]{}~|^\\',
    '\u2019',
    '\u2018',
    '\u201C',
    '\u201D',
    '\u00AB',
    '\u00BB',
    '\u2026',
    '\u2013',
    '\u2014',
    '\u00A0',
    '\u202F',
    '\u2009',
    '`',
    '\t',
  ];
  const ALPHABET = [...FRENCH, ...BAMBARA, ...TONES, ...PUNCT];

  const wording = fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 80 });
  const normalized = fc
    .tuple(wording, fc.constantFrom<'NFC' | 'NFD' | 'none'>('NFC', 'NFD', 'none'))
    .map(([s, form]) => (form === 'none' ? s : s.normalize(form)));
  const gsmText = fc.string({ unit: fc.constantFrom(...GSM), maxLength: 400 });
  const mode = fc.constantFrom<FoldMode>('gsm7', 'ascii');

  it('folds French and Bambara wording to GSM-7 in both modes', () => {
    fc.assert(
      fc.property(normalized, mode, (s, m) => {
        expect(isGsm7(fold(s, m))).toBe(true);
        expect(unfoldable(s, m)).toEqual([]);
      }),
    );
  });

  it('ascii mode gives only GSM characters that are plain ASCII or Æ æ ß (no accented letter)', () => {
    fc.assert(
      fc.property(normalized, (s) => {
        expect(fold(s, 'ascii')).toMatch(/^[\n\f\r -~€£¥¤§¡¿ΔΦΓΛΩΠΨΣΘΞÆæß]*$/u);
        expect(fold(s, 'ascii')).not.toMatch(/`/);
      }),
    );
  });

  it('gives the same result for precomposed and decomposed input', () => {
    fc.assert(
      fc.property(wording, mode, (s, m) => {
        expect(fold(s.normalize('NFD'), m)).toBe(fold(s.normalize('NFC'), m));
      }),
    );
  });

  it('is idempotent on wording and on any Unicode text', () => {
    fc.assert(
      fc.property(fc.oneof(normalized, fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary' })), mode, (s, m) => {
        const once = fold(s, m);
        expect(fold(once, m)).toBe(once);
      }),
      { numRuns: 500 },
    );
  });

  it('never changes text that is already GSM-7', () => {
    fc.assert(
      fc.property(gsmText, (s) => {
        expect(fold(s)).toBe(s);
        expect(fold(s, 'gsm7')).toBe(s);
      }),
    );
  });

  it('counts septets as the sum over characters (extension characters count 2)', () => {
    fc.assert(
      fc.property(fc.oneof(normalized, gsmText), mode, (s, m) => {
        const folded = fold(s, m);
        const expected = [...folded].reduce((sum, c) => sum + weight(c), 0);
        expect(septets(folded)).toBe(expected);
      }),
    );
  });

  /** Reference segmentation, independent of the implementation: longest prefixes that fit. */
  function split(text: string, size: (t: string) => number, single: number, multi: number): string[] {
    const chars = [...text];
    if (size(text) <= single) return [text];
    const out: string[] = [];
    let current = '';
    for (const c of chars) {
      if (size(current + c) > multi) {
        out.push(current);
        current = '';
      }
      current += c;
    }
    out.push(current);
    return out;
  }

  it('gives the minimal number of GSM-7 segments that fit, never splitting an extension character', () => {
    const longGsm = fc.string({ unit: fc.constantFrom(...GSM, 'a', 'a', 'a', 'a', '€'), minLength: 100, maxLength: 700 });
    fc.assert(
      fc.property(longGsm, (text) => {
        const enc = smsEncoding(text);
        const parts = split(text, septets, 160, 153);
        expect(enc.encoding).toBe('GSM-7');
        expect(enc.units).toBe(septets(text));
        expect(enc.segments).toBe(parts.length);
        expect(enc.perSegment).toBe(parts.length === 1 ? 160 : 153);
        for (const [i, part] of parts.entries()) {
          expect(septets(part)).toBeLessThanOrEqual(enc.perSegment);
          // Each full segment is as full as it can be: the next character would not fit.
          const next = parts[i + 1];
          if (next !== undefined) expect(septets(part + [...next][0]!)).toBeGreaterThan(153);
        }
        // Never fewer than the raw count, never more than one septet lost per segment.
        if (enc.segments > 1) {
          expect(enc.segments).toBeGreaterThanOrEqual(Math.ceil(enc.units / 153));
          expect(enc.segments).toBeLessThanOrEqual(Math.ceil(enc.units / 152));
        }
      }),
    );
  });

  it('gives the minimal number of UCS-2 segments that fit, never splitting a surrogate pair', () => {
    const ucs = fc
      .string({ unit: fc.constantFrom('ó', 'ɛ', 'a', ' ', '😀', '€', 'ŋ'), minLength: 1, maxLength: 300 })
      .filter((s) => !isGsm7(s));
    fc.assert(
      fc.property(ucs, (text) => {
        const enc = smsEncoding(text);
        const parts = split(text, (t) => t.length, 70, 67);
        expect(enc).toEqual({
          encoding: 'UCS-2',
          units: text.length,
          segments: parts.length,
          perSegment: parts.length === 1 ? 70 : 67,
        });
        for (const part of parts) expect(part.length).toBeLessThanOrEqual(enc.perSegment);
        if (enc.segments > 1) expect(enc.segments).toBeGreaterThanOrEqual(Math.ceil(enc.units / 67));
      }),
    );
  });
});
