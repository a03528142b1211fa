import { ownCallbackUrl } from '../simulator/own-url.ts';
import { findSimulator, interactivePhone, ProtocolError, playInputs, scriptTarget, voicePhone } from '../simulator/terminal.ts';
import { playTranscript, readTranscript } from '../simulator/transcripts.ts';
import type { Cli } from './context.ts';

export interface SimulateOptions {
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
  /** Call UTM's voice number instead of dialling the USSD code. */
  voice?: boolean;
}

/** The phone scripts dial from when none is given: the first demo member. */
const DEFAULT_PHONE = '+22376000001';

/** The end-of-session URL beside a USSD callback ending in /ussd (its query, e.g. ?key=, kept). */
function eventsUrlOf(url: string): string | undefined {
  const u = new URL(url);
  if (!u.pathname.endsWith('/ussd')) return undefined;
  u.pathname += '/events';
  return u.toString();
}

/** `sabatili simulate`: 1 when the application breaks the protocol or a transcript differs. */
export async function simulate(cli: Cli, opts: SimulateOptions): Promise<number> {
  const c = cli.config();
  const self = `http://127.0.0.1:${c.PORT}`;
  const url = opts.url ?? `${self}/ussd`;
  // Playing the gateway of this server: its callbacks carry GATEWAY_CALLBACK_KEY; another application's do not.
  const callbackUrl = ownCallbackUrl(() => self, c.GATEWAY_CALLBACK_KEY);
  const write = (s: string) => void cli.stdout.write(s);
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
    write,
    now: cli.io.now,
  };
  try {
    if (opts.script) {
      const t = readTranscript(opts.script);
      const target = await scriptTarget(t, {
        url: callbackUrl(phone.url),
        code: phone.code,
        simulatorUrl: phone.simulatorUrl,
        smsWaitMs: phone.smsWaitMs,
      });
      const r = await playTranscript(t, target, `script-${Date.now()}`);
      for (const p of r.problems) cli.warn(`✗ ${p}`);
      const sms = phone.simulatorUrl ? ', every SMS too' : ' (no simulator API there: SMS not checked)';
      cli.print(
        `${t.name}: ${r.ok ? `every screen as expected${sms}` : `${r.problems.length} problems`} (${t.steps.length} steps; against a live server the clock is the server's)`,
      );
      return r.ok ? 0 : 1;
    }
    if (opts.voice) {
      await voicePhone(phone, cli.io.stdin);
      return 0;
    }
    if (opts.input !== undefined) {
      await playInputs({ ...phone, phone: phone.phone ?? DEFAULT_PHONE }, opts.input === '' ? [] : opts.input.split('*'));
    } else {
      await interactivePhone(phone, cli.io.stdin);
    }
    return 0;
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    cli.warn(err.message);
    return 1;
  }
}
