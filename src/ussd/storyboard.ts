/**
 * `sabatili flows print FLOW --lang fr|bm`: a flow as a storyboard for UTM's product staff. Each
 * screen as a member sees it (rendered by the engine's renderer, with sample values in place of a
 * household's data), then where each key leads.
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { flows } from '../../flows/index.ts';
import { type Choice, FLOW_NAMES, type FlowName, type ScreenMeta } from '../../flows/lib.ts';
import { Refusal } from '../domain/refusal.ts';
import { type Catalogs, type Kind, type Language, type Params, type ParamValue, paramsFilled } from '../i18n/catalog.ts';
import { allNodes, HOME_FLOWS } from './check.ts';
import { navigation, renderScreen } from './render.ts';

/** What a screen shows in place of a household's data. */
const SAMPLE: Record<Kind, ParamValue> = {
  money: 1250,
  date: '2026-04-30',
  month: '2026-05',
  status: 'active',
  channel: 'orange_money',
  bearer: 'member',
  care: 'consultation',
  name: 'Moussa T.',
  label: 'Mutuelle de Kléla',
  count: 5,
  code: '*384*123#',
  reference: 'KS2603101',
  phone: '+22376000001',
};

const sampleParams = (catalogs: Catalogs, lang: Language, key: string): Params => paramsFilled(catalogs[lang].get(key)?.text ?? '', SAMPLE);

/** The transitions taking `type` from this state or above it: where each (guarded) branch goes. */
function leadsTo(node: AnyStateNode, type: string, flow: string): string | null {
  for (let n: AnyStateNode | undefined = node; n; n = n.parent) {
    const defs = n.transitions.get(type) ?? (type.startsWith('choice.') ? n.transitions.get('choice.*') : undefined);
    if (!defs) continue;
    const targets = defs.map((d) => {
      const t = d.target?.[0] as AnyStateNode | undefined;
      if (!t) return '(stays)';
      if (t.type === 'final') {
        const next = (t.config as { output?: { next?: string } }).output?.next;
        return next ? `(to ${next === 'home' ? 'the main menu' : `the ${next} flow`})` : `${t.id.replace(`${flow}.`, '')} (end)`;
      }
      return t.id.replace(`${flow}.`, '');
    });
    return [...new Set(targets)].join(' | ');
  }
  return null;
}

/** The storyboard of one flow in one language. */
export function storyboard(flow: string, lang: Language, catalogs: Catalogs): string {
  if (!(FLOW_NAMES as readonly string[]).includes(flow))
    throw new Refusal(`no flow "${flow}": one of ${FLOW_NAMES.join(', ')}`, 'flow', 404);
  const machine = flows[flow as FlowName] as AnyStateMachine;
  const homeFlow = HOME_FLOWS.includes(flow);
  const out: string[] = [`${flow} (${lang})`];
  for (const node of allNodes(machine.root as AnyStateNode)) {
    const meta = node.meta as ScreenMeta<unknown> | undefined;
    if (!meta?.screen) continue;
    const computed = typeof meta.choices === 'function';
    const atHome = homeFlow || meta.home === true;
    const shown: ScreenMeta<unknown> = {
      ...meta,
      params: () => sampleParams(catalogs, lang, meta.screen),
      ...(computed ? { choices: [{ value: '*', label: '(one line per item of data)' }] } : {}),
      ...(meta.lines ? { lines: { key: meta.lines.key, items: () => [sampleParams(catalogs, lang, meta.lines?.key ?? '')] } } : {}),
    };
    const canBack = leadsTo(node, 'back', flow) !== null;
    const screen = renderScreen({ catalogs, lang, meta: shown, context: null, page: 0, ...navigation(canBack, atHome), foldMode: 'gsm7' });
    out.push('', `── ${node.id.replace(`${flow}.`, '')}  [${meta.screen}]`, ...screen.text.split('\n').map((l) => `   ${l}`));
    const keys: string[] = [];
    const choices = (computed ? [{ value: '*' }] : ((meta.choices as readonly Choice[] | undefined) ?? [])) as readonly Pick<
      Choice,
      'value'
    >[];
    choices.forEach((c, i) => {
      const key = c.value === '*' ? '1…n' : String(i + 1);
      keys.push(`${key} → ${leadsTo(node, c.value === '*' ? 'choice.*' : `choice.${c.value}`, flow) ?? '(no handler)'}`);
    });
    if (computed) {
      // Besides the lines of data, the choices the flow adds by name ("another amount"…).
      const named = new Set<string>();
      for (let n: AnyStateNode | undefined = node; n; n = n.parent) {
        for (const type of n.transitions.keys()) if (type.startsWith('choice.') && type !== 'choice.*') named.add(type);
      }
      for (const type of named) keys.push(`"${type.slice('choice.'.length)}" → ${leadsTo(node, type, flow)}`);
    }
    if (meta.input === 'text') keys.push(`typed text → ${leadsTo(node, 'text', flow) ?? '(no handler)'}`);
    const back = leadsTo(node, 'back', flow);
    if (back) keys.push(`0 → ${back}`);
    else if (!meta.end) keys.push(atHome ? '0 → (nothing: already home)' : '0 → (the main menu)');
    if (meta.end) keys.push('(the session ends here)');
    out.push(...keys.map((k) => `   ${k}`));
  }
  return out.join('\n');
}
