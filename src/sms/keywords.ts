/**
 * Keywords of inbound SMS: a pure matcher, French and Bambara.
 *
 * Rules (the help SMS and the tests rely on them):
 *
 * - Normalisation: upper- then lower-case, `fold(…, 'ascii')` (é→e, ê→e, ç→c, ɛ→e,
 *   ɔ→o, ɲ→ny, fullwidth and ligatures to ASCII, soft hyphens and zero-width spaces
 *   dropped), upper-case. Case and accents never matter.
 * - Words are runs of letters and digits (with their combining marks); everything
 *   else (spaces, punctuation, quotes, hyphens, emoji) separates words and is ignored.
 * - Only the FIRST word counts: `SOLDE svp`, `Stop!`, `"aide"`, `RAPPELEZ-MOI` match,
 *   `je ne veux pas stop` does not (nothing after the first word is ever scanned).
 * - The first word must be letters A–Z only once folded: a word with a digit
 *   (`ST0P`, `5OLDE`, `STOP1`) or an unfoldable letter (N'Ko, Greek…) is no keyword.
 * - Typos: canonical words of 5+ letters accept a Damerau–Levenshtein distance of 1
 *   (one letter missing, extra, replaced, or two neighbours swapped: `SOLED`,
 *   `COUVERTRE`, `REPRNDRE`, `DABLA`). Words of 4 letters or fewer accept only one
 *   doubled letter (`STOPP`, `AIIDE`, `WELLE`), never a missing one: 3-letter forms
 *   are too often other words (`STP` = s'il te plaît, `TOP`, `AIE`, `MEN`).
 * - Exact words win over typos. A typo that reaches words of two different keywords
 *   is ambiguous and gives null.
 * - Spelled-out letters (`S T O P`, `S.T.O.P.`) are joined only when the WHOLE
 *   message is single letters (2 or more); `S T O P merci` is no keyword.
 */
import { fold } from '../i18n/gsm7.ts';

/**
 * `ambiguous`: RAPPEL, which members used both for "call me back" and for "the reminders" (the SMS
 * alerts). It does nothing but ask which one was meant: a call-back is never queued, nor the
 * alerts turned on, on a guess. `dispute`: the member's NON (AYI) to the SMS telling them of a visit
 * recorded at a health facility.
 */
export type Keyword = 'coverage' | 'help' | 'stop' | 'start' | 'callback' | 'ambiguous' | 'dispute';

export interface KeywordMatch {
  keyword: Keyword;
  /** Language of the canonical word matched; null when the word belongs to both. */
  lang: 'fr' | 'bm' | null;
  /** The canonical word matched, as in KEYWORDS (upper-case ASCII). */
  word: string;
}

type Lists = { fr: string[]; bm: string[] };

/**
 * Canonical words, upper-case ASCII; the first of each list is the one the help SMS shows.
 * One word, one meaning: the SMS reminders are "alertes" (ALERTES turns them back on, STOP off)
 * and "hakilijigin" in Bambara; being called back is APPEL / RAPPELEZ(-MOI) and WELE. DABILA
 * stops the alerts and is nowhere the word for cancelling a payment ("Annuler" / "Ayi"). APPEL
 * alone is one letter from RAPPEL, so it is not a call-back word: it gets RAPPEL's question.
 */
export const KEYWORDS: Record<Keyword, { fr: string[]; bm: string[] }> = deepFreeze({
  coverage: { fr: ['SOLDE', 'COUVERTURE', 'COUVERT'], bm: ['LAKANA', 'LAKANALI'] },
  help: { fr: ['AIDE', 'INFO', 'MENU'], bm: ['DEME'] },
  stop: { fr: ['STOP', 'ARRET', 'ARRETER'], bm: ['DABILA'] },
  start: { fr: ['ALERTES', 'START', 'REPRENDRE', 'DEMARRER'], bm: ['DAMINE', 'HAKILIJIGIN'] },
  callback: { fr: ['APPELEZ', 'RAPPELEZ'], bm: ['WELE'] },
  ambiguous: { fr: ['RAPPEL', 'RAPPELS'], bm: [] },
  dispute: { fr: ['NON'], bm: ['AYI'] },
});

function deepFreeze(k: Record<Keyword, Lists>): Record<Keyword, Lists> {
  for (const lists of Object.values(k)) {
    Object.freeze(lists.fr);
    Object.freeze(lists.bm);
    Object.freeze(lists);
  }
  return Object.freeze(k);
}

// ---------------------------------------------------------------------------
// The vocabulary, precomputed once: exact words, and every accepted typo.

