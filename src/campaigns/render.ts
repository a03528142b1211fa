// A campaign message is written by UTM's staff with named placeholders; every message, preview
// sample and test send goes through render(), so what is previewed is what is sent.

import { Refusal } from '../domain/refusal.ts';

/** The placeholders a campaign message may use, and what each becomes. */
export const PLACEHOLDERS = {
  prenom: "the adherent's first name",
  mutuelle: "the household's mutuelle",
  montant_du: 'what remains to pay for the next month, e.g. 1 250 FCFA',
  couvert_jusqu_au: 'the paid-through date, e.g. 31/03/2026 (- if never covered)',
  code_ussd: 'the USSD code to dial, e.g. *384*123#',
} as const;

export type Placeholder = keyof typeof PLACEHOLDERS;
export type PlaceholderValues = Record<Placeholder, string>;

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** A message naming a placeholder that does not exist. */
export class TemplateError extends Refusal {}

/** Throws a TemplateError naming each unknown placeholder and listing the valid ones. */
export function checkTemplate(text: string): void {
  const unknown = [...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string).filter((name) => !(name in PLACEHOLDERS));
  if (unknown.length > 0) {
    const names = [...new Set(unknown)].map((n) => `{${n}}`).join(', ');
    const valid = Object.keys(PLACEHOLDERS)
      .map((n) => `{${n}}`)
      .join(', ');
    throw new TemplateError(`unknown placeholder${unknown.length > 1 ? 's' : ''} ${names}; the valid ones are ${valid}`);
  }
}

/**
 * The template cut once at its placeholders, for a campaign that renders it for every member: the
 * message with each placeholder replaced (the template is checked first: see checkTemplate).
 */
export function compile(template: string): (values: PlaceholderValues) => string {
  const text: string[] = [];
  const names: Placeholder[] = [];
  let from = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (!((m[1] as string) in PLACEHOLDERS)) continue;
    text.push(template.slice(from, m.index));
    names.push(m[1] as Placeholder);
    from = m.index + m[0].length;
  }
  const tail = template.slice(from);
  return (values) => {
    let out = '';
    for (let i = 0; i < names.length; i++) out += (text[i] as string) + values[names[i] as Placeholder];
    return out + tail;
  };
}

export function render(template: string, values: PlaceholderValues): string {
  return compile(template)(values);
}
