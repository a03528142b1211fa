import express from 'express';
import { officeRoutes } from '../office/routes.ts';
import { FAKE_VOICE_PATH, type Services } from '../services.ts';
import { createFakeAtGateway } from '../simulator/fake-at-gateway.ts';
import { simulatorTargets } from '../simulator/own-url.ts';
import { simulatorRoutes } from '../simulator/routes.ts';
import { ussdGatewayRoutes } from '../simulator/ussd-routes.ts';
import { fakeVoiceRoutes } from '../simulator/voice-call-routes.ts';
import { voiceGatewayRoutes } from '../simulator/voice-routes.ts';
import { floatRoutes, walletRoutes } from '../simulator/wallet-routes.ts';
import { adminRoutes } from './admin.ts';
import { campaignRoutes } from './campaigns.ts';
import { errorHandler } from './errors.ts';
import { GATEWAY_PREFIXES, gatewayGuard } from './gateway-key.ts';
import { healthHandler } from './health.ts';
import { createKpiSource, kpiRoutes } from './kpi.ts';
import { disbursementRoutes, paymentRoutes } from './payments.ts';
import { smsRoutes } from './sms.ts';
import { ussdRoutes } from './ussd.ts';
import { voiceRoutes } from './voice.ts';

/** The HTTP face of sabatili: gateway callbacks, health, the simulator's API, and (later) the office console. */
export function createApp(s: Services): express.Express {
  const app = express();
  // ETags cost a hash per reply and USSD replies are never cached.
  app.set('etag', false);
  app.disable('x-powered-by');
  // req.ip is the client's only through the proxies named in TRUST_PROXY.
  app.set('trust proxy', s.config.TRUST_PROXY);

  // Before any gateway route, so that a callback without the key is refused before its body is read.
  if (s.config.GATEWAY_CALLBACK_KEY || s.config.GATEWAY_ALLOWED_IPS) {
    app.use(
      GATEWAY_PREFIXES,
      gatewayGuard({ key: s.config.GATEWAY_CALLBACK_KEY, allowedIps: s.config.GATEWAY_ALLOWED_IPS, logger: s.logger }),
    );
  }

  ussdRoutes(app, { engine: s.engine, sessions: s.sessions, clock: s.clock, logger: s.logger });
  smsRoutes(app, { outbox: s.outbox, inbound: s.inbound, logger: s.logger });
  voiceRoutes(app, {
    voice: s.voice,
    logger: s.logger,
    gatewayKey: s.config.GATEWAY_CALLBACK_KEY,
    publicUrl: () => s.config.VOICE_PUBLIC_URL ?? s.publicUrl() ?? `http://127.0.0.1:${s.config.PORT}`,
  });
  paymentRoutes(app, {
    payments: s.payments,
    secret: s.paymentSecret,
    clock: s.clock,
    maxAgeMs: s.config.PAYMENT_CALLBACK_MAX_AGE_SECONDS * 1000,
    logger: s.logger,
  });
  disbursementRoutes(app, {
    disbursements: s.batches,
    secret: s.paymentSecret,
    clock: s.clock,
    maxAgeMs: s.config.PAYMENT_CALLBACK_MAX_AGE_SECONDS * 1000,
    logger: s.logger,
  });
  const apiAudit = { audit: s.office.audit, clock: s.clock };
  adminRoutes(app, { db: s.db, token: s.config.ADMIN_TOKEN, audit: apiAudit });
  kpiRoutes(app, { db: s.db, clock: s.clock, campaigns: s.campaigns, token: s.config.ADMIN_TOKEN, config: s.config, audit: apiAudit });
  campaignRoutes(app, { campaigns: s.campaigns, token: s.config.ADMIN_TOKEN, logger: s.logger, audit: apiAudit });
  officeRoutes(app, {
    ...s.office,
    db: s.db,
    clock: s.clock,
    logger: s.logger,
    households: s.households,
    mutuelles: s.mutuelles,
    payments: s.payments,
    batches: s.batches,
    outbox: s.outbox,
    inbound: s.inbound,
    campaigns: s.campaigns,
    remindersIntervalSeconds: s.config.REMINDERS_INTERVAL_SECONDS,
    studio: s.voice.studio,
    kpis: createKpiSource({ db: s.db, clock: s.clock, campaigns: s.campaigns, config: s.config }),
  });
  if (s.config.SIMULATOR_ENABLED) {
    simulatorRoutes(app, {
      sms: s.simulatorSms,
      clock: s.clock,
      selfUrl: s.publicUrl,
      shortCode: s.config.AT_SENDER_ID ?? '36123',
      gatewayKey: s.config.GATEWAY_CALLBACK_KEY,
    });
    walletRoutes(app, s.orange);
    floatRoutes(app, s.orange);
    ussdGatewayRoutes(app, {
      gateway: s.ussdGateway,
      serviceCode: s.config.USSD_SERVICE_CODE,
      limits: { idleSeconds: s.config.SIMULATOR_USSD_IDLE_SECONDS, maxSeconds: s.config.SIMULATOR_USSD_MAX_SECONDS },
      handset: { pollMs: s.config.SIMULATOR_PHONE_POLL_MS, readMs: s.config.SIMULATOR_PHONE_READ_MS },
      mayPostTo: simulatorTargets({ host: s.config.HOST, selfUrl: s.publicUrl, allowed: s.config.SIMULATOR_ALLOWED_URLS }),
      selfUrl: s.publicUrl,
    });
    // Africa's Talking's SMS API, so that SMS_TRANSPORT=africastalking with AT_SMS_URL pointed here runs the real SDK end to end.
    const gateway = createFakeAtGateway({
      apiKey: s.config.AT_API_KEY ?? 'sabatili-simulator',
      onAccepted: (r) =>
        s.simulatorSms.receive({ providerId: r.messageId, to: r.number, from: r.from ?? null, text: r.message, segments: r.segments }),
      logger: s.logger,
    });
    app.use('/version1/messaging', gateway.router);
    fakeVoiceRoutes(app, s.fakeVoice, FAKE_VOICE_PATH);
    voiceGatewayRoutes(app, {
      gateway: s.voiceGateway,
      mayPostTo: simulatorTargets({ host: s.config.HOST, selfUrl: s.publicUrl, allowed: s.config.SIMULATOR_ALLOWED_URLS }),
    });
  }

  app.get('/healthz', healthHandler({ db: s.db, clock: s.clock, dispatcher: s.dispatcher }));

  app.use((req, res) => {
    res.status(404).type('text/plain').send(`Not found: ${req.method} ${req.path}\n`);
  });
  app.use(errorHandler({ logger: s.logger }));
  return app;
}
