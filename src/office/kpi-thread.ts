// Inside the worker (kpi-worker.mjs): its own connection to the database file, the figures, then exit.
import { parentPort, workerData } from 'node:worker_threads';
import { createCampaigns } from '../campaigns/campaigns.ts';
import { systemClock } from '../clock.ts';
import { openDatabase } from '../db/connection.ts';
import { isRefusal } from '../domain/refusal.ts';
import { createOutbox } from '../sms/outbox.ts';
import { computeKpis, type KpiOptions } from './kpi.ts';
import type { KpiJob, KpiReply } from './kpi-async.ts';

const job = workerData as KpiJob;
const db = openDatabase(job.path);
try {
  const opts: KpiOptions = { ...job.options };
  if (job.campaigns) {
    // Results only read; the outbox is what createCampaigns needs to exist, never used here.
    const outbox = createOutbox(db, systemClock, { foldMode: job.campaigns.foldMode, allowUcs2: job.campaigns.allowUcs2 });
    opts.campaigns = createCampaigns({
      db,
      clock: systemClock,
      outbox,
      serviceCode: job.campaigns.serviceCode,
      costPerSegmentFcfa: job.campaigns.costPerSegmentFcfa,
    });
  }
  parentPort?.postMessage({ ok: true, kpis: computeKpis(db, opts) } satisfies KpiReply);
} catch (err) {
  // A class does not cross the thread: the refusal's fields do, and the caller rebuilds it.
  const refusal = isRefusal(err) ? { field: err.field, status: err.status } : null;
  parentPort?.postMessage({ ok: false, refusal, message: err instanceof Error ? err.message : String(err) } satisfies KpiReply);
} finally {
  db.close();
}
