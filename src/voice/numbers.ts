import type { Language } from '../i18n/catalog.ts';

/**
 * Numbers 0 to 999 999 spoken from a few recorded words (catalog keys `voice.n.*`: 0 to 19, the
 * tens, 100, 1000 and "and"), so that a studio records about thirty words per language instead of
 * a million. Each language joins them in its own order: French says "deux cent cinquante",
 * Bambara "kèmè fila ni biduuru" (the multiplier after the hundred).
 */
export const NUMBER_WORDS: readonly string[] = [
  ...Array.from({ length: 20 }, (_, i) => `voice.n.${i}`),
  ...[20, 30, 40, 50, 60, 70, 80, 90].map((t) => `voice.n.${t}`),
  'voice.n.100',
  'voice.n.1000',
  'voice.n.and',
];

export const MAX_SPOKEN = 999_999;

const n = (x: number | 'and') => `voice.n.${x}`;

function frBelow100(x: number): string[] {
  if (x < 20) return [n(x)];
  const tens = Math.floor(x / 10);
  const unit = x % 10;
  // 70-79 and 90-99 are said as 60 or 80 followed by 10-19: soixante-douze, quatre-vingt-treize.
  if (tens === 7 || tens === 9) {
    if (unit === 0) return [n(tens * 10)];
    return tens === 7 && unit === 1 ? [n(60), n('and'), n(11)] : [n((tens - 1) * 10), n(10 + unit)];
  }
  if (unit === 0) return [n(tens * 10)];
  // "et un" from 21 to 61, never after quatre-vingt.
  return unit === 1 && tens !== 8 ? [n(tens * 10), n('and'), n(1)] : [n(tens * 10), n(unit)];
}

function frBelow1000(x: number): string[] {
  const hundreds = Math.floor(x / 100);
  const rest = x % 100;
  const head = hundreds === 0 ? [] : hundreds === 1 ? [n(100)] : [n(hundreds), n(100)];
  return rest === 0 && hundreds > 0 ? head : [...head, ...frBelow100(rest)];
}

function fr(x: number): string[] {
  const thousands = Math.floor(x / 1000);
  const rest = x % 1000;
  if (thousands === 0) return frBelow1000(rest);
  const head = thousands === 1 ? [n(1000)] : [...frBelow1000(thousands), n(1000)];
  return rest === 0 ? head : [...head, ...frBelow1000(rest)];
}

function bmBelow100(x: number): string[] {
  if (x < 20) return [n(x)];
  const unit = x % 10;
  const tens = n(x - unit);
  return unit === 0 ? [tens] : [tens, n('and'), n(unit)];
}

function bmBelow1000(x: number): string[] {
  const hundreds = Math.floor(x / 100);
  const rest = x % 100;
  if (hundreds === 0) return bmBelow100(rest);
  const head = hundreds === 1 ? [n(100)] : [n(100), n(hundreds)];
  return rest === 0 ? head : [...head, n('and'), ...bmBelow100(rest)];
}

function bm(x: number): string[] {
  const thousands = Math.floor(x / 1000);
  const rest = x % 1000;
  if (thousands === 0) return bmBelow1000(rest);
  // waa kelen (1000), waa fila (2000): the count always said.
  const head = [n(1000), ...bmBelow1000(thousands)];
  return rest === 0 ? head : [...head, n('and'), ...bmBelow1000(rest)];
}

/** The catalog keys a whole number from 0 to 999 999 is spoken from, in order. */
export function numberWords(lang: Language, value: number): string[] {
  if (!Number.isInteger(value) || value < 0 || value > MAX_SPOKEN) throw new RangeError(`cannot speak ${value}`);
  return lang === 'fr' ? fr(value) : bm(value);
}
