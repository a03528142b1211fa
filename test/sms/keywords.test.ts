import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCatalogs } from '../../src/i18n/catalog.ts';
import { fold } from '../../src/i18n/gsm7.ts';
import { KEYWORDS, type Keyword, type KeywordMatch, keywordMatcher, matchKeyword } from '../../src/sms/keywords.ts';

const m = (keyword: Keyword, lang: 'fr' | 'bm' | null, word: string): KeywordMatch => ({ keyword, lang, word });

const SOLDE = m('coverage', 'fr', 'SOLDE');
const COUVERTURE = m('coverage', 'fr', 'COUVERTURE');
const COUVERT = m('coverage', 'fr', 'COUVERT');
const LAKANA = m('coverage', 'bm', 'LAKANA');
const LAKANALI = m('coverage', 'bm', 'LAKANALI');
const AIDE = m('help', 'fr', 'AIDE');
const INFO = m('help', 'fr', 'INFO');
const MENU = m('help', 'fr', 'MENU');
const DEME = m('help', 'bm', 'DEME');
const STOP = m('stop', 'fr', 'STOP');
const ARRET = m('stop', 'fr', 'ARRET');
const ARRETER = m('stop', 'fr', 'ARRETER');
const DABILA = m('stop', 'bm', 'DABILA');
const START = m('start', 'fr', 'START');
const ALERTES = m('start', 'fr', 'ALERTES');
const HAKILIJIGIN = m('start', 'bm', 'HAKILIJIGIN');
const REPRENDRE = m('start', 'fr', 'REPRENDRE');
const DEMARRER = m('start', 'fr', 'DEMARRER');
const DAMINE = m('start', 'bm', 'DAMINE');
// RAPPEL meant both "call me back" and "the reminders": it only asks which (see sms.which).
const RAPPEL = m('ambiguous', 'fr', 'RAPPEL');
const RAPPELS = m('ambiguous', 'fr', 'RAPPELS');
const APPELEZ = m('callback', 'fr', 'APPELEZ');
const RAPPELEZ = m('callback', 'fr', 'RAPPELEZ');
const WELE = m('callback', 'bm', 'WELE');
// A visit recorded at a health facility that the member did not make.
const NON = m('dispute', 'fr', 'NON');
const AYI = m('dispute', 'bm', 'AYI');

