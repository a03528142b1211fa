import type { Clock } from '../clock.ts';
import { createCallbackQueueStore, type QueuedCallbackRow } from '../db/callbacks.ts';
import type { Db } from '../db/connection.ts';
import { atomically } from '../db/transaction.ts';
import { Refusal } from '../domain/refusal.ts';
import type { Actor, Audit } from './audit.ts';

export interface QueueItem extends QueuedCallbackRow {
  ageMinutes: number;
}

export interface QueueFigures {
  open: number;
  claimed: number;
  /** Median minutes from request to done, over the requests done in the last 30 days; null when none. */
  medianMinutesToCallBack: number | null;
  doneLast30Days: number;
}

/** A call-back request that cannot be changed so (unknown, already done, no outcome). */
export class QueueError extends Refusal {}

/** The call-back queue of the office: members who asked UTM to call, oldest first. */
export function createCallbackQueue(db: Db, clock: Clock, audit: Audit) {
  const requests = createCallbackQueueStore(db);

  const change = (id: number, actor: Actor, action: string, run: () => boolean): void => {
    atomically(db, () => {
      const before = requests.state(id);
      if (!before) throw new QueueError(`no call-back request ${id}`, 'id', 404);
      if (!run()) throw new QueueError(`call-back request ${id} is already ${before.status}`, 'id', 409);
      audit.record(actor, clock.now(), { action, entity: 'callback_request', entityId: id, before, after: requests.state(id) });
    });
  };

  return {
    list(): QueueItem[] {
      const nowMs = clock.now().getTime();
      return requests.openRequests().map((r) => ({
        ...r,
        ageMinutes: Math.max(0, Math.floor((nowMs - Date.parse(r.createdAt)) / 60_000)),
      }));
    },
    claim(id: number, actor: Actor): void {
      change(id, actor, 'callback.claim', () => requests.claim(id, actor.name, clock.now().toISOString()));
    },
    /** Closes a request with what was said; an outcome is required, so the next officer knows. */
    done(id: number, outcome: string, actor: Actor): void {
      const text = outcome.trim();
      if (!text) throw new QueueError('outcome: say what was agreed with the member', 'outcome');
      change(id, actor, 'callback.done', () => requests.close(id, text.slice(0, 1000), actor.name, clock.now().toISOString()));
    },
    figures(): QueueFigures {
      const items = requests.openRequests();
      const since = new Date(clock.now().getTime() - 30 * 86_400_000).toISOString();
      const d = requests.minutesToCallBackSince(since);
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
