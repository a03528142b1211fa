import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline/promises';

/** The gateway gives an application this long to answer a hop before the handset shows a network error. */
export const GATEWAY_TIMEOUT_MS = 10_000;
/** Columns of a typical feature-phone screen. */
const WIDTH = 24;

export interface PhoneOptions {
  url: string;
  phone: string;
  code: string;
  networkCode?: string;
  timeoutMs?: number;
  write?: (s: string) => void;
}

export class ProtocolError extends Error {}

/** One hop as the gateway sends it: the form post and the CON/END contract, or a ProtocolError saying what broke. */
export async function gatewayHop(o: PhoneOptions, sessionId: string, text: string): Promise<{ end: boolean; screen: string; ms: number }> {
  const started = Date.now();
  let res: Response;
  try {
    res = await fetch(o.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ sessionId, serviceCode: o.code, phoneNumber: o.phone, networkCode: o.networkCode ?? '61001', text }).toString(),
      signal: AbortSignal.timeout(o.timeoutMs ?? GATEWAY_TIMEOUT_MS),
    });
  } catch (err) {
    const why = (err as Error).name === 'TimeoutError' ? `no answer within ${(o.timeoutMs ?? GATEWAY_TIMEOUT_MS) / 1000} s` : (err as Error).message;
    throw new ProtocolError(`network error: ${why}`);
  }
  const body = await res.text();
  if (res.status !== 200) throw new ProtocolError(`network error: the application answered HTTP ${res.status}: ${body.slice(0, 120)}`);
  if (!/^(CON|END) /.test(body)) throw new ProtocolError(`network error: the answer does not start with "CON " or "END ": ${JSON.stringify(body.slice(0, 80))}`);
  return { end: body.startsWith('END'), screen: body.slice(4), ms: Date.now() - started };
}

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
  return [`┌${bar}┐`, ...lines.map((l) => `│ ${l.padEnd(WIDTH)} │`), `└${bar}┘ ${screen.length} chars${end ? ', session ended' : ''}`].join('\n');
}

function newSessionId(): string {
  return `SIM${Date.now()}${randomBytes(3).toString('hex')}`;
}

/**
 * Plays `inputs` one hop at a time (the first hop dials) and prints every screen. Resolves the
 * number of hops; rejects with a ProtocolError on anything the gateway would show as an error.
 */
export async function playInputs(o: PhoneOptions, inputs: string[]): Promise<number> {
  const write = o.write ?? ((s: string) => process.stdout.write(s));
  const sessionId = newSessionId();
  let text: string | null = null;
  let hops = 0;
  for (const input of ['', ...inputs]) {
    text = text === null || text === '' ? input : `${text}*${input}`;
    if (hops > 0) write(`> ${input}\n`);
    const hop = await gatewayHop(o, sessionId, text);
    hops++;
    write(`${frame(hop.screen, hop.end)} (${hop.ms} ms)\n`);
    if (hop.end) break;
  }
  return hops;
}

/** A handset in the terminal: type each answer, an empty line to hang up. */
export async function interactivePhone(o: PhoneOptions, input: NodeJS.ReadableStream = process.stdin): Promise<void> {
  const write = o.write ?? ((s: string) => process.stdout.write(s));
  const rl = createInterface({ input, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const sessionId = newSessionId();
  write(`Dialling ${o.code} from ${o.phone}…\n`);
  let text = '';
  let first = true;
  try {
    for (;;) {
      const hop = await gatewayHop(o, sessionId, text);
      write(`${frame(hop.screen, hop.end)}\n`);
      if (hop.end) return;
      write('> ');
      const next = await lines.next();
      if (next.done || next.value.trim() === '') {
        write('\nHung up.\n');
        return;
      }
      text = first ? next.value.trim() : `${text}*${next.value.trim()}`;
      first = false;
    }
  } finally {
    rl.close();
  }
}
