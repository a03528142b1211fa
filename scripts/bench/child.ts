import { writeFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FromChild, SessionStats, ToChild } from './protocol.ts';

function send(message: FromChild): void {
  process.send?.(message);
}

/**
 * Listens on 127.0.0.1 on a free port, reports it to the parent, then answers the parent's
 * questions until it is told to exit. Exiting through process.exit lets `--cpu-prof` write its file.
 */
/** `handler`: an express app, or any node:http request listener. */
export async function serveForBench(
  handler: RequestListener,
  opts: { stats?: () => SessionStats; close?: () => void } = {},
): Promise<void> {
  if (!process.send) throw new Error('run me through scripts/bench.ts (I need an IPC channel)');
  const server = await new Promise<Server>((resolve, reject) => {
    const s = createServer(handler).listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('server has no TCP address');

  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  let inspector: Session | undefined;
  const profile = async (m: Extract<ToChild, { type: 'profile' }>) => {
    if (m.action === 'start') {
      inspector = new Session();
      inspector.connect();
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.start');
      return;
    }
    const { profile } = await (inspector as Session).post('Profiler.stop');
    writeFileSync(m.file, JSON.stringify(profile));
    (inspector as Session).disconnect();
  };

  const exit = () => {
    server.closeAllConnections();
    server.close();
    opts.close?.();
    process.exit(0);
  };
  process.on('message', (message: ToChild) => {
    switch (message.type) {
      case 'usage': {
        const { rss, heapUsed } = process.memoryUsage();
        const cpu = process.cpuUsage();
        const usage = {
          rss,
          heapUsed,
          cpuUs: cpu.user + cpu.system,
          sysUs: cpu.system,
          loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
          loopDelayMaxMs: loopDelay.max / 1e6,
        };
        loopDelay.reset();
        return send({ type: 'usage', usage });
      }
      case 'stats':
        return send({ type: 'stats', stats: opts.stats ? opts.stats() : null });
      case 'profile':
        return void profile(message).then(() => send({ type: 'profile' }));
      case 'exit':
        return exit();
    }
  });
  // The parent died without saying goodbye: do not linger.
  process.on('disconnect', exit);
  send({ type: 'ready', port: address.port });
}
