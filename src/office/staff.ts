import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/connection.ts';
import { createStaffRepository, type Role, type StaffRow } from '../db/staff.ts';
import { atomically } from '../db/transaction.ts';
import { Refusal } from '../domain/refusal.ts';
import type { Actor, Audit } from './audit.ts';
import {
  hashPassword as hashAt,
  PASSWORD_COST,
  PASSWORD_PROBLEMS,
  type PasswordProblem,
  passwordProblem,
  verifyPassword,
} from './passwords.ts';

export type { Role } from '../db/staff.ts';

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

/**
 * Wrong passwords slow down only the pair (email typed, client address) that made them: after
 * FREE_FAILURES within FAILURE_WINDOW_MS, that pair waits THROTTLE_BASE_MS after its last failure,
 * doubling with each further failure up to THROTTLE_MAX_MS. The owner at another address is never
 * kept out, and a stranger cannot lock anyone.
 */
export const FREE_FAILURES = 5;
export const FAILURE_WINDOW_MS = 15 * 60_000;
export const THROTTLE_BASE_MS = 30_000;
export const THROTTLE_MAX_MS = 15 * 60_000;
/** A console session lasts a working day. */
export const SESSION_MS = 10 * 3600_000;

/** A password refused by the policy; `problem` says why, in English for the CLI and French for the console. */
export class PasswordError extends Refusal {
  constructor(readonly problem: PasswordProblem | 'current' | 'mismatch') {
    super(
      `password: ${problem === 'current' ? 'the current password is wrong' : problem === 'mismatch' ? 'the two entries differ' : PASSWORD_PROBLEMS[problem].en}`,
      'password',
    );
  }
}

/** Where a login comes from, for throttling and the audit log. */
export interface LoginClient {
  address: string;
  userAgent: string;
}

export type LoginResult =
  | { ok: true; token: string; session: StaffSession }
  /** The page shows one message for a wrong email, a wrong password and a throttled attempt, so it reveals none of them. */
  | { ok: false; reason: 'invalid' | 'throttled' | 'disabled' };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const toStaff = (r: StaffRow): Staff => ({ id: r.id, email: r.email, name: r.name, role: r.role, active: r.active === 1 });

/**
 * Staff accounts and their console sessions. Session tokens are stored hashed: a copy of the database
 * opens no session. `passwordCost` is scrypt's log2 N for new hashes (config STAFF_PASSWORD_COST).
 */