/** Words of this length or less accept only a doubled letter as a typo. */
const SHORT = 4;
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** A word: a letter or digit, then letters, digits and combining marks (a lone mark, as in ❤️, is no word). */
const WORD = /[\p{L}\p{N}][\p{L}\p{N}\p{M}]*/gu;
const A_TO_Z = /^[A-Z]+$/;

/**
 * A matcher for a vocabulary (canonical words, A–Z). `matchKeyword` is the one for
 * KEYWORDS; this is exported to test the rules on other vocabularies. Throws when a
 * word is not A–Z or belongs to two keywords.
 */
export function keywordMatcher(
  vocabulary: Partial<Record<Keyword, { fr: string[]; bm: string[] }>>,
): (text: string) => KeywordMatch | null {
  /** Frozen results, shared by every call. */
  const exact = new Map<string, KeywordMatch>();
  /** Typo form → the match of the first canonical word it reaches, or null when it reaches two keywords. */
  const typo = new Map<string, KeywordMatch | null>();
  let maxLen = 0;

  const langs = new Map<string, { keyword: Keyword; fr: boolean; bm: boolean }>();
  for (const [keyword, lists] of Object.entries(vocabulary) as [Keyword, Lists | undefined][]) {
    if (lists === undefined) continue;
    for (const lang of ['fr', 'bm'] as const) {
      for (const word of lists[lang]) {
        if (!A_TO_Z.test(word)) throw new Error(`keyword ${JSON.stringify(word)}: canonical words are A-Z only`);
        const seen = langs.get(word) ?? { keyword, fr: false, bm: false };
        if (seen.keyword !== keyword) throw new Error(`keyword ${word} belongs to ${seen.keyword} and ${keyword}`);
        seen[lang] = true;
        langs.set(word, seen);
      }
    }
  }
  for (const [word, { keyword, fr, bm }] of langs) {
    exact.set(word, Object.freeze({ keyword, lang: fr && bm ? null : fr ? 'fr' : 'bm', word }));
    maxLen = Math.max(maxLen, word.length);
  }
  for (const [word, match] of exact) {
    for (const form of typos(word)) {
      if (exact.has(form)) continue; // an exact word is never a typo
      const prev = typo.get(form);
      if (prev === undefined) typo.set(form, match);
      else if (prev !== null && prev.keyword !== match.keyword) typo.set(form, null);
    }
  }

  return (text: string): KeywordMatch | null => {
    if (typeof text !== 'string') return null;
    // Upper then lower first: the same text in upper or lower case normalises alike, even
    // for the odd characters whose case maps are not inverses (ẞ/ß, U+0345/Ι).
    const norm = fold(text.toUpperCase().toLowerCase(), 'ascii').toUpperCase();
    WORD.lastIndex = 0;
    const first = WORD.exec(norm);
    if (first === null) return null;
    let word = first[0];
    if (word.length === 1) word = spelledOut(norm, word, maxLen) ?? word;
    if (word.length > maxLen + 1 || !A_TO_Z.test(word)) return null;
    return exact.get(word) ?? typo.get(word) ?? null;
  };
}

/** The typo forms accepted for a canonical word (see the rules at the top). */
function typos(word: string): Set<string> {
  const out = new Set<string>();
  const n = word.length;
  if (n <= SHORT) {
    for (let i = 0; i < n; i++) out.add(word.slice(0, i + 1) + word.slice(i)); // one doubled letter
    return out;
  }
  for (let i = 0; i < n; i++) out.add(word.slice(0, i) + word.slice(i + 1)); // deletion
  for (let i = 0; i + 1 < n; i++) {
    // transposition of neighbours
    if (word[i] !== word[i + 1]) out.add(word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2));
  }
  for (const c of LETTERS) {
    for (let i = 0; i < n; i++) if (word[i] !== c) out.add(word.slice(0, i) + c + word.slice(i + 1)); // substitution
    for (let i = 0; i <= n; i++) out.add(word.slice(0, i) + c + word.slice(i)); // insertion
  }
  out.delete(word);
  return out;
}

const matcher = keywordMatcher(KEYWORDS);

/** The keyword an inbound SMS starts with, or null. Pure; never throws on a string. */
export function matchKeyword(text: string): KeywordMatch | null {
  return matcher(text);
}

/**
 * `S T O P` → `STOP`, when the rest of the message (after its first letter) is single
 * letters too. Continues the scan of WORD (global) where the first word ended.
 */
function spelledOut(norm: string, first: string, maxLen: number): string | null {
  let joined = first;
  for (let m = WORD.exec(norm); m !== null; m = WORD.exec(norm)) {
    if (m[0].length !== 1 || joined.length > maxLen) return null;
    joined += m[0];
  }
  return joined.length > 1 ? joined : null;
}
