import { hash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv4 } from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { addCidr } from '../config.ts';
import type { Logger } from '../log.ts';

/**
 * Every route under these prefixes is a gateway callback (Africa's Talking posts to them): /ussd,
 * /ussd/events, /sms/inbound, /sms/delivery, /sms/optout, /voice and its prompts' audio
 * (/voice/audio/…). A new gateway route goes under one of
 * them, or its prefix is added here, so it cannot be left unguarded.
 */
export const GATEWAY_PREFIXES = ['/ussd', '/sms', '/voice'];

/** The query parameter carrying GATEWAY_CALLBACK_KEY; the gateway does not sign its callbacks. */
export const KEY_PARAM = 'key';

// One-shot hash: a few µs cheaper per callback than a Hash object.
const digest = (s: string) => hash('sha256', s, 'buffer');

/** Query strings made only of these characters read the same through the WHATWG URL parser and URLSearchParams alone. */
const PLAIN_QUERY = /^[A-Za-z0-9._~%=&+-]*$/;

/** Every value of `key=` in the request's query string, as `new URL(url).searchParams.getAll(KEY_PARAM)` reads it. */
export function givenKeys(url: string): string[] {
  const q = url.indexOf('?');
  if (q < 0) return [];
  const query = url.slice(q + 1);
  // Anything else (#, spaces, quotes, non-ASCII…) goes through the full parser, which may re-encode or cut it.
  if (PLAIN_QUERY.test(query)) return new URLSearchParams(query).getAll(KEY_PARAM);
  return new URL(url, 'http://callback.invalid').searchParams.getAll(KEY_PARAM);
}

/** `url` with the gateway key in its query string, as the gateway's callback URL is configured; unchanged without a key. */
export function withGatewayKey(url: string, key: string | undefined): string {
  if (!key) return url;
  const u = new URL(url);
  u.searchParams.set(KEY_PARAM, key);
  return u.toString();
}

/**
 * Says why a gateway callback must be refused (null: it may go on): an address outside
 * `allowedIps`, or not exactly one `key=` query parameter equal to `key`. Compared as SHA-256
 * digests in constant time, so neither the length nor a prefix of the key leaks. Needs only the
 * request line and the client address, so it runs before the body is read. `ip` is asked only
 * when an address list is configured. Null when neither is configured.
 */
export function gatewayCheck(opts: {
  key?: string | undefined;
  allowedIps?: readonly string[] | undefined;
}): ((ip: () => string | undefined, url: string) => string | null) | null {
  const expected = opts.key === undefined ? null : digest(opts.key);
  let allowed: BlockList | null = null;
  if (opts.allowedIps) {
    const blocks = new BlockList();
    for (const entry of opts.allowedIps) addCidr(blocks, entry);
    allowed = blocks;
  }
  if (!expected && !allowed) return null;
  return (ip, url) => {
    if (allowed && !isAllowed(allowed, ip())) return 'this address may not post gateway callbacks';
    if (expected) {
      const given = givenKeys(url);
      if (given.length !== 1 || !timingSafeEqual(digest(given[0] as string), expected)) {
        return `gateway callbacks need the right ?${KEY_PARAM}= in their URL`;
      }
    }
    return null;
  };
}

/** The express face of gatewayCheck: 403 before the body is read, so nothing changes. */
export function gatewayGuard(opts: {
  key?: string | undefined;
  allowedIps?: readonly string[] | undefined;
  logger: Logger;
}): RequestHandler {
  const check = gatewayCheck(opts);
  return (req: Request, res: Response, next: NextFunction) => {
    const why = check?.(() => req.ip, req.originalUrl) ?? null;
    if (why) {
      opts.logger.warn({ ip: req.ip, path: req.path }, `gateway callback refused: ${why}`);
      res.status(403).type('text/plain').send(`Forbidden: ${why}\n`);
      return;
    }
    next();
  };
}

function isAllowed(blocks: BlockList, ip: string | undefined): boolean {
  if (!ip) return false;
  // A dual-stack socket reports an IPv4 client as ::ffff:a.b.c.d; the list names it as IPv4.
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return isIPv4(v4) ? blocks.check(v4, 'ipv4') : blocks.check(ip, 'ipv6');
}
