import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { expect } from 'vitest';

/** Debian's Chromium (design.md); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Whether the browser suites run here. CI installs Chromium and sets SABATILI_REQUIRE_BROWSER=1,
 * so a missing browser fails there instead of skipping quietly.
 */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.SABATILI_REQUIRE_BROWSER === '1') throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
  console.warn(`browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  return false;
}

/** Headless, and quiet on this closed network: no background connections to Google. `args`: more switches (a fake microphone). */
export function launchBrowser(args: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...args,
    ],
  });
}

/** Chromium's own test microphone (a beep), granted without asking. */
export const FAKE_MICROPHONE = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/**
 * The app's loops at test pace: the outbox polled and the simulated handset's delivery after 20 ms
 * instead of 1 s and 500 ms, the browser phone polling every 250 ms instead of a second and leaving
 * an END screen 300 ms instead of 2 s. The same loops and the same page, less idle wall time.
 */
export const BROWSER_APP_ENV: Record<string, string> = {
  SIMULATOR_DELIVERY_DELAY_MS: '20',
  SMS_POLL_MS: '20',
  SIMULATOR_PHONE_POLL_MS: '250',
  SIMULATOR_PHONE_READ_MS: '300',
};

/**
 * A browser story takes 3-15 s alone; with the suite's other worker, the type check and whatever
 * else shares the two cores, one has run past the 30 s every other test gets: a minute before it
 * counts as hung.
 */
export const BROWSER_TEST = { timeout: 60_000 };

/** Polls like expect.poll, with room for a loaded CI machine (two cores shared with the other suites). */
export const until = <T>(f: () => T | Promise<T>, opts: { timeout?: number } = {}) => expect.poll(f, { timeout: 10_000, ...opts });
