import { createRequire } from 'node:module';
import type AfricasTalking from 'africastalking';
import type atCommon from 'africastalking/lib/common.js';
import { systemTimers, type TimerHandle, type Timers } from './clock.ts';

const require = createRequire(import.meta.url);

/**
 * The africastalking SDK (a CommonJS package) and its endpoint table, loaded when a transport is
 * built rather than by every process that imports one: loading it (axios, joi, libphonenumber) costs
 * about half a second of CPU, and the simulator transports are the default. Node's module cache
 * gives every caller the same `common` object.
 */
export function africastalkingSdk(): { AfricasTalking: typeof AfricasTalking; atCommon: typeof atCommon } {
  return { AfricasTalking: require('africastalking'), atCommon: require('africastalking/lib/common.js') };
}

/** How a call of the africastalking SDK ended: its answer, its rejection, or nothing within the limit. */
export type SdkOutcome = { ok: true; data: unknown } | { ok: false; err: unknown } | 'timeout';

/**
 * Waits for an SDK request at most `timeoutMs` (the SDK, axios with no timeout, has no limit of its
 * own). The request cannot be aborted: an answer after the limit goes to `late` only, for the
 * caller to log what the retry it already decided may repeat. Shared by SMS and voice calls.
 */
export async function withinTimeout(
  pending: Promise<unknown>,
  timeoutMs: number,
  late: (r: { ok: true; data: unknown } | { ok: false; err: unknown }) => void,
  timers: Timers = systemTimers,
): Promise<SdkOutcome> {
  let timer: TimerHandle | undefined;
  let timedOut = false;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = timers.setTimeout(() => {
      timedOut = true;
      resolve('timeout');
    }, timeoutMs);
  });
  const settled = pending.then(
    (data) => ({ ok: true as const, data }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  void settled.then((r) => {
    if (timedOut) late(r);
  });
  const result = await Promise.race([settled, timeout]);
  if (timer) timers.clearTimeout(timer);
  return result;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** A phone number's digits only, to match the gateway's spelling of it with ours. */
export function digits(n: string): string {
  return n.replace(/\D/g, '');
}

/** A gateway's text on one line, cut to `max` characters for a log or a reason. */
export function clip(s: string, max = 200): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
