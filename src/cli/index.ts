import { Command, InvalidArgumentError } from 'commander';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { systemClock } from '../clock.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { openDatabase, type Db } from '../db/connection.ts';
import { seedDemo } from '../db/seed.ts';
import { createLogger } from '../log.ts';
import { exportLedger, formatReport, formatStatementErrors, ledgerRows, parseStatement, reconcile } from '../payments/reconcile.ts';
import { ListenError, startServer } from '../server.ts';
import { ownCallbackUrl } from '../simulator/own-url.ts';
import { findSimulator, interactivePhone, playInputs, ProtocolError, scriptTarget } from '../simulator/terminal.ts';
import { playTranscript, readTranscript } from '../simulator/transcripts.ts';
import { createServices } from '../services.ts';
import { smsStats } from '../sms/stats.ts';
import { CATALOG_DIR, exportReviewCsv, importReviewCsv, reviewItems, writeBambaraCatalog } from '../ussd/review.ts';
import { loadCatalogs } from '../i18n/catalog.ts';
import { checkFlows } from '../ussd/check.ts';
import { registerBackup } from './backup.ts';
import { registerCampaigns } from './campaign.ts';
import { registerCoverage } from './coverage.ts';
import { registerReminders } from './reminders.ts';
import { registerReport } from './report.ts';
import { registerImport } from './import.ts';
import { cliActor, registerStaff } from './staff.ts';
import { createAudit } from '../office/audit.ts';

interface SimulateOptions {
  url?: string;
  phone?: string;
  code?: string;
  input?: string;
  script?: string;
  eventsUrl?: string;
  pin?: string;
  idleSeconds: number;
  maxSeconds: number;
  smsWait: number;
}

