/**
 * The missed-call rule: who is rejected and called back, who is answered, and "at most one
 * call-back per phone in 10 minutes" over any sequence of flashes (property test).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import type { Db } from '../../src/db/connection.ts';
import { createHouseholdStore } from '../../src/db/households.ts';
import { seedDemo } from '../../src/db/seed.ts';
import { createVoiceCallStore } from '../../src/db/voice-outbox.ts';
import { CALL_BACK_WINDOW_MS, type InboundFacts, inboundAction } from '../../src/domain/calls.ts';
import { sequentialIds } from '../../src/ids.ts';
import { createLogger } from '../../src/log.ts';
import { createMissedCalls, isMalianMobile } from '../../src/voice/missed-calls.ts';
import { createCalls } from '../../src/voice/outbound.ts';
import { memoryDatabase } from '../support/databases.ts';

describe('inboundAction', () => {
  const member: InboundFacts = { callBackMissed: true, member: true, malianMobile: true, recentCallBack: 'none' };
  it.each([
    ['mode off', { ...member, callBackMissed: false }, 'answer', 'missed-call mode off'],
    ['a member on a Malian mobile', member, 'reject', 'call-back queued'],
    ['not a member', { ...member, member: false }, 'answer', 'not a member'],
    ['a member on a foreign number', { ...member, malianMobile: false }, 'answer', 'not a Malian mobile'],
    ['a call-back still on its way', { ...member, recentCallBack: 'pending' }, 'reject', 'call-back pending'],
    ['called back less than 10 minutes ago', { ...member, recentCallBack: 'done' }, 'answer', 'called back recently'],
    [
      'mode off wins over a pending call-back',
      { ...member, callBackMissed: false, recentCallBack: 'pending' },
      'answer',
      'missed-call mode off',
    ],
  ] as const)('%s: %s', (_label, facts, action, why) => {
    expect(inboundAction(facts)).toEqual({ action, why });
  });
});

describe('isMalianMobile', () => {
  it.each([
    ['+22376000001', true],
    ['+22366000004', true],
    ['+22320200000', false], // a Bamako fixed line
    ['+2237600000', false],
    ['+221771234567', false],
    ['22376000001', false],
  ])('%s: %s', (phone, expected) => expect(isMalianMobile(phone)).toBe(expected));
});

describe('one call-back per phone in 10 minutes, whatever the sequence of flashes', () => {
  const MOUSSA = '+22376000001';
  let db: Db;
  const clock = new ManualClock('2026-03-10T09:00:00Z');
  beforeAll(() => {
    db = memoryDatabase();
    seedDemo(db, clock);
  });
  afterAll(() => db.close());

  it('holds for any flash times and outcomes: call-backs at least 10 minutes apart, and a flash with none in the window gets one', () => {
    const transport = { name: 'none', place: async () => ({ outcome: 'queued', sessionId: null }) as const };
    const calls = createCalls(db, transport, clock, createLogger('silent'), sequentialIds(), {
      from: '+22320200000',
      maxAttempts: 5,
      retryBaseMs: 30_000,
      ringAgainMs: 3_600_000,
      hours: { startHour: 8, endHour: 20 },
      pollMs: 1000,
      stalePlacingMs: 30_000,
      staleRingingMs: 7_200_000,
    });
    const missed = createMissedCalls({
      enabled: true,
      households: createHouseholdStore(db),
      calls,
      store: createVoiceCallStore(db),
      clock,
    });
    const start = clock.now().getTime();
    fc.assert(
      fc.property(
        fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 25 * 60_000 }), answeredBy: fc.boolean() }), { minLength: 1, maxLength: 25 }),
        (flashes) => {
          db.exec('DELETE FROM voice_outbox_history; DELETE FROM voice_outbox;');
          let t = start;
          for (const f of flashes) {
            t += f.gapMs;
            const now = new Date(t);
            const before = calls.ofPhone(MOUSSA).filter((c) => c.createdMs > t - CALL_BACK_WINDOW_MS);
            const d = missed.decideInbound(MOUSSA, now);
            if (before.length === 0) expect(d).toMatchObject({ action: 'reject', why: 'call-back queued' });
            else expect(d.why).not.toBe('call-back queued');
            // Some call-backs are placed and settled before the next flash, others not.
            if (d.why === 'call-back queued' && f.answeredBy) {
              const row = calls.get(d.callId as number);
              db.prepare(`UPDATE voice_outbox SET status = 'completed' WHERE id = ?`).run(row?.id);
            }
          }
          const times = calls.ofPhone(MOUSSA).map((c) => c.createdMs);
          for (let i = 1; i < times.length; i++)
            expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(CALL_BACK_WINDOW_MS);
        },
      ),
      { numRuns: 200 },
    );
  });
});
