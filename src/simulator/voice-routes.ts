import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { Refusal } from '../domain/refusal.ts';
import { jsonRefusals, parse } from '../http/errors.ts';
import { e164 } from '../http/form.ts';
import { UnknownCall, type VoiceGateway } from './voice-gateway.ts';

const sessionId = z.string().min(1).max(128);
const callBody = z.object({ phone: e164, url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional() });
const sessionBody = z.object({ sessionId });
const pressBody = z.object({ sessionId, keys: z.string().regex(/^[0-9*#]{1,64}$/, { error: 'must be keypad keys (0-9, * and #)' }) });
const phoneQuery = z.object({ phone: e164 });
const sessionQuery = z.object({ sessionId });
const audioQuery = z.object({ sessionId, n: z.coerce.number().int().min(0).max(20) });

/**
 * The voice phone's gateway (src/simulator/voice-gateway.ts) for the browser and terminal phones:
 *
 * - `GET  /simulator/api/voice/config` → `{voiceNumber, url}`
 * - `POST /simulator/api/voice/call {phone, url?}` → the call, its first prompt played
 * - `POST /simulator/api/voice/press {sessionId, keys}`, `/timeout {sessionId}`, `/hangup {sessionId}` → the call
 * - `GET  /simulator/api/voice/call?sessionId=` → the call (a timeout the gateway posted meanwhile)
 * - `GET  /simulator/api/voice/ringing?phone=` → UTM's calls ringing that phone
 * - `POST /simulator/api/voice/answer {sessionId}`, `/decline {sessionId}` → the call
 * - `GET  /simulator/api/voice/audio?sessionId=&n=` → the current prompt's n-th audio file
 */
export function voiceGatewayRoutes(app: Express, deps: { gateway: VoiceGateway; mayPostTo: (url: string) => boolean }): void {
  const router = express.Router();
  const json = express.json({ limit: '8kb', type: ['application/json', 'text/plain'] });
  const g = deps.gateway;
  type Handler = (req: Request, res: Response) => Promise<void> | void;
  // A call the gateway does not hold (ended long ago, or never) is a 404 the phone shows, not a server error.
  const route =
    (f: Handler) =>
    async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      try {
        await f(req, res);
      } catch (err) {
        next(err instanceof UnknownCall ? new Refusal(err.message, 'sessionId', 404) : err);
      }
    };

  router.get(
    '/config',
    route((_req, res) => void res.json({ voiceNumber: g.voiceNumber, url: g.url() ?? null })),
  );
  router.post(
    '/call',
    json,
    route(async (req, res) => {
      const b = parse(callBody, req.body);
      if (b.url && !deps.mayPostTo(b.url)) {
        throw new Refusal(
          'url: this server is not on loopback, so its simulator posts only to its own routes and to SIMULATOR_ALLOWED_URLS',
          'url',
          403,
        );
      }
      if (!b.url && !g.url()) throw new Refusal('the server is not listening yet', undefined, 409);
      res.json(await g.call(b.phone, b.url));
    }),
  );
  router.get(
    '/call',
    route((req, res) => {
      const call = g.state(parse(sessionQuery, req.query).sessionId);
      if (!call) throw new UnknownCall(String(req.query.sessionId));
      res.json(call);
    }),
  );
  router.post(
    '/press',
    json,
    route(async (req, res) => {
      const b = parse(pressBody, req.body);
      res.json(await g.press(b.sessionId, b.keys));
    }),
  );
  for (const [path, act] of [
    ['/timeout', g.timeout],
    ['/hangup', g.hangUp],
    ['/answer', g.answer],
    ['/decline', g.decline],
  ] as const) {
    router.post(
      path,
      json,
      route(async (req, res) => void res.json(await act(parse(sessionBody, req.body).sessionId))),
    );
  }
  // The page plays a prompt's audio through here: the URL the application gave carries the gateway key.
  router.get(
    '/audio',
    route(async (req, res) => {
      const q = parse(audioQuery, req.query);
      const url = g.audioUrl(q.sessionId, q.n);
      if (!url) throw new UnknownCall(q.sessionId);
      const audio = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
      res.status(audio.status).type(audio.headers.get('content-type') ?? 'application/octet-stream');
      res.send(Buffer.from(await audio.arrayBuffer()));
    }),
  );
  router.get(
    '/ringing',
    route((req, res) => void res.json(g.ringing(parse(phoneQuery, req.query).phone))),
  );
  router.use(jsonRefusals);
  app.use('/simulator/api/voice', router);
}
