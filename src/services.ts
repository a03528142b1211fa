import { createCampaigns } from './campaigns/campaigns.ts';
import { createReminders } from './campaigns/reminders.ts';
import { createScheduler } from './campaigns/scheduler.ts';
import { createBatches } from './claims/batches.ts';
import { createVisits } from './claims/visits.ts';
import { type Clock, systemTimers, type Timers } from './clock.ts';
import { type Config, DEMO_VOICE_NUMBER } from './config.ts';
import { createCallbackStore } from './db/callbacks.ts';
import { createClaimStore } from './db/claims.ts';
import { type Db, openDatabase } from './db/connection.ts';
import { createFacilityStore } from './db/facilities.ts';
import { createChangeWatch } from './db/freshness.ts';
import { createHouseholdStore } from './db/households.ts';
import { createMutuelleStore } from './db/mutuelles.ts';
import { createPreferenceStore } from './db/preferences.ts';
import { secretFor } from './db/secrets.ts';
import { createSessionStore } from './db/sessions.ts';
import { createVoiceCallStore } from './db/voice-outbox.ts';
import { loadCatalogs, translate } from './i18n/catalog.ts';
import { type IdSource, randomIds } from './ids.ts';
import type { Logger } from './log.ts';
import { createAudit } from './office/audit.ts';
import { createCallbackQueue } from './office/callback-queue.ts';
import { createMemberSearch, createSupport } from './office/members.ts';
import { createReminderRules } from './office/reminder-rules.ts';
import { createStaffStore } from './office/staff.ts';
import { readFeeGrids } from './payments/fee-grid.ts';
import { createOrangeSimulator } from './payments/orange-simulator.ts';
import { createPayments } from './payments/payments.ts';
import { CALLBACK_PATH, DISBURSEMENT_CALLBACK_PATH } from './payments/port.ts';
import { createFakeAtVoice } from './simulator/fake-at-gateway.ts';
import { ownCallbackUrl } from './simulator/own-url.ts';
import { createSimulatorSms } from './simulator/sms.ts';
import { createUssdGateway } from './simulator/ussd-gateway.ts';
import { createVoiceGateway } from './simulator/voice-gateway.ts';
import { createDispatcher } from './sms/dispatcher.ts';
import { createInboundHandler } from './sms/inbound.ts';
import { createOutbox } from './sms/outbox.ts';
import type { SmsTransport } from './sms/transport.ts';
import { createAfricasTalkingTransport } from './sms/transports/africastalking.ts';
import { createUssdEngine } from './ussd/engine.ts';
import { identifyCaller, provideFlows } from './ussd/providers.ts';
import { createVoice } from './voice/index.ts';
import { createMissedCalls } from './voice/missed-calls.ts';
import { createCalls } from './voice/outbound.ts';
import { createAfricasTalkingCalls } from './voice/outbound-transport.ts';

/** The product shown to callers who are not members yet (the rural product of the demo network). */
export const OFFER_PRODUCT_ID = 'rural';

/** The API key the built-in fake gateway expects when AT_API_KEY is unset. */
export const SIMULATOR_API_KEY = 'sabatili-simulator';
/** Where the app serves the fake voice API (AT_VOICE_URL for the simulator). */
export const FAKE_VOICE_PATH = '/simulator/at-voice';

/**
 * The composition root of the server, the command line and the tests: one database connection, the
 * stores on it, the USSD engine, the payments and the SMS layer wired to them. Building it starts
 * nothing; the server starts the jobs (src/server.ts). `ids` makes the ids a member or tester sees
 * (operator transaction ids, simulated message ids) deterministic in transcripts; `timers` lets tests
 * step the dispatcher and the schedulers instead of waiting for them.
 */
