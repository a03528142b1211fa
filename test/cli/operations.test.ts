/**
 * Operations fail loudly (issue 14), run as an operator would: `sabatili serve` on a port already
 * in use exits 1 naming the port (instead of running a second dispatcher on the same database),
 * `sabatili backup` into a missing folder says so in one line, `sabatili --version`; the real
 * binary for serve and --version.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLUMNS } from '../../src/office/import.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { sabatili, spawnSabatili } from '../support/cli.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sabatili-ops-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sabatili serve on a port already in use', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('exits 1 with a message naming the port, and never starts its jobs', async () => {
    const port = new URL(app.url).port;
    // The same database as the running server, as a second `npm start` by mistake would use.
    const r = await spawnSabatili(['serve'], {
      env: { LOG_LEVEL: 'info', NODE_ENV: 'development', PORT: port, DATABASE_PATH: app.dbPath },
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(r.stderr).not.toContain('    at ');
    expect(r.stdout).not.toContain('sabatili listening');
    // The running server is untouched.
    expect((await app.hop('ops-1', '+22376000001', '')).status).toBe(200);
  });
});

describe('sabatili backup into a folder that does not exist', () => {
  it('says so in one line, exit code 2', async () => {
    const missing = join(dir, 'no-such-folder');
    const r = await sabatili(['backup', join(missing, 'copy.db')], { env: { LOG_LEVEL: 'info', DATABASE_PATH: join(dir, 'live.db') } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`${missing}: no such folder; create it first\n`);
  });
});

describe('sabatili --help', () => {
  it('lists the commands without loading their code, and the import columns the importer expects', async () => {
    const help = await sabatili(['--help']);
    expect(help.code).toBe(0);
    for (const command of [
      'serve',
      'seed',
      'sms',
      'reconcile',
      'ledger',
      'simulate',
      'reminders',
      'campaign',
      'report',
      'backup',
      'staff',
      'import',
      'flows',
    ]) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    const members = await sabatili(['import', 'members', '--help']);
    expect(members.stdout.replace(/\s+/g, ' ')).toContain(`one line per beneficiary: ${COLUMNS.join(',')}`);
  });

  it('a command line it cannot parse: the message and the help hint, exit code 1', async () => {
    const r = await sabatili(['campaign', 'preview', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: command-argument value 'x' is invalid for argument 'id'. must be a campaign id");
  });
});

describe('sabatili --version', () => {
  it("prints package.json's version", async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const r = await spawnSabatili(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `${version}\n` });
  });
});
