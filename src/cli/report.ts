import { bamakoDay } from '../clock.ts';
import { addMonths, monthOf } from '../domain/dates.ts';
import { type CSV_SECTIONS, computeKpis, type Kpis, kpisToCsv, kpiTables } from '../office/kpi.ts';
import type { Cli } from './context.ts';

const TITLES: Record<(typeof CSV_SECTIONS)[number], string> = {
  penetration: 'Penetration today (covered persons / target population)',
  penetration_trend: 'Penetration at the end of each month',
  households_by_status: 'Households by coverage status today',
  beneficiaries_by_status: 'Beneficiaries by status today',
  subsidised: 'Subsidised persons',
  contributions_by_month: 'Contributions per month (FCFA)',
  payments: 'Mobile-money payments',
  payment_failures: 'Payment failures by reason',
  sms: 'SMS',
  ussd: 'USSD sessions',
  ussd_drop_off: 'USSD drop-off: where unfinished sessions stopped',
  claims: 'Claims of health facilities (visits in the period) and loss ratio (claims paid / contributions received)',
  claims_by_facility_month: 'Claims per facility and month (paid: by month of payment)',
  reminder_conversions: 'Reminder conversions (all reminders so far)',
  campaign_conversions: 'Campaign conversions (campaigns started in the period)',
  voice_call_outcomes: 'Voice calls started in the period (completed: ended by the menu; hung up: while a prompt waited for keys)',
  voice_drop_off: 'Voice drop-off: the prompt calls were hung up on',
  voice_calls_placed: 'Calls placed by UTM (queued in the period): call-backs of missed calls, reminder calls',
  voice_prompts_recorded: 'Voice prompts per language (as last surveyed: server start, studio, voice prompts import)',
};

/** Penetration rates are small (0.007%): below 1%, three decimals. */
const percent = (v: number) => (v === 0 ? '0%' : `${(v * 100).toFixed(v < 0.01 ? 3 : 1)}%`);

/** The trend as one row per district or mutuelle and one column per day: covered persons (rate). */
function trendRows(k: Kpis): Array<Array<string | number | null>> {
  const levels = [
    { level: 'total', district: '', id: '', f: k.totals },
    ...k.districts.map((d) => ({ level: 'district', district: d.district, id: '', f: d })),
    ...k.mutuelles.map((m) => ({ level: 'mutuelle', district: m.district, id: m.id, f: m })),
  ];
  return [
    ['level', 'district', 'mutuelle_id', ...k.trendDays],
    ...levels.map((l) => [
      l.level,
      l.district,
      l.id,
      ...l.f.penetration.trend.map((t) => `${t.coveredPersons}${t.rate === null ? '' : ` (${percent(t.rate)})`}`),
    ]),
  ];
}

/** Shares (columns named *rate, *share, difference) as percentages; empty cells as '-'. */
function cell(header: string, v: string | number | null): string {
  if (v === null || v === '') return '-';
  if (typeof v === 'number' && /(rate|share|difference|ratio)$/.test(header)) return percent(v);
  return String(v);
}

/** The figures as aligned text tables, one per section, for a terminal. */
export function formatKpis(k: Kpis): string {
  const out = [
    `Figures for ${k.period.from} to ${k.period.to} (statuses and penetration on ${k.period.today})` +
      (k.scope.district ? `, district ${k.scope.district}` : '') +
      (k.scope.mutuelleId ? `, mutuelle ${k.scope.mutuelleId}` : ''),
  ];
  const tables = { ...kpiTables(k), penetration_trend: trendRows(k) };
  for (const [section, rows] of Object.entries(tables) as Array<[keyof typeof TITLES, Array<Array<string | number | null>>]>) {
    const [head, ...body] = rows as [string[], ...Array<Array<string | number | null>>];
    out.push('', TITLES[section]);
    if (body.length === 0) {
      out.push('  (none)');
      continue;
    }
    const cells = body.map((r) => r.map((v, i) => cell(head[i] as string, v)));
    const widths = head.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] as string).length)));
    const line = (r: string[]) =>
      `  ${r.map((c, i) => (/^-?[\d.]+%?( \(.*\))?$/.test(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ')}`.trimEnd();
    out.push(line(head), ...cells.map(line));
  }
  return out.join('\n');
}

export interface KpiOptions {
  from?: string;
  to?: string;
  today?: string;
  district?: string;
  mutuelle?: string;
  csv?: boolean;
  json?: boolean;
}

/** `sabatili report kpi`: the office's figures on the terminal, or as CSV or JSON. */
export async function kpi(cli: Cli, opts: KpiOptions): Promise<void> {
  const s = await cli.services();
  const today = opts.today ?? bamakoDay(s.clock.now());
  // Without a period, the last twelve months to today, like the console's figures page.
  const k = computeKpis(s.db, {
    from: opts.from ?? `${addMonths(monthOf(today), -11)}-01`,
    to: opts.to ?? today,
    today,
    district: opts.district,
    mutuelleId: opts.mutuelle,
    campaigns: s.campaigns,
  });
  if (opts.csv) cli.stdout.write(kpisToCsv(k));
  else cli.print(opts.json ? JSON.stringify(k, null, 2) : formatKpis(k));
}
