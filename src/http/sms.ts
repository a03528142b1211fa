import type { Express } from 'express';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import type { InboundHandler } from '../sms/inbound.ts';
import { DELIVERY_STATUS, type DeliveryReport, type Outbox } from '../sms/outbox.ts';
import { parse } from './errors.ts';
import { e164, type FormHandler, OK, postForm, token } from './form.ts';

const optional = (max: number) => z.string().max(max).optional();

/** Delivery report (reference/africastalking.md, "SMS callbacks"). */
export const deliverySchema = z.object({
  id: token(128),
  status: z.enum(Object.keys(DELIVERY_STATUS) as [DeliveryReport['status'], ...DeliveryReport['status'][]], {
    error: `must be one of ${Object.keys(DELIVERY_STATUS).join(', ')}`,
  }),
  phoneNumber: e164.optional(),
  networkCode: optional(16),
  failureReason: optional(200),
  retryCount: z
    .string()
    .regex(/^\d{1,6}$/, { error: 'must be a whole number' })
    .optional(),
});

/** Incoming message. */
export const inboundSchema = z.object({
  id: token(128),
  from: e164,
  text: z.string().max(2000, { error: 'is longer than any SMS' }),
  to: optional(32),
  date: optional(64),
  linkId: optional(128),
  networkCode: optional(16),
  cost: optional(64),
});

/** Opt-out from a bulk sender id. */
export const optoutSchema = z.object({
  phoneNumber: e164,
  senderId: optional(64),
});

export interface SmsDeps {
  outbox: Outbox;
  inbound: InboundHandler;
  logger: Logger;
}

/** POST /sms/delivery once its form is read. */
export function deliveryHandler(deps: SmsDeps): FormHandler {
  return (body) => {
    const r = parse(deliverySchema, body);
    const outcome = deps.outbox.recordDelivery({ providerId: r.id, status: r.status, failureReason: r.failureReason });
    // An id we never sent is answered 200 all the same: the gateway would otherwise retry it for hours.
    if (outcome === 'unknown') deps.logger.warn({ providerId: r.id, status: r.status }, 'sms: delivery report for an unknown message');
    return OK;
  };
}

/** POST /sms/inbound once its form is read. */
export function inboundHandler(deps: SmsDeps): FormHandler {
  return (body) => {
    const m = parse(inboundSchema, body);
    const out = deps.inbound.handle({
      gatewayId: m.id,
      from: m.from,
      to: m.to,
      text: m.text,
      linkId: m.linkId,
      networkCode: m.networkCode,
      cost: m.cost,
      date: m.date,
    });
    deps.logger.info({ from: m.from, ...out }, 'sms: inbound');
    return OK;
  };
}

/** POST /sms/optout once its form is read. */
export function optoutHandler(deps: SmsDeps): FormHandler {
  return (body) => {
    const o = parse(optoutSchema, body);
    deps.outbox.setOptOut(o.phoneNumber, true, `gateway opt-out ${o.senderId ?? ''}`.trim());
    return OK;
  };
}

/** The gateway's SMS callbacks on the express app (the lean path in lean.ts serves the same handlers first). Each answers 200 once the effect is committed, so the gateway's retries are the safety net. */
export function smsRoutes(app: Express, deps: SmsDeps): void {
  postForm(app, '/sms/delivery', deliveryHandler(deps));
  postForm(app, '/sms/inbound', inboundHandler(deps));
  postForm(app, '/sms/optout', optoutHandler(deps));
}
