import { createInterface } from 'node:readline/promises';
import { demoPhones } from './demo-phones.ts';
import { type ReceivedSms, simulatorApi, type Transcript, type TranscriptTarget } from './transcripts.ts';
import { createUssdGateway, GATEWAY_TIMEOUT_MS, type GatewayLimits, type HopResult, type SessionEnd } from './ussd-gateway.ts';
import type { VoiceCallView } from './voice-gateway.ts';

/** Columns of a typical feature-phone screen. */
const WIDTH = 24;

export interface PhoneOptions {
  /** The application's USSD callback. */
  url: string;
  phone: string;
  code: string;
  networkCode?: string;
  limits?: Partial<GatewayLimits>;
  /** Where the gateway posts the end-of-session notification; none when absent. */
  eventsUrl?: string;
  /** The URL actually posted to for a callback URL (adds the gateway key for this server's own routes). */
  callbackUrl?: (url: string) => string;
  /** sabatili's simulator API (SMS inbox, Orange Money wallet) when the application has it; absent otherwise. */
  simulatorUrl?: string;
  /** Answers the operator's PIN prompt without asking (scripts). */
  pin?: string;
  /** How long to wait for SMS after the session (receipts follow the operator's callback). */
  smsWaitMs?: number;
  write?: (s: string) => void;
  /** The gateway's clock for its idle and total limits (Date.now; tests step it). */
  now?: () => number;
}

export class ProtocolError extends Error {}

/** The screen as a handset shows it: wrapped to its width, in a frame, with its length. */
export function frame(screen: string, end: boolean): string {
  const lines = screen.split('\n').flatMap((l) => {
    const out: string[] = [];
    let rest = l;
    while (rest.length > WIDTH) {
      const cut = rest.lastIndexOf(' ', WIDTH) > 0 ? rest.lastIndexOf(' ', WIDTH) : WIDTH;
      out.push(rest.slice(0, cut));
      rest = rest.slice(cut).trimStart();
    }
    out.push(rest);
    return out;
  });
  const bar = '─'.repeat(WIDTH + 2);
  return [`┌${bar}┐`, ...lines.map((l) => `│ ${l.padEnd(WIDTH)} │`), `└${bar}┘ ${screen.length} chars${end ? ', session ended' : ''}`].join(
    '\n',
  );
}

/** sabatili's simulator API at the application's origin, if it answers there. */
export async function findSimulator(url: string): Promise<string | undefined> {
  try {
    const origin = new URL(url).origin;
    const res = await fetch(`${origin}/simulator/api/ussd/config`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    // Another application may answer any path with 200: only sabatili's JSON counts.
    return res.ok && (res.headers.get('content-type') ?? '').includes('application/json') ? origin : undefined;
  } catch {
    return undefined;
  }
}

interface InboxSms {
  id: number;
  from: string | null;
  text: string;
  status: string;
}

interface Pending {
  amount: number;
  fee: number;
  debit: number;
  merchantReference: string;
}

/** What a phone learns outside the USSD session: SMS arriving, and Orange Money's PIN prompt. */
function sideChannel(o: PhoneOptions, write: (s: string) => void) {
  const base = o.simulatorUrl;
  const q = `phone=${encodeURIComponent(o.phone)}`;
  let seen: Set<number> | null = null;
  const getJson = async <T>(path: string): Promise<{ status: number; body: T } | null> => {
    if (!base) return null;
    try {
      const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(2000) });
      return { status: res.status, body: (await res.json()) as T };
    } catch {
      return null;
    }
  };
  return {
    /** Prints the SMS that arrived since the last look; the first look only remembers what was there. */
    async newSms(): Promise<number> {
      const r = await getJson<InboxSms[]>(`/simulator/api/sms?${q}`);
      if (r?.status !== 200) return 0;
      const first = seen === null;
      seen ??= new Set();
      let fresh = 0;
      for (const m of r.body) {
        if (seen.has(m.id)) continue;
        seen.add(m.id);
        if (first) continue;
        fresh++;
        write(`\n✉ SMS from ${m.from ?? 'UTM'}: ${m.text}\n`);
      }
      return fresh;
    },
    async pending(): Promise<Pending | null> {
      const r = await getJson<{ pending: Pending | null }>(`/simulator/api/wallet?${q}`);
      return r?.status === 200 ? r.body.pending : null;
    },
    async answer(pin: string | null): Promise<string> {
      const path = pin === null ? '/simulator/api/wallet/refuse' : '/simulator/api/wallet/confirm';
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(pin === null ? { phone: o.phone } : { phone: o.phone, pin }),
      });
      const b = (await res.json()) as { status?: string; reason?: string; balance?: number; error?: string; triesLeft?: number };
      if (res.status === 409) return `wrong PIN, ${b.triesLeft} tries left`;
      if (b.error) return b.error;
      return b.status === 'succeeded' ? `paid; balance ${b.balance} FCFA` : `not paid (${b.reason}); balance ${b.balance} FCFA`;
    },
  };
}

