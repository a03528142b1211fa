/**
 * The hand check of the hop's form (the lean path's shortcut past zod) against the schema itself:
 * for any form, it accepts exactly what the schema accepts, and gives the same object.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ussdHopSchema, wellFormedHop } from '../../src/http/ussd.ts';

const printable = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 140,
});
/** Values near every rule's edges: empty, a space, control and non-ASCII characters, lengths around each limit. */
const edgy = fc.oneof(
  printable,
  fc.constantFrom(
    '',
    ' ',
    'a b',
    'é',
    '\u0000',
    '\u007f',
    'x'.repeat(16),
    'x'.repeat(17),
    'x'.repeat(32),
    'x'.repeat(33),
    'x'.repeat(128),
    'x'.repeat(129),
  ),
  fc.string({ maxLength: 40 }),
);
const phone = fc.oneof(
  fc.constantFrom('+22376000001', '+123456', '+1234567', '+123456789012345', '+1234567890123456', '+02237600001', '22376000001', ''),
  fc.stringMatching(/^\+?[0-9]{0,17}$/),
);
const text = fc.oneof(fc.constantFrom('', '1*1', 'x'.repeat(4000), 'x'.repeat(4001)), fc.string({ maxLength: 50 }));

const form = fc.record(
  { sessionId: edgy, serviceCode: edgy, phoneNumber: phone, networkCode: edgy, text, extra: edgy },
  { requiredKeys: [] },
);

describe('the hop form check', () => {
  it('accepts exactly what ussdHopSchema accepts, with the same result', () => {
    fc.assert(
      fc.property(form, (f) => {
        const parsed = ussdHopSchema.safeParse(f);
        expect(wellFormedHop(f)).toEqual(parsed.success ? parsed.data : undefined);
      }),
      { numRuns: 5000 },
    );
  });

  it('takes the gateway’s ordinary hop', () => {
    const hop = { sessionId: 'ATUid_1', serviceCode: '*384*123#', phoneNumber: '+22376000001', networkCode: '99999', text: '1*1' };
    expect(wellFormedHop(hop)).toEqual(hop);
    expect(wellFormedHop({ ...hop, text: '' })).toEqual({ ...hop, text: '' });
  });
});
