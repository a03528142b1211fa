import type { Db } from '../db/connection.ts';
import { createInboundStore } from '../db/inbound.ts';
import { createOutboxStore } from '../db/outbox.ts';
import type { SmsKind, SmsStatus } from './outbox.ts';

export interface SmsStats {
  byStatus: Record<SmsStatus, number>;
  byKind: Record<SmsKind, Record<SmsStatus, number>>;
  /** Delivered among the messages whose fate is known (delivered or failed after sending). */
  deliveryRate: number | null;
  /** Sum of the costs the gateway reported, per currency (e.g. { XOF: 1250 }). */
  cost: Record<string, number>;
  segments: number;
  inboundUnmatched: number;
  optedOut: number;
}

const STATUSES: SmsStatus[] = ['queued', 'sending', 'sent', 'delivered', 'failed', 'expired'];
const KINDS: SmsKind[] = ['transactional', 'reminder', 'campaign'];

/** What the outbox has done so far: for `sabatili sms stats` and the office console. */
export function smsStats(db: Db): SmsStats {
  const zero = () => Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<SmsStatus, number>;
  const byStatus = zero();
  const byKind = Object.fromEntries(KINDS.map((k) => [k, zero()])) as Record<SmsKind, Record<SmsStatus, number>>;
  const outbox = createOutboxStore(db);
  const rows = outbox.countsByKindAndStatus() as Array<{ kind: SmsKind; status: SmsStatus; n: number }>;
  for (const r of rows) {
    byStatus[r.status] += r.n;
    byKind[r.kind][r.status] += r.n;
  }
  const cost: Record<string, number> = {};
  for (const c of outbox.costs()) {
    const m = /^([A-Z]{3})\s+([\d.]+)$/.exec(c.cost);
    if (m) cost[m[1] as string] = (cost[m[1] as string] ?? 0) + Number(m[2]) * c.n;
  }
  const known = byStatus.delivered + outbox.failedAfterSending();
  return {
    byStatus,
    byKind,
    deliveryRate: known > 0 ? byStatus.delivered / known : null,
    cost,
    segments: outbox.segmentsSent(),
    inboundUnmatched: createInboundStore(db).unmatchedCount(),
    optedOut: outbox.optedOutCount(),
  };
}
