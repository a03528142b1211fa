/**
 * The line numbers an import reports are the file's: a quoted field across lines and a blank
 * line count, as a spreadsheet shows them (a record is numbered by the line it ends on).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COLUMNS, type ImportDeps, previewImport } from '../../src/office/import.ts';
import { importDb } from '../support/import-db.ts';
import type { TempDb } from '../support/sms-db.ts';

let t: TempDb;
let deps: ImportDeps;
beforeEach(() => {
  ({ t, deps } = importDb('sabatili-import-lines-', '2026-03-10T09:00:00Z'));
});
afterEach(() => t.cleanup());

function file(lines: string[]): string {
  const path = join(t.dir, 'members.csv');
  writeFileSync(path, `${[COLUMNS.join(','), ...lines].join('\n')}\n`);
  return path;
}

describe('the lines an import reports', () => {
  it('count the lines of a quoted field and the blank lines', async () => {
    const path = file([
      'KOU-MPE-1001,Salif Keïta,76 10 10 01,bm,kou-mpesso,2026-01-05,"Salif',
      'Keïta",adherent,1975,non',
      '',
      'KOU-MPE-1001,Salif Keïta,76 10 10 01,bm,kou-mpesso,2026-01-05,Nana Keïta,cousin,1980,non',
      'SIK-KLE-1002,Rokia Traoré,76 10 10 02,fr,sik-klela,2026-02-01,"Rokia',
      '',
      'Traoré",adherent,1990,oui',
      '',
      '',
      'SIK-KLE-1003,Ibrahim Diallo,12 34,fr,sik-klela,2026-02-01,Ibrahim Diallo,adherent,1970,non',
    ]);
    const preview = await previewImport(path, deps, '2026-03-10', undefined, { keep: false });
    expect(preview).toMatchObject({ households: 1, lines: 11, rejectedHouseholds: 2 });
    expect(preview.problems).toEqual([
      { line: 5, message: 'bénéficiaire: lien inconnu: cousin' },
      { line: 11, message: 'ménage SIK-KLE-1003: numéro de mobile invalide (ex. 76 00 00 01 ou +22376000001)' },
    ]);
  });

  it('are the same in a spreadsheet export: a byte-order mark and CRLF line ends', async () => {
    const path = join(t.dir, 'members-crlf.csv');
    const lines = [
      COLUMNS.join(','),
      'KOU-MPE-1001,Salif Keïta,76 10 10 01,bm,kou-mpesso,2026-01-05,"Salif',
      'Keïta",adherent,1975,non',
      '',
      'KOU-MPE-1001,Salif Keïta,76 10 10 01,bm,kou-mpesso,2026-01-05,Nana Keïta,cousin,1980,non',
    ];
    writeFileSync(path, `\ufeff${lines.join('\r\n')}\r\n`);
    const preview = await previewImport(path, deps, '2026-03-10', undefined, { keep: false });
    expect(preview).toMatchObject({ households: 0, lines: 5, rejectedHouseholds: 1 });
    expect(preview.problems).toEqual([{ line: 5, message: 'bénéficiaire: lien inconnu: cousin' }]);
  });

  it('name the line of a quote left open', async () => {
    const path = file([
      'KOU-MPE-1001,Salif Keïta,76 10 10 01,bm,kou-mpesso,2026-01-05,Salif Keïta,adherent,1975,non',
      'SIK-KLE-1002,Rokia Traoré,76 10 10 02,fr,sik-klela,2026-02-01,"Rokia Traoré,adherent,1990,oui',
    ]);
    await expect(previewImport(path, deps, '2026-03-10', undefined, { keep: false })).rejects.toThrow(
      /^ligne 3: guillemet ouvert jamais fermé$/,
    );
  });
});
