import type { Response } from 'express';
import type { ZodError } from 'zod';

/** Every rejected request goes through here: 4xx, text/plain, naming the field so a caller (or a test) can act on it. */
export function badRequest(res: Response, message: string, status = 400): void {
  res.status(status).type('text/plain').send(`Bad request: ${message}\n`);
}

export function describeZodError(error: ZodError): string {
  return error.issues
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}
