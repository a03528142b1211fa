/**
 * `npm run bench`: the /ussd performance budget of design.md ("Performance budgets").
 *
 * What is measured: requests/s and latency of POST /ussd under 64 keep-alive connections, each
 * playing realistic 3-hop sessions (home → coverage → beneficiaries, home → payments → next page)
 * with distinct session ids across the demo members, so that every hop restores the member's
 * XState snapshot from SQLite and persists the new one. The same load is played against
 *   - raw: node:http alone, parsing the form and answering a constant screen (the floor),
 *   - express: a bare express 5 app that parses the same form and answers a constant screen,
 *   - peer: ussd-menu-builder behind express, sessions in memory, the same three-hop menus,
 *   - sabatili: the real app built as production builds it (fresh SQLite file, demo network
 *     seeded, the server's request handler with the gateway callbacks on the lean path),
 *   - sabatili-express (only with --targets): the same app with every route through express.
 * Each runs alone in its own child process with the same Node flags; autocannon runs in this
 * process. The first seconds of load warm the server up and are not counted; the measured window
 * follows on the same, warm connections. With `--rounds N` the targets are measured N times, in
 * the given order in odd rounds and in the reverse order in even rounds.
 *
 * Why ratios: absolute numbers on shared 2-core machines move by tens of percent from run to run
 * (other work on the machine, and the load generator shares the cores with the server), while two
 * servers measured back to back under the same conditions keep a much steadier ratio. The budget
 * is therefore "sabatili/express requests/s ≥ 1.0x" and "sabatili/peer ≥ 1.15x", plus p99 < 30 ms
 * and no errors, judged on the median round (the worst round's p99 is printed too). The server CPU time per reply, printed alongside, is steadier still: it tells
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
 *        --only sms (just the outbox section, see bench/sms.ts)
 *        --campaign N (200000 members; 0 skips) --only campaign (just the campaign section, see bench/campaign.ts)
 *        --kpi N (200000 households; 0 skips) --only kpi (just the office figures, see bench/kpi.ts)
 *        --import N (50000 households; 0 skips) --only import (just the members import, see bench/import.ts)
 *        --voice N (20000 steps per round; 0 skips) --only voice (just the voice section, see bench/voice.ts)
 *        --targets raw,express,peer,sabatili (the default; add sabatili-express to compare with express alone)
 *        --long N: N hops (e.g. 1000000) against sabatili only, RSS sampled every 10 s: is memory flat?
 *        --resume  --profile DIR (writes there the sabatili child's .cpuprofile of the measured window
 *        only, without start-up, seeding and warm-up, and the campaign child's, and prints the top
 *        self-time functions; profiling slows them, so those figures mean little).
 * Exits non-zero only when the bench itself fails, never on a budget FAIL.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { benchCampaign, type CampaignBenchFigures } from './bench/campaign.ts';
import { BenchChild, killAll } from './bench/children.ts';
import { benchImport, type ImportBenchFigures } from './bench/import.ts';
import { benchKpi, type KpiBenchFigures } from './bench/kpi.ts';
import { type LoadFigures, runLoad } from './bench/load.ts';
import { summarizeProfiles } from './bench/profile.ts';
import type { SessionStats, Usage } from './bench/protocol.ts';
import { benchSms, type SmsBenchFigures } from './bench/sms.ts';
import { benchVoice, type VoiceBenchFigures } from './bench/voice.ts';

const BUDGET = { ratio: 1.0, peerRatio: 1.15, p99Ms: 30 };
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
    voice: { type: 'string', default: '20000' },
    only: { type: 'string' },
    targets: { type: 'string', default: 'raw,express,peer,sabatili' },
    long: { type: 'string' },
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

const TARGETS = ['raw', 'express', 'peer', 'sabatili', 'sabatili-express'] as const;
type Target = (typeof TARGETS)[number];
const targets = flags.targets.split(',').map((t) => t.trim()) as Target[];
for (const t of targets)
  if (!TARGETS.includes(t)) throw new Error(`--targets takes some of ${TARGETS.join(', ')} (got ${JSON.stringify(t)})`);
if (!targets.includes('sabatili')) throw new Error('--targets must include sabatili');

interface Run {
  round: number;
  target: Target;
  figures: LoadFigures;
  /** The server's CPU time per response in the measured window (µs), and its CPU use (% of one core). */
  serverCpuUsPerReq: number;
  /** Of serverCpuUsPerReq, the time in the kernel. */
  serverSysUsPerReq: number;
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
/** The least-squares straight line through points (x, y). */
function fitLine(points: ReadonlyArray<readonly [number, number]>): { at: (x: number) => number } {
  const n = points.length;
  const mx = points.reduce((t, [x]) => t + x, 0) / n;
  const my = points.reduce((t, [, y]) => t + y, 0) / n;
  const sxx = points.reduce((t, [x]) => t + (x - mx) ** 2, 0);
  const slope = sxx === 0 ? 0 : points.reduce((t, [x, y]) => t + (x - mx) * (y - my), 0) / sxx;
  return { at: (x) => my + slope * (x - mx) };
}

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
const profileDirs: { target: Target; dir: string }[] = [];