const TABLE: ReadonlyArray<readonly [string, KeywordMatch | null]> = [
  // Every keyword, both languages, in lower, title and mixed case.
  ['solde', SOLDE],
  ['Solde', SOLDE],
  ['sOlDe', SOLDE],
  ['couverture', COUVERTURE],
  ['non', NON],
  ['Non!', NON],
  ['NON ce n est pas moi', NON],
  ['Ayi', AYI],
  ['NONN', NON],
  ['NO', null],
  ['NOM', null],
  ['Couvert', COUVERT],
  ['lakana', LAKANA],
  ['Lakanali', LAKANALI],
  ['aide', AIDE],
  ['Info', INFO],
  ['menu', MENU],
  ['Deme', DEME],
  ['stop', STOP],
  ['Stop', STOP],
  ['arret', ARRET],
  ['arreter', ARRETER],
  ['dabila', DABILA],
  ['Dabila', DABILA],
  ['DABILA', DABILA],
  ['start', START],
  ['reprendre', REPRENDRE],
  ['demarrer', DEMARRER],
  ['damine', DAMINE],
  ['rappel', RAPPEL],
  ['Rappels', RAPPELS],
  ['appel', RAPPEL], // one letter from RAPPEL: asks which, never queues a call-back on a guess
  ['Appelez', APPELEZ],
  ['appelez-moi', APPELEZ],
  ['Rappelez', RAPPELEZ],
  ['alertes', ALERTES],
  ['Alerte', ALERTES],
  ['hakilijigin', HAKILIJIGIN],
  ['wele', WELE],
  ['WELE', WELE],
  // Accents, Bambara letters, decomposed and fullwidth forms.
  ['Arrêt', ARRET],
  ['ARRÊT', ARRET],
  ['arrêt', ARRET],
  ['Arre\u0302t', ARRET], // NFD: e + combining circumflex
  ['Arrêter', ARRETER],
  ['Démarrer', DEMARRER],
  ['DÉMARRER', DEMARRER],
  ['dɛmɛ', DEME],
  ['DƐMƐ', DEME],
  ['dèmè', DEME],
  ['dɛ̀mɛ', DEME], // ɛ with a tone mark
  ['daminɛ', DAMINE],
  ['DAMINƐ', DAMINE],
  ['wɛlɛ', WELE],
  ['ＳＴＯＰ', STOP],
  // Punctuation around the word.
  ['Stop!', STOP],
  ['Stop!!!', STOP],
  ['"aide"', AIDE],
  ['«\u00A0aide\u00A0»', AIDE],
  ['STOP.', STOP],
  ['(solde)', SOLDE],
  ['...STOP...', STOP],
  ['#STOP', STOP],
  ['*INFO*', INFO],
  ['¿menu?', MENU],
  ["'wele'", WELE],
  ['STOP,merci', STOP],
  ['rappelez-moi', RAPPELEZ],
  ['ST\u00ADOP', STOP], // soft hyphen
  ['\u200BSTOP', STOP], // zero-width space
  // Trailing words.
  ['SOLDE svp', SOLDE],
  ['STOP merci', STOP],
  ['aide moi', AIDE],
  ['Rappel svp merci', RAPPEL],
  ['dabila i ni ce', DABILA],
  ['Deme. I ni ce', DEME],
  ['wele an ka', WELE],
  ['DAMINE 12345', DAMINE],
  ['STOP 2', STOP],
  // Extra whitespace.
  ['   STOP   ', STOP],
  ['\tAIDE\n', AIDE],
  ['\n\nsolde\r\n', SOLDE],
  ['  START   merci ', START],
  ['STOP\u00A0', STOP],
  // Spelled out: only when the whole message is single letters.
  ['S T O P', STOP],
  ['s t o p', STOP],
  ['S.T.O.P.', STOP],
  ['A I D E', AIDE],
  ['S T O P P', STOP],
  ['S T P', null],
  ['S T O P merci', null],
  ['S', null],
  ["L'aide", null],
  // Typos accepted.
  ['SOLED', SOLDE],
  ['SOLD', SOLDE],
  ['soldes', SOLDE],
  ['COUVERTRE', COUVERTURE],
  ['COUVRETURE', COUVERTURE],
  ['couverts', COUVERT],
  ['REPRNDRE', REPRENDRE],
  ['DABLA', DABILA],
  ['DABIAL', DABILA],
  ['ARRETE', ARRET], // reaches ARRET and ARRETER: same keyword, the first word is reported
  ['ARRETEZ', ARRETER],
  ['ARRTE', ARRET],
  ['STRAT', START],
  ['DEMARER', DEMARRER],
  ['DAMIN', DAMINE],
  ['DAMNIE', DAMINE],
  ['LAKANAL', LAKANA],
  ['RAPEL', RAPPEL],
  ['APEL', null], // two letters from RAPPEL and from APPELEZ
  ['RAPPELER', RAPPELEZ],
  ['STOPP', STOP],
  ['SSTOP', STOP],
  ['Stopp!', STOP],
  ['AIIDE', AIDE],
  ['INFOO', INFO],
  ['MENNU', MENU],
  ['WELLE', WELE],
  ['DEEME', DEME],
  // Typos refused.
  ['STP', null],
  ['stp merci', null],
  ['STO', null],
  ['TOP', null],
  ['SOP', null],
  ['AID', null],
  ['AIDER', null],
  ['INFOS', null],
  ['WEL', null],
  ['DEM', null],
  ['STOPPP', null],
  ['SOTP', null],
  ['SOLDEEE', null],
  ['ARETE', null],
  ['REPRENDS', null],
  ['CUVRTURE', null],
  // Digits are not letters.
  ['ST0P', null],
  ['5TOP', null],
  ['S0LDE', null],
  ['STOP1', null],
  ['1 STOP', null],
  ['123', null],
  // Emoji.
  ['🛑', null],
  ['👍', null],
  ['🛑 STOP', STOP],
  ['STOP 🙏', STOP],
  ['STOP🙏', STOP],
  ['❤️ aide', AIDE],
  ['Stop\uFE0F merci', STOP],
  // Only the first word counts.
  ['je ne veux pas stop', null],
  ['merci STOP', null],
  ['svp solde', null],
  ['STOPSOLDE', null],
  ['bonjour', null],
  ['Merci', null],
  ['OK', null],
  ['I ni ce', null],
  // Other scripts, even when they look like a keyword.
  ['СТОП', null],
  ['ΣΤΟΠ', null],
  ['ߊߘߍߡߍ', null],
  // Empty and whitespace only.
  ['', null],
  ['   ', null],
  ['\n\t ', null],
  ['\u00A0', null],
  ['!!!', null],
  // 500 characters.
  [`STOP ${'x'.repeat(495)}`, STOP],
  [`solde ${'é '.repeat(247)}`, SOLDE],
  ['x'.repeat(500), null],
  ['STOP'.repeat(125), null],
  ['S '.repeat(250), null],
];

