import { readFileSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { type Campaign, CampaignError, type CampaignInput, type Preview, type Results } from '../campaigns/campaigns.ts';
import type { ReminderRuleResults } from '../campaigns/reminder-results.ts';
import { LANGUAGES } from '../i18n/catalog.ts';
import { formatMoney } from '../i18n/format.ts';
import type { Services } from '../services.ts';
import type { Cli } from './context.ts';

const pct = (r: number | null) => (r === null ? 'n/a' : `${(r * 100).toFixed(1)}%`);

export interface CreateOptions {
  name: string;
  district: string[];
  mutuelle: string[];
  status: string[];
  language: string[];
  subsidised?: boolean;
  wallet?: boolean;
  remindersBy?: string;
  minDays?: number;
  maxDays?: number;
  phonesCsv?: string;
  messageFr?: string;
  messageFrFile?: string;
  messageBm?: string;
  messageBmFile?: string;
  fallback?: string;
  sendAt?: string;
  rate?: number;
  controlShare?: number;
  json?: boolean;
}

function read(option: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CampaignError(`${option}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 400);
  }
}

/** What `campaign create` sends to the same validation as the admin API. */
function inputFrom(o: CreateOptions): CampaignInput {
  const text = (inline: string | undefined, file: string | undefined, option: string) =>
    file !== undefined ? read(option, file).trim() : inline;
  const days = o.minDays !== undefined || o.maxDays !== undefined ? { min: o.minDays, max: o.maxDays } : undefined;
  return {
    name: o.name,
    audience: {
      ...(o.district.length ? { districts: o.district } : {}),
      ...(o.mutuelle.length ? { mutuelles: o.mutuelle } : {}),
      ...(o.status.length ? { statuses: o.status } : {}),
      ...(o.language.length ? { languages: o.language } : {}),
      ...(o.subsidised !== undefined ? { subsidised: o.subsidised } : {}),
      ...(o.wallet !== undefined ? { wallet: o.wallet } : {}),
      ...(o.remindersBy !== undefined ? { remindersBy: o.remindersBy } : {}),
      ...(days ? { daysSinceLastPayment: days } : {}),
    } as CampaignInput['audience'],
    ...(o.phonesCsv !== undefined ? { phonesCsv: read('--phones-csv', o.phonesCsv) } : {}),
    messages: { fr: text(o.messageFr, o.messageFrFile, '--message-fr-file'), bm: text(o.messageBm, o.messageBmFile, '--message-bm-file') },
    ...(o.fallback !== undefined ? { fallbackLanguage: o.fallback } : {}),
    ...(o.sendAt !== undefined ? { sendAt: o.sendAt } : {}),
    ...(o.rate !== undefined ? { ratePerMinute: o.rate } : {}),
    ...(o.controlShare !== undefined ? { controlShare: o.controlShare } : {}),
  } as CampaignInput;
}

export function formatCampaign(c: Campaign): string {
  const p = c.progress;
  return [
    `Campaign ${c.id} "${c.name}": ${c.state}`,
    `  audience ${JSON.stringify(c.audience)}${c.phoneList ? `, ${c.phoneList} listed phones` : ''}`,
    `  send at ${c.sendAt ?? 'once sent'}, rate ${c.ratePerMinute ? `${c.ratePerMinute}/min` : "the dispatcher's"}, control share ${c.controlShare}`,
    ...LANGUAGES.filter((l) => c.messages[l]).map((l) => `  ${l}: ${c.messages[l]}`),
    ...(c.fallbackLanguage ? [`  fallback: members without a message of their language get the ${c.fallbackLanguage} one`] : []),
    ...(c.startedAt
      ? [
          `  written: ${p.queued} queued, ${p.control} control, ${p.optedOut} opted out, ${p.rejected} refused (${p.scanned} households scanned${p.enqueueDone ? '' : ', not finished'})`,
        ]
      : []),
  ].join('\n');
}

export function formatPreview(p: Preview): string {
  const out = [
    `Preview of campaign ${p.campaignId}: ${p.audience} members in the audience, ${p.messages} messages (${p.segments} segments), ` +
      `estimated cost ${formatMoney(p.estimatedCostFcfa)} at ${p.costPerSegmentFcfa} FCFA a segment`,
    `  excluded: ${p.optedOut} opted out (STOP), ${p.control} held out as control, ${p.rejected} refused${p.notMembers ? `, ${p.notMembers} listed phones not members` : ''}`,
  ];
  for (const l of LANGUAGES) {
    const f = p.byLanguage[l];
    out.push(
      `  ${l}: ${f.messages} messages, ${f.segments} segments (at most ${f.maxSegments} per message), ` +
        `${f.characters} characters after folding (longest ${f.maxCharacters})${f.fallback ? `; ${f.fallback} ${l} speakers get the fallback message` : ''}`,
    );
  }
  for (const s of p.samples)
    out.push(`  sample to ${s.phone} (${s.language}, ${s.characters} chars, ${s.segments} segment${s.segments > 1 ? 's' : ''}): ${s.text}`);
  for (const r of p.rejectedSamples) out.push(`  refused ${r.phone}: ${r.reason}`);
  for (const w of p.warnings) out.push(`warning: ${w}`);
  return out.join('\n');
}

export function formatResults(r: Results): string {
  const c = r.counts;
  const v = r.conversions;
  return [
    formatCampaign(r.campaign),
    `  messages: ${c.queued} queued, ${c.waiting} waiting, ${c.sent} sent, ${c.delivered} delivered, ${c.failed} failed, ${c.expired} expired`,
    `  not messaged: ${c.control} control, ${c.optedOutBefore} opted out before, ${c.rejected} refused; ${r.optedOutAfter} opted out after it`,
    `  conversions (paid within ${v.windowDays} days): reached ${v.reached.paid}/${v.reached.size} (${pct(v.reached.rate)}), ` +
      `${v.comparisonKind === 'control' ? 'control' : 'not reached'} ${v.comparison.paid}/${v.comparison.size} (${pct(v.comparison.rate)}), ` +
      `difference ${v.difference === null ? 'n/a' : `${(v.difference * 100).toFixed(1)} points`}`,
  ].join('\n');
}

function formatRuleResults(r: ReminderRuleResults): string {
  const c = r.counts;
  const v = r.conversions;
  return [
    `Reminder rule ${r.rule}: ${c.decided} decided, ${c.queued} queued, ${c.held} held, ${c.cancelled} cancelled (paid first), ${c.skipped} skipped`,
    `  messages: ${c.waiting} waiting, ${c.sent} sent, ${c.delivered} delivered, ${c.failed} failed, ${c.expired} expired; ${r.optedOutAfter} opted out after`,
    `  conversions (paid within ${v.windowDays} days): reached ${v.reached.paid}/${v.reached.size} (${pct(v.reached.rate)}), ` +
      `not reached ${v.comparison.paid}/${v.comparison.size} (${pct(v.comparison.rate)})`,
  ].join('\n');
}

/** Plain lines when the output is not a terminal (a log, a test): a bar would fill it with redraws. */
function progress(cli: Cli, total: number, label: string) {
  if (cli.stdout.isTTY) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {percentage}% | {value}/{total} households | {eta}s left`,
      hideCursor: true,
      stream: cli.stderr as NodeJS.WritableStream,
    });
    bar.start(total, 0);
    return { tick: (n: number) => bar.increment(n), stop: () => bar.stop() };
  }
  let done = 0;
  let shown = 0;
  return {
    tick(n: number) {
      done += n;
      if (done - shown >= Math.max(1, total / 10) || done >= total) {
        shown = done;
        cli.print(`${label}: ${done}/${total} households`);
      }
    },
    stop() {},
  };
}

