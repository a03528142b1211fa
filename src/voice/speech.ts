import {
  type Catalogs,
  coverageShortcut,
  type Language,
  MissingMessageError,
  PARAM_KINDS,
  type Params,
  type ParamValue,
  translate,
} from '../i18n/catalog.ts';
import { formatDate, formatMoney } from '../i18n/format.ts';
import type { ScreenData } from '../ussd/render.ts';
import { MAX_SPOKEN, numberWords } from './numbers.ts';

/**
 * The voice renderer: a screen (as the engine describes it) becomes one prompt, a list of spoken
 * fragments and its caption. Each fragment has a recording slot: a catalog key, or `key@i` for the
 * i-th piece of a message with placeholders (the text between them); words that come from data
 * (a district's name) have none and are only ever read by the synthetic voice.
 *
 * People's names are never spoken: a placeholder of kind `name` (PARAM_KINDS in src/i18n/catalog.ts,
 * the one list that says which parameters are names) is left out of the prompt and its caption.
 */
export interface Fragment {
  slot: string | null;
  text: string;
}

export interface Prompt {
  lang: Language;
  fragments: Fragment[];
  /** What is said, as text with digits: for the simulator, transcripts and the <Say> fallback. */
  caption: string;
  /** How the answer is collected: one key, digits ended by '#', or nothing (the call ends after it). */
  collect: 'key' | 'number' | null;
  /** The screen's message key, null for the voice channel's own prompts. */
  screen: string | null;
}

/**
 * The keys on every prompt, announced once when the call starts (voice.keys). `*` never collides
 * with anything a member types; `0` is back as on USSD; `9` is the main menu, so a spoken menu
 * offers at most 8 choices (every menu today has 6 or fewer).
 */
export const VOICE_KEYS = { repeat: '*', back: '0', home: '9' } as const;
export const MAX_SPOKEN_CHOICES = 8;

const PLACEHOLDER = /\{([a-zA-Z]+)\}/;
const HAS_WORDS = /[\p{L}\p{N}]/u;

/**
 * A catalog text split at its placeholders (odd pieces are their names), each line break of the
 * text between them a pause: the same for every prompt that says it, so made once per text.
 */
const split = new Map<string, readonly string[]>();
function piecesOf(text: string): readonly string[] {
  let pieces = split.get(text);
  if (!pieces) {
    pieces = text
      .split(PLACEHOLDER)
      .map((p, i) =>
        i % 2 === 1
          ? p
          : p.replace(/([.!?:])?[ \t]*\n\s*/g, (_m, mark: string | undefined) => (mark ? `${mark} ` : '. ')).replace(/\s+/g, ' '),
      );
    split.set(text, pieces);
  }
  return pieces;
}

class PromptBuilder {
  readonly fragments: Fragment[] = [];
  private readonly captions: string[] = [];

  constructor(
    private readonly catalogs: Catalogs,
    readonly lang: Language,
  ) {}

  private text(key: string): string {
    return translate(this.catalogs, this.lang, key);
  }

  /** A catalog word or phrase without placeholders, as one fragment. */
  word(key: string): string {
    const text = this.text(key);
    this.fragments.push({ slot: key, text });
    return text;
  }

  /** A whole message as a sentence of the caption. */
  sentence(key: string, params: Params = {}): void {
    this.end(this.message(key, params));
  }

  /** Adds a caption sentence, closed by a full stop unless it already ends with punctuation. */
  end(caption: string): void {
    const c = caption.trim();
    if (c !== '') this.captions.push(/[.!?:]$/.test(c) ? c : `${c}.`);
  }

