import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { flows } from '../../flows/index.ts';
import { type Choice, FLOW_NAMES, type ScreenMeta } from '../../flows/lib.ts';
import {
  type Catalogs,
  isSmsKey,
  LANGUAGES,
  type Language,
  loadCatalogs,
  NAME_MAX,
  PARAM_KINDS,
  type Params,
  paramsFilled,
  placeholders,
  translate,
  WORST_CASE,
} from '../i18n/catalog.ts';
import { fold, SCREEN_SEPTETS, septets, unfoldable } from '../i18n/gsm7.ts';
import { cutUnits, NARROW_COLUMNS, smsOnTheWire } from '../i18n/narrow.ts';
import { navigation, renderScreen, ScreenTooLongError } from './render.ts';

export interface FlowsReport {
  problems: string[];
  /** SMS a 20-column handset would cut (an amount from its currency…): reported, not yet failing. */
  pendingReview: string[];
  screens: number;
  languages: number;
}

const mainMenu = (flows.main as AnyStateMachine).root.states.menu?.meta as ScreenMeta<unknown>;

/** Screens the engine shows on its own, outside any flow, and the resume offer with each line it may add. */
const ENGINE_SCREENS: Array<{ name: string; meta: ScreenMeta<unknown> }> = [
  // The main menu on redial after a contribution was cut off: its own choices, then the offer to continue.
  ...(['resume.quote', 'resume.contribute'] as const).map((key) => ({
    name: `resume.offer with ${key}`,
    meta: {
      ...mainMenu,
      choices: [...(mainMenu.choices as readonly Choice[]), { value: 'resume', labelKey: key, labelParams: { amount: WORST_CASE.money } }],
    },
  })),
  { name: 'engine.tooManyOffer', meta: { screen: 'tooMany.offer', choices: [{ value: 'callback', labelKey: 'tooMany.callback' }] } },
  { name: 'engine.tooMany', meta: { screen: 'error.tooMany', end: true } },
  { name: 'engine.failed', meta: { screen: 'common.failed', end: true } },
  { name: 'engine.moved', meta: { screen: 'session.moved', end: true } },
];

const worstParams = (text: string): Params => paramsFilled(text, WORST_CASE);

/** A worst-case name as a 20-column handset sees it: as long as a name may be, in words of at most 17 letters. */
const NARROW_NAME = `${'W'.repeat(17)} ${'W'.repeat(NAME_MAX - 18)}`;

const UNIT_NAMES = { amount: 'splits the amount', date: 'splits the date', key: 'splits the key from its label' } as const;

/**
 * What a 20-column handset would cut on a rendered screen: an amount from its currency, a date, a
 * choice or navigation key from its label. `body` is the screen's own text, before its choices.
 */
export function narrowProblems(rendered: string, body: string, end: boolean): string[] {
  const lines = rendered.split('\n');
  const bodyLines = body.split('\n').length;
  // The navigation footer is the last line, or the last two when it was broken before '00'.
  const footerLines = end
    ? 0
    : /^00 /.test(lines[lines.length - 1] ?? '') && /^98 /.test(lines[lines.length - 2] ?? '')
      ? 2
      : /^(98|0|00) /.test(lines[lines.length - 1] ?? '')
        ? 1
        : 0;
  const footer = footerLines > 0;
  const choiceLines = new Set<number>();
  lines.forEach((line, i) => {
    if (i >= lines.length - footerLines) choiceLines.add(i);
    else if (i >= bodyLines && /^\d{1,2} /.test(line)) choiceLines.add(i);
  });
  return cutUnits(rendered, { choiceLines, footer }).map((u) => `${UNIT_NAMES[u.kind]} "${u.text}"`);
}

/** The flows '00' can lead to: members' main menu, the joining menu and the facility menu. */
export const HOME_FLOWS: readonly string[] = ['main', 'register', 'facility'];

function handlesBack(node: AnyStateNode | undefined): boolean {
  for (let n = node; n; n = n.parent) if (n.transitions.has('back')) return true;
  return false;
}

export function allNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states as Record<string, AnyStateNode>).flatMap(allNodes)];
}

/** States reachable from the machine's initial state through any transition, invoke outcome or `always`. */
function reachable(machine: AnyStateMachine): Set<string> {
  const seen = new Set<string>();
  const visit = (node: AnyStateNode) => {
    if (seen.has(node.id)) return;
    seen.add(node.id);
    if (node.parent) visit(node.parent);
    for (const t of node.initial?.target ?? []) visit(t as AnyStateNode);
    for (const defs of node.transitions.values()) for (const d of defs) for (const t of d.target ?? []) visit(t as AnyStateNode);
    for (const d of node.always ?? []) for (const t of d.target ?? []) visit(t as AnyStateNode);
  };
  visit(machine.root as AnyStateNode);
  return seen;
}

