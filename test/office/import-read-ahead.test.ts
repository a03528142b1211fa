/**
 * The check reads a few thousand lines ahead and asks the database about their households' cards
 * and phones in one go: what it reports is what checking them one by one reports, for households
 * on either side of a read-ahead's end too.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COLUMNS, type ImportDeps, type ImportProblem, previewImport } from '../../src/office/import.ts';
import { importDb } from '../support/import-db.ts';
import type { TempDb } from '../support/sms-db.ts';

const NOW = new Date('2026-03-10T09:00:00Z');

let t: TempDb;
let deps: ImportDeps;
beforeEach(() => {
  ({ t, deps } = importDb('sabatili-import-read-ahead-', NOW.toISOString()));
});
afterEach(() => t.cleanup());

const card = (h: number) => `SIK-KLE-${10_000 + h}`;
const phone = (h: number) => `+2237${String(4_000_000 + h).padStart(7, '0')}`;

describe('the check of a file longer than its read-ahead', () => {
  it('reports every card and phone registered before it, on the household’s first line, and only those', async () => {
    const n = 2500;
    // Registered before the check: the card of every 7th household (with another phone), the phone of every 11th (with another card).
    const register = (cardNumber: string, phoneNumber: string) =>
      deps.households.create(
        {
          cardNumber,
          adherentName: `Déjà ${cardNumber}`,
          phone: phoneNumber,
          language: 'fr',
          mutuelleId: 'sik-klela',
          joinedOn: '2026-01-01',
          beneficiaries: [{ name: 'Déjà', relation: 'adherent', subsidised: false }],
        },
        NOW,
      );
    for (let h = 7; h <= n; h += 7) register(card(h), `+2237${String(5_000_000 + h).padStart(7, '0')}`);
    for (let h = 11; h <= n; h += 11) register(`KOU-MPE-${20_000 + h}`, phone(h));

    const lines = [COLUMNS.join(',')];
    const expected: ImportProblem[] = [];
    for (let h = 1; h <= n; h++) {
      const errors = [
        ...(h % 11 === 0 ? [`déjà le téléphone du ménage KOU-MPE-${20_000 + h} (Déjà KOU-MPE-${20_000 + h})`] : []),
        ...(h % 7 === 0 ? ['ce numéro de carte existe déjà'] : []),
      ];
      if (errors.length) expected.push({ line: lines.length + 1, message: `ménage ${card(h)}: ${errors.join('; ')}` });
      // The phone typed nationally on some households: the lookup is of its E.164 form.
      const typed = h % 2 ? phone(h) : `${phone(h).slice(4, 6)} ${phone(h).slice(6, 8)} ${phone(h).slice(8, 10)} ${phone(h).slice(10)}`;
      for (let i = 0; i <= h % 3; i++) {
        lines.push(`${card(h)},Adhérent ${h},${typed},fr,sik-klela,2026-01-05,Personne ${h}-${i},${i ? 'child' : 'adherent'},1980,non`);
      }
    }
    expect(lines.length).toBeGreaterThan(2 * 2000);
    const path = join(t.dir, 'members.csv');
    writeFileSync(path, `${lines.join('\n')}\n`);

    const preview = await previewImport(path, deps, '2026-03-10', undefined, { keep: false });
    expect(preview.problems).toEqual(expected);
    expect(preview).toMatchObject({ households: n - expected.length, rejectedHouseholds: expected.length, lines: lines.length });
  });
});
