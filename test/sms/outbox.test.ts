import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import {
  createOutbox,
  MAX_SEGMENTS,
  type NewSms,
  type Outbox,
  recipientCheck,
  SmsCountryRefused,
  SmsRejected,
} from '../../src/sms/outbox.ts';
import { type TempDb, tempDb } from '../support/sms-db.ts';

const START = '2026-03-10T09:00:00Z';

let t: TempDb;
let clock: ManualClock;
let outbox: Outbox;

beforeEach(() => {
  t = tempDb('sabatili-outbox-');
  clock = new ManualClock(START);
  outbox = createOutbox(t.db, clock, { foldMode: 'gsm7', allowUcs2: false });
});
afterEach(() => t.cleanup());

const sms = (over: Partial<NewSms> = {}): NewSms => ({
  to: '+22376000001',
  text: 'Votre cotisation de 1500 FCFA est reçue. Merci.',
  lang: 'fr',
  kind: 'transactional',
  ...over,
});

const rowCount = () => t.db.prepare('SELECT count(*) FROM sms_outbox').pluck().get() as number;

/** Marks a queued message as sent with a provider id, as the dispatcher would after the gateway accepted it. */
function markSent(id: number, providerId: string): void {
  t.db.prepare(`UPDATE sms_outbox SET status = 'sent', provider_message_id = ?, attempts = 1 WHERE id = ?`).run(providerId, id);
  t.db
    .prepare(`INSERT INTO sms_status_history (message_id, status, detail, at_ms) VALUES (?, 'sent', ?, ?)`)
    .run(id, `101 ${providerId}`, clock.now().getTime());
}

function rejection(m: NewSms, box: Outbox = outbox): SmsRejected {
  try {
    box.enqueue(m);
  } catch (err) {
    expect(err).toBeInstanceOf(SmsRejected);
    return err as SmsRejected;
  }
  throw new Error(`expected ${JSON.stringify(m.to)} / ${JSON.stringify(m.text.slice(0, 30))} to be refused`);
}

describe('recipient validation', () => {
  const accepted: ReadonlyArray<readonly [string, string]> = [
    ['Mali mobile (Orange, 7x)', '+22376000001'],
    ['Mali mobile (Moov, 6x)', '+22366000004'],
  ];
  it.each(accepted)('accepts a %s: %s', (_what, to) => {
    const r = outbox.enqueue(sms({ to }));
    expect(r.status).toBe('queued');
    if (r.status !== 'queued') return;
    expect(outbox.get(r.id)?.recipient).toBe(to);
  });

  const refused: ReadonlyArray<readonly [string, string, RegExp]> = [
    ['not E.164 (national digits)', '76000001', /not an E\.164 number/],
    ['not E.164 (spaces)', '+223 76 00 00 01', /not an E\.164 number/],
    ['too short', '+2237600000', /not a valid phone number \(too short\)/],
    ['invalid range', '+22300000000', /not a mobile number in service/],
    ['a Mali fixed line', '+22320212223', /fixed line/],
  ];
  it.each(refused)('refuses %s: %j', (_what, to, reason) => {
    const err = rejection(sms({ to }));
    expect(err.message).toMatch(reason);
    expect(rowCount()).toBe(0);
  });
});

describe('allowed countries (SMS_ALLOWED_COUNTRIES)', () => {
  it('refuses a valid mobile abroad by default (Mali only), writing nothing', () => {
    const err = rejection(sms({ to: '+33612345678' }));
    expect(err).toBeInstanceOf(SmsCountryRefused);
    expect(err.message).toBe('recipient +33612345678 is outside the countries SMS may go to (SMS_ALLOWED_COUNTRIES=ML)');
    expect(rowCount()).toBe(0);
  });

  it('refuses it in every kind of enqueue, a batch reporting it as rejected', () => {
    expect(() => outbox.enqueueMany([sms(), sms({ to: '+33612345678' })])).toThrow(SmsCountryRefused);
    expect(rowCount()).toBe(0);
    const each = outbox.enqueueEach([sms(), sms({ to: '+33612345678', kind: 'campaign' })]);
    expect(each.map((r) => r.status)).toEqual(['queued', 'rejected']);
    expect(outbox.assess(sms({ to: '+33612345678', kind: 'campaign' }), new Set())).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/outside the countries/),
    });
  });

  it('accepts the countries it is given', () => {
    const wider = createOutbox(t.db, clock, { foldMode: 'gsm7', allowUcs2: false, allowedCountries: ['ML', 'FR'] });
    expect(wider.enqueue(sms({ to: '+33612345678' }))).toMatchObject({ status: 'queued' });
    expect(wider.enqueue(sms({ to: '+22376000001' }))).toMatchObject({ status: 'queued' });
    expect(() => wider.enqueue(sms({ to: '+221771234567' }))).toThrow(SmsCountryRefused);
  });

  it('tells apart the countries of a shared calling code (+1: Canada is not the United States)', () => {
    const us = recipientCheck(['US']);
    expect(us('+12015550123')).toBe('+12015550123'); // New Jersey
    expect(() => us('+16135550123')).toThrow(SmsCountryRefused); // Ottawa
    expect(recipientCheck(['CA'])('+16135550123')).toBe('+16135550123');
  });

  it('still says why a number is no mobile number before where it is', () => {
    expect(() => recipientCheck(['ML'])('+22320212223')).toThrow(/fixed line/);
    expect(() => recipientCheck(['ML'])('33612345678')).toThrow(/not an E\.164 number/);
  });
});

