/**
 * `/admin/figures`: the office's figures for a period, district or mutuelle, with charts;
 * `/admin/figures.csv`, the same as a spreadsheet.
 */
import type { Express, Request } from 'express';
import { z } from 'zod';
import { addMonths, monthOf } from '../../domain/dates.ts';
import { isRefusal, type Refusal } from '../../domain/refusal.ts';
import { formatDate } from '../../i18n/format.ts';
import { actorOf } from '../auth.ts';
import { CHANNELS, kpisToCsv } from '../kpi.ts';
import { dayField, f, LABELS, type PageContext, percent2 } from './shared.ts';

const figuresQuery = z.object({
  from: dayField('date de début invalide (JJ/MM/AAAA)'),
  to: dayField('date de fin invalide (JJ/MM/AAAA)'),
  district: z
    .string()
    .max(100)
    .optional()
    .transform((v) => v || undefined),
  mutuelle: z
    .string()
    .max(100)
    .optional()
    .transform((v) => v || undefined),
});

const queryString = (query: Record<string, string | undefined>) =>
  new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined)).toString();

/** What the figures refuse, said in French (the API and the CLI answer the English message). */
function inFrench(
  err: Refusal,
  options: { from: string; to: string; district?: string | undefined; mutuelleId?: string | undefined },
): string {
  if (err.field === 'district') return `Aucun district « ${options.district ?? ''} » : choisissez-en un dans la liste.`;
  if (err.field === 'mutuelle') return `Aucune mutuelle « ${options.mutuelleId ?? ''} » : choisissez-en une dans la liste.`;
  if (options.from > options.to) return `Période inversée : le ${formatDate(options.from)} est après le ${formatDate(options.to)}.`;
  return 'Période invalide : tapez les dates en JJ/MM/AAAA.';
}

export function figuresPages(app: Express, c: PageContext): void {
  /** The period asked, by default the last twelve months to today. */
  const figuresOptions = (req: Request) => {
    const q = figuresQuery.safeParse(req.query);
    const today = c.today();
    const from = (q.success && q.data.from) || `${addMonths(monthOf(today), -11)}-01`;
    const to = (q.success && q.data.to) || today;
    const query = { from, to, district: q.success ? q.data.district : undefined, mutuelle: q.success ? q.data.mutuelle : undefined };
    return { q, today, query, options: { from, to, today, district: query.district, mutuelleId: query.mutuelle } };
  };

  app.get('/admin/figures', c.manager, async (req, res) => {
    const { q, query, options } = figuresOptions(req);
    const base = {
      title: 'Chiffres',
      query,
      districts: c.districts(),
      kpis: null,
      error: null as string | null,
      scripts: ['/admin/static/chart.umd.js', '/admin/static/figures.js'],
    };
    if (!q.success) return c.page(res, 'figures', { ...base, error: q.error.issues.map((i) => i.message).join('; ') }, 400);
    try {
      const k = await c.kpis(options);
      const chart = {
        // The axes read as the tables do: days JJ/MM/AAAA, months by their French name.
        trendDays: k.trendDays.map(formatDate),
        penetration: k.districts.map((x) => ({
          label: x.district,
          rates: x.penetration.trend.map((p) => (p.rate === null ? null : percent2(p.rate))),
        })),
        months: k.totals.contributions.months.map((m) => f.month(m.month)),
        channels: CHANNELS.map((ch) => ({
          label: LABELS.channels[ch],
          amounts: k.totals.contributions.months.map((m) => m.byChannel[ch].amount),
        })),
      };
      // JSON in the page for the charts; '<' escaped so that no value can close the script element.
      const chartJson = JSON.stringify(chart).replace(/</g, '\\u003c');
      c.page(res, 'figures', { ...base, kpis: k, chartJson, queryString: queryString(query) });
    } catch (err) {
      if (!isRefusal(err)) throw err;
      c.page(res, 'figures', { ...base, error: inFrench(err, options) }, 400);
    }
  });

  app.get('/admin/figures.csv', c.manager, async (req, res) => {
    const { q, options } = figuresOptions(req);
    if (!q.success)
      return void res
        .status(400)
        .type('text/plain')
        .send(`${q.error.issues.map((i) => i.message).join('; ')}\n`);
    try {
      const k = await c.kpis(options);
      c.audit.record(actorOf(res), c.clock.now(), {
        action: 'export.figures',
        entity: 'export',
        entityId: 'figures.csv',
        after: { from: options.from, to: options.to, district: options.district, mutuelle: options.mutuelleId },
      });
      res.attachment(`chiffres-${options.from}-${options.to}.csv`).type('text/csv; charset=utf-8').send(kpisToCsv(k));
    } catch (err) {
      if (!isRefusal(err)) throw err;
      res
        .status(400)
        .type('text/plain')
        .send(`${inFrench(err, options)}\n`);
    }
  });
}
