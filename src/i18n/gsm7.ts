/**
 * GSM 03.38 (GSM-7) character set, folding to it, and SMS segment counting.
 *
 * Catalogs keep the proper spelling (French accents, Bambara ɛ ɔ ɲ ŋ); what goes
 * on the wire is folded here, by one tested function. See
 * shared/reference/gsm7-and-screens.md for the tables and the rules.
 */

/**
 * - `gsm7`: fold only what is not GSM-7 (é è à ù ì ò É Ç Ä Ö Ñ Ü ä ö ñ ü å Å stay).
 * - `ascii`: the same, plus ɛ→e, ɔ→o and every letter with a diacritic folded to
 *   its base letter (é→e, Ç→C, Å→A, Ø→O ...). Non-letter GSM characters
 *   (£ ¥ ¤ § ¡ ¿ € and the Greek capitals) and the letters Æ æ ß are kept.
 */
export type FoldMode = 'gsm7' | 'ascii';

export interface SmsEncoding {
  encoding: 'GSM-7' | 'UCS-2';
  /** Septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2. */
  units: number;
  segments: number;
  /** Capacity of one segment at this length: 160 / 153 (GSM-7), 70 / 67 (UCS-2). */
  perSegment: number;
}

// ---------------------------------------------------------------------------
// The GSM 03.38 tables, as exact character sets.

/** Every USSD screen, after folding, fits this many GSM-7 septets (one SMS segment; reference/gsm7-and-screens.md). */
export const SCREEN_SEPTETS = 160;

/** Basic table, 127 characters (position 0x1B is the escape to the extension table). */
const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅå' +
  'Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ' +
  ' !"#¤%&\'()*+,-./' +
  '0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§' +
  '¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** Extension table: escape + char, two septets each. */
const GSM7_EXTENSION = '\f^{}\\[~]|€';

/** GSM letters with a diacritic, which the `ascii` mode still folds. */
const GSM7_ACCENTED = 'èéùìòÇØøÅåÉÄÖÑÜäöñüà';

/** 0 = not GSM-7, 1 = basic table (1 septet), 2 = extension table (2 septets). Indexed by UTF-16 code unit. */
const SEPTETS = new Uint8Array(0x10000);
for (const ch of GSM7_BASIC) SEPTETS[ch.charCodeAt(0)] = 1;
for (const ch of GSM7_EXTENSION) SEPTETS[ch.charCodeAt(0)] = 2;

/** What each mode leaves untouched: 1 when the code unit may stay as it is. */
const KEEP: Record<FoldMode, Uint8Array> = {
  gsm7: SEPTETS.map((v) => (v === 0 ? 0 : 1)),
  ascii: SEPTETS.map((v) => (v === 0 ? 0 : 1)),
};
for (const ch of GSM7_ACCENTED) KEEP.ascii[ch.charCodeAt(0)] = 0;

// ---------------------------------------------------------------------------
// Explicit folds: characters that Unicode decomposition does not bring to GSM-7.
// Letters with a combining diacritic (ç ê â î ô û ë ï À È Ê Î Ô Û Ù ó ǹ ...) are
// handled generically below, through NFD.

