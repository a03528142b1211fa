import { exportReviewCsv, reviewItems } from '../ussd/review.ts';
import { dayInput, dayTimeInput, parseDay } from './dates.ts';
import { AUDIT_ACTIONS, CALLBACK_CHANNELS, CALLBACK_STATUSES, FAILURE_REASONS, named, whereInFrench, PAYMENT_FINAL, REMINDER_RULES, screenTitle, SESSION_STATUSES, SMS_KINDS, SMS_STATUSES } from './labels.ts';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Express, type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import helmet from 'helmet';
import { Eta } from 'eta';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/connection.ts';
import { createHouseholdFile } from '../db/household-file.ts';
import type { HouseholdStore } from '../db/households.ts';
import { createOutboxReports } from '../db/outbox-reports.ts';
import { atomically } from '../db/transaction.ts';
import { formatDate, formatDateTime, formatMoney } from '../i18n/format.ts';
import type { Logger } from '../log.ts';
import type { Payments } from '../payments/payments.ts';
import { CATEGORIES, exportLedger, parseStatement, reconcile, STATEMENT_COLUMNS } from '../payments/reconcile.ts';
import type { InboundHandler } from '../sms/inbound.ts';
import type { Outbox } from '../sms/outbox.ts';
import type { Audit, AuditFilter } from './audit.ts';
import { actorOf, clearSessionCookie, clientOf, loadSession, loginRateLimit, officeSession, requireCsrf, requireSameOrigin, requireStaff, setSessionCookie, type OfficeLocals } from './auth.ts';
import { QueueError, type CallbackQueue } from './callback-queue.ts';
import type { Campaigns } from '../campaigns/campaigns.ts';
import type { MutuelleStore } from '../db/mutuelles.ts';
import { campaignPages } from './campaign-pages.ts';
import { inboundPages } from './inbound-pages.ts';
import { reviewPages } from './review-pages.ts';
import { flashOf, withFlash, type Flash, type FlashCode } from './flash.ts';
import { RuleError, type ReminderRules } from './reminder-rules.ts';
import { CHANNELS, kpisToCsv, type KpiOptions, type Kpis } from './kpi.ts';
import { addMonths, monthOf } from '../domain/dates.ts';
import { bamakoDay } from '../clock.ts';
import type { SearchHit, SupportViewFn } from './members.ts';
import { COLUMNS, ImportFileError, previewImport, runImport } from './import.ts';
import { sweepUploads, uploadName, uploadsDir } from './uploads.ts';
import { BENEFICIARY_ROWS, checkBeneficiary, checkHousehold, mobileNumber, type FormValues } from './registration.ts';
import { PASSWORD_PROBLEMS } from './passwords.ts';
import { PasswordError, SESSION_MS, type StaffStore } from './staff.ts';

export interface OfficeDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  staff: StaffStore;
  audit: Audit;
  queue: CallbackQueue;
  search: (q: string) => SearchHit[];
  support: SupportViewFn;
  households: HouseholdStore;
  mutuelles: MutuelleStore;
  payments: Payments;
  outbox: Outbox;
  inbound: Pick<InboundHandler, 'recent'>;
  campaigns: Campaigns;
  reminderRules: ReminderRules;
  /** How often the server looks for reminders to send, to say when a change takes effect. */
  remindersIntervalSeconds: number;
  /** The office's figures (src/office/kpi.ts), computed off the event loop for a large network. */
  kpis: (options: Omit<KpiOptions, 'campaigns'>) => Promise<Kpis>;
  loginLimitPerWindow?: number;
}

const VIEWS = new URL('./views/', import.meta.url).pathname;
const STATIC = new URL('./public/', import.meta.url).pathname;
const CHART_JS = new URL('../../node_modules/chart.js/dist/', import.meta.url).pathname;

/** A share in per cent, rounded to two decimals: the number both the table and the chart show. */
export const percent2 = (r: number) => Math.round(r * 10_000) / 100;

