import type { Choice, ScreenMeta } from '../../flows/lib.ts';
import { type Catalog, type Catalogs, type Language, type Params, translate } from '../i18n/catalog.ts';
import { type FoldMode, fold, SCREEN_SEPTETS, septets } from '../i18n/gsm7.ts';
import { keepUnitsWhole, NARROW_COLUMNS } from '../i18n/narrow.ts';

export interface RenderInput {
  catalogs: Catalogs;
  lang: Language;
  meta: ScreenMeta<unknown>;
  context: unknown;
  page: number;
  /** A one-line message above the screen: what was wrong with the last input, or a notice. */
  errorKey?: string | undefined;
  errorParams?: Params | undefined;
  /** Parameters every message may use (the service code to redial), under the screen's own. */
  baseParams?: Params | undefined;
  showBack: boolean;
  showHome: boolean;
  foldMode: FoldMode;
}

export interface RenderedScreen {
  /** Folded text, without CON/END. */
  text: string;
  end: boolean;
  page: number;
  pages: number;
  choices: readonly Choice[];
  /** What it was laid out from: a channel that speaks the screen reads it with `describeScreen`. */
  from: RenderInput;
}

/**
 * A screen as data, for channels that do not show text (the voice renderer): its message key and
 * parameters, its lines, its choices with the number that picks each, what the member answers with,
 * the one-line error above it, and the navigation it offers. No layout, no pages: all of it.
 */
export interface ScreenData {
  lang: Language;
  key: string;
  params: Params;
  lines: { key: string; items: Params[] } | null;
  choices: ReadonlyArray<Choice & { number: number }>;
  /** 'choice': one key picks a numbered choice; 'text': the member types a value (an amount, a number). */
  input: 'choice' | 'text';
  end: boolean;
  error: { key: string; params: Params } | null;
  back: boolean;
  home: boolean;
}

export function describeScreen(r: RenderInput): ScreenData {
  const lines = r.meta.lines;
  return {
    lang: r.lang,
    key: r.meta.screen,
    params: { ...r.baseParams, ...r.meta.params?.(r.context) },
    lines: lines ? { key: lines.key, items: lines.items(r.context) } : null,
    choices: choicesOf(r.meta, r.context).map((c, i) => ({ ...c, number: i + 1 })),
    input: r.meta.input === 'text' ? 'text' : 'choice',
    end: r.meta.end === true,
    error: r.errorKey ? { key: r.errorKey, params: { ...r.baseParams, ...r.errorParams } } : null,
    back: r.showBack,
    home: r.showHome,
  };
}

/**
 * Which navigation a screen offers. `0` goes back within a flow, or home from a flow's first screen;
 * `00` is shown only where it leads somewhere `0` does not.
 */
export function navigation(canBack: boolean, atHome: boolean): { showBack: boolean; showHome: boolean } {
  return { showBack: canBack || !atHome, showHome: canBack && !atHome };
}

export class ScreenTooLongError extends Error {}

export function choicesOf(meta: ScreenMeta<unknown>, context: unknown): readonly Choice[] {
  const c = meta.choices;
  return typeof c === 'function' ? c(context) : (c ?? []);
}

/** A piece of a screen, folded, with its length in septets. */
interface Part {
  text: string;
  septets: number;
}

const part = (raw: string, mode: FoldMode): Part => {
  const text = fold(raw, mode);
  return { text, septets: septets(text) };
};

/**
 * Messages without placeholders (menus, labels, the navigation words) folded and counted once per
 * catalog entry and fold mode: a renderer sees the same few dozen over and over. Keyed by the entry
 * itself, so a catalog reloaded with new texts gets new entries and is never served an old fold.
 */
const constantParts = new WeakMap<object, Partial<Record<FoldMode, Part>>>();
/** Navigation footers, per catalog (one language) and fold mode, indexed by what they show (`navIndex`). */
const navParts = new WeakMap<object, Partial<Record<FoldMode, Part[]>>>();
const navIndex = (more: boolean, back: boolean, home: boolean) => (more ? 4 : 0) + (back ? 2 : 0) + (home ? 1 : 0);

/** Septets of parts joined by one '\n' each (a septet), as `join` lays them out. */
const joinedSeptets = (parts: readonly Part[]) => parts.reduce((n, p) => n + p.septets, 0) + Math.max(parts.length - 1, 0);
const joined = (parts: readonly Part[]) => parts.map((p) => p.text).join('\n');
const isShown = (p: Part | null): p is Part => p !== null && p.text !== '';
/** The parts a screen shows, in order: an empty one takes no line. */
const present = (parts: Array<Part | null>) => parts.filter(isShown);
const layout = (parts: Array<Part | null>) => joined(present(parts));
const fits = (parts: Array<Part | null>) => joinedSeptets(present(parts)) <= SCREEN_SEPTETS;
/** What a part adds to a screen's septets: its own and the line break before it; nothing when it shows nothing. */
const added = (p: Part | null) => (isShown(p) ? p.septets + 1 : 0);

