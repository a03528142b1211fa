import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/connection.ts';
import type { Actor, Audit } from './audit.ts';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.ts';

export type Role = 'officer' | 'manager';

export interface Staff {
  id: number;
  email: string;
  name: string;
  role: Role;
  active: boolean;
}

export interface StaffSession {
  staff: Staff;
  csrfToken: string;
}

/** After this many wrong passwords in a row, the account is locked for LOCK_MS. */
export const MAX_FAILED_LOGINS = 5;
export const LOCK_MS = 15 * 60_000;
/** A console session lasts a working day. */
export const SESSION_MS = 10 * 3600_000;

export class StaffError extends Error {}

export type LoginResult =
  | { ok: true; token: string; session: StaffSession }
  /** One message for a wrong email and a wrong password, so the form does not reveal which accounts exist. */
  | { ok: false; reason: 'invalid' | 'locked' | 'disabled'; lockedUntil?: Date };

interface StaffRow {
  id: number;
  email: string;
  name: string;
  role: Role;
  active: number;
  password_hash: string;
  failed_logins: number;
  locked_until_ms: number | null;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const toStaff = (r: StaffRow): Staff => ({ id: r.id, email: r.email, name: r.name, role: r.role, active: r.active === 1 });

/** Staff accounts and their console sessions. Session tokens are stored hashed: a copy of the database opens no session. */
export function createStaffStore(db: Db, clock: Clock, audit: Audit) {
  const byEmail = db.prepare('SELECT * FROM staff WHERE email = ?');
  const byId = db.prepare('SELECT * FROM staff WHERE id = ?');
  const failed = db.prepare('UPDATE staff SET failed_logins = failed_logins + 1, locked_until_ms = ? WHERE id = ?');
  const succeeded = db.prepare('UPDATE staff SET failed_logins = 0, locked_until_ms = NULL WHERE id = ?');
  const insertSession = db.prepare('INSERT INTO staff_sessions (token_hash, staff_id, csrf_token, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?)');
  const sessionByHash = db.prepare(
    `SELECT s.csrf_token, s.expires_ms, t.* FROM staff_sessions s JOIN staff t ON t.id = s.staff_id WHERE s.token_hash = ?`,
  );
  const deleteSession = db.prepare('DELETE FROM staff_sessions WHERE token_hash = ?');
  const deleteExpired = db.prepare('DELETE FROM staff_sessions WHERE expires_ms <= ?');

  return {
    async add(input: { email: string; name: string; role: Role; password: string }, actor: Actor): Promise<Staff> {
      const email = input.email.trim().toLowerCase();
      if (!EMAIL.test(email)) throw new StaffError(`email: "${input.email}" is not an email address`);
      if (!input.name.trim()) throw new StaffError('name: is required');
      const problem = passwordProblem(input.password);
      if (problem) throw new StaffError(`password: ${problem}`);
      if (byEmail.get(email)) throw new StaffError(`email: ${email} already has an account`);
      const hash = await hashPassword(input.password);
      return db.transaction(() => {
        const id = Number(
          db
            .prepare('INSERT INTO staff (email, name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)')
            .run(email, input.name.trim(), input.role, hash, clock.now().toISOString()).lastInsertRowid,
        );
        const staff = toStaff(byId.get(id) as StaffRow);
        audit.record(actor, clock.now(), { action: 'staff.add', entity: 'staff', entityId: id, after: staff });
        return staff;
      })();
    },

    list(): Staff[] {
      return (db.prepare('SELECT * FROM staff ORDER BY email').all() as StaffRow[]).map(toStaff);
    },

    count(): number {
      return db.prepare('SELECT count(*) FROM staff').pluck().get() as number;
    },

    /** Disables the account and ends its sessions at once. */
    disable(email: string, actor: Actor): Staff {
      return db.transaction(() => {
        const row = byEmail.get(email.trim().toLowerCase()) as StaffRow | undefined;
        if (!row) throw new StaffError(`no account for ${email}`);
        db.prepare('UPDATE staff SET active = 0 WHERE id = ?').run(row.id);
        db.prepare('DELETE FROM staff_sessions WHERE staff_id = ?').run(row.id);
        const after = toStaff(byId.get(row.id) as StaffRow);
        audit.record(actor, clock.now(), { action: 'staff.disable', entity: 'staff', entityId: row.id, before: toStaff(row), after });
        return after;
      })();
    },

    /**
     * Checks a password. Wrong passwords count per account; the fifth in a row locks it for 15
     * minutes, during which even the right password is refused.
     */
    async login(email: string, password: string): Promise<LoginResult> {
      const row = byEmail.get(email.trim().toLowerCase()) as StaffRow | undefined;
      const nowMs = clock.now().getTime();
      if (!row) {
        // The same work as a real check, so timing does not tell which emails have accounts.
        await verifyPassword(password, await dummyHash());
        return { ok: false, reason: 'invalid' };
      }
      if (row.locked_until_ms !== null && row.locked_until_ms > nowMs) return { ok: false, reason: 'locked', lockedUntil: new Date(row.locked_until_ms) };
      const good = await verifyPassword(password, row.password_hash);
      if (!good) {
        const locks = row.failed_logins + 1 >= MAX_FAILED_LOGINS;
        failed.run(locks ? nowMs + LOCK_MS : null, row.id);
        if (locks) db.prepare('UPDATE staff SET failed_logins = 0 WHERE id = ?').run(row.id);
        return locks ? { ok: false, reason: 'locked', lockedUntil: new Date(nowMs + LOCK_MS) } : { ok: false, reason: 'invalid' };
      }
      if (row.active !== 1) return { ok: false, reason: 'disabled' };
      succeeded.run(row.id);
      deleteExpired.run(nowMs);
      const token = randomBytes(32).toString('base64url');
      const csrfToken = randomBytes(24).toString('base64url');
      insertSession.run(sha256(token), row.id, csrfToken, nowMs, nowMs + SESSION_MS);
      return { ok: true, token, session: { staff: toStaff(row), csrfToken } };
    },

    /** The session a cookie opens, if it is still valid and its account active. */
    session(token: string): StaffSession | null {
      const r = sessionByHash.get(sha256(token)) as (StaffRow & { csrf_token: string; expires_ms: number }) | undefined;
      if (!r || r.expires_ms <= clock.now().getTime() || r.active !== 1) return null;
      return { staff: toStaff(r), csrfToken: r.csrf_token };
    },

    logout(token: string): void {
      deleteSession.run(sha256(token));
    },
  };
}

/** A hash of a random password, checked when the email is unknown; made on first need. */
let dummy: Promise<string> | undefined;
const dummyHash = () => (dummy ??= hashPassword(randomBytes(16).toString('hex')));

export type StaffStore = ReturnType<typeof createStaffStore>;
