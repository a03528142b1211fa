import express, { type Express, type Request } from 'express';
import { z } from 'zod';
import type { Campaigns } from '../campaigns/campaigns.ts';
import { bamakoDay, type Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/connection.ts';
import { createHouseholdFile } from '../db/household-file.ts';
import { isLocalDate } from '../domain/dates.ts';
import { CSV_SECTIONS, type CsvSection, computeKpis, type KpiOptions, type Kpis, kpisToCsv } from '../office/kpi.ts';
import { computeKpisInWorker } from '../office/kpi-async.ts';
import { type ApiAudit, requireAdminToken } from './admin.ts';
import { jsonRefusals, parse } from './errors.ts';

export interface KpiRouteDeps {
  db: Db;
  clock: Clock;
  campaigns?: Pick<Campaigns, 'list' | 'results'> | undefined;
  /** ADMIN_TOKEN (see requireAdminToken). */
  token: string | undefined;
  audit?: ApiAudit;
  /** DATABASE_PATH and what the worker needs to read campaign results. */
  config: Pick<Config, 'DATABASE_PATH' | 'USSD_SERVICE_CODE' | 'SMS_COST_PER_SEGMENT_FCFA' | 'GSM_FOLD' | 'SMS_ALLOW_UCS2'>;
  /**
   * Above this many households the figures are computed in a worker thread (src/office/kpi-async.ts),
   * so that USSD hops are answered meanwhile; below, in-process (a worker costs a second or two to start).
   */
  workerAboveHouseholds?: number;
}

export const WORKER_ABOVE_HOUSEHOLDS = 20_000;

const day = z.string().refine(isLocalDate, { error: 'must be a day such as 2026-03-01 (YYYY-MM-DD)' });
const name = z.string().trim().min(1).optional();

const kpiQuery = z
  .object({
    from: day,
    to: day,
    /** The day statuses and penetration are computed on; default today in Bamako. */
    today: day.optional(),
    district: name,
    mutuelle: name,
    /** CSV only: the sections wanted, comma-separated (default all). */
    section: z
      .string()
      .transform((s) => s.split(',').map((x) => x.trim()))
      .pipe(z.array(z.enum(CSV_SECTIONS)).min(1))
      .optional(),
  })
  .strict();

/**
 * The figures for these options: in-process for a small network, in a worker thread with its own
 * connection above `workerAboveHouseholds`, so that USSD hops are answered meanwhile. Shared by the
 * API and the console's pages. Rejects with a Refusal for a bad period or scope.
 */
export function createKpiSource(deps: Omit<KpiRouteDeps, 'token'>): (options: Omit<KpiOptions, 'campaigns'>) => Promise<Kpis> {
  const households = createHouseholdFile(deps.db);
  const c = deps.config;
  return async (options) => {
    const large = c.DATABASE_PATH !== ':memory:' && households.count() > (deps.workerAboveHouseholds ?? WORKER_ABOVE_HOUSEHOLDS);
    return large
      ? computeKpisInWorker({
          path: c.DATABASE_PATH,
          options,
          campaigns: {
            serviceCode: c.USSD_SERVICE_CODE,
            costPerSegmentFcfa: c.SMS_COST_PER_SEGMENT_FCFA,
            foldMode: c.GSM_FOLD,
            allowUcs2: c.SMS_ALLOW_UCS2,
          },
        })
      : computeKpis(deps.db, { ...options, campaigns: deps.campaigns });
  };
}

/**
 * The office's figures, bearer ADMIN_TOKEN (src/office/kpi.ts says what each figure is):
 * - `GET /admin/api/kpi?from=&to=[&today=&district=&mutuelle=]` → the figures as JSON
 * - `GET /admin/api/kpi.csv?…[&section=penetration,sms]` → the same as CSV, one section per figure
 * A bad or inverted period, or an unknown district or mutuelle, is a 400 `{ error, field }` naming it.
 */
export function kpiRoutes(app: Express, deps: KpiRouteDeps): void {
  const auth = requireAdminToken(deps.token, deps.audit);
  const source = createKpiSource(deps);
  const router = express.Router();
  const figures = async (req: Request): Promise<{ k: Kpis; sections: readonly CsvSection[] }> => {
    const q = parse(kpiQuery, req.query);
    const k = await source({
      from: q.from,
      to: q.to,
      today: q.today ?? bamakoDay(deps.clock.now()),
      district: q.district,
      mutuelleId: q.mutuelle,
    });
    return { k, sections: q.section ?? CSV_SECTIONS };
  };

  router.get('/kpi', auth, async (req, res) => {
    res.json((await figures(req)).k);
  });
  router.get('/kpi.csv', auth, async (req, res) => {
    const r = await figures(req);
    const { period, scope } = r.k;
    const label = [scope.district, scope.mutuelleId].filter(Boolean).join('-');
    res
      .attachment(`sabatili-kpi-${period.from}-${period.to}${label ? `-${label}` : ''}.csv`)
      .type('text/csv; charset=utf-8')
      .send(kpisToCsv(r.k, r.sections));
  });
  router.use(jsonRefusals);
  app.use('/admin/api', router);
}
