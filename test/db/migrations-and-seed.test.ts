import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { type Db, openDatabase } from '../../src/db/connection.ts';
import { createHouseholdStore } from '../../src/db/households.ts';
import { migrate, migrations } from '../../src/db/migrations.ts';
import { seedDemo } from '../../src/db/seed.ts';
import { coverageOn } from '../../src/domain/coverage.ts';

describe('the database', () => {
  const dirs: string[] = [];
  const open = (): Db => {
    const dir = mkdtempSync(join(tmpdir(), 'sabatili-db-'));
    dirs.push(dir);
    return openDatabase(join(dir, 'x.db'));
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('is migrated once, in WAL mode with foreign keys on; migrating again does nothing', () => {
    const db = open();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()).toEqual(migrations.map((m) => m.version));
    expect(migrate(db)).toBe(0);
    db.close();
  });

  it('keeps the contributions ledger append-only', () => {
    const db = open();
    seedDemo(db, new ManualClock('2026-03-10T09:00:00Z'));
    expect(() => db.prepare('UPDATE contributions SET amount = 1').run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM contributions').run()).toThrow(/append-only/);
    db.close();
  });

  it('refuses a beneficiary of a household that does not exist', () => {
    const db = open();
    expect(() => db.prepare(`INSERT INTO beneficiaries (household_id, name, relation) VALUES (999, 'X', 'child')`).run()).toThrow(
      /FOREIGN KEY/,
    );
    db.close();
  });

  it('is seeded with the demo phones as design.md describes, whatever the day, and seeding again adds nothing', () => {
    for (const day of ['2026-03-10T09:00:00Z', '2026-11-24T18:00:00Z', '2027-01-01T00:30:00Z']) {
      const db = open();
      const clock = new ManualClock(day);
      expect(seedDemo(db, clock)).toEqual({ households: 4, payments: 14 });
      expect(seedDemo(db, clock)).toEqual({ households: 0, payments: 0 });
      const store = createHouseholdStore(db);
      const today = day.slice(0, 10);
      const cov = (phone: string) => {
        const rec = store.load(store.findByPhone(phone)!.id)!;
        return { rec, cov: coverageOn({ beneficiaries: rec.beneficiaries, parameters: rec.parameters, ledger: rec.ledger, today }) };
      };
      const one = cov('+22376000001');
      expect(one.rec.beneficiaries).toHaveLength(5);
      expect(one.rec.beneficiaries.filter((b) => b.subsidised)).toHaveLength(3);
      expect(one.cov.status).toBe('active');
      // covered through the end of next month, with some credit
      const next = new Date(Date.UTC(Number(today.slice(0, 4)), Number(today.slice(5, 7)) + 1, 0)).toISOString().slice(0, 10);
      expect(one.cov.paidThrough).toBe(next);
      expect(one.cov.credit).toBe(500);
      expect(one.rec.ledger.length).toBeGreaterThanOrEqual(7);
      expect(cov('+22376000002').cov.status).toBe('lapsed');
      expect(cov('+22376000003').cov.status).toBe('active');
      expect(store.findByPhone('+22376000003')?.language).toBe('bm');
      expect(cov('+22366000004').cov.status).toBe('active');
      expect(store.findByPhone('+22370000000')).toBeUndefined();
      expect(
        db
          .prepare(`SELECT COUNT(*) FROM wallets WHERE household_id = (SELECT id FROM households WHERE phone = '+22366000004')`)
          .pluck()
          .get(),
      ).toBe(0);
      expect(db.prepare('SELECT COUNT(DISTINCT district) FROM mutuelles').pluck().get()).toBe(2);
      db.close();
    }
  });
});