describe('matchKeyword, table', () => {
  it('has 60+ rows', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(60);
  });

  it.each(TABLE.map(([text, expected]) => [JSON.stringify(text).slice(0, 40), text, expected] as const))('%s', (_, text, expected) => {
    expect(matchKeyword(text)).toEqual(expected);
  });
});

describe('KEYWORDS', () => {
  it('holds the canonical words, the first of each list for the help SMS', () => {
    expect(KEYWORDS).toEqual({
      coverage: { fr: ['SOLDE', 'COUVERTURE', 'COUVERT'], bm: ['LAKANA', 'LAKANALI'] },
      help: { fr: ['AIDE', 'INFO', 'MENU'], bm: ['DEME'] },
      stop: { fr: ['STOP', 'ARRET', 'ARRETER'], bm: ['DABILA'] },
      start: { fr: ['ALERTES', 'START', 'REPRENDRE', 'DEMARRER'], bm: ['DAMINE', 'HAKILIJIGIN'] },
      callback: { fr: ['APPELEZ', 'RAPPELEZ'], bm: ['WELE'] },
      ambiguous: { fr: ['RAPPEL', 'RAPPELS'], bm: [] },
      dispute: { fr: ['NON'], bm: ['AYI'] },
    });
  });

  it('one word, one meaning: RAPPEL (reminders or call-back?) can never queue a call-back nor turn the alerts on', () => {
    for (const text of ['RAPPEL', 'rappel', 'Rappels SMS', 'RAPEL', 'rappel svp', 'APPEL']) {
      expect(matchKeyword(text)?.keyword, text).toBe('ambiguous');
    }
  });

  it('the word that stops the alerts is not the word that cancels a payment, in either language', () => {
    const catalogs = loadCatalogs();
    for (const lang of ['fr', 'bm'] as const) {
      for (const key of ['contribute.cancel', 'contribute.cancelPending', 'contribute.cancelled', 'contribute.pendingCancelled']) {
        const text = catalogs[lang].get(key)?.text ?? '';
        expect(matchKeyword(text)?.keyword, `${lang} ${key}: ${text}`).not.toBe('stop');
        for (const word of [...KEYWORDS.stop.fr, ...KEYWORDS.stop.bm]) {
          expect(
            fold(text, 'ascii')
              .toUpperCase()
              .split(/[^A-Z]+/),
            `${lang} ${key}`,
          ).not.toContain(word);
        }
      }
    }
  });

  it('is frozen, so the precomputed matcher cannot drift from it', () => {
    expect(Object.isFrozen(KEYWORDS)).toBe(true);
    for (const lists of Object.values(KEYWORDS)) {
      expect(Object.isFrozen(lists)).toBe(true);
      expect(Object.isFrozen(lists.fr)).toBe(true);
      expect(Object.isFrozen(lists.bm)).toBe(true);
    }
  });

  const all = Object.entries(KEYWORDS).flatMap(([keyword, lists]) =>
    (['fr', 'bm'] as const).flatMap((lang) => lists[lang].map((word) => [word, keyword as Keyword, lang] as const)),
  );

  it.each(all)('%s matches itself in any case (%s, %s)', (word, keyword, lang) => {
    for (const text of [word, word.toLowerCase(), word[0] + word.slice(1).toLowerCase(), ` ${word}! merci`]) {
      expect(matchKeyword(text)).toEqual(m(keyword, lang, word));
    }
  });

  it('keeps words of different keywords at Damerau-Levenshtein distance 2 or more', () => {
    for (const [a, ka] of all) for (const [b, kb] of all) if (ka !== kb) expect(osa(a, b), `${a} ${b}`).toBeGreaterThanOrEqual(2);
  });

  it('returns frozen results', () => {
    expect(Object.isFrozen(matchKeyword('STOP'))).toBe(true);
    expect(Object.isFrozen(matchKeyword('STOPP'))).toBe(true);
  });
});

