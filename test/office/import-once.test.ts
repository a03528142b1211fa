/**
 * The import is checked once: the confirmation writes the households the check accepted, without
 * checking the file again, except for what the database itself guards (a card or phone registered
 * meanwhile) and a file that changed since its check.
 */
import { appendFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ImportDeps, previewImport, runImport } from '../../src/office/import.ts';
import { importDb } from '../support/import-db.ts';
import type { TempDb } from '../support/sms-db.ts';

const NOW = new Date('2026-03-10T09:00:00Z');
const ACTOR = { staffId: null, name: 'test' };

let t: TempDb;
let deps: ImportDeps;
let file: string;
beforeEach(() => {
  ({ t, deps } = importDb('sabatili-import-once-', NOW.toISOString()));
  file = join(t.dir, 'members.csv');
  copyFileSync('fixtures/import/members-sample.csv', file);
});
afterEach(() => t.cleanup());

/** The households staged, all checks together (a row holds a chunk of them). */
const staged = () => t.db.prepare('SELECT COALESCE(SUM(json_array_length(households)), 0) FROM member_import_chunks').pluck().get();

describe('a confirmed import', () => {
  it('writes what the check accepted, reports what the check reported, and keeps nothing after', async () => {
    const checked = await previewImport(file, deps, '2026-03-10');
    expect(staged()).toBe(2);
    const done = await runImport(file, deps, ACTOR, NOW);
    expect(done).toEqual(checked);
    expect(deps.households.findByCard('KOU-MPE-1001')?.phone).toBe('+22376101001');
    expect(deps.households.findByCard('SIK-KLE-1002')).toBeDefined();
    expect(staged()).toBe(0);
  });

  it('leaves out a household whose phone was registered between the check and the confirmation, with the problem on its line', async () => {
    await previewImport(file, deps, '2026-03-10');
    deps.households.create(
      {
        cardNumber: 'SIK-KLE-2000',
        adherentName: 'Awa Diarra',
        phone: '+22376101001',
        language: 'fr',
        mutuelleId: 'sik-klela',
        joinedOn: '2026-03-01',
        beneficiaries: [{ name: 'Awa Diarra', relation: 'adherent', subsidised: false }],
      },
      NOW,
    );
    const done = await runImport(file, deps, ACTOR, NOW);
    expect(done).toMatchObject({
      households: 1,
      beneficiaries: 1,
      rejectedHouseholds: 7,
      problemCount: 7,
      perMutuelle: { 'kou-mpesso': 0, 'sik-klela': 1 },
    });
    expect(done.problems).toContainEqual({
      line: 2,
      message: 'ménage KOU-MPE-1001: déjà le téléphone du ménage SIK-KLE-2000 (Awa Diarra)',
    });
    expect(deps.households.findByCard('KOU-MPE-1001')).toBeUndefined();
    expect(deps.households.findByCard('SIK-KLE-1002')).toBeDefined();
  });

  it('checks a file again that changed since its check', async () => {
    await previewImport(file, deps, '2026-03-10');
    appendFileSync(file, 'KOU-MPE-1009,Bintou Dembélé,76 10 10 09,fr,kou-mpesso,2026-01-05,Bintou Dembélé,adherent,1988,non\n');
    const done = await runImport(file, deps, ACTOR, NOW);
    expect(done).toMatchObject({ households: 3, lines: 12 });
    expect(deps.households.findByCard('KOU-MPE-1009')?.phone).toBe('+22376101009');
  });

  it('keeps nothing for a check alone', async () => {
    await previewImport(file, deps, '2026-03-10', undefined, { keep: false });
    expect(staged()).toBe(0);
  });
});