const MONTHS = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];
/** How numbers, dates and durations read in the console (French, Bamako time = UTC). */
const f = {
  money: formatMoney,
  day: formatDate,
  when: (iso: string) => formatDateTime(new Date(iso)),
  month: (m: string) => `${MONTHS[Number(m.slice(5, 7)) - 1]} ${m.slice(0, 4)}`,
  count: (n: number) => n.toLocaleString('fr-FR').replace(/\u202f/g, ' '),
  /** A share such as the penetration, in per cent with two decimals: 0.004166 → '0,42 %'. */
  rate2: (r: number | null | undefined) => (r === null || r === undefined ? '—' : `${percent2(r).toLocaleString('fr-FR', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} %`),
  /** What the gateway reported, per currency; the West African CFA franc (XOF) is written FCFA. */
  cost: (byCurrency: Record<string, number>) =>
    Object.entries(byCurrency).map(([cur, v]) => (cur === 'XOF' ? formatMoney(Math.round(v)) : `${v} ${cur}`)).join(', ') || '—',
  percent: (a: number, b: number) => (b ? `${((100 * a) / b).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} %` : '—'),
  duration: (minutes: number) =>
    minutes < 60 ? `${minutes} min` : minutes < 1440 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${Math.floor(minutes / 1440)} j ${Math.floor((minutes % 1440) / 60)} h`,
};
const LABELS = {
  statuses: { active: 'couvert', waiting: 'en stage', grace: 'délai de grâce', lapsed: 'non couvert', inactive: 'retiré', never: 'jamais couvert' },
  paymentStatuses: { initiated: 'demandé', pending: 'en attente du code', succeeded: 'réussi', failed: 'échoué', expired: 'expiré', cancelled: 'annulé', review: 'à vérifier (écart signalé par l’opérateur)' },
  reasons: { payment: 'paiement', coverage: 'couverture', registration: 'inscription', other: 'autre' },
  channels: { orange_money: 'Orange Money', cash: 'espèces', agent: 'agent' },
  matched: { phone: 'téléphone', card: 'carte', name: 'nom', beneficiary: 'bénéficiaire' },
  campaignStates: { draft: 'brouillon', scheduled: 'programmée', sending: 'en cours', paused: 'en pause', cancelled: 'annulée', done: 'terminée' },
  categoryLabels: {
    matched: 'Concordent', amountMismatch: 'Montants différents', feeMismatch: 'Frais différents',
    missingInLedger: 'Au relevé, absents du registre', missingAtOperator: 'Au registre, absents du relevé',
  },
  inboundKeywords: { coverage: 'couverture', help: 'aide', stop: 'arrêt des SMS', start: 'reprise des SMS', callback: "demande d'appel" },
  unansweredReasons: { rate_limited: 'sans réponse: limite par heure atteinte', country: 'sans réponse: numéro étranger', recipient: 'sans réponse: numéro fixe ou court' },
  relations: { adherent: 'adhérent', spouse: 'conjoint(e)', child: 'enfant', parent: 'parent', other: 'autre' },
  smsKinds: SMS_KINDS,
  auditActions: AUDIT_ACTIONS,
  smsStatuses: SMS_STATUSES,
  sessionStatuses: SESSION_STATUSES,
  callbackStatuses: CALLBACK_STATUSES,
  callbackChannels: CALLBACK_CHANNELS,
  reminderRules: REMINDER_RULES,
  failureReasons: FAILURE_REASONS,
  paymentFinal: PAYMENT_FINAL,
  named,
  screenTitle,
};

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** For the few fragments a template builds as a string (an error next to its field). */
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);

/** An optional day typed as JJ/MM/AAAA (or AAAA-MM-JJ), as 'AAAA-MM-JJ'; empty means none. */
const dayField = (error: string) =>
  z.preprocess((v) => (typeof v === 'string' ? parseDay(v) : v), z.iso.date({ error }).optional().or(z.literal('').transform(() => undefined)));

const loginBody = z.object({ email: z.string().max(200), password: z.string().max(200), next: z.string().max(500).optional() });
const idParam = z.coerce.number().int().positive();
const auditQuery = z.object({
  actor: z.string().max(200).optional(),
  action: z.string().max(100).optional(),
  entity: z.string().max(50).optional(),
  entityId: z.string().max(50).optional(),
  from: dayField('must be a date'),
  to: dayField('must be a date'),
});

/** Only a path inside the console, so the login form cannot send anyone elsewhere. */
function safeNext(next: string | undefined): string {
  return next && /^\/admin(\/[\w\-./?=&%]*)?$/.test(next) && !next.startsWith('/admin/login') ? next : '/admin';
}

/**
 * The office console at /admin: server-rendered pages (Eta escapes every value by default), a
 * session cookie, CSRF tokens on every form, and an audit row for every write.
 */
export function officeRoutes(app: Express, d: OfficeDeps): void {
  const eta = new Eta({ views: VIEWS, cache: true });
  const page = (res: Response, view: string, data: Record<string, unknown>, status = 200) => {
    const session = (res.locals as Partial<OfficeLocals>).session;
    res.status(status).type('html').send(eta.render(view, { session, f, esc, dayInput, dayTimeInput, ...LABELS, ...data }));
  };
  const forbidden = (res: Response) =>
    page(res, 'message', { title: 'Accès réservé aux responsables', text: "Cette page est réservée aux comptes « responsable ». Demandez à un responsable de l'UTM si vous en avez besoin." }, 403);
  const officer = requireStaff('officer', forbidden);
  const manager = requireStaff('manager', forbidden);
  const form = express.urlencoded({ extended: false, limit: '64kb' });
  const householdFile = createHouseholdFile(d.db);
  const outboxReports = createOutboxReports(d.db);
  const notFound = (res: Response, what: string) => page(res, 'message', { title: what, text: "Vérifiez le lien, ou cherchez le ménage depuis la page Membres." }, 404);

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

  app.get('/admin/login', (req, res) => {
    if ((res.locals as Partial<OfficeLocals>).session) return res.redirect(303, '/admin');
    page(res, 'login', { title: 'Connexion', next: safeNext(String(req.query.next ?? '')), email: '', error: null, noAccounts: d.staff.count() === 0 });
  });

  app.post('/admin/login', loginRateLimit(d.loginLimitPerWindow ?? 30), form, async (req, res) => {
    const b = loginBody.safeParse(req.body);
    if (!b.success) return page(res, 'login', { title: 'Connexion', next: '/admin', email: '', error: 'Adresse e-mail et mot de passe requis.', noAccounts: false }, 400);
    const result = await d.staff.login(b.data.email, b.data.password, clientOf(req));
    if (!result.ok) {
      // A throttled attempt reads exactly as a wrong password: the page tells a guesser nothing.
      const error = result.reason === 'disabled' ? 'Ce compte est désactivé.' : 'Adresse e-mail ou mot de passe incorrect.';
      d.logger.warn({ reason: result.reason }, 'office: login refused');
      return page(res, 'login', { title: 'Connexion', next: safeNext(b.data.next), email: b.data.email, error, noAccounts: false }, 401);
    }
    setSessionCookie(req, res, result.token, SESSION_MS);
    d.logger.info({ staff: result.session.staff.id }, 'office: login');
    res.redirect(303, safeNext(b.data.next));
  });

  app.post('/admin/logout', form, requireCsrf, (req, res) => {
    const { token, session } = res.locals as Partial<OfficeLocals>;
    if (token && session) d.staff.logout(token, session, clientOf(req));
    clearSessionCookie(req, res);
    res.redirect(303, '/admin/login');
  });

  app.get('/admin', officer, async (_req, res) => {
    const today = bamakoDay(d.clock.now());
    const k = await d.kpis({ from: today, to: today, today });
    const penetration = k.districts.map((x) => ({ district: x.district, covered: x.penetration.coveredPersons, target: x.targetPopulation }));
    page(res, 'home', { title: 'Accueil', queue: d.queue.figures(), penetration });
  });

  app.get('/admin/members', officer, (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q.slice(0, 100) : '';
    page(res, 'members', { title: 'Membres', q, hits: d.search(q) });
  });

  const districts = () => d.mutuelles.districts().map((district) => ({ district, mutuelles: d.mutuelles.inDistrict(district) }));
  const householdForm = (res: Response, values: FormValues, errors: Record<string, string>, householdId?: number, status = 200) =>
    page(res, 'household-form', { title: householdId ? 'Modifier le ménage' : 'Inscrire un ménage', values, errors, householdId, districts: districts(), rows: BENEFICIARY_ROWS }, status);
  const today = () => bamakoDay(d.clock.now());
  const values = (req: Request): FormValues =>
    Object.fromEntries(Object.entries(req.body as Record<string, unknown>).filter(([k, v]) => k !== '_csrf' && typeof v === 'string')) as FormValues;

  app.get('/admin/households/new', officer, (_req, res) => householdForm(res, { joinedOn: today() }, {}));

  app.post('/admin/households', officer, form, requireCsrf, (req, res) => {
    const v = values(req);
    const checked = checkHousehold(v, d, { today: today() });
    if (!checked.ok) return householdForm(res, v, checked.errors, undefined, 400);
    const at = d.clock.now();
    const id = atomically(d.db, () => {
      const created = d.households.create(checked.value, at);
      d.audit.record(actorOf(res), at, { action: 'household.register', entity: 'household', entityId: created, after: checked.value });
      return created;
    });
    res.redirect(303, withFlash(`/admin/households/${id}`, 'household-registered'));
  });

  app.get('/admin/households/:id/edit', officer, (req, res) => {
    const id = idParam.safeParse(req.params.id);
    const record = id.success ? d.households.load(id.data) : undefined;
    if (!record || !id.success) return notFound(res, 'Ménage introuvable');
    const h = record.household;
    householdForm(res, { adherentName: h.adherentName, phone: h.phone, language: h.language, mutuelleId: h.mutuelleId, version: String(d.households.versionOf(id.data)) }, {}, id.data);
  });

  app.post('/admin/households/:id/edit', officer, form, requireCsrf, (req, res) => {
    const id = idParam.safeParse(req.params.id);
    const before = id.success ? d.households.load(id.data)?.household : undefined;
    if (!before || !id.success) return notFound(res, 'Ménage introuvable');
    const v = values(req);
    const checked = checkHousehold(v, d, { today: today(), editing: id.data });
    if (!checked.ok) return householdForm(res, v, checked.errors, id.data, 400);
    const { adherentName, phone, language, mutuelleId } = checked.value;
    const at = d.clock.now();
    const saved = atomically(d.db, () => {
      if (!d.households.update(id.data, Number(v.version), { adherentName, phone, language, mutuelleId }, at)) return false;
      d.audit.record(actorOf(res), at, {
        action: 'household.edit', entity: 'household', entityId: id.data,
        before: { adherentName: before.adherentName, phone: before.phone, language: before.language, mutuelleId: before.mutuelleId },
        after: { adherentName, phone, language, mutuelleId },
      });
      return true;
    });
    if (!saved) {
      // Someone saved first: show their version, never overwrite it silently.
      const now = d.households.load(id.data)?.household;
      return householdForm(
        res,
        { ...v, version: String(d.households.versionOf(id.data)) },
        { adherentName: `modifié entre-temps par quelqu'un d'autre (nom actuel: ${now?.adherentName}, téléphone: ${now?.phone}); vérifiez puis enregistrez à nouveau` },
        id.data,
        409,
      );
    }
    res.redirect(303, withFlash(`/admin/households/${id.data}`, 'household-edited'));
  });

  /** A member's file (the support view); each opening is audited, as a read of personal data. */
  const householdPage = (res: Response, id: number, flash: Flash | undefined, status = 200) => {
    const at = d.clock.now();
    const view = d.support(id, at);
    if (!view) return notFound(res, 'Ménage introuvable');
    d.audit.record(actorOf(res), at, { action: 'household.view', entity: 'household', entityId: id });
    page(res, 'household', { title: view.household.adherentName, view, flash }, status);
  };

  app.get('/admin/households/:id', officer, (req, res) => {
    const id = idParam.safeParse(req.params.id);
    if (!id.success) return notFound(res, 'Ménage introuvable');
    householdPage(res, id.data, flashOf(req));
  });

  /** Runs one audited change to a household, then shows its page again with what happened (a refusal in place, with 400). */
  const householdAction = (path: string, run: (req: Request, res: Response, householdId: number) => Promise<FlashCode> | FlashCode) => {
    app.post(`/admin/households/:id/${path}`, officer, form, requireCsrf, async (req, res) => {
      const id = idParam.safeParse(req.params.id);
      if (!id.success || !d.households.load(id.data)) return notFound(res, 'Ménage introuvable');
      try {
        res.redirect(303, withFlash(`/admin/households/${id.data}`, await run(req, res, id.data)));
      } catch (err) {
        if (!(err instanceof ActionError)) throw err;
        householdPage(res, id.data, { kind: 'error', text: err.message }, 400);
      }
    });
  };

  householdAction('notes', (req, res, householdId) => {
    const text = String((req.body as Record<string, unknown>).text ?? '').trim();
    if (!text) throw new ActionError('La note est vide.');
    const actor = actorOf(res);
    atomically(d.db, () => {
      const at = d.clock.now();
      const id = householdFile.addNote(householdId, actor.staffId, at, text.slice(0, 2000));
      d.audit.record(actor, at, { action: 'household.note', entity: 'household', entityId: householdId, after: { noteId: id, text } });
    });
    return 'note-saved';
  });

  householdAction('language', (req, res, householdId) => {
    const language = (req.body as Record<string, unknown>).language;
    if (language !== 'fr' && language !== 'bm') throw new ActionError('Langue inconnue.');
    const before = d.households.load(householdId)?.household.language;
    atomically(d.db, () => {
      const at = d.clock.now();
      d.households.setLanguage(householdId, language, at);
      d.audit.record(actorOf(res), at, { action: 'household.language', entity: 'household', entityId: householdId, before: { language: before }, after: { language } });
    });
    return 'language-changed';
  });

  householdAction('payments/:paymentId/resend-receipt', (req, res, householdId) => {
    const payment = d.payments.ofHousehold(householdId, Number(req.params.paymentId));
    if (!payment || payment.status !== 'succeeded' || !payment.operatorTxnId) throw new ActionError('Pas de reçu pour ce paiement.');
    const original = outboxReports.bySourceKey(`receipt:${payment.operatorTxnId}`);
    if (!original) throw new ActionError("Le reçu d'origine est introuvable.");
    atomically(d.db, () => {
      const at = d.clock.now();
      const resent = d.outbox.enqueue({
        to: original.recipient, text: original.text, lang: original.language, kind: 'transactional',
        sourceKey: `resend:${payment.operatorTxnId}:${at.getTime()}`,
      });
      d.audit.record(actorOf(res), at, { action: 'payment.resend-receipt', entity: 'payment', entityId: payment.id, after: { outbox: resent } });
    });
    return 'receipt-resent';
  });

  householdAction('payments/:paymentId/cancel', async (req, res, householdId): Promise<FlashCode> => {
    const payment = d.payments.ofHousehold(householdId, Number(req.params.paymentId));
    if (!payment || (payment.status !== 'pending' && payment.status !== 'initiated')) throw new ActionError("Ce paiement n'est pas en attente.");
    const cancelled = await d.payments.cancel(payment.payerMsisdn);
    d.audit.record(actorOf(res), d.clock.now(), {
      action: 'payment.cancel', entity: 'payment', entityId: payment.id, before: { status: payment.status }, after: { status: cancelled?.status ?? 'cancelled' },
    });
    return 'payment-cancelled';
  });

  householdAction('beneficiaries', (req, res, householdId) => {
    const b = checkBeneficiary(values(req), '', today());
    if (b === null) throw new ActionError('Le nom du bénéficiaire est requis.');
    if ('error' in b) throw new ActionError(b.error);
    const at = d.clock.now();
    atomically(d.db, () => {
      const id = d.households.addBeneficiary(householdId, b.value, at);
      d.audit.record(actorOf(res), at, { action: 'beneficiary.add', entity: 'household', entityId: householdId, after: { beneficiaryId: id, ...b.value } });
    });
    return 'beneficiary-added';
  });

  householdAction('beneficiaries/:beneficiaryId/active', (req, res, householdId) => {
    const active = (req.body as Record<string, unknown>).active === '1';
    const beneficiaryId = Number(req.params.beneficiaryId);
    const at = d.clock.now();
    atomically(d.db, () => {
      if (!d.households.setBeneficiaryActive(householdId, beneficiaryId, active, at)) throw new ActionError('Bénéficiaire introuvable.');
      d.audit.record(actorOf(res), at, { action: active ? 'beneficiary.reactivate' : 'beneficiary.deactivate', entity: 'household', entityId: householdId, before: { beneficiaryId, active: !active }, after: { beneficiaryId, active } });
    });
    return active ? 'beneficiary-reactivated' : 'beneficiary-withdrawn';
  });

  householdAction('wallets', (req, res, householdId) => {
    const msisdn = mobileNumber(String((req.body as Record<string, unknown>).msisdn ?? ''));
    if (!msisdn) throw new ActionError('Numéro Orange Money invalide.');
    const at = d.clock.now();
    atomically(d.db, () => {
      if (!d.households.linkWallet(householdId, msisdn, at)) throw new ActionError(`Le portefeuille ${msisdn} est déjà lié à un ménage.`);
      d.audit.record(actorOf(res), at, { action: 'wallet.link', entity: 'household', entityId: householdId, after: { msisdn } });
    });
    return 'wallet-linked';
  });

  householdAction('wallets/unlink', (req, res, householdId) => {
    const msisdn = String((req.body as Record<string, unknown>).msisdn ?? '');
    const at = d.clock.now();
    atomically(d.db, () => {
      if (!d.households.unlinkWallet(householdId, msisdn, at)) throw new ActionError("Ce portefeuille n'est pas lié à ce ménage.");
      d.audit.record(actorOf(res), at, { action: 'wallet.unlink', entity: 'household', entityId: householdId, before: { msisdn } });
    });
    return 'wallet-unlinked';
  });

  // Uploads go to disk as they arrive (memory stays flat whatever the file), in a private folder,
  // under a name that the confirmation then names; each is deleted once refused, confirmed or
  // abandoned (the sweep on each upload).
  const uploads = uploadsDir(d.db.name);
  const upload = multer({
    storage: multer.diskStorage({
      destination: (_req, _file, cb) => {
        sweepUploads(uploads, d.clock.now());
        cb(null, uploads);
      },
      filename: (_req, _file, cb) => cb(null, uploadName(d.clock.now().getTime(), randomUUID())),
    }),
    limits: { fileSize: 50 * 1024 * 1024, files: 1, fields: 5 },
  }).single('file');
  /** The CSRF check comes after the upload (the token is in the multipart body): a refused form's file goes at once. */
  const uploadCsrf: RequestHandler = (req, res, next) => {
    let passed = false;
    requireCsrf(req, res, () => ((passed = true), next()));
    if (!passed && req.file) rmSync(req.file.path, { force: true });
  };
  const importPage = (res: Response, data: Record<string, unknown>, status = 200) =>
    page(res, 'import', { title: 'Importer des membres', columns: COLUMNS.join(','), preview: null, error: null, done: false, ...data }, status);
  const importDeps = { db: d.db, households: d.households, mutuelles: d.mutuelles, audit: d.audit };

  app.get('/admin/import', officer, (_req, res) => importPage(res, {}));

  app.post('/admin/import', officer, (req, res, next) => {
    upload(req, res, (err: unknown) => {
      if (!err) return next();
      importPage(res, { error: `Fichier refusé: ${(err as Error).message}` }, 400);
    });
  }, uploadCsrf, async (req, res) => {
    if (!req.file) return importPage(res, { error: 'Choisissez un fichier CSV.' }, 400);
    const token = req.file.filename.replace(/\.csv$/, '');
    try {
      const preview = await previewImport(req.file.path, importDeps, today());
      importPage(res, { preview, token, fileName: req.file.originalname });
    } catch (err) {
      rmSync(req.file.path, { force: true });
      if (!(err instanceof ImportFileError)) throw err;
      importPage(res, { error: err.message }, 400);
    }
  });

  app.post('/admin/import/:token/confirm', officer, form, requireCsrf, async (req, res) => {
    const token = String(req.params.token);
    const path = join(uploads, `${token}.csv`);
    if (!/^\d{1,15}-[0-9a-f-]{36}$/.test(token)) return notFound(res, 'Fichier introuvable');
    try {
      const preview = await runImport(path, importDeps, actorOf(res), d.clock.now());
      importPage(res, { preview, done: true, fileName: `${token}.csv` });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return notFound(res, 'Fichier introuvable (déjà importé ?)');
      if (!(err instanceof ImportFileError)) throw err;
      importPage(res, { error: err.message }, 400);
    } finally {
      rmSync(path, { force: true });
    }
  });

  const day = dayField('date invalide (JJ/MM/AAAA)');
  const period = z.object({ from: day, to: day });
  const reconcilePage = (res: Response, data: Record<string, unknown>, status = 200) =>
    page(res, 'reconcile', { title: 'Rapprochement', columns: STATEMENT_COLUMNS.join(','), categories: CATEGORIES, report: null, errors: null, error: null, ...data }, status);

  app.get('/admin/reconcile', manager, (_req, res) => reconcilePage(res, {}));

  app.post('/admin/reconcile', manager, (req, res, next) => {
    upload(req, res, (err: unknown) => (err ? reconcilePage(res, { error: `Fichier refusé: ${(err as Error).message}` }, 400) : next()));
  }, uploadCsrf, (req, res) => {
    const p = period.safeParse(req.body);
    const file = req.file;
    try {
      if (!p.success) return reconcilePage(res, { error: 'Dates au format JJ/MM/AAAA.' }, 400);
      if (!file) return reconcilePage(res, { error: "Choisissez le relevé de l'opérateur." }, 400);
      const parsed = parseStatement(readFileSync(file.path, 'utf8'));
      if (parsed.errors.length) {
        return reconcilePage(res, { ...p.data, errors: parsed.errors, error: `Le relevé contient ${parsed.errors.length} erreur(s): rien n'a été rapproché.` }, 400);
      }
      reconcilePage(res, { ...p.data, report: reconcile(d.db, parsed.rows, p.data) });
    } finally {
      if (file) rmSync(file.path, { force: true });
    }
  });

  app.get('/admin/reconcile/ledger.csv', manager, (req, res) => {
    const p = period.safeParse(req.query);
    if (!p.success) return reconcilePage(res, { error: 'Dates au format JJ/MM/AAAA.' }, 400);
    const csv = exportLedger(d.db, p.data);
    d.audit.record(actorOf(res), d.clock.now(), { action: 'export.ledger', entity: 'export', entityId: 'ledger.csv', after: p.data });
    res.type('text/csv').attachment('registre-cotisations.csv').send(csv);
  });

  const callbacksPage = (res: Response, flash: Flash | undefined, status = 200) =>
    page(res, 'callbacks', { title: "Demandes d'appel", items: d.queue.list(), figures: d.queue.figures(), flash }, status);
  app.get('/admin/callbacks', officer, (req, res) => callbacksPage(res, flashOf(req)));

  for (const action of ['claim', 'done'] as const) {
    app.post(`/admin/callbacks/:id/${action}`, officer, form, requireCsrf, (req, res) => {
      const id = idParam.safeParse(req.params.id);
      if (!id.success) return notFound(res, 'Demande introuvable');
      try {
        if (action === 'claim') d.queue.claim(id.data, actorOf(res));
        else d.queue.done(id.data, String((req.body as Record<string, unknown>).outcome ?? ''), actorOf(res));
        res.redirect(303, withFlash('/admin/callbacks', action === 'claim' ? 'callback-claimed' : 'callback-done'));
      } catch (err) {
        if (!(err instanceof QueueError)) throw err;
        callbacksPage(res, { kind: 'error', text: err.message }, 400);
      }
    });
  }

  campaignPages(app, { page, manager, form, csrf: requireCsrf, notFound, districts, audit: d.audit, clock: d.clock, logger: d.logger }, d.campaigns);
  reviewPages(app, { page, manager, form, csrf: requireCsrf, audit: d.audit, clock: d.clock }, d.payments);
  inboundPages(app, { page, officer }, d.inbound);

  const figuresQuery = z.object({
    from: dayField('date de début invalide (JJ/MM/AAAA)'),
    to: dayField('date de fin invalide (JJ/MM/AAAA)'),
    district: z.string().max(100).optional().transform((v) => v || undefined),
    mutuelle: z.string().max(100).optional().transform((v) => v || undefined),
  });
  /** The period asked, by default the last twelve months to today. */
  const figuresOptions = (req: Request) => {
    const q = figuresQuery.safeParse(req.query);
    const today = bamakoDay(d.clock.now());
    const from = (q.success && q.data.from) || `${addMonths(monthOf(today), -11)}-01`;
    const to = (q.success && q.data.to) || today;
    const query = { from, to, district: q.success ? q.data.district : undefined, mutuelle: q.success ? q.data.mutuelle : undefined };
    return { q, today, query, options: { from, to, today, district: query.district, mutuelleId: query.mutuelle } };
  };
  const queryString = (query: Record<string, string | undefined>) =>
    new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined)).toString();

  app.get('/admin/figures', manager, async (req, res) => {
    const { q, query, options } = figuresOptions(req);
    const base = { title: 'Chiffres', query, districts: districts(), kpis: null, error: null as string | null, scripts: ['/admin/static/chart.umd.js', '/admin/static/figures.js'] };
    if (!q.success) return page(res, 'figures', { ...base, error: q.error.issues.map((i) => i.message).join('; ') }, 400);
    try {
      const k = await d.kpis(options);
      const chart = {
        // The axes read as the tables do: days JJ/MM/AAAA, months by their French name.
        trendDays: k.trendDays.map(formatDate),
        penetration: k.districts.map((x) => ({ label: x.district, rates: x.penetration.trend.map((p) => (p.rate === null ? null : percent2(p.rate))) })),
        months: k.totals.contributions.months.map((m) => f.month(m.month)),
        channels: CHANNELS.map((c) => ({ label: LABELS.channels[c], amounts: k.totals.contributions.months.map((m) => m.byChannel[c].amount) })),
      };
      // JSON in the page for the charts; '<' escaped so that no value can close the script element.
      const chartJson = JSON.stringify(chart).replace(/</g, '\\u003c');
      page(res, 'figures', { ...base, kpis: k, chartJson, queryString: queryString(query) });
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      page(res, 'figures', { ...base, error: err.message }, 400);
    }
  });

  app.get('/admin/figures.csv', manager, async (req, res) => {
    const { q, options } = figuresOptions(req);
    if (!q.success) return void res.status(400).type('text/plain').send(`${q.error.issues.map((i) => i.message).join('; ')}\n`);
    try {
      const k = await d.kpis(options);
      d.audit.record(actorOf(res), d.clock.now(), { action: 'export.figures', entity: 'export', entityId: 'figures.csv', after: { from: options.from, to: options.to, district: options.district, mutuelle: options.mutuelleId } });
      res.attachment(`chiffres-${options.from}-${options.to}.csv`).type('text/csv; charset=utf-8').send(kpisToCsv(k));
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      res.status(400).type('text/plain').send(`${err.message}\n`);
    }
  });

  const rulesPage = (res: Response, flash: Flash | undefined, status = 200) => {
    const rules = d.reminderRules.list();
    const mutuelles = districts().flatMap((x) => x.mutuelles);
    const own = new Set(rules.map((r) => r.mutuelleId).filter((m): m is string => m !== null));
    const groups = [
      { mutuelleId: null, title: 'Règles par défaut', rules: rules.filter((r) => r.mutuelleId === null) },
      ...mutuelles.filter((m) => own.has(m.id)).map((m) => ({ mutuelleId: m.id, title: m.name, rules: rules.filter((r) => r.mutuelleId === m.id) })),
    ];
    page(res, 'reminder-rules', {
      title: 'Alertes SMS', groups, withoutOwn: mutuelles.filter((m) => !own.has(m.id)),
      intervalMinutes: Math.round(d.remindersIntervalSeconds / 60), flash,
    }, status);
  };
  app.get('/admin/reminder-rules', manager, (req, res) => rulesPage(res, flashOf(req)));

  /** A change to the rules, then the rules page with what happened. */
  const ruleAction = (path: string, run: (req: Request, res: Response) => FlashCode) => {
    app.post(`/admin/reminder-rules${path}`, manager, form, requireCsrf, (req, res) => {
      try {
        res.redirect(303, withFlash('/admin/reminder-rules', run(req, res)));
      } catch (err) {
        if (!(err instanceof RuleError)) throw err;
        rulesPage(res, { kind: 'error', text: err.message }, 400);
      }
    });
  };
  ruleAction('/customise', (req, res) => {
    const id = String((req.body as Record<string, unknown>).mutuelleId ?? '');
    if (!districts().some((x) => x.mutuelles.some((m) => m.id === id))) throw new RuleError('mutuelle inconnue');
    d.reminderRules.customise(id, actorOf(res));
    return 'rules-customised';
  });
  ruleAction('/mutuelles/:mutuelleId/reset', (req, res) => {
    d.reminderRules.reset(String(req.params.mutuelleId), actorOf(res));
    return 'rules-reset';
  });
  ruleAction('/:id', (req, res) => {
    const b = req.body as Record<string, unknown>;
    const offset = String(b.offsetDays ?? '').trim();
    d.reminderRules.change(Number(req.params.id), offset === '' ? Number.NaN : Number(offset), b.enabled === 'on', actorOf(res));
    return 'rule-saved';
  });

  /** The Bambara messages awaiting a native speaker's review, doubtful terms first; the spreadsheet to review them. */
  app.get('/admin/bambara', manager, (_req, res) => {
    const items = reviewItems().map((i) => ({ ...i, where: i.where.map(whereInFrench) }));
    page(res, 'bambara', { title: 'Relecture du bambara', items });
  });
  app.get('/admin/bambara.csv', manager, (_req, res) => {
    d.audit.record(actorOf(res), d.clock.now(), { action: 'export.bambara', entity: 'export', entityId: 'bambara.csv' });
    res.attachment('relecture-bambara.csv').type('text/csv; charset=utf-8').send(exportReviewCsv());
  });

  app.get('/admin/audit', manager, (req, res) => {
    const q = auditQuery.safeParse(req.query);
    const filter: AuditFilter = q.success ? q.data : {};
    page(res, 'audit', { title: 'Journal', filter, rows: d.audit.list(filter), error: q.success ? null : 'Filtre invalide: dates au format JJ/MM/AAAA.' }, q.success ? 200 : 400);
  });

  const passwordPage = (res: Response, flash: Flash | undefined, status = 200) =>
    page(res, 'password', { title: 'Changer de mot de passe', flash }, status);
  app.get('/admin/password', officer, (req, res) => passwordPage(res, flashOf(req)));

  app.post('/admin/password', officer, form, requireCsrf, async (req, res) => {
    const b = req.body as Record<string, unknown>;
    const [current, next, again] = [b.current, b.next, b.again].map((v) => (typeof v === 'string' ? v : ''));
    const { session, token } = res.locals as OfficeLocals;
    try {
      if (next !== again) throw new PasswordError('mismatch');
      await d.staff.changePassword(session.staff.id, current as string, next as string, token, actorOf(res));
      res.redirect(303, withFlash('/admin/password', 'password-changed'));
    } catch (err) {
      if (!(err instanceof PasswordError)) throw err;
      const text =
        err.problem === 'current' ? 'Mot de passe actuel incorrect.'
        : err.problem === 'mismatch' ? 'Les deux saisies du nouveau mot de passe diffèrent.'
        : `Nouveau mot de passe refusé: ${PASSWORD_PROBLEMS[err.problem].fr}.`;
      passwordPage(res, { kind: 'error', text }, 400);
    }
  });

  app.get('/admin/staff', manager, (_req, res) => {
    page(res, 'staff', { title: 'Comptes', staff: d.staff.list() });
  });

  // Sessions belong to the pages; a 401/403 from a page is never confused with the API's JSON.
  app.use(/^\/admin(?!\/api)/, (req, res, next) => {
    if (!officeSession(res)) return officer(req, res, next);
    next();
  });
}

/** A refusal the officer can act on, shown on the page rather than as an error. */
class ActionError extends Error {}