type Campaigns = Services['campaigns'];
const print = (cli: Cli, json: boolean | undefined, value: unknown, text: () => string) =>
  cli.print(json ? JSON.stringify(value, null, 2) : text());

/** `sabatili campaign create`: a draft, through the same validation as the admin API. */
export async function create(cli: Cli, o: CreateOptions): Promise<void> {
  const c = (await cli.services()).campaigns.create(inputFrom(o));
  print(cli, o.json, c, () => `${formatCampaign(c)}\nNext: sabatili campaign preview ${c.id}`);
}

export async function preview(cli: Cli, id: number, o: { json?: boolean }): Promise<void> {
  const p = (await cli.services()).campaigns.preview(id);
  print(cli, o.json, p, () => formatPreview(p));
}

/** `sabatili campaign test ID PHONE`: the message now, to one phone. */
export async function testSend(cli: Cli, id: number, phone: string, o: { language?: 'fr' | 'bm' }): Promise<void> {
  const r = (await cli.services()).campaigns.testSend(id, phone, o.language);
  cli.print(`Test message ${r.outboxId} queued to ${phone} (${r.segments} segment${r.segments > 1 ? 's' : ''}): ${r.text}`);
}

function enqueue(cli: Cli, campaigns: Campaigns, id: number, total: number): Campaign {
  const bar = progress(cli, total, `campaign ${id}`);
  try {
    return campaigns.enqueueAll(id, (n) => bar.tick(n));
  } finally {
    bar.stop();
  }
}

const after = (c: Campaign) =>
  c.state === 'paused' || c.state === 'cancelled'
    ? `Stopped: the campaign was ${c.state} while its messages were being written.`
    : `The server's dispatcher sends them${c.sendAt ? ` from ${c.sendAt}` : ''}${c.ratePerMinute ? `, ${c.ratePerMinute} a minute` : ''}.`;

/** `sabatili campaign send ID`: writes intent only; the server's dispatcher sends. */
export async function send(cli: Cli, id: number): Promise<void> {
  const { campaigns } = await cli.services();
  const { total } = campaigns.startSend(id);
  const c = enqueue(cli, campaigns, id, total);
  cli.print(`${formatCampaign(c)}\n${after(c)}`);
}

export async function pause(cli: Cli, id: number): Promise<void> {
  cli.print(formatCampaign((await cli.services()).campaigns.pause(id)));
}

export async function resume(cli: Cli, id: number): Promise<void> {
  const { campaigns } = await cli.services();
  let c = campaigns.resume(id);
  if (!c.progress.enqueueDone) c = enqueue(cli, campaigns, id, campaigns.remaining(id));
  cli.print(`${formatCampaign(c)}\n${after(c)}`);
}

export async function cancel(cli: Cli, id: number): Promise<void> {
  const c = (await cli.services()).campaigns.cancel(id);
  cli.print(`${formatCampaign(c)}\n${c.expired} messages not sent were expired.`);
}

/** Without an id every campaign; with one its results; with --reminders each reminder rule's. */
export async function status(cli: Cli, id: number | undefined, o: { json?: boolean; reminders?: boolean }): Promise<void> {
  const { campaigns } = await cli.services();
  if (o.reminders) {
    const rules = campaigns.reminderResults();
    print(cli, o.json, rules, () => (rules.length ? rules.map(formatRuleResults).join('\n') : 'No reminder decided yet.'));
  } else if (id === undefined) {
    const list = campaigns.list();
    print(cli, o.json, list, () =>
      list.length ? list.map(formatCampaign).join('\n') : 'No campaign yet: sabatili campaign create --help',
    );
  } else {
    const r = campaigns.results(id);
    print(cli, o.json, r, () => formatResults(r));
  }
}
