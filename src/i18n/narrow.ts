/**
 * How a 20-column handset lays a screen out, and what must never be cut by its wrapping.
 *
 * Handsets wrap like a word processor: at a space, and a word longer than the line is cut hard.
 * GSM-7 has no non-breaking space, so nothing we send can hold "1 250 FCFA" together: the wording
 * puts such runs where the handset will not cut them, and `keepUnitsWhole` breaks the line before
 * one that real values would still push across a line end.
 */

import { type FoldMode, fold } from './gsm7.ts';

/** The narrowest handset screens UTM's members use. */
export const NARROW_COLUMNS = 20;

export interface WrappedLine {
  text: string;
  /** Offset in the original text of the line's first character. */
  start: number;
}

/** Whether a word of `length` joins a handset line of `column` characters (0: none yet) instead of starting the next. */
const joinsLine = (column: number, length: number, columns: number) => column > 0 && column + 1 + length <= columns;

/** Lays `text` (already folded) out as a handset of `columns` does. */
export function wrap(text: string, columns: number = NARROW_COLUMNS): WrappedLine[] {
  const out: WrappedLine[] = [];
  let offset = 0;
  for (const line of text.split('\n')) {
    let current: WrappedLine | null = null;
    const words = [...line.matchAll(/[^ ]+/g)];
    for (const m of words) {
      let word = m[0];
      let at = offset + (m.index ?? 0);
      if (current && joinsLine(current.text.length, word.length, columns)) {
        current.text += ` ${word}`;
        continue;
      }
      if (current) out.push(current);
      current = null;
      while (word.length > columns) {
        out.push({ text: word.slice(0, columns), start: at });
        word = word.slice(columns);
        at += columns;
      }
      current = { text: word, start: at };
    }
    out.push(current ?? { text: '', start: offset });
    offset += line.length + 1;
  }
  return out;
}

export interface Unit {
  kind: 'amount' | 'date' | 'key';
  text: string;
  start: number;
  end: number;
}

const AMOUNT = /(?<![\d/])-?\d{1,3}(?: \d{3})* FCFA/g;
const DATE = /\b\d{2}\/\d{2}\/\d{4}\b/g;

/**
 * The runs a wrap must not cut: amounts with their currency, dates, and a choice or navigation key
 * with the first word of its label. `keys` says which lines are choice lines (`N label`) and
 * whether the last line is the navigation footer (`98 Suite 0 Retour`).
 */
export function units(text: string, layout: { choiceLines: ReadonlySet<number>; footer: boolean }): Unit[] {
  const found: Unit[] = [];
  for (const [kind, re] of [
    ['amount', AMOUNT],
    ['date', DATE],
  ] as const) {
    // matchAll starts where the pattern's lastIndex stands, and keepLineAmounts leaves AMOUNT's anywhere.
    re.lastIndex = 0;
    for (const m of text.matchAll(re)) found.push({ kind, text: m[0], start: m.index ?? 0, end: (m.index ?? 0) + m[0].length });
  }
  const lines = text.split('\n');
  let offset = 0;
  lines.forEach((line, i) => {
    const isFooter = layout.footer && i === lines.length - 1;
    if (isFooter || layout.choiceLines.has(i)) {
      const re = isFooter ? /(?:^| )(\d{1,2} [^ ]+)/g : /^(\d{1,2} [^ ]+)/g;
      for (const m of line.matchAll(re)) {
        const start = offset + (m.index ?? 0) + m[0].length - (m[1] as string).length;
        found.push({ kind: 'key', text: m[1] as string, start, end: start + (m[1] as string).length });
      }
    }
    offset += line.length + 1;
  });
  return found;
}

/** The units that a `columns`-wide handset would show over two lines. */
export function cutUnits(
  text: string,
  layout: { choiceLines: ReadonlySet<number>; footer: boolean },
  columns: number = NARROW_COLUMNS,
): Unit[] {
  const lines = wrap(text, columns);
  const lineOf = (pos: number) => {
    let n = 0;
    for (let i = 0; i < lines.length; i++) if ((lines[i] as WrappedLine).start <= pos) n = i;
    return n;
  };
  return units(text, layout).filter((u) => lineOf(u.start) !== lineOf(u.end - 1));
}

/**
 * `text` with a line break in place of the space before each amount that a `columns`-wide handset
 * would show over two lines, so that it starts the next line whole. A break costs what the space
 * did (one septet, one character): the message's length and cost never change. Only amounts need
 * it: their digit groups and currency are words a wrap can part, while a date is one word that it
 * moves whole. An amount whose word already starts a line cannot be helped and is left as it is
 * (`flows check` reports those).
 */
export function keepUnitsWhole(text: string, columns: number = NARROW_COLUMNS): string {
  if (!text.includes(' FCFA')) return text;
  let out = text;
  let lineStart = 0;
  while (lineStart <= text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    // An amount on a line the handset shows whole is never cut: most screens stop here.
    if (lineEnd - lineStart > columns) out = keepLineAmounts(text, out, lineStart, lineEnd, columns);
    lineStart = lineEnd + 1;
  }
  return out;
}

/** An SMS's text as the outbox queues it and `flows check` judges it: folded, each amount kept whole. */
export function smsOnTheWire(text: string, mode: FoldMode): string {
  return keepUnitsWhole(fold(text, mode));
}

/** One line of `text` (from `start` to `end`) through `wrap`'s rule, word by word, without building its lines; breaks written into `out`. */
function keepLineAmounts(text: string, out: string, start: number, end: number, columns: number): string {
  AMOUNT.lastIndex = start;
  let amount = nextAmount(text, end);
  // The length of the handset's current line.
  let column = 0;
  let at = start;
  while (at < end) {
    if (text.charCodeAt(at) === 32) {
      at++;
      continue;
    }
    let wordEnd = text.indexOf(' ', at);
    if (wordEnd < 0 || wordEnd > end) wordEnd = end;
    const length = wordEnd - at;
    while (amount && amount.start < at) amount = nextAmount(text, end);
    if (amount && amount.start < wordEnd && joinsLine(column, length, columns)) {
      // The wrap keeps this word on the line: the rest of the amount must fit there too, or it starts the next line.
      let runEnd = text.indexOf(' ', amount.end);
      if (runEnd < 0 || runEnd > end) runEnd = end;
      const run = runEnd - at;
      if (!joinsLine(column, run, columns) && run <= columns) {
        out = `${out.slice(0, at - 1)}\n${out.slice(at)}`;
        column = 0;
      }
    }
    // A word longer than the line is cut hard, as `wrap` does: its last piece starts the line.
    column = joinsLine(column, length, columns) ? column + 1 + length : ((length - 1) % columns) + 1;
    at = wordEnd;
  }
  return out;
}

function nextAmount(text: string, end: number): { start: number; end: number } | null {
  const m = AMOUNT.exec(text);
  if (!m || m.index >= end) return null;
  return { start: m.index, end: m.index + m[0].length };
}
