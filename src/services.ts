import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import { createCallbackStore } from './db/callbacks.ts';
import { openDatabase, type Db } from './db/connection.ts';
import { createChangeWatch } from './db/freshness.ts';
import { createHouseholdStore } from './db/households.ts';
import { createMutuelleStore } from './db/mutuelles.ts';
import { createPreferenceStore } from './db/preferences.ts';
import { createSessionStore } from './db/sessions.ts';
import { loadCatalogs } from './i18n/catalog.ts';
import type { Logger } from './log.ts';
import { createUssdEngine } from './ussd/engine.ts';
import { identifyCaller, provideFlows } from './ussd/providers.ts';

/** The product shown to callers who are not members yet (the rural product of the demo network). */
export const OFFER_PRODUCT_ID = 'rural';

/** The composition root: one database connection, the stores on it, and the USSD engine wired to them. */
export function createServices(config: Config, clock: Clock, logger: Logger, db: Db = openDatabase(config.DATABASE_PATH)) {
  const watch = createChangeWatch(db);
  const households = createHouseholdStore(db, watch);
  const preferences = createPreferenceStore(db);
  const callbacks = createCallbackStore(db);
  const mutuelles = createMutuelleStore(db);
  const sessions = createSessionStore(db);
  const catalogs = loadCatalogs();
  const flows = provideFlows({ households, preferences, callbacks, mutuelles, clock, offerProductId: OFFER_PRODUCT_ID });
  const engine = createUssdEngine({
    flows,
    sessions,
    watch,
    catalogs,
    clock,
    logger,
    identify: (phone) => identifyCaller(households, preferences, phone),
    serviceCode: config.USSD_SERVICE_CODE,
    budgetMs: config.USSD_BUDGET_MS,
    resumeMs: config.USSD_RESUME_MINUTES * 60_000,
    foldMode: config.GSM_FOLD,
  });
  return { config, clock, logger, db, watch, households, preferences, callbacks, mutuelles, sessions, catalogs, flows, engine };
}

export type Services = ReturnType<typeof createServices>;
