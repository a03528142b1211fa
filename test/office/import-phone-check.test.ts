/**
 * An import checks every household's phone: a plainly typed Malian mobile is accepted on the
 * expression compiled from libphonenumber-js's metadata instead of a parse. mobileNumber must
 * give exactly what the parse alone gives, for every way a number may be typed.
 */
import fc from 'fast-check';
import { parsePhoneNumberFromString } from 'libphonenumber-js/mobile';
import { describe, expect, it } from 'vitest';
import { mobileNumber } from '../../src/office/registration.ts';

/** What the parse alone says (mobileNumber before its compiled expression). */
function parsed(typed: string): string | null {
  const n = parsePhoneNumberFromString(typed.trim().replace(/^00/, '+'), 'ML');
  return n?.isValid() && (n.getType() === 'MOBILE' || n.getType() === undefined) ? n.number : null;
}

describe('the phone check of registration and import', () => {
  it('agrees with the parse on every Malian prefix of four digits, typed in E.164 or nationally; with 00, spaced or without + on a sample', () => {
    let valid = 0;
    const disagreements: string[] = [];
    for (let prefix = 0; prefix < 10_000; prefix++) {
      const p = String(prefix).padStart(4, '0');
      for (const rest of ['5731', '123', '12345']) {
        const typings = [`+223${p}${rest}`, `${p}${rest}`];
        // The other typings reach the same two paths (00 becomes +; spaces and a bare 223 are parsed): a sample of prefixes keeps the test short.
        if (prefix % 10 === 0) typings.push(`00223${p}${rest}`, ` ${p.slice(0, 2)} ${p.slice(2)} ${rest} `, `223${p}${rest}`);
        for (const typed of typings) {
          const expected = parsed(typed);
          if (expected !== null) valid++;
          if (mobileNumber(typed) !== expected) disagreements.push(typed);
        }
      }
    }
    expect(disagreements).toEqual([]);
    // Many prefixes are Malian mobiles: the test compares both answers, not only refusals.
    expect(valid).toBeGreaterThan(5_000);
  });

  it('agrees with the parse on any digits, with or without a calling code or 00', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('+223', '00223', '223', '+221', '+33', '+1', '0', ''),
        fc.stringMatching(/^\d{4,13}$/),
        (lead, digits) => {
          const typed = `${lead}${digits}`;
          expect(mobileNumber(typed), typed).toBe(parsed(typed));
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('writes an accepted number in E.164 and refuses a fixed line', () => {
    expect(mobileNumber('76 00 00 01')).toBe('+22376000001');
    expect(mobileNumber('76000001')).toBe('+22376000001');
    expect(mobileNumber('0022376000001')).toBe('+22376000001');
    expect(mobileNumber('+22320220000')).toBeNull();
  });
});
