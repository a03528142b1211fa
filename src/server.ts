import type { Server } from 'node:http';
import { type Clock, systemTimers, type Timers } from './clock.ts';
import type { Config } from './config.ts';
import { isEmpty, seedDemo } from './db/seed.ts';
import { createHttpHandler, listen } from './http/lean.ts';
import { ListenError } from './listen-error.ts';
import type { Logger } from './log.ts';
import { createServices, type Services } from './services.ts';

/** The URL this server reaches itself at: a wildcard address is reached through loopback. */
function selfUrl(host: string, port: number): string {
  if (host === '0.0.0.0') return `http://127.0.0.1:${port}`;
  if (host === '::') return `http://[::1]:${port}`;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export interface Running {
  server: Server;
  services: Services;
  url: string;
  close(): Promise<void>;
}

/**
 * Opens the database (migrating it), loads the demo network on a first start outside production,
 * and listens; only then starts the dispatcher and the jobs. When it cannot listen it closes the
 * database and rejects with a ListenError naming the port: a second server on the same port and
 * database must not run jobs.
 */
export async function startServer(config: Config, clock: Clock, logger: Logger, timers: Timers = systemTimers): Promise<Running> {
  const services = createServices(config, clock, logger, undefined, undefined, timers);
  if (config.NODE_ENV !== 'production' && isEmpty(services.db)) {
    const seeded = seedDemo(services.db, clock);
    logger.info(seeded, 'first start: demo network loaded');
  }
  // The gateway callbacks on a lean path, everything else through the express app (src/http/lean.ts).
  const handler = createHttpHandler(services);
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      // A listen error comes to this callback instead of being thrown, as with express's app.listen.
      const s = listen(handler, config.PORT, config.HOST, (err?: Error) => (err ? reject(err) : resolve(s)));
    });
  } catch (err) {
    await services.close();
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'is already in use (another sabatili server?)' : `cannot be opened: ${(err as Error).message}`;
    throw new ListenError(`port ${config.PORT} on ${config.HOST} ${why}`);
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const url = selfUrl(config.HOST, port);
  services.setPublicUrl(url);
  services.dispatcher.start();
  services.calls.start();
  services.campaigns.continueUnfinished((err, id) => logger.error({ err, campaign: id }, 'campaigns: enqueue failed'));
  services.orange.start();
  services.paymentRecovery.start();
  services.batchRecovery.start();
  services.reminderScheduler.start();
  services.hopsRetention.start();
  if (config.SIMULATOR_ENABLED) {
    services.ussdGateway.start();
    services.voiceGateway.start();
  }
  // Where each voice prompt stands (recorded, synthetic, missing) for the figures; each take updates it after.
  services.voice.studio.survey();
  logger.info({ url, database: config.DATABASE_PATH, serviceCode: config.USSD_SERVICE_CODE }, 'sabatili listening');
  if (config.NODE_ENV !== 'production' && services.office.staff.count() === 0) {
    logger.info(
      `office console: no staff account yet; create the first with: npx sabatili staff add --email you@utm.ml --name "Your Name" --role manager, then log in at ${url}/admin`,
    );
  }
  return {
    server,
    services,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => void services.close().then(resolve));
        server.closeAllConnections();
      }),
  };
}