describe('keywordMatcher, the rules on other vocabularies', () => {
  it('returns null for a typo within reach of two keywords', () => {
    const match = keywordMatcher({ coverage: { fr: ['SOLDE'], bm: [] }, help: { fr: ['SOLDA'], bm: [] } });
    expect(match('SOLDO')).toBeNull();
    expect(match('SOLD')).toBeNull();
    expect(match('SOLDE')).toEqual(m('coverage', 'fr', 'SOLDE'));
    expect(match('SOLDA')).toEqual(m('help', 'fr', 'SOLDA'));
    expect(match('SOLDEE')).toEqual(m('coverage', 'fr', 'SOLDE'));
  });

  it('prefers an exact word over a typo of another keyword', () => {
    const match = keywordMatcher({ coverage: { fr: ['BALANCE'], bm: [] }, help: { fr: ['BALANCES'], bm: [] } });
    expect(match('BALANCE')).toEqual(m('coverage', 'fr', 'BALANCE'));
    expect(match('BALANCES')).toEqual(m('help', 'fr', 'BALANCES'));
  });

  it('gives lang null for a word of both languages', () => {
    const match = keywordMatcher({ stop: { fr: ['STOP'], bm: ['STOP', 'DABILA'] } });
    expect(match('stop')).toEqual(m('stop', null, 'STOP'));
    expect(match('stopp')).toEqual(m('stop', null, 'STOP'));
    expect(match('dabila')).toEqual(m('stop', 'bm', 'DABILA'));
  });

  it('refuses a vocabulary with a non A-Z word or a word under two keywords', () => {
    expect(() => keywordMatcher({ help: { fr: ['Aide'], bm: [] } })).toThrow(/A-Z/);
    expect(() => keywordMatcher({ help: { fr: [], bm: ['DƐMƐ'] } })).toThrow(/A-Z/);
    expect(() => keywordMatcher({ help: { fr: ['INFO'], bm: [] }, coverage: { fr: ['INFO'], bm: [] } })).toThrow(/two|and/);
  });
});

// ---------------------------------------------------------------------------
// Properties.

