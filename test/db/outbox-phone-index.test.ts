/**
 * Migration 31: a household's campaign messages leave the phone's index (members' phones are in no
 * order, so a campaign's chunks dirtied that index all over) and are found by campaign and
 * household. Every row is kept; a phone's messages and a household's latest messages come by
 * indexes only, the campaign messages written before migration 26 (no household) still by phone.
 */

import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, migrations } from '../../src/db/migrations.ts';
import { createOutboxStore } from '../../src/db/outbox.ts';
import { databaseBefore, minimalNetwork, queryPlan as plan } from '../support/migrated.ts';

const MESSAGE = `INSERT INTO sms_outbox (recipient, text, language, encoding, segments, kind, campaign_id, priority, status, next_attempt_ms,
  expires_ms, created_ms, updated_ms, household_id) VALUES (?, ?, 'fr', 'GSM-7', 1, ?, ?, 2, 'sent', 1, 2, 1, 1, ?)`;
const AWA = '+22376000001';
const BINTOU = '+22376000002';
const NEW_PHONE = '+22376000009';

describe('migration 31: campaign messages found by their household, not in the phone index', () => {
  /**
   * Before migration 31: households 1 (Awa) and 2 (Bintou). Campaign 1 sent before migration 26 (no
   * household on its messages), campaigns 2 and 3 after it; a receipt and an answer to Awa's phone; a
   * test send of campaign 3 (no campaign id). Then Awa's household moves to a new phone and gets a
   * receipt there, and its old phone goes to nobody.
   */
  function before31(): Database.Database {
    const db = databaseBefore(31);
    minimalNetwork(db, 'M31', [AWA, BINTOU], [1, 2, 3]);
    const message = db.prepare(MESSAGE);
    const rows: Array<[string, string, string, number | null, number | null]> = [
      [AWA, 'campaign 1 (before 26)', 'campaign', 1, null], // 1
      [BINTOU, 'campaign 1 (before 26)', 'campaign', 1, null], // 2
      [AWA, 'receipt', 'transactional', null, null], // 3
      [AWA, 'campaign 2', 'campaign', 2, 1], // 4
      [BINTOU, 'campaign 2', 'campaign', 2, 2], // 5
      [AWA, 'answer', 'transactional', null, null], // 6
      [AWA, 'campaign 3 test send', 'campaign', null, null], // 7
      [BINTOU, 'campaign 3', 'campaign', 3, 2], // 8
      [AWA, 'campaign 3', 'campaign', 3, 1], // 9
      [NEW_PHONE, 'receipt at the new phone', 'transactional', null, null], // 10
    ];
    for (const [phone, text, kind, campaign, household] of rows) message.run(phone, text, kind, campaign, household);
    db.prepare(`UPDATE households SET phone = ? WHERE id = 1`).run(NEW_PHONE);
    return db;
  }

  it('keeps every row and reference; the phone index leaves out a household’s campaign messages', () => {
    const db = before31();
    const rows = db.prepare('SELECT * FROM sms_outbox ORDER BY id').all();
    expect(migrate(db)).toBe(migrations.filter((m) => m.version >= 31).length);
    expect(db.prepare('SELECT * FROM sms_outbox ORDER BY id').all()).toEqual(rows);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const indexed = db
      .prepare(
        `SELECT id FROM sms_outbox INDEXED BY sms_outbox_recipient WHERE recipient > '' AND (campaign_id IS NULL OR household_id IS NULL)`,
      )
      .pluck()
      .all();
    expect(indexed.sort((a, b) => (a as number) - (b as number))).toEqual([1, 2, 3, 6, 7, 10]);
    db.close();
  });

  it('gives a phone its messages but a household’s campaign messages, by the phone index', () => {
    const db = before31();
    migrate(db);
    const store = createOutboxStore(db);
    expect(store.to(AWA).map((m) => m.id)).toEqual([1, 3, 6, 7]);
    expect(store.to(BINTOU).map((m) => m.id)).toEqual([2]);
    const byPhone = plan(
      db,
      `SELECT id FROM sms_outbox WHERE recipient = '${AWA}' AND (campaign_id IS NULL OR household_id IS NULL) ORDER BY id`,
    );
    expect(byPhone).toContain('INDEX sms_outbox_recipient (recipient=?)');
    expect(byPhone).not.toContain('TEMP B-TREE');
    db.close();
  });

  it("gives a household the latest messages to its phone and its campaigns' messages, whichever phone they went to", () => {
    const db = before31();
    migrate(db);
    const store = createOutboxStore(db);
    const texts = (phone: string, household: number, limit = 30) =>
      store.latestOfHousehold(phone, household, limit).map((m) => `${m.id} ${m.text}`);
    // Awa's household, now at its new phone: its campaign messages sent to the old phone are its own.
    expect(texts(NEW_PHONE, 1)).toEqual(['10 receipt at the new phone', '9 campaign 3', '4 campaign 2']);
    expect(texts(NEW_PHONE, 1, 2)).toEqual(['10 receipt at the new phone', '9 campaign 3']);
    // Bintou: her campaign messages, and the one of before migration 26 by her phone; none of Awa's.
    expect(texts(BINTOU, 2)).toEqual(['8 campaign 3', '5 campaign 2', '2 campaign 1 (before 26)']);
    const sql = `WITH RECURSIVE campaign(id) AS (
       SELECT MIN(campaign_id) FROM sms_outbox WHERE campaign_id IS NOT NULL
       UNION ALL
       SELECT (SELECT MIN(campaign_id) FROM sms_outbox WHERE campaign_id > campaign.id) FROM campaign WHERE campaign.id IS NOT NULL)
     SELECT id FROM sms_outbox WHERE campaign_id IN (SELECT id FROM campaign) AND household_id = 2`;
    const byHousehold = plan(db, sql);
    expect(byHousehold).toContain('INDEX sms_outbox_campaign (campaign_id=? AND household_id=?)');
    expect(byHousehold).not.toMatch(/SCAN sms_outbox(?! USING)/);
    db.close();
  });
});
