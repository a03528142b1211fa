/** Messages between scripts/bench.ts and the servers it forks (over the IPC channel of child_process.fork). */

/** `profile`: start the CPU profiler, or stop it and write the profile to `file` (the measured window only). */
export type ToChild =
  | { type: 'usage' }
  | { type: 'stats' }
  | { type: 'exit' }
  | { type: 'profile'; action: 'start' }
  | { type: 'profile'; action: 'stop'; file: string };

/** The child's memory (bytes) and CPU time used so far (microseconds, all threads: JS, GC, SQLite). */
export interface Usage {
  rss: number;
  heapUsed: number;
  cpuUs: number;
  /** The part of cpuUs spent in the kernel (writes to the socket and to the database's files). */
  sysUs: number;
  /**
   * How late a timer fires, since the previous report (ms). Under saturation it is about one batch of queued
   * requests; a max far above the p99 points at a synchronous stall (a WAL checkpoint's fsync, a GC pause).
   */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

/** What the sabatili child found in its database after a run: a check that the load took the intended paths. */
export interface SessionStats {
  sessions: number;
  hops: number;
  /** Sessions by the flow they ended in (coverage, history, or '@resume' when the resume offer was shown). */
  byMachine: Record<string, number>;
}

export type FromChild =
  | { type: 'ready'; port: number }
  | { type: 'usage'; usage: Usage }
  | { type: 'stats'; stats: SessionStats | null }
  | { type: 'profile' };
