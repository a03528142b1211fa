/**
 * Migration 24 writes the checks of sms_outbox and campaign_recipients as comparisons instead of
 * IN lists (cheaper per inserted row): the rebuild keeps every row and reference, and the checks
 * allow exactly the values they allowed.
 */

import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, migrations } from '../../src/db/migrations.ts';
import { databaseBefore } from '../support/migrated.ts';

const MESSAGE = `INSERT INTO sms_outbox (recipient, text, language, encoding, segments, kind, campaign_id, priority, status, next_attempt_ms, expires_ms, created_ms, updated_ms)
  VALUES ('+22376000001', 'Bonjour', ?, ?, ?, ?, 1, 2, ?, 1, 2, 1, 1)`;
const RECIPIENT = `INSERT INTO campaign_recipients (campaign_id, household_id, phone, language, control, outcome, outbox_id)
  VALUES (1, ?, '+22376000001', ?, ?, ?, ?)`;

describe('migration 24: the outbox and campaign recipients checks as comparisons', () => {
  /** A database before migration 24, with a campaign, households, messages and recipients. */
  function before24(): Database.Database {
    const db = databaseBefore(24);
    db.exec(`INSERT INTO campaigns (id, name, audience, messages, created_at, updated_at) VALUES (1, 'c', '{}', '{}', 'x', 'x')`);
    db.exec(`INSERT INTO products (id, name) VALUES ('p', 'P'); INSERT INTO mutuelles VALUES ('m', 'M', 'D', 0, 'p')`);
    const mutuelle = 'm';
    const household = db.prepare(
      `INSERT INTO households (card_number, adherent_name, phone, language, mutuelle_id, joined_on, created_at, updated_at)
       VALUES (?, 'Awa', ?, 'fr', ?, '2024-06-01', 'x', 'x')`,
    );
    const message = db.prepare(MESSAGE);
    const recipient = db.prepare(RECIPIENT);
    for (let i = 1; i <= 12; i++) {
      const h = Number(household.run(`M24-${i}`, `+2237600${String(i).padStart(4, '0')}`, mutuelle).lastInsertRowid);
      const id = Number(message.run(i % 2 ? 'fr' : 'bm', 'GSM-7', 1 + (i % 6), 'campaign', i % 3 ? 'queued' : 'sent').lastInsertRowid);
      recipient.run(h, i % 2 ? 'fr' : 'bm', i % 4 === 0 ? 1 : 0, i % 4 === 0 ? 'control' : 'queued', i % 4 === 0 ? null : id);
    }
    db.exec('INSERT INTO sms_status_history (message_id, status, at_ms) SELECT id, status, 1 FROM sms_outbox');
    return db;
  }

  it('keeps every message, recipient and history row, and the references', () => {
    const db = before24();
    // Each table's columns then: a later migration may add one (26: the outbox's household), empty for these rows.
    const columns = new Map(
      ['sms_outbox', 'campaign_recipients', 'sms_status_history'].map((t) => [
        t,
        (db.pragma(`table_info(${t})`) as { name: string }[]).map((c) => c.name).join(', '),
      ]),
    );
    const dump = (table: string) => db.prepare(`SELECT ${columns.get(table)} FROM ${table} ORDER BY 1, 2`).all();
    const before = ['sms_outbox', 'campaign_recipients', 'sms_status_history'].map(dump);
    expect(migrate(db)).toBe(migrations.filter((m) => m.version >= 24).length);
    expect(['sms_outbox', 'campaign_recipients', 'sms_status_history'].map(dump)).toEqual(before);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(() => db.prepare(RECIPIENT).run(999, 'fr', 0, 'queued', null)).toThrow(/FOREIGN KEY/);
    db.close();
  });

  it('allows exactly the values the checks allowed', () => {
    const db = before24();
    migrate(db);
    const message = db.prepare(MESSAGE);
    for (const status of ['queued', 'sending', 'sent', 'delivered', 'failed', 'expired'])
      for (const kind of ['transactional', 'reminder', 'campaign']) expect(message.run('bm', 'UCS-2', 6, kind, status).changes).toBe(1);
    for (const bad of [
      ['en', 'GSM-7', 1, 'campaign', 'queued'],
      ['fr', 'UTF-8', 1, 'campaign', 'queued'],
      ['fr', 'GSM-7', 0, 'campaign', 'queued'],
      ['fr', 'GSM-7', 7, 'campaign', 'queued'],
      ['fr', 'GSM-7', 1, 'promo', 'queued'],
      ['fr', 'GSM-7', 1, 'campaign', 'Queued'],
    ])
      expect(() => message.run(...bad)).toThrow(/CHECK constraint/);
    const household = db.prepare('SELECT id FROM households ORDER BY id LIMIT 1').pluck().get();
    const recipient = db.prepare(RECIPIENT);
    db.prepare('DELETE FROM campaign_recipients').run();
    for (const outcome of ['queued', 'control', 'opted-out', 'rejected']) {
      expect(recipient.run(household, 'bm', 1, outcome, null).changes).toBe(1);
      db.prepare('DELETE FROM campaign_recipients').run();
    }
    for (const bad of [
      ['en', 0, 'queued'],
      ['fr', 2, 'queued'],
      ['fr', 0, 'sent'],
    ])
      expect(() => recipient.run(household, ...bad, null)).toThrow(/CHECK constraint/);
    db.close();
  });
});
