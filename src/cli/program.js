// @ts-check
// The command tree, in plain JavaScript: `sabatili --help` needs neither tsx nor the application,
// and answers in a tenth of a second. Each action imports its TypeScript code when it runs.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';

/**
 * @typedef {import('./context.ts').Io & {
 *   typescript?: () => Promise<void>,
 * }} RunIo
 * Where a run reads and writes; `typescript` teaches Node TypeScript before a command's code is
 * loaded (the binary registers tsx; under vitest there is nothing to do).
 */

/** Commands that read members' data or change something: audited once they have run, under the system user's name. */
const AUDITED = new Set([
  'seed',
  'sms',
  'reconcile',
  'ledger',
  'staff',
  'import',
  'campaign',
  'reminders',
  'report',
  'backup',
  'coverage',
  'voice',
]);

/** @param {number} min */
function integer(min) {
  /** @param {string} v */
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be a whole number of at least ${min}`);
    return n;
  };
}
const positiveInt = integer(1);
const nonNegativeInt = integer(0);
/** @param {string} v */
const whole = (v) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
};
/** @param {string} v */
const share = (v) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError('must be a fraction such as 0.1 (10%)');
  return n;
};
/** @param {string} v */
const campaignId = (v) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a campaign id (a positive whole number)');
  return n;
};
/** @param {string} v @param {string[]} list */
const collect = (v, list) => [...list, v];

/**
 * The commands of `sabatili`; `done` receives the exit code of the command that ran.
 * @param {RunIo} io
 * @param {(code: number) => void} done
 */
export function buildProgram(io, done) {
  /**
   * An action that loads its handler, then runs it with its arguments and options (not commander's Command).
   * @param {() => Promise<(cli: import('./context.ts').Cli, ...args: any[]) => unknown>} load
   */
  const act =
    (load) =>
    /** @param {unknown[]} args */
    async (...args) => {
      const command = /** @type {Command} */ (args.pop());
      const path = [];
      for (let c = /** @type {Command | null} */ (command); c && c !== program; c = c.parent) path.unshift(c.name());
      await io.typescript?.();
      const [{ execute }, handler] = await Promise.all([import('./context.ts'), load()]);
      const audit = AUDITED.has(path[0] ?? '') ? { path: path.join(' '), args: command.args, options: command.opts() } : null;
      done(await execute(io, /** @type {import('./context.ts').Handler<unknown[]>} */ (handler), args, audit));
    };

  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const program = new Command('sabatili')
    .description("UTM's USSD and SMS self-service, and its local gateway simulator")
    .version(version)
    .showHelpAfterError()
    // Subcommands created after these inherit them: nothing calls process.exit, everything writes to io.
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) });

  program
    .command('serve')
    .description('run the HTTP server (USSD, SMS and payment callbacks, simulator, office console)')
    .action(act(async () => (await import('./serve.ts')).serve));

  program
    .command('seed')
    .description('load the demo network (mutuelles, products, demo phones and a year of payments); adds only what is missing')
    .action(act(async () => (await import('./serve.ts')).seed));

  const sms = program.command('sms').description('the SMS outbox');
  sms
    .command('dispatch')
    .description('send everything due now, then exit (the server does this continuously)')
    .action(act(async () => (await import('./sms.ts')).dispatch));
  sms
    .command('stats')
    .description('messages by status and kind, delivery rate, cost so far')
    .option('--json', 'print JSON')
    .action(act(async () => (await import('./sms.ts')).stats));

  program
    .command('reconcile')
    .description(
      'compare an Orange Money statement (CSV; format in src/payments/reconcile.ts) with the ledger: matched, missing on either side, amount or fee mismatch',
    )
    .argument('<statement>', 'the operator statement, a CSV file')
    .option('--from <day>', 'first day (YYYY-MM-DD) whose ledger rows must be on the statement (default: its first day)')
    .option('--to <day>', "last day, inclusive (default: the statement's last day)")
    .option('--json', 'print the whole report as JSON')
    .option('--disbursements', "the operator's statement of UTM's transfers to facilities, against the disbursement ledger")
    .action(act(async () => (await import('./ledger.ts')).reconcileStatement));

  const ledger = program.command('ledger').description('the contributions ledger');
  ledger
    .command('export')
    .description("the ledger's Orange Money rows as CSV for the operator, in the statement's layout")
    .option('--from <day>', 'first day (YYYY-MM-DD)')
    .option('--to <day>', 'last day, inclusive')
    .option('-o, --output <file>', 'write to this file instead of the standard output')
    .option('--disbursements', 'the disbursement ledger (payments to facilities) instead of the contributions')
    .action(act(async () => (await import('./ledger.ts')).ledgerExport));
  ledger
    .command('sample-statement')
    .description('a sample Orange Money statement for the demo database, dated from its ledger, with deliberate mismatches to reconcile')
    .option('-o, --output <file>', 'write to this file instead of the standard output')
    .action(act(async () => (await import('./ledger.ts')).ledgerSampleStatement));

  program
    .command('simulate')
    .description("a feature phone in the terminal, against sabatili or any Africa's Talking USSD callback")
    .option('--url <url>', 'the USSD callback to dial (default: this server, from PORT)')
    .option('--phone <e164>', 'the calling number (interactive: asked, from the demo phones or any number; otherwise +22376000001)')
    .option('--code <code>', 'the service code dialled (default: USSD_SERVICE_CODE)')
    .option(
      '--input <answers>',
      'play these answers separated by * (e.g. "1*2*1000*1"), print every screen and exit; non-zero on a protocol error',
    )
    .option('--script <file>', 'play a golden transcript (fixtures/transcripts/…) and print a diff on mismatch')
    .option(
      '--events-url <url>',
      'where the gateway posts the end-of-session notification (default: the USSD URL + /events when it ends in /ussd)',
    )
    .option('--pin <pin>', "answer Orange Money's PIN prompt with this PIN instead of asking")
    .option('--idle-seconds <n>', 'the gateway closes a session left this long without an answer', positiveInt, 60)
    .option('--max-seconds <n>', 'the gateway never lets a session last longer', positiveInt, 180)
    .option('--sms-wait <seconds>', 'after the session, show the SMS that arrive within this time', nonNegativeInt, 3)
    .option(
      '--voice',
      "call UTM's voice number instead: each prompt's caption printed, a line of keys answers it, an empty line hangs up (needs the server's simulator)",
    )
    .action(act(async () => (await import('./simulate.ts')).simulate));

  const reminders = program.command('reminders').description('SMS reminders before coverage lapses');
  reminders
    .command('run')
    .description(
      'queue the reminders due now (held until the sending hours at night); the server sends them, and runs this on its own schedule',
    )
    .option('--at <date>', "run as if it were then: YYYY-MM-DD (when that day's sending hours open) or an ISO date-time")
    .option('--dry-run', 'print who would get what, and change nothing')
    .action(act(async () => (await import('./reminders.ts')).run));

  const campaign = program
    .command('campaign')
    .description('outreach SMS campaigns: audience, message per language, send time, rate, results');
  const campaignCode = () => import('./campaign.ts');
  campaign
    .command('create')
    .description('create a draft campaign (then preview, test, send)')
    .requiredOption('--name <name>', "a name for UTM's staff")
    .option('--district <name>', 'only this district (repeatable)', collect, [])
    .option('--mutuelle <id>', 'only this mutuelle (repeatable)', collect, [])
    .option('--status <status>', 'coverage status today: active, waiting, grace, lapsed (repeatable)', collect, [])
    .option('--language <lang>', 'only members speaking fr or bm (repeatable)', collect, [])
    .option('--subsidised', 'only households with a subsidised beneficiary')
    .option('--no-subsidised', 'only households without one')
    .option('--wallet', 'only households with an Orange Money wallet linked')
    .option('--no-wallet', 'only households without one')
    .option('--reminders-by <channel>', 'only households that get their reminders this way: voice (calls) or sms')
    .option('--min-days <n>', 'at least this many days since the last payment', whole)
    .option('--max-days <n>', 'at most this many days since the last payment', whole)
    .option('--phones-csv <file>', 'only these phones (CSV, first column; bad lines are reported with their number)')
    .option('--message-fr <text>', 'the French message; placeholders {prenom} {mutuelle} {montant_du} {couvert_jusqu_au} {code_ussd}')
    .option('--message-fr-file <file>', 'the French message, from a file')
    .option('--message-bm <text>', 'the Bambara message')
    .option('--message-bm-file <file>', 'the Bambara message, from a file')
    .option('--fallback <lang>', "members of a language without a message get this language's message")
    .option('--send-at <time>', 'ISO time (Bamako = UTC) such as 2026-03-12T08:00; default: when sent')
    .option('--rate <per-minute>', 'at most this many messages a minute', whole)
    .option('--control-share <fraction>', 'hold out this share of the audience as a control group (default 0)', share)
    .option('--json', 'print JSON')
    .action(act(async () => (await campaignCode()).create));
  campaign
    .command('preview')
    .description('recipients per language, segments and characters after folding, cost, opted out, three samples')
    .argument('<id>', 'campaign id', campaignId)
    .option('--json', 'print JSON')
    .action(act(async () => (await campaignCode()).preview));
  campaign
    .command('test')
    .description("send the message now to one phone (with that member's values, or the first member's)")
    .argument('<id>', 'campaign id', campaignId)
    .argument('<phone>', 'E.164 phone, e.g. +22376000001')
    .option('--language <lang>', "which message (default: the member's language, else fr)")
    .action(act(async () => (await campaignCode()).testSend));
  campaign
    .command('send')
    .description("write the campaign's messages to the outbox (once; pause, resume and cancel work mid-way)")
    .argument('<id>', 'campaign id', campaignId)
    .action(act(async () => (await campaignCode()).send));
  campaign
    .command('pause')
    .description('stop writing and hold the messages not sent yet')
    .argument('<id>', 'campaign id', campaignId)
    .action(act(async () => (await campaignCode()).pause));
  campaign
    .command('resume')
    .description('release the held messages (spread again at the rate from now) and finish writing')
    .argument('<id>', 'campaign id', campaignId)
    .action(act(async () => (await campaignCode()).resume));
  campaign
    .command('cancel')
    .description('stop the campaign: its messages not sent yet are expired')
    .argument('<id>', 'campaign id', campaignId)
    .action(act(async () => (await campaignCode()).cancel));
  campaign
    .command('status')
    .description('without an id, every campaign; with one, its results: queued, sent, delivered, failed, opted out after, conversions')
    .argument('[id]', 'campaign id', campaignId)
    .option('--reminders', 'the results of each reminder rule instead')
    .option('--json', 'print JSON')
    .action(act(async () => (await campaignCode()).status));

  program
    .command('report')
    .description('figures for UTM')
    .command('kpi')
    .description(
      'penetration and its trend, households and beneficiaries by status, contributions, payments, SMS, USSD, conversions; per district and mutuelle',
    )
    .option('--from <day>', 'first day of the period (YYYY-MM-DD; default: the first day of the month 11 months ago, as the console)')
    .option('--to <day>', 'last day of the period, inclusive (YYYY-MM-DD; default: today)')
    .option('--today <day>', 'the day statuses and penetration are computed on (default: today in Bamako)')
    .option('--district <name>', 'only this district')
    .option('--mutuelle <id>', 'only this mutuelle')
    .option('--csv', 'print CSV: one table per figure, each after a "# section" line')
    .option('--json', 'print the figures as JSON')
    .action(act(async () => (await import('./report.ts')).kpi));

  program
    .command('backup')
    .description("copy the database to FILE while the server runs (SQLite's online backup API); for cron, see the README")
    .argument('<file>', 'where to write the copy (refused if it exists, unless --force)')
    .option('--force', 'overwrite FILE if it exists')
    .option('--quiet', 'no progress, only errors (for cron)')
    .action(act(async () => (await import('./backup.ts')).backup));

  const coverage = program.command('coverage').description("the coverage read model (each household's state from its ledger)");
  coverage
    .command('check')
    .description(
      "compare every household's coverage row with its ledger, and the figures' sums with the rows; exit code 1 listing what differs",
    )
    .action(act(async () => (await import('./coverage.ts')).check));
  coverage
    .command('rebuild')
    .description("recompute every household's coverage row from its ledger, in one transaction")
    .action(act(async () => (await import('./coverage.ts')).rebuild));

  const staff = program.command('staff').description('office console accounts (officers and managers)');
  staff
    .command('add')
    .description('create an account; the password is read from standard input when it is not a terminal, asked otherwise')
    .requiredOption('--email <email>', 'login email')
    .requiredOption('--name <name>', 'name shown in the console and the audit log')
    .requiredOption(
      '--role <role>',
      'officer (members, wallets, support, call-backs) or manager (all, with campaigns, reconciliation, staff, figures)',
    )
    .action(act(async () => (await import('./staff.ts')).add));
  staff
    .command('password')
    .description(
      "set an account's new password and end its sessions; read from standard input when it is not a terminal, asked otherwise (never an argument)",
    )
    .requiredOption('--email <email>', 'the account')
    .action(act(async () => (await import('./staff.ts')).setPassword));
  staff
    .command('list')
    .description('every account, with its role and whether it is active')
    .action(act(async () => (await import('./staff.ts')).list));
  staff
    .command('disable')
    .description('disable an account and end its sessions')
    .argument('<email>')
    .action(act(async () => (await import('./staff.ts')).disable));

  program
    .command('import')
    .description('import data from a file')
    .command('members')
    .description(
      'check a CSV of members (one line per beneficiary: card_number,adherent_name,phone,language,mutuelle,joined_on,beneficiary_name,relation,birth_year,subsidised), ' +
        'then import its valid households in one transaction',
    )
    .argument('<file>')
    .option('--yes', 'import without asking, after the check')
    .option('--check', 'only check and report; write nothing')
    .action(act(async () => (await import('./import.ts')).members));

  const flows = program.command('flows').description('the USSD menus and their messages');
  flows
    .command('check')
    .description(
      'fail on a message missing in a language, a screen over 160 GSM-7 septets, an amount, date or key cut by a 20-column handset, a character that cannot be folded, or an unreachable state',
    )
    .option('--review', 'also list the Bambara messages still awaiting review by a native speaker')
    .action(act(async () => (await import('./flows.ts')).check));
  flows
    .command('print')
    .description(
      "a flow as a storyboard for product staff: each screen as the member sees it (sample values for a household's data) and where each key leads",
    )
    .argument('<flow>', 'main, register, coverage, contribute, history, reminders, callback or language')
    .option('--lang <lang>', 'fr or bm', 'fr')
    .action(act(async () => (await import('./flows.ts')).print));
  const review = flows.command('review').description('the native review of the Bambara messages, in a spreadsheet');
  review
    .command('export')
    .description(
      'write every Bambara message to a CSV for a reviewer: key, French, Bambara, where it appears, status, doubt (doubtful first)',
    )
    .argument('<file>', 'the CSV to write')
    .option('--catalogs <dir>', 'the catalogs folder (default: flows/messages)')
    .action(act(async () => (await import('./flows.ts')).reviewExport));
  review
    .command('import')
    .description(
      'apply a reviewed CSV: corrected Bambara texts, marked reviewed ("relu") unless the status says "à relire"; nothing is written on any error',
    )
    .argument('<file>', 'the reviewed CSV')
    .option('--catalogs <dir>', 'the catalogs folder (default: flows/messages)')
    .action(act(async () => (await import('./flows.ts')).reviewImport));

  const prompts = program
    .command('voice')
    .description('the voice channel')
    .command('prompts')
    .description('the recordings of the voice prompts, per language (VOICE_DIR/recordings/<lang>/<slot>.wav)');
  prompts
    .command('status')
    .description('recorded, synthetic and missing prompts per language, then each slot still to record')
    .action(act(async () => (await import('./voice.ts')).status));
  prompts
    .command('export')
    .description('write a recording session: DIR/<lang>/<slot>.txt (the text to read) and DIR/manifest.csv')
    .argument('<dir>', 'the folder to write')
    .action(act(async () => (await import('./voice.ts')).exportPrompts));
  prompts
    .command('import')
    .description(
      'bring in DIR/<lang>/<slot>.wav takes (16-bit PCM WAV, converted to 8 kHz mono); nothing is written if any file is refused',
    )
    .argument('<dir>', 'the folder of takes')
    .action(act(async () => (await import('./voice.ts')).importPrompts));

  return program;
}

/**
 * Runs `sabatili ARGS…` (without `node` and the script) and resolves its exit code: 0, 1 for a
 * failure (a configuration the server cannot start with, a port in use, a check that fails), 2 for
 * a refusal (bad input), commander's code for --help, --version and a bad command line. A bug
 * rejects, with its stack. bin/sabatili.js and the tests both run commands through here.
 * @param {string[]} argv
 * @param {RunIo} io
 * @returns {Promise<number>}
 */
export async function run(argv, io) {
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  return code;
}