describe('text validation, folding and measuring', () => {
  it.each(['', '   ', '\n\t '])('refuses an empty or blank text %j', (text) => {
    expect(rejection(sms({ text })).message).toMatch(/empty/);
    expect(rowCount()).toBe(0);
  });

  it("folds to GSM-7 what is stored and sent (ɛ→è, ’→', ç→c)", () => {
    const r = outbox.enqueue(sms({ text: 'I ni cɛ! C’est reçu', lang: 'bm' }));
    expect(r).toMatchObject({ status: 'queued', encoding: 'GSM-7', segments: 1 });
    if (r.status !== 'queued') return;
    const row = outbox.get(r.id)!;
    expect(row.text).toBe("I ni cè! C'est recu");
    expect(row).toMatchObject({ encoding: 'GSM-7', segments: 1, language: 'bm', status: 'queued', attempts: 0 });
  });

  it('counts segments: 160 septets are one SMS, 161 are two', () => {
    const one = outbox.enqueue(sms({ text: 'a'.repeat(160) }));
    const two = outbox.enqueue(sms({ text: 'a'.repeat(161) }));
    expect(one).toMatchObject({ status: 'queued', segments: 1, encoding: 'GSM-7' });
    expect(two).toMatchObject({ status: 'queued', segments: 2, encoding: 'GSM-7' });
  });

  it(`accepts ${MAX_SEGMENTS} segments and refuses more with a clear message`, () => {
    expect(outbox.enqueue(sms({ text: 'a'.repeat(153 * MAX_SEGMENTS) }))).toMatchObject({ status: 'queued', segments: 6 });
    const err = rejection(sms({ text: 'a'.repeat(153 * MAX_SEGMENTS + 1) }));
    expect(err.message).toMatch(/needs 7 SMS segments/);
    expect(err.message).toMatch(/at most 6/);
    expect(rowCount()).toBe(1);
  });

  it('refuses a character that cannot be folded (emoji) unless UCS-2 is allowed', () => {
    const text = 'Merci 🙏';
    const err = rejection(sms({ text }));
    expect(err.message).toMatch(/outside GSM-7/);
    expect(err.message).toMatch(/UCS-2/);
    expect(rowCount()).toBe(0);

    const ucs2 = createOutbox(t.db, clock, { foldMode: 'gsm7', allowUcs2: true });
    const r = ucs2.enqueue(sms({ text }));
    expect(r).toMatchObject({ status: 'queued', encoding: 'UCS-2', segments: 1 });
    if (r.status !== 'queued') return;
    expect(ucs2.get(r.id)).toMatchObject({ text, encoding: 'UCS-2' });
    // UCS-2 segments are 70 / 67 UTF-16 units.
    expect(ucs2.enqueue(sms({ text: '🙏'.repeat(35) }))).toMatchObject({ encoding: 'UCS-2', segments: 1 });
    expect(ucs2.enqueue(sms({ text: '🙏'.repeat(36) }))).toMatchObject({ encoding: 'UCS-2', segments: 2 });
  });
});

describe('deduplication and opt-out', () => {
  it('queues one row for a sourceKey seen twice, and answers duplicate with the first id', () => {
    const first = outbox.enqueue(sms({ sourceKey: 'inbound:ATXid_1' }));
    const again = outbox.enqueue(sms({ sourceKey: 'inbound:ATXid_1', text: 'another text' }));
    expect(first.status).toBe('queued');
    if (first.status !== 'queued') return;
    expect(again).toEqual({ status: 'duplicate', id: first.id });
    expect(rowCount()).toBe(1);
    expect(outbox.get(first.id)?.text).toBe('Votre cotisation de 1500 FCFA est recue. Merci.');
  });

  it('dedups inside one enqueueMany too', () => {
    const rs = outbox.enqueueMany([sms({ sourceKey: 'k' }), sms({ sourceKey: 'k' }), sms({ to: '+22366000004' })]);
    expect(rs.map((r) => r.status)).toEqual(['queued', 'duplicate', 'queued']);
    expect(rowCount()).toBe(2);
  });

  it('does not queue reminders or campaigns to a phone that opted out; receipts still go', () => {
    const phone = '+22376000001';
    outbox.setOptOut(phone, true, 'sms STOP');
    expect(outbox.isOptedOut(phone)).toBe(true);
    expect(outbox.enqueue(sms({ to: phone, kind: 'reminder' }))).toEqual({ status: 'opted-out' });
    expect(outbox.enqueue(sms({ to: phone, kind: 'campaign', campaignId: 7 }))).toEqual({ status: 'opted-out' });
    expect(rowCount()).toBe(0);
    expect(outbox.enqueue(sms({ to: phone, kind: 'transactional' })).status).toBe('queued');
    expect(rowCount()).toBe(1);
    // Another phone is not affected, and START lets reminders through again.
    expect(outbox.enqueue(sms({ to: '+22366000004', kind: 'reminder' })).status).toBe('queued');
    outbox.setOptOut(phone, false, 'sms START');
    expect(outbox.enqueue(sms({ to: phone, kind: 'reminder' })).status).toBe('queued');
    expect(outbox.to(phone).map((r) => r.kind)).toEqual(['transactional', 'reminder']);
  });
});

