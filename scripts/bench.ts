/**
 * `npm run bench`: the /ussd performance budget of design.md ("Performance budgets").
 *
 * What is measured: requests/s and latency of POST /ussd under 64 keep-alive connections, each
 * playing realistic 3-hop sessions (home → coverage → beneficiaries, home → payments → next page)
 * with distinct session ids across the demo members, so that every hop restores the member's
 * XState snapshot from SQLite and persists the new one. The same load is played against
 *   - baseline: a bare express 5 app that parses the same form and answers a constant screen, and
 *   - sabatili: the real app built as production builds it (fresh SQLite file, demo network seeded).
 * Each runs alone in its own child process with the same Node flags; autocannon runs in this
 * process. The first seconds of load warm the server up and are not counted; the measured window
 * follows on the same, warm connections. With `--rounds N` the pair is measured N times,
 * alternating.
 *
 * Why ratios: absolute numbers on shared 2-core machines move by tens of percent from run to run
 * (other work on the machine, and the load generator shares the cores with the server), while two
 * servers measured back to back under the same conditions keep a much steadier ratio. The budget
 * is therefore "ussd/express requests/s ≥ 0.8x", plus p99 < 50 ms and no errors, judged on the
 * median round. The server CPU time per reply, printed alongside, is steadier still: it tells
 * where the cost is when the machine is too busy for the ratio to settle.
 *
 * The resume offer: a session that stops on a CON screen can be resumed by the same phone for
 * USSD_RESUME_MINUTES. The load reuses three phones for thousands of sessions per second, so with
 * the production window every first hop would get the resume offer and the paths above would not
 * be played. The bench therefore runs sabatili with USSD_RESUME_MINUTES=0 (what distinct callers
 * see; the resume lookup is then skipped); `--resume` keeps the production window to show the
 * difference. Everything else is production configuration.
 *
 * Flags: --duration S (10) --warmup S (2) --rounds N (1) --connections N (64) --json FILE --sms N (100000)
 *        --campaign N (200000 members; 0 skips) --only campaign (just the campaign section, see bench/campaign.ts)
 *        --kpi N (200000 households; 0 skips) --only kpi (just the office figures, see bench/kpi.ts)
 *        --import N (50000 households; 0 skips) --only import (just the members import, see bench/import.ts)
 *        --resume  --profile DIR (writes the sabatili child's .cpuprofile there and prints the
 *        top self-time functions; profiling slows the server, so that run's ratio means little).
 * Exits non-zero only when the bench itself fails, never on a budget FAIL.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchChild, killAll } from './bench/children.ts';
import { runLoad, type LoadFigures } from './bench/load.ts';
import { summarizeProfiles } from './bench/profile.ts';
import { benchCampaign, type CampaignBenchFigures } from './bench/campaign.ts';
import { benchImport, type ImportBenchFigures } from './bench/import.ts';
import { benchKpi, type KpiBenchFigures } from './bench/kpi.ts';
import { benchSms, type SmsBenchFigures } from './bench/sms.ts';
import type { SessionStats, Usage } from './bench/protocol.ts';

const BUDGET = { ratio: 0.8, p99Ms: 50 };
/** The default USSD_SERVICE_CODE (src/config.ts). */
const SERVICE_CODE = '*384*123#';

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '1' },
    connections: { type: 'string', default: '64' },
    json: { type: 'string' },
    profile: { type: 'string' },
    resume: { type: 'boolean', default: false },
    sms: { type: 'string', default: '100000' },
    campaign: { type: 'string', default: '200000' },
    kpi: { type: 'string', default: '200000' },
    import: { type: 'string', default: '50000' },
    only: { type: 'string' },
  },
});

