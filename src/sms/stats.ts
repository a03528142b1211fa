import type { Db } from '../db/connection.ts';
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
  const rows = db.prepare('SELECT kind, status, COUNT(*) AS n FROM sms_outbox GROUP BY kind, status').all() as Array<{ kind: SmsKind; status: SmsStatus; n: number }>;
  for (const r of rows) {
    byStatus[r.status] += r.n;
    byKind[r.kind][r.status] += r.n;
  }
  const cost: Record<string, number> = {};
  const costs = db.prepare(`SELECT cost, COUNT(*) AS n FROM sms_outbox WHERE cost IS NOT NULL GROUP BY cost`).all() as Array<{ cost: string; n: number }>;
  for (const c of costs) {
    const m = /^([A-Z]{3})\s+([\d.]+)$/.exec(c.cost);
    if (m) cost[m[1] as string] = (cost[m[1] as string] ?? 0) + Number(m[2]) * c.n;
  }
  const failedAfterSending = db
    .prepare(`SELECT COUNT(*) FROM sms_outbox WHERE status = 'failed' AND provider_message_id IS NOT NULL`)
    .pluck()
    .get() as number;
  const known = byStatus.delivered + failedAfterSending;
  return {
    byStatus,
    byKind,
    deliveryRate: known > 0 ? byStatus.delivered / known : null,
    cost,
    segments: (db.prepare(`SELECT COALESCE(SUM(segments), 0) FROM sms_outbox WHERE status IN ('sent', 'delivered')`).pluck().get() as number),
    inboundUnmatched: db.prepare('SELECT COUNT(*) FROM sms_inbound WHERE keyword IS NULL').pluck().get() as number,
    optedOut: db.prepare('SELECT COUNT(*) FROM sms_optouts WHERE opted_out = 1').pluck().get() as number,
  };
}
