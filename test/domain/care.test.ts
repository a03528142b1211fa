import { describe, expect, it } from 'vitest';
import { allowedAmount, type CareTariff, careCovered, checkAmount, checkDays, tariffsOn } from '../../src/domain/care.ts';
import { isRefusal } from '../../src/domain/refusal.ts';

const v = (
  care: CareTariff['care'],
  effectiveFrom: string,
  tariff: number,
  unit: CareTariff['unit'] = 'visit',
  maxDays = 1,
): CareTariff => ({
  care,
  effectiveFrom,
  unit,
  tariff,
  maxDays,
});

describe('care tariffs', () => {
  const versions = [
    v('hospitalisation', '2024-01-01', 3000, 'day', 15),
    v('consultation', '2024-01-01', 1500),
    v('consultation', '2026-07-01', 2000),
    v('delivery', '2027-01-01', 7500),
  ];

  it('takes, per kind of care, the version in force on the day, in the product list order', () => {
    expect(tariffsOn(versions, '2026-06-30').map((t) => [t.care, t.tariff])).toEqual([
      ['consultation', 1500],
      ['hospitalisation', 3000],
    ]);
    expect(tariffsOn(versions, '2026-07-01').map((t) => [t.care, t.tariff])).toEqual([
      ['consultation', 2000],
      ['hospitalisation', 3000],
    ]);
    expect(tariffsOn(versions, '2027-01-01').map((t) => t.care)).toEqual(['consultation', 'delivery', 'hospitalisation']);
    expect(tariffsOn(versions, '2023-12-31')).toEqual([]);
  });

  it('allows the tariff per visit, or per day of stay up to its days', () => {
    const stay = v('hospitalisation', '2024-01-01', 3000, 'day', 15);
    const visit = v('consultation', '2024-01-01', 1500);
    expect(allowedAmount(stay, 4)).toBe(12_000);
    expect(allowedAmount(visit, 4)).toBe(1500);
    expect(() => checkAmount(stay, 4, 12_000)).not.toThrow();
    expect(() => checkAmount(visit, 1, 1)).not.toThrow();
    for (const [t, days, amount] of [
      [stay, 4, 12_001],
      [visit, 1, 1501],
      [visit, 1, 0],
      [visit, 1, 10.5],
    ] as const) {
      let thrown: unknown;
      try {
        checkAmount(t, days, amount);
      } catch (err) {
        thrown = err;
      }
      expect(isRefusal(thrown), `${t.care} ${days} ${amount}`).toBe(true);
      expect((thrown as { details: { max: number } }).details.max).toBe(allowedAmount(t, days));
    }
    expect(() => checkDays(stay, 15)).not.toThrow();
    expect(() => checkDays(stay, 16)).toThrow(/between 1 and 15/);
    expect(() => checkDays(stay, 0)).toThrow(/between 1 and 15/);
    expect(() => checkDays(visit, 2)).toThrow(/between 1 and 1/);
  });

  it('covers care only while the household is active and the beneficiary too: never in waiting or grace', () => {
    expect(careCovered('active', true)).toBe(true);
    expect(careCovered('active', false)).toBe(false);
    for (const s of ['waiting', 'grace', 'lapsed'] as const) expect(careCovered(s, true)).toBe(false);
  });
});
