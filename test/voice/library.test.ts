import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCatalogs } from '../../src/i18n/catalog.ts';
import { createLogger } from '../../src/log.ts';
import { createPromptLibrary } from '../../src/voice/library.ts';
import type { Prompt } from '../../src/voice/speech.ts';
import { createEspeak, findExecutable, type Synthesizer } from '../../src/voice/synth.ts';
import { BadWavError, decodeWav, encodeWav, SAMPLE_RATE } from '../../src/voice/wav.ts';

const catalogs = loadCatalogs();
const logger = createLogger('silent');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A synthesiser that says each text as that many samples of one value, and counts its calls. */
function fakeSynth(): Synthesizer & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    describe: (lang) => `fake ${lang}`,
    async speak(text) {
      calls.push(text);
      return new Int16Array(text.length).fill(100);
    },
  };
}

function library(synth: Synthesizer | null, cacheBytes = 10_000_000) {
  const dir = mkdtempSync(join(tmpdir(), 'sabatili-voice-'));
  dirs.push(dir);
  return { dir, lib: createPromptLibrary({ dir, catalogs, synth, cacheBytes, logger }) };
}

const prompt = (...fragments: Array<[string | null, string]>): Prompt => ({
  lang: 'fr',
  fragments: fragments.map(([slot, text]) => ({ slot, text })),
  caption: fragments.map(([, t]) => t).join(' '),
  collect: 'key',
  screen: 'main.title',
});

const tone = (samples: number, value: number, rate = SAMPLE_RATE) => {
  const wav = encodeWav([new Int16Array(samples).fill(value)]);
  wav.writeUInt32LE(rate, 24);
  return wav;
};

describe('WAV of one format', () => {
  it('joins fragments under one header and reads back what it wrote', () => {
    const wav = encodeWav([new Int16Array([1, 2]), new Int16Array([3])]);
    expect(wav.length).toBe(44 + 6);
    expect([...decodeWav(wav)]).toEqual([1, 2, 3]);
  });
  it('resamples another rate to 8 kHz', () => {
    expect(decodeWav(tone(16_000, 50, 16_000)).length).toBe(8000);
  });
  it('refuses what is not 16-bit PCM WAV', () => {
    expect(() => decodeWav(Buffer.from('not a wav file at all'))).toThrow(BadWavError);
    const eightBit = tone(10, 1);
    eightBit.writeUInt16LE(8, 34);
    expect(() => decodeWav(eightBit)).toThrow(/16-bit/);
  });
});