/** Damerau-Levenshtein (optimal string alignment), the reference for the typo rule. */
function osa(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** True when `t` is `w` with one letter doubled. */
function doubled(t: string, w: string): boolean {
  if (t.length !== w.length + 1) return false;
  for (let i = 0; i + 1 < t.length; i++) if (t[i] === t[i + 1] && t.slice(0, i) + t.slice(i + 1) === w) return true;
  return false;
}

const VOCAB = Object.entries(KEYWORDS).flatMap(([keyword, lists]) =>
  (['fr', 'bm'] as const).flatMap((lang) => lists[lang].map((word) => m(keyword as Keyword, lang, word))),
);

/** The rules written the slow, obvious way, for one A-Z word. */
function reference(t: string): KeywordMatch | null {
  const exact = VOCAB.find((v) => v.word === t);
  if (exact) return exact;
  const near = VOCAB.filter((v) => (v.word.length >= 5 ? osa(t, v.word) === 1 : doubled(t, v.word)));
  if (new Set(near.map((v) => v.keyword)).size !== 1) return null;
  return near[0]!;
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** A canonical word with 0 to 2 random edits (delete, insert, replace, swap, double). */
const nearWord = fc
  .tuple(
    fc.constantFrom(...VOCAB.map((v) => v.word)),
    fc.array(fc.tuple(fc.constantFrom('del', 'ins', 'sub', 'swap', 'dbl'), fc.nat(), fc.constantFrom(...UPPER)), { maxLength: 2 }),
  )
  .map(([word, edits]) => {
    let w = word;
    for (const [op, pos, c] of edits) {
      const i = pos % (w.length + 1);
      if (op === 'del') w = w.slice(0, i) + w.slice(i + 1);
      else if (op === 'ins') w = w.slice(0, i) + c + w.slice(i);
      else if (op === 'sub') w = w.slice(0, i) + c + w.slice(i + 1);
      else if (op === 'swap' && i + 1 < w.length) w = w.slice(0, i) + w[i + 1] + w[i] + w.slice(i + 2);
      else if (op === 'dbl' && i < w.length) w = w.slice(0, i + 1) + w.slice(i);
    }
    return w;
  })
  .filter((w) => w.length > 0);

const VARIANTS: Record<string, string[]> = {
  A: ['a', 'A', 'à', 'â', 'ä', 'À', 'Â'],
  C: ['c', 'C', 'ç', 'Ç'],
  E: ['e', 'E', 'é', 'è', 'ê', 'ë', 'É', 'Ê', 'ɛ', 'Ɛ', 'e\u0301'],
  I: ['i', 'I', 'î', 'ï', 'Î'],
  O: ['o', 'O', 'ô', 'ö', 'ɔ', 'Ɔ'],
  U: ['u', 'U', 'ù', 'û', 'ü', 'Û'],
};
/** Spell an A-Z word as a member might: any case, any accent. */
const spelled = (w: string): fc.Arbitrary<string> =>
  fc.tuple(...[...w].map((c) => fc.constantFrom(...(VARIANTS[c] ?? [c.toLowerCase(), c])))).map((cs) => cs.join(''));

const around = fc.constantFrom('', ' ', '  ', '\n', '"', '«\u00A0', '(', '*', '...', '🙏 ');
const after = fc.constantFrom('', ' ', '!', '.', '?', '"', '\u00A0»', ')', '!!!', ' ', '\n');
/** A message whose first word is a (possibly misspelled) keyword, accents and punctuation included. */
const keywordText = nearWord.chain((w) => fc.tuple(around, spelled(w), after).map(([a, s, b]) => a + s + b));
const separator = fc.constantFrom(' ', '  ', '\n', ', ', '! ', ' - ', '. ', '\u00A0');

const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ unit: 'binary-ascii', maxLength: 60 }),
  keywordText,
);

describe('matchKeyword, characters whose case maps are not inverses', () => {
  it.each(['ẞTOP', 'ßtop', '\u0345 stop', '\u0345olde', 'İNFO', 'ınfo', 'ǅ stop', 'ﬅop'])(
    '%s: same result in upper and lower case',
    (text) => {
      const r = matchKeyword(text);
      expect(matchKeyword(text.toUpperCase())).toEqual(r);
      expect(matchKeyword(text.toLowerCase())).toEqual(r);
    },
  );
});

describe('matchKeyword, properties', () => {
  it('never throws, on any string, and returns null or a known word', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const r = matchKeyword(text);
        if (r !== null) expect(VOCAB).toContainEqual(r);
      }),
      { numRuns: 3000 },
    );
  });

  it('is case-insensitive', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const r = matchKeyword(text);
        expect(matchKeyword(text.toUpperCase())).toEqual(r);
        expect(matchKeyword(text.toLowerCase())).toEqual(r);
      }),
      { numRuns: 3000 },
    );
  });

  it('follows the typo rules (Damerau-Levenshtein reference) on words near the vocabulary', () => {
    fc.assert(
      fc.property(nearWord, (w) => {
        expect(matchKeyword(w)).toEqual(reference(w));
      }),
      { numRuns: 5000 },
    );
  });

  it('ignores case, accents and punctuation around the first word', () => {
    fc.assert(
      fc.property(nearWord, around, after, (w, a, b) => {
        fc.pre(w.length > 1);
        expect(matchKeyword(a + w.toLowerCase() + b)).toEqual(reference(w));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        nearWord.chain((w) => fc.tuple(fc.constant(w), spelled(w))),
        ([w, s]) => {
          fc.pre(w.length > 1);
          expect(matchKeyword(s)).toEqual(reference(w));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('keeps the result when words are added after a recognised keyword', () => {
    fc.assert(
      fc.property(keywordText, separator, fc.string({ unit: 'grapheme', maxLength: 40 }), (text, sep, rest) => {
        const r = matchKeyword(text);
        fc.pre(r !== null);
        expect(matchKeyword(text + sep + rest)).toEqual(r);
        expect(matchKeyword(`${text}${sep}merci beaucoup`)).toEqual(r);
      }),
      { numRuns: 2000 },
    );
  });
});