  /** A message's pieces and parameters, in order; returns its caption. Names are left out. */
  message(key: string, params: Params): string {
    const pieces = piecesOf(this.text0(key));
    let caption = '';
    let afterGap = true;
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] as string;
      if (i % 2 === 1) {
        const said = this.param(key, piece, piece === 'coverageCode' ? params.code : params[piece]);
        afterGap = said === null;
        caption += said ?? '';
        continue;
      }
      // Punctuation left dangling by an omitted name is dropped.
      let t = piece;
      if (afterGap || caption === '') t = t.replace(/^[\s.,:;!?]+/, '');
      afterGap = false;
      caption += t;
      if (HAS_WORDS.test(t)) this.fragments.push({ slot: pieces.length === 1 ? key : `${key}@${i / 2}`, text: t.trim() });
    }
    return caption.replace(/\s+/g, ' ').trim();
  }

  private text0(key: string): string {
    const entry = this.catalogs[this.lang].get(key);
    if (!entry) throw new MissingMessageError(`no message "${key}" in ${this.lang}.json`);
    return entry.text;
  }

  /** One parameter spoken; returns its caption, or null when it is not spoken (a name). */
  private param(key: string, name: string, value: ParamValue | undefined): string | null {
    if (name === 'coverageCode') {
      const code = coverageShortcut(String(value ?? ''));
      this.characters(code);
      return code;
    }
    const kind = (PARAM_KINDS as Record<string, string>)[name];
    if (value === undefined || kind === undefined) throw new Error(`message "${key}" needs {${name}}`);
    switch (kind) {
      case 'name':
        return null;
      case 'money':
        this.number(Number(value));
        this.word('voice.fcfa');
        return formatMoney(Number(value));
      case 'date': {
        const day = String(value);
        this.number(Number(day.slice(8, 10)));
        this.word(`month.${day.slice(5, 7)}`);
        this.number(Number(day.slice(0, 4)));
        return formatDate(day);
      }
      case 'month':
        return this.word(`month.${String(value).slice(5, 7)}`);
      case 'status':
      case 'channel':
      case 'bearer':
        return this.word(`${kind}.${value}`);
      case 'count':
        this.number(Number(value));
        return String(value);
      case 'label':
        this.fragments.push({ slot: null, text: String(value) });
        return String(value);
      default:
        this.characters(String(value));
        return String(value);
    }
  }

  number(value: number): void {
    if (Number.isInteger(value) && value >= 0 && value <= MAX_SPOKEN) for (const w of numberWords(this.lang, value)) this.word(w);
    else this.characters(String(value));
  }

  /** A code, reference or phone number, character by character. */
  characters(s: string): void {
    for (const ch of s) {
      if (/\d/.test(ch)) this.word(`voice.n.${ch}`);
      else if (ch === '*') this.word('voice.star');
      else if (ch === '#') this.word('voice.hash');
      else if (HAS_WORDS.test(ch)) this.fragments.push({ slot: null, text: ch });
    }
  }

  caption(): string {
    return this.captions.join(' ');
  }
}

export interface SpeakOptions {
  /** Voice phrases said before the screen (voice.keys on the first prompt, voice.silence after a timeout). */
  before?: readonly string[];
}

/** The prompt of a screen: its error line, its text, its lines, each choice as "pour …, tapez N", then how to answer. */
export function speakScreen(catalogs: Catalogs, screen: ScreenData, opts: SpeakOptions = {}): Prompt {
  const b = new PromptBuilder(catalogs, screen.lang);
  for (const key of opts.before ?? []) b.sentence(key);
  if (screen.error) b.sentence(screen.error.key, screen.error.params);
  b.sentence(screen.key, screen.params);
  if (screen.lines) for (const item of screen.lines.items) b.sentence(screen.lines.key, { ...screen.params, ...item });
  const collect = screen.end ? null : screen.input === 'text' ? 'number' : 'key';
  if (collect === 'key') {
    for (const c of screen.choices.slice(0, MAX_SPOKEN_CHOICES)) {
      const lead = b.word('voice.for');
      const label = c.label !== undefined ? labelOf(b, c.label) : b.message(c.labelKey ?? c.value, { ...screen.params, ...c.labelParams });
      const press = b.word('voice.press');
      b.number(c.number);
      b.end(`${lead} ${label}, ${press} ${c.number}`);
    }
  } else if (collect === 'number') {
    b.sentence('voice.thenHash');
  }
  return { lang: screen.lang, fragments: b.fragments, caption: b.caption(), collect, screen: screen.key };
}

function labelOf(b: PromptBuilder, label: string): string {
  b.fragments.push({ slot: null, text: label });
  return label;
}

/** A prompt of the voice channel's own (goodbye, the agents' notice): messages said in order, nothing collected. */
export function speakMessages(catalogs: Catalogs, lang: Language, messages: ReadonlyArray<{ key: string; params?: Params }>): Prompt {
  const b = new PromptBuilder(catalogs, lang);
  for (const m of messages) b.sentence(m.key, m.params);
  return { lang, fragments: b.fragments, caption: b.caption(), collect: null, screen: null };
}
