import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { bamakoDay as localDay } from '../../src/clock.ts';
import { formatDate, formatDateTime, formatMoney } from '../../src/i18n/format.ts';
import { isGsm7 } from '../../src/i18n/gsm7.ts';

describe('formatMoney', () => {
  it.each<[number, string]>([
    [0, '0 FCFA'],
    [5, '5 FCFA'],
    [50, '50 FCFA'],
    [500, '500 FCFA'],
    [1000, '1 000 FCFA'],
    [3000, '3 000 FCFA'],
    [6000, '6 000 FCFA'],
    [10000, '10 000 FCFA'],
    [100000, '100 000 FCFA'],
    [999999, '999 999 FCFA'],
    [1000000, '1 000 000 FCFA'],
    [1234567, '1 234 567 FCFA'],
    [-5, '-5 FCFA'],
    [-500, '-500 FCFA'],
    [-1000, '-1 000 FCFA'],
    [-1234567, '-1 234 567 FCFA'],
    [-0, '0 FCFA'],
    [Number.MAX_SAFE_INTEGER, '9 007 199 254 740 991 FCFA'],
    [1e21, '1 000 000 000 000 000 000 000 FCFA'],
  ])('%d → %j', (amount, expected) => {
    expect(formatMoney(amount)).toBe(expected);
  });

  it.each([1.5, 0.1, -2.25, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('throws on %d (not an integer)', (amount) => {
    expect(() => formatMoney(amount)).toThrow(/integer/);
  });

  it('groups digits by three with ASCII spaces and stays GSM-7 (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (n) => {
        const text = formatMoney(n);
        expect(isGsm7(text)).toBe(true);
        expect(text).toMatch(/^-?\d{1,3}( \d{3})* FCFA$/);
        expect(text).not.toMatch(/[\u00A0\u202F]/);
        expect(Number(text.replace(' FCFA', '').replaceAll(' ', ''))).toBe(n === 0 ? 0 : n);
      }),
    );
  });
});

describe('formatDate', () => {
  it.each<[string, string]>([
    ['2026-11-22', '22/11/2026'],
    ['2026-12-31', '31/12/2026'],
    ['2027-01-01', '01/01/2027'],
    ['2024-02-29', '29/02/2024'],
    ['2000-02-29', '29/02/2000'],
    ['0099-06-15', '15/06/0099'],
  ])('%s → %s', (day, expected) => {
    expect(formatDate(day)).toBe(expected);
  });

  it.each([
    '2026-02-29', // not a leap year
    '1900-02-29', // not a leap year either
    '2026-04-31',
    '2026-13-01',
    '2026-00-10',
    '2026-11-00',
    '2026-11-32',
    '2026-1-01',
    '26-11-22',
    '2026/11/22',
    '22/11/2026',
    '',
    ' 2026-11-22',
    '2026-11-22 ',
    '2026-11-22T00:00',
    '２０２６-11-22',
  ])('throws on %j', (day) => {
    expect(() => formatDate(day)).toThrow(RangeError);
  });

  it('round-trips every day (property)', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2199-12-31T23:59:59Z'), noInvalidDate: true }), (d) => {
        const iso = d.toISOString().slice(0, 10);
        const [y, m, day] = iso.split('-');
        expect(formatDate(iso)).toBe(`${day}/${m}/${y}`);
      }),
    );
  });
});

describe('formatDateTime and localDay (Africa/Bamako, UTC+0, no daylight saving)', () => {
  const originalTz = process.env.TZ;
  afterEach(() => {
    if (originalTz === undefined) delete process.env.TZ;
    else process.env.TZ = originalTz;
  });

  it.each<[string, string, string]>([
    ['2026-11-22T14:05:00Z', '22/11/2026 14:05', '2026-11-22'],
    ['2026-11-22T14:05:59.999Z', '22/11/2026 14:05', '2026-11-22'], // seconds are cut, not rounded
    ['2026-11-22T23:59:59.999Z', '22/11/2026 23:59', '2026-11-22'],
    ['2026-11-23T00:00:00Z', '23/11/2026 00:00', '2026-11-23'],
    ['2026-12-31T23:59:00Z', '31/12/2026 23:59', '2026-12-31'],
    ['2027-01-01T00:00:00Z', '01/01/2027 00:00', '2027-01-01'],
    ['2026-03-29T01:30:00Z', '29/03/2026 01:30', '2026-03-29'], // Europe's DST switch: no effect
    ['2026-11-22T23:30:00-01:00', '23/11/2026 00:30', '2026-11-23'],
    ['2026-11-23T01:00:00+02:00', '22/11/2026 23:00', '2026-11-22'],
  ])('%s → %s (day %s)', (iso, dateTime, day) => {
    const instant = new Date(iso);
    expect(formatDateTime(instant)).toBe(dateTime);
    expect(localDay(instant)).toBe(day);
  });

  it('does not depend on the process time zone', () => {
    const instant = new Date('2026-11-22T23:30:00Z');
    for (const tz of ['America/New_York', 'Asia/Tokyo', 'Europe/Paris', 'UTC']) {
      process.env.TZ = tz;
      expect(formatDateTime(instant)).toBe('22/11/2026 23:30');
      expect(localDay(instant)).toBe('2026-11-22');
    }
  });

  it('agrees with UTC for any instant (property)', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-12-31T23:59:59Z'), noInvalidDate: true }), (d) => {
        const iso = d.toISOString();
        const day = iso.slice(0, 10);
        expect(localDay(d)).toBe(day);
        expect(formatDateTime(d)).toBe(`${formatDate(day)} ${iso.slice(11, 16)}`);
        expect(isGsm7(formatDateTime(d))).toBe(true);
      }),
    );
  });

  it('throws on an invalid date', () => {
    expect(() => formatDateTime(new Date('nope'))).toThrow(RangeError);
    expect(() => localDay(new Date(Number.NaN))).toThrow(RangeError);
  });
});
