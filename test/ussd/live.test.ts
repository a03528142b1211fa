import { describe, expect, it, vi } from 'vitest';
import type { AnyActor } from 'xstate';
import type { SessionRow } from '../../src/db/sessions.ts';
import { createLiveSessions } from '../../src/ussd/live.ts';

const row = (id: string) => ({ sessionId: id }) as SessionRow;
const actor = () => ({ stop: vi.fn() }) as unknown as AnyActor & { stop: ReturnType<typeof vi.fn> };

describe('live sessions kept between hops', () => {
  it('hand a session to one hop at a time', () => {
    const live = createLiveSessions({ max: 10, idleMs: 1000 });
    live.put('a', { row: row('a'), actor: actor(), seenMs: 0 });
    expect(live.take('a', 10)?.row.sessionId).toBe('a');
    expect(live.take('a', 10)).toBeUndefined();
  });

  it('show a kept row without taking it, unless it has been idle too long', () => {
    const live = createLiveSessions({ max: 10, idleMs: 1000 });
    live.put('a', { row: row('a'), actor: actor(), seenMs: 0 });
    expect(live.peek('a', 1000)?.sessionId).toBe('a');
    expect(live.take('a', 1000)?.row.sessionId).toBe('a');
    live.put('b', { row: row('b'), actor: actor(), seenMs: 0 });
    expect(live.peek('b', 1001)).toBeUndefined();
    expect(live.peek('c', 0)).toBeUndefined();
  });

  it('drop the least recently used beyond the bound, stopping its actor', () => {
    const live = createLiveSessions({ max: 2, idleMs: 1000 });
    const first = actor();
    live.put('a', { row: row('a'), actor: first, seenMs: 0 });
    live.put('b', { row: row('b'), actor: actor(), seenMs: 0 });
    live.put('c', { row: row('c'), actor: actor(), seenMs: 0 });
    expect(live.size).toBe(2);
    expect(first.stop).toHaveBeenCalled();
    expect(live.take('a', 0)).toBeUndefined();
  });

  it('forget a session idle longer than the gateway keeps it', () => {
    const live = createLiveSessions({ max: 10, idleMs: 1000 });
    const a = actor();
    live.put('a', { row: row('a'), actor: a, seenMs: 0 });
    expect(live.take('a', 1001)).toBeUndefined();
    expect(a.stop).toHaveBeenCalled();
  });

  it('can forget everything at once, stopping every actor', () => {
    const live = createLiveSessions({ max: 10, idleMs: 1000 });
    const a = actor();
    live.put('a', { row: row('a'), actor: a, seenMs: 0 });
    live.put('b', { row: row('b'), actor: actor(), seenMs: 0 });
    live.clear();
    expect(live.take('b', 0)).toBeUndefined();
    expect(live.size).toBe(0);
    expect(a.stop).toHaveBeenCalled();
  });
});
