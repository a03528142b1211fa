import { BlockList, isIP } from 'node:net';
import { isSupportedCountry } from 'libphonenumber-js/mobile';
import { z } from 'zod';

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'], {
    error: 'must be one of true/false, 1/0, yes/no, on/off',
  })
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

/** A comma-separated list, blanks around commas ignored. */
const list = (v: string) =>
  v
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

/** Adds one address or CIDR block to `blocks`; throws on anything else. */
export function addCidr(blocks: BlockList, entry: string): void {
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) throw new Error(`"${entry}" is not an IPv4 or IPv6 address or CIDR block`);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (prefix === undefined) return blocks.addAddress(address, type);
  const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
  if (!(bits <= (family === 4 ? 32 : 128))) throw new Error(`"${entry}" has a bad prefix length`);
  blocks.addSubnet(address, bits, type);
}

/** GATEWAY_ALLOWED_IPS, e.g. `196.201.214.0/24, 2c0f:f738::/32`. */
const cidrList = z.string().transform((v, ctx) => {
  const entries = list(v);
  if (entries.length === 0) ctx.addIssue({ code: 'custom', message: 'must list at least one address or CIDR block' });
  for (const entry of entries) {
    try {
      addCidr(new BlockList(), entry);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `${(err as Error).message}; expected e.g. 196.201.214.0/24,2c0f:f738::/32` });
    }
  }
  return entries;
});

/** SIMULATOR_ALLOWED_URLS: http(s) URL prefixes. */
const urlPrefixes = z.string().transform((v, ctx) => {
  const entries = list(v);
  if (entries.length === 0) ctx.addIssue({ code: 'custom', message: 'must list at least one URL' });
  for (const entry of entries) {
    if (!z.url({ protocol: /^https?$/ }).safeParse(entry).success)
      ctx.addIssue({ code: 'custom', message: `"${entry}" is not an http(s) URL` });
  }
  return entries;
});

/**
 * express's 'trust proxy': `false` (default: the client is the TCP peer), a hop count, or the
 * proxies' addresses / CIDR blocks (or express's names loopback, linklocal, uniquelocal). `true`
 * is refused: it would let any client choose its own address with X-Forwarded-For.
 */
