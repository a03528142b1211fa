import express, { type Express } from 'express';
import { z } from 'zod';
import { parse, plainRefusals } from '../http/errors.ts';
import { e164 } from '../http/form.ts';
import type { FakeAtVoice } from './fake-at-gateway.ts';

const phoneQuery = z.object({ phone: e164 });

/**
 * The fake Africa's Talking voice API (`POST /simulator/at-voice/call`, what AT_VOICE_URL names in
 * development), and the calls it took, for the simulated phones:
 * `GET /simulator/api/voice/calls?phone=` lists the calls placed to that phone, oldest first
 * (`sessionId`, `from`, `to`, `clientRequestId`, `seq`): the browser phone polls it to ring.
 */
export function fakeVoiceRoutes(app: Express, voice: FakeAtVoice, path: string): void {
  app.use(path, voice.router);
  const router = express.Router();
  router.get('/calls', (req, res) => {
    const q = parse(phoneQuery, req.query);
    res.json(voice.calls.filter((c) => c.to === q.phone));
  });
  router.use(plainRefusals);
  app.use('/simulator/api/voice', router);
}