function positive(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min} (got ${value})`);
  return n;
}

const opts = {
  duration: positive('duration', flags.duration, 1),
  warmup: positive('warmup', flags.warmup, 0),
  rounds: positive('rounds', flags.rounds, 1),
  connections: positive('connections', flags.connections, 1),
  json: flags.json,
  profileDir: flags.profile ? resolve(flags.profile) : undefined,
  resume: flags.resume,
};

type Target = 'baseline' | 'sabatili';

interface Run {
  round: number;
  target: Target;
  figures: LoadFigures;
  /** The server's CPU time per response in the measured window (µs), and its CPU use (% of one core). */
  serverCpuUsPerReq: number;
  serverCpuPct: number;
  /** This process's (autocannon's) CPU use in the measured window, % of one core: near 100 means the client may be the limit. */
  clientCpuPct: number;
  usage: { start: Usage; afterWarmup: Usage; end: Usage };
  sessions: SessionStats | null;
}

const args = process.argv.slice(2);
const command = `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const ms = (v: number) => v.toFixed(2);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/** Run at the end, on error and on Ctrl-C: the children are killed first, then their temp files removed. */
const cleanups: (() => void)[] = [killAll];
function cleanUp(): void {
  for (const fn of cleanups.splice(0)) fn();
}

/** The folders the profiled sabatili children of this run write into (one per child). */
const profileDirs: string[] = [];

async function measure(round: number, target: Target, dataDir: string): Promise<Run> {
  const profileDir = opts.profileDir && target === 'sabatili' ? join(opts.profileDir, `sabatili-round${round}-${Date.now()}`) : undefined;
  if (profileDir) profileDirs.push(profileDir);
  const child =
    target === 'baseline'
      ? await BenchChild.start('baseline', 'baseline-server.ts')
      : await BenchChild.start('sabatili', 'sabatili-server.ts', {
          env: {
            DATABASE_PATH: join(mkdtempSync(join(dataDir, `round${round}-`)), 'sabatili.db'),
            USSD_RESUME_MINUTES: opts.resume ? '10' : '0',
          },
          nodeFlags: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
        });
  try {
    const start = await child.usage();
    let afterWarmup = start;
    let end = start;
    let clientBefore = process.cpuUsage();
    let client = clientBefore;
    const figures = await runLoad({
      port: child.port,
      connections: opts.connections,
      warmup: opts.warmup,
      duration: opts.duration,
      tag: `r${round}`,
      serviceCode: SERVICE_CODE,
      onWindow: async (edge) => {
        if (edge === 'start') {
          afterWarmup = await child.usage();
          clientBefore = process.cpuUsage();
        } else {
          client = process.cpuUsage(clientBefore);
          end = await child.usage();
        }
      },
    });
    const sessions = await child.stats();
    const serverUs = end.cpuUs - afterWarmup.cpuUs;
    return {
      round,
      target,
      figures,
      serverCpuUsPerReq: figures.responses ? serverUs / figures.responses : 0,
      serverCpuPct: serverUs / 1e4 / figures.duration,
      clientCpuPct: (client.user + client.system) / 1e4 / figures.duration,
      usage: { start, afterWarmup, end },
      sessions,
    };
  } finally {
    await child.stop();
  }
}

function row(cells: (string | number)[], widths: number[]): string {
  return cells.map((c, i) => (i < 2 ? String(c).padEnd(widths[i] as number) : String(c).padStart(widths[i] as number))).join('  ');
}

