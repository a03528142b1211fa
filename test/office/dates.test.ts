import { describe, expect, it } from 'vitest';
import { dayInput, dayTimeInput, parseDay, parseDayTime } from '../../src/office/dates.ts';

describe('dates in the console: JJ/MM/AAAA whatever the browser', () => {
  it('reads a day typed JJ/MM/AAAA (or ISO, for old links) and shows it back JJ/MM/AAAA', () => {
    expect(parseDay('10/03/2026')).toBe('2026-03-10');
    expect(parseDay(' 1/3/2026 ')).toBe('2026-03-01');
    expect(parseDay('2026-03-10')).toBe('2026-03-10');
    expect(parseDay('03-10-2026')).toBe('03-10-2026'); // left for the validator to refuse
    expect(dayInput('2026-03-10')).toBe('10/03/2026');
    expect(dayInput(undefined)).toBe('');
    expect(dayInput('10/3/26')).toBe('10/3/26');
  });

  it('reads a send time typed JJ/MM/AAAA HH:MM (Bamako)', () => {
    expect(parseDayTime('12/03/2026 08:30')).toBe('2026-03-12T08:30');
    expect(parseDayTime('12/03/2026 à 8h30')).toBe('2026-03-12T08:30');
    expect(parseDayTime('2026-03-12T08:30')).toBe('2026-03-12T08:30');
    expect(dayTimeInput('2026-03-12T08:30')).toBe('12/03/2026 08:30');
  });
});
