import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conversions } from '../../src/campaigns/conversions.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-10T09:00:00Z');

describe('conversions: members who paid within 14 days of delivery, against a comparison group', () => {
  it('counts each household once, only for payments inside [delivery, delivery + 14 days]', () => {
    const r = conversions({
      reached: [
        { householdId: 1, deliveredMs: T0 },
        { householdId: 2, deliveredMs: T0 },
        { householdId: 3, deliveredMs: T0 + DAY },
        { householdId: 4, deliveredMs: T0 },
      ],
      comparison: [
        { householdId: 10, fromMs: T0 },
        { householdId: 11, fromMs: T0 },
        { householdId: 12, fromMs: T0 },
        { householdId: 13, fromMs: T0 },
      ],
      comparisonKind: 'control',
      payments: [
        { householdId: 1, paidMs: T0 + 2 * DAY }, // paid after the message: converts
        { householdId: 1, paidMs: T0 + 3 * DAY }, // twice, still one member
        { householdId: 2, paidMs: T0 - 1 }, // paid before it was delivered: not a conversion
        { householdId: 3, paidMs: T0 + 15 * DAY }, // exactly 14 days after its own delivery: inside
        { householdId: 4, paidMs: T0 + 14 * DAY + 1 }, // one millisecond too late
        { householdId: 10, paidMs: T0 + 5 * DAY },
        { householdId: 99, paidMs: T0 + DAY }, // not in either group
      ],
    });
    expect(r.windowDays).toBe(14);
    expect(r.reached).toEqual({ size: 4, paid: 2, rate: 0.5 });
    expect(r.comparison).toEqual({ size: 4, paid: 1, rate: 0.25 });
    expect(r.comparisonKind).toBe('control');
    expect(r.difference).toBeCloseTo(0.25);
  });

  it('has no rate and no difference for an empty group', () => {
    const r = conversions({ reached: [], comparison: [{ householdId: 1, fromMs: T0 }], comparisonKind: 'not-reached', payments: [] });
    expect(r.reached).toEqual({ size: 0, paid: 0, rate: null });
    expect(r.comparison.rate).toBe(0);
    expect(r.difference).toBeNull();
  });

  it('property: paid never exceeds size, and a payment moved outside every window stops counting', () => {
    const member = fc.record({ householdId: fc.integer({ min: 1, max: 30 }), at: fc.integer({ min: 0, max: 60 }) });
    fc.assert(
      fc.property(
        fc.array(member, { maxLength: 20 }),
        fc.array(member, { maxLength: 20 }),
        fc.array(member, { maxLength: 40 }),
        (reached, comparison, payments) => {
          const input = {
            reached: reached.map((m) => ({ householdId: m.householdId, deliveredMs: T0 + m.at * DAY })),
            comparison: comparison.map((m) => ({ householdId: m.householdId, fromMs: T0 + m.at * DAY })),
            comparisonKind: 'control' as const,
            payments: payments.map((p) => ({ householdId: p.householdId, paidMs: T0 + p.at * DAY })),
          };
          const r = conversions(input);
          expect(r.reached.paid).toBeLessThanOrEqual(r.reached.size);
          expect(r.comparison.paid).toBeLessThanOrEqual(r.comparison.size);
          expect(r.reached.size).toBe(reached.length);
          // Every payment a year before everything: nobody converts.
          const early = conversions({ ...input, payments: input.payments.map((p) => ({ ...p, paidMs: T0 - 365 * DAY })) });
          expect(early.reached.paid + early.comparison.paid).toBe(0);
          // A payment on the day of each delivery: every member reached converts, and the comparison is unchanged.
          const more = conversions({
            ...input,
            payments: [...input.payments, ...input.reached.map((m) => ({ householdId: m.householdId, paidMs: m.deliveredMs }))],
          });
          expect(more.reached.paid).toBe(reached.length);
          expect(more.comparison.paid).toBeGreaterThanOrEqual(r.comparison.paid);
        },
      ),
    );
  });
});
