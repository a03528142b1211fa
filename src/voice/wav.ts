/**
 * The one audio format of the prompt library: PCM WAV, 16-bit, mono, 8 kHz (what a telephone call
 * carries; reference/africastalking-voice.md). Joining prompts of one format is concatenating their
 * samples under one header, so every fragment is brought to this format once, when it is made.
 */
export const SAMPLE_RATE = 8000;
const HEADER_BYTES = 44;

export class BadWavError extends Error {}

/** The samples of a PCM WAV file, mixed down to mono and resampled to SAMPLE_RATE. Throws BadWavError on anything else. */
export function decodeWav(buf: Buffer): Int16Array {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new BadWavError('not a WAV file');
  }
  let offset = 12;
  let format: { channels: number; rate: number; bits: number; code: number } | undefined;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw new BadWavError('truncated format chunk');
      format = {
        code: buf.readUInt16LE(body),
        channels: buf.readUInt16LE(body + 2),
        rate: buf.readUInt32LE(body + 4),
        bits: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!format) throw new BadWavError('data before format');
      if (format.code !== 1 || format.bits !== 16) throw new BadWavError(`not 16-bit PCM (format ${format.code}, ${format.bits} bits)`);
      if (format.channels < 1 || format.channels > 2) throw new BadWavError(`${format.channels} channels`);
      if (format.rate < 4000 || format.rate > 192_000) throw new BadWavError(`sample rate ${format.rate}`);
      // A streamed WAV (espeak-ng --stdout) announces a size it never wrote: the data runs to the end.
      const end = Math.min(buf.length, body + size);
      const frames = Math.floor((end - body) / (2 * format.channels));
      if (frames === 0) throw new BadWavError('no samples');
      const mono = new Int16Array(frames);
      for (let i = 0; i < frames; i++) {
        const at = body + i * 2 * format.channels;
        mono[i] = format.channels === 1 ? buf.readInt16LE(at) : (buf.readInt16LE(at) + buf.readInt16LE(at + 2)) >> 1;
      }
      return resample(mono, format.rate, SAMPLE_RATE);
    }
    offset = body + size + (size % 2);
  }
  throw new BadWavError('no data chunk');
}

/**
 * Linear resampling; going down, each output sample first averages the input samples it spans
 * (a box filter), so that speech above the new Nyquist frequency does not fold back as noise.
 */
export function resample(input: Int16Array, from: number, to: number): Int16Array {
  if (from === to) return input;
  const ratio = from / to;
  const out = new Int16Array(Math.floor(input.length / ratio));
  const half = ratio > 1 ? Math.floor(ratio / 2) : 0;
  for (let i = 0; i < out.length; i++) {
    const at = i * ratio;
    const j = Math.floor(at);
    let sum = 0;
    let count = 0;
    for (let k = Math.max(0, j - half); k <= Math.min(input.length - 1, j + half); k++) {
      const next = input[Math.min(k + 1, input.length - 1)] as number;
      sum += (input[k] as number) + (next - (input[k] as number)) * (at - j);
      count++;
    }
    out[i] = Math.round(sum / count);
  }
  return out;
}

export function silence(ms: number): Int16Array {
  return new Int16Array(Math.round((SAMPLE_RATE * ms) / 1000));
}

/** One WAV file of samples at SAMPLE_RATE: a 44-byte header and the samples, little-endian. */
export function encodeWav(parts: readonly Int16Array[]): Buffer {
  const samples = parts.reduce((n, p) => n + p.length, 0);
  const buf = Buffer.alloc(HEADER_BYTES + samples * 2);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + samples * 2, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(SAMPLE_RATE, 24);
  buf.writeUInt32LE(SAMPLE_RATE * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(samples * 2, 40);
  let at = HEADER_BYTES;
  for (const p of parts) {
    Buffer.from(p.buffer, p.byteOffset, p.byteLength).copy(buf, at);
    at += p.byteLength;
  }
  return buf;
}
