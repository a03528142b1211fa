/**
 * End to end: `sabatili campaign …` (through the command parser, with its own connection; the real
 * binary for the send paused from the office mid-way) on the database of a running app, whose
 * dispatcher sends what the CLI wrote. The CLI runs on the system clock, so the app is
 * seeded and runs at the real time too (the demo phones then show the situation of design.md).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Preview, Results } from '../../src/campaigns/campaigns.ts';
import { HELD_MS } from '../../src/sms/outbox.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { sabatili, spawnSabatili } from '../support/cli.ts';

const TOKEN = 'campaign-cli-admin-token';
let app: TestApp;
/** These tests run on the wall clock: sending hours all day, so that a run at night sends too (hours: campaign-hours.test.ts). */
const ALL_DAY = { REMINDER_START_HOUR: '0', REMINDER_END_HOUR: '24' };

beforeAll(async () => {
  app = await startTestApp({
    clock: new Date().toISOString(),
    env: { ADMIN_TOKEN: TOKEN, SMS_POLL_MS: '20', SIMULATOR_DELIVERY_DELAY_MS: '20', ...ALL_DAY },
  });
  app.services.dispatcher.start();
});
afterAll(() => app.close());

const cli = (...args: string[]) => sabatili(['campaign', ...args], { env: { DATABASE_PATH: app.dbPath, ...ALL_DAY } });

const FR = 'Kénéya Sabatili: {prenom}, payez {montant_du} pour reprendre la couverture ({mutuelle}). {code_ussd}';
const BM = 'Kénéya Sabatili: {prenom}, i ka {montant_du} sara. {code_ussd}';

