import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PromptRow, PromptStatus } from '../db/voice.ts';
import { type Catalogs, LANGUAGES, type Language } from '../i18n/catalog.ts';
import type { Logger } from '../log.ts';
import type { Fragment, Prompt } from './speech.ts';
import type { Synthesizer } from './synth.ts';
import { decodeWav, encodeWav, silence } from './wav.ts';

export interface LibraryOptions {
  /** VOICE_DIR: recordings/<lang>/<slot>.wav (UTM's, take precedence) and cache/<hash>.wav (rendered screens). */
  dir: string;
  catalogs: Catalogs;
  /** Null when no synthesiser is installed: unrecorded prompts then fall back to the gateway's <Say>. */
  synth: Synthesizer | null;
  /** Disk the rendered screens may use; the least recently served are deleted beyond it. */
  cacheBytes: number;
  logger: Logger;
  /** Fragments kept decoded in memory (a word is about 0.5 s, 8 KB). */
  fragmentsInMemory?: number;
}

export const AUDIO_NAME = /^[0-9a-f]{32}$/;
/** The pause between two fragments of a prompt. */
const GAP_MS = 90;
/** Prompts described since start, by hash, so that a gateway fetching one renders it (the latest few thousand). */
const KNOWN_PROMPTS = 5000;

/** A prompt slot's file name: the slot itself (catalog keys and `key@i` need no escaping). */
const SLOT = /^[A-Za-z0-9._@-]+$/;

/**
 * The prompt library: where each recording slot's audio comes from (a recording by UTM, else the
 * synthetic voice), and each screen's prompt rendered to ONE file (the gateway's <GetDigits> plays
 * one), cached on disk by content hash. A hop only computes the hash (no audio work); the file is
 * made in the background right after, or when the gateway fetches it, and served as is afterwards.
 */
