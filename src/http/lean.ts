import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type express from 'express';
import proxyaddr from 'proxy-addr';
import type { Services } from '../services.ts';
import { createApp } from './app.ts';
import { asRefusal, bugReply, plainRefusal, writePlain } from './errors.ts';
import { type FormHandler, readForm } from './form.ts';
import { gatewayCheck } from './gateway-key.ts';
import { deliveryHandler, inboundHandler, optoutHandler } from './sms.ts';
import { ussdEventHandler, ussdHopHandler } from './ussd.ts';

export type HttpHandler = ((req: IncomingMessage, res: ServerResponse) => void) & { app: express.Express };

/**
 * The server's request handler: the gateway callbacks (POST /ussd, /ussd/events, /sms/inbound,
 * /sms/delivery, /sms/optout, at exactly these paths) are answered here without express's
 * per-request machinery (its request/response prototypes, router walk, query parser and send());
 * every other request, including any other method or spelling of those paths (GET /ussd, /USSD,
 * /ussd/), goes to the express app, which answers as it always has.
 *
 * Same behaviour as the express routes, which use the same handlers (ussd.ts, sms.ts): the
 * gateway key and address check first, before the body is read (gateway-key.ts, constant time; the
 * client address resolved by express's own proxy-addr with the app's compiled TRUST_PROXY), then
 * the form with its 8 KB limit and Content-Type check (form.ts), zod validation and its 4xx
 * bodies, the effect, and a text/plain reply with the headers express would send. A refusal and
 * a bug are answered by the same functions as the app's errorHandler (errors.ts): the refusal's
 * 4xx, or a logged 500 (a failed USSD hop never gets there: its handler answers the polite END
 * screen).
 */
export function createHttpHandler(s: Services, app: express.Express = createApp(s)): HttpHandler {
  const ussd = { engine: s.engine, sessions: s.sessions, clock: s.clock, logger: s.logger };
  const sms = { outbox: s.outbox, inbound: s.inbound, logger: s.logger };
  const routes = new Map<string, FormHandler>([
    ['/ussd', ussdHopHandler(ussd)],
    ['/ussd/events', ussdEventHandler(ussd)],
    ['/sms/inbound', inboundHandler(sms)],
    ['/sms/delivery', deliveryHandler(sms)],
    ['/sms/optout', optoutHandler(sms)],
  ]);
  const check = gatewayCheck({ key: s.config.GATEWAY_CALLBACK_KEY, allowedIps: s.config.GATEWAY_ALLOWED_IPS });
  // The function express compiled from TRUST_PROXY (app.set('trust proxy', …) in createApp), so req.ip means the same here.
  const trust = app.get('trust proxy fn') as Parameters<typeof proxyaddr>[1];
  const clientIp = (req: IncomingMessage) => proxyaddr(req, trust);
  const logger = s.logger;

  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown) => {
    const refusal = asRefusal(err);
    const reply = refusal ? plainRefusal(refusal.message, refusal.status) : bugReply(logger, req, err);
    if (res.headersSent) return void res.destroy();
    writePlain(res, reply);
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, path: string, handler: FormHandler) => {
    if (check) {
      const why = check(() => clientIp(req), req.url as string);
      if (why) {
        logger.warn({ ip: clientIp(req), path }, `gateway callback refused: ${why}`);
        return writePlain(res, { status: 403, body: `Forbidden: ${why}\n` });
      }
    }
    writePlain(res, await handler(await readForm(req)));
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST') {
      const url = req.url as string;
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      const handler = routes.get(path);
      if (handler) {
        serve(req, res, path, handler).catch((err: unknown) => fail(req, res, err));
        return;
      }
    }
    app(req, res);
  };
  return Object.assign(handle, { app });
}

/** An HTTP server for the handler, listening as express's app.listen does: the callback gets a listen error (once) instead of a throw. */
export function listen(handler: HttpHandler, port: number, host: string, done: (err?: Error) => void): Server {
  let called = false;
  const once = (err?: Error) => {
    if (called) return;
    called = true;
    done(err);
  };
  const server = createServer(handler);
  server.once('error', once);
  return server.listen(port, host, () => once());
}
