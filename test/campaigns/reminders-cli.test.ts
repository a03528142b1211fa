/**
 * End to end: `sabatili reminders run` (through the command parser, with its own connection; once
 * as the real binary) writes the reminders to the database of a running app, whose dispatcher sends them to the simulated phones; and the server
 * runs the job on its own schedule. Demo network seeded on 2026-03-10: Bakary (+22376000003,
 * Bambara) and Hawa (+22366000004) are covered through 31/03/2026, Moussa (+22376000001, French)
 * through 30/04/2026.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startServer } from '../../src/server.ts';
import type { SimulatedSms } from '../../src/simulator/sms.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { sabatili, spawnSabatili } from '../support/cli.ts';
import { ManualTimers } from '../support/timers.ts';

const MOUSSA = '+22376000001';
const BAKARY = '+22376000003';
const HAWA = '+22366000004';

const MOUSSA_FR =
  'Kénéya Sabatili: Moussa Traoré, la couverture de votre ménage se termine le 30/04/2026. Payez\n1 250 FCFA pour mai. Menu: *384*123#';
const BAKARY_BM =
  'Kénéya Sabatili hakilijigin: Bakary Diarra, i ka denbaya lakanali bè ban 31/03/2026.\n2 000 FCFA sara awirili kama. *384*123# wele';
const HAWA_FR =
  'Kénéya Sabatili: Hawa Konaté, la couverture de votre ménage se termine le 31/03/2026. Payez\n1 100 FCFA pour avril. Menu: *384*123#';
const BAKARY_LAST_DAY =
  'Kénéya Sabatili hakilijigin: Bakary Diarra, i ka denbaya lakanali bè ban bi. 2 000 FCFA sara awirili kama. *384*123# wele';

/** The one run of the real binary starts node and tsx: a few seconds when the whole suite runs in parallel. */
const CLI_TIMEOUT = 120_000;