function integer(min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be a whole number of at least ${min}`);
    return n;
  };
}
const positiveInt = integer(1);
/** The phone scripts dial from when none is given: the first demo member. */
const DEFAULT_PHONE = '+22376000001';
const nonNegativeInt = integer(0);

/** The end-of-session URL beside a USSD callback ending in /ussd (its query, e.g. ?key=, kept). */
function eventsUrlOf(url: string): string | undefined {
  const u = new URL(url);
  if (!u.pathname.endsWith('/ussd')) return undefined;
  u.pathname += '/events';
  return u.toString();
}

function config(): Config {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return loadConfig();
}

/** One command's connection; a RangeError (a bad day or amount the user typed) is exit code 2, not a stack trace. */
export type WithDatabase = (c: Config, run: (db: Db) => void | Promise<void>) => Promise<void>;
const withDatabase: WithDatabase = async (c, run) => {
  const db = openDatabase(c.DATABASE_PATH);
  try {
    await run(db);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    console.error(err.message);
    process.exitCode = 2;
  } finally {
    db.close();
  }
};

export function buildCli(): Command {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const program = new Command('sabatili')
    .description("UTM's USSD and SMS self-service, and its local gateway simulator")
    .version(version)
    .showHelpAfterError();

  // Every command that reads members' data or changes something is audited once it has run, under
  // the system user's name (the server and the simulator are not: they run for days).
  const AUDITED = new Set(['seed', 'sms', 'reconcile', 'ledger', 'staff', 'import', 'campaign', 'reminders', 'report', 'backup', 'coverage']);
  program.hook('postAction', async (_program, command) => {
    const path: string[] = [];
    for (let c: Command | null = command; c && c !== program; c = c.parent) path.unshift(c.name());
    if (!AUDITED.has(path[0] ?? '')) return;
    await withDatabase(config(), (db) =>
      createAudit(db).record(cliActor(), systemClock.now(), {
        action: 'cli.run', entity: 'command', entityId: path.join(' '), after: { args: command.args, options: command.opts() },
      }),
    );
  });

  program
    .command('serve')
    .description('run the HTTP server (USSD, SMS and payment callbacks, simulator, office console)')
    .action(async () => {
      const c = config();
      const logger = createLogger(c.LOG_LEVEL);
      const running = await startServer(c, systemClock, logger);
      const stop = () => {
        logger.info('shutting down');
        void running.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  program
    .command('seed')
    .description('load the demo network (mutuelles, products, demo phones and a year of payments); adds only what is missing')
    .action(() => {
      const c = config();
      const db = openDatabase(c.DATABASE_PATH);
      const r = seedDemo(db, systemClock);
      db.close();
      console.log(`Demo data in ${c.DATABASE_PATH}: ${r.households} households and ${r.payments} payments added.`);
    });

  const sms = program.command('sms').description('the SMS outbox');
  sms
    .command('dispatch')
    .description('send everything due now, then exit (the server does this continuously)')
    .action(async () => {
      const c = config();
      const logger = createLogger(c.LOG_LEVEL);
      const services = createServices(c, systemClock, logger);
      // Only what a crash left behind: a running server's calls in flight are younger than this.
      const recovered = services.dispatcher.recover(3 * c.SMS_TIMEOUT_MS);
      const r = await services.dispatcher.drain();
      services.simulatorSms.close();
      services.orange.close();
      services.db.close();
      console.log(
        `SMS dispatched via ${services.transport.name}: ${r.sent} sent, ${r.retried} to retry later, ${r.failed} failed, ${r.expired} expired` +
          (recovered.confirmed + recovered.requeued > 0 ? ` (after a crash: ${recovered.confirmed} confirmed, ${recovered.requeued} requeued)` : ''),
      );
    });
  sms
    .command('stats')
    .description('messages by status and kind, delivery rate, cost so far')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const c = config();
      const db = openDatabase(c.DATABASE_PATH);
      const st = smsStats(db);
      db.close();
      if (opts.json) {
        console.log(JSON.stringify(st, null, 2));
        return;
      }
      console.table(st.byKind);
      const rate = st.deliveryRate === null ? 'n/a' : `${(st.deliveryRate * 100).toFixed(1)}%`;
      const cost = Object.entries(st.cost).map(([cur, v]) => `${v} ${cur === 'XOF' ? 'FCFA' : cur}`).join(', ') || '0';
      console.log(`delivery rate ${rate}; cost ${cost}; ${st.segments} segments sent; ${st.optedOut} phones opted out; ${st.inboundUnmatched} inbound texts not understood (for UTM staff)`);
    });

  program
    .command('reconcile')
    .description('compare an Orange Money statement (CSV; format in src/payments/reconcile.ts) with the ledger: matched, missing on either side, amount or fee mismatch')
    .argument('<statement>', 'the operator statement, a CSV file')
    .option('--from <day>', 'first day (YYYY-MM-DD) whose ledger rows must be on the statement (default: its first day)')
    .option('--to <day>', "last day, inclusive (default: the statement's last day)")
    .option('--json', 'print the whole report as JSON')
    .action((file: string, opts: { from?: string; to?: string; json?: boolean }) => {
      const c = config();
      const parsed = parseStatement(readFileSync(file, 'utf8'));
      if (parsed.errors.length > 0) {
        console.error(formatStatementErrors(parsed.errors, file));
        console.error(`${file}: ${parsed.errors.length} error(s), nothing was reconciled`);
        process.exitCode = 2;
        return;
      }
      return withDatabase(c, (db) => {
        const report = reconcile(db, parsed.rows, { from: opts.from, to: opts.to });
        console.log(opts.json ? JSON.stringify(report, null, 2) : formatReport(report));
        // Like diff: 0 the statement and the ledger agree, 1 they do not, 2 bad input.
        if (!report.balanced) process.exitCode = 1;
      });
    });

  const ledger = program.command('ledger').description('the contributions ledger');
  ledger
    .command('export')
    .description("the ledger's Orange Money rows as CSV for the operator, in the statement's layout")
    .option('--from <day>', 'first day (YYYY-MM-DD)')
    .option('--to <day>', 'last day, inclusive')
    .option('-o, --output <file>', 'write to this file instead of the standard output')
    .action((opts: { from?: string; to?: string; output?: string }) => {
      const c = config();
      return withDatabase(c, (db) => {
        const csv = exportLedger(db, { from: opts.from, to: opts.to });
        if (opts.output) {
          writeFileSync(opts.output, csv);
          console.error(`${csv.trimEnd().split('\n').length - 1} ledger rows written to ${opts.output}`);
        } else {
          process.stdout.write(csv);
        }
      });
    });

  ledger
    .command('sample-statement')
    .description("a sample Orange Money statement for the demo database, dated from its ledger, with deliberate mismatches to reconcile")
    .option('-o, --output <file>', 'write to this file instead of the standard output')
    .action(async (opts: { output?: string }) => {
      const { sampleStatement } = await import('../payments/sample-statement.ts');
      const c = config();
      return withDatabase(c, (db) => {
        const csv = sampleStatement(ledgerRows(db));
        if (opts.output) {
          writeFileSync(opts.output, csv);
          console.error(`sample statement of ${csv.trimEnd().split('\n').length - 1} rows written to ${opts.output}`);
        } else {
          process.stdout.write(csv);
        }
      });
    });

  program
    .command('simulate')
    .description('a feature phone in the terminal, against sabatili or any Africa\'s Talking USSD callback')
    .option('--url <url>', 'the USSD callback to dial (default: this server, from PORT)')
    .option('--phone <e164>', 'the calling number (interactive: asked, from the demo phones or any number; otherwise +22376000001)')
    .option('--code <code>', 'the service code dialled (default: USSD_SERVICE_CODE)')
    .option('--input <answers>', 'play these answers separated by * (e.g. "1*2*1000*1"), print every screen and exit; non-zero on a protocol error')
    .option('--script <file>', 'play a golden transcript (fixtures/transcripts/…) and print a diff on mismatch')
    .option('--events-url <url>', 'where the gateway posts the end-of-session notification (default: the USSD URL + /events when it ends in /ussd)')
    .option('--pin <pin>', "answer Orange Money's PIN prompt with this PIN instead of asking")
    .option('--idle-seconds <n>', 'the gateway closes a session left this long without an answer', positiveInt, 60)
    .option('--max-seconds <n>', 'the gateway never lets a session last longer', positiveInt, 180)
    .option('--sms-wait <seconds>', 'after the session, show the SMS that arrive within this time', nonNegativeInt, 3)
    .action(async (opts: SimulateOptions) => {
      const c = config();
      const self = `http://127.0.0.1:${c.PORT}`;
      const url = opts.url ?? `${self}/ussd`;
      // Playing the gateway of this server: its callbacks carry GATEWAY_CALLBACK_KEY; another application's do not.
      const callbackUrl = ownCallbackUrl(() => self, c.GATEWAY_CALLBACK_KEY);
      const phone = {
        url,
        phone: opts.phone,
        code: opts.code ?? c.USSD_SERVICE_CODE,
        eventsUrl: opts.eventsUrl ?? eventsUrlOf(url),
        callbackUrl,
        limits: { idleMs: opts.idleSeconds * 1000, maxMs: opts.maxSeconds * 1000 },
        pin: opts.pin,
        smsWaitMs: opts.smsWait * 1000,
        simulatorUrl: await findSimulator(url),
      };
      try {
        if (opts.script) {
          const t = readTranscript(opts.script);
          const target = await scriptTarget(t, { url: callbackUrl(phone.url), code: phone.code, simulatorUrl: phone.simulatorUrl, smsWaitMs: phone.smsWaitMs });
          const r = await playTranscript(t, target, `script-${Date.now()}`);
          for (const p of r.problems) console.error(`✗ ${p}`);
          const sms = phone.simulatorUrl ? ', every SMS too' : ' (no simulator API there: SMS not checked)';
          console.log(`${t.name}: ${r.ok ? `every screen as expected${sms}` : `${r.problems.length} problems`} (${t.steps.length} steps; against a live server the clock is the server's)`);
          if (!r.ok) process.exitCode = 1;
        } else if (opts.input !== undefined) {
          await playInputs({ ...phone, phone: phone.phone ?? DEFAULT_PHONE }, opts.input === '' ? [] : opts.input.split('*'));
        } else {
          await interactivePhone(phone);
        }
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        console.error(err.message);
        process.exitCode = 1;
      }
    });

  registerReminders(program, { config, withDatabase });
  registerCampaigns(program, { config });
  registerReport(program, { config, withDatabase });
  registerBackup(program, { config, withDatabase });
  registerCoverage(program, { config, withDatabase });
  registerStaff(program, { config, openDb: (c) => openDatabase(c.DATABASE_PATH) });
  registerImport(program, { config, openDb: (c) => openDatabase(c.DATABASE_PATH) });

  const flows = program.command('flows').description('the USSD menus and their messages');
  flows
    .command('check')
    .description('fail on a message missing in a language, a screen over 160 GSM-7 septets, an amount, date or key cut by a 20-column handset, a character that cannot be folded, or an unreachable state')
    .option('--review', 'also list the Bambara messages still awaiting review by a native speaker')
    .action((opts: { review?: boolean }) => {
      const report = checkFlows();
      for (const line of report.problems) console.error(`✗ ${line}`);
      for (const line of report.warnings) console.error(`⚠ ${line}`);
      if (opts.review) for (const line of report.pendingReview) console.log(`… ${line}`);
      console.log(
        `flows check: ${report.screens} screens in ${report.languages} languages, ${report.problems.length} problems, ` +
          `${report.pendingReview.length} Bambara messages awaiting review` +
          (report.warnings.length ? `, ${report.warnings.length} SMS warnings (cut at 20 columns)` : ''),
      );
      if (report.problems.length > 0) process.exitCode = 1;
    });

  const review = flows.command('review').description('the native review of the Bambara messages, in a spreadsheet');
  review
    .command('export')
    .description('write every Bambara message to a CSV for a reviewer: key, French, Bambara, where it appears, status, doubt (doubtful first)')
    .argument('<file>', 'the CSV to write')
    .option('--catalogs <dir>', 'the catalogs folder', CATALOG_DIR)
    .action((file: string, opts: { catalogs: string }) => {
      const csv = exportReviewCsv(loadCatalogs(opts.catalogs));
      writeFileSync(file, csv);
      const items = reviewItems(loadCatalogs(opts.catalogs));
      console.log(
        `${items.length} Bambara messages written to ${file}: ${items.filter((i) => i.doubt && i.status === 'pending').length} doubtful, ` +
          `${items.filter((i) => i.status === 'pending').length} awaiting review`,
      );
    });
  review
    .command('import')
    .description('apply a reviewed CSV: corrected Bambara texts, marked reviewed ("relu") unless the status says "à relire"; nothing is written on any error')
    .argument('<file>', 'the reviewed CSV')
    .option('--catalogs <dir>', 'the catalogs folder', CATALOG_DIR)
    .action((file: string, opts: { catalogs: string }) => {
      const r = importReviewCsv(readFileSync(file, 'utf8'), opts.catalogs);
      if (r.errors.length > 0 || r.bm === null) {
        for (const e of r.errors) console.error(`${file}:${e.line}: ${e.message}`);
        console.error(`flows review import: ${r.errors.length} errors, nothing written`);
        process.exitCode = 1;
        return;
      }
      writeBambaraCatalog(r.bm, opts.catalogs);
      console.log(`flows review import: ${r.changed.length} texts corrected, ${r.reviewed.length} messages marked reviewed`);
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof ListenError) {
      console.error(err instanceof ListenError ? `sabatili: ${err.message}` : err.message);
      process.exit(1);
    }
    throw err;
  }
}
