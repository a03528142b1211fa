import { randomBytes } from 'node:crypto';
import express, { type Express } from 'express';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import { parse, plainRefusal, writePlain } from '../http/errors.ts';
import { e164 } from '../http/form.ts';
import { withGatewayKey } from '../http/gateway-key.ts';
import type { SimulatorSms } from './sms.ts';

const phoneQuery = z.object({ phone: e164 });
const inboundBody = z.object({ from: e164, text: z.string().min(1, { error: 'is required' }).max(1000) });

/**
 * The simulator's JSON API (design.md, "Simulator JSON API"): what the simulated phones received,
 * and a phone texting the app, posted to `/sms/inbound` exactly as the gateway would.
 */
export function simulatorRoutes(
  app: Express,
  deps: { sms: SimulatorSms; clock: Clock; selfUrl: () => string | undefined; shortCode: string; gatewayKey?: string },
): void {
  app.get('/simulator/api/sms', (req, res) => {
    const q = parse(phoneQuery, req.query);
    res.json(deps.sms.inbox(q.phone));
  });

  app.post('/simulator/api/sms', express.json({ limit: '8kb' }), async (req, res) => {
    const b = parse(inboundBody, req.body);
    const url = deps.selfUrl();
    if (!url) return writePlain(res, plainRefusal('the server is not listening yet', 503));
    const id = `SIMIN-${randomBytes(6).toString('hex')}`;
    const gateway = await fetch(withGatewayKey(`${url}/sms/inbound`, deps.gatewayKey), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        date: deps.clock.now().toISOString().replace('T', ' ').slice(0, 19),
        from: b.from,
        id,
        linkId: '',
        text: b.text,
        to: deps.shortCode,
        networkCode: '61001',
        cost: 'None',
      }).toString(),
    });
    res.status(gateway.ok ? 202 : 502).json({ id, gatewayStatus: gateway.status });
  });
}