const WIDTHS = [5, 9, 7, 7, 7, 8, 7, 6, 8, 10, 7, 7];
const HEADER = ['round', 'target', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx', 'errors', 'bad body', 'srv µs/req', 'srv cpu', 'ac cpu'];

function printRun(r: Run): void {
  const f = r.figures;
  const pct = (v: number) => `${v.toFixed(0)}%`;
  console.log(
    row(
      [r.round, r.target, f.rps.toFixed(0), ms(f.p50), ms(f.p99), ms(f.max), f.non2xx, f.errors, f.badBodies,
        r.serverCpuUsPerReq.toFixed(0), pct(r.serverCpuPct), pct(r.clientCpuPct)],
      WIDTHS,
    ),
  );
  for (const s of f.samples) console.log(`         ! ${s}`);
}

async function main(): Promise<void> {
  if (flags.only !== undefined) {
    if (!['campaign', 'kpi', 'import'].includes(flags.only)) throw new Error(`--only takes "campaign", "kpi" or "import" (got ${JSON.stringify(flags.only)})`);
    console.log(`reproduce: ${command}`);
    console.log(`node ${process.version}, os.cpus().length = ${cpus().length}, ${process.platform} ${process.arch}`);
    const campaign = flags.only === 'campaign' ? await campaignSection() : undefined;
    const kpi = flags.only === 'kpi' ? kpiSection() : undefined;
    const members = flags.only === 'import' ? await importSection() : undefined;
    if (opts.json) writeFileSync(opts.json, `${JSON.stringify({ campaign, kpi, import: members, command, node: process.version, cpus: cpus().length }, null, 2)}\n`);
    return;
  }
  console.log('sabatili /ussd bench: realistic 3-hop sessions, ratio against a bare express app');
  console.log(`reproduce: ${command}`);
  console.log(`node ${process.version}, os.cpus().length = ${cpus().length}, ${process.platform} ${process.arch}`);
  console.log(
    `${opts.connections} connections, ${opts.duration} s measured after ${opts.warmup} s warm-up, ${opts.rounds} round(s); ` +
      `resume offer ${opts.resume ? 'on (production window, 10 min)' : 'off (USSD_RESUME_MINUTES=0, see header)'}`,
  );
  if (opts.profileDir) {
    mkdirSync(opts.profileDir, { recursive: true });
    console.log(`profiling the sabatili child into ${opts.profileDir} (its figures are slowed by the profiler)`);
  }
  console.log('');
  console.log(row(HEADER, WIDTHS));

  const dataDir = mkdtempSync(join(tmpdir(), 'sabatili-bench-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const runs: Run[] = [];
  const ratios: number[] = [];
  try {
    for (let round = 1; round <= opts.rounds; round++) {
      const baseline = await measure(round, 'baseline', dataDir);
      printRun(baseline);
      const sabatili = await measure(round, 'sabatili', dataDir);
      printRun(sabatili);
      runs.push(baseline, sabatili);
      const ratio = sabatili.figures.rps / baseline.figures.rps;
      ratios.push(ratio);
      const cpuPerReply = sabatili.serverCpuUsPerReq / baseline.serverCpuUsPerReq;
      console.log(`${String(round).padEnd(5)}  ratio ussd/express = ${ratio.toFixed(2)}x (server CPU per reply: ${cpuPerReply.toFixed(1)}x the baseline's)`);
    }
  } finally {
    cleanUp();
  }

  const ours = runs.filter((r) => r.target === 'sabatili');
  const theirs = runs.filter((r) => r.target === 'baseline');
  console.log('srv µs/req: server CPU time per reply (all its threads); srv cpu, ac cpu: share of one core used by the');
  console.log('server and by autocannon (this process) during the measured window. Latencies are exact, from autocannon\'s events.');
  console.log('');
  for (const r of ours) {
    const m = r.usage;
    console.log(
      `round ${r.round} sabatili RSS: start ${mb(m.start.rss)}, after warm-up ${mb(m.afterWarmup.rss)}, end ${mb(m.end.rss)} ` +
        `(${m.end.rss >= m.afterWarmup.rss ? '+' : '-'}${mb(Math.abs(m.end.rss - m.afterWarmup.rss))} over the measured window); heap used ${mb(m.end.heapUsed)}`,
    );
    console.log(
      `round ${r.round} sabatili event-loop delay (measured window): p99 ${ms(m.end.loopDelayP99Ms)} ms, max ${ms(m.end.loopDelayMaxMs)} ms` +
        ` (baseline: max ${ms(theirs.find((b) => b.round === r.round)?.usage.end.loopDelayMaxMs ?? 0)} ms)`,
    );
    if (r.sessions) {
      const s = r.sessions;
      const mix = Object.entries(s.byMachine)
        .sort((a, b) => b[1] - a[1])
        .map(([machine, n]) => `${machine} ${((100 * n) / s.sessions).toFixed(0)}%`)
        .join(', ');
      console.log(`round ${r.round} sabatili database: ${s.sessions} sessions, ${s.hops} hops; sessions by flow: ${mix}`);
      const offered = s.byMachine['@resume'] ?? 0;
      if (offered > 0) {
        console.log(`  warning: ${((100 * offered) / s.sessions).toFixed(0)}% of sessions stopped on the resume offer: the intended paths were not all played`);
      }
    }
  }

  const medianRatio = median(ratios);
  const worstP99 = Math.max(...ours.map((r) => r.figures.p99));
  const ourErrors = ours.reduce((n, r) => n + r.figures.non2xx + r.figures.errors + r.figures.badBodies, 0);
  const baselineErrors = theirs.reduce((n, r) => n + r.figures.non2xx + r.figures.errors + r.figures.badBodies, 0);
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  const budget = [
    { check: `ussd/express req/s >= ${BUDGET.ratio}x`, value: `${opts.rounds > 1 ? 'median ' : ''}${medianRatio.toFixed(2)}x`, pass: medianRatio >= BUDGET.ratio },
    { check: `p99 < ${BUDGET.p99Ms} ms`, value: `${opts.rounds > 1 ? 'worst ' : ''}${ms(worstP99)} ms`, pass: worstP99 < BUDGET.p99Ms },
    { check: 'no errors (non-2xx, errors, bad body)', value: String(ourErrors), pass: ourErrors === 0 },
  ];

  console.log('');
  if (opts.rounds > 1) console.log(`ratios per round: ${ratios.map((r) => `${r.toFixed(2)}x`).join(', ')}; median ${medianRatio.toFixed(2)}x`);
  console.log('budget (design.md, Performance budgets), sabatili /ussd:');
  for (const b of budget) console.log(`  ${b.check.padEnd(40)} ${b.value.padStart(14)}  ${verdict(b.pass)}`);
  console.log('  memory flat over a million hops          not judged here: compare RSS above, or run longer');
  if (baselineErrors > 0) console.log(`  warning: the baseline itself had ${baselineErrors} errors; the ratio is suspect`);
  if (opts.profileDir) console.log('  note: the sabatili child was profiled, so its figures are slower than unprofiled');

  let profile: ReturnType<typeof summarizeProfiles> | undefined;
  if (opts.profileDir) {
    // One folder per sabatili child; in it one profile per thread (tsx's loader runs in a worker):
    // the main thread's is by far the largest.
    const files = profileDirs.flatMap((dir) =>
      (existsSync(dir) ? readdirSync(dir) : [])
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(dir, f))
        .sort((a, b) => statSync(b).size - statSync(a).size)
        .slice(0, 1),
    );
    if (files.length === 0) console.log('\nno .cpuprofile was written');
    else {
      profile = summarizeProfiles(files);
      console.log(`\nsabatili CPU profile (${files.length} file(s), ${(profile.busyMs / 1000).toFixed(1)} s busy, ${(profile.idleMs / 1000).toFixed(1)} s idle), top self time:`);
      for (const t of profile.top) console.log(`  ${(100 * t.share).toFixed(1).padStart(5)}%  ${t.selfMs.toFixed(0).padStart(6)} ms  ${t.where}`);
      console.log('by area:');
      for (const a of profile.areas) console.log(`  ${(100 * a.share).toFixed(1).padStart(5)}%  ${a.selfMs.toFixed(0).padStart(6)} ms  ${a.area}`);
    }
  }

  const sms = await smsSection();
  const campaign = await campaignSection();
  const kpi = kpiSection();
  const members = await importSection();

  if (opts.json) {
    const report = {
      sms,
      campaign,
      kpi,
      import: members,
      command,
      node: process.version,
      cpus: cpus().length,
      options: { ...opts, json: undefined },
      budget: { ...BUDGET, medianRatio, worstP99Ms: worstP99, errors: ourErrors, results: budget },
      ratios,
      runs,
      profile,
    };
    writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nfigures written to ${opts.json}`);
  }
}

/** The outbox budgets: enqueue rate, drain rate through the real SDK to a local fake gateway, memory. */
async function smsSection(): Promise<SmsBenchFigures | undefined> {
  const n = Number(flags.sms);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  console.log(`\nsms outbox bench: ${n} messages (--sms N to change, --sms 0 to skip)`);
  const f = await benchSms(n, (line) => console.log(`  ${line}`));
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  console.log('budget (design.md, Performance budgets), outbox:');
  console.log(`  enqueue >= 100000 rows/s                 ${`${Math.round(f.enqueueRowsPerSec)} rows/s`.padStart(14)}  ${verdict(f.enqueueRowsPerSec >= 100_000)}`);
  console.log(`  drain via the SDK >= 1000 messages/s     ${`${Math.round(f.drainPerSec)} msg/s`.padStart(14)}  ${verdict(f.drainPerSec >= 1000)}`);
  console.log(`  memory while draining                    ${`${f.rssBeforeDrainMb.toFixed(0)} -> peak ${f.rssPeakDrainMb.toFixed(0)} MB`.padStart(14)}`);
  return f;
}

/** The campaign budget: preview and enqueue of a campaign to N generated members under 5 s, memory bounded. */
async function campaignSection(): Promise<CampaignBenchFigures | undefined> {
  const n = Number(flags.campaign);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  console.log(`\ncampaign bench: preview and send to ${n} members (--campaign N to change, --campaign 0 to skip; --only campaign for this section alone)`);
  const f = await benchCampaign(n, (line) => console.log(`  ${line}`));
  const s = (v: number) => `${(v / 1000).toFixed(2)} s`;
  console.log(`  preview: ${f.messages} messages, ${f.segments} segments in ${s(f.previewMs)}; enqueue (outbox and recipients written) in ${s(f.enqueueMs)}`);
  console.log(`  CPU time of both: ${s(f.cpuMs)} (wall ${s(f.totalMs)}; load average now ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores)`);
  console.log(
    `  memory: RSS ${f.rssStartMb.toFixed(0)} MB at start, ${f.rssAfterFirstChunksMb.toFixed(0)} MB after the first chunks, ` +
      `${f.rssAfterLastChunkMb.toFixed(0)} MB after the last; peak ${f.rssPeakMb.toFixed(0)} MB`,
  );
  const bounded = f.rssAfterLastChunkMb <= f.rssAfterFirstChunksMb * 1.25;
  console.log('budget (design.md, Performance budgets), campaign:');
  console.log(`  preview + enqueue < 5 s                  ${s(f.totalMs).padStart(14)}  ${f.totalMs < 5000 ? 'PASS' : 'FAIL'}`);
  console.log(`  memory bounded (flat over the chunks)    ${`${f.rssAfterFirstChunksMb.toFixed(0)} -> ${f.rssAfterLastChunkMb.toFixed(0)} MB`.padStart(14)}  ${bounded ? 'PASS' : 'FAIL'}`);
  console.log(`  reproduce: ${command}`);
  return f;
}

/** The office budget: the figures of a year for N generated households under 1 s (median of 5 runs). */
function kpiSection(): KpiBenchFigures | undefined {
  const n = Number(flags.kpi);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  console.log(`\nkpi bench: the office figures for ${n} households (--kpi N to change, --kpi 0 to skip; --only kpi for this section alone)`);
  const f = benchKpi(n, 5, (line) => console.log(`  ${line}`));
  const s = (v: number) => `${(v / 1000).toFixed(2)} s`;
  console.log(`  median: wall ${s(f.medianMs)}, CPU ${s(f.medianCpuMs)} (load average now ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores)`);
  console.log('budget (design.md, Performance budgets), office:');
  console.log(`  KPI figures for ${n} households < 1 s   ${`${s(f.medianMs)} median`.padStart(14)}  ${f.medianMs < 1000 ? 'PASS' : 'FAIL'}`);
  console.log(`  reproduce: ${command}`);
  return f;
}

/** The office budget: importing N members (households, with their beneficiaries) from CSV under 10 s. */
async function importSection(): Promise<ImportBenchFigures | undefined> {
  const n = Number(flags.import);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  console.log(`\nimport bench: ${n} households from CSV, checked then imported (--import N to change, --import 0 to skip; --only import for this section alone)`);
  const f = await benchImport(n, (line) => console.log(`  ${line}`));
  const s = (v: number) => `${(v / 1000).toFixed(2)} s`;
  console.log(`  ${f.lines} lines: check ${s(f.checkMs)}, import (checked again, written in one transaction) ${s(f.importMs)}; RSS peak ${f.rssPeakMb.toFixed(0)} MB`);
  console.log('budget (design.md, Performance budgets), office:');
  console.log(`  import of ${n} members < 10 s           ${s(f.totalMs).padStart(14)}  ${f.totalMs < 10_000 ? 'PASS' : 'FAIL'}`);
  console.log(`  reproduce: ${command}`);
  return f;
}

process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanUp();
    process.exit(130);
  });
}

try {
  await main();
} catch (err) {
  console.error('bench failed:', err);
  process.exitCode = 1;
}
