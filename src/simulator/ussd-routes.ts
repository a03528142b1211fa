import express, { type Express, type Response } from 'express';
import { z } from 'zod';
import { Refusal } from '../domain/refusal.ts';
import { parse } from '../http/errors.ts';
import { e164 } from '../http/form.ts';
import { demoPhones } from './demo-phones.ts';
import type { HopResult, UssdGateway } from './ussd-gateway.ts';

/** The page's own files: plain modules and CSS, no build step, nothing from a CDN. */
export const PAGE_DIR = new URL('./public/', import.meta.url).pathname;

const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
/** Extra latency the "slow network" fault adds before a hop reaches the application. */
const delayMs = z.number().int().min(0).max(15_000).default(0);
const sessionId = z.string().min(1).max(128);

const dialBody = z.object({ phone: e164, code: z.string().min(2).max(32), url, eventsUrl: url.or(z.literal('')).optional(), delayMs });
// The gateway checks an answer's length itself, to tell the member; a body is still bounded.
const answerBody = z.object({ sessionId, input: z.string().max(2000), delayMs });
const retryBody = z.object({ sessionId, delayMs });
const hangUpBody = z.object({ sessionId, how: z.enum(['user', 'dropped']) });

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The browser phone's gateway (design.md: `/simulator` page and `/simulator/api/*`). The page
 * cannot post to an application itself (another origin, no raw request to show), so the server
 * plays the gateway and answers with the raw exchange for the request log.
 *
 * - `GET  /simulator/api/ussd/config` → `{serviceCode, phones, limits, handset, appUrl, eventsUrl}` (this server's own callbacks)
 * - `POST /simulator/api/ussd/dial` `{phone, code, url, eventsUrl?, delayMs?}` → a hop
 * - `POST /simulator/api/ussd/answer` `{sessionId, input, delayMs?}` → a hop
 * - `POST /simulator/api/ussd/retry` `{sessionId, delayMs?}` → the last hop sent again
 * - `POST /simulator/api/ussd/hangup` `{sessionId, how: 'user'|'dropped'}` → the end-of-session notification
 */
export function ussdGatewayRoutes(
  app: Express,
  deps: {
    gateway: UssdGateway;
    serviceCode: string;
    limits: object;
    /** The page's own pace: how often a phone polls, how long an END screen stays (ms). */
    handset: { pollMs: number; readMs: number };
    /** Whether the gateway may post to this URL (src/simulator/own-url.ts, simulatorTargets). */
    mayPostTo: (url: string) => boolean;
    /** This server's own URL, under which the page's default callback URLs are. */
    selfUrl: () => string | undefined;
  },
): void {
  const phones = demoPhones();
  // sendBeacon from a closing page posts text/plain; it is still JSON.
  const json = express.json({ limit: '8kb', type: ['application/json', 'text/plain'] });
  const reply = (res: Response, hop: HopResult, delay: number) => res.json({ ...hop, delayMs: delay });

  app.use('/simulator', express.static(PAGE_DIR, { index: 'index.html', fallthrough: true }));

  app.get('/simulator/api/ussd/config', (_req, res) => {
    const self = deps.selfUrl();
    res.json({
      serviceCode: deps.serviceCode,
      phones,
      limits: deps.limits,
      handset: deps.handset,
      appUrl: self && `${self}/ussd`,
      eventsUrl: self && `${self}/ussd/events`,
    });
  });

  app.post('/simulator/api/ussd/dial', json, async (req, res) => {
    const { delayMs: d, eventsUrl, ...dial } = parse(dialBody, req.body);
    for (const [field, target] of [
      ['url', dial.url],
      ['eventsUrl', eventsUrl],
    ] as const) {
      if (target && !deps.mayPostTo(target)) {
        throw new Refusal(
          `${field}: this server is not on loopback, so its simulator posts only to its own routes and to SIMULATOR_ALLOWED_URLS`,
          field,
          403,
        );
      }
    }
    await wait(d);
    reply(res, await deps.gateway.dial({ ...dial, eventsUrl: eventsUrl || undefined }), d);
  });

  app.post('/simulator/api/ussd/answer', json, async (req, res) => {
    const b = parse(answerBody, req.body);
    await wait(b.delayMs);
    reply(res, await deps.gateway.answer(b.sessionId, b.input), b.delayMs);
  });

  app.post('/simulator/api/ussd/retry', json, async (req, res) => {
    const b = parse(retryBody, req.body);
    await wait(b.delayMs);
    reply(res, await deps.gateway.retry(b.sessionId), b.delayMs);
  });

  app.post('/simulator/api/ussd/hangup', json, async (req, res) => {
    const b = parse(hangUpBody, req.body);
    const ended = await deps.gateway.hangUp(b.sessionId, b.how);
    if (!ended) return void res.status(404).json({ error: 'NO_OPEN_SESSION' });
    res.json(ended);
  });
}