const COMMON_FOLDS: ReadonlyArray<readonly [string, string]> = [
  // Ligatures (Æ æ are GSM-7 and stay).
  ['œ', 'oe'],
  ['Œ', 'OE'],
  // Bambara letters (official orthography) to the pre-1982 spelling readers know.
  ['ɛ', 'è'],
  ['Ɛ', 'E'],
  ['ɔ', 'ò'],
  ['Ɔ', 'O'],
  ['ɲ', 'ny'],
  ['Ɲ', 'Ny'],
  ['ŋ', 'ng'],
  ['Ŋ', 'Ng'],
  // Other West African and European letters that do not decompose (Fula hooks, strokes).
  ['Ɓ', 'B'],
  ['ɓ', 'b'],
  ['Ɗ', 'D'],
  ['ɗ', 'd'],
  ['Ƙ', 'K'],
  ['ƙ', 'k'],
  ['Ƴ', 'Y'],
  ['ƴ', 'y'],
  ['Đ', 'D'],
  ['đ', 'd'],
  ['Ð', 'D'],
  ['ð', 'd'],
  ['Ł', 'L'],
  ['ł', 'l'],
  ['Ħ', 'H'],
  ['ħ', 'h'],
  ['ı', 'i'],
  // Apostrophes and single quotes (the backtick is ASCII but not GSM-7).
  ['\u2019', "'"],
  ['\u2018', "'"],
  ['\u201A', "'"],
  ['\u201B', "'"],
  ['\u2032', "'"],
  ['\u02BC', "'"],
  ['\u02BB', "'"],
  ['\u00B4', "'"],
  ['`', "'"],
  ['\u2039', "'"],
  ['\u203A', "'"],
  // Double quotes.
  ['\u201C', '"'],
  ['\u201D', '"'],
  ['\u00AB', '"'],
  ['\u00BB', '"'],
  ['\u201E', '"'],
  ['\u201F', '"'],
  ['\u2033', '"'],
  // Ellipsis, dashes, minus, fraction slash.
  ['\u2026', '...'],
  ['\u2010', '-'],
  ['\u2011', '-'],
  ['\u2012', '-'],
  ['\u2013', '-'],
  ['\u2014', '-'],
  ['\u2015', '-'],
  ['\u2212', '-'],
  ['\u2044', '/'],
  // Spaces: NBSP, narrow NBSP and the other Unicode spaces; tab.
  ['\t', ' '],
  ['\u00A0', ' '],
  ['\u1680', ' '],
  ['\u202F', ' '],
  ['\u205F', ' '],
  ['\u3000', ' '],
  ...Array.from({ length: 11 }, (_, i) => [String.fromCharCode(0x2000 + i), ' '] as const),
  // Line and paragraph separators.
  ['\u2028', '\n'],
  ['\u2029', '\n'],
  // Invisible characters: soft hyphen, zero-width space, word joiner, BOM, direction marks.
  // (ZWJ/ZWNJ are left alone: they belong to emoji and scripts that cannot be folded anyway.)
  ['\u00AD', ''],
  ['\u200B', ''],
  ['\u200E', ''],
  ['\u200F', ''],
  ['\u2060', ''],
  ['\uFEFF', ''],
];

const ASCII_FOLDS: ReadonlyArray<readonly [string, string]> = [
  ['ɛ', 'e'],
  ['ɔ', 'o'],
  ['Ø', 'O'],
  ['ø', 'o'],
];

const EXPLICIT: Record<FoldMode, ReadonlyMap<string, string>> = {
  gsm7: new Map(COMMON_FOLDS),
  ascii: new Map([...COMMON_FOLDS, ...ASCII_FOLDS]),
};

/** Memoized fold of single (NFC) code points, per mode. Bounded so hostile input cannot grow it. */
const CACHE: Record<FoldMode, Map<string, string>> = { gsm7: new Map(), ascii: new Map() };
const CACHE_LIMIT = 4096;

const MARK = /^\p{M}$/u;
const ONLY_SPACES = /^\p{Zs}+$/u;

function isMark(cp: number): boolean {
  return cp >= 0x300 && MARK.test(String.fromCodePoint(cp));
}

function keeps(text: string, keep: Uint8Array): boolean {
  for (let i = 0; i < text.length; i++) {
    if (keep[text.charCodeAt(i)] === 0) return false;
  }
  return true;
}

/** Fold one code point (from NFC text). Returns it unchanged when it cannot be folded. */
function foldChar(ch: string, mode: FoldMode): string {
  const keep = KEEP[mode];
  if (ch.length === 1 && keep[ch.charCodeAt(0)] === 1) return ch;
  const cache = CACHE[mode];
  const hit = cache.get(ch);
  if (hit !== undefined) return hit;
  const folded = computeFold(ch, mode, keep);
  if (cache.size < CACHE_LIMIT) cache.set(ch, folded);
  return folded;
}

function computeFold(ch: string, mode: FoldMode, keep: Uint8Array): string {
  const explicit = EXPLICIT[mode].get(ch);
  if (explicit !== undefined) return explicit;

  // Canonical decomposition: base letter + combining marks. Keep the longest
  // base+marks prefix that composes to a character this mode keeps (ǘ → ü in gsm7),
  // else drop the marks and fold the base (ó → o, ê → e, Ḉ → C).
  const nfd = [...ch.normalize('NFD')];
  const base = nfd[0];
  if (nfd.length > 1 && base !== undefined && nfd.slice(1).every((m) => isMark(m.codePointAt(0)!))) {
    for (let k = nfd.length - 1; k >= 1; k--) {
      const composed = nfd
        .slice(0, k + 1)
        .join('')
        .normalize('NFC');
      if (composed.length === 1 && keep[composed.charCodeAt(0)] === 1) return composed;
    }
    const foldedBase = foldChar(base, mode);
    if (keeps(foldedBase, keep)) return foldedBase;
    return ch;
  }

  // Compatibility decomposition: fullwidth forms, ligatures (ﬁ → fi), superscripts (² → 2), ™ → TM.
  const compat = ch.normalize('NFKD').replace(/\p{M}/gu, '');
  if (compat !== ch && compat !== '' && (!ONLY_SPACES.test(compat) || ONLY_SPACES.test(ch))) {
    let out = '';
    for (const c of compat) out += foldChar(c, mode);
    if (keeps(out, keep)) return out;
  }
  return ch;
}

