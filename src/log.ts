import pino, { type Logger } from 'pino';

export type { Logger };

const PHONE = /\+?\d{8,15}/g;

/** Keeps the country code and the last two digits: enough to tell numbers apart in support, not to call them. */
export function maskPhone(value: string): string {
  return value.replace(PHONE, (m) => {
    const plus = m.startsWith('+') ? '+' : '';
    const digits = plus ? m.slice(1) : m;
    const keep = digits.startsWith('223') ? 3 : 0;
    return plus + digits.slice(0, keep) + '*'.repeat(digits.length - keep - 2) + digits.slice(-2);
  });
}

const PHONE_KEYS = new Set(['phone', 'phoneNumber', 'to', 'from', 'msisdn', 'recipient']);

function maskFields(obj: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (typeof v === 'string' && PHONE_KEYS.has(key)) {
      out ??= { ...obj };
      out[key] = maskPhone(v);
    }
  }
  return out ?? obj;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      formatters: { log: maskFields },
      hooks: {
        logMethod(args, method) {
          if (typeof args[0] === 'string') args[0] = maskPhone(args[0]);
          else if (typeof args[1] === 'string') args[1] = maskPhone(args[1]);
          method.apply(this, args as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}
