import type { Db } from './connection.ts';

export interface SessionRow {
  sessionId: string;
  phone: string;
  serviceCode: string;
  /** The flow the member is in ('main', 'coverage', 'resume' while a cut session is offered…), '@help' after too many mistakes. */
  machine: string;
  version: number;
  /** XState persisted snapshot, JSON. */
  snapshot: string;
  /**
   * Where the member is in the flow: the snapshot's state value (its name, or its JSON for nested
   * states), written beside the snapshot so that the figures never parse snapshots; null on the
   * engine's own screen (the call-back offer after too many mistakes).
   */
  state: string | null;
  /** The flow '00' leads to: 'main' for members, 'register' for unknown numbers. */
  home: string;
  page: number;
  invalid: number;
  hops: number;
  lastText: string;
  lastReply: string;
  status: 'open' | 'ended' | 'resumed';
  createdMs: number;
  updatedMs: number;
}

export interface SessionEvent {
  sessionId: string;
  phone: string;
  serviceCode: string | null;
  networkCode: string | null;
  status: 'Success' | 'Incomplete' | 'Failed';
  date: string | null;
  cost: string | null;
  durationMs: number | null;
  hopsCount: number | null;
  hopsMetadata: string | null;
  input: string | null;
  lastAppResponse: string | null;
  errorMessage: string | null;
}

/** A session as the member's file in the office lists it, with how the gateway reported its end. */
export interface RecentSession {
  sessionId: string;
  updatedMs: number;
  hops: number;
  lastText: string;
  lastReply: string;
  status: string;
  /** The end-of-session event's status (Success, Incomplete, Failed), null before one arrived. */
  event: string | null;
}

const COLUMNS = `session_id AS sessionId, phone, service_code AS serviceCode, machine, version, snapshot, state, home,
  page, invalid, hops, last_text AS lastText, last_reply AS lastReply, status, created_ms AS createdMs, updated_ms AS updatedMs`;

