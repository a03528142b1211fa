/**
 * Importing members from a CSV file, from the command line and from the upload page: line-numbered
 * problems, nothing written before the confirmation, the valid households then written together,
 * and a 100 000-line file read as a stream in a small heap.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/db/seed.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { sabatili as run, spawnSabatili } from '../support/cli.ts';
import { type Browser, loggedIn } from './support.ts';

const SAMPLE = 'fixtures/import/members-sample.csv';

/** What fixtures/import/members-sample.csv holds: two good households, and one problem on each other line. */
const SAMPLE_PROBLEMS = [
  'line 6: ménage SIK-KLE-1003: numéro de mobile invalide (ex. 76 00 00 01 ou +22376000001)',
  'line 7: ménage SIK-ZZZ-1004: mutuelle inconnue: sik-nowhere',
  'line 8: ménage SIK-KLE-0001: ce numéro de carte existe déjà',
  'line 9: ménage SIK-KLE-1006: déjà le téléphone du ménage SIK-NIE-0002 (Aminata Sangaré)',
  'line 10: phone: 76 10 10 02 est déjà le téléphone de SIK-KLE-1002 dans ce fichier',
  'line 11: bénéficiaire: lien inconnu: cousin',
];

/** In this process through the command parser, or (`node` flags) the real binary in a child process. */
async function sabatili(
  args: string[],
  env: Record<string, string>,
  node?: string[],
): Promise<{ code: number | null; out: string; err: string }> {
  const r = node ? await spawnSabatili(args, { env, node }) : await run(args, { env });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

describe('sabatili import members', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sabatili-import-'));
  let app: TestApp;
  let env: Record<string, string>;
  beforeAll(async () => {
    // The demo network in a file the CLI opens with its own connection.
    app = await startTestApp({ dbPath: join(dir, 'import.db') });
    seedDemo(app.services.db, app.clock);
    env = { DATABASE_PATH: app.dbPath };
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const count = () => app.services.db.prepare('SELECT count(*) FROM households').pluck().get();

  it('reports every problem with its line and writes nothing without --yes', async () => {
    const before = count();
    const r = await sabatili(['import', 'members', SAMPLE], env);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('11 lines read: 2 households (4 beneficiaries) can be imported, 6 left out');
    expect(
      r.out
        .split('\n')
        .filter((l) => l.startsWith('  line '))
        .map((l) => l.trim()),
    ).toEqual(SAMPLE_PROBLEMS);
    expect(r.out).toContain('Nothing written: run again with --yes to import.');
    expect(count()).toBe(before);
  });

  it('imports the valid households with --yes, audited, and refuses them the second time', async () => {
    const before = count() as number;
    const r = await sabatili(['import', 'members', SAMPLE, '--yes'], env);
    expect(r.out).toContain('2 households (4 beneficiaries) imported, 6 left out');
    expect(count()).toBe(before + 2);
    const salif = app.services.households.findByCard('KOU-MPE-1001');
    expect(salif).toMatchObject({ adherentName: 'Salif Keïta', phone: '+22376101001', language: 'bm', mutuelleId: 'kou-mpesso' });
    expect(app.services.households.load(salif?.id as number)?.beneficiaries.map((b) => [b.name, b.subsidised])).toEqual([
      ['Salif Keïta', false],
      ['Nana Keïta', false],
      ['Sidi Keïta', true],
    ]);
    expect(app.services.office.audit.list({ action: 'members.import' })[0]?.after).toBe(
      '{"households":2,"beneficiaries":4,"rejectedHouseholds":6,"problems":6}',
    );
    const again = await sabatili(['import', 'members', SAMPLE, '--check'], env);
    expect(again.out).toContain('0 households (0 beneficiaries) can be imported');
    expect(again.out).toContain('line 2: ménage KOU-MPE-1001:');
  });

  it('names the missing columns, and a file that does not exist, with exit code 2', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'card_number,adherent_name,phone\nA,B,C\n');
    const r = await sabatili(['import', 'members', bad], env);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      'ligne 1: colonne(s) manquante(s) language, mutuelle, joined_on, beneficiary_name, relation, birth_year, subsidised',
    );
    const none = await sabatili(['import', 'members', join(dir, 'nope.csv')], env);
    expect(none.code).toBe(2);
    expect(none.err).toContain('nope.csv: no such file');
  });

  it('reads a 100 000-line file as a stream, within a 64 MB heap', async () => {
    const big = join(dir, 'big.csv');
    const lines = [readFileSync(SAMPLE, 'utf8').split('\n')[0] as string];
    for (let h = 1; lines.length <= 100_000; h++) {
      const phone = `+2237${String(2_000_000 + h).padStart(7, '0')}`;
      for (let i = 0; i < 5 && lines.length <= 100_000; i++) {
        lines.push(
          `SIK-KLE-${200000 + h},Adhérent ${h},${phone},fr,sik-klela,2026-01-01,Personne ${h}-${i},${i ? 'child' : 'adherent'},${1970 + 5 * i},${i > 2 ? 'oui' : 'non'}`,
        );
      }
    }
    writeFileSync(big, `${lines.join('\n')}\n`);
    // A 4 MB young generation (V8 allows up to 16 by default): the 64 MB old space stays the bound
    // (reading the whole file there runs out of memory), and the collector no longer runs a full
    // mark-compact every few thousand lines, which halved the child's CPU time.
    const r = await sabatili(['import', 'members', big, '--check'], env, ['--max-old-space-size=64', '--max-semi-space-size=4']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('100001 lines read: 20000 households (100000 beneficiaries) can be imported');
  }, 120_000);
});

