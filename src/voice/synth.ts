import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { Language } from '../i18n/catalog.ts';
import { decodeWav } from './wav.ts';

/** Reads a text aloud, for prompts not recorded yet. */
export interface Synthesizer {
  /** What status the library gives what it reads: how Bambara is read, said plainly. */
  describe(lang: Language): string;
  speak(text: string, lang: Language): Promise<Int16Array>;
}

export interface EspeakOptions {
  /** The espeak-ng binary: a path, or a name looked up on PATH. */
  command: string;
  timeoutMs: number;
  /** Syntheses at once (each is a process: the machine's cores are shared with the hops). */
  concurrency: number;
}

/** The binary's path when it exists and may be run, else null (voice then falls back to the gateway's own <Say>). */
export function findExecutable(command: string, path = process.env.PATH ?? ''): string | null {
  const candidates = isAbsolute(command) || command.includes('/') ? [command] : path.split(delimiter).map((d) => join(d, command));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not this one
    }
  }
  return null;
}

/**
 * eSpeak NG (Debian's `espeak-ng`): offline, open source, French voice. It has no Bambara voice:
 * Bambara text is read by the French voice (Bambara is written in Latin letters close to French
 * spelling, so it comes out understandable but with a French accent and no tones), and every such
 * prompt stays "synthetic" in the library until a native speaker records it.
 * Runs as a child process with a timeout, never on the hop: the library calls it when it renders
 * audio, a few at a time.
 */
export function createEspeak(opts: EspeakOptions): Synthesizer {
  let running = 0;
  const waiting: Array<() => void> = [];
  const slot = async () => {
    if (running >= opts.concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
  };
  const release = () => {
    running--;
    waiting.shift()?.();
  };

  const run = (text: string) =>
    new Promise<Buffer>((resolve, reject) => {
      const child = spawn(opts.command, ['--stdout', '-v', 'fr', '-s', '150', '--stdin'], { stdio: ['pipe', 'pipe', 'ignore'] });
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`espeak-ng took longer than ${opts.timeoutMs} ms`));
      }, opts.timeoutMs);
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(Buffer.concat(chunks));
        else reject(new Error(`espeak-ng exited with ${code}`));
      });
      child.stdin.on('error', () => {});
      child.stdin.end(text);
    });

  return {
    describe: (lang) => (lang === 'fr' ? 'eSpeak NG, voix française' : 'eSpeak NG, voix française lisant le bambara (pas de voix bambara)'),
    async speak(text) {
      await slot();
      try {
        return decodeWav(await run(text));
      } finally {
        release();
      }
    },
  };
}
