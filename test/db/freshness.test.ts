import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { type Db, openDatabase } from '../../src/db/connection.ts';
import { createChangeWatch } from '../../src/db/freshness.ts';
import { createHouseholdStore, type HouseholdStore } from '../../src/db/households.ts';
import { seedDemo } from '../../src/db/seed.ts';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('household records kept in memory', () => {
  let dir: string;
  let db: Db;
  let store: HouseholdStore;
  const clock = new ManualClock('2026-03-10T09:00:00Z');
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sabatili-fresh-'));
    db = openDatabase(join(dir, 'x.db'));
    seedDemo(db, clock);
    store = createHouseholdStore(db, createChangeWatch(db));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const moussa = () => store.findByPhone('+22376000001')!.id;

  it("follow this process's own writes at once", () => {
    const before = store.load(moussa())!.ledger.length;
    store.addContribution(
      {
        householdId: moussa(),
        amount: 1750,
        fee: 0,
        channel: 'cash',
        operatorTxnId: null,
        paidOn: '2026-03-10',
        paidAt: '2026-03-10T09:00:00Z',
      },
      clock.now(),
    );
    expect(store.load(moussa())!.ledger.length).toBe(before + 1);
    store.setLanguage(moussa(), 'bm', clock.now());
    expect(store.findByPhone('+22376000001')?.language).toBe('bm');
  });

  it('are forgotten when another connection writes, from the next turn of the event loop', async () => {
    const id = moussa();
    const before = store.load(id)!.ledger.length;
    expect(store.findByPhone('+22370000077')).toBeUndefined();

    const other = new Database(join(dir, 'x.db'));
    other
      .prepare(
        `INSERT INTO contributions (household_id, amount, channel, paid_on, paid_at, recorded_at) VALUES (?, 500, 'cash', '2026-03-10', '2026-03-10T10:00:00Z', '2026-03-10T10:00:00Z')`,
      )
      .run(id);
    other
      .prepare(
        `INSERT INTO households (card_number, adherent_name, phone, mutuelle_id, joined_on, created_at, updated_at) VALUES ('X-1', 'Nouveau', '+22370000077', 'sik-klela', '2026-03-10', '', '')`,
      )
      .run();
    other.close();

    await nextTurn();
    expect(store.load(id)!.ledger.length).toBe(before + 1);
    expect(store.findByPhone('+22370000077')?.adherentName).toBe('Nouveau');
  });
});
