import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { interactive, sabatili, spawnSabatili } from '../support/cli.ts';

/**
 * `sabatili simulate …` as a tester runs it, through the command parser. `stdin` is typed at once,
 * or line by line, each once the output shows `after` and the gateway's clock has moved `laterMs`
 * (a person answering slowly, past the gateway's idle limit, without the test waiting for it).
 */
async function simulate(
  args: string[],
  stdin: string | Array<{ after: string; laterMs: number; line: string }> = '',
): Promise<{ code: number | null; out: string; err: string }> {
  if (typeof stdin === 'string') {
    const r = await sabatili(['simulate', ...args], { stdin });
    return { code: r.code, out: r.stdout, err: r.stderr };
  }
  let now = Date.now();
  const phone = interactive(['simulate', ...args], {}, () => now);
  for (const { after, laterMs, line } of stdin) {
    await phone.output.stdout.shows(after);
    now += laterMs;
    phone.stdin.write(`${line}\n`);
  }
  phone.end();
  const r = await phone.done;
  return { code: r.code, out: r.stdout, err: r.stderr };
}

const FAST_LOOPS = { SMS_POLL_MS: '20', SIMULATOR_DELIVERY_DELAY_MS: '20' };

describe('the terminal phone', () => {
  let app: TestApp;
  let broken: Server;
  let brokenUrl = '';
  beforeAll(async () => {
    app = await startTestApp({ env: FAST_LOOPS });
    // Receipts need the operator's callback and the SMS dispatcher, as in the running server.
    app.services.dispatcher.start();
    app.services.orange.start();
    // An application that breaks the protocol: a 500 on /500, a body without CON/END elsewhere.
    broken = createServer((req, res) => {
      if (req.url === '/500') res.writeHead(500).end('boom');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('Hello');
    });
    await new Promise<void>((r) => broken.listen(0, '127.0.0.1', () => r()));
    const a = broken.address();
    brokenUrl = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  afterAll(async () => {
    await app.close();
    await new Promise<void>((r) => broken.close(() => r()));
  });

  // First: +22376000001 has no session cut off yet, so no resume offer comes before the menu.
  it('plays a golden transcript against a URL and reports the differences', async () => {
    const ok = await simulate(['--url', `${app.url}/ussd`, '--script', 'fixtures/transcripts/main/fr.menu.yaml']);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain('every screen as expected');
    const wrong = await simulate(['--url', `${brokenUrl}/ussd`, '--script', 'fixtures/transcripts/main/fr.menu.yaml']);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain('screen differs');
  });

  it('plays a transcript that answers the PIN prompt and checks the SMS that follow, through the simulator API', async () => {
    // A fresh app with the server's loops on: the operator's callback and the SMS dispatcher run as in production
    // (polling and the handset's delivery every 20 ms instead of 1 s and 500 ms: the SMS arrive sooner).
    const fresh = await startTestApp({ env: FAST_LOOPS });
    fresh.services.dispatcher.start();
    fresh.services.orange.start();
    const dir = mkdtempSync(join(tmpdir(), 'sabatili-script-'));
    try {
      const ok = await simulate([
        '--url',
        `${fresh.url}/ussd`,
        '--script',
        'fixtures/transcripts/contribute/fr.refused.yaml',
        '--sms-wait',
        '5',
      ]);
      expect(ok.code, ok.err).toBe(0);
      expect(ok.out).toContain('every screen as expected, every SMS too');

      // Aminata's wallet cannot pay 2 100 FCFA: the notice arrives, and a transcript expecting another text fails.
      const wrong = readFileSync('fixtures/transcripts/contribute/fr.insufficient.yaml', 'utf8').replace(
        'Il faut 2 100 FCFA',
        'Il faut 2 200 FCFA',
      );
      writeFileSync(join(dir, 'wrong.yaml'), wrong);
      const bad = await simulate(['--url', `${fresh.url}/ussd`, '--script', join(dir, 'wrong.yaml'), '--sms-wait', '5']);
      expect(bad.code).toBe(1);
      expect(bad.err).toContain('SMS differ (an SMS different');
      expect(bad.err).toContain('+ 2 000 FCFA non effectué: solde Orange Money insuffisant. Il faut 2 100 FCFA');
    } finally {
      await fresh.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('plays answers non-interactively and prints every screen framed, with its length', async () => {
    const r = await simulate(['--url', `${app.url}/ussd`, '--phone', '+22376000001', '--input', '1*1', '--sms-wait', '0']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('│ Kénéya Sabatili          │');
    expect(r.out).toContain('> 1');
    expect(r.out).toContain('│ Bénéficiaires (5):       │');
    expect(r.out).toMatch(/155 chars/);
  });

  it('is driven by lines typed on standard input, and hangs up on an empty line', async () => {
    const r = await simulate(['--url', `${app.url}/ussd`, '--phone', '+22376000003', '--sms-wait', '0'], '3\n\n');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('N ka saraliw (2):');
    expect(r.out).toContain('Hung up.');
  });

  it('without --phone, asks which phone: a demo phone by its place in the list, or any number', async () => {
    const r = await simulate(['--url', `${app.url}/ussd`, '--sms-wait', '0'], '9\nabc\n4\n\n');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('  3  +22376000003  Bakary Diarra (bambara)');
    expect(r.out).toContain('  5  +22377000001  Agent Mariam Diarra, CSCom de Kléla (français)');
    expect(r.out).toContain('"9" is neither 1 to 7 nor a number in international form.');
    expect(r.out).toContain('"abc" is neither 1 to 7');
    expect(r.out).toContain('Dialling *384*123# from +22366000004');
    expect(r.out).toContain('│ 1 Ma couverture          │');
  });

  it('answers the operator PIN prompt (--pin) and shows the receipt SMS that follows', async () => {
    // A fresh app: earlier tests here left +22376000003 with a cut session, which would be offered back first.
    const fresh = await startTestApp({ env: FAST_LOOPS });
    fresh.services.dispatcher.start();
    fresh.services.orange.start();
    const r = await simulate([
      '--url',
      `${fresh.url}/ussd`,
      '--phone',
      '+22376000003',
      '--input',
      '2*1*1',
      '--pin',
      '1234',
      '--sms-wait',
      '10',
    ]).finally(() => fresh.close());
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('(end-of-session notification Success → 200)');
    expect(r.out).toContain('┌ Orange Money ─ pay 2000 FCFA to UTM, fee 100, total 2100 FCFA');
    expect(r.out).toContain('└ paid; balance 17900 FCFA');
    expect(r.out).toContain('✉ SMS from UTM: Seereyasèbèn:\n2 000 FCFA sòròla (musaka 100 FCFA) Bakary D. ye.');
  });

  it('asks for the PIN interactively; an empty line refuses the payment', async () => {
    const r = await simulate(['--url', `${app.url}/ussd`, '--phone', '+22376000002', '--sms-wait', '0'], '2\n1\n1\n\n');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('┌ Orange Money ─ pay 2000 FCFA to UTM');
    expect(r.out).toContain('PIN (empty line to refuse): └ not paid (REFUSED); balance 500 FCFA');
  });

  it('closes a session left idle past --idle-seconds, as the gateway does, and tells the application', async () => {
    const r = await simulate(
      ['--url', `${app.url}/ussd`, '--phone', '+22366000004', '--idle-seconds', '1', '--sms-wait', '0'],
      [{ after: '> ', laterMs: 1500, line: '1' }],
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('! the gateway closed the session: no answer for 1 s');
    expect(r.out).toContain('(end-of-session notification Incomplete → 200)');
    const row = app.services.db
      .prepare("SELECT status, error_message AS error FROM ussd_session_events WHERE phone = '+22366000004' ORDER BY rowid DESC")
      .get();
    expect(row).toEqual({ status: 'Incomplete', error: 'no answer for 1 s' });
  });

  it('exits non-zero with a network error when the application answers 500 or without CON/END (the real binary)', async () => {
    const r = await spawnSabatili(['simulate', '--url', `${brokenUrl}/500`, '--input', '1']);
    const five = { code: r.code, err: r.stderr };
    expect(five.code).toBe(1);
    expect(five.err).toContain('network error: the application answered HTTP 500');
    const bare = await simulate(['--url', `${brokenUrl}/ussd`, '--input', '1']);
    expect(bare.code).toBe(1);
    expect(bare.err).toContain('does not start with "CON " or "END "');
  });
});
