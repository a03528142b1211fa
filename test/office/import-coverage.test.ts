/**
 * An import keeps the coverage read model current in its own transaction: every imported
 * household has the row its (empty) ledger gives, and the sums kept with the rows agree.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COLUMNS, type ImportDeps, previewImport, runImport } from '../../src/office/import.ts';
import { importDb } from '../support/import-db.ts';
import type { TempDb } from '../support/sms-db.ts';

const NOW = new Date('2026-03-10T09:00:00Z');

let t: TempDb;
let deps: ImportDeps;
beforeEach(() => {
  ({ t, deps } = importDb('sabatili-import-coverage-', NOW.toISOString()));
});
afterEach(() => t.cleanup());

/** A members file of `n` households (SIK-KLE-5001…, phones +22373000001…), 1 to 5 beneficiaries each, in both mutuelles. */
function membersFile(n: number): string {
  const lines = [COLUMNS.join(',')];
  const mutuelles = ['kou-mpesso', 'sik-klela'];
  for (let h = 1; h <= n; h++) {
    for (let i = 0; i <= h % 5; i++) {
      lines.push(
        `SIK-KLE-${5000 + h},Adhérent ${h},+2237${String(3_000_000 + h).padStart(7, '0')},fr,${mutuelles[h % 2]},2026-01-0${1 + (h % 9)},Personne ${h}-${i},${i ? 'child' : 'adherent'},${1970 + 4 * i},${(h + i) % 3 ? 'non' : 'oui'}`,
      );
    }
  }
  const path = join(t.dir, 'members.csv');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

describe('an import and the coverage read model', () => {
  it('writes each imported household its coverage row, the sums agreeing', async () => {
    const path = membersFile(300);
    const before = deps.households.checkCoverage().checked;
    const done = await runImport(path, deps, { staffId: null, name: 'test' }, NOW);
    expect(done.households).toBe(300);
    const check = deps.households.checkCoverage();
    expect(check).toMatchObject({ checked: before + 300, differences: [], sumsAgree: true });
  });

  it('writes the right row to each household when one is left out at the confirmation', async () => {
    // 137 households checked, one left out at the confirmation: the 136 others get their rows, none shifted onto another.
    const path = membersFile(137);
    await previewImport(path, deps, '2026-03-10');
    deps.households.create(
      {
        cardNumber: 'KOU-MPE-9000',
        adherentName: 'Awa Diarra',
        phone: '+22373000042',
        language: 'fr',
        mutuelleId: 'kou-mpesso',
        joinedOn: '2026-03-01',
        beneficiaries: [{ name: 'Awa Diarra', relation: 'adherent', subsidised: false }],
      },
      NOW,
    );
    const before = deps.households.checkCoverage().checked;
    const done = await runImport(path, deps, { staffId: null, name: 'test' }, NOW);
    expect(done).toMatchObject({ households: 136, rejectedHouseholds: 1 });
    expect(deps.households.findByCard('SIK-KLE-5042')).toBeUndefined();
    const check = deps.households.checkCoverage();
    expect(check).toMatchObject({ checked: before + 136, differences: [], sumsAgree: true });
  });
});
