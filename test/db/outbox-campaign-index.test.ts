/**
 * Migration 28: a campaign's messages in one unique index on (campaign_id, household_id) instead of
 * (campaign_id, status) and migration 26's unique (campaign_id, household_id). Every row and
 * reference is kept; one message per member of a campaign still holds; a campaign's messages are
 * still found by the index, and whether any of them waits by the queue's own indexes.
 */

import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, migrations } from '../../src/db/migrations.ts';
import { createOutboxStore } from '../../src/db/outbox.ts';
import { databaseBefore, minimalNetwork, queryPlan } from '../support/migrated.ts';

const MESSAGE = `INSERT INTO sms_outbox (recipient, text, language, encoding, segments, kind, campaign_id, priority, status, next_attempt_ms,
  expires_ms, created_ms, updated_ms, household_id) VALUES (?, 'Bonjour', 'fr', 'GSM-7', 1, ?, ?, 2, ?, 1, 2, 1, 1, ?)`;

describe('migration 28: one index for a campaign’s messages', () => {
  /**
   * Before migration 28: campaign 1 sent before migration 26 (no household on its messages), campaign
   * 2 after it (households 1–4: sent, queued, sending, queued), campaign 3 all sent, a receipt.
   */
  function before28(): Database.Database {
    const db = databaseBefore(28);
    minimalNetwork(db, 'M28', ['+22376000001', '+22376000002', '+22376000003', '+22376000004'], [1, 2, 3]);
    const message = db.prepare(MESSAGE);
    message.run('+22376000001', 'campaign', 1, 'sent', null);
    message.run('+22376000002', 'campaign', 1, 'sent', null);
    ['sent', 'queued', 'sending', 'queued'].forEach((status, i) => message.run(`+2237600000${i + 1}`, 'campaign', 2, status, i + 1));
    message.run('+22376000001', 'campaign', 3, 'sent', 1);
    const receipt = Number(message.run('+22376000003', 'transactional', null, 'sent', null).lastInsertRowid);
    db.prepare(`INSERT INTO sms_status_history (message_id, status, at_ms) VALUES (?, 'sent', 5)`).run(receipt);
    return db;
  }

  it('keeps every row and reference, with one index over the campaign messages', () => {
    const db = before28();
    const rows = db.prepare('SELECT * FROM sms_outbox ORDER BY id').all();
    const history = db.prepare('SELECT * FROM sms_status_history ORDER BY id').all();
    expect(migrate(db)).toBe(migrations.filter((m) => m.version >= 28).length);
    expect(db.prepare('SELECT * FROM sms_outbox ORDER BY id').all()).toEqual(rows);
    expect(db.prepare('SELECT * FROM sms_status_history ORDER BY id').all()).toEqual(history);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const indexes = db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sms_outbox' AND name LIKE 'sms_outbox_campaign%'`)
      .pluck()
      .all();
    expect(indexes).toEqual(['sms_outbox_campaign']);
    db.close();
  });

  it('still keeps one message per member of a campaign, and any number without a household', () => {
    const db = before28();
    migrate(db);
    const message = db.prepare(MESSAGE);
    expect(() => message.run('+22376000002', 'campaign', 2, 'queued', 2)).toThrow(/UNIQUE/);
    message.run('+22376000002', 'campaign', 1, 'queued', null);
    message.run('+22376000002', 'campaign', 1, 'queued', null);
    message.run('+22376000002', 'campaign', 3, 'queued', 2);
    expect(() => message.run('+22376000002', 'campaign', 3, 'queued', 999)).toThrow(/FOREIGN KEY/);
    db.close();
  });

  it("finds a campaign's messages by the index, and whether any waits through the queue's indexes", () => {
    const db = before28();
    migrate(db);
    const plan = (sql: string) => queryPlan(db, sql);
    expect(plan(`SELECT id FROM sms_outbox WHERE campaign_id = 2 AND status = 'queued'`)).toContain(
      'INDEX sms_outbox_campaign (campaign_id=?)',
    );
    expect(plan('SELECT 1 FROM sms_outbox WHERE campaign_id = 2 AND household_id = 3')).toContain(
      'INDEX sms_outbox_campaign (campaign_id=? AND household_id=?)',
    );
    const store = createOutboxStore(db);
    expect([1, 2, 3].map((c) => store.campaignWaits(c))).toEqual([false, true, false]);
    expect(store.queuedOfCampaign(2)).toEqual([4, 6]);
    db.prepare(`UPDATE sms_outbox SET status = 'sent' WHERE campaign_id = 2 AND status = 'queued'`).run();
    expect(store.campaignWaits(2)).toBe(true);
    db.prepare(`UPDATE sms_outbox SET status = 'failed' WHERE campaign_id = 2 AND status = 'sending'`).run();
    expect(store.campaignWaits(2)).toBe(false);
    db.close();
  });
});
