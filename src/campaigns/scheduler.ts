import { systemTimers, type TimerHandle, type Timers } from '../clock.ts';
import type { Logger } from '../log.ts';

/**
 * Runs a job inside the server at start and then every `intervalMs` (0: never). The timer is
 * unref'd: it never keeps a process alive on its own. A run still going when the next is due is
 * not doubled; stop() waits for it, so the database can be closed after.
 */
export function createScheduler(
  name: string,
  job: () => Promise<unknown>,
  logger: Logger,
  intervalMs: number,
  timers: Timers = systemTimers,
) {
  let timer: TimerHandle | null = null;
  let running: Promise<void> | null = null;

  const tick = () => {
    running ??= job()
      .then(
        () => undefined,
        (err: unknown) => logger.error({ err }, `${name}: scheduled run failed`),
      )
      .finally(() => {
        running = null;
      });
  };

  return {
    start(): void {
      if (timer || intervalMs <= 0) return;
      timer = timers.setInterval(tick, intervalMs);
      timer.unref?.();
      tick();
    },
    async stop(): Promise<void> {
      if (timer) timers.clearInterval(timer);
      timer = null;
      await running;
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