/** USSD sessions: one row per gateway session, rewritten by one prepared upsert per hop. */
export function createSessionStore(db: Db) {
  const get = db.prepare(`SELECT ${COLUMNS} FROM ussd_sessions WHERE session_id = ?`);
  // Positional parameters: binding by name looks each one up in the row, on every hop.
  const upsert = db.prepare(
    `INSERT INTO ussd_sessions (session_id, phone, service_code, machine, version, snapshot, state, home, page, invalid, hops,
       last_text, last_reply, status, created_ms, updated_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (session_id) DO UPDATE SET machine = excluded.machine, version = excluded.version,
       snapshot = excluded.snapshot, state = excluded.state, home = excluded.home, page = excluded.page, invalid = excluded.invalid,
       hops = excluded.hops, last_text = excluded.last_text, last_reply = excluded.last_reply,
       status = excluded.status, updated_ms = excluded.updated_ms`,
  );
  const resumable = db.prepare(
    `SELECT ${COLUMNS} FROM ussd_sessions
     WHERE phone = ? AND updated_ms >= ? AND status = 'open' AND session_id != ? AND machine != 'resume'
     ORDER BY updated_ms DESC LIMIT 1`,
  );
  const setStatus = db.prepare(`UPDATE ussd_sessions SET status = ? WHERE session_id = ? AND status = 'open'`);
  const endForPhone = db.prepare(`UPDATE ussd_sessions SET status = 'ended' WHERE session_id = ? AND phone = ? AND status = 'open'`);
  const recordEvent = db.prepare(
    `INSERT INTO ussd_session_events (session_id, phone, service_code, network_code, status, date, cost, duration_ms,
       hops_count, hops_metadata, input, last_app_response, error_message, received_at)
     VALUES (@sessionId, @phone, @serviceCode, @networkCode, @status, @date, @cost, @durationMs, @hopsCount,
       @hopsMetadata, @input, @lastAppResponse, @errorMessage, @receivedAt)
     ON CONFLICT (session_id) DO UPDATE SET status = excluded.status, date = excluded.date, cost = excluded.cost,
       duration_ms = excluded.duration_ms, hops_count = excluded.hops_count, hops_metadata = excluded.hops_metadata,
       input = excluded.input, last_app_response = excluded.last_app_response,
       error_message = excluded.error_message, received_at = excluded.received_at`,
  );
  const closeOnSuccess = db.transaction((e: SessionEvent, receivedAt: string) => {
    recordEvent.run({ ...e, receivedAt });
    // A member who dropped off (Incomplete/Failed) may resume within the window; a finished session may not.
    if (e.status === 'Success') endForPhone.run(e.sessionId, e.phone);
  });

  // Group commit: hops finished in the same turn of the event loop share one transaction, so a
  // busy server pays one WAL commit per batch instead of one per hop. Each reply still leaves only
  // after its own row is committed.
  let pending: Array<{ row: SessionRow; also: (() => void) | undefined; done: () => void; fail: (err: unknown) => void }> = [];
  const insertHop = db.prepare('INSERT INTO ussd_hops (session_id, hop, text, reply, at_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING');
  const hopsOf = db.prepare('SELECT hop, text, reply FROM ussd_hops WHERE session_id = ? ORDER BY hop');
  const pruneHops = db.prepare('DELETE FROM ussd_hops WHERE at_ms < ?');
  const recentOf = db.prepare(
    `SELECT s.session_id AS sessionId, s.updated_ms AS updatedMs, s.hops, s.last_text AS lastText, s.last_reply AS lastReply, s.status,
       e.status AS event
     FROM ussd_sessions s LEFT JOIN ussd_session_events e ON e.session_id = s.session_id
     WHERE s.phone = ? ORDER BY s.updated_ms DESC LIMIT 10`,
  );
  /** The session's row, and the screen of this hop for the office's support view. */
  const write = (r: SessionRow) => {
    upsert.run(
      r.sessionId,
      r.phone,
      r.serviceCode,
      r.machine,
      r.version,
      r.snapshot,
      r.state,
      r.home,
      r.page,
      r.invalid,
      r.hops,
      r.lastText,
      r.lastReply,
      r.status,
      r.createdMs,
      r.updatedMs,
    );
    insertHop.run(r.sessionId, r.hops, r.lastText, r.lastReply, r.updatedMs);
  };
  /** A row and the writes its caller asked to commit with it. */
  const writeWith = (b: { row: SessionRow; also: (() => void) | undefined }) => {
    write(b.row);
    b.also?.();
  };
  const commitAll = db.transaction((batch: typeof pending) => {
    for (const b of batch) writeWith(b);
  });
  function flush(): void {
    const batch = pending;
    pending = [];
    try {
      commitAll(batch);
      for (const b of batch) b.done();
    } catch {
      // One bad row must not fail its neighbours: commit them one by one.
      for (const b of batch) {
        try {
          db.transaction(writeWith)(b);
          b.done();
        } catch (err) {
          b.fail(err);
        }
      }
    }
  }

  return {
    get(sessionId: string): SessionRow | undefined {
      return get.get(sessionId) as SessionRow | undefined;
    },
    /** Forgets the screens of hops older than `beforeMs` (the support view needs recent ones); returns how many. */
    pruneHops(beforeMs: number): number {
      return pruneHops.run(beforeMs).changes;
    },
    /** What the member typed and saw at each hop of a session, oldest first. */
    hops(sessionId: string): Array<{ hop: number; text: string; reply: string }> {
      return hopsOf.all(sessionId) as Array<{ hop: number; text: string; reply: string }>;
    },
    /** The phone's latest 10 sessions, newest first. */
    recentOf(phone: string): RecentSession[] {
      return recentOf.all(phone) as RecentSession[];
    },
    /** Resolves once the row is committed, with `also` (the caller's own writes) in the same transaction. */
    save(row: SessionRow, also?: () => void): Promise<void> {
      return new Promise((done, fail) => {
        pending.push({ row, also, done, fail });
        if (pending.length === 1) setImmediate(flush);
      });
    },
    /** The phone's latest session cut off mid-way (last reply was CON) since `sinceMs`. */
    resumable(phone: string, sinceMs: number, exceptSessionId: string): SessionRow | undefined {
      return resumable.get(phone, sinceMs, exceptSessionId) as SessionRow | undefined;
    },
    markResumed(sessionId: string): void {
      setStatus.run('resumed', sessionId);
    },
    /** Closes a session whose call has hung up (voice): it is never offered again on redial. */
    markEnded(sessionId: string): void {
      setStatus.run('ended', sessionId);
    },
    recordEvent(e: SessionEvent, receivedAt: Date): void {
      closeOnSuccess(e, receivedAt.toISOString());
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