/**
 * Fold text to GSM-7 for the wire. Characters that cannot be folded (other scripts,
 * emoji) are left as they are, with their combining marks; `unfoldable()` lists them.
 */
export function fold(text: string, mode: FoldMode = 'gsm7'): string {
  const keep = KEEP[mode];
  if (keeps(text, keep)) return text; // fast path: nothing to do

  const s = text.normalize('NFC'); // 'e' + U+0301 → 'é'
  const n = s.length;
  let out = '';
  let i = 0;
  while (i < n) {
    const cu = s.charCodeAt(i);
    if (keep[cu] === 1) {
      // Common case; a combining mark after a kept char did not compose under NFC,
      // so it is dropped by the cluster branch below only when present.
      const next = i + 1 < n ? s.codePointAt(i + 1)! : -1;
      if (next < 0x300 || !isMark(next)) {
        out += s[i];
        i += 1;
        continue;
      }
    }
    const cp = s.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    let j = i + ch.length;
    while (j < n) {
      const m = s.codePointAt(j)!;
      if (!isMark(m)) break;
      j += m > 0xffff ? 2 : 1;
    }
    if (isMark(cp)) {
      // Marks with no base (start of text): tone marks are dropped.
    } else if (j === i + ch.length) {
      out += foldChar(ch, mode);
    } else {
      // Base + marks that NFC could not compose (ɛ̀, ŋ́, è́): drop the marks when the
      // base folds; keep the whole cluster when it cannot be folded.
      const folded = foldChar(ch, mode);
      out += keeps(folded, keep) ? folded : s.slice(i, j);
    }
    i = j;
  }
  return out;
}

/** Distinct characters (code points, in order of appearance) still not GSM-7 after folding. */
export function unfoldable(text: string, mode: FoldMode = 'gsm7'): string[] {
  const folded = fold(text, mode);
  if (isGsm7(folded)) return [];
  const seen = new Set<string>();
  for (const ch of folded) {
    if (ch.length !== 1 || SEPTETS[ch.charCodeAt(0)] === 0) seen.add(ch);
  }
  return [...seen];
}

/** True when every character is in the GSM-7 basic or extension table. */
export function isGsm7(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (SEPTETS[text.charCodeAt(i)] === 0) return false;
  }
  return true;
}

/** GSM-7 length in septets: extension characters count 2. Throws if the text is not GSM-7. */
export function septets(text: string): number {
  let total = 0;
  for (let i = 0; i < text.length; i++) {
    const v = SEPTETS[text.charCodeAt(i)]!;
    if (v === 0) {
      const cp = text.codePointAt(i)!;
      throw new RangeError(`not GSM-7: U+${cp.toString(16).toUpperCase().padStart(4, '0')} at index ${i} (fold the text first)`);
    }
    total += v;
  }
  return total;
}

const GSM7_SINGLE = 160;
const GSM7_MULTI = 153;
const UCS2_SINGLE = 70;
const UCS2_MULTI = 67;

/**
 * Encoding, length and segment count of an SMS body, as sent (fold it first).
 *
 * Concatenated segments are filled greedily without splitting an escape+char pair
 * (GSM-7) or a surrogate pair (UCS-2), so the count is the conservative one handsets
 * and gateways produce.
 */
export function smsEncoding(text: string): SmsEncoding {
  if (isGsm7(text)) {
    const units = septets(text);
    if (units <= GSM7_SINGLE) return { encoding: 'GSM-7', units, segments: 1, perSegment: GSM7_SINGLE };
    let segments = 1;
    let used = 0;
    for (let i = 0; i < text.length; i++) {
      const w = SEPTETS[text.charCodeAt(i)]!;
      if (used + w > GSM7_MULTI) {
        segments++;
        used = 0;
      }
      used += w;
    }
    return { encoding: 'GSM-7', units, segments, perSegment: GSM7_MULTI };
  }

  const units = text.length;
  if (units <= UCS2_SINGLE) return { encoding: 'UCS-2', units, segments: 1, perSegment: UCS2_SINGLE };
  let segments = 1;
  let used = 0;
  for (let i = 0; i < text.length; i++) {
    const cu = text.charCodeAt(i);
    const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
    const w = cu >= 0xd800 && cu <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
    if (used + w > UCS2_MULTI) {
      segments++;
      used = 0;
    }
    used += w;
    i += w - 1;
  }
  return { encoding: 'UCS-2', units, segments, perSegment: UCS2_MULTI };
}
