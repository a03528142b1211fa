/**
 * Migration 16 rebuilds sms_outbox so that its source keys are unique only where present: bulk
 * rows without a key skip that index. The rebuild must keep every row with its id, the tables
 * that reference the outbox, and the exactly-once guarantee of every key.
 */

import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, migrations } from '../../src/db/migrations.ts';
import { databaseBefore, queryPlan } from '../support/migrated.ts';

const ROW = `INSERT INTO sms_outbox (recipient, text, language, encoding, segments, kind, priority, status, next_attempt_ms, expires_ms, source_key, created_ms, updated_ms)
  VALUES (?, 'Bonjour', 'fr', 'GSM-7', 1, 'transactional', 1, ?, 1, 2, ?, 1, 1)`;

describe('migration 16: source keys unique where present', () => {
  /** A database as migration 15 left it, with messages (half of them keyed) and their history. */
  function before16(): Database.Database {
    const db = databaseBefore(16);
    const insert = db.prepare(ROW);
    for (let i = 1; i <= 50; i++)
      insert.run(`+2237600${String(i).padStart(4, '0')}`, i % 3 ? 'queued' : 'sent', i % 2 ? `receipt:${i}` : null);
    db.exec('DELETE FROM sms_outbox WHERE id = 7'); // ids with a gap, kept as they are
    db.exec('INSERT INTO sms_status_history (message_id, status, at_ms) SELECT id, status, 1 FROM sms_outbox');
    return db;
  }

  it('keeps every message with its id and history, and the references to the outbox', () => {
    const db = before16();
    // The columns it had then: a later migration may add one (26: the household), empty for these rows.
    const columns = (db.pragma('table_info(sms_outbox)') as { name: string }[]).map((c) => c.name).join(', ');
    const rows = db.prepare(`SELECT ${columns} FROM sms_outbox ORDER BY id`).all();
    const history = db.prepare('SELECT * FROM sms_status_history ORDER BY id').all();
    // 16, and whatever came after it.
    expect(migrate(db)).toBe(migrations.filter((m) => m.version >= 16).length);
    expect(db.prepare(`SELECT ${columns} FROM sms_outbox ORDER BY id`).all()).toEqual(rows);
    expect(db.prepare('SELECT * FROM sms_status_history ORDER BY id').all()).toEqual(history);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'sms_status_history'").pluck().get()).toContain(
      'REFERENCES sms_outbox(id)',
    );
    // A history row for a message that does not exist is still refused.
    expect(() => db.prepare('INSERT INTO sms_status_history (message_id, status, at_ms) VALUES (999, ?, 1)').run('sent')).toThrow(
      /FOREIGN KEY/,
    );
    db.close();
  });

  it('still refuses a second message under a key, takes any number without one, and finds a key by its index', () => {
    const db = before16();
    migrate(db);
    expect(() => db.prepare(ROW).run('+22376009999', 'queued', 'receipt:1')).toThrow(/UNIQUE/);
    const upsert = db.prepare(`${ROW} ON CONFLICT (source_key) WHERE source_key IS NOT NULL DO NOTHING`);
    expect(upsert.run('+22376009999', 'queued', 'receipt:3').changes).toBe(0);
    expect(upsert.run('+22376009999', 'queued', null).changes).toBe(1);
    expect(upsert.run('+22376009999', 'queued', null).changes).toBe(1);
    for (const q of [
      'SELECT id FROM sms_outbox WHERE source_key = ?',
      'SELECT recipient, text, language FROM sms_outbox WHERE source_key = ?',
    ]) {
      expect(queryPlan(db, q, 'receipt:1')).toMatch(/USING (COVERING )?INDEX sms_outbox_source \(source_key=\?\)/);
    }
    db.close();
  });
});
