/**
 * Migration 27 stages a members import a chunk per row (an unconfirmed check is forgotten: its
 * confirmation checks the file again), and writes a beneficiary's relation check as comparisons
 * instead of an IN list (cheaper per inserted row): the rebuild keeps every beneficiary with its
 * id, the claims' references to them, and allows exactly the relations it allowed.
 */

import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, migrations } from '../../src/db/migrations.ts';
import { databaseBefore } from '../support/migrated.ts';

const BENEFICIARY = 'INSERT INTO beneficiaries (household_id, name, relation, birth_year, subsidised, active) VALUES (?, ?, ?, ?, ?, ?)';
const CLAIM = `INSERT INTO claims (request_key, facility_id, agent_id, household_id, beneficiary_id, care, tariff, amount, visit_on, recorded_at)
  VALUES (?, 1, 1, ?, ?, 'consultation', 1500, 1500, '2026-03-01', 'x')`;

describe('migration 27: the import staged in chunks, the beneficiaries relation check as comparisons', () => {
  /** A database before migration 27: households, beneficiaries (some removed, so ids have gaps), a claim, a staged check. */
  function before27(): Database.Database {
    const db = databaseBefore(27);
    db.exec(`INSERT INTO products (id, name) VALUES ('p', 'P'); INSERT INTO mutuelles VALUES ('m', 'M', 'D', 0, 'p');
      INSERT INTO facilities (id, code, name, kind, district, payment_msisdn, created_at) VALUES (1, 'CS1', 'CSCom', 'cscom', 'D', '+22370000000', 'x');
      INSERT INTO facility_agents (id, facility_id, phone, name, created_at) VALUES (1, 1, '+22370000001', 'Agent', 'x')`);
    const household = db.prepare(
      `INSERT INTO households (card_number, adherent_name, phone, language, mutuelle_id, joined_on, created_at, updated_at)
       VALUES (?, 'Awa', ?, 'fr', 'm', '2024-06-01', 'x', 'x')`,
    );
    const beneficiary = db.prepare(BENEFICIARY);
    const relations = ['adherent', 'spouse', 'child', 'parent', 'other'];
    for (let i = 1; i <= 6; i++) {
      const h = Number(household.run(`M27-${i}`, `+2237600${String(i).padStart(4, '0')}`).lastInsertRowid);
      for (let j = 0; j < 4; j++)
        beneficiary.run(h, `Personne ${i}-${j}`, relations[(i + j) % 5], j ? 1990 + j : null, j % 2, i % 3 ? 1 : 0);
      db.prepare(CLAIM).run(`claim-${i}`, h, db.prepare('SELECT MAX(id) FROM beneficiaries').pluck().get());
    }
    db.exec('DELETE FROM beneficiaries WHERE id IN (1, 6) AND id NOT IN (SELECT beneficiary_id FROM claims)');
    db.exec(`INSERT INTO member_imports (id, import_key, file_size, file_mtime_ms, today, preview) VALUES (1, '/tmp/m.csv', 10, 1, '2026-03-10', '{}');
      INSERT INTO member_import_households (import_id, line, card_number, adherent_name, phone, language, mutuelle_id, joined_on, beneficiaries)
        VALUES (1, 2, 'KOU-MPE-0001', 'Awa', '+22376000999', 'fr', 'm', '2026-03-01', '[]')`);
    return db;
  }

  it('keeps every beneficiary with its id and the claims referencing them, and forgets the staged checks', () => {
    const db = before27();
    const dump = (table: string) => db.prepare(`SELECT * FROM ${table} ORDER BY 1`).all();
    const before = ['beneficiaries', 'claims'].map(dump);
    expect(before[0]).toHaveLength(22);
    expect(migrate(db)).toBe(migrations.filter((m) => m.version >= 27).length);
    expect(['beneficiaries', 'claims'].map(dump)).toEqual(before);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(() => db.prepare(CLAIM).run('claim-x', 1, 999)).toThrow(/FOREIGN KEY/);
    expect(() => db.prepare(BENEFICIARY).run(999, 'X', 'child', null, 0, 1)).toThrow(/FOREIGN KEY/);
    expect(db.prepare('SELECT COUNT(*) FROM member_import_chunks').pluck().get()).toBe(0);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'member_import_households'").all()).toEqual([]);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE tbl_name = 'beneficiaries' AND type = 'index'").pluck().all()).toEqual([
      'beneficiaries_household',
    ]);
    db.close();
  });

  it('allows exactly the relations the check allowed', () => {
    const db = before27();
    migrate(db);
    const beneficiary = db.prepare(BENEFICIARY);
    for (const relation of ['adherent', 'spouse', 'child', 'parent', 'other'])
      expect(beneficiary.run(2, 'X', relation, null, 0, 1).changes).toBe(1);
    for (const bad of ['Child', 'cousin', '', 'child ']) expect(() => beneficiary.run(2, 'X', bad, null, 0, 1)).toThrow(/CHECK constraint/);
    expect(() => beneficiary.run(2, 'X', 'child', null, 2, 1)).toThrow(/CHECK constraint/);
    expect(() => beneficiary.run(2, 'X', 'child', null, 0, 2)).toThrow(/CHECK constraint/);
    db.close();
  });
});
