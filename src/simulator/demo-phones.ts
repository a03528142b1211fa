import { readFileSync } from 'node:fs';

export interface DemoPhone {
  phone: string;
  label: string;
}

/** The demo phones of design.md, read from the demo network itself, and one number that is not registered. */
export function demoPhones(): DemoPhone[] {
  const demo = JSON.parse(readFileSync(new URL('../../fixtures/demo.json', import.meta.url), 'utf8')) as {
    households: Array<{ phone: string; adherentName: string; language: string }>;
  };
  return [
    ...demo.households.map((h) => ({ phone: h.phone, label: `${h.adherentName} (${h.language === 'bm' ? 'bambara' : 'français'})` })),
    { phone: '+22376000099', label: 'Numéro non inscrit' },
  ];
}
