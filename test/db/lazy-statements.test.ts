import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, prepareAll } from '../../src/db/connection.ts';
import { startTestApp } from '../support/app.ts';

describe('statements prepared on first use', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sabatili-lazy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every statement the application hands out is one SQLite accepts', async () => {
    const app = await startTestApp();
    try {
      // Hundreds of statements, each prepared here if no test used it yet: a bad one throws.
      expect(prepareAll(app.services.db)).toBeGreaterThan(400);
    } finally {
      await app.close();
    }
  });

  it('keeps its result mode, and SQLite refuses bad SQL when it is first used or by prepareAll', () => {
    const db = openDatabase(join(dir, 'x.db'));
    const count = db.prepare('SELECT COUNT(*) FROM mutuelles').pluck();
    const rows = db.prepare('SELECT 1 AS a, 2 AS b').raw();
    expect(count.get()).toBe(0);
    expect(rows.all()).toEqual([[1, 2]]);
    expect(db.prepare('SELECT 1 AS a').pluck().pluck(false).get()).toEqual({ a: 1 });
    const bad = db.prepare('SELECT x FROM nowhere');
    expect(() => bad.get()).toThrow(/no such table: nowhere/);
    expect(() => prepareAll(db)).toThrow(/no such table: nowhere/);
    db.close();
  });
});
