import type { Db } from '../db/connection.ts';
import { createAuditLog } from '../db/staff.ts';

export type { AuditFilter, AuditRow } from '../db/staff.ts';

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

/** The audit log: every write by staff, with what it changed (append-only, enforced by triggers). */
export function createAudit(db: Db) {
  const log = createAuditLog(db);
  const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
  return {
    /** Call inside the transaction of the write it describes, so neither lands without the other. */
    record(actor: Actor, at: Date, e: AuditEntry): void {
      log.append({
        at: at.toISOString(),
        staffId: actor.staffId,
        actor: actor.name,
        action: e.action,
        entity: e.entity,
        entityId: e.entityId == null ? null : String(e.entityId),
        beforeJson: json(e.before),
        afterJson: json(e.after),
      });
    },
    list: log.list,
  };
}

export type Audit = ReturnType<typeof createAudit>;
