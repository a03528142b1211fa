import type { Choice, ScreenMeta } from '../../flows/lib.ts';
import { translate, type Catalogs, type Language, type Params } from '../i18n/catalog.ts';
import { fold, SCREEN_SEPTETS, septets, type FoldMode } from '../i18n/gsm7.ts';
import { NARROW_COLUMNS } from './narrow.ts';

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

/**
 * Lays out one screen: the optional error line, the text, then the listed lines and numbered choices,
 * cut into pages that each fit the budget with their navigation footer. Choices keep their numbers
 * across pages, so what the member types never depends on the page.
 */
export function renderScreen(r: RenderInput): RenderedScreen {
  const t = (key: string, params?: Params) => translate(r.catalogs, r.lang, key, r.baseParams ? { ...r.baseParams, ...params } : params);
  const error = r.errorKey ? t(r.errorKey, r.errorParams) : null;
  const body = t(r.meta.screen, r.meta.params?.(r.context));
  const choices = choicesOf(r.meta, r.context);
  const lines = r.meta.lines;
  const entries = [
    ...(lines ? lines.items(r.context).map((p) => t(lines.key, p)) : []),
    ...choices.map((c, i) => `${i + 1} ${c.label ?? t(c.labelKey ?? c.value, c.labelParams)}`),
  ];
  const end = r.meta.end === true;
  const fit = (s: string) => septets(s) <= SCREEN_SEPTETS;
  const join = (parts: Array<string | null>) => fold(parts.filter((p): p is string => p !== null && p !== '').join('\n'), r.foldMode);

  if (end) {
    const text = join([error, body, ...entries]);
    if (!fit(text)) throw new ScreenTooLongError(`END screen ${r.meta.screen} is ${septets(text)} septets`);
    return { text, end, page: 0, pages: 1, choices };
  }

  // One line when a 20-column handset can show it whole; otherwise a break (one septet, like the
  // space) before '00', so that no handset cuts a key from its label.
  const nav = (more: boolean) => {
    const keys = [
      ...(more ? [`98 ${t('nav.more')}`] : []),
      ...(r.showBack ? [`0 ${t('nav.back')}`] : []),
      ...(r.showHome ? [`00 ${t('nav.home')}`] : []),
    ];
    const line = keys.join(' ');
    return fold(line, r.foldMode).length <= NARROW_COLUMNS || keys.length < 3 ? line : `${keys.slice(0, 2).join(' ')}\n${keys[2]}`;
  };

  // Pages are laid out without the error line, so '98' and '0' mean the same with or without one.
  const pages: Array<{ items: string[]; more: boolean }> = [];
  let rest = entries;
  do {
    let n = rest.length;
    // Greedy: the longest run of entries that fits with a "more" footer, or all of them without it.
    if (!fit(join([body, ...rest, nav(false)]))) {
      n = 0;
      while (n < rest.length && fit(join([body, ...rest.slice(0, n + 1), nav(true)]))) n++;
      if (n === 0) throw new ScreenTooLongError(`screen ${r.meta.screen} cannot fit one line per page`);
    }
    pages.push({ items: rest.slice(0, n), more: n < rest.length });
    rest = rest.slice(n);
  } while (rest.length > 0);

  const page = Math.min(Math.max(r.page, 0), pages.length - 1);
  const shown = pages[page] as { items: string[]; more: boolean };
  const plain = join([body, ...shown.items, nav(shown.more)]);
  let text = plain;
  if (error) {
    // The error line goes on top; on a full page it takes the place of the text the member just read.
    text = join([error, body, ...shown.items, nav(shown.more)]);
    if (!fit(text)) text = join([error, ...shown.items, nav(shown.more)]);
    if (!fit(text)) text = plain;
  }
  return { text, end, page, pages: pages.length, choices };
}
