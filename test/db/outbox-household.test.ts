/**
 * Migration 26: a campaign's member messaged is recorded by its outbox row, which names the
 * household, instead of a second row in campaign_recipients. Sends written before it keep their
 * recipient rows and are counted as before, once; the outbox keeps one message per member of a
 * campaign, and the household's reference.
 */

import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createCampaignStore } from '../../src/db/campaigns.ts';
import { migrate, migrations } from '../../src/db/migrations.ts';
import { databaseBefore } from '../support/migrated.ts';

const MESSAGE = `INSERT INTO sms_outbox (recipient, text, language, encoding, segments, kind, campaign_id, priority, status, next_attempt_ms,
  expires_ms, provider_message_id, created_ms, updated_ms) VALUES (?, 'Bonjour', 'fr', 'GSM-7', 1, 'campaign', 1, 2, ?, 1, 2, ?, 1, 1)`;
const RECIPIENT = `INSERT INTO campaign_recipients (campaign_id, household_id, phone, language, control, outcome, outbox_id)
  VALUES (1, ?, ?, 'fr', ?, ?, ?)`;

describe('migration 26: the household on a campaign message', () => {
  /**
   * A database before migration 26 with campaign 1 sent the old way to ten households: six
   * messaged (a queued recipient row and its message: three delivered, one failed at the gateway,
   * two queued), four held out; households 1 (delivered) and 7 (held out) paid after it.
   */
  function before26(): { db: Database.Database; phones: string[] } {
    const db = databaseBefore(26);
    db.exec(`INSERT INTO campaigns (id, name, audience, messages, created_at, updated_at) VALUES (1, 'c', '{}', '{}', 'x', 'x')`);
    db.exec(`INSERT INTO products (id, name) VALUES ('p', 'P'); INSERT INTO mutuelles VALUES ('m', 'M', 'D', 0, 'p')`);
    const household = db.prepare(
      `INSERT INTO households (card_number, adherent_name, phone, language, mutuelle_id, joined_on, created_at, updated_at)
       VALUES (?, 'Awa', ?, 'fr', 'm', '2024-06-01', 'x', 'x')`,
    );
    const message = db.prepare(MESSAGE);
    const recipient = db.prepare(RECIPIENT);
    const phones: string[] = [];
    for (let i = 1; i <= 12; i++) {
      const phone = `+2237600${String(i).padStart(4, '0')}`;
      phones.push(phone);
      const h = Number(household.run(`M26-${i}`, phone).lastInsertRowid);
      if (i > 10) continue; // 11 and 12: members not in this campaign
      if (i > 6) {
        recipient.run(h, phone, 1, 'control', null);
        continue;
      }
      const status = i <= 3 ? 'delivered' : i === 4 ? 'failed' : 'queued';
      const id = Number(message.run(phone, status, i <= 4 ? `gw-${i}` : null).lastInsertRowid);
      if (status === 'delivered')
        db.prepare(`INSERT INTO sms_status_history (message_id, status, at_ms) VALUES (?, 'delivered', ?)`).run(id, 100 + i);
      recipient.run(h, phone, 0, 'queued', id);
    }
    const pay = db.prepare(
      `INSERT INTO contributions (household_id, amount, channel, paid_on, paid_at, recorded_at) VALUES (?, 500, 'cash', '2026-03-05', ?, 'x')`,
    );
    pay.run(1, '2026-03-05T10:00:00.000Z');
    pay.run(7, '2026-03-05T11:00:00.000Z');
    pay.run(11, '2026-03-05T12:00:00.000Z');
    return { db, phones };
  }

  const figures = (db: Database.Database) => {
    const store = createCampaignStore(db);
    // By household, then by the rest (outcomes and statuses have no household).
    const sorted = <T extends object>(rows: T[]) =>
      [...rows].sort(
        (a, b) =>
          ('householdId' in a ? (a.householdId as number) : 0) - ('householdId' in b ? (b.householdId as number) : 0) ||
          JSON.stringify(a).localeCompare(JSON.stringify(b)),
      );
    return {
      outcomes: sorted(store.outcomes(1)),
      statuses: sorted(store.statuses(1)),
      reached: sorted(store.reached(1)),
      control: sorted(store.controlGroup(1)),
      notDelivered: sorted(store.notDelivered(1)),
      payments: sorted(store.paymentsSince(1, '2026-03-01T00:00:00.000Z')),
    };
  };

  it('keeps every row, with no household on the messages before it, and counts an earlier send as before', () => {
    const { db } = before26();
    const columns = (db.pragma('table_info(sms_outbox)') as { name: string }[]).map((c) => c.name).join(', ');
    const rows = db.prepare(`SELECT ${columns} FROM sms_outbox ORDER BY id`).all();
    const recipients = db.prepare('SELECT * FROM campaign_recipients ORDER BY household_id').all();
    expect(migrate(db)).toBe(migrations.filter((m) => m.version >= 26).length);
    expect(db.prepare(`SELECT ${columns} FROM sms_outbox ORDER BY id`).all()).toEqual(rows);
    expect(db.prepare('SELECT COUNT(*) FROM sms_outbox WHERE household_id IS NOT NULL').pluck().get()).toBe(0);
    expect(db.prepare('SELECT * FROM campaign_recipients ORDER BY household_id').all()).toEqual(recipients);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(figures(db)).toEqual({
      outcomes: [
        { outcome: 'control', n: 4 },
        { outcome: 'queued', n: 6 },
      ],
      statuses: [
        { status: 'delivered', n: 3, viaGateway: 3 },
        { status: 'failed', n: 1, viaGateway: 1 },
        { status: 'queued', n: 2, viaGateway: 0 },
      ],
      reached: [
        { householdId: 1, deliveredMs: 101 },
        { householdId: 2, deliveredMs: 102 },
        { householdId: 3, deliveredMs: 103 },
      ],
      control: [7, 8, 9, 10].map((householdId) => ({ householdId })),
      notDelivered: [4, 5, 6].map((householdId) => ({ householdId })),
      payments: [
        { householdId: 1, paidAt: '2026-03-05T10:00:00.000Z' },
        { householdId: 7, paidAt: '2026-03-05T11:00:00.000Z' },
      ],
    });
    db.close();
  });

  it('counts a member messaged after it once, by its message alone; one message per member of a campaign', () => {
    const { db, phones } = before26();
    migrate(db);
    const message = db.prepare(`${MESSAGE.replace('updated_ms)', 'updated_ms, household_id)').replace('1, 1)', '1, 1, ?)')}`);
    const delivered = Number(message.run(phones[10], 'delivered', 'gw-11', 11).lastInsertRowid);
    db.prepare(`INSERT INTO sms_status_history (message_id, status, at_ms) VALUES (?, 'delivered', 111)`).run(delivered);
    const f = figures(db);
    expect(f.outcomes).toEqual([
      { outcome: 'control', n: 4 },
      { outcome: 'queued', n: 7 },
    ]);
    expect(f.statuses).toContainEqual({ status: 'delivered', n: 4, viaGateway: 4 });
    expect(f.reached).toContainEqual({ householdId: 11, deliveredMs: 111 });
    expect(f.payments).toContainEqual({ householdId: 11, paidAt: '2026-03-05T12:00:00.000Z' });
    expect(f.payments).toHaveLength(3);
    expect(() => message.run(phones[10], 'queued', null, 11)).toThrow(/UNIQUE/);
    expect(() => message.run(phones[11], 'queued', null, 999)).toThrow(/FOREIGN KEY/);
    db.close();
  });
});
