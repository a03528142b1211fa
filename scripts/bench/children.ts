import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromChild, SessionStats, ToChild, Usage } from './protocol.ts';

const live = new Set<ChildProcess>();

/** Kills every server still running; safe to call from an 'exit' handler. */
export function killAll(): void {
  for (const p of live) p.kill('SIGKILL');
  live.clear();
}

export interface ChildOptions {
  /** Environment added to the parent's. */
  env?: Record<string, string>;
  /** Node flags added to the parent's own (e.g. `--cpu-prof`). */
  nodeFlags?: string[];
  startTimeoutMs?: number;
}

/** A bench server in a child process, with the same Node flags as this process (so `--import tsx`). */
export class BenchChild {
  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
    readonly port: number,
  ) {}

  static async start(
    name: string,
    script: 'baseline-server.ts' | 'sabatili-server.ts' | 'peer-server.ts' | 'raw-server.ts',
    opts: ChildOptions = {},
  ): Promise<BenchChild> {
    const proc = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
      execArgv: [...process.execArgv, ...(opts.nodeFlags ?? [])],
      env: { ...process.env, NODE_ENV: 'production', ...opts.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    try {
      const ready = await nextMessage(proc, 'ready', opts.startTimeoutMs ?? 60_000);
      return new BenchChild(name, proc, ready.port);
    } catch (err) {
      proc.kill('SIGKILL');
      throw new Error(`${name} server did not start: ${(err as Error).message}`);
    }
  }

  async usage(): Promise<Usage> {
    this.proc.send({ type: 'usage' } satisfies ToChild);
    return (await nextMessage(this.proc, 'usage')).usage;
  }

  async stats(): Promise<SessionStats | null> {
    this.proc.send({ type: 'stats' } satisfies ToChild);
    return (await nextMessage(this.proc, 'stats')).stats;
  }

  /** Starts the child's CPU profiler (the measured window's, without start-up and warm-up). */
  async profileStart(): Promise<void> {
    this.proc.send({ type: 'profile', action: 'start' } satisfies ToChild);
    await nextMessage(this.proc, 'profile');
  }

  /** Stops it and has the child write the profile to `file`. */
  async profileStop(file: string): Promise<void> {
    this.proc.send({ type: 'profile', action: 'stop', file } satisfies ToChild);
    await nextMessage(this.proc, 'profile');
  }

  /** Asks the child to exit (closing its server and database), and kills it if it does not within the grace period. */
  async stop(graceMs = 10_000): Promise<void> {
    const proc = this.proc;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    if (proc.connected) proc.send({ type: 'exit' } satisfies ToChild);
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

function nextMessage<T extends FromChild['type']>(
  proc: ChildProcess,
  type: T,
  timeoutMs = 30_000,
): Promise<Extract<FromChild, { type: T }>> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      proc.off('message', onMessage);
      proc.off('exit', onExit);
    };
    const onMessage = (m: FromChild) => {
      if (m.type !== type) return;
      cleanup();
      resolve(m as Extract<FromChild, { type: T }>);
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`exited (code ${code}, signal ${signal}) while waiting for '${type}'`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no '${type}' message within ${timeoutMs} ms`));
    }, timeoutMs);
    proc.on('message', onMessage);
    proc.once('exit', onExit);
  });
}
