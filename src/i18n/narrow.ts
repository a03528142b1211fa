/**
 * How a 20-column handset lays a screen out, and what must never be cut by its wrapping.
 *
 * Handsets wrap like a word processor: at a space, and a word longer than the line is cut hard.
 * GSM-7 has no non-breaking space, so nothing we send can hold "1 250 FCFA" together: the wording
 * puts such runs where the handset will not cut them, and `keepUnitsWhole` breaks the line before
 * one that real values would still push across a line end.
 */

/** The narrowest handset screens UTM's members use. */
export const NARROW_COLUMNS = 20;

export interface WrappedLine {
  text: string;
  /** Offset in the original text of the line's first character. */
  start: number;
}

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
      if (current && current.text.length + 1 + word.length <= columns) {
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
  for (const [kind, re] of [['amount', AMOUNT], ['date', DATE]] as const) {
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
export function cutUnits(text: string, layout: { choiceLines: ReadonlySet<number>; footer: boolean }, columns: number = NARROW_COLUMNS): Unit[] {
  const lines = wrap(text, columns);
  const lineOf = (pos: number) => {
    let n = 0;
    for (let i = 0; i < lines.length; i++) if ((lines[i] as WrappedLine).start <= pos) n = i;
    return n;
  };
  return units(text, layout).filter((u) => lineOf(u.start) !== lineOf(u.end - 1));
}

const MAY_HOLD_UNIT = /\d/;

/**
 * `text` with a line break in place of the space before each amount or date that a `columns`-wide
 * handset would show over two lines, so it starts the next line whole. A break costs what the
 * space did (one septet, one character): the message's length and cost never change. A unit whose
 * word already starts a line cannot be helped and is left as it is (`flows check` reports those).
 */
export function keepUnitsWhole(text: string, columns: number = NARROW_COLUMNS): string {
  if (!MAY_HOLD_UNIT.test(text)) return text;
  let out = text;
  for (let from = 0; ; ) {
    const cut = firstCutUnit(out, columns, from);
    if (!cut) return out;
    const space = out.lastIndexOf(' ', cut.start - 1);
    const lineStart = out.lastIndexOf('\n', cut.start - 1);
    if (space < 0 || space < lineStart) {
      from = cut.end;
      continue;
    }
    out = `${out.slice(0, space)}\n${out.slice(space + 1)}`;
    from = cut.start;
  }
}

/** The first amount or date at or after `from` that the wrap shows over two lines. */
function firstCutUnit(text: string, columns: number, from: number): Unit | undefined {
  const lines = wrap(text, columns);
  const found: Unit[] = [];
  for (const [kind, re] of [['amount', AMOUNT], ['date', DATE]] as const) {
    for (const m of text.matchAll(re)) {
      const start = m.index ?? 0;
      if (start >= from) found.push({ kind, text: m[0], start, end: start + m[0].length });
    }
  }
  found.sort((a, b) => a.start - b.start);
  let line = 0;
  const lineOf = (pos: number) => {
    while (line + 1 < lines.length && (lines[line + 1] as WrappedLine).start <= pos) line++;
    return line;
  };
  for (const u of found) {
    const first = lineOf(u.start);
    const last = lineOf(u.end - 1);
    if (first !== last) return u;
  }
  return undefined;
}
