import type { ReminderEntry, ReminderRun } from '../campaigns/reminders.ts';
import { bamakoInstant, ManualClock, systemClock } from '../clock.ts';
import { isLocalDate } from '../domain/dates.ts';
import { Refusal } from '../domain/refusal.ts';
import type { SendingHours } from '../domain/reminders.ts';
import { formatDate, formatDateTime } from '../i18n/format.ts';
import type { Cli } from './context.ts';

/**
 * `--at`: a day (the job as it runs when that day's sending hours open) or an ISO date-time.
 * A Refusal, so the command exits with code 2.
 */
export function parseAt(value: string, startHour: number): Date {
  const day = value.slice(0, 10);
  if (isLocalDate(day)) {
    if (value.length === 10) return bamakoInstant(day, startHour);
    const t = value[10] === 'T' ? Date.parse(value) : Number.NaN;
    if (!Number.isNaN(t)) return new Date(t);
  }
  throw new Refusal(
    `--at: ${JSON.stringify(value)} is not a date; give YYYY-MM-DD (when that day's sending hours open) or an ISO date-time such as 2026-04-23T09:00:00Z`,
    'at',
  );
}

const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;

function outcome(e: ReminderEntry): string {
  const was = e.released ? ' (was held)' : '';
  if (e.outcome === 'held' && e.holdUntil) return `held until ${formatDateTime(e.holdUntil)}`;
  return e.outcome + was;
}

/** A table for UTM's staff: who gets (or would get) which reminder, and the text. */
export function formatRun(r: ReminderRun, hours: SendingHours): string {
  const rows = r.entries.map((e) => [
    e.phone,
    e.language,
    e.rule,
    formatDate(e.period),
    outcome(e),
    e.text ?? (e.detail ? `(${e.detail})` : '(written when it goes out)'),
  ]);
  const head = ['PHONE', 'LANG', 'RULE', 'PERIOD', 'OUTCOME', 'TEXT'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ');
  const out = [
    `Reminders at ${formatDateTime(r.at)} (Africa/Bamako), sending hours ${hh(hours.startHour)}-${hh(hours.endHour)}${r.sendingTime ? '' : ': outside them, due reminders are held'}.`,
  ];
  if (rows.length > 0) out.push(line(head), ...rows.map(line));
  else out.push('No reminder is due.');
  const c = r.counts;
  out.push(
    r.dryRun
      ? `Dry run, nothing written: ${c.queued} would be queued, ${c.held} held, ${c.cancelled} cancelled, ${c.skipped} skipped.`
      : `${c.queued} queued (the server's dispatcher sends them), ${c.held} held, ${c.cancelled} cancelled, ${c.skipped} skipped.`,
  );
  return out.join('\n');
}

/** `sabatili reminders run`: the whole run happens "then" (`--at`): rules, sending hours and the outbox rows' times. */
export async function run(cli: Cli, opts: { at?: string; dryRun?: boolean }): Promise<void> {
  const c = cli.config();
  const hours = { startHour: c.REMINDER_START_HOUR, endHour: c.REMINDER_END_HOUR };
  const clock = opts.at === undefined ? systemClock : new ManualClock(parseAt(opts.at, hours.startHour));
  cli.print(formatRun((await cli.services(clock)).reminders.run({ dryRun: opts.dryRun === true }), hours));
}
