import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { scheduledAt } from '../../src/campaigns/campaigns.ts';
import { schedule } from '../../src/campaigns/send-chunks.ts';
import { campaignWorld, type MemberSpec } from './campaign-fixture.ts';

/** The reminders' defaults: 08:00 to 20:00 in Bamako (UTC+0). */
const HOURS = { startHour: 8, endHour: 20 };
const at = (iso: string) => Date.parse(iso);

let world: ReturnType<typeof campaignWorld> | undefined;
afterEach(() => {
  world?.cleanup();
  world = undefined;
});

const members = (n: number): MemberSpec[] => Array.from({ length: n }, () => ({ language: 'fr' }));

describe('campaigns respect the sending hours, as reminders do', () => {
  it('counts a schedule in open time only', () => {
    expect(scheduledAt(at('2026-03-10T09:00:00Z'), 60_000, HOURS)).toBe(at('2026-03-10T09:01:00Z'));
    expect(scheduledAt(at('2026-03-10T22:30:00Z'), 0, HOURS)).toBe(at('2026-03-11T08:00:00Z'));
    expect(scheduledAt(at('2026-03-10T05:00:00Z'), 0, HOURS)).toBe(at('2026-03-10T08:00:00Z'));
    // 10 minutes from 19:55: 5 minutes tonight, the other 5 tomorrow morning.
    expect(scheduledAt(at('2026-03-10T19:55:00Z'), 600_000, HOURS)).toBe(at('2026-03-11T08:05:00Z'));
    expect(scheduledAt(at('2026-03-10T22:30:00Z'), 0)).toBe(at('2026-03-10T22:30:00Z'));
  });

  it('schedules a send message after message as scheduledAt does each one, whatever the offsets', () => {
    const hours = fc.option(
      fc
        .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 1, max: 24 }))
        .filter(([s, e]) => s < e)
        .map(([startHour, endHour]) => ({ startHour, endHour })),
      { nil: undefined },
    );
    // Offsets mostly growing (a send's k × interval, a day and more of them), some going back.
    const offsets = fc.array(fc.tuple(fc.integer({ min: 0, max: 30 * 3600_000 }), fc.boolean()), { maxLength: 40 });
    fc.assert(
      fc.property(fc.integer({ min: at('2026-01-01T00:00:00Z'), max: at('2027-01-01T00:00:00Z') }), hours, offsets, (origin, h, steps) => {
        const next = schedule(origin, h);
        let offset = 0;
        for (const [step, back] of steps) {
          offset = back ? Math.floor(offset / 3) : offset + step;
          expect(next(offset)).toBe(scheduledAt(origin, offset, h));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('holds a campaign sent at night until the hours open, then sends it', async () => {
    world = campaignWorld(members(6), { hours: HOURS });
    const w = world;
    w.clock.set('2026-03-10T22:30:00Z');
    const c = w.campaigns.create({ name: 'Nuit', messages: { fr: 'Bonjour {prenom}', bm: 'I ni ce {prenom}' }, ratePerMinute: 6 });
    expect(w.campaigns.startSend(c.id).campaign.state).toBe('scheduled');
    w.campaigns.enqueueAll(c.id);
    const rows = w.rows(c.id);
    const opens = at('2026-03-11T08:00:00Z');
    expect(rows.map((r) => r.nextAttemptMs)).toEqual(rows.map((_, k) => opens + k * 10_000));

    w.clock.set('2026-03-11T07:59:59Z');
    expect((await w.dispatcher.drain()).sent).toBe(0);
    expect(w.received).toHaveLength(0);
    expect(w.campaigns.get(c.id).state).toBe('scheduled');

    w.clock.set('2026-03-11T09:00:00Z');
    await w.dispatcher.drain();
    expect(w.received).toHaveLength(rows.length);
    expect(w.campaigns.get(c.id).state).toBe('done');
  });

  it('carries a send that runs past the closing hour over to the next morning, at the same rate', () => {
    world = campaignWorld(members(6), { hours: HOURS });
    const w = world;
    w.clock.set('2026-03-10T19:59:30Z');
    const c = w.campaigns.create({ name: 'Soir', messages: { fr: 'Bonjour {prenom}', bm: 'I ni ce {prenom}' }, ratePerMinute: 6 });
    expect(w.campaigns.startSend(c.id).campaign.state).toBe('sending');
    w.campaigns.enqueueAll(c.id);
    const times = w.rows(c.id).map((r) => new Date(r.nextAttemptMs).toISOString());
    expect(times.slice(0, 4)).toEqual([
      '2026-03-10T19:59:30.000Z',
      '2026-03-10T19:59:40.000Z',
      '2026-03-10T19:59:50.000Z',
      '2026-03-11T08:00:00.000Z',
    ]);
    for (const t of times) expect(Number(t.slice(11, 13))).toBeGreaterThanOrEqual(8);
    for (const t of times) expect(Number(t.slice(11, 13))).toBeLessThan(20);
  });

  it('a campaign resumed at night waits for the morning', async () => {
    world = campaignWorld(members(6), { hours: HOURS });
    const w = world;
    const c = w.campaigns.create({ name: 'Pause', messages: { fr: 'Bonjour {prenom}', bm: 'I ni ce {prenom}' }, ratePerMinute: 60 });
    w.campaigns.startSend(c.id);
    w.campaigns.enqueueAll(c.id);
    w.campaigns.pause(c.id);
    w.clock.set('2026-03-10T21:00:00Z');
    expect(w.campaigns.resume(c.id).state).toBe('scheduled');
    const rows = w.rows(c.id);
    expect(rows.map((r) => r.nextAttemptMs)).toEqual(rows.map((_, k) => at('2026-03-11T08:00:00Z') + k * 1000));
    expect((await w.dispatcher.drain()).sent).toBe(0);
  });
});
