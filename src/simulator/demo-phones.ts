import { readFileSync } from 'node:fs';

export interface DemoPhone {
  phone: string;
  label: string;
}

const LANGUAGE = { fr: 'français', bm: 'bambara' } as const;

/**
 * The demo phones of design.md, read from the demo network itself: the members, the facilities'
 * agents (they get the facility menu on the same code), and one number that is not registered.
 */
export function demoPhones(): DemoPhone[] {
  const demo = JSON.parse(readFileSync(new URL('../../fixtures/demo.json', import.meta.url), 'utf8')) as {
    households: Array<{ phone: string; adherentName: string; language: keyof typeof LANGUAGE }>;
    facilities?: Array<{ name: string; agents: Array<{ phone: string; name: string; language: keyof typeof LANGUAGE }> }>;
  };
  return [
    ...demo.households.map((h) => ({ phone: h.phone, label: `${h.adherentName} (${LANGUAGE[h.language]})` })),
    ...(demo.facilities ?? []).flatMap((f) =>
      f.agents.map((a) => ({ phone: a.phone, label: `Agent ${a.name}, ${f.name} (${LANGUAGE[a.language]})` })),
    ),
    { phone: '+22376000099', label: 'Numéro non inscrit' },
  ];
}
