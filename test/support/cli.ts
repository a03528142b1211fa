/**
 * `sabatili …` for tests: in this process through the command parser (src/cli/program.js `run`, as
 * bin/sabatili.js runs it), or, once per command family, as the real binary in a child process.
 */
import { execFile } from 'node:child_process';
import { PassThrough, Readable } from 'node:stream';
import { run } from '../../src/cli/program.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** What a command wrote, as it writes it. */
export interface Sink {
  text: string;
  write(s: string): boolean;
  /** Resolves once the text contains `s`. */
  shows(s: string): Promise<void>;
}

export interface CliCapture {
  stdout: Sink;
  stderr: Sink;
}

function sink(): Sink {
  const waiting: Array<{ s: string; resolve: () => void }> = [];
  const self: Sink = {
    text: '',
    write(s) {
      self.text += s;
      for (const w of waiting.filter((x) => self.text.includes(x.s))) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve();
      }
      return true;
    },
    shows: (s) => (self.text.includes(s) ? Promise.resolve() : new Promise((resolve) => waiting.push({ s, resolve }))),
  };
  return self;
}

const capture = (): CliCapture => ({ stdout: sink(), stderr: sink() });

/**
 * Runs a command in this process: `env` is the whole environment (LOG_LEVEL silent unless given),
 * `stdin` what is piped in (a string, or a stream the test writes to as it goes).
 */
export async function sabatili(
  args: string[],
  opts: { env?: Record<string, string>; stdin?: string | NodeJS.ReadableStream; output?: CliCapture; now?: () => number } = {},
): Promise<CliResult> {
  const out = opts.output ?? capture();
  const stdin = typeof opts.stdin === 'string' || opts.stdin === undefined ? Readable.from([opts.stdin ?? '']) : opts.stdin;
  const code = await run(args, { env: { LOG_LEVEL: 'silent', ...opts.env }, stdin, stdout: out.stdout, stderr: out.stderr, now: opts.now });
  // The command stands for a process of its own, whose end the server hears of in a later turn of
  // its event loop: the server's reads of this turn share one snapshot (src/db/connection.ts ReadWindow).
  await new Promise((resolve) => setImmediate(resolve));
  return { code, stdout: out.stdout.text, stderr: out.stderr.text };
}

/** A command whose standard input the test types into while it runs (`now`: the simulated gateway's clock). */
export function interactive(args: string[], env: Record<string, string> = {}, now?: () => number) {
  const output = capture();
  const stdin = new PassThrough();
  const done = sabatili(args, { env, stdin, output, now });
  return {
    output,
    done,
    stdin,
    /** Types a line once the output shows `after`. */
    async type(after: string, line: string): Promise<void> {
      await output.stdout.shows(after);
      stdin.write(`${line}\n`);
    },
    end: () => stdin.end(),
  };
}

/** The real binary, `node bin/sabatili.js ARGS…`, in a child process (with this process's environment and `env`). */
export function spawnSabatili(
  args: string[],
  opts: { env?: Record<string, string>; stdin?: string; node?: string[] } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      'node',
      [...(opts.node ?? []), 'bin/sabatili.js', ...args],
      { env: { ...process.env, LOG_LEVEL: 'silent', ...opts.env }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
    child.stdin?.end(opts.stdin ?? '');
  });
}
