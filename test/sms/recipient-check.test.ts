/**
 * The outbox accepts a number of a plain numbering plan (Mali's, Senegal's…) on one regular
 * expression built from libphonenumber-js's metadata instead of parsing it: it must accept exactly
 * the numbers the parse accepts.
 */
import fc from 'fast-check';
import { parsePhoneNumberFromString } from 'libphonenumber-js/mobile';
import { describe, expect, it } from 'vitest';
import { recipientCheck } from '../../src/sms/outbox.ts';

/** What the parse alone says: a valid mobile number, written in E.164, of one of `countries`. */
function parsedAccepts(countries: readonly string[], to: string): boolean {
  if (!/^\+[1-9]\d{6,14}$/.test(to)) return false;
  const n = parsePhoneNumberFromString(to, { extract: false });
  return n?.isValid() === true && n.country !== undefined && countries.includes(n.country);
}

function accepts(check: (to: string) => string, to: string): boolean {
  try {
    return check(to) === to;
  } catch (err) {
    if (err instanceof Error && /recipient/.test(err.message)) return false;
    throw err;
  }
}

describe('the compiled mobile check', () => {
  const countries = ['ML', 'SN', 'CI', 'BF'];
  const check = recipientCheck(countries);

  it('agrees with the parse on every Malian prefix of four digits, at every length around eight', () => {
    let valid = 0;
    const disagreements: string[] = [];
    for (let prefix = 0; prefix < 10_000; prefix++) {
      const p = String(prefix).padStart(4, '0');
      for (const rest of ['0000', '5731', '9999', '123', '12345']) {
        const to = `+223${p}${rest}`;
        const expected = parsedAccepts(countries, to);
        if (expected) valid++;
        if (accepts(check, to) !== expected) disagreements.push(to);
      }
    }
    expect(disagreements).toEqual([]);
    // Many prefixes are Malian mobiles (5x, 6x, 7x, 8x, 9x…): the test compares both answers, not only refusals.
    expect(valid).toBeGreaterThan(10_000);
  });

  it('agrees with the parse on any digits after the calling codes of the allowed countries and others', () => {
    fc.assert(
      fc.property(fc.constantFrom('223', '221', '225', '226', '33', '1', '44', '2'), fc.stringMatching(/^\d{4,13}$/), (code, digits) => {
        const to = `+${code}${digits}`;
        expect(accepts(check, to), to).toBe(parsedAccepts(countries, to));
      }),
      { numRuns: 5_000 },
    );
  });

  it('leaves the plans it cannot compile (a shared calling code, a national prefix) to the parse', () => {
    const nanp = recipientCheck(['CA']);
    expect(nanp('+16135550123')).toBe('+16135550123');
    expect(() => nanp('+12125550123')).toThrow(/outside the countries/);
    expect(recipientCheck(['FR'])('+33612345678')).toBe('+33612345678');
  });
});
