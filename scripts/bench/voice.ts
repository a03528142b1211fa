/**
 * The voice budget (design.md, Performance budgets): a voice step costs no more than twice a USSD
 * hop, and a screen's audio on a cache hit is served without re-rendering. In one process, on one
 * database: the bench's 3-hop USSD sessions (load.ts PATHS) through the /ussd handler, and the same
 * journeys as calls (answered, then keys) through the voice handler, alternating by round; CPU time
 * per step is the figure (steadier than wall time on a shared machine). Then one screen's audio
 * (the contribution quote) rendered with no fragment made yet (eSpeak NG runs), again with its
 * fragments in memory (only joined and written), and served from the cache: each timed until its
 * bytes are read back, as a call is served.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { seedDemo } from '../../src/db/seed.ts';
import { ussdHopHandler } from '../../src/http/ussd.ts';
import { createLogger } from '../../src/log.ts';
import { createServices } from '../../src/services.ts';
import { speakScreen } from '../../src/voice/speech.ts';
import { PATHS, PHONES } from './load.ts';

export interface VoiceBenchFigures {
  ussdUsPerHop: number;
  voiceUsPerStep: number;
  /** voice / USSD, CPU per step: the budget is 2 or less. */
  ratio: number;
  synthesizer: boolean;
  coldMissMs: number | null;
  warmMissMs: number | null;
  hitMs: number | null;
  audioBytes: number | null;
}

/** The voice journeys matching PATHS: the call answered, then one key each (the second repeats instead of paging). */
const CALLS = [
  [null, '1', '1'],
  [null, '3', '*'],
] as const;

const cpu = () => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

export async function benchVoice(steps: number, rounds: number, log: (line: string) => void): Promise<VoiceBenchFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'sabatili-bench-voice-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_PATH: join(dir, 'voice.db'),
    USSD_RESUME_MINUTES: '0',
    VOICE_PRERENDER: 'false',
  });
  const s = createServices(config, systemClock, createLogger('silent'));
  try {
    seedDemo(s.db, systemClock);
    const hop = ussdHopHandler({ engine: s.engine, sessions: s.sessions, clock: s.clock, logger: s.logger });
    const links = {
      callback: (n: number) => `http://127.0.0.1/voice?step=${n}`,
      audio: (n: string) => `http://127.0.0.1/voice/audio/${n}`,
    };
    let bad = 0;
    let next = 0;

    const ussd = async (tag: string) => {
      let done = 0;
      while (done < steps) {
        const n = next++;
        const path = PATHS[n % PATHS.length] as readonly string[];
        const phoneNumber = PHONES[Math.floor(n / PATHS.length) % PHONES.length] as string;
        for (const text of path) {
          const r = await hop({ sessionId: `${tag}-${n}`, serviceCode: '*384*123#', phoneNumber, text });
          if (!r.body.startsWith('CON ')) bad++;
          done++;
        }
      }
      return done;
    };
    const voice = async (tag: string) => {
      let done = 0;
      while (done < steps) {
        const n = next++;
        const keys = CALLS[n % CALLS.length] as readonly (string | null)[];
        const callerNumber = PHONES[Math.floor(n / CALLS.length) % PHONES.length] as string;
        for (const [i, dtmfDigits] of keys.entries()) {
          const cb = {
            sessionId: `${tag}-${n}`,
            isActive: true,
            direction: 'Inbound' as const,
            callerNumber,
            dtmfDigits: dtmfDigits ?? undefined,
          };
          const xml = await s.voice.calls.handle(cb, i === 0 ? null : i, links);
          if (!xml.includes('<GetDigits')) bad++;
          done++;
        }
      }
      return done;
    };
    const measure = async (run: (tag: string) => Promise<number>, tag: string) => {
      const c0 = cpu();
      const done = await run(tag);
      return (cpu() - c0) / done;
    };

    await measure(ussd, 'warm-u');
    await measure(voice, 'warm-v');
    const u: number[] = [];
    const v: number[] = [];
    for (let r = 1; r <= rounds; r++) {
      u.push(await measure(ussd, `u${r}`));
      v.push(await measure(voice, `v${r}`));
      log(`round ${r}: USSD ${u.at(-1)?.toFixed(1)} µs CPU per hop, voice ${v.at(-1)?.toFixed(1)} µs CPU per step`);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const ussdUs = median(u);
    const voiceUs = median(v);
    if (bad) log(`malformed answers: ${bad}`);

    // One screen's audio: the contribution quote, as a call hears it.
    const quote = speakScreen(s.catalogs, {
      lang: 'fr',
      key: 'contribute.quote.covered',
      params: { amount: 1250, fee: 100, bearer: 'member', total: 1350, until: '2026-05-31' },
      lines: null,
      choices: [
        { value: 'confirm', labelKey: 'contribute.confirm', number: 1 },
        { value: 'cancel', labelKey: 'contribute.cancel', number: 2 },
      ],
      input: 'choice',
      end: false,
      error: null,
      back: true,
      home: true,
    });
    const lib = s.voice.library;
    const synthesizer = lib.playable(quote);
    let cold: number | null = null;
    let warm: number | null = null;
    let hit: number | null = null;
    let bytes: number | null = null;
    if (synthesizer) {
      const hash = lib.prepare(quote, false);
      // Each case is timed as a call is served: the audio made (or found), then read to be sent.
      const serve = async () => readFileSync((await lib.file(hash)) as string).length;
      let t = performance.now();
      bytes = await serve();
      cold = performance.now() - t;
      // Milliseconds each: averaged over repetitions, since one run of either is within the timer's noise.
      const misses = 20;
      let spent = 0;
      for (let i = 0; i < misses; i++) {
        lib.evict(hash);
        t = performance.now();
        await serve();
        spent += performance.now() - t;
      }
      warm = spent / misses;
      const hits = 200;
      t = performance.now();
      for (let i = 0; i < hits; i++) await serve();
      hit = (performance.now() - t) / hits;
    }
    return {
      ussdUsPerHop: ussdUs,
      voiceUsPerStep: voiceUs,
      ratio: voiceUs / ussdUs,
      synthesizer,
      coldMissMs: cold,
      warmMissMs: warm,
      hitMs: hit,
      audioBytes: bytes,
    };
  } finally {
    s.db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
