import { randomBytes } from 'node:crypto';

/**
 * Where identifiers that a member or a tester can see come from (operator transaction ids,
 * simulated message and session ids). Production draws them at random; the golden transcripts
 * count, so a receipt's reference is the same on every run. Never used for secrets or tokens.
 */
export interface IdSource {
  /** `bytes` bytes as lowercase hex (2 × bytes characters). */
  hex(bytes: number): string;
}

export const randomIds: IdSource = { hex: (bytes) => randomBytes(bytes).toString('hex') };

/** 1, 2, 3… as zero-padded hex: deterministic ids for tests and transcripts. */
export function sequentialIds(): IdSource {
  let n = 0;
  return {
    hex(bytes) {
      n++;
      return n
        .toString(16)
        .padStart(bytes * 2, '0')
        .slice(-bytes * 2);
    },
  };
}
