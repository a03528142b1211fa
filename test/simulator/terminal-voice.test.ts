/**
 * `sabatili simulate --voice` as a tester runs it, lines piped on standard input: the captions of
 * the prompts, keys typed, the PIN prompt and the receipt; in missed-call mode, the call-back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { sabatili } from '../support/cli.ts';

const FAST_LOOPS = { SMS_POLL_MS: '20', SIMULATOR_DELIVERY_DELAY_MS: '20' };

describe('the terminal voice phone', () => {
  let app: TestApp;
  afterEach(() => app.close());

  it('calls the voice number from the Bambara phone, checks the cover, contributes by keypad, pays with --pin and shows the receipt', async () => {
    app = await startTestApp({ env: FAST_LOOPS });
    app.services.dispatcher.start();
    app.services.orange.start();
    // 1 the cover; 9 the main menu; 2 Cotiser; 3 another amount, typed without its '#'; 1 confirm.
    const r = await sabatili(
      ['simulate', '--url', `${app.url}/ussd`, '--voice', '--phone', '+22376000003', '--pin', '1234', '--sms-wait', '5'],
      {
        stdin: '1\n9\n2\n3\n2000\n1\n',
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Calling UTM +22320200000 from +22376000003…');
    expect(r.stdout).toMatch(/🔊 Waati bèè: .*Ni i b'a fè N ka lakanali, digi 1\..*\[one key\]/);
    expect(r.stdout).toContain('Lakanalen fo 31/03/2026');
    expect(r.stdout).toMatch(/ka se 500 000 FCFA: O kò, diyezi digi\.\s+\[a number, then #\]/);
    expect(r.stdout).toContain('A bɛɛ: 2 100 FCFA.');
    expect(r.stdout).toContain('Orange Money bɛna i ka gundo nimɔrɔ ɲini');
    expect(r.stdout).toMatch(/Call ended \(NORMAL_CLEARING, \d+ s, \d+\.\d{4} XOF\)/);
    expect(r.stdout).toContain('┌ Orange Money ─ pay 2000 FCFA to UTM, fee 100, total 2100 FCFA');
    expect(r.stdout).toContain('└ paid; balance');
    expect(r.stdout).toContain('✉ SMS from UTM: Seereyasèbèn:');
  });

  it('hangs up on an empty line, refuses what is not a key, and is called back in missed-call mode', async () => {
    app = await startTestApp({ env: { ...FAST_LOOPS, VOICE_CALL_BACK_MISSED: 'true' } });
    // The server's call loop places the call-back, as `sabatili serve` does (polling every 20 ms here).
    app.services.calls.start();
    const r = await sabatili(['simulate', '--url', `${app.url}/ussd`, '--voice', '--phone', '+22376000001', '--sms-wait', '2'], {
      stdin: '\nabc\n1\n\n',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('✕ Call rejected (free for the caller).');
    expect(r.stdout).toContain('☎ UTM (+22320200000) is calling back.');
    expect(r.stdout).toMatch(/\n🔊 À tout moment: .*Kénéya Sabatili\. Pour Ma couverture, tapez 1\..*\[one key\]/);
    expect(r.stdout).not.toContain('🔊 \n');
    expect(r.stdout).toContain('! a phone sends only keypad keys');
    // Names are never spoken: the cover, without the adherent's name.
    expect(r.stdout).toContain("🔊 5 pers. Couvert jusqu'au 30/04/2026.");
    expect(r.stdout).toMatch(/Hung up\.\nCall ended \(NORMAL_CLEARING/);
  });
});
