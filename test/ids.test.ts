import { describe, expect, it } from 'vitest';
import { randomIds, sequentialIds } from '../src/ids.ts';

describe('id sources', () => {
  it('counted ids are the same on every run, one per call, as long as asked', () => {
    const a = sequentialIds();
    const b = sequentialIds();
    expect([a.hex(3), a.hex(3), a.hex(2)]).toEqual(['000001', '000002', '0003']);
    expect(b.hex(3)).toBe('000001');
  });

  it('random ids are hex of the length asked, and differ', () => {
    const x = randomIds.hex(4);
    expect(x).toMatch(/^[0-9a-f]{8}$/);
    expect(randomIds.hex(4)).not.toBe(x);
  });
});
