/**
 * The recording studio's side of the prompt library: each slot of a language with its text, status
 * and where it is heard; its audio (the recording, else the synthetic reading); a new take stored
 * in the library's format. The console's studio and `sabatili voice prompts` both go through here;
 * they audit who did it (this module knows no staff).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.ts';
import { toCsv } from '../csv.ts';
import type { PromptRow, PromptStatus, VoiceStore } from '../db/voice.ts';
import { Refusal } from '../domain/refusal.ts';
import { type Catalogs, LANGUAGES, type Language } from '../i18n/catalog.ts';
import { reviewItems } from '../ussd/review.ts';
import type { PromptLibrary } from './library.ts';
import { BadWavError, decodeWav, encodeWav, SAMPLE_RATE } from './wav.ts';

/** A take longer than this is a mistake (a recorder left running): the longest message reads in about 40 s. */
export const MAX_TAKE_SECONDS = 90;
/** An upload of 90 s at 48 kHz, stereo, 16-bit is 17 MB. */
export const MAX_TAKE_BYTES = 20 * 1024 * 1024;

export interface StudioSlot {
  slot: string;
  /** The message key the slot is part of (`contribute.quote` for `contribute.quote@0`). */
  key: string;
  text: string;
  status: PromptStatus;
  /** Why a recording is not used (flagged), or how the placeholder is read. */
  problem: string | null;
  /** Where the member hears it: `flow/state` of a screen, or a sentence. */
  where: string[];
}

export interface SavedTake {
  lang: Language;
  slot: string;
  /** The stored file's size (8 kHz mono 16-bit), and its length. */
  bytes: number;
  seconds: number;
  /** A recording was there before. */
  replaced: boolean;
}

export const isLanguage = (v: unknown): v is Language => (LANGUAGES as readonly unknown[]).includes(v);

/** Where the voice channel's own words are heard, which no screen names. */
function voiceWhere(key: string): string[] {
  if (key.startsWith('voice.n.')) return ['appel vocal: nombres parlés (montants, dates, quantités)'];
  return ['appel vocal: annonces, touches et mots des montants et des dates'];
}

/**
 * A take as the library stores it: 16-bit PCM WAV brought to 8 kHz mono (any rate, mono or stereo,
 * is accepted and converted), at most MAX_TAKE_SECONDS. A Refusal in French otherwise.
 */
export function normaliseTake(buf: Buffer): { wav: Buffer; seconds: number } {
  if (buf.length > MAX_TAKE_BYTES)
    throw new Refusal(`Fichier trop gros (${Math.round(buf.length / 1048576)} Mo; 20 Mo au plus).`, 'file', 413);
  let samples: Int16Array;
  try {
    samples = decodeWav(buf);
  } catch (err) {
    if (!(err instanceof BadWavError)) throw err;
    throw new Refusal(
      `Fichier refusé: il faut un WAV PCM 16 bits, mono ou stéréo (${err.message}). Enregistrez de nouveau, ou convertissez-le (Audacity: Exporter en WAV 16 bits).`,
      'file',
      422,
    );
  }
  const seconds = samples.length / SAMPLE_RATE;
  if (seconds < 0.2) throw new Refusal('Enregistrement trop court (moins de 0,2 s): rien n’a été entendu.', 'file', 422);
  if (seconds > MAX_TAKE_SECONDS)
    throw new Refusal(`Enregistrement trop long (${Math.round(seconds)} s; ${MAX_TAKE_SECONDS} s au plus).`, 'file', 422);
  return { wav: encodeWav([samples]), seconds: Math.round(seconds * 10) / 10 };
}

export interface StudioParts {
  library: PromptLibrary;
  store: VoiceStore;
  catalogs: Catalogs;
  clock: Clock;
}

