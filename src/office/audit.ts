import type { Db } from '../db/connection.ts';

/** Who did it: a staff member in the console, or a command run on the server. */
export interface Actor {
  staffId: number | null;
  /** The staff member's email, or e.g. `cli`. */
  name: string;
}

export interface AuditEntry {
  action: string;
  entity: string;
  entityId?: string | number | null;
  before?: unknown;
  after?: unknown;
}

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

/** The audit log: every write by staff, with what it changed (append-only, enforced by triggers). */
export function createAudit(db: Db) {
  const insert = db.prepare(
    `INSERT INTO audit_log (at, staff_id, actor, action, entity, entity_id, before_json, after_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
  return {
    /** Call inside the transaction of the write it describes, so neither lands without the other. */
    record(actor: Actor, at: Date, e: AuditEntry): void {
      insert.run(at.toISOString(), actor.staffId, actor.name, e.action, e.entity, e.entityId == null ? null : String(e.entityId), json(e.before), json(e.after));
    },
    list(f: AuditFilter = {}): AuditRow[] {
      const where: string[] = [];
      const args: unknown[] = [];
      if (f.actor) (where.push('actor = ?'), args.push(f.actor));
      if (f.entity) (where.push('entity = ?'), args.push(f.entity));
      if (f.entityId) (where.push('entity_id = ?'), args.push(f.entityId));
      if (f.action) (where.push('action = ?'), args.push(f.action));
      if (f.from) (where.push('at >= ?'), args.push(`${f.from}T00:00:00.000Z`));
      if (f.to) (where.push('at <= ?'), args.push(`${f.to}T23:59:59.999Z`));
      return db
        .prepare(
          `SELECT id, at, actor, action, entity, entity_id AS entityId, before_json AS before, after_json AS after
           FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
        )
        .all(...args, f.limit ?? 200) as AuditRow[];
    },
  };
}

export type Audit = ReturnType<typeof createAudit>;
