/**
 * On a 20-column handset, lines wrap at spaces: an amount must not be split from "FCFA" (nor its
 * digit groups from each other), and a menu number must not be left alone on its line. Checked on
 * every screen of the coverage and contribute transcripts (the screens issue 15 rewrote), as the
 * handset would wrap them.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTranscript } from '../../src/simulator/transcripts.ts';

const COLUMNS = 20;
const ROOT = join(import.meta.dirname, '..', '..', 'fixtures', 'transcripts');

/** Greedy word wrap, as feature phones do: a word that does not fit goes to the next line; a longer word is cut. */
function wrap(line: string, columns = COLUMNS): string[] {
  const out: string[] = [];
  let current = '';
  for (const word of line.split(' ')) {
    const next = current === '' ? word : `${current} ${word}`;
    if (next.length <= columns) current = next;
    else {
      if (current !== '') out.push(current);
      current = word;
      while (current.length > columns) {
        out.push(current.slice(0, columns));
        current = current.slice(columns);
      }
    }
  }
  out.push(current);
  return out;
}

const AMOUNT = /\d{1,3}(?: \d{3})* FCFA/g;
const DATE = /\d{2}\/\d{2}\/\d{4}/g;

/** What a 20-column handset would split: amounts and dates cut across lines, a menu number alone. */
function splits(screen: string): string[] {
  const problems: string[] = [];
  for (const line of screen.replace(/^(CON|END) /, '').split('\n')) {
    const rows = wrap(line);
    for (const [re, what] of [
      [AMOUNT, 'amount'],
      [DATE, 'date'],
    ] as const) {
      for (const m of line.matchAll(re))
        if (!rows.some((r) => r.includes(m[0]))) problems.push(`${what} "${m[0]}" split in "${line}": ${JSON.stringify(rows)}`);
    }
    if (/^\d{1,2} \S/.test(line) && /^\d{1,2}$/.test(rows[0] ?? '')) problems.push(`menu number alone in "${line}"`);
  }
  return problems;
}

describe('a 20-column handset', () => {
  it('wraps at spaces', () => {
    expect(wrap("1 Payer 1 250 FCFA jusqu'au 31/05/2026")).toEqual(['1 Payer 1 250 FCFA', "jusqu'au 31/05/2026"]);
    expect(splits("CON 1 Jusqu'au 31/03/2027: 3 000 FCFA")).toHaveLength(1); // what issue 15 warned about
    expect(splits("CON 1 Payer 999 999 FCFA jusqu'au 31/12/2026")).toEqual([]);
  });

  const files = ['coverage', 'contribute'].flatMap((flow) =>
    readdirSync(join(ROOT, flow))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => `${flow}/${f}`),
  );
  it.each(files)('%s: no amount, date or menu number split', (file) => {
    const t = readTranscript(join(ROOT, file));
    const problems = t.steps.flatMap((s, i) => splits('screen' in s ? s.screen : '').map((p) => `step ${i + 1}: ${p}`));
    expect(problems).toEqual([]);
  });
});