function describeEnd(end: SessionEnd | undefined | null): string {
  if (!end?.delivery) return '';
  const d = end.delivery;
  return `(end-of-session notification ${end.status} → ${d.httpStatus ?? d.error})\n`;
}

function show(write: (s: string) => void, hop: HopResult): void {
  if (hop.error && hop.request === null && !hop.end) {
    write(`! ${hop.error}\n`);
    return;
  }
  if (hop.error) throw new ProtocolError(hop.error);
  write(`${frame(hop.screen, hop.end)} (${hop.ms} ms)\n`);
}

/**
 * After the session: Orange Money's PIN prompt if a payment waits (answered with `pin`, or by
 * `ask`), then the SMS that follow within `smsWaitMs`.
 */
async function afterSession(
  o: PhoneOptions,
  side: ReturnType<typeof sideChannel>,
  write: (s: string) => void,
  ask?: () => Promise<string | null>,
) {
  if (!o.simulatorUrl) return;
  const p = await side.pending();
  if (p) {
    write(`┌ Orange Money ─ pay ${p.amount} FCFA to UTM, fee ${p.fee}, total ${p.debit} FCFA (ref ${p.merchantReference})\n`);
    let pin = o.pin ?? null;
    if (pin === null && ask) pin = await ask();
    if (pin === null && !ask) write('└ PIN prompt left open (answer it with --pin)\n');
    else write(`└ ${await side.answer(pin)}\n`);
  }
  const until = Date.now() + (o.smsWaitMs ?? 3000);
  while (Date.now() < until) {
    if ((await side.newSms()) > 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Plays `inputs` one hop at a time (the first hop dials) and prints every screen. Resolves the
 * number of hops; rejects with a ProtocolError on anything the gateway would show as an error.
 */
export async function playInputs(o: PhoneOptions, inputs: string[]): Promise<number> {
  const write = o.write ?? ((s: string) => process.stdout.write(s));
  const gateway = createUssdGateway({ limits: o.limits, callbackUrl: o.callbackUrl, now: o.now });
  const side = sideChannel(o, write);
  await side.newSms();
  let hop = await gateway.dial(o);
  show(write, hop);
  let hops = 1;
  for (const input of inputs) {
    if (hop.end) break;
    write(`> ${input}\n`);
    hop = await gateway.answer(hop.sessionId, input);
    show(write, hop);
    hops++;
  }
  if (!hop.end) write(describeEnd(await gateway.hangUp(hop.sessionId, 'user')));
  else write(describeEnd(hop.closed));
  await afterSession(o, side, write);
  return hops;
}

/** Asks which phone to use: a demo phone by its number in the list, or any E.164 number. */
async function pickPhone(readLine: () => Promise<string | null>, write: (s: string) => void): Promise<string | null> {
  const phones = demoPhones();
  write(`Which phone?\n${phones.map((p, i) => `  ${i + 1}  ${p.phone}  ${p.label}`).join('\n')}\n`);
  for (;;) {
    write('Number in the list, or a phone number such as +22376000001: ');
    const answer = await readLine();
    if (answer === null) return null;
    const picked = phones[Number(answer) - 1];
    if (/^\d$/.test(answer) && picked) return picked.phone;
    if (/^\+[1-9]\d{6,14}$/.test(answer)) return answer;
    write(`"${answer}" is neither 1 to ${phones.length} nor a number in international form.\n`);
  }
}

/**
 * A handset in the terminal: without a phone, pick one first; type each answer, an empty line to
 * hang up; SMS show as they arrive.
 */
export async function interactivePhone(
  opts: Omit<PhoneOptions, 'phone'> & { phone?: string },
  input: NodeJS.ReadableStream = process.stdin,
): Promise<void> {
  const write = opts.write ?? ((s: string) => process.stdout.write(s));
  const rl = createInterface({ input, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const readLine = async () => {
    const next = await lines.next();
    return next.done ? null : next.value.trim();
  };
  const phone = opts.phone ?? (await pickPhone(readLine, write));
  if (phone === null) return void rl.close();
  const o: PhoneOptions = { ...opts, phone };
  const gateway = createUssdGateway({ limits: o.limits, callbackUrl: o.callbackUrl, now: o.now });
  const side = sideChannel(o, write);
  await side.newSms();
  const watcher = setInterval(() => void side.newSms(), 1000);
  write(`Dialling ${o.code} from ${o.phone}…\n`);
  try {
    let hop = await gateway.dial(o);
    for (;;) {
      show(write, hop);
      if (hop.end) {
        write(describeEnd(hop.closed));
        break;
      }
      write('> ');
      const answer = await readLine();
      if (answer === null || answer === '') {
        write(`\nHung up.\n${describeEnd(await gateway.hangUp(hop.sessionId, 'user'))}`);
        break;
      }
      const next = await gateway.answer(hop.sessionId, answer);
      if (next.request === null && next.end) {
        // A limit the gateway applies (idle, total length), not the application's fault.
        write(`! ${next.error}\n${describeEnd(next.closed)}`);
        break;
      }
      // The gateway refused to forward it (too long): the same screen waits for another answer.
      if (next.request === null) write(`! ${next.error}\n`);
      else hop = next;
    }
    clearInterval(watcher);
    await afterSession(o, side, write, async () => {
      write('  PIN (empty line to refuse): ');
      const pin = await readLine();
      return pin ? pin : null;
    });
  } finally {
    clearInterval(watcher);
    rl.close();
  }
}

/** A prompt as printed: what is said, and what it waits for. */
function said(c: VoiceCallView): string {
  if (!c.prompt?.caption) return '';
  const ask = !c.collect ? '' : c.collect.numDigits === 1 ? '  [one key]' : `  [a number, then ${c.collect.finishOnKey ?? '#'}]`;
  return `🔊 ${c.prompt.caption}${ask}\n`;
}

function callEnd(c: VoiceCallView): string {
  if (c.rejected) return '✕ Call rejected (free for the caller).\n';
  return `Call ended (${c.end?.hangupCause}, ${c.end?.durationInSeconds} s, ${c.end?.amount} ${c.end?.currencyCode}).\n`;
}

/**
 * A phone calling UTM's voice number in the terminal, through sabatili's voice gateway
 * (`/simulator/api/voice/*`: the captions are the application's, read by the server): each prompt's
 * caption printed, a line of keys answers it (a number may leave out the final '#'), an empty line
 * hangs up. A rejected call (missed-call mode) waits for UTM's call-back and offers to answer it.
 * After the call, the operator's PIN prompt and the SMS, as for USSD.
 */
export async function voicePhone(
  opts: Omit<PhoneOptions, 'phone'> & { phone?: string },
  input: NodeJS.ReadableStream = process.stdin,
): Promise<void> {
  const write = opts.write ?? ((s: string) => process.stdout.write(s));
  const base = opts.simulatorUrl;
  if (!base) throw new ProtocolError(`--voice needs sabatili's simulator API at ${new URL(opts.url).origin} (SIMULATOR_ENABLED)`);
  const rl = createInterface({ input, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const readLine = async () => {
    const next = await lines.next();
    return next.done ? null : next.value.trim();
  };
  const api = async (method: 'GET' | 'POST', path: string, body?: object): Promise<VoiceCallView & VoiceCallView[]> => {
    const res = await fetch(`${base}/simulator/api/voice${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
      signal: AbortSignal.timeout(4 * GATEWAY_TIMEOUT_MS),
    });
    const text = await res.text();
    if (!res.ok) throw new ProtocolError(`the voice gateway refused: HTTP ${res.status} ${text}`);
    return JSON.parse(text);
  };
  try {
    const phone = opts.phone ?? (await pickPhone(readLine, write));
    if (phone === null) return;
    const o: PhoneOptions = { ...opts, phone };
    const side = sideChannel(o, write);
    await side.newSms();
    const { voiceNumber } = (await api('GET', '/config')) as unknown as { voiceNumber: string };
    write(`Calling UTM ${voiceNumber} from ${phone}…\n`);
    let call = await api('POST', '/call', { phone });
    for (;;) {
      if (call.error) write(`! ${call.error}\n`);
      write(said(call));
      if (call.status === 'ended') {
        write(callEnd(call));
        if (!call.rejected) break;
        const ringing = await waitForCallBack(() => api('GET', `/ringing?phone=${encodeURIComponent(phone)}`), o.smsWaitMs ?? 3000);
        if (!ringing) break;
        write(`☎ UTM (${ringing.utm}) is calling back. Enter answers, "n" refuses: `);
        const pick = await readLine();
        if (pick === 'n' || pick === null) {
          write(callEnd(await api('POST', '/decline', { sessionId: ringing.sessionId })));
          break;
        }
        call = await api('POST', '/answer', { sessionId: ringing.sessionId });
        continue;
      }
      write('> ');
      const keys = await readLine();
      if (keys === null || keys === '') {
        write(`\nHung up.\n${callEnd(await api('POST', '/hangup', { sessionId: call.sessionId }))}`);
        break;
      }
      if (!/^[0-9*#]+$/.test(keys)) {
        write('! a phone sends only keypad keys: 0-9, * and #\n');
        continue;
      }
      const finish = call.collect?.finishOnKey;
      const sent = finish && call.collect?.numDigits !== 1 && !keys.endsWith(finish) ? keys + finish : keys;
      call = await api('POST', '/press', { sessionId: call.sessionId, keys: sent });
    }
    await afterSession(o, side, write, async () => {
      write('  PIN (empty line to refuse): ');
      const pin = await readLine();
      return pin ? pin : null;
    });
  } finally {
    rl.close();
  }
}

/** UTM's call-back, once it rings (the server places it on its own loop), or null after `waitMs`. */
async function waitForCallBack(ringing: () => Promise<VoiceCallView[]>, waitMs: number): Promise<VoiceCallView | null> {
  const until = Date.now() + waitMs;
  for (;;) {
    const first = (await ringing())[0];
    if (first) return first;
    if (Date.now() >= until) return null;
    await pause(250);
  }
}

export interface ScriptOptions {
  /** The USSD callback, as the gateway posts to it. */
  url: string;
  code: string;
  /** sabatili's simulator API, when the server has one: without it, wallet and SMS steps cannot be played nor SMS checked. */
  simulatorUrl?: string;
  /** How long to wait for SMS after a wallet or SMS step, and for the expected SMS at the end. */
  smsWaitMs: number;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A golden transcript's target against a running server (`sabatili simulate --script`): the
 * server's own clock and loops send the SMS, so the runner waits for them instead of driving them.
 */
export async function scriptTarget(t: Transcript, o: ScriptOptions): Promise<TranscriptTarget> {
  const hop: TranscriptTarget['hop'] = async (sessionId, phone, text) => {
    const res = await fetch(o.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ sessionId, serviceCode: o.code, phoneNumber: phone, networkCode: '61001', text }).toString(),
      signal: AbortSignal.timeout(GATEWAY_TIMEOUT_MS),
    });
    return { status: res.status, body: await res.text() };
  };
  if (!o.simulatorUrl) return { hop };

  const api = simulatorApi(o.simulatorUrl);
  // The phones the transcript may reach; what they held before it began is not its doing.
  const phones = [...new Set([t.phone, ...(t.sms ?? []).map((m) => m.to)])];
  const seen = new Set<string>();
  for (const phone of phones) for (const m of await api.inbox(phone)) seen.add(m.id);
  const fresh = async () => {
    const all = (await Promise.all(phones.map((p) => api.inbox(p)))).flat().filter((m) => !seen.has(m.id));
    return all.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  };
  /** Polls until `enough` holds or the wait is over. */
  const waitFor = async (enough: (n: number) => boolean) => {
    const until = Date.now() + o.smsWaitMs;
    let got = await fresh();
    while (!enough(got.length) && Date.now() < until) {
      await pause(100);
      got = await fresh();
    }
    return got;
  };
  let arrived = 0;
  return {
    hop,
    wallet: api.wallet,
    sendSms: api.sendSms,
    // After a PIN answer or a keyword, the answer comes by SMS: the next step waits for it (or for the wait to pass).
    settle: async (after) => {
      if (after === 'hop') return;
      arrived = (await waitFor((n) => n > arrived)).length;
    },
    sms: async (): Promise<ReceivedSms[]> => (await waitFor((n) => n >= (t.sms?.length ?? 0))).map((m) => ({ to: m.to, text: m.text })),
  };
}