export function createStudio(p: StudioParts) {
  const { library, store } = p;
  let uses: Map<string, string[]> | undefined;
  const whereOf = (key: string): string[] => {
    if (key.startsWith('voice.')) return voiceWhere(key);
    uses ??= new Map(reviewItems(p.catalogs).map((i) => [i.key, i.where]));
    return uses.get(key) ?? [];
  };
  const textOf = (lang: Language, slot: string) => library.slots(lang).find((s) => s.slot === slot)?.text;
  const fileOf = (lang: Language, slot: string) => join(library.recordingsDir(lang), `${slot}.wav`);

  /** Re-reads the recordings (another process may have added some) and stores where each slot stands. */
  function survey(): PromptRow[] {
    library.refresh();
    const rows = library.survey();
    store.recordSurvey(rows, p.clock.now());
    return rows;
  }

  function known(lang: unknown, slot: unknown): { lang: Language; slot: string; text: string } {
    if (!isLanguage(lang)) throw new Refusal('Langue inconnue: fr ou bm.', 'lang', 404);
    const text = typeof slot === 'string' ? textOf(lang, slot) : undefined;
    if (text === undefined) throw new Refusal(`Aucun message « ${String(slot)} » à enregistrer en ${lang}.`, 'slot', 404);
    return { lang, slot: slot as string, text };
  }

  /** Writes whole then renames (a call never reads half a take), then makes the library use it. */
  function write(lang: Language, slot: string, wav: Buffer): boolean {
    const file = fileOf(lang, slot);
    const replaced = existsSync(file);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, wav);
    renameSync(tmp, file);
    return replaced;
  }

  return {
    survey,
    /** Every slot of a language, in catalog order, with where it stands now. */
    slots(lang: Language): StudioSlot[] {
      const rows = survey().filter((r) => r.lang === lang);
      return rows.map((r) => {
        const key = r.slot.split('@')[0] as string;
        return { slot: r.slot, key, text: r.text, status: r.status, problem: r.problem, where: whereOf(key) };
      });
    },
    /**
     * A slot's audio as a call would play it: its recording, else the synthetic reading (rendered
     * through the library's cache). Null when neither exists (no recording, no synthesiser).
     */
    async audio(lang: unknown, slot: unknown): Promise<string | null> {
      const s = known(lang, slot);
      try {
        return await library.render({
          lang: s.lang,
          fragments: [{ slot: s.slot, text: s.text }],
          caption: s.text,
          collect: null,
          screen: null,
        });
      } catch {
        return null;
      }
    },
    /** Stores a take (validated and converted, see normaliseTake) as the slot's recording. */
    save(lang: unknown, slot: unknown, buf: Buffer): SavedTake {
      const s = known(lang, slot);
      const take = normaliseTake(buf);
      const replaced = write(s.lang, s.slot, take.wav);
      survey();
      return { lang: s.lang, slot: s.slot, bytes: take.wav.length, seconds: take.seconds, replaced };
    },
    /**
     * A recording session's script: DIR/<lang>/<slot>.txt with the text to read, and DIR/manifest.csv
     * (language, slot, status, text, where, the file to bring back). Returns the number of slots written.
     */
    exportTo(dir: string): number {
      const rows = survey();
      const manifest: Array<Array<string | number>> = [['langue', 'slot', 'statut', 'texte', 'où', 'fichier à rendre']];
      for (const lang of LANGUAGES) mkdirSync(join(dir, lang), { recursive: true });
      for (const r of rows) {
        writeFileSync(join(dir, r.lang, `${r.slot}.txt`), `${r.text}\n`);
        manifest.push([r.lang, r.slot, r.status, r.text, whereOf(r.slot.split('@')[0] as string).join('; '), `${r.lang}/${r.slot}.wav`]);
      }
      writeFileSync(join(dir, 'manifest.csv'), toCsv(manifest));
      return rows.length;
    },
    /**
     * Brings in DIR/<lang>/<slot>.wav takes. Every file is checked first: one unknown slot or bad
     * file refuses the whole import, naming each file at fault, and nothing is written.
     */
    importFrom(dir: string): SavedTake[] {
      const takes: Array<{ lang: Language; slot: string; wav: Buffer; seconds: number }> = [];
      const problems: string[] = [];
      for (const lang of LANGUAGES) {
        const folder = join(dir, lang);
        if (!existsSync(folder)) continue;
        for (const name of readdirSync(folder).sort()) {
          if (!name.endsWith('.wav')) continue;
          const slot = name.slice(0, -4);
          const at = `${lang}/${name}`;
          if (textOf(lang, slot) === undefined) {
            problems.push(`${at}: aucun message « ${slot} » à enregistrer en ${lang}`);
            continue;
          }
          try {
            takes.push({ lang, slot, ...normaliseTake(readFileSync(join(folder, name))) });
          } catch (err) {
            if (!(err instanceof Refusal)) throw err;
            problems.push(`${at}: ${err.message}`);
          }
        }
      }
      if (problems.length > 0)
        throw new Refusal(`${problems.length} fichier(s) refusé(s), rien n'a été importé:\n  ${problems.join('\n  ')}`, 'dir', 422);
      if (takes.length === 0) throw new Refusal(`Aucun fichier <langue>/<slot>.wav dans ${dir} (langues: ${LANGUAGES.join(', ')}).`, 'dir');
      const saved = takes.map((t) => ({
        lang: t.lang,
        slot: t.slot,
        bytes: t.wav.length,
        seconds: t.seconds,
        replaced: write(t.lang, t.slot, t.wav),
      }));
      survey();
      return saved;
    },
  };
}

export type Studio = ReturnType<typeof createStudio>;
