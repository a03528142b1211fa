import { systemClock } from '../clock.ts';
import { seedDemo } from '../db/seed.ts';
import { createLogger } from '../log.ts';
import { startServer } from '../server.ts';
import type { Cli } from './context.ts';

/** `sabatili serve`: runs until SIGINT or SIGTERM; its logs go to standard output, where a service manager reads them. */
export async function serve(cli: Cli): Promise<void> {
  const c = cli.config();
  const logger = createLogger(c.LOG_LEVEL);
  const running = await startServer(c, systemClock, logger);
  const stop = () => {
    logger.info('shutting down');
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** `sabatili seed`. */
export async function seed(cli: Cli): Promise<void> {
  const s = await cli.services();
  const r = seedDemo(s.db, s.clock);
  cli.print(`Demo data in ${s.config.DATABASE_PATH}: ${r.households} households and ${r.payments} payments added.`);
}
