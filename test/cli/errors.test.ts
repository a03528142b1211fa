/**
 * The CLI edge's one error vocabulary (src/cli/context.ts `execute`): a Refusal is exit code 2 with
 * its message (and the lines at fault), never a stack; anything else, a RangeError from code
 * included, is a bug: it is not dressed as a refusal, and the binary exits 1 with its stack.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execute, type Io } from '../../src/cli/context.ts';
import { Refusal } from '../../src/domain/refusal.ts';
import { sabatili, spawnSabatili } from '../support/cli.ts';

let dir: string;
let notADatabase: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sabatili-cli-errors-'));
  notADatabase = join(dir, 'garbage.db');
  writeFileSync(notADatabase, 'this is not an SQLite file, whatever its name says\n'.repeat(200));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io(): Io & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    env: { LOG_LEVEL: 'silent' },
    stdin: Readable.from([]),
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    out: () => out,
    err: () => err,
  };
}

describe('execute', () => {
  it('a Refusal: exit code 2, its message and the lines of its details, nothing else', async () => {
    const r = io();
    const refused = new Refusal('phones: 2 bad lines', 'phones', 400, {
      errors: [
        { line: 3, message: 'not a phone' },
        { line: 5, message: 'empty' },
      ],
    });
    const code = await execute(
      r,
      () => {
        throw refused;
      },
      [],
      null,
    );
    expect(code).toBe(2);
    expect(r.err()).toBe('phones: 2 bad lines\n  line 3: not a phone\n  line 5: empty\n');
    expect(r.out()).toBe('');
  });

  it('a RangeError is a bug, no longer a refusal: it rejects rather than exiting 2', async () => {
    const r = io();
    const bug = new RangeError('formatMoney: expected an integer amount of FCFA, got 1.5');
    await expect(execute(r, () => Promise.reject(bug), [], null)).rejects.toBe(bug);
    expect(r.err()).toBe('');
  });
});

describe('sabatili', () => {
  it('a refusal exits 2 with one line, without a stack', async () => {
    const r = await sabatili(['flows', 'print', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^no flow "nope": one of [a-z, ]+\n$/);
  });

  it('a bug exits 1 with its stack (in this process: the command rejects with it)', async () => {
    await expect(sabatili(['report', 'kpi'], { env: { DATABASE_PATH: notADatabase } })).rejects.toThrow(/not a database/);
    const binary = await spawnSabatili(['report', 'kpi'], { env: { DATABASE_PATH: notADatabase } });
    expect(binary.code).toBe(1);
    expect(binary.stderr).toContain('SqliteError: file is not a database');
    expect(binary.stderr).toMatch(/^ {4}at /m);
  });
});