describe('status history and delivery reports', () => {
  function queued(over: Partial<NewSms> = {}): number {
    const r = outbox.enqueue(sms(over));
    if (r.status !== 'queued') throw new Error(`not queued: ${r.status}`);
    return r.id;
  }

  it('records queued with its time', () => {
    const id = queued();
    expect(outbox.history(id)).toEqual([{ status: 'queued', detail: null, atMs: Date.parse(START) }]);
    expect(outbox.get(id)).toMatchObject({
      createdMs: Date.parse(START),
      nextAttemptMs: Date.parse(START),
      expiresMs: Date.parse(START) + 24 * 3600_000,
    });
  });

  it('Success makes a sent message delivered, once', () => {
    const id = queued();
    markSent(id, 'ATXid_ok');
    clock.advance(5_000);
    expect(outbox.recordDelivery({ providerId: 'ATXid_ok', status: 'Success' })).toBe('updated');
    expect(outbox.get(id)).toMatchObject({ status: 'delivered', lastError: null });
    expect(outbox.history(id).at(-1)).toEqual({ status: 'delivered', detail: 'Success', atMs: Date.parse(START) + 5_000 });
    const n = outbox.history(id).length;
    // The gateway repeats itself: nothing changes.
    expect(outbox.recordDelivery({ providerId: 'ATXid_ok', status: 'Success' })).toBe('unchanged');
    expect(outbox.history(id)).toHaveLength(n);
    // A late, contradicting report after a final one changes nothing either.
    expect(outbox.recordDelivery({ providerId: 'ATXid_ok', status: 'Failed', failureReason: 'UnknownError' })).toBe('unchanged');
    expect(outbox.get(id)?.status).toBe('delivered');
  });

  it('AbsentSubscriber makes it failed with the reason', () => {
    const id = queued();
    markSent(id, 'ATXid_absent');
    expect(outbox.recordDelivery({ providerId: 'ATXid_absent', status: 'AbsentSubscriber', failureReason: 'AbsentSubscriber' })).toBe(
      'updated',
    );
    const row = outbox.get(id)!;
    expect(row.status).toBe('failed');
    expect(row.lastError).toMatch(/AbsentSubscriber/);
    expect(outbox.history(id).at(-1)).toMatchObject({ status: 'failed', detail: 'AbsentSubscriber: AbsentSubscriber' });
    expect(outbox.recordDelivery({ providerId: 'ATXid_absent', status: 'AbsentSubscriber', failureReason: 'AbsentSubscriber' })).toBe(
      'unchanged',
    );
  });

  it('Buffered keeps the message sent (noted once in its history)', () => {
    const id = queued();
    markSent(id, 'ATXid_buf');
    expect(outbox.recordDelivery({ providerId: 'ATXid_buf', status: 'Buffered' })).toBe('updated');
    expect(outbox.get(id)?.status).toBe('sent');
    expect(outbox.history(id).at(-1)).toMatchObject({ status: 'sent', detail: 'Buffered' });
    const n = outbox.history(id).length;
    expect(outbox.recordDelivery({ providerId: 'ATXid_buf', status: 'Buffered' })).toBe('unchanged');
    expect(outbox.history(id)).toHaveLength(n);
    // Then the final word.
    expect(outbox.recordDelivery({ providerId: 'ATXid_buf', status: 'Success' })).toBe('updated');
    expect(outbox.get(id)?.status).toBe('delivered');
  });

  it("answers 'unknown' for a provider id it never sent, and changes nothing", () => {
    const id = queued();
    expect(outbox.recordDelivery({ providerId: 'ATXid_nobody', status: 'Success' })).toBe('unknown');
    expect(outbox.get(id)?.status).toBe('queued');
    expect(outbox.history(id)).toHaveLength(1);
  });
});
