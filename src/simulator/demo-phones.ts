import { readFileSync } from 'node:fs';

export interface DemoPhone {
  phone: string;
  label: string;
}

const languageName = (lang: string) => (lang === 'bm' ? 'bambara' : 'français');

/** The demo phones of design.md (members, then the health facilities' agents), read from the demo network itself, and one number that is not registered. */
export function demoPhones(): DemoPhone[] {
  const demo = JSON.parse(readFileSync(new URL('../../fixtures/demo.json', import.meta.url), 'utf8')) as {
    households: Array<{ phone: string; adherentName: string; language: string }>;
    facilities?: Array<{ name: string; agents: Array<{ phone: string; language: string }> }>;
  };
  return [
    ...demo.households.map((h) => ({ phone: h.phone, label: `${h.adherentName} (${languageName(h.language)})` })),
    ...(demo.facilities ?? []).flatMap((f) =>
      f.agents.map((a) => ({ phone: a.phone, label: `Agent du ${f.name} (${languageName(a.language)})` })),
    ),
    { phone: '+22376000099', label: 'Numéro non inscrit' },
  ];
}
