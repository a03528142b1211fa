import type { Express } from 'express';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { SessionStore } from '../db/sessions.ts';
import { Refusal } from '../domain/refusal.ts';
import type { Logger } from '../log.ts';
import { SessionPhoneMismatch, type UssdEngine } from '../ussd/engine.ts';
import { parse } from './errors.ts';
import { e164, type FormHandler, OK, postForm, token } from './form.ts';

/** The gateway's USSD callback (reference/africastalking.md). */
export const ussdHopSchema = z.object({
  sessionId: token(128),
  serviceCode: token(32),
  phoneNumber: e164,
  networkCode: z.string().max(16).optional(),
  text: z.string({ error: 'is required (empty on the first hop)' }).max(4000, { error: 'is longer than any USSD session' }),
});

const optionalNumber = z
  .string()
  .regex(/^\d{1,12}$/, { error: 'must be a whole number' })
  .transform(Number)
  .optional();

/** The gateway's end-of-session notification. */
export const ussdEventSchema = z.object({
  sessionId: token(128),
  phoneNumber: e164,
  status: z.enum(['Success', 'Incomplete', 'Failed'], { error: 'must be Success, Incomplete or Failed' }),
  serviceCode: z.string().max(32).optional(),
  networkCode: z.string().max(16).optional(),
  date: z.string().max(64).optional(),
  cost: z.string().max(64).optional(),
  durationInMillis: optionalNumber,
  hopsCount: optionalNumber,
  hopsMetadata: z.string().max(1024).optional(),
  input: z.string().max(4000).optional(),
  lastAppResponse: z.string().max(1024).optional(),
  errorMessage: z.string().max(1024).optional(),
});

export interface UssdDeps {
  engine: UssdEngine;
  sessions: SessionStore;
  clock: Clock;
  logger: Logger;
}

type UssdHop = z.infer<typeof ussdHopSchema>;

const TOKEN = /^[\x21-\x7e]+$/;
const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * The hop's form when it is plainly valid (the gateway's every hop), checked by hand with the
 * schema's own rules: the same object ussdHopSchema would give, without its per-field machinery.
 * Anything else (undefined) goes through the schema, which words the refusal.
 */
export function wellFormedHop(f: Record<string, string>): UssdHop | undefined {
  const { sessionId, serviceCode, phoneNumber, networkCode, text } = f;
  if (sessionId === undefined || sessionId.length > 128 || !TOKEN.test(sessionId)) return undefined;
  if (serviceCode === undefined || serviceCode.length > 32 || !TOKEN.test(serviceCode)) return undefined;
  if (phoneNumber === undefined || !E164.test(phoneNumber)) return undefined;
  if (text === undefined || text.length > 4000) return undefined;
  if (networkCode === undefined) return { sessionId, serviceCode, phoneNumber, text };
  if (networkCode.length > 16) return undefined;
  return { sessionId, serviceCode, phoneNumber, networkCode, text };
}

/** POST /ussd once its form is read: validate, run the hop; an engine failure is the polite END screen with 200, never a 5xx. */
export function ussdHopHandler(deps: UssdDeps): FormHandler {
  return async (body) => {
    const hop = wellFormedHop(body) ?? parse(ussdHopSchema, body);
    try {
      return { status: 200, body: (await deps.engine.handle(hop)).body };
    } catch (err) {
      if (err instanceof SessionPhoneMismatch) throw new Refusal(`sessionId: ${err.message}`, 'sessionId', 409);
      // The member still gets a polite screen; the gateway never sees a 5xx from us.
      deps.logger.error({ err, phone: hop.phoneNumber }, 'ussd: hop failed');
      return { status: 200, body: deps.engine.failureReply(hop.phoneNumber).body };
    }
  };
}

/** POST /ussd/events once its form is read: the end-of-session notification is stored and the live session dropped. */
export function ussdEventHandler(deps: UssdDeps): FormHandler {
  return (body) => {
    const e = parse(ussdEventSchema, body);
    deps.sessions.recordEvent(
      {
        sessionId: e.sessionId,
        phone: e.phoneNumber,
        serviceCode: e.serviceCode ?? null,
        networkCode: e.networkCode ?? null,
        status: e.status,
        date: e.date ?? null,
        cost: e.cost ?? null,
        durationMs: e.durationInMillis ?? null,
        hopsCount: e.hopsCount ?? null,
        hopsMetadata: e.hopsMetadata ?? null,
        input: e.input ?? null,
        lastAppResponse: e.lastAppResponse ?? null,
        errorMessage: e.errorMessage ?? null,
      },
      deps.clock.now(),
    );
    deps.engine.forget(e.sessionId);
    return OK;
  };
}

/**
 * The gateway's USSD routes on the express app, registered on the app itself (a nested Router
 * costs a prefix match per hop). In the running server the lean path (lean.ts) answers them first
 * with the same handlers; these serve createApp used alone.
 */
export function ussdRoutes(app: Express, deps: UssdDeps): void {
  postForm(app, '/ussd', ussdHopHandler(deps));
  postForm(app, '/ussd/events', ussdEventHandler(deps));
}
