import type { Clock } from '../clock.ts';
import type { Db } from '../db/connection.ts';
import type { Actor, Audit } from './audit.ts';

export interface QueueItem {
  id: number;
  phone: string;
  reason: string;
  channel: string;
  status: 'open' | 'claimed';
  createdAt: string;
  promisedBy: string;
  claimedBy: string | null;
  householdId: number | null;
  adherentName: string | null;
  cardNumber: string | null;
  ageMinutes: number;
}

export interface QueueFigures {
  open: number;
  claimed: number;
  /** Median minutes from request to done, over the requests done in the last 30 days; null when none. */
  medianMinutesToCallBack: number | null;
  doneLast30Days: number;
}

export class QueueError extends Error {}

/** The call-back queue of the office: members who asked UTM to call, oldest first. */
export function createCallbackQueue(db: Db, clock: Clock, audit: Audit) {
  const open = db.prepare(
    `SELECT c.id, c.phone, c.reason, c.channel, c.status, c.created_at AS createdAt, c.promised_by AS promisedBy,
       c.claimed_by AS claimedBy, c.household_id AS householdId, h.adherent_name AS adherentName, h.card_number AS cardNumber
     FROM callback_requests c LEFT JOIN households h ON h.id = c.household_id
     WHERE c.status IN ('open', 'claimed') ORDER BY c.created_at, c.id`,
  );
  const byId = db.prepare('SELECT id, status, claimed_by AS claimedBy, outcome, done_at AS doneAt FROM callback_requests WHERE id = ?');
  const claim = db.prepare("UPDATE callback_requests SET status = 'claimed', claimed_by = ?, claimed_at = ? WHERE id = ? AND status = 'open'");
  const done = db.prepare(
    "UPDATE callback_requests SET status = 'done', done_at = ?, outcome = ?, claimed_by = coalesce(claimed_by, ?) WHERE id = ? AND status != 'done'",
  );
  const durations = db.prepare(
    `SELECT (julianday(done_at) - julianday(created_at)) * 1440 FROM callback_requests
     WHERE status = 'done' AND done_at >= ? ORDER BY 1`,
  ).pluck();

  const change = (id: number, actor: Actor, action: string, run: () => number): void => {
    db.transaction(() => {
      const before = byId.get(id) as Record<string, unknown> | undefined;
      if (!before) throw new QueueError(`no call-back request ${id}`);
      if (run() !== 1) throw new QueueError(`call-back request ${id} is already ${String(before.status)}`);
      audit.record(actor, clock.now(), { action, entity: 'callback_request', entityId: id, before, after: byId.get(id) });
    })();
  };

  return {
    list(): QueueItem[] {
      const nowMs = clock.now().getTime();
      return (open.all() as Array<Omit<QueueItem, 'ageMinutes'>>).map((r) => ({
        ...r,
        ageMinutes: Math.max(0, Math.floor((nowMs - Date.parse(r.createdAt)) / 60_000)),
      }));
    },
    claim(id: number, actor: Actor): void {
      change(id, actor, 'callback.claim', () => claim.run(actor.name, clock.now().toISOString(), id).changes);
    },
    /** Closes a request with what was said; an outcome is required, so the next officer knows. */
    done(id: number, outcome: string, actor: Actor): void {
      const text = outcome.trim();
      if (!text) throw new QueueError('outcome: say what was agreed with the member');
      change(id, actor, 'callback.done', () => done.run(clock.now().toISOString(), text.slice(0, 1000), actor.name, id).changes);
    },
    figures(): QueueFigures {
      const items = open.all() as Array<{ status: string }>;
      const since = new Date(clock.now().getTime() - 30 * 86_400_000).toISOString();
      const d = durations.all(since) as number[];
      const mid = Math.floor(d.length / 2);
      const median = d.length === 0 ? null : d.length % 2 ? (d[mid] as number) : ((d[mid - 1] as number) + (d[mid] as number)) / 2;
      return {
        open: items.filter((i) => i.status === 'open').length,
        claimed: items.filter((i) => i.status === 'claimed').length,
        medianMinutesToCallBack: median === null ? null : Math.round(median),
        doneLast30Days: d.length,
      };
    },
  };
}

export type CallbackQueue = ReturnType<typeof createCallbackQueue>;
