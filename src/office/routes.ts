import express, { type Express } from 'express';
import helmet from 'helmet';
import { loadSession, officeSession, requireSameOrigin } from './auth.ts';
import { accountPages } from './pages/accounts.ts';
import { auditPages } from './pages/audit.ts';
import { bambaraPages } from './pages/bambara.ts';
import { callbackPages } from './pages/callbacks.ts';
import { campaignPages } from './pages/campaigns.ts';
import { claimPages } from './pages/claims.ts';
import { disbursementPages } from './pages/disbursements.ts';
import { facilityPages } from './pages/facilities.ts';
import { figuresPages } from './pages/figures.ts';
import { homePages } from './pages/home.ts';
import { householdActionPages } from './pages/household-actions.ts';
import { householdPages } from './pages/households.ts';
import { importPages } from './pages/import.ts';
import { inboundPages } from './pages/inbound.ts';
import { reconcilePages } from './pages/reconcile.ts';
import { reminderRulePages } from './pages/reminder-rules.ts';
import { reviewPages } from './pages/reviews.ts';
import { createPageContext, type OfficeDeps } from './pages/shared.ts';
import { voicePages } from './pages/voice.ts';

const STATIC = new URL('./public/', import.meta.url).pathname;
const CHART_JS = new URL('../../node_modules/chart.js/dist/', import.meta.url).pathname;

/**
 * The office console at /admin: server-rendered pages (Eta escapes every value by default), a
 * session cookie, CSRF tokens on every form, and an audit row for every write. Each family of
 * pages is a module of ./pages/ named after its URLs (/admin/reconcile → pages/reconcile.ts);
 * what they share (rendering, guards, forms, uploads) is pages/shared.ts.
 */
export function officeRoutes(app: Express, d: OfficeDeps): void {
  const c = createPageContext(d);

  app.use(
    '/admin',
    helmet({
      // The office may serve plain http on its own network: no forced upgrade, no HSTS.
      contentSecurityPolicy: { directives: { 'upgrade-insecure-requests': null } },
      strictTransportSecurity: false,
      // helmet's no-referrer makes a browser send 'Origin: null' on the console's own forms, which the
      // same-origin check must refuse; same-origin still sends no Referer to other sites.
      referrerPolicy: { policy: 'same-origin' },
    }),
  );
  app.use('/admin/static', express.static(STATIC), express.static(CHART_JS));
  app.use(/^\/admin(?!\/api)/, ...loadSession(d.staff), requireSameOrigin);

  // Registration order is express's matching order: /admin/households/new before /admin/households/:id.
  accountPages(app, c); // /admin/login, /admin/logout, /admin/password, /admin/staff
  homePages(app, c); // /admin
  householdPages(app, c); // /admin/members, /admin/households, /admin/households/new, /admin/households/:id(/edit)
  householdActionPages(app, c); // POST /admin/households/:id/<action>
  importPages(app, c); // /admin/import
  reconcilePages(app, c); // /admin/reconcile
  callbackPages(app, c); // /admin/callbacks
  campaignPages(app, c); // /admin/campaigns
  reviewPages(app, c); // /admin/reviews
  disbursementPages(app, c); // /admin/disbursements
  inboundPages(app, c); // /admin/inbound
  figuresPages(app, c); // /admin/figures, /admin/figures.csv
  reminderRulePages(app, c); // /admin/reminder-rules
  bambaraPages(app, c); // /admin/bambara, /admin/bambara.csv
  voicePages(app, c); // /admin/voice, /admin/voice/audio/:lang/:slot.wav, POST /admin/voice/record
  auditPages(app, c); // /admin/audit
  facilityPages(app, c); // /admin/facilities, /admin/facilities/new, /admin/facilities/:id(/agents)
  claimPages(app, c); // /admin/claims, /admin/claims/facilities/:id, POST /admin/claims/:id/{approve,reject}

  // Sessions belong to the pages; a 401/403 from a page is never confused with the API's JSON.
  app.use(/^\/admin(?!\/api)/, (req, res, next) => {
    if (!officeSession(res)) return c.officer(req, res, next);
    next();
  });
}