export function createStaffStore(db: Db, clock: Clock, audit: Audit, passwordCost = PASSWORD_COST) {
  const repo = createStaffRepository(db);
  const hashPassword = (password: string) => hashAt(password, passwordCost);

  return {
    async add(input: { email: string; name: string; role: Role; password: string }, actor: Actor): Promise<Staff> {
      const email = input.email.trim().toLowerCase();
      if (!EMAIL.test(email)) throw new Refusal(`email: "${input.email}" is not an email address`, 'email');
      if (!input.name.trim()) throw new Refusal('name: is required', 'name');
      const problem = passwordProblem(input.password, email);
      if (problem) throw new PasswordError(problem);
      if (repo.byEmail(email)) throw new Refusal(`email: ${email} already has an account`, 'email', 409);
      const hash = await hashPassword(input.password);
      return atomically(db, () => {
        const id = repo.add({ email, name: input.name.trim(), role: input.role, passwordHash: hash, createdAt: clock.now().toISOString() });
        const staff = toStaff(repo.byId(id) as StaffRow);
        audit.record(actor, clock.now(), { action: 'staff.add', entity: 'staff', entityId: id, after: staff });
        return staff;
      });
    },

    list(): Staff[] {
      return repo.list().map(toStaff);
    },

    count(): number {
      return repo.count();
    },

    /** Disables the account and ends its sessions at once. */
    disable(email: string, actor: Actor): Staff {
      return atomically(db, () => {
        const row = repo.byEmail(email.trim().toLowerCase());
        if (!row) throw new Refusal(`no account for ${email}`, 'email', 404);
        repo.disable(row.id);
        const after = toStaff(repo.byId(row.id) as StaffRow);
        audit.record(actor, clock.now(), { action: 'staff.disable', entity: 'staff', entityId: row.id, before: toStaff(row), after });
        return after;
      });
    },

    /**
     * Checks a password, throttling the (email, address) pair after repeated failures. A throttled
     * attempt still costs a hash check, so its timing does not set it apart from a wrong password.
     * Every outcome is audited with the address and user agent.
     */
    async login(emailTyped: string, password: string, client: LoginClient): Promise<LoginResult> {
      const email = emailTyped.trim().toLowerCase().slice(0, 200);
      const row = repo.byEmail(email);
      const now = clock.now();
      const nowMs = now.getTime();
      const audited = (action: string, r: StaffRow | undefined) =>
        audit.record({ staffId: r?.id ?? null, name: email }, now, {
          action,
          entity: 'staff',
          entityId: r?.id ?? null,
          after: { address: client.address, userAgent: client.userAgent.slice(0, 300) },
        });
      const { n, last } = repo.failuresSince(email, client.address, nowMs - FAILURE_WINDOW_MS);
      const throttled =
        n >= FREE_FAILURES && last !== null && nowMs < last + Math.min(THROTTLE_BASE_MS * 2 ** (n - FREE_FAILURES), THROTTLE_MAX_MS);
      // Unknown emails cost the same work as a real check, so timing does not tell which have accounts.
      const good = await verifyPassword(password, row && !throttled ? row.password_hash : await dummyHash(passwordCost));
      if (throttled) {
        audited('login.throttled', row);
        return { ok: false, reason: 'throttled' };
      }
      if (!row || !good) {
        atomically(db, () => {
          repo.recordFailure(email, client.address, nowMs, nowMs - FAILURE_WINDOW_MS);
          audited('login.failure', row);
        });
        return { ok: false, reason: 'invalid' };
      }
      if (row.active !== 1) {
        audited('login.disabled', row);
        return { ok: false, reason: 'disabled' };
      }
      const token = randomBytes(32).toString('base64url');
      const csrfToken = randomBytes(24).toString('base64url');
      atomically(db, () => {
        repo.openSession(email, client.address, {
          tokenHash: sha256(token),
          staffId: row.id,
          csrfToken,
          createdMs: nowMs,
          expiresMs: nowMs + SESSION_MS,
        });
        audited('login.success', row);
      });
      return { ok: true, token, session: { staff: toStaff(row), csrfToken } };
    },

    /**
     * A staff member changes their own password: the current one is checked, the new one must
     * follow the policy, and every other session of the account ends (ASVS 3.3.3).
     */
    async changePassword(staffId: number, current: string, next: string, keepToken: string, actor: Actor): Promise<void> {
      const row = repo.byId(staffId);
      if (!row || !(await verifyPassword(current, row.password_hash))) throw new PasswordError('current');
      await setHash(row, next, actor, keepToken);
    },

    /** Sets an account's password from the server's command line; every session of the account ends. */
    async setPassword(email: string, next: string, actor: Actor): Promise<Staff> {
      const row = repo.byEmail(email.trim().toLowerCase());
      if (!row) throw new Refusal(`no account for ${email}`, 'email', 404);
      await setHash(row, next, actor, null);
      return toStaff(row);
    },

    /** The session a cookie opens, if it is still valid and its account active. */
    session(token: string): StaffSession | null {
      const r = repo.session(sha256(token));
      if (!r || r.expires_ms <= clock.now().getTime() || r.active !== 1) return null;
      return { staff: toStaff(r), csrfToken: r.csrf_token };
    },

    logout(token: string, session: StaffSession, client: LoginClient): void {
      atomically(db, () => {
        repo.closeSession(sha256(token));
        audit.record({ staffId: session.staff.id, name: session.staff.email }, clock.now(), {
          action: 'logout',
          entity: 'staff',
          entityId: session.staff.id,
          after: { address: client.address, userAgent: client.userAgent.slice(0, 300) },
        });
      });
    },
  };

  async function setHash(row: StaffRow, next: string, actor: Actor, keepToken: string | null): Promise<void> {
    const problem = passwordProblem(next, row.email);
    if (problem) throw new PasswordError(problem);
    const hash = await hashPassword(next);
    atomically(db, () => {
      const ended = repo.setPasswordHash(row.id, hash, keepToken === null ? null : sha256(keepToken));
      audit.record(actor, clock.now(), {
        action: 'staff.password',
        entity: 'staff',
        entityId: row.id,
        after: { otherSessionsEnded: ended },
      });
    });
  }
}

/** A hash of a random password at each cost, checked when the email is unknown; made on first need. */
const dummies = new Map<number, Promise<string>>();
function dummyHash(cost: number): Promise<string> {
  let dummy = dummies.get(cost);
  if (!dummy) dummies.set(cost, (dummy = hashAt(randomBytes(16).toString('hex'), cost)));
  return dummy;
}

export type StaffStore = ReturnType<typeof createStaffStore>;
