/**
 * The office budget of design.md: "KPI pages for 200,000 households under 1 s".
 *
 * `generateKpiData` fills a fresh database with the demo network's products and mutuelles and `n`
 * generated households (bulk inserts in one transaction; not measured): 1–8 beneficiaries, a year
 * of contributions paid irregularly (each household has its own habit: monthly, every few months,
 * lapsing, never), the Orange Money payments behind them with some failures, SMS sent to a share of
 * the members, and USSD sessions with their gateway notifications. `benchKpi` then times
 * `computeKpis` over that year, the worst case of the office's pages (every table read whole), on
 * one connection as the server has it: the median of several runs, wall time and CPU time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.ts';
import { type Db, openDatabase } from '../../src/db/connection.ts';
import { createHouseholdStore } from '../../src/db/households.ts';
import { readDemoData, seedDemo } from '../../src/db/seed.ts';
import { addDays, fromDayNumber, toDayNumber } from '../../src/domain/dates.ts';
import { computeKpis } from '../../src/office/kpi.ts';

export const KPI_BENCH_TODAY = '2026-03-10';

/** A small deterministic generator (mulberry32): the same data on every run. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GeneratedCounts {
  households: number;
  beneficiaries: number;
  contributions: number;
  payments: number;
  sms: number;
  ussdSessions: number;
}

/** Households over the demo's mutuelles with a year of contributions up to `today`. */
export function generateKpiData(db: Db, n: number, today = KPI_BENCH_TODAY): GeneratedCounts {
  seedDemo(db, new ManualClock(`${today}T09:00:00Z`), { ...readDemoData(), households: [] });
  const mutuelles = db.prepare('SELECT id FROM mutuelles ORDER BY id').pluck().all() as string[];
  const rnd = random(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const household = db.prepare(
    `INSERT INTO households (id, card_number, adherent_name, phone, language, mutuelle_id, joined_on, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, '2024-06-01', '2024-06-01T00:00:00Z', '2024-06-01T00:00:00Z')`,
  );
  const beneficiary = db.prepare('INSERT INTO beneficiaries (household_id, name, relation, subsidised, active) VALUES (?, ?, ?, ?, ?)');
  const contribution = db.prepare(
    `INSERT INTO contributions (household_id, amount, fee, channel, operator_txn_id, paid_on, paid_at, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const payment = db.prepare(
    `INSERT INTO payments (reference, household_id, payer_msisdn, amount, fee, fee_bearer, total, fee_grid, status, failure_reason,
       operator_txn_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'member', ?, 'om-2025', ?, ?, ?, ?, ?)`,
  );
  const sms = db.prepare(
    `INSERT INTO sms_outbox (recipient, text, language, encoding, segments, kind, priority, status, attempts, next_attempt_ms,
       expires_ms, transport, provider_message_id, cost, created_ms, updated_ms)
     VALUES (?, 'Kénéya Sabatili', 'fr', 'GSM-7', 1, ?, 1, ?, 1, ?, ?, 'africastalking', ?, ?, ?, ?)`,
  );
  const session = db.prepare(
    `INSERT INTO ussd_sessions (session_id, phone, service_code, machine, version, snapshot, state, home, hops, last_text, last_reply,
       status, created_ms, updated_ms) VALUES (?, ?, '*384*123#', ?, 1, ?, ?, 'main', ?, '', '', ?, ?, ?)`,
  );
  const event = db.prepare(`INSERT INTO ussd_session_events (session_id, phone, status, hops_count, received_at) VALUES (?, ?, ?, ?, ?)`);
  const counts: GeneratedCounts = { households: n, beneficiaries: 0, contributions: 0, payments: 0, sms: 0, ussdSessions: 0 };
  const last = toDayNumber(today);
  const first = toDayNumber(addDays(today, -365));
  const iso = (day: number, seconds: number) => `${fromDayNumber(day)}T${new Date(seconds * 1000).toISOString().slice(11, 19)}.000Z`;
  const reasons = ['insufficient_funds', 'refused', 'expired'];
  const screens: Array<[string, string]> = [
    ['main', '"menu"'],
    ['coverage', '"summary"'],
    ['contribute', '"amount"'],
    ['contribute', '"quote"'],
    ['history', '"list"'],
  ];

  db.transaction(() => {
    for (let id = 1; id <= n; id++) {
      const phone = `+2237${String(id).padStart(7, '0')}`;
      household.run(id, `GEN-${id}`, `Membre ${id}`, phone, rnd() < 0.35 ? 'bm' : 'fr', pick(mutuelles));
      const size = 1 + Math.floor(rnd() * 8);
      let subsidised = 0;
      for (let b = 0; b < size; b++) {
        const sub = b > 0 && rnd() < 0.5 ? 1 : 0;
        subsidised += sub;
        beneficiary.run(id, `Bénéficiaire ${b}`, b === 0 ? 'adherent' : 'child', sub, rnd() < 0.95 ? 1 : 0);
      }
      counts.beneficiaries += size;
      const due = (size - subsidised) * 500 + subsidised * 250;
      // Habit: every `every` days on average, a few months' worth at a time; a fifth never pay in the year.
      const habit = rnd();
      if (habit >= 0.2) {
        const every = habit < 0.6 ? 30 : habit < 0.85 ? 60 : 120;
        for (let day = first + Math.floor(rnd() * every); day <= last; day += Math.max(1, Math.round(every * (0.6 + rnd() * 0.8)))) {
          const amount = Math.max(100, Math.round((due * (every / 30) * (0.7 + rnd() * 0.6)) / 25) * 25);
          const channel = rnd() < 0.6 ? 'orange_money' : rnd() < 0.75 ? 'cash' : 'agent';
          const at = iso(day, 25_200 + Math.floor(rnd() * 43_200));
          const txn = channel === 'orange_money' ? `GEN${id}-${day}` : null;
          const fee = channel === 'orange_money' ? 100 : 0;
          contribution.run(id, amount, fee, channel, txn, fromDayNumber(day), at, at);
          counts.contributions++;
          if (txn) {
            payment.run(`KS${id}-${day}`, id, phone, amount, fee, amount + fee, 'succeeded', null, txn, at, at);
            counts.payments++;
            if (rnd() < 0.15) {
              const reason = pick(reasons);
              payment.run(
                `KS${id}-${day}-f`,
                id,
                phone,
                amount,
                fee,
                amount + fee,
                reason === 'expired' ? 'expired' : 'failed',
                reason,
                null,
                at,
                at,
              );
              counts.payments++;
            }
          }
        }
      }
      if (rnd() < 0.3) {
        const ms = Date.parse(iso(first + Math.floor(rnd() * 365), 36_000));
        const status = rnd() < 0.8 ? 'delivered' : rnd() < 0.5 ? 'failed' : 'sent';
        sms.run(phone, pick(['transactional', 'reminder', 'campaign']), status, ms, ms + 86_400_000, `ATX${id}`, 'XOF 25.0000', ms, ms);
        counts.sms++;
      }
      if (rnd() < 0.25) {
        const ms = Date.parse(iso(first + Math.floor(rnd() * 365), 40_000));
        const [machine, value] = pick(screens);
        const ended = rnd() < 0.7;
        const sid = `gen-${id}`;
        session.run(
          sid,
          phone,
          machine,
          `{"value":${value}}`,
          JSON.parse(value) as string,
          1 + Math.floor(rnd() * 5),
          ended ? 'ended' : 'open',
          ms,
          ms + 30_000,
        );
        event.run(sid, phone, ended ? 'Success' : 'Incomplete', 3, new Date(ms + 60_000).toISOString());
        counts.ussdSessions++;
      }
    }
  })();
  // Written by bulk inserts, past the household store: the coverage read model is built once at the end.
  createHouseholdStore(db).rebuildCoverage();
  db.pragma('wal_checkpoint(TRUNCATE)');
  return counts;
}

export interface KpiBenchFigures {
  generated: GeneratedCounts;
  generateMs: number;
  /** Wall time of each computeKpis call, and the CPU time of this process during it. */
  runsMs: number[];
  cpuMs: number[];
  medianMs: number;
  medianCpuMs: number;
  coveredPersons: number;
}

/** Generates `n` households in a temp database and times computeKpis over the past year. */
export function benchKpi(n: number, runs: number, log: (line: string) => void): KpiBenchFigures {
  const dir = mkdtempSync(join(tmpdir(), 'sabatili-kpi-bench-'));
  try {
    const path = join(dir, 'kpi.db');
    const t0 = performance.now();
    const gen = openDatabase(path);
    const generated = generateKpiData(gen, n);
    gen.close();
    const generateMs = performance.now() - t0;
    log(
      `generated in ${(generateMs / 1000).toFixed(1)} s: ${generated.households} households, ${generated.beneficiaries} beneficiaries, ` +
        `${generated.contributions} contributions, ${generated.payments} payments, ${generated.sms} SMS, ${generated.ussdSessions} USSD sessions`,
    );
    const db = openDatabase(path);
    const range = { from: addDays(KPI_BENCH_TODAY, -364), to: KPI_BENCH_TODAY, today: KPI_BENCH_TODAY };
    const runsMs: number[] = [];
    const cpuMs: number[] = [];
    let coveredPersons = 0;
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      const cpu = process.cpuUsage();
      coveredPersons = computeKpis(db, range).totals.penetration.coveredPersons;
      const used = process.cpuUsage(cpu);
      runsMs.push(performance.now() - t);
      cpuMs.push((used.user + used.system) / 1000);
    }
    db.close();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const f = { generated, generateMs, runsMs, cpuMs, medianMs: median(runsMs), medianCpuMs: median(cpuMs), coveredPersons };
    log(
      `computeKpis ${range.from} to ${range.to} (a year, 12 trend points), ${runs} runs: wall ${runsMs.map((v) => v.toFixed(0)).join(', ')} ms, ` +
        `CPU ${cpuMs.map((v) => v.toFixed(0)).join(', ')} ms; ${coveredPersons} persons covered today`,
    );
    return f;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
