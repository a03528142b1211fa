import { userInfo } from 'node:os';
import { type Clock, systemClock } from '../clock.ts';
import { type Config, ConfigError, loadConfig } from '../config.ts';
import { isRefusal } from '../domain/refusal.ts';
import { ListenError } from '../listen-error.ts';
import { createLogger, type Logger } from '../log.ts';
import type { Services } from '../services.ts';

/** Where a command writes: the process's streams, or strings a test reads. */
export interface Out {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** Everything a command reads from or writes to outside its arguments (src/cli/program.js `run`). */
export interface Io {
  env: Record<string, string | undefined>;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(raw: boolean): unknown };
  stdout: Out;
  stderr: Out;
  /** The clock of the simulated gateway's limits (`simulate --idle-seconds`); Date.now unless a test steps it. */
  now?: () => number;
}

/** Commands run on the server are audited under the name of the system user who ran them. */
export const cliActor = () => ({ staffId: null, name: userInfo().username });

/**
 * One command's run: its configuration, its logger (on standard error: standard output is the
 * command's answer) and, when it needs them, the application's services from the composition root
 * (src/services.ts), built on one connection and closed when the command ends.
 */
export class Cli {
  private cfg: Config | undefined;
  private opened: Services | undefined;
  private log: Logger | undefined;

  constructor(readonly io: Io) {}

  get stdout(): Out {
    return this.io.stdout;
  }

  get stderr(): Out {
    return this.io.stderr;
  }

  /** A line on standard output. */
  print(line: string): void {
    this.io.stdout.write(`${line}\n`);
  }

  /** A line on standard error. */
  warn(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }

  config(): Config {
    this.cfg ??= loadConfig(this.io.env);
    return this.cfg;
  }

  logger(): Logger {
    this.log ??= createLogger(this.config().LOG_LEVEL, { write: (line: string) => void this.io.stderr.write(line) });
    return this.log;
  }

  /**
   * The services on the system clock, or on `clock` for a command run "as if it were then" (one clock per command).
   * The application's modules are loaded only here: a command that needs no services, or refuses its
   * arguments first, starts without them (a second of CPU time per process).
   */
  async services(clock: Clock = systemClock): Promise<Services> {
    if (this.opened && this.opened.clock !== clock) throw new Error('a command uses one clock');
    if (!this.opened) {
      const { createServices } = await import('../services.ts');
      this.opened ??= createServices(this.config(), clock, this.logger());
    }
    return this.opened;
  }

  /** The row `cli.run` of an audited command, at the real time even for a command run "as if it were then". */
  async audit(path: string, args: string[], options: Record<string, unknown>): Promise<void> {
    const s = this.opened ?? (await this.services());
    s.office.audit.record(cliActor(), systemClock.now(), {
      action: 'cli.run',
      entity: 'command',
      entityId: path,
      after: { args, options },
    });
  }

  async close(): Promise<void> {
    await this.opened?.close();
    this.opened = undefined;
  }
}

/**
 * What the person typing the command got wrong, a Refusal (exit code 2: its message and the lines
 * at fault, without a stack trace), as opposed to a bug (thrown on: exit code 1 with its stack).
 */
function refusal(err: unknown): string[] | null {
  if (!isRefusal(err)) return null;
  const lines = (err.details.errors as Array<{ line: number; message: string }> | undefined) ?? [];
  return [err.message, ...lines.map((e) => `  line ${e.line}: ${e.message}`)];
}

export type Handler<A extends unknown[]> = (cli: Cli, ...args: A) => number | undefined | Promise<number | undefined>;

/**
 * Runs one command's handler and answers its exit code: 0, what the handler returns, 2 for a
 * refusal, 1 for a configuration the server cannot start with. Anything else is a bug and rejects,
 * once the services are closed: the binary then exits 1 with its stack (Node's own handling, which
 * also ends a server left half started). Audited commands leave a row `cli.run` once they have run.
 */
export async function execute<A extends unknown[]>(
  io: Io,
  handler: Handler<A>,
  args: A,
  audit: { path: string; args: string[]; options: Record<string, unknown> } | null,
): Promise<number> {
  const cli = new Cli(io);
  let code: number;
  try {
    code = (await handler(cli, ...args)) ?? 0;
  } catch (err) {
    const lines = refusal(err);
    if (lines) {
      for (const line of lines) cli.warn(line);
      code = 2;
    } else if (err instanceof ConfigError || err instanceof ListenError) {
      cli.warn(err instanceof ListenError ? `sabatili: ${err.message}` : err.message);
      await cli.close();
      return 1;
    } else {
      await cli.close();
      throw err;
    }
  }
  try {
    if (audit) await cli.audit(audit.path, audit.args, audit.options);
  } finally {
    await cli.close();
  }
  return code;
}
