/**
 * Operations fail loudly (issue 14), run as an operator would: `sabatili serve` on a port already
 * in use exits 1 naming the port (instead of running a second dispatcher on the same database),
 * `sabatili backup` into a missing folder says so in one line, `sabatili --version`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sabatili-ops-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sabatili(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile('node', ['bin/sabatili.js', ...args], { env: { ...process.env, LOG_LEVEL: 'info', ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

describe('sabatili serve on a port already in use', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('exits 1 with a message naming the port, and never starts its jobs', async () => {
    const port = new URL(app.url).port;
    // The same database as the running server, as a second `npm start` by mistake would use.
    const r = await sabatili(['serve'], { NODE_ENV: 'development', PORT: port, DATABASE_PATH: app.dbPath });
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
    const r = await sabatili(['backup', join(missing, 'copy.db')], { DATABASE_PATH: join(dir, 'live.db') });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`${missing}: no such folder; create it first\n`);
  });
});

describe('sabatili --version', () => {
  it("prints package.json's version", async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const r = await sabatili(['--version'], {});
    expect(r).toMatchObject({ code: 0, stdout: `${version}\n` });
  });
});
