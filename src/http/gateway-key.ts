import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv4 } from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { addCidr } from '../config.ts';
import type { Logger } from '../log.ts';

/**
 * Every route under these prefixes is a gateway callback (Africa's Talking posts to them): /ussd,
 * /ussd/events, /sms/inbound, /sms/delivery, /sms/optout. A new gateway route goes under one of
 * them, or its prefix is added here, so it cannot be left unguarded.
 */
export const GATEWAY_PREFIXES = ['/ussd', '/sms'];

/** The query parameter carrying GATEWAY_CALLBACK_KEY; the gateway does not sign its callbacks. */
export const KEY_PARAM = 'key';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** `url` with the gateway key in its query string, as the gateway's callback URL is configured; unchanged without a key. */
export function withGatewayKey(url: string, key: string | undefined): string {
  if (!key) return url;
  const u = new URL(url);
  u.searchParams.set(KEY_PARAM, key);
  return u.toString();
}

/**
 * Refuses a gateway callback (403, before its body is read, so nothing changes) from an address
 * outside `allowedIps` or without exactly one `key=` query parameter equal to `key`. Compared as
 * SHA-256 digests in constant time, so neither the length nor a prefix of the key leaks.
 */
export function gatewayGuard(opts: { key?: string; allowedIps?: readonly string[]; logger: Logger }): RequestHandler {
  const expected = opts.key === undefined ? null : digest(opts.key);
  let allowed: BlockList | null = null;
  if (opts.allowedIps) {
    const blocks = new BlockList();
    for (const entry of opts.allowedIps) addCidr(blocks, entry);
    allowed = blocks;
  }
  const refuse = (req: Request, res: Response, why: string) => {
    opts.logger.warn({ ip: req.ip, path: req.path }, `gateway callback refused: ${why}`);
    res.status(403).type('text/plain').send(`Forbidden: ${why}\n`);
  };
  return (req: Request, res: Response, next: NextFunction) => {
    if (allowed && !isAllowed(allowed, req.ip)) return refuse(req, res, 'this address may not post gateway callbacks');
    if (expected) {
      const given = new URL(req.originalUrl, 'http://callback.invalid').searchParams.getAll(KEY_PARAM);
      if (given.length !== 1 || !timingSafeEqual(digest(given[0] as string), expected)) {
        return refuse(req, res, `gateway callbacks need the right ?${KEY_PARAM}= in their URL`);
      }
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
