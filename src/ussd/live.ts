import type { SessionRow } from '../db/sessions.ts';
import type { FlowRun } from './run.ts';

/** A session between two hops, kept in memory so the next hop need not read and restore it. */
export interface LiveSession {
  row: SessionRow;
  /** The running flow; null while the engine shows a screen of its own (the resume offer, the call-back offer). */
  actor: FlowRun | null;
  seenMs: number;
}

export interface LiveSessionOptions {
  /** At most this many sessions are kept; the least recently used one goes first. */
  max: number;
  /** A session idle for longer than this is dropped (the gateway gives up after about 180 s). */
  idleMs: number;
}

/**
 * Live sessions. Every hop is still persisted before its reply; this only saves the next hop the
 * read and the snapshot restore. The engine clears them all when another connection writes.
 */
export function createLiveSessions(opts: LiveSessionOptions) {
  const live = new Map<string, LiveSession>();

  function drop(sessionId: string): void {
    const s = live.get(sessionId);
    if (!s) return;
    live.delete(sessionId);
    s.actor?.stop();
  }

  function clear(): void {
    for (const s of live.values()) s.actor?.stop();
    live.clear();
  }

  return {
    /** Takes the session out: the caller owns it until it puts it back. */
    take(sessionId: string, nowMs: number): LiveSession | undefined {
      const s = live.get(sessionId);
      if (!s) return undefined;
      live.delete(sessionId);
      if (nowMs - s.seenMs > opts.idleMs) {
        s.actor?.stop();
        return undefined;
      }
      return s;
    },
    /** The session's row while it is kept (and not idle), left in place. */
    peek(sessionId: string, nowMs: number): SessionRow | undefined {
      const s = live.get(sessionId);
      return s && nowMs - s.seenMs <= opts.idleMs ? s.row : undefined;
    },
    put(sessionId: string, session: LiveSession): void {
      drop(sessionId);
      live.set(sessionId, session);
      if (live.size > opts.max) {
        for (const [id] of live) {
          drop(id);
          if (live.size <= opts.max) break;
        }
      }
    },
    drop,
    clear,
    get size(): number {
      return live.size;
    },
  };
}

export type LiveSessions = ReturnType<typeof createLiveSessions>;