const trustProxy = z.string().transform((v, ctx): false | number | string[] => {
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  if (/^\d{1,2}$/.test(v)) return Number(v);
  const entries = list(v);
  for (const entry of entries) {
    if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) continue;
    try {
      addCidr(new BlockList(), entry);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `must be false, a hop count, or the proxies' addresses (e.g. loopback or 10.0.0.5); "${entry}" is none of these`,
      });
    }
  }
  return entries;
});

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_PATH: z.string().min(1).default('data/sabatili.db'),
  TRUST_PROXY: trustProxy.default(false),
  ADMIN_TOKEN: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  // scrypt's log2 N for staff passwords; below 15 only with NODE_ENV=test (checked in loadConfig).
  STAFF_PASSWORD_COST: z.coerce.number().int().min(4).max(20).default(15),
  USSD_SERVICE_CODE: z
    .string()
    .regex(/^\*\d+(\*\d+)*#$/, { error: 'must look like *384*123#' })
    .default('*384*123#'),
  USSD_BUDGET_MS: z.coerce.number().int().min(50).max(8000).default(2500),
  USSD_RESUME_MINUTES: z.coerce.number().int().min(0).max(60).default(10),
  SMS_TRANSPORT: z.enum(['simulator', 'africastalking']).default('simulator'),
  AT_USERNAME: z.string().min(1).default('sandbox'),
  AT_API_KEY: z.string().optional(),
  AT_SENDER_ID: z.string().optional(),
  AT_SMS_URL: z.url({ error: 'must be a URL such as http://127.0.0.1:3000/version1/messaging' }).optional(),
  // UTM's voice number (E.164): the number members call (its callback URL is /voice?key=…) and the caller id of the calls it places.
  VOICE_NUMBER: z
    .string()
    .regex(/^\+[1-9]\d{7,14}$/, { error: 'must be an E.164 number such as +22320000000' })
    .optional(),
  AT_VOICE_URL: z.url({ error: 'must be a URL such as http://127.0.0.1:3000/simulator/at-voice' }).optional(),
  VOICE_CALL_BACK_MISSED: bool.default(false),
  VOICE_CALL_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  VOICE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  VOICE_RETRY_BASE_MS: z.coerce.number().int().min(100).default(30_000),
  VOICE_REMINDER_RING_AGAIN_MINUTES: z.coerce.number().int().min(1).max(1440).default(60),
  SMS_RATE_PER_SECOND: z.coerce.number().int().min(0).max(10_000).default(20),
  // One campaign to all 200 000 members plus a day's reminders and answers; beyond it messages wait for the next Bamako day.
  SMS_DAILY_CAP: z.coerce.number().int().min(0).default(250_000),
  SMS_REPLIES_PER_SENDER_PER_HOUR: z.coerce.number().int().min(1).max(1000).default(5),
  SMS_ALLOWED_COUNTRIES: z
    .string()
    .transform((s) => s.split(',').map((c) => c.trim().toUpperCase()))
    .superRefine((codes, ctx) => {
      const bad = codes.filter((c) => !/^[A-Z]{2}$/.test(c) || !isSupportedCountry(c));
      if (bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `${bad.map((c) => JSON.stringify(c)).join(', ')}: not an ISO 3166 alpha-2 country code (e.g. ML or ML,SN,CI)`,
        });
      }
    })
    .default(['ML']),
  SMS_BULK_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  SMS_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  SMS_RETRY_BASE_MS: z.coerce.number().int().min(100).default(30_000),
  SMS_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  SMS_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  SMS_ALLOW_UCS2: bool.default(false),
  SMS_COST_PER_SEGMENT_FCFA: z.coerce.number().min(0).max(1000).default(20),
  REMINDER_START_HOUR: z.coerce.number().int().min(0).max(23).default(8),
  REMINDER_END_HOUR: z.coerce.number().int().min(1).max(24).default(20),
  REMINDERS_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(600),
  PAYMENT_PROVIDER: z.enum(['simulator']).default('simulator'),
  PAYMENT_FEE_BEARER: z.enum(['member', 'utm']).default('member'),
  PAYMENT_EXPIRY_SECONDS: z.coerce.number().int().min(10).max(3600).default(120),
  PAYMENT_SWEEP_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  PAYMENT_STATUS_AFTER_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  PAYMENT_CALLBACK_MAX_AGE_SECONDS: z.coerce.number().int().min(10).max(86_400).default(900),
  CONTRIBUTION_MIN: z.coerce.number().int().min(1).default(100),
  CONTRIBUTION_MAX: z.coerce.number().int().min(1).max(999_999).default(500_000),
  SIMULATOR_DUPLICATE_CALLBACKS: bool.default(false),
  PAYMENT_CALLBACK_SECRET: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  GATEWAY_CALLBACK_KEY: z.string().min(32, { error: 'must be at least 32 characters' }).optional(),
  GATEWAY_ALLOWED_IPS: cidrList.optional(),
  SIMULATOR_ALLOWED_URLS: urlPrefixes.optional(),
  SIMULATOR_ENABLED: bool.optional(),
  SIMULATOR_ABSENT_PHONES: z
    .string()
    .regex(/^(\+[1-9]\d{6,14})(,\+[1-9]\d{6,14})*$/, { error: 'must be E.164 numbers separated by commas' })
    .optional(),
  SIMULATOR_DELIVERY_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(500),
  USSD_HOPS_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  SIMULATOR_USSD_IDLE_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  SIMULATOR_USSD_MAX_SECONDS: z.coerce.number().int().min(1).max(3600).default(180),
  // The browser phone: how often it asks for its SMS, wallet and calls, and how long an END screen
  // stays before the operator's prompt replaces it (tests shorten both: the same page, less waiting).
  SIMULATOR_PHONE_POLL_MS: z.coerce.number().int().min(20).max(60_000).default(1000),
  SIMULATOR_PHONE_READ_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
  GSM_FOLD: z.enum(['gsm7', 'ascii']).default('gsm7'),
  // Where the gateway fetches prompts and posts digits (https://sabatili.example.org); default: the server's own address.
  VOICE_PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  // Recordings (recordings/<lang>/<slot>.wav) and rendered prompts (cache/); default: voice/ beside the database.
  VOICE_DIR: z.string().min(1).optional(),
  VOICE_CACHE_MB: z.coerce.number().int().min(1).max(100_000).default(200),
  // The speech synthesiser for prompts not recorded yet (a path, or a name on PATH); none found: the gateway's <Say>.
  VOICE_SYNTHESIZER: z.string().min(1).default('espeak-ng'),
  // Render a prompt's audio as soon as it is answered (off in tests that never fetch audio).
  VOICE_PRERENDER: bool.default(true),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof schema>;

