import type { Express } from 'express';
import { z } from 'zod';
import { Refusal } from '../domain/refusal.ts';
import { translate } from '../i18n/catalog.ts';
import type { Logger } from '../log.ts';
import { type VoiceCallback, type VoiceLinks, VoiceSessionMismatch } from '../voice/calls.ts';
import type { Voice } from '../voice/index.ts';
import { response } from '../voice/xml.ts';
import { parse } from './errors.ts';
import { e164, readForm, token } from './form.ts';
import { withGatewayKey } from './gateway-key.ts';

const whole = z
  .string()
  .regex(/^\d{1,9}$/, { error: 'must be a whole number' })
  .transform(Number)
  .optional();

/** Africa's Talking's voice callback (reference/africastalking-voice.md), every notification of a call. */
export const voiceCallbackSchema = z
  .object({
    sessionId: token(128),
    isActive: z.enum(['0', '1'], { error: 'must be 0 or 1' }),
    direction: z.enum(['Inbound', 'Outbound'], { error: 'must be Inbound or Outbound' }),
    callerNumber: e164,
    destinationNumber: z.string().max(32).optional(),
    dtmfDigits: z
      .string()
      .max(64)
      .regex(/^[0-9*#]*$/, { error: 'must be keypad keys (0-9, * and #)' })
      .optional(),
    clientRequestId: z.string().max(128).optional(),
    recordingUrl: z.string().max(2048).optional(),
    durationInSeconds: whole,
    amount: z.string().max(32).optional(),
    currencyCode: z.string().max(8).optional(),
    hangupCause: z.string().max(64).optional(),
    callStartTime: z.string().max(64).optional(),
  })
  .refine((c) => c.direction === 'Inbound' || e164.safeParse(c.destinationNumber).success, {
    message: 'an Outbound call needs the E.164 number called',
    path: ['destinationNumber'],
  });

const STEP = /^\d{1,6}$/;
const AUDIO_FILE = /^([0-9a-f]{32})\.wav$/;

export interface VoiceRouteDeps {
  voice: Voice;
  logger: Logger;
  gatewayKey: string | undefined;
  /** The base URL the gateway reaches this server at (VOICE_PUBLIC_URL, else where it listens). */
  publicUrl: () => string;
}

/**
 * POST /voice (the gateway's voice callback, XML answers) and GET /voice/audio/<hash>.wav (a
 * prompt's audio, fetched by the gateway). Both sit under the gateway guard (GATEWAY_PREFIXES);
 * the URLs placed in the answers carry the key. An Outbound call (placed by UTM and answered) is
 * played for the number called; the voice core reports it to its outbox row.
 */
export function voiceRoutes(app: Express, deps: VoiceRouteDeps): void {
  const links = (): VoiceLinks => {
    const base = deps.publicUrl().replace(/\/$/, '');
    return {
      callback: (step) => withGatewayKey(`${base}/voice?step=${step}`, deps.gatewayKey),
      audio: (name) => withGatewayKey(`${base}/voice/audio/${name}`, deps.gatewayKey),
    };
  };

  app.post('/voice', async (req, res) => {
    const form = await readForm(req);
    const raw = new URL(req.originalUrl, 'http://callback.invalid').searchParams.get('step');
    if (raw !== null && !STEP.test(raw)) throw new Refusal('step: must be a whole number', 'step');
    const c = parse(voiceCallbackSchema, form);
    const cb: VoiceCallback = {
      ...c,
      isActive: c.isActive === '1',
      callerNumber: c.direction === 'Outbound' ? (c.destinationNumber as string) : c.callerNumber,
    };
    let xml: string;
    try {
      xml = await deps.voice.calls.handle(cb, raw === null ? null : Number(raw), links());
    } catch (err) {
      if (err instanceof VoiceSessionMismatch) throw new Refusal(`sessionId: ${err.message}`, 'sessionId', 409);
      // The caller hears an apology, never silence, and the gateway never sees a 5xx.
      deps.logger.error({ err, sessionId: cb.sessionId }, 'voice: notification failed');
      xml = response([{ say: translate(deps.voice.catalogs, 'fr', 'common.failed', {}, { code: deps.voice.serviceCode }) }]);
    }
    res.status(200).type('application/xml').send(xml);
  });

  app.get('/voice/audio/:file', async (req, res) => {
    const m = AUDIO_FILE.exec(req.params.file);
    const file = m ? await deps.voice.library.file(m[1] as string) : null;
    if (!file) {
      res.status(404).type('text/plain').send('Not found: no such prompt audio\n');
      return;
    }
    // Named by its content: the same name is always the same audio.
    res.sendFile(file, { headers: { 'Content-Type': 'audio/wav', 'Cache-Control': 'public, max-age=86400, immutable' } });
  });
}
