import { timingSafeEqual } from 'node:crypto';
import cookieParser from 'cookie-parser';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Actor } from './audit.ts';
import type { LoginClient, Role, StaffSession, StaffStore } from './staff.ts';

export const SESSION_COOKIE = 'sabatili_staff';

/** What every console page knows about who is looking. */
export interface OfficeLocals {
  session: StaffSession;
  token: string;
}

export function officeSession(res: Response): StaffSession {
  return (res.locals as OfficeLocals).session;
}

export function actorOf(res: Response): Actor {
  const { staff } = officeSession(res);
  return { staffId: staff.id, name: staff.email };
}

/** Reads the session cookie; pages then call `requireStaff`. */
export function loadSession(staff: StaffStore): RequestHandler[] {
  return [
    cookieParser(),
    (req, res, next) => {
      const token = (req.cookies as Record<string, string | undefined>)[SESSION_COOKIE];
      const session = token ? staff.session(token) : null;
      if (session && token) Object.assign(res.locals, { session, token } satisfies OfficeLocals);
      next();
    },
  ];
}

/**
 * A page for staff: without a session, a browser is sent to the login page (and back after); an
 * officer on a manager's page gets 403.
 */
export function requireStaff(role: Role, forbidden: (res: Response) => void): RequestHandler {
  return (req, res, next) => {
    const session = (res.locals as Partial<OfficeLocals>).session;
    if (!session) {
      if (req.method !== 'GET') return void res.status(401).type('text/plain').send('Session expirée: reconnectez-vous.\n');
      return res.redirect(303, `/admin/login?next=${encodeURIComponent(req.originalUrl)}`);
    }
    if (role === 'manager' && session.staff.role !== 'manager') {
      return forbidden(res);
    }
    next();
  };
}

/**
 * Every form posted in the console carries the session's token in `_csrf`; another site can make
 * the browser post, but cannot read the token. Runs after the body is parsed.
 */
export function requireCsrf(req: Request, res: Response, next: NextFunction): void {
  const session = (res.locals as Partial<OfficeLocals>).session;
  const sent = (req.body as Record<string, unknown> | undefined)?._csrf;
  const ok =
    session !== undefined &&
    typeof sent === 'string' &&
    sent.length === session.csrfToken.length &&
    timingSafeEqual(Buffer.from(sent), Buffer.from(session.csrfToken));
  if (!ok) return void res.status(403).type('text/plain').send('Formulaire refusé (jeton CSRF absent ou périmé): rechargez la page.\n');
  next();
}

/**
 * A POST whose Origin (or, without one, Referer) names another site is refused: another site can
 * make a browser post, but the browser says where from. Browsers send Origin on every POST, so one
 * with neither header is not a browser riding a staff member's cookie: allowed, and every form but
 * the login still needs its CSRF token. 'null' (a sandboxed or privacy-hidden origin) proves nothing
 * and is refused. The host compared is the request's own (X-Forwarded-Host behind a trusted proxy).
 */
export function requireSameOrigin(req: Request, res: Response, next: NextFunction): void {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
  const source = req.get('origin') ?? req.get('referer');
  if (source === undefined) return next();
  if (URL.canParse(source) && new URL(source).host === req.host) return next();
  res.status(403).type('text/plain').send("Requête refusée: elle vient d'un autre site.\n");
}

/** The client's address (the proxy's client when TRUST_PROXY says so) and user agent. */
export function clientOf(req: Request): LoginClient {
  return { address: req.ip ?? req.socket.remoteAddress ?? '', userAgent: req.get('user-agent') ?? '' };
}

/** Per address, on top of the per-(account, address) throttle: slows a guesser who tries many accounts. */
export function loginRateLimit(limit: number): RequestHandler {
  return rateLimit({
    windowMs: 15 * 60_000,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // TRUST_PROXY is the operator's explicit choice; the library's warning about a permissive one would only be noise.
    validate: { trustProxy: false },
    handler: (_req, res) =>
      void res.status(429).type('text/plain').send('Trop de tentatives de connexion depuis cette adresse: réessayez dans 15 minutes.\n'),
  });
}

/** httpOnly (no script reads it), SameSite=Lax (not sent on another site's posts), Secure when served over TLS. */
export function setSessionCookie(req: Request, res: Response, token: string, maxAgeMs: number): void {
  res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/admin', maxAge: maxAgeMs });
}

export function clearSessionCookie(req: Request, res: Response): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/admin' });
}