describe('the import page', () => {
  let app: TestApp;
  let officer: Browser;
  beforeEach(async () => {
    app = await startTestApp();
    officer = await loggedIn(app, 'awa@utm.ml', 'officer');
  });
  afterEach(() => app.close());

  async function upload(b: Browser, file: string, name: string, csrf?: string) {
    const body = new FormData();
    body.set('_csrf', csrf ?? (await b.csrf('/admin/import')));
    body.set('file', new Blob([readFileSync(file)], { type: 'text/csv' }), name);
    const res = await fetch(`${app.url}/admin/import`, { method: 'POST', headers: { cookie: b.cookie }, body, redirect: 'manual' });
    return { status: res.status, body: await res.text() };
  }

  it('previews an uploaded file with its problems by line, then imports on confirmation', async () => {
    const preview = await upload(officer, SAMPLE, 'membres.csv');
    expect(preview.status).toBe(200);
    expect(preview.body).toContain('<strong>2</strong> ménage(s), <strong>4</strong> bénéficiaire(s) peuvent être importés');
    expect(preview.body).toContain(
      '<td class="num">10</td><td>phone: 76 10 10 02 est déjà le téléphone de SIK-KLE-1002 dans ce fichier</td>',
    );
    expect(app.services.households.findByCard('KOU-MPE-1001')).toBeUndefined();
    const token = /action="\/admin\/import\/(\d+-[0-9a-f-]{36})\/confirm"/.exec(preview.body)?.[1] as string;
    const done = await officer.post(`/admin/import/${token}/confirm`, {});
    expect(done.status).toBe(200);
    expect(done.body).toContain('Import terminé');
    expect(app.services.households.findByCard('KOU-MPE-1001')?.adherentName).toBe('Salif Keïta');
    expect(app.services.office.audit.list({ action: 'members.import' })[0]?.actor).toBe('awa@utm.ml');
    // The file is gone once imported: confirming twice imports nothing more.
    expect((await officer.post(`/admin/import/${token}/confirm`, {})).status).toBe(404);
  });

  it('refuses an upload without its CSRF token, and a file without the columns', async () => {
    expect((await upload(officer, SAMPLE, 'x.csv', 'forged')).status).toBe(403);
    const dir = mkdtempSync(join(tmpdir(), 'sabatili-upload-'));
    writeFileSync(join(dir, 'bad.csv'), 'nom,telephone\nA,B\n');
    const bad = await upload(officer, join(dir, 'bad.csv'), 'bad.csv');
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('ligne 1: colonne(s) manquante(s) card_number');
    rmSync(dir, { recursive: true, force: true });
  });
});
