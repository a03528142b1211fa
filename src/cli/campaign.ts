import { SingleBar } from 'cli-progress';
import { InvalidArgumentError, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { ReminderRuleResults } from '../campaigns/reminder-results.ts';
import { CampaignError, createCampaigns, type Campaign, type CampaignInput, type Preview, type Results } from '../campaigns/campaigns.ts';
import { systemClock } from '../clock.ts';
import type { Config } from '../config.ts';
import { openDatabase } from '../db/connection.ts';
import { LANGUAGES } from '../i18n/catalog.ts';
import { formatMoney } from '../i18n/format.ts';
import { createOutbox } from '../sms/outbox.ts';

const collect = (v: string, list: string[]) => [...list, v];
const whole = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
};
const share = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError('must be a fraction such as 0.1 (10%)');
  return n;
};
const campaignId = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a campaign id (a positive whole number)');
  return n;
};
const pct = (r: number | null) => (r === null ? 'n/a' : `${(r * 100).toFixed(1)}%`);

interface CreateOptions {
  name: string;
  district: string[];
  mutuelle: string[];
  status: string[];
  language: string[];
  subsidised?: boolean;
  wallet?: boolean;
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
  const text = (inline: string | undefined, file: string | undefined, option: string) => (file !== undefined ? read(option, file).trim() : inline);
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
    `  send at ${c.sendAt ?? 'once sent'}, rate ${c.ratePerMinute ? `${c.ratePerMinute}/min` : 'the dispatcher\'s'}, control share ${c.controlShare}`,
    ...LANGUAGES.filter((l) => c.messages[l]).map((l) => `  ${l}: ${c.messages[l]}`),
    ...(c.fallbackLanguage ? [`  fallback: members without a message of their language get the ${c.fallbackLanguage} one`] : []),
    ...(c.startedAt
      ? [`  written: ${p.queued} queued, ${p.control} control, ${p.optedOut} opted out, ${p.rejected} refused (${p.scanned} households scanned${p.enqueueDone ? '' : ', not finished'})`]
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
  for (const s of p.samples) out.push(`  sample to ${s.phone} (${s.language}, ${s.characters} chars, ${s.segments} segment${s.segments > 1 ? 's' : ''}): ${s.text}`);
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
function progress(total: number, label: string) {
  if (process.stdout.isTTY) {
    const bar = new SingleBar({ format: `${label} [{bar}] {percentage}% | {value}/{total} households | {eta}s left`, hideCursor: true });
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
        console.log(`${label}: ${done}/${total} households`);
      }
    },
    stop() {},
  };
}