function startChild(round: number, target: Target, dataDir: string): Promise<BenchChild> {
  switch (target) {
    case 'raw':
      return BenchChild.start('raw', 'raw-server.ts');
    case 'express':
      return BenchChild.start('express', 'baseline-server.ts');
    case 'peer':
      return BenchChild.start('peer', 'peer-server.ts');
    case 'sabatili':
    case 'sabatili-express': {
      return BenchChild.start(target, 'sabatili-server.ts', {
        env: {
          DATABASE_PATH: join(mkdtempSync(join(dataDir, `round${round}-`)), 'sabatili.db'),
          USSD_RESUME_MINUTES: opts.resume ? '10' : '0',
          BENCH_EXPRESS_ONLY: target === 'sabatili-express' ? '1' : '0',
        },
      });
    }
  }
}

async function measure(round: number, target: Target, dataDir: string): Promise<Run> {
  const child = await startChild(round, target, dataDir);
  const profiled = opts.profileDir !== undefined && (target === 'sabatili' || target === 'sabatili-express');
  const profileDir = profiled ? join(opts.profileDir as string, `${target}-round${round}-${Date.now()}`) : undefined;
  if (profileDir) profileDirs.push({ target, dir: profileDir });
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
          if (profileDir) await child.profileStart();
          afterWarmup = await child.usage();
          clientBefore = process.cpuUsage();
        } else {
          client = process.cpuUsage(clientBefore);
          end = await child.usage();
          if (profileDir) {
            mkdirSync(profileDir, { recursive: true });
            await child.profileStop(join(profileDir, 'window.cpuprofile'));
          }
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
      serverSysUsPerReq: figures.responses ? (end.sysUs - afterWarmup.sysUs) / figures.responses : 0,
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

const WIDTHS = [5, 16, 7, 7, 7, 8, 7, 6, 8, 10, 7, 7, 7];
const HEADER = [
  'round',
  'target',
  'req/s',
  'p50 ms',
  'p99 ms',
  'max ms',
  'non-2xx',
  'errors',
  'bad body',
  'srv µs/req',
  'of sys',
  'srv cpu',
  'ac cpu',
];

function printRun(r: Run): void {
  const f = r.figures;
  const pct = (v: number) => `${v.toFixed(0)}%`;
  console.log(
    row(
      [
        r.round,
        r.target,
        f.rps.toFixed(0),
        ms(f.p50),
        ms(f.p99),
        ms(f.max),
        f.non2xx,
        f.errors,
        f.badBodies,
        r.serverCpuUsPerReq.toFixed(0),
        r.serverSysUsPerReq.toFixed(0),
        pct(r.serverCpuPct),
        pct(r.clientCpuPct),
      ],
      WIDTHS,
    ),
  );
  for (const s of f.samples) console.log(`         ! ${s}`);
}

async function main(): Promise<void> {
  if (flags.only !== undefined) {
    if (!['sms', 'campaign', 'kpi', 'import', 'voice'].includes(flags.only))
      throw new Error(`--only takes "sms", "campaign", "kpi", "import" or "voice" (got ${JSON.stringify(flags.only)})`);
    console.log(`reproduce: ${command}`);
    console.log(`node ${process.version}, os.cpus().length = ${cpus().length}, ${process.platform} ${process.arch}`);
    const sms = flags.only === 'sms' ? await smsSection() : undefined;
    const campaign = flags.only === 'campaign' ? await campaignSection() : undefined;
    const kpi = flags.only === 'kpi' ? kpiSection() : undefined;
    const members = flags.only === 'import' ? await importSection() : undefined;
    const voice = flags.only === 'voice' ? await voiceSection() : undefined;
    if (opts.json)
      writeFileSync(
        opts.json,
        `${JSON.stringify({ sms, campaign, kpi, import: members, voice, command, node: process.version, cpus: cpus().length }, null, 2)}\n`,
      );
    return;
  }
  console.log(`sabatili /ussd bench: realistic 3-hop sessions; targets ${targets.join(', ')}`);
  console.log(`reproduce: ${command}`);
  console.log(
    `node ${process.version}, os.cpus().length = ${cpus().length}, ${process.platform} ${process.arch}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  if (flags.long !== undefined) {
    await longRun(positive('long', flags.long, 1000));
    return;
  }
  console.log(
    `${opts.connections} connections, ${opts.duration} s measured after ${opts.warmup} s warm-up, ${opts.rounds} round(s); ` +
      `resume offer ${opts.resume ? 'on (production window, 10 min)' : 'off (USSD_RESUME_MINUTES=0, see header)'}`,
  );
  if (opts.profileDir) {
    mkdirSync(opts.profileDir, { recursive: true });
    console.log(`profiling the sabatili child(ren) into ${opts.profileDir} (their figures are slowed by the profiler)`);
  }
  console.log('');
  console.log(row(HEADER, WIDTHS));

  const dataDir = mkdtempSync(join(tmpdir(), 'sabatili-bench-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const runs: Run[] = [];
  /** Per round, sabatili's req/s and CPU per reply against each other target. */
  const ratios: Partial<Record<Target, number[]>> = {};
  const cpuRatios: Partial<Record<Target, number[]>> = {};
  try {
    for (let round = 1; round <= opts.rounds; round++) {
      const byTarget = new Map<Target, Run>();
      // Every other round in the reverse order (A B, then B A): a machine whose speed drifts over a
      // round favours no target on the whole, as it would favour the one always measured first.
      for (const target of round % 2 === 1 ? targets : [...targets].reverse()) {
        const run = await measure(round, target, dataDir);
        printRun(run);
        runs.push(run);
        byTarget.set(target, run);
      }
      const ours = byTarget.get('sabatili') as Run;
      const parts: string[] = [];
      for (const [target, run] of byTarget) {
        if (target === 'sabatili') continue;
        const ratio = ours.figures.rps / run.figures.rps;
        const cpu = ours.serverCpuUsPerReq / run.serverCpuUsPerReq;
        (ratios[target] ??= []).push(ratio);
        (cpuRatios[target] ??= []).push(cpu);
        parts.push(`/${target} ${ratio.toFixed(2)}x (CPU per reply ${cpu.toFixed(2)}x)`);
      }
      console.log(`${String(round).padEnd(5)}  sabatili ${parts.join(', ')}`);
    }
  } finally {
    cleanUp();
  }

  const ours = runs.filter((r) => r.target === 'sabatili');
  console.log(
    'srv µs/req: server CPU time per reply (all its threads), of sys: its part in the kernel; srv cpu, ac cpu: share of one core used by the',
  );
  console.log("server and by autocannon (this process) during the measured window. Latencies are exact, from autocannon's events.");
  console.log('');
  for (const r of ours) {
    const m = r.usage;
    console.log(
      `round ${r.round} sabatili RSS: start ${mb(m.start.rss)}, after warm-up ${mb(m.afterWarmup.rss)}, end ${mb(m.end.rss)} ` +
        `(${m.end.rss >= m.afterWarmup.rss ? '+' : '-'}${mb(Math.abs(m.end.rss - m.afterWarmup.rss))} over the measured window); heap used ${mb(m.end.heapUsed)}; ` +
        `event-loop delay p99 ${ms(m.end.loopDelayP99Ms)} ms, max ${ms(m.end.loopDelayMaxMs)} ms`,
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
        console.log(
          `  warning: ${((100 * offered) / s.sessions).toFixed(0)}% of sessions stopped on the resume offer: the intended paths were not all played`,
        );
      }
    }
  }

  console.log('');
  console.log('medians over the rounds:');
  for (const target of targets) {
    const rs = runs.filter((r) => r.target === target);
    console.log(
      `  ${target.padEnd(16)} ${median(rs.map((r) => r.figures.rps))
        .toFixed(0)
        .padStart(7)} req/s  p50 ${ms(median(rs.map((r) => r.figures.p50)))} ms  ` +
        `p99 ${ms(median(rs.map((r) => r.figures.p99)))} ms  CPU per reply ${median(rs.map((r) => r.serverCpuUsPerReq)).toFixed(0)} µs`,
    );
  }
  for (const [target, rs] of Object.entries(ratios)) {
    console.log(
      `  sabatili/${target}: req/s ${rs.map((r) => `${r.toFixed(2)}x`).join(', ')}; median ${median(rs).toFixed(2)}x; CPU per reply median ${median(cpuRatios[target as Target] ?? []).toFixed(2)}x`,
    );
  }

  const medianOf = (t: Target) => (ratios[t] ? median(ratios[t]) : undefined);
  const medianP99 = median(ours.map((r) => r.figures.p99));
  const worstP99 = Math.max(...ours.map((r) => r.figures.p99));
  const ourErrors = ours.reduce((n, r) => n + r.figures.non2xx + r.figures.errors + r.figures.badBodies, 0);
  const otherErrors = runs
    .filter((r) => r.target !== 'sabatili')
    .reduce((n, r) => n + r.figures.non2xx + r.figures.errors + r.figures.badBodies, 0);
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  const med = opts.rounds > 1 ? 'median ' : '';
  const budget: { check: string; value: string; pass: boolean }[] = [];
  const vsExpress = medianOf('express');
  if (vsExpress !== undefined)
    budget.push({
      check: `sabatili/express req/s >= ${BUDGET.ratio.toFixed(2)}x`,
      value: `${med}${vsExpress.toFixed(2)}x`,
      pass: vsExpress >= BUDGET.ratio,
    });
  const vsPeer = medianOf('peer');
  if (vsPeer !== undefined)
    budget.push({
      check: `sabatili/peer req/s >= ${BUDGET.peerRatio.toFixed(2)}x`,
      value: `${med}${vsPeer.toFixed(2)}x`,
      pass: vsPeer >= BUDGET.peerRatio,
    });
  budget.push({
    check: `p99 < ${BUDGET.p99Ms} ms (${opts.connections} connections)`,
    value: `${med}${ms(medianP99)} ms`,
    pass: medianP99 < BUDGET.p99Ms,
  });
  budget.push({ check: 'no errors (non-2xx, errors, bad body)', value: String(ourErrors), pass: ourErrors === 0 });

  console.log('');
  console.log('budget (design.md, Performance budgets), sabatili /ussd:');
  for (const b of budget) console.log(`  ${b.check.padEnd(40)} ${b.value.padStart(14)}  ${verdict(b.pass)}`);
  if (opts.rounds > 1) console.log(`  (worst round's p99: ${ms(worstP99)} ms)`);
  console.log('  memory flat over a million hops          see npm run bench -- --long 1000000');
  if (otherErrors > 0) console.log(`  warning: the other targets had ${otherErrors} errors; the ratios are suspect`);
  if (opts.profileDir) console.log('  note: the sabatili child was profiled, so its figures are slower than unprofiled');

  let profile: Partial<Record<Target, ReturnType<typeof summarizeProfiles>>> | undefined;
  if (opts.profileDir) {
    profile = {};
    for (const target of ['sabatili', 'sabatili-express'] as const) {
      // One folder per sabatili child, holding the measured window's profile.
      const files = profileDirs
        .filter((d) => d.target === target)
        .flatMap(({ dir }) =>
          (existsSync(dir) ? readdirSync(dir) : [])
            .filter((f) => f.endsWith('.cpuprofile'))
            .map((f) => join(dir, f))
            .sort((a, b) => statSync(b).size - statSync(a).size)
            .slice(0, 1),
        );
      if (files.length === 0) continue;
      profile[target] = printProfile(target, files);
    }
  }

  const sms = await smsSection();
  const campaign = await campaignSection();
  const kpi = kpiSection();
  const members = await importSection();
  const voice = await voiceSection();

  if (opts.json) {
    const report = {
      sms,
      campaign,
      kpi,
      import: members,
      voice,
      command,
      node: process.version,
      cpus: cpus().length,
      options: { ...opts, json: undefined },
      budget: { ...BUDGET, vsExpress, vsPeer, medianP99Ms: medianP99, worstP99Ms: worstP99, errors: ourErrors, results: budget },
      ratios,
      runs,
      profile,
    };
    writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nfigures written to ${opts.json}`);
  }
}

/**
 * `--long N`: N hops against sabatili alone (production build, fresh database), the server's RSS and
 * heap sampled every 10 s. Memory is flat when the straight line fitted (least squares) through the
 * samples from the second tenth of the hops on (by then the heap has grown to its working size) rises
 * less than 10% from that point to the end. A sample lands anywhere in the collector's cycle (±30 MB
 * here): a few samples each side, as the medians of two tenths, can differ by more than a leak would
 * over the run, where the line through all of them moves only with a trend.
 */
async function longRun(hops: number): Promise<void> {
  console.log(`long run: ${hops} hops against sabatili only, ${opts.connections} connections, RSS sampled every 10 s`);
  const dataDir = mkdtempSync(join(tmpdir(), 'sabatili-bench-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const child = await startChild(1, 'sabatili', dataDir);
  const samples: { s: number; responses: number; usage: Usage }[] = [];
  let counted = 0;
  const t0 = performance.now();
  let sampler: NodeJS.Timeout | undefined;
  let afterWarmup: Usage | undefined;
  let end: Usage | undefined;
  try {
    const figures = await runLoad({
      port: child.port,
      connections: opts.connections,
      warmup: opts.warmup,
      duration: 24 * 3600,
      stopAfter: hops,
      tag: 'long',
      serviceCode: SERVICE_CODE,
      onResponse: () => counted++,
      onWindow: async (edge) => {
        if (edge === 'start') {
          afterWarmup = await child.usage();
          samples.push({ s: 0, responses: 0, usage: afterWarmup });
          sampler = setInterval(() => {
            void child.usage().then((usage) => {
              const sample = { s: (performance.now() - t0) / 1000, responses: counted, usage };
              samples.push(sample);
              console.log(
                `  ${sample.s.toFixed(0).padStart(5)} s  ${String(sample.responses).padStart(8)} hops  RSS ${mb(usage.rss)}  heap used ${mb(usage.heapUsed)}  loop delay max ${ms(usage.loopDelayMaxMs)} ms`,
              );
            });
          }, 10_000);
        } else {
          clearInterval(sampler);
          end = await child.usage();
        }
      },
    });
    const s = await child.stats();
    const rssIn = (lo: number, hi: number) =>
      median(samples.filter((x) => x.responses >= lo * hops && x.responses < hi * hops).map((x) => x.usage.rss));
    const early = rssIn(0.1, 0.2);
    const late = rssIn(0.9, 1.01);
    const line = fitLine(samples.filter((x) => x.responses >= 0.1 * hops).map((x) => [x.responses, x.usage.rss] as const));
    const from = line.at(0.1 * hops);
    const growth = (line.at(hops) - from) / from;
    console.log('');
    console.log(
      `${figures.responses} hops in ${figures.duration.toFixed(0)} s: ${figures.rps.toFixed(0)} req/s, p50 ${ms(figures.p50)} ms, p99 ${ms(figures.p99)} ms, max ${ms(figures.max)} ms; ` +
        `errors ${figures.non2xx + figures.errors + figures.badBodies}`,
    );
    if (s) console.log(`database: ${s.sessions} sessions, ${s.hops} hops`);
    console.log(
      `RSS after warm-up ${mb((afterWarmup as Usage).rss)}; median RSS over the second tenth of the hops ${mb(early)}, over the last tenth ${mb(late)}; ` +
        `at the end ${mb((end as Usage).rss)}, heap used ${mb((end as Usage).heapUsed)}`,
    );
    console.log(
      `RSS fitted through the samples from the second tenth on: ${mb(from)} there, ${mb(line.at(hops))} at the end (${(100 * growth).toFixed(1)}%)`,
    );
    console.log(`memory flat over ${hops} hops (fitted RSS rises less than 10%): ${growth < 0.1 ? 'PASS' : 'FAIL'}`);
    if (opts.json) writeFileSync(opts.json, `${JSON.stringify({ command, hops, figures, samples, stats: s }, null, 2)}\n`);
  } finally {
    clearInterval(sampler);
    await child.stop();
    cleanUp();
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
  console.log(
    `  enqueue >= 150000 rows/s                 ${`${Math.round(f.enqueueRowsPerSec)} rows/s`.padStart(14)}  ${verdict(f.enqueueRowsPerSec >= 150_000)}`,
  );
  console.log(
    `  drain via the SDK >= 1000 messages/s     ${`${Math.round(f.drainPerSec)} msg/s`.padStart(14)}  ${verdict(f.drainPerSec >= 1000)}`,
  );
  console.log(
    `  memory while draining                    ${`${f.rssBeforeDrainMb.toFixed(0)} -> peak ${f.rssPeakDrainMb.toFixed(0)} MB`.padStart(14)}`,
  );
  return f;
}

/** Prints the top self time and the areas of CPU profiles, and returns their summary. */
function printProfile(what: string, files: string[]): ReturnType<typeof summarizeProfiles> {
  const p = summarizeProfiles(files);
  console.log(
    `\n${what} CPU profile (${files.length} file(s), ${(p.busyMs / 1000).toFixed(1)} s busy, ${(p.idleMs / 1000).toFixed(1)} s idle), top self time:`,
  );
  for (const t of p.top) console.log(`  ${(100 * t.share).toFixed(1).padStart(5)}%  ${t.selfMs.toFixed(0).padStart(6)} ms  ${t.where}`);
  console.log('by area:');
  for (const a of p.areas) console.log(`  ${(100 * a.share).toFixed(1).padStart(5)}%  ${a.selfMs.toFixed(0).padStart(6)} ms  ${a.area}`);
  return p;
}

/** The campaign budget: preview and enqueue of a campaign to N generated members under 3 s, memory bounded. */
async function campaignSection(): Promise<CampaignBenchFigures | undefined> {
  const n = Number(flags.campaign);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  console.log(
    `\ncampaign bench: preview and send to ${n} members (--campaign N to change, --campaign 0 to skip; --only campaign for this section alone)`,
  );
  const profileDir = opts.profileDir ? join(opts.profileDir, `campaign-${Date.now()}`) : undefined;
  const f = await benchCampaign(n, (line) => console.log(`  ${line}`), profileDir);
  const s = (v: number) => `${(v / 1000).toFixed(2)} s`;
  console.log(
    `  preview: ${f.messages} messages, ${f.segments} segments in ${s(f.previewMs)}; enqueue (outbox and recipients written) in ${s(f.enqueueMs)}`,
  );
  console.log(
    `  CPU time of both: ${s(f.cpuMs)} (wall ${s(f.totalMs)}; load average now ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores)`,
  );
  console.log(
    `  memory: RSS ${f.rssStartMb.toFixed(0)} MB at start, ${f.rssAfterFirstChunksMb.toFixed(0)} MB after the first chunks, ` +
      `${f.rssAfterLastChunkMb.toFixed(0)} MB after the last; peak ${f.rssPeakMb.toFixed(0)} MB`,
  );
  const bounded = f.rssAfterLastChunkMb <= f.rssAfterFirstChunksMb * 1.25;
  console.log('budget (design.md, Performance budgets), campaign:');
  console.log(`  preview + enqueue < 3 s                  ${s(f.totalMs).padStart(14)}  ${f.totalMs < 3000 ? 'PASS' : 'FAIL'}`);
  console.log(
    `  memory bounded (flat over the chunks)    ${`${f.rssAfterFirstChunksMb.toFixed(0)} -> ${f.rssAfterLastChunkMb.toFixed(0)} MB`.padStart(14)}  ${bounded ? 'PASS' : 'FAIL'}`,
  );
  if (profileDir) {
    // The main thread's profile is the largest (tsx's loader thread writes one too).
    const files = readdirSync(profileDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(profileDir, f));
    printProfile('campaign child', files.sort((a, b) => statSync(b).size - statSync(a).size).slice(0, 1));
  }
  console.log(`  reproduce: ${command}`);
  return f;
}

/** The office budget: the figures of a year for N generated households under 1 s (median of 5 runs). */
function kpiSection(): KpiBenchFigures | undefined {
  const n = Number(flags.kpi);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  console.log(
    `\nkpi bench: the office figures for ${n} households (--kpi N to change, --kpi 0 to skip; --only kpi for this section alone)`,
  );
  const f = benchKpi(n, 5, (line) => console.log(`  ${line}`));
  const s = (v: number) => `${(v / 1000).toFixed(2)} s`;
  console.log(
    `  median: wall ${s(f.medianMs)}, CPU ${s(f.medianCpuMs)} (load average now ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores)`,
  );
  console.log('budget (design.md, Performance budgets), office:');
  console.log(`  KPI figures for ${n} households < 0.5 s ${`${s(f.medianMs)} median`.padStart(14)}  ${f.medianMs < 500 ? 'PASS' : 'FAIL'}`);
  console.log(`  reproduce: ${command}`);
  return f;
}

/** The office budget: importing N members (households, with their beneficiaries) from CSV under 5 s. */
async function importSection(): Promise<ImportBenchFigures | undefined> {
  const n = Number(flags.import);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  console.log(
    `\nimport bench: ${n} households from CSV, checked then imported (--import N to change, --import 0 to skip; --only import for this section alone)`,
  );
  const f = await benchImport(n, (line) => console.log(`  ${line}`));
  const s = (v: number) => `${(v / 1000).toFixed(2)} s`;
  console.log(
    `  ${f.lines} lines: check ${s(f.checkMs)}, import (the checked households written in one transaction) ${s(f.importMs)}; RSS peak ${f.rssPeakMb.toFixed(0)} MB`,
  );
  console.log(
    `  CPU time of both: ${s(f.cpuMs)} (wall ${s(f.totalMs)}; load average now ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores)`,
  );
  console.log('budget (design.md, Performance budgets), office:');
  console.log(`  import of ${n} members < 5 s            ${s(f.totalMs).padStart(14)}  ${f.totalMs < 5_000 ? 'PASS' : 'FAIL'}`);
  console.log(`  reproduce: ${command}`);
  return f;
}

/** The voice budget: a voice step at most twice a USSD hop's CPU, and a screen's audio served from the cache without re-rendering. */
async function voiceSection(): Promise<VoiceBenchFigures | undefined> {
  const n = Number(flags.voice);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  console.log(
    `\nvoice bench: ${n} USSD hops and ${n} voice steps per round, 3 rounds, in one process (--voice N to change, --voice 0 to skip; --only voice for this section alone)`,
  );
  const f = await benchVoice(n, 3, (line) => console.log(`  ${line}`));
  const ms = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(v < 1 ? 3 : 1)} ms`);
  console.log(
    `  median: USSD ${f.ussdUsPerHop.toFixed(1)} µs CPU per hop, voice ${f.voiceUsPerStep.toFixed(1)} µs CPU per step (${f.ratio.toFixed(2)}x)`,
  );
  if (f.synthesizer)
    console.log(
      `  the quote's audio (${f.audioBytes} bytes): miss with no fragment made ${ms(f.coldMissMs)} (eSpeak NG), miss with fragments in memory ${ms(f.warmMissMs)} (mean of 20), hit ${ms(f.hitMs)} (mean of 200), each until the bytes are read`,
    );
  else console.log('  no speech synthesiser found: audio render not measured');
  console.log('budget (design.md, Performance budgets), voice:');
  console.log(`  voice step <= 2x USSD hop (CPU)        ${`${f.ratio.toFixed(2)}x`.padStart(14)}  ${f.ratio <= 2 ? 'PASS' : 'FAIL'}`);
  if (f.hitMs !== null && f.warmMissMs !== null)
    console.log(`  audio hit served without re-render     ${ms(f.hitMs).padStart(14)}  ${f.hitMs < f.warmMissMs ? 'PASS' : 'FAIL'}`);
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
