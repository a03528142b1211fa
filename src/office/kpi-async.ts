import { Worker } from 'node:worker_threads';
import { Refusal, type RefusalStatus } from '../domain/refusal.ts';
import type { FoldMode } from '../i18n/gsm7.ts';
import type { KpiOptions, Kpis } from './kpi.ts';

export interface KpiJob {
  path: string;
  options: Omit<KpiOptions, 'campaigns'>;
  /** What the worker needs to build the campaigns service for the conversions; none: campaigns null. */
  campaigns?: { serviceCode: string; costPerSegmentFcfa: number; foldMode: FoldMode; allowUcs2: boolean };
}

/**
 * computeKpis in a worker thread on its own connection to the same database file, so that the
 * server's event loop keeps answering USSD hops meanwhile (the figures of 200,000 households take
 * seconds of CPU). Rejects with a Refusal for what computeKpis refuses, as computeKpis would.
 */
/** What the worker posts back (kpi-thread.ts). */
export type KpiReply =
  | { ok: true; kpis: Kpis }
  | { ok: false; refusal: { field: string | undefined; status: RefusalStatus } | null; message: string };

export function computeKpisInWorker(job: KpiJob): Promise<Kpis> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./kpi-worker.mjs', import.meta.url), { workerData: job });
    let settled = false;
    worker.once('message', (m: KpiReply) => {
      settled = true;
      if (m.ok) resolve(m.kpis);
      else reject(m.refusal ? new Refusal(m.message, m.refusal.field, m.refusal.status) : new Error(m.message));
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the KPI worker stopped with code ${code} before answering`));
    });
  });
}