/** `sabatili campaign …`: each command opens its own connection and writes intent only; the server's dispatcher sends. */
export function registerCampaigns(program: Command, deps: { config: () => Config }): void {
  const run = <T>(fn: (campaigns: ReturnType<typeof createCampaigns>) => T): T | undefined => {
    const c = deps.config();
    const db = openDatabase(c.DATABASE_PATH);
    try {
      const outbox = createOutbox(db, systemClock, { foldMode: c.GSM_FOLD, allowUcs2: c.SMS_ALLOW_UCS2, allowedCountries: c.SMS_ALLOWED_COUNTRIES });
      return fn(createCampaigns({
        db, clock: systemClock, outbox, serviceCode: c.USSD_SERVICE_CODE, costPerSegmentFcfa: c.SMS_COST_PER_SEGMENT_FCFA,
        hours: { startHour: c.REMINDER_START_HOUR, endHour: c.REMINDER_END_HOUR },
      }));
    } catch (err) {
      if (!(err instanceof CampaignError)) throw err;
      console.error(err.message);
      for (const e of (err.details.errors as Array<{ line: number; message: string }> | undefined) ?? []) console.error(`  line ${e.line}: ${e.message}`);
      process.exitCode = 2;
      return undefined;
    } finally {
      db.close();
    }
  };
  const print = (json: boolean | undefined, value: unknown, text: () => string) => console.log(json ? JSON.stringify(value, null, 2) : text());

  const campaign = program.command('campaign').description('outreach SMS campaigns: audience, message per language, send time, rate, results');

  campaign
    .command('create')
    .description('create a draft campaign (then preview, test, send)')
    .requiredOption('--name <name>', 'a name for UTM\'s staff')
    .option('--district <name>', 'only this district (repeatable)', collect, [])
    .option('--mutuelle <id>', 'only this mutuelle (repeatable)', collect, [])
    .option('--status <status>', 'coverage status today: active, waiting, grace, lapsed (repeatable)', collect, [])
    .option('--language <lang>', 'only members speaking fr or bm (repeatable)', collect, [])
    .option('--subsidised', 'only households with a subsidised beneficiary')
    .option('--no-subsidised', 'only households without one')
    .option('--wallet', 'only households with an Orange Money wallet linked')
    .option('--no-wallet', 'only households without one')
    .option('--min-days <n>', 'at least this many days since the last payment', whole)
    .option('--max-days <n>', 'at most this many days since the last payment', whole)
    .option('--phones-csv <file>', 'only these phones (CSV, first column; bad lines are reported with their number)')
    .option('--message-fr <text>', 'the French message; placeholders {prenom} {mutuelle} {montant_du} {couvert_jusqu_au} {code_ussd}')
    .option('--message-fr-file <file>', 'the French message, from a file')
    .option('--message-bm <text>', 'the Bambara message')
    .option('--message-bm-file <file>', 'the Bambara message, from a file')
    .option('--fallback <lang>', 'members of a language without a message get this language\'s message')
    .option('--send-at <time>', 'ISO time (Bamako = UTC) such as 2026-03-12T08:00; default: when sent')
    .option('--rate <per-minute>', 'at most this many messages a minute', whole)
    .option('--control-share <fraction>', 'hold out this share of the audience as a control group (default 0)', share)
    .option('--json', 'print JSON')
    .action((o: CreateOptions) => {
      run((campaigns) => {
        const c = campaigns.create(inputFrom(o));
        print(o.json, c, () => `${formatCampaign(c)}\nNext: sabatili campaign preview ${c.id}`);
      });
    });

  campaign
    .command('preview')
    .description('recipients per language, segments and characters after folding, cost, opted out, three samples')
    .argument('<id>', 'campaign id', campaignId)
    .option('--json', 'print JSON')
    .action((id: number, o: { json?: boolean }) => {
      run((campaigns) => {
        const p = campaigns.preview(id);
        print(o.json, p, () => formatPreview(p));
      });
    });

  campaign
    .command('test')
    .description('send the message now to one phone (with that member\'s values, or the first member\'s)')
    .argument('<id>', 'campaign id', campaignId)
    .argument('<phone>', 'E.164 phone, e.g. +22376000001')
    .option('--language <lang>', 'which message (default: the member\'s language, else fr)')
    .action((id: number, phone: string, o: { language?: 'fr' | 'bm' }) => {
      run((campaigns) => {
        const r = campaigns.testSend(id, phone, o.language);
        console.log(`Test message ${r.outboxId} queued to ${phone} (${r.segments} segment${r.segments > 1 ? 's' : ''}): ${r.text}`);
      });
    });

  const enqueue = (campaigns: ReturnType<typeof createCampaigns>, id: number, total: number) => {
    const bar = progress(total, `campaign ${id}`);
    try {
      return campaigns.enqueueAll(id, (n) => bar.tick(n));
    } finally {
      bar.stop();
    }
  };
  const after = (c: Campaign) =>
    c.state === 'paused' || c.state === 'cancelled'
      ? `Stopped: the campaign was ${c.state} while its messages were being written.`
      : `The server's dispatcher sends them${c.sendAt ? ` from ${c.sendAt}` : ''}${c.ratePerMinute ? `, ${c.ratePerMinute} a minute` : ''}.`;

  campaign
    .command('send')
    .description('write the campaign\'s messages to the outbox (once; pause, resume and cancel work mid-way)')
    .argument('<id>', 'campaign id', campaignId)
    .action((id: number) => {
      run((campaigns) => {
        const { total } = campaigns.startSend(id);
        const c = enqueue(campaigns, id, total);
        console.log(`${formatCampaign(c)}\n${after(c)}`);
      });
    });

  campaign
    .command('pause')
    .description('stop writing and hold the messages not sent yet')
    .argument('<id>', 'campaign id', campaignId)
    .action((id: number) => {
      run((campaigns) => console.log(formatCampaign(campaigns.pause(id))));
    });

  campaign
    .command('resume')
    .description('release the held messages (spread again at the rate from now) and finish writing')
    .argument('<id>', 'campaign id', campaignId)
    .action((id: number) => {
      run((campaigns) => {
        let c = campaigns.resume(id);
        if (!c.progress.enqueueDone) c = enqueue(campaigns, id, campaigns.remaining(id));
        console.log(`${formatCampaign(c)}\n${after(c)}`);
      });
    });

  campaign
    .command('cancel')
    .description('stop the campaign: its messages not sent yet are expired')
    .argument('<id>', 'campaign id', campaignId)
    .action((id: number) => {
      run((campaigns) => {
        const c = campaigns.cancel(id);
        console.log(`${formatCampaign(c)}\n${c.expired} messages not sent were expired.`);
      });
    });

  campaign
    .command('status')
    .description('without an id, every campaign; with one, its results: queued, sent, delivered, failed, opted out after, conversions')
    .argument('[id]', 'campaign id', campaignId)
    .option('--reminders', 'the results of each reminder rule instead')
    .option('--json', 'print JSON')
    .action((id: number | undefined, o: { json?: boolean; reminders?: boolean }) => {
      run((campaigns) => {
        if (o.reminders) {
          const rules = campaigns.reminderResults();
          print(o.json, rules, () => (rules.length ? rules.map(formatRuleResults).join('\n') : 'No reminder decided yet.'));
        } else if (id === undefined) {
          const list = campaigns.list();
          print(o.json, list, () => (list.length ? list.map(formatCampaign).join('\n') : 'No campaign yet: sabatili campaign create --help'));
        } else {
          const r = campaigns.results(id);
          print(o.json, r, () => formatResults(r));
        }
      });
    });
}