export function createPromptLibrary(opts: LibraryOptions) {
  const { catalogs, synth, logger } = opts;
  const recordingsDir = join(opts.dir, 'recordings');
  const cacheDir = join(opts.dir, 'cache');
  mkdirSync(cacheDir, { recursive: true });
  for (const lang of LANGUAGES) mkdirSync(join(recordingsDir, lang), { recursive: true });

  /**
   * Recordings on disk, per language, slot → a stamp that changes with the file (so a new take
   * changes every hash using it). By language then slot: a prompt's forty lookups take the slot's own
   * string as key, where a `lang/slot` key had to be built and hashed for each (half of a hash's time).
   */
  let recordings = new Map<Language, Map<string, string>>();
  /** Recordings that could not be read, `lang/slot` → why: the synthetic voice stands in, and the survey says so. */
  const flagged = new Map<string, string>();
  const fragments = new Map<string, Int16Array>();
  const fragmentsMax = opts.fragmentsInMemory ?? 4000;
  /** Rendered files, least recently served first, with their size. */
  const cached = new Map<string, number>();
  let cachedBytes = 0;
  const known = new Map<string, Prompt>();
  const rendering = new Map<string, Promise<string>>();

  function refresh(): void {
    const next = new Map<Language, Map<string, string>>();
    for (const lang of LANGUAGES) {
      const stamps = new Map<string, string>();
      for (const name of readdirSync(join(recordingsDir, lang))) {
        if (!name.endsWith('.wav')) continue;
        const s = statSync(join(recordingsDir, lang, name));
        stamps.set(name.slice(0, -4), `${s.size}:${s.mtimeMs}`);
      }
      next.set(lang, stamps);
    }
    recordings = next;
    flagged.clear();
  }
  refresh();

  for (const name of readdirSync(cacheDir)) {
    const hash = name.slice(0, -4);
    if (!name.endsWith('.wav') || !AUDIO_NAME.test(hash)) continue;
    const size = statSync(join(cacheDir, name)).size;
    cached.set(hash, size);
    cachedBytes += size;
  }

  const recordingOf = (lang: Language, f: Fragment) => (f.slot === null ? undefined : recordings.get(lang)?.get(f.slot));

  // Hashed in one piece: an update per fragment crossed into native code some thirty times a prompt (the same digest).
  function hashOf(p: Prompt): string {
    let content: string = p.lang;
    for (const f of p.fragments) content += `\u0000${f.slot ?? ''}\u0001${f.text}\u0001${recordingOf(p.lang, f) ?? ''}`;
    return createHash('sha256').update(content).digest('hex').slice(0, 32);
  }

  async function fragmentAudio(lang: Language, f: Fragment): Promise<Int16Array> {
    const key = `${lang}\u0000${f.slot ?? ''}\u0000${f.text}\u0000${recordingOf(lang, f) ?? ''}`;
    const hit = fragments.get(key);
    if (hit) return hit;
    let audio: Int16Array | undefined;
    if (f.slot !== null && recordingOf(lang, f) !== undefined) {
      try {
        audio = decodeWav(readFileSync(join(recordingsDir, lang, `${f.slot}.wav`)));
      } catch (err) {
        // A bad take must not silence the prompt: the synthetic voice reads it, and the survey flags the file.
        flagged.set(`${lang}/${f.slot}`, `enregistrement illisible: ${(err as Error).message}`);
        logger.warn({ lang, slot: f.slot, err }, 'voice: recording unreadable, synthetic voice used instead');
      }
    }
    if (!audio) {
      if (!synth) throw new Error(`no recording of ${lang}/${f.slot ?? f.text} and no synthesiser`);
      audio = await synth.speak(f.text, lang);
    }
    if (fragments.size >= fragmentsMax) fragments.delete(fragments.keys().next().value as string);
    fragments.set(key, audio);
    return audio;
  }

  function remember(hash: string, size: number): void {
    cachedBytes += size - (cached.get(hash) ?? 0);
    cached.delete(hash);
    cached.set(hash, size);
    for (const [old, oldSize] of cached) {
      if (cachedBytes <= opts.cacheBytes || old === hash) break;
      cached.delete(old);
      cachedBytes -= oldSize;
      rmSync(join(cacheDir, `${old}.wav`), { force: true });
    }
  }

  async function render(hash: string, p: Prompt): Promise<string> {
    const parts: Int16Array[] = [];
    for (const f of p.fragments) {
      if (parts.length > 0) parts.push(silence(GAP_MS));
      parts.push(await fragmentAudio(p.lang, f));
    }
    const wav = encodeWav(parts);
    const file = join(cacheDir, `${hash}.wav`);
    // Written whole, then renamed: the gateway never fetches half a file.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, wav);
    renameSync(tmp, file);
    remember(hash, wav.length);
    return file;
  }

  function ensure(hash: string, p: Prompt): Promise<string> {
    const running = rendering.get(hash);
    if (running) return running;
    const job = render(hash, p).finally(() => rendering.delete(hash));
    rendering.set(hash, job);
    return job;
  }

  /**
   * Every recording slot of a language, with its text: each catalog message in pieces around its
   * placeholders. SMS texts are never spoken, except the reminders, which a reminder call says.
   */
  function slots(lang: Language): Array<{ slot: string; text: string }> {
    const out: Array<{ slot: string; text: string }> = [];
    for (const [key, entry] of catalogs[lang]) {
      if (key.startsWith('sms.') && !key.startsWith('sms.reminder.')) continue;
      const pieces = entry.text.split(/\{[a-zA-Z]+\}/);
      if (pieces.length === 1) out.push({ slot: key, text: entry.text });
      else
        pieces.forEach((text, i) => {
          if (/[\p{L}\p{N}]/u.test(text)) out.push({ slot: `${key}@${i}`, text: text.trim() });
        });
    }
    return out;
  }

  return {
    /**
     * The prompt's audio name (its content hash), remembered so that a fetch of it can render it.
     * `prerender`: start making the file now, in the background, so the gateway's fetch finds it made.
     */
    prepare(p: Prompt, prerender: boolean): string {
      const hash = hashOf(p);
      if (!known.has(hash)) {
        if (known.size >= KNOWN_PROMPTS) known.delete(known.keys().next().value as string);
        known.set(hash, p);
      }
      if (prerender && !cached.has(hash))
        ensure(hash, p).catch((err: unknown) => logger.warn({ err, hash }, 'voice: a prompt could not be rendered'));
      return hash;
    },
    /** Can this prompt be made into audio (every fragment recorded, or a synthesiser to read the rest)? */
    playable(p: Prompt): boolean {
      return synth !== null || p.fragments.every((f) => recordingOf(p.lang, f) !== undefined);
    },
    /**
     * The file of a prompt's audio: served from the cache when made (no rendering), else rendered now
     * if the prompt is known; null for a name never described (or not a hash at all).
     */
    async file(hash: string): Promise<string | null> {
      if (!AUDIO_NAME.test(hash)) return null;
      const size = cached.get(hash);
      if (size !== undefined) {
        cached.delete(hash);
        cached.set(hash, size);
        return join(cacheDir, `${hash}.wav`);
      }
      const p = known.get(hash);
      return p ? ensure(hash, p) : null;
    },
    /** Renders a prompt now (for the bench and the tests); its file's path. */
    render(p: Prompt): Promise<string> {
      const hash = hashOf(p);
      known.set(hash, p);
      return ensure(hash, p);
    },
    /** Forgets a rendered file, so the next fetch renders it again. */
    evict(hash: string): void {
      const size = cached.get(hash);
      if (size === undefined) return;
      cached.delete(hash);
      cachedBytes -= size;
      rmSync(join(cacheDir, `${hash}.wav`), { force: true });
    },
    cacheBytes: () => cachedBytes,
    /** Re-reads the recordings folder (after UTM adds or replaces takes). */
    refresh,
    slots,
    /** Where each slot of each language stands: recorded, synthetic placeholder (and how it is read), or missing. */
    survey(): PromptRow[] {
      const rows: PromptRow[] = [];
      for (const lang of LANGUAGES) {
        for (const { slot, text } of slots(lang)) {
          let status: PromptStatus = synth ? 'synthetic' : 'missing';
          let problem: string | null = synth ? synth.describe(lang) : null;
          if (recordings.get(lang)?.has(slot) && SLOT.test(slot)) {
            try {
              decodeWav(readFileSync(join(recordingsDir, lang, `${slot}.wav`)));
              status = 'recorded';
              problem = null;
            } catch (err) {
              flagged.set(`${lang}/${slot}`, `enregistrement illisible: ${(err as Error).message}`);
            }
          }
          const bad = flagged.get(`${lang}/${slot}`);
          if (bad) problem = problem ? `${bad}; ${problem}` : bad;
          rows.push({ lang, slot, text, status, problem });
        }
      }
      return rows;
    },
    recordingsDir: (lang: Language) => join(recordingsDir, lang),
  };
}

export type PromptLibrary = ReturnType<typeof createPromptLibrary>;
