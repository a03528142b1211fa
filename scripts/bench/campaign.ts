/**
 * The campaign budget of issue 16 (design.md said 5 s): "Campaign to 200,000 members: preview and
 * enqueue together under 3 s, memory bounded."
 *
 * This process generates the members in a temp SQLite file (bulk inserts in one transaction; not
 * measured); a fresh child process (campaign-child.ts) then opens it as `sabatili campaign` would,
 * previews and sends a campaign to every member, with a message in each language that needs the
 * coverage of each household ({montant_du}, {couvert_jusqu_au}): the realistic worst case. The
 * child reports the times and its peak RSS (getrusage's maxrss, which sees the peak inside
 * synchronous work), and its RSS after each enqueue chunk, to show it does not grow with the audience.
 */

import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../../src/clock.ts';
import { openDatabase } from '../../src/db/connection.ts';
import { createHouseholdStore } from '../../src/db/households.ts';
import { seedDemo } from '../../src/db/seed.ts';

export interface CampaignBenchFigures {
  members: number;
  generateMs: number;
  previewMs: number;
  enqueueMs: number;
  totalMs: number;
  cpuMs: number;
  messages: number;
  segments: number;
  rssStartMb: number;
  rssPeakMb: number;
  /** RSS after the first enqueue chunks and after the last: flat when the enqueue streams. */
  rssAfterFirstChunksMb: number;
  rssAfterLastChunkMb: number;
}

export interface ChildResult {
  previewMs: number;
  enqueueMs: number;
  /** CPU time of the child over both (user + system): below the wall time when the machine is busy. */
  cpuMs: number;
  messages: number;
  segments: number;
  queued: number;
  rssStart: number;
  maxRss: number;
  rssByChunk: number[];
}

/**
 * Members' phones in no order of their households (i × PHONE_STRIDE mod 10^6, distinct for the first
 * million), as a real register has them: what a phone's index costs depends on it.
 */
export const PHONE_STRIDE = 7919;

/** Members spread over the demo's seven mutuelles, a third in Bambara, with 1–6 beneficiaries and 0–4 payments. */
export function generate(path: string, n: number): void {
  const db = openDatabase(path);
  seedDemo(db, new ManualClock('2026-03-10T09:00:00Z'));
  const mutuelles = db.prepare('SELECT id FROM mutuelles ORDER BY id').pluck().all() as string[];
  const household = db.prepare(
    `INSERT INTO households (card_number, adherent_name, phone, language, mutuelle_id, joined_on, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, '2024-06-01', '2026-03-01T00:00:00Z', '2026-03-01T00:00:00Z')`,
  );
  const beneficiary = db.prepare('INSERT INTO beneficiaries (household_id, name, relation, subsidised) VALUES (?, ?, ?, ?)');
  const contribution = db.prepare(
    `INSERT INTO contributions (household_id, amount, channel, paid_on, paid_at, recorded_at) VALUES (?, ?, 'cash', ?, ?, ?)`,
  );
  const first = ['Awa', 'Moussa', 'Fatoumata', 'Bakary', 'Mariam', 'Seydou', 'Kadiatou', 'Oumar', 'Aminata', 'Drissa'];
  const last = ['Traoré', 'Coulibaly', 'Diarra', 'Keïta', 'Sangaré', 'Konaté', 'Dembélé', 'Sidibé'];
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const name = `${first[i % first.length]} ${last[(i >> 3) % last.length]}`;
      const id = Number(
        household.run(
          `BENCH-${i}`,
          name,
          `+22370${String((i * PHONE_STRIDE) % 1_000_000).padStart(6, '0')}`,
          i % 3 === 0 ? 'bm' : 'fr',
          mutuelles[i % mutuelles.length],
        ).lastInsertRowid,
      );
      const size = 1 + (i % 6);
      for (let b = 0; b < size; b++)
        beneficiary.run(
          id,
          b === 0 ? name : `${first[(i + b) % first.length]} ${last[(i >> 3) % last.length]}`,
          b === 0 ? 'adherent' : 'child',
          b >= 2 ? 1 : 0,
        );
      for (let p = 0; p < i % 5; p++) {
        const day = `2025-${String(4 + ((i + 3 * p) % 8)).padStart(2, '0')}-${String(1 + (i % 27)).padStart(2, '0')}`;
        contribution.run(id, 500 * (1 + ((i + p) % 6)), day, `${day}T09:00:00.000Z`, `${day}T09:00:00.000Z`);
      }
    }
  })();
  // Written past the household store: the coverage read model is built once at the end.
  createHouseholdStore(db).rebuildCoverage();
  db.close();
}

/** With `profileDir`, the measured child writes its `.cpuprofile` there (start-up included, generation excluded). */
export async function benchCampaign(n: number, log: (line: string) => void, profileDir?: string): Promise<CampaignBenchFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'sabatili-campaign-bench-'));
  try {
    const path = join(dir, 'campaign.db');
    const t0 = performance.now();
    generate(path, n);
    const generateMs = performance.now() - t0;
    log(`generated ${n} members (with beneficiaries and payments) in ${(generateMs / 1000).toFixed(1)} s (not measured)`);
    const child = fork(fileURLToPath(new URL('./campaign-child.ts', import.meta.url)), [], {
      execArgv: [...process.execArgv, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
      env: { ...process.env, BENCH_DB: path },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const r = await new Promise<ChildResult>((resolve, reject) => {
      child.once('message', (m) => resolve(m as ChildResult));
      child.once('exit', (code) => reject(new Error(`the campaign bench child exited with code ${code}`)));
    });
    // It exits once its result is sent, after writing its CPU profile if asked to.
    await exited;
    const mb = (b: number) => b / 1048576;
    const early = r.rssByChunk.slice(0, 5);
    return {
      members: n,
      generateMs,
      previewMs: r.previewMs,
      enqueueMs: r.enqueueMs,
      totalMs: r.previewMs + r.enqueueMs,
      cpuMs: r.cpuMs,
      messages: r.messages,
      segments: r.segments,
      rssStartMb: mb(r.rssStart),
      rssPeakMb: mb(r.maxRss),
      rssAfterFirstChunksMb: mb(Math.max(...early)),
      rssAfterLastChunkMb: mb(r.rssByChunk.at(-1) ?? 0),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