export function createServices(
  config: Config,
  clock: Clock,
  logger: Logger,
  db: Db = openDatabase(config.DATABASE_PATH),
  ids: IdSource = randomIds,
  timers: Timers = systemTimers,
) {
  const watch = createChangeWatch(db);
  const households = createHouseholdStore(db, watch);
  const preferences = createPreferenceStore(db);
  const callbacks = createCallbackStore(db);
  const mutuelles = createMutuelleStore(db);
  const sessions = createSessionStore(db);
  const facilities = createFacilityStore(db, watch);
  const claims = createClaimStore(db);
  const catalogs = loadCatalogs();
  const outbox = createOutbox(db, clock, {
    foldMode: config.GSM_FOLD,
    allowUcs2: config.SMS_ALLOW_UCS2,
    allowedCountries: config.SMS_ALLOWED_COUNTRIES,
  });
  // Outbound calls (call-backs of missed calls, reminder calls) through the real SDK. Outside
  // production, with no AT_VOICE_URL, they go to this server's own fake voice API (the simulator).
  const voiceUrl = (): string | undefined =>
    config.AT_VOICE_URL ??
    (config.NODE_ENV !== 'production' && config.SIMULATOR_ENABLED
      ? `${publicUrl ?? `http://127.0.0.1:${config.PORT}`}${FAKE_VOICE_PATH}`
      : undefined);
  const calls = createCalls(
    db,
    createAfricasTalkingCalls({
      username: config.AT_USERNAME,
      apiKey: config.AT_API_KEY ?? SIMULATOR_API_KEY,
      voiceUrl,
      timeoutMs: config.VOICE_CALL_TIMEOUT_MS,
      timers,
      logger,
    }),
    clock,
    logger,
    ids,
    {
      from: config.VOICE_NUMBER,
      maxAttempts: config.VOICE_MAX_ATTEMPTS,
      retryBaseMs: config.VOICE_RETRY_BASE_MS,
      ringAgainMs: config.VOICE_REMINDER_RING_AGAIN_MINUTES * 60_000,
      hours: { startHour: config.REMINDER_START_HOUR, endHour: config.REMINDER_END_HOUR },
      pollMs: config.SMS_POLL_MS,
      stalePlacingMs: 3 * config.VOICE_CALL_TIMEOUT_MS,
      staleRingingMs: 2 * 3_600_000,
      timers,
    },
  );
  const missedCalls = createMissedCalls({
    enabled: config.VOICE_CALL_BACK_MISSED,
    households,
    calls,
    store: createVoiceCallStore(db),
    clock,
  });
  // Africa's Talking's voice API as the simulator answers it: the calls placed ring the simulated phones.
  const fakeVoice = createFakeAtVoice({
    apiKey: config.AT_API_KEY ?? SIMULATOR_API_KEY,
    logger,
    keep: 1000,
    onCall: (c) => voiceGateway.ring(c),
  });
  const reminders = createReminders({
    db,
    clock,
    outbox,
    preferences,
    catalogs,
    logger,
    serviceCode: config.USSD_SERVICE_CODE,
    hours: { startHour: config.REMINDER_START_HOUR, endHour: config.REMINDER_END_HOUR },
    // Without a voice number no call can be placed: households preferring calls get the SMS.
    calls: config.VOICE_NUMBER ? calls : undefined,
  });
  const reminderScheduler = createScheduler(
    'reminders',
    () => reminders.runInSlices(),
    logger,
    config.REMINDERS_INTERVAL_SECONDS * 1000,
    timers,
  );
  const hopsRetention = createScheduler(
    'ussd hops retention',
    async () => {
      const pruned = sessions.pruneHops(clock.now().getTime() - config.USSD_HOPS_RETENTION_DAYS * 86_400_000);
      if (pruned) logger.info({ pruned }, 'ussd: old hop screens pruned');
    },
    logger,
    86_400_000,
    timers,
  );

  // Where the gateway and the operator (real or simulated) reach this server; known once it listens.
  let publicUrl: string | undefined;
  const feeGrids = readFeeGrids();
  // Production requires the variable (config.ts); elsewhere the database keeps a random one of its own.
  const paymentSecret = config.PAYMENT_CALLBACK_SECRET ?? secretFor(db, 'payment_callback');
  const orange = createOrangeSimulator(db, clock, logger, {
    secret: paymentSecret,
    expiryMs: config.PAYMENT_EXPIRY_SECONDS * 1000,
    duplicateCallbacks: () => config.SIMULATOR_DUPLICATE_CALLBACKS,
    ids,
  });
  const payments = createPayments({
    db,
    households,
    outbox,
    clock,
    logger,
    catalogs,
    feeGrids,
    onContribution: reminders.cancelPending,
    provider: orange.provider,
    expiryMs: config.PAYMENT_EXPIRY_SECONDS * 1000,
    statusAfterMs: config.PAYMENT_STATUS_AFTER_SECONDS * 1000,
    feeBearer: config.PAYMENT_FEE_BEARER,
    serviceCode: config.USSD_SERVICE_CODE,
    callbackUrl: () => `${publicUrl ?? `http://127.0.0.1:${config.PORT}`}${CALLBACK_PATH}`,
  });
  // A payment recorded but never sent, or never answered, is settled by asking again (never by hoping).
  const paymentRecovery = createScheduler(
    'payments recovery',
    () => payments.recover(),
    logger,
    config.PAYMENT_SWEEP_SECONDS * 1000,
    timers,
  );
  // Facilities paid for their approved claims, batch by batch, by the operator's disbursement.
  const batches = createBatches({
    db,
    claims,
    facilities,
    outbox,
    clock,
    logger,
    provider: orange.provider,
    message: (lang, key, params) => translate(catalogs, lang, key, params),
    callbackUrl: () => `${publicUrl ?? `http://127.0.0.1:${config.PORT}`}${DISBURSEMENT_CALLBACK_PATH}`,
    statusAfterMs: config.PAYMENT_STATUS_AFTER_SECONDS * 1000,
  });
  const batchRecovery = createScheduler(
    'disbursements recovery',
    () => batches.recover(),
    logger,
    config.PAYMENT_SWEEP_SECONDS * 1000,
    timers,
  );
  const visits = createVisits({
    db,
    facilities,
    claims,
    households,
    outbox,
    clock,
    logger,
    text: (lang, key, params) => translate(catalogs, lang, key, { code: config.USSD_SERVICE_CODE, ...params }),
  });
  const flows = provideFlows({
    households,
    preferences,
    callbacks,
    mutuelles,
    optOuts: outbox,
    clock,
    offerProductId: OFFER_PRODUCT_ID,
    payments,
    feeGrids,
    feeBearer: config.PAYMENT_FEE_BEARER,
    limits: { min: config.CONTRIBUTION_MIN, max: config.CONTRIBUTION_MAX },
    sessions,
    forgetSession: (sessionId) => engine.forget(sessionId),
    visits,
  });
  const engine = createUssdEngine({
    flows,
    sessions,
    watch,
    catalogs,
    clock,
    logger,
    identify: (phone) => identifyCaller(households, preferences, facilities, phone),
    serviceCode: config.USSD_SERVICE_CODE,
    budgetMs: config.USSD_BUDGET_MS,
    resumeMs: config.USSD_RESUME_MINUTES * 60_000,
    foldMode: config.GSM_FOLD,
  });

  const voice = createVoice({
    config,
    db,
    engine,
    sessions,
    facilities,
    catalogs,
    clock,
    logger,
    // Missed-call mode (VOICE_CALL_BACK_MISSED): a member's call is rejected, free for the caller, and called back.
    onInboundCall: (phone) => missedCalls.decideInbound(phone, clock.now()).action,
    outbound: calls,
  });

  const simulatorSms = createSimulatorSms(db, clock, logger, {
    absentPhones: new Set(config.SIMULATOR_ABSENT_PHONES?.split(',') ?? []),
    deliveryDelayMs: config.SIMULATOR_DELIVERY_DELAY_MS,
    deliveryUrl: () => publicUrl,
    gatewayKey: config.GATEWAY_CALLBACK_KEY,
    ids,
  });
  const transport: SmsTransport & { confirm?(ids: number[]): Map<number, string> } =
    config.SMS_TRANSPORT === 'africastalking'
      ? createAfricasTalkingTransport({
          username: config.AT_USERNAME,
          apiKey: config.AT_API_KEY ?? '',
          from: config.AT_SENDER_ID,
          smsUrl: config.AT_SMS_URL,
          timeoutMs: config.SMS_TIMEOUT_MS,
          logger,
        })
      : simulatorSms.transport;
  const dispatcher = createDispatcher(db, transport, clock, logger, {
    ratePerSecond: config.SMS_RATE_PER_SECOND,
    dailyCap: config.SMS_DAILY_CAP,
    bulkSize: config.SMS_BULK_SIZE,
    maxAttempts: config.SMS_MAX_ATTEMPTS,
    retryBaseMs: config.SMS_RETRY_BASE_MS,
    pollMs: config.SMS_POLL_MS,
    staleSendingMs: 3 * config.SMS_TIMEOUT_MS,
    from: config.AT_SENDER_ID,
    timers,
  });
  // The browser phone's gateway: sessions in memory, as the real gateway keeps them, never in the app's tables.
  const ussdGateway = createUssdGateway({
    limits: { idleMs: config.SIMULATOR_USSD_IDLE_SECONDS * 1000, maxMs: config.SIMULATOR_USSD_MAX_SECONDS * 1000 },
    callbackUrl: ownCallbackUrl(() => publicUrl, config.GATEWAY_CALLBACK_KEY),
  });
  // The browser and terminal phones' voice gateway: calls in memory, posted to this server's /voice.
  // The caption of an answer is read from the app's own record of the call (voice_steps), never from the renderer.
  const voiceGateway = createVoiceGateway({
    voiceNumber: config.VOICE_NUMBER ?? DEMO_VOICE_NUMBER,
    url: () => publicUrl && `${publicUrl}/voice`,
    callbackUrl: ownCallbackUrl(() => publicUrl, config.GATEWAY_CALLBACK_KEY),
    caption: (sessionId, xml) =>
      voice.store
        .steps(sessionId)
        .filter((s) => s.xml === xml)
        .at(-1)?.caption ?? null,
  });
  const campaigns = createCampaigns({
    db,
    clock,
    outbox,
    serviceCode: config.USSD_SERVICE_CODE,
    costPerSegmentFcfa: config.SMS_COST_PER_SEGMENT_FCFA,
    hours: { startHour: config.REMINDER_START_HOUR, endHour: config.REMINDER_END_HOUR },
  });
  const inbound = createInboundHandler({
    db,
    outbox,
    households,
    preferences,
    callbacks,
    claims,
    catalogs,
    clock,
    serviceCode: config.USSD_SERVICE_CODE,
    repliesPerSenderPerHour: config.SMS_REPLIES_PER_SENDER_PER_HOUR,
  });

  const audit = createAudit(db);
  const office = {
    audit,
    staff: createStaffStore(db, clock, audit, config.STAFF_PASSWORD_COST),
    queue: createCallbackQueue(db, clock, audit),
    search: createMemberSearch(db),
    support: createSupport(db, { households, preferences, payments, sessions, outbox }),
    reminderRules: createReminderRules(db, clock, audit),
  };

  return {
    office,
    config,
    clock,
    logger,
    db,
    watch,
    households,
    preferences,
    callbacks,
    mutuelles,
    sessions,
    facilities,
    claims,
    visits,
    catalogs,
    flows,
    engine,
    voice,
    outbox,
    transport,
    dispatcher,
    inbound,
    simulatorSms,
    ussdGateway,
    voiceGateway,
    orange,
    payments,
    paymentRecovery,
    batches,
    batchRecovery,
    feeGrids,
    reminders,
    reminderScheduler,
    calls,
    missedCalls,
    fakeVoice,
    hopsRetention,
    campaigns,
    paymentSecret,
    publicUrl: () => publicUrl,
    setPublicUrl(url: string): void {
      publicUrl = url;
    },
    /**
     * Stops the jobs (a run in progress finishes first), cancels the simulators' pending
     * deliveries, then closes the connection: the one shutdown of the server, the CLI and the tests.
     */
    async close(): Promise<void> {
      await Promise.all([
        paymentRecovery.stop(),
        batchRecovery.stop(),
        reminderScheduler.stop(),
        hopsRetention.stop(),
        dispatcher.stop(),
        calls.stop(),
      ]);
      fakeVoice.releaseHanging();
      simulatorSms.close();
      ussdGateway.stop();
      voiceGateway.stop();
      orange.close();
      db.close();
    },
  };
}

export type Services = ReturnType<typeof createServices>;
