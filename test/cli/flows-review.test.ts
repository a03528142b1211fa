import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCatalogs } from '../../src/i18n/catalog.ts';
import { exportReviewCsv, reviewItems } from '../../src/ussd/review.ts';
import { sabatili, spawnSabatili } from '../support/cli.ts';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A copy of the shipped catalogs to review, and the CLI pointed at it. */
function workspace() {
  dir = mkdtempSync(join(tmpdir(), 'sabatili-review-'));
  const catalogs = join(dir, 'messages');
  cpSync('flows/messages', catalogs, { recursive: true });
  const cli = (...args: string[]) => sabatili(['flows', 'review', ...args, '--catalogs', catalogs]);
  /** The same, as the real binary. */
  const binary = (...args: string[]) => spawnSabatili(['flows', 'review', ...args, '--catalogs', catalogs]);
  return {
    dir,
    catalogs,
    cli,
    binary,
    bm: () =>
      JSON.parse(readFileSync(join(catalogs, 'bm.json'), 'utf8')) as Record<string, { text: string; review: string; doubt?: string }>,
  };
}

const readCsv = (path: string) => parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, '')) as string[][];

describe('sabatili flows review', () => {
  it('exports every Bambara message for a spreadsheet, doubtful ones first, with where the member meets it', async () => {
    const w = workspace();
    const file = join(w.dir, 'review.csv');
    const r = await w.cli('export', file);
    expect(r.code).toBe(0);
    const [header, ...rows] = readCsv(file);
    expect(header).toEqual(['clé', 'français', 'bambara', 'où', 'statut', 'doute']);
    expect(rows).toHaveLength(loadCatalogs().bm.size);
    const firstPlain = rows.findIndex((row) => row[5] === '');
    expect(firstPlain).toBeGreaterThan(0);
    expect(rows.slice(firstPlain).every((row) => row[5] === '')).toBe(true);
    const main = rows.find((row) => row[0] === 'main.coverage') as string[];
    expect(main.slice(1, 5)).toEqual(['Ma couverture', 'N ka lakanali', 'main/menu', 'à relire']);
    expect(main[5]).toMatch(/sécurité/);
    expect(rows.find((row) => row[0] === 'sms.receipt.covered')?.[3]).toBe('SMS: reçu de paiement');
  });

  it('neutralises a cell a spreadsheet would run as a formula', () => {
    const c = loadCatalogs();
    const bm = new Map(c.bm);
    bm.set('nav.more', { text: '=HYPERLINK("http://x")', review: 'pending' });
    expect(exportReviewCsv({ fr: c.fr, bm })).toContain(`"'=HYPERLINK(""http://x"")"`);
  });

  it('round trip: the corrections come back into bm.json, marked reviewed, doubts cleared; nothing else moves', async () => {
    const w = workspace();
    const file = join(w.dir, 'review.csv');
    expect((await w.cli('export', file)).code).toBe(0);
    const before = w.bm();
    const [header, ...rows] = readCsv(file);
    for (const row of rows) {
      if (row[0] === 'main.coverage') row.splice(2, 1, 'N ka tɔn sarali'); // corrected, status left as exported...
      if (row[0] === 'main.coverage') row[4] = 'relu'; // ...then marked read
      if (row[0] === 'nav.back') row[4] = ''; // read, nothing to correct: an empty status means read
    }
    writeFileSync(file, stringify([header as string[], ...rows]));
    const r = await w.cli('import', file);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 texts corrected, 2 messages marked reviewed/);
    const after = w.bm();
    expect(after['main.coverage']).toEqual({ text: 'N ka tɔn sarali', review: 'reviewed' });
    expect(after['nav.back']).toEqual({ text: before['nav.back']?.text, review: 'reviewed' });
    const others = Object.keys(before).filter((k) => k !== 'main.coverage' && k !== 'nav.back');
    for (const k of others) expect(after[k]).toEqual(before[k]);
    // Exported again, the reviewed ones come last.
    expect(
      reviewItems(loadCatalogs(w.catalogs))
        .slice(-2)
        .map((i) => i.key),
    ).toEqual(['main.coverage', 'nav.back']);
  });

  it('refuses a file with bad lines, each with its line number, and writes nothing (the real binary)', async () => {
    const w = workspace();
    const before = readFileSync(join(w.catalogs, 'bm.json'), 'utf8');
    const file = join(w.dir, 'bad.csv');
    writeFileSync(
      file,
      [
        'clé,français,bambara,où,statut,doute',
        'nav.back,Retour,Kɔsegin,,relu,',
        'no.such.key,,Foo,,relu,',
        'callback.queued,,"I ni ce.\nUTM bɛna i wele.",,relu,', // two lines in one cell; no {date}
        'nav.more,,Wɛrɛ ✓,,relu,',
        'nav.home,,Ɲɛ fɔlɔ,,peut-être,',
        'main.title,,,,relu,',
        '',
      ].join('\n'),
    );
    const r = await w.binary('import', file);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe(`${file}:3: clé inconnue "no.such.key"`);
    expect(lines[1]).toMatch(
      new RegExp(`^${file}:4: "callback.queued": les champs entre accolades doivent être ceux du français \\(\\{date\\}\\)`),
    );
    expect(lines[2]).toBe(`${file}:6: "nav.more": caractères impossibles à envoyer en GSM-7: ✓`);
    expect(lines[3]).toBe(`${file}:7: statut "peut-être" inconnu: "relu" ou "à relire"`);
    expect(lines[4]).toBe(`${file}:8: "main.title": texte bambara vide`);
    expect(lines[5]).toBe('flows review import: 5 errors, nothing written');
    expect(readFileSync(join(w.catalogs, 'bm.json'), 'utf8')).toBe(before);
  });

  it('refuses a correction that would no longer fit its screen, on its line', async () => {
    const w = workspace();
    const file = join(w.dir, 'long.csv');
    writeFileSync(file, `clé,bambara,statut\nnav.back,Kɔsegin,relu\nreminders.off,"${'Hakilijigin dabilara. '.repeat(9)}",relu\n`);
    const r = await w.cli('import', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${file}:3: écran ou SMS refusé par flows check: .*reminders.off`));
  });
});
