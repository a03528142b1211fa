/**
 * The outbox's bulk path (multi-row inserts) keeps every message's id, order and fate, and a queued
 * message can be expired by the module that queued it (a reminder a payment made pointless).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { createOutbox, type NewSms, type Outbox } from '../../src/sms/outbox.ts';
import { type TempDb, tempDb } from '../support/sms-db.ts';

let t: TempDb;
let clock: ManualClock;
let outbox: Outbox;
beforeEach(() => {
  t = tempDb('sabatili-outbox-bulk-');
  clock = new ManualClock('2026-03-10T09:00:00Z');
  outbox = createOutbox(t.db, clock, { foldMode: 'gsm7', allowUcs2: false });
});
afterEach(() => t.cleanup());

const phone = (i: number) => `+2237${String(i).padStart(7, '0')}`;
const sms = (i: number, over: Partial<NewSms> = {}): NewSms => ({
  to: phone(i),
  text: `Message ${i % 3}`,
  lang: 'fr',
  kind: 'campaign',
  ...over,
});

describe('a bulk enqueue', () => {
  it('gives every message its own row, in order, across statements of many rows, keyed and opted-out ones between them', () => {
    outbox.setOptOut(phone(150), true, 'sms');
    const messages = Array.from({ length: 345 }, (_, i) =>
      i % 97 === 5 ? sms(i, { sourceKey: `k${i % 2}`, kind: 'transactional' }) : sms(i),
    );
    const results = outbox.enqueueMany(messages);
    expect(results[150]).toEqual({ status: 'opted-out' });
    // Keyed receipts at 5 (k1), 102 (k0), 199 (k1) and 296 (k0): the second of each key is a duplicate.
    const keyed = [5, 102, 199, 296];
    expect(keyed.map((i) => results[i]?.status)).toEqual(['queued', 'queued', 'duplicate', 'duplicate']);
    expect(results[199]).toEqual({ status: 'duplicate', id: (results[5] as { id: number }).id });
    expect(results[296]).toEqual({ status: 'duplicate', id: (results[102] as { id: number }).id });
    const queued = results.flatMap((r, i) => (r.status === 'queued' ? [{ i, id: r.id }] : []));
    expect(queued).toHaveLength(345 - 1 - 2);
    for (const { i, id } of queued)
      expect(outbox.get(id)).toMatchObject({ recipient: phone(i), text: `Message ${i % 3}`, status: 'queued' });
    expect(queued.map((q) => q.id)).toEqual([...queued.map((q) => q.id)].sort((a, b) => a - b));
  });
});

describe('expiring a queued message', () => {
  it('expires it with the reason in its history, once, and not after the dispatcher took it', () => {
    const r = outbox.enqueue(sms(1, { kind: 'reminder' }));
    if (r.status !== 'queued') throw new Error('not queued');
    expect(outbox.expireQueued(r.id, 'paid meanwhile')).toBe(true);
    expect(outbox.get(r.id)).toMatchObject({ status: 'expired', lastError: 'paid meanwhile' });
    expect(outbox.history(r.id).map((h) => [h.status, h.detail])).toEqual([
      ['queued', null],
      ['expired', 'paid meanwhile'],
    ]);
    expect(outbox.expireQueued(r.id, 'again')).toBe(false);
    const taken = outbox.enqueue(sms(2, { kind: 'reminder' }));
    if (taken.status !== 'queued') throw new Error('not queued');
    t.db.prepare(`UPDATE sms_outbox SET status = 'sending' WHERE id = ?`).run(taken.id);
    expect(outbox.expireQueued(taken.id, 'too late')).toBe(false);
    expect(outbox.get(taken.id)?.status).toBe('sending');
  });
});