async function inboxAt(url: string, phone: string): Promise<string[]> {
  const res = await fetch(`${url}/simulator/api/sms?phone=${encodeURIComponent(phone)}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as SimulatedSms[]).map((m) => m.text);
}

/** Polls a phone's inbox until it holds `count` messages (the dispatcher works on its own timer). */
async function waitForInbox(url: string, phone: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const texts = await inboxAt(url, phone);
    if (texts.length >= count || Date.now() > deadline) return texts;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('sabatili reminders run, beside the running server', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await startTestApp({ env: { SMS_POLL_MS: '20', SIMULATOR_DELIVERY_DELAY_MS: '600000' } });
    app.services.dispatcher.start();
  });
  afterEach(() => app.close());

  /** The command on the app's database; its exit code, standard output and error. */
  const cli = (...args: string[]) => sabatili(['reminders', 'run', ...args], { env: { DATABASE_PATH: app.dbPath } });
  const reminderRows = () => app.services.db.prepare(`SELECT COUNT(*) FROM sms_outbox WHERE kind = 'reminder'`).pluck().get();

  it(
    '7 days before the end: the CLI queues, the server sends, in French and in Bambara; a second run sends nothing more',
    async () => {
      // Bakary and Hawa: covered through 31/03.
      app.clock.set('2026-03-24T09:00:00Z');
      const first = await cli('--at', '2026-03-24');
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/^Reminders at 24\/03\/2026 08:00 \(Africa\/Bamako\), sending hours 08:00-20:00\./);
      expect(first.stdout).toMatch(
        new RegExp(`\\${BAKARY} +bm +before_end +31/03/2026 +queued +Kénéya Sabatili hakilijigin: Bakary Diarra`),
      );
      expect(first.stdout).toMatch(new RegExp(`\\${HAWA} +fr +before_end +31/03/2026 +queued +Kénéya Sabatili: Hawa Konaté`));
      expect(first.stdout).toContain("2 queued (the server's dispatcher sends them), 0 held, 0 cancelled, 0 skipped.");
      expect(await waitForInbox(app.url, BAKARY, 1)).toEqual([BAKARY_BM]);
      expect(await waitForInbox(app.url, HAWA, 1)).toEqual([HAWA_FR]);

      const second = await cli('--at', '2026-03-24');
      expect(second.stdout).toContain('No reminder is due.');
      expect(second.stdout).toContain('0 queued');

      // Moussa: covered through 30/04.
      app.clock.set('2026-04-23T09:00:00Z');
      // The table shows each text on its one line; the outbox breaks it before an amount a handset would cut.
      const moussa = await cli('--at', '2026-04-23');
      expect(moussa.stdout).toMatch(
        new RegExp(
          `\\${MOUSSA} +fr +before_end +30/04/2026 +queued +${MOUSSA_FR.replace('\n', ' ').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`,
        ),
      );
      expect(await waitForInbox(app.url, MOUSSA, 1)).toEqual([MOUSSA_FR]);
      expect((await cli('--at', '2026-04-23')).stdout).toContain('No reminder is due.');

      // Nothing else is due: a full pass of the dispatcher sends nothing more.
      await app.services.dispatcher.stop();
      expect((await app.services.dispatcher.drain()).sent).toBe(0);
      expect(await inboxAt(app.url, MOUSSA)).toEqual([MOUSSA_FR]);
      expect(await inboxAt(app.url, BAKARY)).toEqual([BAKARY_BM]);
      expect(await inboxAt(app.url, HAWA)).toEqual([HAWA_FR]);
      expect(reminderRows()).toBe(3);
    },
    CLI_TIMEOUT,
  );

  it(
    '--dry-run prints who would get what and changes nothing',
    async () => {
      const r = await cli('--at', '2026-03-24', '--dry-run');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/PHONE +LANG +RULE +PERIOD +OUTCOME +TEXT/);
      expect(r.stdout).toMatch(new RegExp(`\\${BAKARY} +bm +before_end +31/03/2026 +queued +Kénéya Sabatili hakilijigin`));
      expect(r.stdout).toContain('Dry run, nothing written: 2 would be queued, 0 held, 0 cancelled, 0 skipped.');
      expect(reminderRows()).toBe(0);
      expect(app.services.db.prepare('SELECT COUNT(*) FROM reminder_sends').pluck().get()).toBe(0);
    },
    CLI_TIMEOUT,
  );

  it(
    'at night, the CLI holds them until 08:00',
    async () => {
      const r = await cli('--at', '2026-03-24T21:00:00Z');
      expect(r.stdout).toContain('sending hours 08:00-20:00: outside them, due reminders are held.');
      expect(r.stdout).toMatch(new RegExp(`\\${HAWA} +fr +before_end +31/03/2026 +held until 25/03/2026 08:00`));
      expect(reminderRows()).toBe(0);
      expect((await cli('--at', '2026-03-25T08:00:00Z')).stdout).toMatch(
        new RegExp(`\\${HAWA} +fr +before_end +31/03/2026 +queued \\(was held\\)`),
      );
      expect(reminderRows()).toBe(2);
    },
    CLI_TIMEOUT,
  );

  it(
    '--at that is not a date: a clear message, exit code 2, nothing written',
    async () => {
      for (const bad of ['tomorrow', '2026-02-30', '2026-03-24 09:00']) {
        const r = await cli('--at', bad);
        expect(r.code, bad).toBe(2);
        expect(r.stderr).toContain(`--at: ${JSON.stringify(bad)} is not a date; give YYYY-MM-DD`);
        expect(r.stderr).not.toContain('    at ');
      }
      const binary = await spawnSabatili(['reminders', 'run', '--at', 'tomorrow'], { env: { DATABASE_PATH: app.dbPath } });
      expect(binary.code).toBe(2);
      expect(binary.stderr).toBe(
        '--at: "tomorrow" is not a date; give YYYY-MM-DD (when that day\'s sending hours open) or an ISO date-time such as 2026-04-23T09:00:00Z\n',
      );
      expect(app.services.db.prepare('SELECT COUNT(*) FROM reminder_sends').pluck().get()).toBe(0);
    },
    CLI_TIMEOUT,
  );
});

describe('the server runs the reminders on its own schedule', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('at start and then every REMINDERS_INTERVAL_SECONDS, with no command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sabatili-reminders-'));
    dirs.push(dir);
    // First start on 24/03: the demo network is seeded that day, so Bakary is covered through 31/03.
    const clock = new ManualClock('2026-03-24T09:00:00Z');
    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_PATH: join(dir, 'server.db'),
      LOG_LEVEL: 'silent',
      SMS_POLL_MS: '20',
      SIMULATOR_DELIVERY_DELAY_MS: '600000',
      REMINDERS_INTERVAL_SECONDS: '1',
    });
    const timers = new ManualTimers();
    const running = await startServer(config, clock, createLogger('silent'), timers);
    const inboxHolds = (n: number) => async () => (await inboxAt(running.url, BAKARY)).length >= n;
    try {
      await timers.until(inboxHolds(1));
      expect(await inboxAt(running.url, BAKARY)).toEqual([BAKARY_BM]);
      clock.set('2026-03-31T09:00:00Z');
      await timers.until(inboxHolds(2));
      expect(await inboxAt(running.url, BAKARY)).toEqual([BAKARY_BM, BAKARY_LAST_DAY]);
      // Further runs of the job, the same day: nothing more is queued, so nothing more is sent.
      await timers.advance(1200);
      await running.services.reminderScheduler.stop();
      await running.services.dispatcher.stop();
      expect((await running.services.dispatcher.drain()).sent).toBe(0);
      expect(await inboxAt(running.url, BAKARY)).toHaveLength(2);
    } finally {
      await running.close();
    }
  });
});
