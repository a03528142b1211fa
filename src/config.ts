import { isIP } from 'node:net';
import { z } from 'zod';

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'], {
    error: 'must be one of true/false, 1/0, yes/no, on/off',
  })
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

/**
 * Express's 'trust proxy': true/false, a hop count, or addresses/CIDRs (and express's names
 * loopback, linklocal, uniquelocal) separated by commas. Behind a TLS proxy it makes req.secure and
 * req.ip the client's, so the session cookie is Secure and login limits are per client.
 */
const proxyAddress = (a: string) => {
  const [ip = '', bits, ...rest] = a.trim().split('/');
  return ['loopback', 'linklocal', 'uniquelocal'].includes(ip) ? bits === undefined : isIP(ip) !== 0 && rest.length === 0 && (bits === undefined || /^\d{1,3}$/.test(bits));
};
const trustProxy = z
  .string()
  .trim()
  .refine((v) => /^(true|false|\d{1,2})$/.test(v) || v.split(',').every(proxyAddress), {
    error: 'must be true, false, a hop count, or addresses/CIDRs separated by commas',
  })
  .transform((v): boolean | number | string[] =>
    v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v.split(',').map((a) => a.trim()),
  );

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_PATH: z.string().min(1).default('data/sabatili.db'),
  TRUST_PROXY: trustProxy.default(false),
  ADMIN_TOKEN: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
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
  SMS_RATE_PER_SECOND: z.coerce.number().int().min(0).max(10_000).default(20),
  SMS_DAILY_CAP: z.coerce.number().int().min(0).default(0),
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
  CONTRIBUTION_MIN: z.coerce.number().int().min(1).default(100),
  CONTRIBUTION_MAX: z.coerce.number().int().min(1).max(999_999).default(500_000),
  SIMULATOR_DUPLICATE_CALLBACKS: bool.default(false),
  PAYMENT_CALLBACK_SECRET: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  SIMULATOR_ENABLED: bool.optional(),
  SIMULATOR_ABSENT_PHONES: z
    .string()
    .regex(/^(\+[1-9]\d{6,14})(,\+[1-9]\d{6,14})*$/, { error: 'must be E.164 numbers separated by commas' })
    .optional(),
  SIMULATOR_DELIVERY_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(500),
  USSD_HOPS_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  SIMULATOR_USSD_IDLE_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  SIMULATOR_USSD_MAX_SECONDS: z.coerce.number().int().min(1).max(3600).default(180),
  GSM_FOLD: z.enum(['gsm7', 'ascii']).default('gsm7'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof schema>;
export interface Config extends Omit<Env, 'SIMULATOR_ENABLED' | 'PAYMENT_CALLBACK_SECRET'> {
  SIMULATOR_ENABLED: boolean;
  PAYMENT_CALLBACK_SECRET: string;
}

/** Used only when NODE_ENV is not production and no secret is set. */
export const DEV_CALLBACK_SECRET = 'sabatili-development-callback-secret';

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
  if (c.NODE_ENV === 'production' && !c.PAYMENT_CALLBACK_SECRET) {
    throw new ConfigError('Invalid configuration:\n  PAYMENT_CALLBACK_SECRET: required when NODE_ENV=production');
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
    // Outside production the simulated operator and the app share a known development secret.
    PAYMENT_CALLBACK_SECRET: c.PAYMENT_CALLBACK_SECRET ?? DEV_CALLBACK_SECRET,
  };
}