describe('sabatili campaign, beside the running server', () => {
  it('creates, previews and sends a campaign to lapsed members; the server delivers it; status reports it', async () => {
    const created = await cli(
      'create',
      '--name',
      'Relance',
      '--status',
      'lapsed',
      '--district',
      'Sikasso',
      '--message-fr',
      FR,
      '--message-bm',
      BM,
    );
    expect(created.code).toBe(0);
    const id = Number(/^Campaign (\d+) "Relance": draft/.exec(created.stdout)?.[1]);
    expect(id).toBeGreaterThan(0);

    const preview = await cli('preview', String(id), '--json');
    const p = JSON.parse(preview.stdout) as Preview;
    expect(p.audience).toBe(1);
    const text = 'Kénéya Sabatili: Aminata, payez\n500 FCFA pour reprendre la couverture (Mutuelle Sabatili de Niéna). *384*123#';
    expect(p.samples).toEqual([{ phone: '+22376000002', language: 'fr', text, characters: text.length, segments: 1 }]);
    const readable = await cli('preview', String(id));
    expect(readable.stdout).toContain('1 members in the audience, 1 messages (1 segments), estimated cost 20 FCFA');
    expect(readable.stdout).toContain(`sample to +22376000002 (fr, ${text.length} chars, 1 segment): ${text}`);

    const sent = await cli('send', String(id));
    expect(sent.code).toBe(0);
    // Not a terminal: plain progress lines instead of a bar.
    expect(sent.stdout).toMatch(/^campaign \d+: 2\/2 households$/m);
    expect(sent.stdout).toContain("The server's dispatcher sends them.");
    const twice = await cli('send', String(id));
    expect(twice).toMatchObject({
      code: 2,
      stderr: `campaign ${id} was already sent (it is sending): a campaign is sent once; create a new one to send again\n`,
    });

    // The app's clock is frozen at its start: bring it to the time the CLI wrote the messages for.
    app.clock.set(new Date());
    for (
      const end = Date.now() + 8000;
      app.services.campaigns.results(id).counts.delivered < 1;
      await new Promise((r) => setTimeout(r, 25))
    ) {
      if (Date.now() > end) throw new Error('the campaign was not delivered');
    }
    const delivered = JSON.parse((await cli('status', String(id), '--json')).stdout) as Results;
    expect(delivered.counts).toMatchObject({ audience: 1, queued: 1, sent: 1, delivered: 1 });
    expect(delivered.campaign.state).toBe('done');
    const inbox = (await (await fetch(`${app.url}/simulator/api/sms?phone=%2B22376000002`)).json()) as Array<{ text: string }>;
    expect(inbox.map((m) => m.text)).toContain(text);
    const status = await cli('status', String(id));
    expect(status.stdout).toContain('messages: 1 queued, 0 waiting, 1 sent, 1 delivered, 0 failed, 0 expired');
    expect(status.stdout).toContain('conversions (paid within 14 days): reached 0/1 (0.0%)');
  }, 120_000);

  it('pauses, resumes and cancels a scheduled campaign from the command line', async () => {
    const at = new Date(Date.now() + 3600_000).toISOString();
    const created = await cli(
      'create',
      '--name',
      'Plus tard',
      '--message-fr',
      'Bonjour {prenom}',
      '--fallback',
      'fr',
      '--send-at',
      at,
      '--rate',
      '30',
      '--control-share',
      '0.25',
    );
    const id = Number(/^Campaign (\d+)/.exec(created.stdout)?.[1]);
    expect((await cli('send', String(id))).stdout).toMatch(/^Campaign \d+ "Plus tard": scheduled$/m);
    expect((await cli('pause', String(id))).stdout).toMatch(/: paused$/m);
    expect((await cli('resume', String(id))).stdout).toMatch(/: scheduled$/m);
    const cancelled = await cli('cancel', String(id));
    expect(cancelled.stdout).toMatch(/: cancelled\n[\s\S]*\d+ messages not sent were expired\./);
    expect(await cli('resume', String(id))).toMatchObject({
      code: 2,
      stderr: `campaign ${id} is cancelled: only a paused campaign can be resumed\n`,
    });
    const list = await cli('status');
    expect(list.stdout).toMatch(new RegExp(`Campaign ${id} "Plus tard": cancelled`));
  }, 120_000);

  it('a pause through the API stops a send the CLI is writing, at its next chunk; resume finishes it', async () => {
    const db = app.services.db;
    const insert = db.prepare(
      `INSERT INTO households (card_number, adherent_name, phone, language, mutuelle_id, joined_on, created_at, updated_at)
       VALUES (?, ?, ?, 'fr', 'kou-zangasso', '2025-01-01', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')`,
    );
    db.transaction(() => {
      for (let i = 0; i < 40_000; i++) insert.run(`BULK-${i}`, `Awa${i} Keita`, `+22379${String(i).padStart(6, '0')}`);
    })();
    const c = app.services.campaigns.create({
      name: 'Zangasso',
      audience: { mutuelles: ['kou-zangasso'] },
      messages: { fr: 'Bonjour {prenom}' },
      fallbackLanguage: 'fr',
    });
    // The real binary: a process of its own writes while this one answers the office's pause.
    const sending = spawnSabatili(['campaign', 'send', String(c.id)], { env: { DATABASE_PATH: app.dbPath, ...ALL_DAY } });
    // As soon as the CLI has written its first chunk, the office pauses the campaign.
    for (
      const end = Date.now() + 30_000;
      app.services.campaigns.get(c.id).progress.scanned === 0;
      await new Promise((r) => setTimeout(r, 10))
    ) {
      if (Date.now() > end) throw new Error('the CLI never started writing');
    }
    const paused = await fetch(`${app.url}/admin/api/campaigns/${c.id}/pause`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(paused.status).toBe(200);
    const out = await sending;
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('Stopped: the campaign was paused while its messages were being written.');
    const written = app.services.campaigns.get(c.id).progress;
    expect(written.enqueueDone).toBe(false);
    expect(written.queued).toBeLessThan(40_000);
    const held = db.prepare(`SELECT COUNT(*) FROM sms_outbox WHERE campaign_id = ? AND next_attempt_ms = ?`).pluck().get(c.id, HELD_MS);
    expect(held).toBe(written.queued);

    const resumed = await cli('resume', String(c.id));
    expect(resumed.stdout).toMatch(
      /: sending\n[\s\S]*written: 40000 queued, 0 control, 0 opted out, 0 refused \(40000 households scanned\)/,
    );
    expect(db.prepare(`SELECT COUNT(DISTINCT recipient) FROM sms_outbox WHERE campaign_id = ?`).pluck().get(c.id)).toBe(40_000);
  }, 120_000);

  it('refuses bad input with a clear message and exit code 2', async () => {
    const csv = join(app.dbPath, '..', 'phones.csv');
    writeFileSync(csv, 'phone,name\n+22376000001,Moussa\n12345,Typo\n+22376000002,Aminata\n+22320212345,Fixed\n');
    const bad = await cli('create', '--name', 'List', '--phones-csv', csv, '--message-fr', 'Bonjour', '--fallback', 'fr');
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')).toEqual([
      'phonesCsv: 2 bad lines; nothing was created',
      expect.stringMatching(/^ {2}line 3: "12345": recipient "12345" is not an E\.164 number/),
      expect.stringMatching(/^ {2}line 5: "\+22320212345": .*not a mobile number/),
      '',
    ]);
    const placeholder = await cli('create', '--name', 'x', '--message-fr', 'Bonjour {nom}', '--fallback', 'fr');
    expect(placeholder).toMatchObject({
      code: 2,
      stderr:
        'messages.fr: unknown placeholder {nom}; the valid ones are {prenom}, {mutuelle}, {montant_du}, {couvert_jusqu_au}, {code_ussd}\n',
    });
    const noBm = await cli('create', '--name', 'x', '--message-fr', 'Bonjour');
    expect(noBm.stderr).toMatch(/^messages\.bm: no message for members speaking bm; .*--fallback fr/);
    const past = await cli('create', '--name', 'x', '--message-fr', 'a', '--message-bm', 'b', '--send-at', '2020-01-01T08:00');
    expect(past.stderr).toMatch(/^sendAt: 2020-01-01T08:00:00\.000Z is in the past/);
    const empty = await cli('create', '--name', 'x', '--district', 'Kayes', '--message-fr', 'a', '--message-bm', 'b');
    const emptyId = /^Campaign (\d+)/.exec(empty.stdout)?.[1] as string;
    expect((await cli('preview', emptyId)).stdout).toContain(
      'warning: the audience is empty: no member matches these filters, nothing would be sent',
    );
    expect(await cli('send', emptyId)).toMatchObject({
      code: 2,
      stderr: 'the audience is empty: no member matches these filters; nothing was sent\n',
    });
  }, 120_000);
});
