/**
 * Migration 29: the queue's index (priority, next_attempt_ms) and a phone's (recipient) without the
 * id they end with anyway. Every row is kept; the dispatcher and a phone's messages come in the
 * same order, by the same indexes, without a sort.
 */

import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, migrations } from '../../src/db/migrations.ts';
import { createOutboxStore } from '../../src/db/outbox.ts';
import { databaseBefore, queryPlan as plan } from '../support/migrated.ts';

const MESSAGE = `INSERT INTO sms_outbox (recipient, text, language, encoding, segments, kind, priority, status, next_attempt_ms,
  expires_ms, created_ms, updated_ms) VALUES (?, ?, 'fr', 'GSM-7', 1, ?, ?, ?, ?, 9000, 1, 1)`;

describe('migration 29: the outbox indexes without their trailing id', () => {
  /** Before migration 29: two phones' messages of each kind, queued at times that tie, one sent. */
  function before29(): Database.Database {
    const db = databaseBefore(29);
    const message = db.prepare(MESSAGE);
    const rows: Array<[string, string, number, string, number]> = [
      ['+22376000001', 'campaign', 2, 'queued', 50],
      ['+22376000002', 'transactional', 0, 'queued', 70],
      ['+22376000001', 'reminder', 1, 'queued', 50],
      ['+22376000002', 'campaign', 2, 'queued', 50],
      ['+22376000001', 'transactional', 0, 'sent', 10],
      ['+22376000001', 'transactional', 0, 'queued', 70],
      ['+22376000002', 'campaign', 2, 'queued', 40],
    ];
    rows.forEach(([phone, kind, priority, status, at], i) => message.run(phone, `message ${i + 1}`, kind, priority, status, at));
    db.prepare(`INSERT INTO sms_status_history (message_id, status, at_ms) VALUES (5, 'sent', 10)`).run();
    return db;
  }

  it('keeps every row and reference; the indexes end with their own columns', () => {
    const db = before29();
    const rows = db.prepare('SELECT * FROM sms_outbox ORDER BY id').all();
    expect(migrate(db)).toBe(migrations.filter((m) => m.version >= 29).length);
    expect(db.prepare('SELECT * FROM sms_outbox ORDER BY id').all()).toEqual(rows);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const columns = (index: string) => (db.pragma(`index_info(${index})`) as Array<{ name: string }>).map((c) => c.name);
    expect(columns('sms_outbox_due')).toEqual(['priority', 'next_attempt_ms']);
    expect(columns('sms_outbox_recipient')).toEqual(['recipient']);
    db.close();
  });

  it('gives the dispatcher and a phone’s messages in the same order, by the index, without a sort', () => {
    const db = before29();
    migrate(db);
    const store = createOutboxStore(db);
    expect(store.due(100, 10, []).map((m) => m.id)).toEqual([2, 6, 3, 7, 1, 4]);
    expect(store.to('+22376000001').map((m) => m.id)).toEqual([1, 3, 5, 6]);
    expect(store.latestOfHousehold('+22376000002', 1, 2).map((m) => m.id)).toEqual([7, 4]);
    const due = plan(
      db,
      `SELECT id FROM sms_outbox WHERE status = 'queued' AND next_attempt_ms <= 100 ORDER BY priority, next_attempt_ms, id LIMIT 10`,
    );
    expect(due).toContain('INDEX sms_outbox_due');
    expect(due).not.toContain('TEMP B-TREE');
    for (const order of ['id', 'id DESC']) {
      // As the store asks since migration 31 (a household's campaign messages are not in a phone's index).
      const byPhone = plan(
        db,
        `SELECT id FROM sms_outbox WHERE recipient = '+22376000001' AND (campaign_id IS NULL OR household_id IS NULL) ORDER BY ${order}`,
      );
      expect(byPhone).toContain('INDEX sms_outbox_recipient (recipient=?)');
      expect(byPhone).not.toContain('TEMP B-TREE');
    }
    db.close();
  });
});
