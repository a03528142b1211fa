import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying the operator's signature of a callback's raw body. */
export const SIGNATURE_HEADER = 'x-signature';

/** `sha256=<hex>` of HMAC-SHA256 over the exact bytes of the body. */
export function sign(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Constant-time check of a signature header against the body. */
export function verify(body: string | Buffer, secret: string, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(sign(body, secret));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
