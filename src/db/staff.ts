import type { Db } from './connection.ts';

/** The staff family: accounts (`staff`), console sessions, failed logins, and the audit log of every staff write. */

export type Role = 'officer' | 'manager';

export interface StaffRow {
  id: number;
  email: string;
  name: string;
  role: Role;
  active: number;
  password_hash: string;
}

export interface NewStaffSession {
  /** SHA-256 of the cookie's token: a copy of the database opens no session. */
  tokenHash: string;
  staffId: number;
  csrfToken: string;
  createdMs: number;
  expiresMs: number;
}

/** Staff accounts, their console sessions and the failed logins that throttle a guesser. */
export function createStaffRepository(db: Db) {
  const byEmail = db.prepare('SELECT * FROM staff WHERE email = ?');
  const byId = db.prepare('SELECT * FROM staff WHERE id = ?');
  const all = db.prepare('SELECT * FROM staff ORDER BY email');
  const count = db.prepare('SELECT count(*) FROM staff').pluck();
  const insert = db.prepare('INSERT INTO staff (email, name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)');
  const deactivate = db.prepare('UPDATE staff SET active = 0 WHERE id = ?');
  const setHash = db.prepare('UPDATE staff SET password_hash = ? WHERE id = ?');
  const failures = db.prepare(
    'SELECT count(*) AS n, max(at_ms) AS last FROM staff_login_failures WHERE email = ? AND address = ? AND at_ms > ?',
  );
  const addFailure = db.prepare('INSERT INTO staff_login_failures (email, address, at_ms) VALUES (?, ?, ?)');
  const pruneFailures = db.prepare('DELETE FROM staff_login_failures WHERE at_ms <= ?');
  const clearFailures = db.prepare('DELETE FROM staff_login_failures WHERE email = ? AND address = ?');
  const insertSession = db.prepare(
    'INSERT INTO staff_sessions (token_hash, staff_id, csrf_token, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?)',
  );
  const sessionByHash = db.prepare(
    `SELECT s.csrf_token, s.expires_ms, t.* FROM staff_sessions s JOIN staff t ON t.id = s.staff_id WHERE s.token_hash = ?`,
  );
  const deleteSession = db.prepare('DELETE FROM staff_sessions WHERE token_hash = ?');
  const deleteExpired = db.prepare('DELETE FROM staff_sessions WHERE expires_ms <= ?');
  const deleteSessionsOf = db.prepare('DELETE FROM staff_sessions WHERE staff_id = ?');
  const deleteOtherSessions = db.prepare('DELETE FROM staff_sessions WHERE staff_id = ? AND token_hash IS NOT ?');

  return {
    byEmail(email: string): StaffRow | undefined {
      return byEmail.get(email) as StaffRow | undefined;
    },
    byId(id: number): StaffRow | undefined {
      return byId.get(id) as StaffRow | undefined;
    },
    list(): StaffRow[] {
      return all.all() as StaffRow[];
    },
    count(): number {
      return count.get() as number;
    },
    /** Returns the new account's id. */
    add(a: { email: string; name: string; role: Role; passwordHash: string; createdAt: string }): number {
      return Number(insert.run(a.email, a.name, a.role, a.passwordHash, a.createdAt).lastInsertRowid);
    },
    /** The account can no longer log in, and its open sessions end. */
    disable(id: number): void {
      deactivate.run(id);
      deleteSessionsOf.run(id);
    },
    /** A new password; every session of the account ends but the one kept (null: all). Returns how many ended. */
    setPasswordHash(id: number, hash: string, keepTokenHash: string | null): number {
      setHash.run(hash, id);
      return deleteOtherSessions.run(id, keepTokenHash).changes;
    },
    /** Failed logins of the (email, address) pair after `sinceMs`: how many, and the last one's time. */
    failuresSince(email: string, address: string, sinceMs: number): { n: number; last: number | null } {
      return failures.get(email, address, sinceMs) as { n: number; last: number | null };
    },
    /** Records a failed login, forgetting those from before the window. */
    recordFailure(email: string, address: string, atMs: number, windowStartMs: number): void {
      pruneFailures.run(windowStartMs);
      addFailure.run(email, address, atMs);
    },
    /** A successful login: the pair's failures are forgotten, expired sessions go, the new one is stored. */
    openSession(email: string, address: string, s: NewStaffSession): void {
      clearFailures.run(email, address);
      deleteExpired.run(s.createdMs);
      insertSession.run(s.tokenHash, s.staffId, s.csrfToken, s.createdMs, s.expiresMs);
    },
    /** The session of a token's hash with its account, valid or not. */
    session(tokenHash: string): (StaffRow & { csrf_token: string; expires_ms: number }) | undefined {
      return sessionByHash.get(tokenHash) as (StaffRow & { csrf_token: string; expires_ms: number }) | undefined;
    },
    closeSession(tokenHash: string): void {
      deleteSession.run(tokenHash);
    },
  };
}

export type StaffRepository = ReturnType<typeof createStaffRepository>;

export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  entity: string;
  entityId: string | null;
  before: string | null;
  after: string | null;
}

export interface AuditFilter {
  actor?: string;
  entity?: string;
  entityId?: string;
  action?: string;
  /** Days 'YYYY-MM-DD', inclusive, in UTC as stored. */
  from?: string;
  to?: string;
  limit?: number;
}

export interface NewAuditRow {
  at: string;
  staffId: number | null;
  actor: string;
  action: string;
  entity: string;
  entityId: string | null;
  beforeJson: string | null;
  afterJson: string | null;
}

/** The audit log: append-only (triggers refuse UPDATE and DELETE). */
export function createAuditLog(db: Db) {
  const insert = db.prepare(
    `INSERT INTO audit_log (at, staff_id, actor, action, entity, entity_id, before_json, after_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  return {
    append(r: NewAuditRow): void {
      insert.run(r.at, r.staffId, r.actor, r.action, r.entity, r.entityId, r.beforeJson, r.afterJson);
    },
    /** Newest first, at most `limit` (200) rows matching every criterion given. */
    list(f: AuditFilter = {}): AuditRow[] {
      const where: string[] = [];
      const args: unknown[] = [];
      if (f.actor) where.push('actor = ?'), args.push(f.actor);
      if (f.entity) where.push('entity = ?'), args.push(f.entity);
      if (f.entityId) where.push('entity_id = ?'), args.push(f.entityId);
      if (f.action) where.push('action = ?'), args.push(f.action);
      if (f.from) where.push('at >= ?'), args.push(`${f.from}T00:00:00.000Z`);
      if (f.to) where.push('at <= ?'), args.push(`${f.to}T23:59:59.999Z`);
      return db
        .prepare(
          `SELECT id, at, actor, action, entity, entity_id AS entityId, before_json AS before, after_json AS after
           FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
        )
        .all(...args, f.limit ?? 200) as AuditRow[];
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
