import { ManualClock } from '../../src/clock.ts';
import { createHouseholdStore } from '../../src/db/households.ts';
import { createMutuelleStore } from '../../src/db/mutuelles.ts';
import { createAudit } from '../../src/office/audit.ts';
import type { ImportDeps } from '../../src/office/import.ts';
import { type TempDb, tempDb } from './sms-db.ts';

/** The demo network seeded at `at` in a temp folder, and what the members import needs of it: its stores and the audit. */
export function importDb(prefix: string, at: string): { t: TempDb; deps: ImportDeps } {
  const t = tempDb(prefix, new ManualClock(at));
  return { t, deps: { db: t.db, households: createHouseholdStore(t.db), mutuelles: createMutuelleStore(t.db), audit: createAudit(t.db) } };
}
