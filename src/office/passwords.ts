import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Staff passwords with scrypt, the memory-hard KDF built into Node: 2^15 × 8 × 128 bytes = 32 MiB
 * per hash, about 100 ms here, so a stolen database is slow to attack. The parameters are stored
 * with each hash, so they can be raised later without breaking existing accounts.
 */
export const PASSWORD_COST = 15;
const PARAMS = { r: 8, p: 1 };
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, o: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...o, maxmem: 256 * o.N * o.r };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** `scrypt$N$r$p$salt$hash`, base64url; N is 2^cost (lower only in tests: STAFF_PASSWORD_COST). */
export async function hashPassword(password: string, cost = PASSWORD_COST): Promise<string> {
  const salt = randomBytes(16);
  const N = 2 ** cost;
  const key = await derive(password, salt, { N, ...PARAMS });
  return ['scrypt', N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await derive(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

export const MIN_PASSWORD_LENGTH = 12;

/** Lower-cased, read once: the start of a public ranked list of leaked passwords (header in the file). */
const COMMON = new Set(
  readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('# '))
    .map((l) => l.toLowerCase()),
);

export type PasswordProblem = 'short' | 'long' | 'common' | 'email';
export const PASSWORD_PROBLEMS: Record<PasswordProblem, { en: string; fr: string }> = {
  short: { en: `must have at least ${MIN_PASSWORD_LENGTH} characters`, fr: `au moins ${MIN_PASSWORD_LENGTH} caractères` },
  long: { en: 'must have at most 200 characters', fr: '200 caractères au plus' },
  common: {
    en: 'is too common (a well-known password, or one with a few digits added)',
    fr: 'trop courant (un mot de passe connu, ou avec quelques chiffres ajoutés)',
  },
  email: { en: 'must not contain the email address', fr: "ne doit pas contenir l'adresse e-mail" },
};

/**
 * What a staff password must be (ASVS 2.1): 12 characters or more, not a common password (nor one
 * followed by digits or signs, nor a few characters repeated), not containing the email's local part
 * when that is 3 characters or more (a shorter one would refuse most passwords).
 */
export function passwordProblem(password: string, email: string): PasswordProblem | null {
  if (password.length < MIN_PASSWORD_LENGTH) return 'short';
  if (password.length > 200) return 'long';
  const lower = password.normalize('NFC').toLowerCase();
  if (COMMON.has(lower) || COMMON.has(lower.replace(/[\d\W_]+$/u, '')) || new Set(lower).size < 5) return 'common';
  const local = email.trim().toLowerCase().split('@')[0] ?? '';
  if (local.length >= 3 && lower.includes(local)) return 'email';
  return null;
}