/** UTM's voice number in the demo and the simulator (a Bamako fixed line the SDK's validator accepts). */
export const DEMO_VOICE_NUMBER = '+22320200000';
/**
 * PAYMENT_CALLBACK_SECRET stays optional: outside production, services.ts generates one per
 * database (src/db/secrets.ts) and exposes it as `paymentSecret`.
 */
export interface Config extends Omit<Env, 'SIMULATOR_ENABLED'> {
  SIMULATOR_ENABLED: boolean;
}

export class ConfigError extends Error {}

/** Reads the environment once, at start; the message names every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message} (got ${JSON.stringify(cleaned[String(i.path[0])])})`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  if (c.SMS_TRANSPORT === 'africastalking' && !c.AT_API_KEY) {
    throw new ConfigError('Invalid configuration:\n  AT_API_KEY: required when SMS_TRANSPORT=africastalking');
  }
  if (c.VOICE_CALL_BACK_MISSED && c.NODE_ENV === 'production') {
    const missing = [
      !c.VOICE_NUMBER && '  VOICE_NUMBER: required when VOICE_CALL_BACK_MISSED=true in production (the caller id of call-backs)',
      !c.AT_API_KEY && '  AT_API_KEY: required when VOICE_CALL_BACK_MISSED=true in production (call-backs go through the voice API)',
    ].filter((m): m is string => typeof m === 'string');
    if (missing.length > 0) throw new ConfigError(`Invalid configuration:\n${missing.join('\n')}`);
  }
  if (c.NODE_ENV === 'production') {
    // Production is on the open internet: every secret set, and long enough not to be guessed.
    const missing = [
      !c.PAYMENT_CALLBACK_SECRET && '  PAYMENT_CALLBACK_SECRET: required when NODE_ENV=production (at least 32 characters)',
      c.PAYMENT_CALLBACK_SECRET &&
        c.PAYMENT_CALLBACK_SECRET.length < 32 &&
        '  PAYMENT_CALLBACK_SECRET: must be at least 32 characters when NODE_ENV=production',
      !c.GATEWAY_CALLBACK_KEY && '  GATEWAY_CALLBACK_KEY: required when NODE_ENV=production (at least 32 characters)',
    ].filter((m): m is string => typeof m === 'string');
    if (missing.length > 0) throw new ConfigError(`Invalid configuration:\n${missing.join('\n')}`);
  }
  if (c.STAFF_PASSWORD_COST < 15 && c.NODE_ENV !== 'test') {
    throw new ConfigError(
      'Invalid configuration:\n  STAFF_PASSWORD_COST: below 15 only when NODE_ENV=test (it makes stolen password hashes fast to attack)',
    );
  }
  if (c.REMINDER_START_HOUR >= c.REMINDER_END_HOUR) {
    throw new ConfigError('Invalid configuration:\n  REMINDER_START_HOUR: must be before REMINDER_END_HOUR');
  }
  if (c.CONTRIBUTION_MIN > c.CONTRIBUTION_MAX) {
    throw new ConfigError('Invalid configuration:\n  CONTRIBUTION_MIN: must not exceed CONTRIBUTION_MAX');
  }
  return {
    ...c,
    SIMULATOR_ENABLED: c.SIMULATOR_ENABLED ?? c.NODE_ENV !== 'production',
    // Outside production calls ring the simulated phones from the demo's voice number.
    VOICE_NUMBER: c.VOICE_NUMBER ?? (c.NODE_ENV === 'production' ? undefined : DEMO_VOICE_NUMBER),
  };
}