/** A message of the catalog, folded and counted (once per catalog entry when it has no placeholder). */
function piece(r: RenderInput, catalog: Catalog, key: string, params?: Params): Part {
  const entry = catalog.get(key);
  if (!entry || entry.text.includes('{')) return part(translate(r.catalogs, r.lang, key, params, r.baseParams), r.foldMode);
  let byMode = constantParts.get(entry);
  if (!byMode) constantParts.set(entry, (byMode = {}));
  return (byMode[r.foldMode] ??= part(entry.text, r.foldMode));
}

/**
 * The navigation footer, laid out once per catalog and what it shows. One line when a 20-column
 * handset can show it whole; otherwise a break (one septet, like the space) before '00', so that no
 * handset cuts a key from its label.
 */
function footer(r: RenderInput, catalog: Catalog, more: boolean): Part {
  let byMode = navParts.get(catalog);
  if (!byMode) navParts.set(catalog, (byMode = {}));
  const laidOut = (byMode[r.foldMode] ??= []);
  const index = navIndex(more, r.showBack, r.showHome);
  const cached = laidOut[index];
  if (cached) return cached;
  const keys = [
    ...(more ? [`98 ${piece(r, catalog, 'nav.more').text}`] : []),
    ...(r.showBack ? [`0 ${piece(r, catalog, 'nav.back').text}`] : []),
    ...(r.showHome ? [`00 ${piece(r, catalog, 'nav.home').text}`] : []),
  ];
  const line = keys.join(' ');
  const text = line.length <= NARROW_COLUMNS || keys.length < 3 ? line : `${keys.slice(0, 2).join(' ')}\n${keys[2]}`;
  const laid = { text, septets: septets(text) };
  laidOut[index] = laid;
  return laid;
}

/**
 * Lays out one screen: the optional error line, the text, then the listed lines and numbered choices,
 * cut into pages that each fit the budget with their navigation footer. Choices keep their numbers
 * across pages, so what the member types never depends on the page.
 *
 * Each piece is folded and counted once (folding works character by character and never across a
 * line break, so the pieces' folds joined are the whole text's fold), then pages are fitted by adding
 * up septets.
 */
export function renderScreen(r: RenderInput): RenderedScreen {
  const catalog = r.catalogs[r.lang];
  const mode = r.foldMode;
  const error = r.errorKey ? piece(r, catalog, r.errorKey, r.errorParams) : null;
  const body = piece(r, catalog, r.meta.screen, r.meta.params?.(r.context));
  const choices = choicesOf(r.meta, r.context);
  const lines = r.meta.lines;
  const entries: Part[] = [];
  if (lines) for (const p of lines.items(r.context)) entries.push(piece(r, catalog, lines.key, p));
  for (let i = 0; i < choices.length; i++) {
    const c = choices[i] as Choice;
    const label = c.label === undefined ? piece(r, catalog, c.labelKey ?? c.value, c.labelParams) : part(c.label, mode);
    // "1 " is digits and a space: one septet each, folded as they are.
    const number = `${i + 1} `;
    entries.push({ text: number + label.text, septets: number.length + label.septets });
  }
  const end = r.meta.end === true;

  if (end) {
    const all = present([error, body, ...entries]);
    const text = keepUnitsWhole(joined(all));
    if (joinedSeptets(all) > SCREEN_SEPTETS) throw new ScreenTooLongError(`END screen ${r.meta.screen} is ${joinedSeptets(all)} septets`);
    return { text, end, page: 0, pages: 1, choices, from: r };
  }

  // Pages are laid out without the error line, so '98' and '0' mean the same with or without one.
  // Septets are added up as entries are taken (a screen's septets are its parts' plus a break between two).
  const pages: Array<{ items: Part[]; more: boolean }> = [];
  const withMore = added(body) + added(footer(r, catalog, true)) - 1;
  let all = added(body) + added(footer(r, catalog, false)) - 1;
  for (const e of entries) all += added(e);
  let from = 0;
  do {
    let n = entries.length - from;
    // Greedy: the longest run of entries that fits with a "more" footer, or all of them without it.
    if (all > SCREEN_SEPTETS) {
      n = 0;
      let size = withMore;
      while (from + n < entries.length && size + added(entries[from + n] as Part) <= SCREEN_SEPTETS)
        size += added(entries[from + n++] as Part);
      if (n === 0) throw new ScreenTooLongError(`screen ${r.meta.screen} cannot fit one line per page`);
      for (let i = from; i < from + n; i++) all -= added(entries[i] as Part);
    }
    pages.push({ items: entries.slice(from, from + n), more: from + n < entries.length });
    from += n;
  } while (from < entries.length);

  const page = Math.min(Math.max(r.page, 0), pages.length - 1);
  const shown = pages[page] as { items: Part[]; more: boolean };
  const nav = footer(r, catalog, shown.more);
  let text = layout([body, ...shown.items, nav]);
  if (error) {
    // The error line goes on top; on a full page it takes the place of the text the member just read.
    if (fits([error, body, ...shown.items, nav])) text = layout([error, body, ...shown.items, nav]);
    else if (fits([error, ...shown.items, nav])) text = layout([error, ...shown.items, nav]);
  }
  return { text: keepUnitsWhole(text), end, page, pages: pages.length, choices, from: r };
}
