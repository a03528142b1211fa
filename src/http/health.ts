import type { RequestHandler } from 'express';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/connection.ts';
import { appliedMigrations, migrations } from '../db/migrations.ts';
import { createOutboxStore } from '../db/outbox.ts';
import { atomically } from '../db/transaction.ts';

export interface HealthDeps {
  db: Db;
  clock: Clock;
  dispatcher: { isRunning(): boolean };
}

export interface Health {
  status: 'ok' | 'error';
  time: string;
  database: { ok: boolean; migrations?: { applied: number; latest: number; expected: number }; error?: string };
  dispatcher?: {
    running: boolean;
    /** Messages waiting in the outbox (held campaign messages included). */
    queued: number;
    /** How long the message waiting longest since it became due has waited; null when none is due. */
    oldestQueuedAgeSeconds: number | null;
    /** Messages given up on (status failed) in the last hour. */
    failedLastHour: number;
  };
}

const EXPECTED = Math.max(...migrations.map((m) => m.version));

/** The database's and the SMS dispatcher's state, read in one short read transaction. */
export function health(deps: HealthDeps): Health {
  const now = deps.clock.now();
  const time = now.toISOString();
  try {
    const nowMs = now.getTime();
    const { m, q } = atomically(deps.db, () => ({
      m: appliedMigrations(deps.db),
      q: createOutboxStore(deps.db).queue(nowMs, nowMs - 3_600_000),
    }));
    return {
      status: m.latest >= EXPECTED ? 'ok' : 'error',
      time,
      database: { ok: m.latest >= EXPECTED, migrations: { applied: m.applied, latest: m.latest, expected: EXPECTED } },
      dispatcher: {
        running: deps.dispatcher.isRunning(),
        queued: q.queued,
        oldestQueuedAgeSeconds: q.oldestDueMs === null ? null : Math.max(0, Math.round((nowMs - q.oldestDueMs) / 1000)),
        failedLastHour: q.failedSince,
      },
    };
  } catch (err) {
    return { status: 'error', time, database: { ok: false, error: err instanceof Error ? err.message : String(err) } };
  }
}

/** GET /healthz: 200 with the state, 503 when the database cannot be read or is not migrated. */
export function healthHandler(deps: HealthDeps): RequestHandler {
  return (_req, res) => {
    const h = health(deps);
    res.status(h.status === 'ok' ? 200 : 503).json(h);
  };
}