/** Does this state or one above it take the event (exactly, or through a `choice.*` / `*` wildcard)? */
function handles(node: AnyStateNode, type: string): boolean {
  for (let n: AnyStateNode | undefined = node; n; n = n.parent) {
    if (n.transitions.has(type) || n.transitions.has('choice.*') || n.transitions.has('*')) return true;
  }
  return false;
}

/**
 * The choices a screen lists that no transition takes. Choices computed from data (a function) can
 * only be taken by a `choice.*` wildcard: that is what is checked for them.
 */
export function unhandledChoices(node: AnyStateNode, meta: ScreenMeta<unknown> | undefined): string[] {
  if (!meta?.choices) return [];
  if (typeof meta.choices === 'function') return handles(node, 'choice.*') ? [] : ['(computed)'];
  return meta.choices.map((c) => c.value).filter((value) => !handles(node, `choice.${value}`));
}

/**
 * What `sabatili flows check` verifies, so that no member ever meets a missing message, a screen cut
 * by the handset, a '?' in place of a letter, or a menu state nobody can reach.
 */
export function checkFlows(catalogs: Catalogs = loadCatalogs()): FlowsReport {
  const problems: string[] = [];
  const pendingReview: string[] = [];
  let screens = 0;

  // 1. Catalogs: same keys, same placeholders, every character foldable, every placeholder typed.
  const keys = new Set(LANGUAGES.flatMap((l) => [...catalogs[l].keys()]));
  for (const key of keys) {
    for (const lang of LANGUAGES) {
      const entry = catalogs[lang].get(key);
      if (!entry) {
        problems.push(`message "${key}" is missing in ${lang}.json`);
        continue;
      }
      const bad = unfoldable(entry.text);
      if (bad.length) problems.push(`${lang} "${key}": cannot be folded to GSM-7: ${bad.join(' ')}`);
      for (const p of placeholders(entry.text)) {
        if (!Object.hasOwn(PARAM_KINDS, p)) problems.push(`${lang} "${key}": unknown placeholder {${p}}`);
      }
      if (lang !== 'fr') {
        const fr = catalogs.fr.get(key);
        if (fr && placeholders(fr.text).sort().join() !== placeholders(entry.text).sort().join()) {
          problems.push(`${lang} "${key}": placeholders differ from fr.json`);
        }
      }
      if (lang === 'bm' && entry.review !== 'reviewed')
        pendingReview.push(`bm "${key}": ${entry.text}${entry.doubt ? `  [doute: ${entry.doubt}]` : ''}`);
    }
  }

  // 2. Every screen in every language, with worst-case values and the longest error line above it.
  const worstError = (lang: Language) =>
    Math.max(
      ...[...catalogs[lang].keys()]
        .filter((k) => k.startsWith('error.') && k !== 'error.tooMany')
        .map((k) => septets(fold(translate(catalogs, lang, k, worstParams(catalogs[lang].get(k)?.text ?? ''))))),
    );

  const checkScreen = (where: string, meta: ScreenMeta<unknown>, nav: { showBack: boolean; showHome: boolean }) => {
    screens++;
    for (const lang of LANGUAGES) {
      const text = catalogs[lang].get(meta.screen)?.text;
      if (text === undefined) {
        problems.push(`${where}: screen "${meta.screen}" missing in ${lang}.json`);
        continue;
      }
      const dynamic = typeof meta.choices === 'function';
      const choices: readonly Choice[] = dynamic
        ? [{ value: 'x', label: String(WORST_CASE.name) }]
        : ((meta.choices as readonly Choice[] | undefined) ?? []);
      const lineKey = meta.lines?.key;
      const worst: ScreenMeta<unknown> = {
        ...meta,
        params: () => worstParams(text),
        choices,
        ...(lineKey
          ? {
              lines: {
                key: lineKey,
                items: () => [worstParams(catalogs[lang].get(lineKey)?.text ?? ''), worstParams(catalogs[lang].get(lineKey)?.text ?? '')],
              },
            }
          : {}),
      };
      try {
        const r = renderScreen({ catalogs, lang, meta: worst, context: null, page: 0, ...nav, foldMode: 'gsm7' });
        if (!lineKey && !dynamic && r.pages > 1) {
          problems.push(`${where} (${lang}): "${meta.screen}" with its choices needs ${r.pages} pages of ${SCREEN_SEPTETS} septets`);
        } else if (!lineKey && !dynamic && !meta.end && septets(r.text) + 1 + worstError(lang) > SCREEN_SEPTETS) {
          // A menu re-shown after a wrong key must keep its text and every choice under the error line.
          problems.push(
            `${where} (${lang}): "${meta.screen}" does not fit under an error line (${septets(r.text)} + ${1 + worstError(lang)} septets)`,
          );
        }
        // Dynamic choices are names of places or people: no such name has a word a handset cannot show after its key.
        // A list is laid out long enough to need pages, so that its '98' footer is checked too.
        const narrow =
          dynamic || lineKey
            ? renderScreen({
                catalogs,
                lang,
                meta: {
                  ...worst,
                  choices: dynamic ? Array.from({ length: 12 }, () => ({ value: 'x', label: NARROW_NAME })) : choices,
                  ...(lineKey
                    ? {
                        lines: {
                          key: lineKey,
                          items: () => Array.from({ length: 12 }, () => worstParams(catalogs[lang].get(lineKey)?.text ?? '')),
                        },
                      }
                    : {}),
                },
                context: null,
                page: 0,
                ...nav,
                foldMode: 'gsm7',
              })
            : r;
        for (const problem of narrowProblems(narrow.text, fold(translate(catalogs, lang, meta.screen, worstParams(text))), r.end)) {
          problems.push(`${where} (${lang}): "${meta.screen}" at ${NARROW_COLUMNS} columns ${problem}`);
        }
      } catch (err) {
        if (err instanceof ScreenTooLongError) problems.push(`${where} (${lang}): ${err.message}`);
        else problems.push(`${where} (${lang}): ${(err as Error).message}`);
      }
    }
  };

  for (const s of ENGINE_SCREENS) checkScreen(s.name, s.meta, { showBack: false, showHome: false });

  // SMS templates: one segment (160 GSM-7 septets) with worst-case values, so a receipt never costs double.
  for (const key of keys) {
    if (!isSmsKey(key)) continue;
    screens++;
    for (const lang of LANGUAGES) {
      const text = catalogs[lang].get(key)?.text;
      if (text === undefined) continue;
      const folded = smsOnTheWire(translate(catalogs, lang, key, worstParams(text)), 'gsm7');
      for (const problem of narrowProblems(folded, folded, true))
        problems.push(`${lang} "${key}": SMS at ${NARROW_COLUMNS} columns ${problem}`);
      const n = septets(folded);
      if (n > SCREEN_SEPTETS)
        problems.push(`${lang} "${key}": SMS of ${n} septets with worst-case values, over one segment (${SCREEN_SEPTETS})`);
    }
  }

  // 3. Machines: reachable states, a screen wherever the member waits, services that cannot hang a hop.
  for (const name of FLOW_NAMES) {
    const machine = flows[name] as AnyStateMachine;
    const seen = reachable(machine);
    for (const node of allNodes(machine.root as AnyStateNode)) {
      const where = `${name}: ${node.id}`;
      if (!seen.has(node.id)) problems.push(`${where} is unreachable`);
      const meta = node.meta as ScreenMeta<unknown> | undefined;
      if (meta?.screen) checkScreen(where, meta, navigation(handlesBack(node), HOME_FLOWS.includes(name) || meta.home === true));
      for (const value of unhandledChoices(node, meta)) {
        problems.push(
          `${where}: choice "${value}" has no handler ('choice.${value}' or 'choice.*' here or above): pressing it would say "invalid"`,
        );
      }
      if (node.type === 'atomic' && !meta?.screen && !node.always?.length && node.invoke.length === 0) {
        problems.push(`${where}: the member would wait here with no screen`);
      }
      if (node.type === 'final' && !meta?.screen) {
        const out = (node.config as { output?: { next?: string } | (() => unknown) }).output;
        // A hand-off computed from context (where the resume offer leads) is left to the flow's tests.
        const next = typeof out === 'function' ? 'home' : out?.next;
        if (!next || !(next === 'home' || (FLOW_NAMES as readonly string[]).includes(next))) {
          problems.push(`${where}: final state with no screen must hand over to a flow (output.next)`);
        }
      }
      if (node.invoke.length > 0) {
        if (!node.tags.includes('busy')) problems.push(`${where}: invokes a service but is not tagged 'busy'`);
        if (!node.transitions.has('budget.exceeded')) problems.push(`${where}: does not handle 'budget.exceeded'`);
        for (const inv of node.invoke) {
          if (![...node.transitions.keys()].some((k) => k.startsWith(`xstate.error.actor.${inv.id}`))) {
            problems.push(`${where}: invoke of ${String(inv.src)} has no onError`);
          }
        }
      }
    }
  }

  return { problems, pendingReview, screens, languages: LANGUAGES.length };
}
