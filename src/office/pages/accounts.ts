/**
 * Staff accounts: `/admin/login`, `/admin/logout`, `/admin/password` (one's own), `/admin/staff`
 * (the list, for managers).
 */
import type { Express, Response } from 'express';
import { z } from 'zod';
import { actorOf, clearSessionCookie, clientOf, loginRateLimit, type OfficeLocals, setSessionCookie } from '../auth.ts';
import { type Flash, flashOf, withFlash } from '../flash.ts';
import { PASSWORD_PROBLEMS } from '../passwords.ts';
import { PasswordError, SESSION_MS } from '../staff.ts';
import type { PageContext } from './shared.ts';

const loginBody = z.object({ email: z.string().max(200), password: z.string().max(200), next: z.string().max(500).optional() });

/** Only a path inside the console, so the login form cannot send anyone elsewhere. */
function safeNext(next: string | undefined): string {
  return next && /^\/admin(\/[\w\-./?=&%]*)?$/.test(next) && !next.startsWith('/admin/login') ? next : '/admin';
}

export function accountPages(app: Express, c: PageContext): void {
  app.get('/admin/login', (req, res) => {
    if ((res.locals as Partial<OfficeLocals>).session) return res.redirect(303, '/admin');
    c.page(res, 'login', {
      title: 'Connexion',
      next: safeNext(String(req.query.next ?? '')),
      email: '',
      error: null,
      noAccounts: c.staff.count() === 0,
    });
  });

  app.post('/admin/login', loginRateLimit(c.loginLimitPerWindow ?? 30), c.form, async (req, res) => {
    const b = loginBody.safeParse(req.body);
    if (!b.success)
      return c.page(
        res,
        'login',
        { title: 'Connexion', next: '/admin', email: '', error: 'Adresse e-mail et mot de passe requis.', noAccounts: false },
        400,
      );
    const result = await c.staff.login(b.data.email, b.data.password, clientOf(req));
    if (!result.ok) {
      // A throttled attempt reads exactly as a wrong password: the page tells a guesser nothing.
      const error = result.reason === 'disabled' ? 'Ce compte est désactivé.' : 'Adresse e-mail ou mot de passe incorrect.';
      c.logger.warn({ reason: result.reason }, 'office: login refused');
      return c.page(res, 'login', { title: 'Connexion', next: safeNext(b.data.next), email: b.data.email, error, noAccounts: false }, 401);
    }
    setSessionCookie(req, res, result.token, SESSION_MS);
    c.logger.info({ staff: result.session.staff.id }, 'office: login');
    res.redirect(303, safeNext(b.data.next));
  });

  app.post('/admin/logout', c.form, c.csrf, (req, res) => {
    const { token, session } = res.locals as Partial<OfficeLocals>;
    if (token && session) c.staff.logout(token, session, clientOf(req));
    clearSessionCookie(req, res);
    res.redirect(303, '/admin/login');
  });

  const passwordPage = (res: Response, flash: Flash | undefined, status = 200) =>
    c.page(res, 'password', { title: 'Changer de mot de passe', flash }, status);
  app.get('/admin/password', c.officer, (req, res) => passwordPage(res, flashOf(req)));

  app.post('/admin/password', c.officer, c.form, c.csrf, async (req, res) => {
    const b = req.body as Record<string, unknown>;
    const [current, next, again] = [b.current, b.next, b.again].map((v) => (typeof v === 'string' ? v : ''));
    const { session, token } = res.locals as OfficeLocals;
    try {
      if (next !== again) throw new PasswordError('mismatch');
      await c.staff.changePassword(session.staff.id, current as string, next as string, token, actorOf(res));
      res.redirect(303, withFlash('/admin/password', 'password-changed'));
    } catch (err) {
      if (!(err instanceof PasswordError)) throw err;
      const text =
        err.problem === 'current'
          ? 'Mot de passe actuel incorrect.'
          : err.problem === 'mismatch'
            ? 'Les deux saisies du nouveau mot de passe diffèrent.'
            : `Nouveau mot de passe refusé: ${PASSWORD_PROBLEMS[err.problem].fr}.`;
      passwordPage(res, { kind: 'error', text }, 400);
    }
  });

  app.get('/admin/staff', c.manager, (_req, res) => {
    c.page(res, 'staff', { title: 'Comptes', staff: c.staff.list() });
  });
}