describe('the prompt library', () => {
  it('renders a prompt once: a second fetch is served from the disk cache, nothing synthesised again', async () => {
    const synth = fakeSynth();
    const { lib } = library(synth);
    const p = prompt(['main.title', 'Kénéya Sabatili'], ['voice.n.1', 'un']);
    const hash = lib.prepare(p, false);
    expect(hash).toMatch(/^[0-9a-f]{32}$/);
    const file = await lib.file(hash);
    expect(synth.calls).toEqual(['Kénéya Sabatili', 'un']);
    expect(await lib.file(hash)).toBe(file);
    expect(synth.calls).toHaveLength(2);
    // One file: both fragments and the pause between them under one header.
    const samples = decodeWav(readFileSync(file as string));
    expect(samples.length).toBe('Kénéya Sabatili'.length + 720 + 'un'.length);
  });

  it('names a prompt by the digest it always had, so audio cached by an earlier release is still found', () => {
    const { lib } = library(null);
    const p: Prompt = {
      lang: 'bm',
      fragments: [
        { slot: 'main.title', text: 'Kénéya Sabatili' },
        { slot: null, text: 'Kati' },
        { slot: 'voice.n.1', text: 'kelen' },
      ],
      caption: 'x',
      collect: 'key',
      screen: 'main.title',
    };
    expect(lib.prepare(p, false)).toBe('fa0094b2e999b59938c92f4573a069ef');
  });
  it('gives no file for a name it never described, nor for anything that is not a hash', async () => {
    const { lib } = library(fakeSynth());
    expect(await lib.file('0'.repeat(32))).toBeNull();
    expect(await lib.file('../../etc/passwd')).toBeNull();
    expect(await lib.file('..%2F..%2Fsecrets')).toBeNull();
  });

  it('prefers a recording to the synthetic voice, and a new take changes the audio name', async () => {
    const synth = fakeSynth();
    const { lib } = library(synth);
    const p = prompt(['main.title', 'Kénéya Sabatili']);
    const before = lib.prepare(p, false);
    writeFileSync(join(lib.recordingsDir('fr'), 'main.title.wav'), tone(400, 7));
    lib.refresh();
    const after = lib.prepare(p, false);
    expect(after).not.toBe(before);
    const samples = decodeWav(readFileSync((await lib.file(after)) as string));
    expect(samples.length).toBe(400);
    expect(synth.calls).toEqual([]);
    expect(lib.survey().find((r) => r.lang === 'fr' && r.slot === 'main.title')).toMatchObject({ status: 'recorded', problem: null });
  });

  it('falls back to the synthetic voice for a corrupt recording, and flags it', async () => {
    const synth = fakeSynth();
    const { lib } = library(synth);
    writeFileSync(join(lib.recordingsDir('fr'), 'main.title.wav'), Buffer.from('RIFF....WAVEjunk'));
    lib.refresh();
    const p = prompt(['main.title', 'Kénéya Sabatili']);
    expect(await lib.file(lib.prepare(p, false))).not.toBeNull();
    expect(synth.calls).toEqual(['Kénéya Sabatili']);
    const row = lib.survey().find((r) => r.lang === 'fr' && r.slot === 'main.title');
    expect(row?.status).toBe('synthetic');
    expect(row?.problem).toMatch(/enregistrement illisible/);
  });

  it('has a slot for every spoken message in each language, pieces around placeholders included; synthetic or missing until recorded', () => {
    const { lib } = library(fakeSynth());
    const rows = lib.survey();
    const slots = (lang: string) => rows.filter((r) => r.lang === lang).map((r) => r.slot);
    const keys = (lang: string) => [...new Set(slots(lang).map((s) => s.replace(/@\d+$/, '')))].sort();
    expect(keys('fr')).toEqual(keys('bm'));
    // Every message with words of its own (not only placeholders, such as "{name}: {status}"); of the
    // SMS texts, only the reminders, which reminder calls say.
    const spokenKey = (k: string) => !k.startsWith('sms.') || k.startsWith('sms.reminder.');
    const spoken = [...catalogs.fr].filter(([k, e]) => spokenKey(k) && /\p{L}/u.test(e.text.replace(/\{\w+\}/g, '')));
    expect(keys('fr')).toEqual(spoken.map(([k]) => k).sort());
    expect(slots('fr')).toEqual(
      expect.arrayContaining([
        'main.title',
        'contribute.quote.covered@0',
        'voice.n.19',
        'voice.n.1000',
        'voice.fcfa',
        'month.12',
        'voice.keys',
      ]),
    );
    expect(
      slots('fr')
        .filter((s) => s.startsWith('sms.'))
        .every((s) => s.startsWith('sms.reminder.')),
    ).toBe(true);
    expect(slots('fr')).toContain('sms.reminder.before_end@0');
    expect(new Set(rows.map((r) => r.status))).toEqual(new Set(['synthetic']));
    expect(rows.find((r) => r.lang === 'bm')?.problem).toBe('fake bm');
    const { lib: silent } = library(null);
    expect(new Set(silent.survey().map((r) => r.status))).toEqual(new Set(['missing']));
    expect(silent.playable(prompt(['main.title', 'x']))).toBe(false);
  });

  it('keeps its disk cache under the size given, deleting the least recently served', async () => {
    const { lib } = library(fakeSynth(), 300);
    const [a, b, c] = ['a', 'b', 'c'].map((x) => lib.prepare(prompt([null, x.repeat(40)]), false)) as [string, string, string];
    const fileA = (await lib.file(a)) as string;
    const fileB = (await lib.file(b)) as string;
    expect(lib.cacheBytes()).toBe(2 * (44 + 80));
    await lib.file(a);
    const fileC = (await lib.file(c)) as string;
    expect(lib.cacheBytes()).toBe(2 * (44 + 80));
    // b was the least recently served: deleted; a and c stay. Asked for again, b is made again.
    expect([existsSync(fileA), existsSync(fileB), existsSync(fileC)]).toEqual([true, false, true]);
    expect(await lib.file(b)).toBe(fileB);
    expect(existsSync(fileB)).toBe(true);
  });
});

const espeak = findExecutable('espeak-ng');
describe.skipIf(!espeak && process.env.SABATILI_REQUIRE_ESPEAK !== '1')('eSpeak NG', () => {
  it('reads French and Bambara text into 8 kHz samples', async () => {
    const synth = createEspeak({ command: espeak ?? 'espeak-ng', timeoutMs: 10_000, concurrency: 2 });
    const fr = await synth.speak('Tapez un.', 'fr');
    const bm = await synth.speak('Kelen digi.', 'bm');
    // Half a second or more of sound, not silence.
    expect(fr.length).toBeGreaterThan(SAMPLE_RATE / 4);
    expect(bm.length).toBeGreaterThan(SAMPLE_RATE / 4);
    expect(fr.some((s) => Math.abs(s) > 1000)).toBe(true);
  });
});
