/**
 * What every page family of the console shares: the services it is given (OfficeDeps), how a page
 * is rendered (one Eta instance, the formatters `f`, the LABELS), the role guards, the form and
 * CSRF middleware, the CSV upload, and the small parsers several families use.
 */

import { Eta } from 'eta';
import express, { type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Campaigns } from '../../campaigns/campaigns.ts';
import type { Batches } from '../../claims/batches.ts';
import { bamakoDay, type Clock } from '../../clock.ts';
import type { Db } from '../../db/connection.ts';
import type { HouseholdStore } from '../../db/households.ts';
import type { MutuelleStore } from '../../db/mutuelles.ts';
import { formatDate, formatDateTime, formatMoney } from '../../i18n/format.ts';
import type { Logger } from '../../log.ts';
import type { Payments } from '../../payments/payments.ts';
import type { InboundHandler } from '../../sms/inbound.ts';
import type { Outbox } from '../../sms/outbox.ts';
import type { Studio } from '../../voice/studio.ts';
import type { Audit } from '../audit.ts';
import { type OfficeLocals, requireCsrf, requireStaff } from '../auth.ts';
import type { CallbackQueue } from '../callback-queue.ts';
import { dayInput, dayTimeInput, parseDay } from '../dates.ts';
import type { KpiOptions, Kpis } from '../kpi.ts';
import {
  AUDIT_ACTIONS,
  CALLBACK_CHANNELS,
  CALLBACK_STATUSES,
  FAILURE_REASONS,
  named,
  PAYMENT_FINAL,
  REMINDER_RULES,
  SESSION_STATUSES,
  SMS_KINDS,
  SMS_STATUSES,
  screenTitle,
} from '../labels.ts';
import type { SearchHit, SupportViewFn } from '../members.ts';
import type { ReminderRules } from '../reminder-rules.ts';
import type { StaffStore } from '../staff.ts';
import { type CsvUploads, csvUploads, uploadsDir } from '../uploads.ts';

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
  /** Payment batches to facilities (src/claims/batches.ts). */
  batches: Batches;
  outbox: Outbox;
  inbound: Pick<InboundHandler, 'recent'>;
  campaigns: Campaigns;
  reminderRules: ReminderRules;
  /** How often the server looks for reminders to send, to say when a change takes effect. */
  remindersIntervalSeconds: number;
  /** The office's figures (src/office/kpi.ts), computed off the event loop for a large network. */
  kpis: (options: Omit<KpiOptions, 'campaigns'>) => Promise<Kpis>;
  /** The recording studio of the voice prompts (src/voice/studio.ts). */
  studio: Studio;
  loginLimitPerWindow?: number;
}

/** What each page family registers its pages with: the services, and the pieces below. */
export interface PageContext extends OfficeDeps {
  /** Renders `views/<view>.eta` with the session, the formatters and the labels. */
  page: (res: Response, view: string, data: Record<string, unknown>, status?: number) => void;
  /** A 404 page naming what was not found. */
  notFound: (res: Response, what: string) => void;
  /** Role guards: any signed-in staff, or managers only (others get a 403 page). */
  officer: RequestHandler;
  manager: RequestHandler;
  /** A posted form (urlencoded, 64 KB), then its CSRF token checked. */
  form: RequestHandler;
  csrf: RequestHandler;
  /** The one-file CSV upload of the import and the reconciliation. */
  uploads: CsvUploads;
  /** The districts and their mutuelles, for the forms and filters that offer them. */
  districts: () => Array<{ district: string; mutuelles: Array<{ id: string; name: string }> }>;
  /** Today in Bamako, 'AAAA-MM-JJ'. */
  today: () => string;
}

const VIEWS = new URL('../views/', import.meta.url).pathname;

/** A share in per cent, rounded to two decimals: the number both the table and the chart show. */
export const percent2 = (r: number) => Math.round(r * 10_000) / 100;

const MONTHS = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];
/** How numbers, dates and durations read in the console (French, Bamako time = UTC). */
export const f = {
  money: formatMoney,
  day: formatDate,
  when: (iso: string) => formatDateTime(new Date(iso)),
  month: (m: string) => `${MONTHS[Number(m.slice(5, 7)) - 1]} ${m.slice(0, 4)}`,
  count: (n: number) => n.toLocaleString('fr-FR').replace(/\u202f/g, ' '),
  /** A share such as the penetration, in per cent with two decimals: 0.004166 → '0,42 %'. */
  rate2: (r: number | null | undefined) =>
    r === null || r === undefined
      ? '—'
      : `${percent2(r).toLocaleString('fr-FR', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} %`,
  /** What the gateway reported, per currency; the West African CFA franc (XOF) is written FCFA. */
  cost: (byCurrency: Record<string, number>) =>
    Object.entries(byCurrency)
      .map(([cur, v]) => (cur === 'XOF' ? formatMoney(Math.round(v)) : `${v} ${cur}`))
      .join(', ') || '—',
  percent: (a: number, b: number) => (b ? `${((100 * a) / b).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} %` : '—'),
  duration: (minutes: number) =>
    minutes < 60
      ? `${minutes} min`
      : minutes < 1440
        ? `${Math.floor(minutes / 60)} h ${minutes % 60} min`
        : `${Math.floor(minutes / 1440)} j ${Math.floor((minutes % 1440) / 60)} h`,
};
export const LABELS = {
  statuses: {
    active: 'couvert',
    waiting: 'en stage',
    grace: 'délai de grâce',
    lapsed: 'non couvert',
    inactive: 'retiré',
    never: 'jamais couvert',
  },
  paymentStatuses: {
    initiated: 'demandé',
    pending: 'en attente du code',
    succeeded: 'réussi',
    failed: 'échoué',
    expired: 'expiré',
    cancelled: 'annulé',
    review: 'à vérifier (écart signalé par l’opérateur)',
  },
  reasons: { payment: 'paiement', coverage: 'couverture', registration: 'inscription', other: 'autre' },
  channels: { orange_money: 'Orange Money', cash: 'espèces', agent: 'agent' },
  matched: { phone: 'téléphone', card: 'carte', name: 'nom', beneficiary: 'bénéficiaire' },
  campaignStates: {
    draft: 'brouillon',
    scheduled: 'programmée',
    sending: 'en cours',
    paused: 'en pause',
    cancelled: 'annulée',
    done: 'terminée',
  },
  categoryLabels: {
    matched: 'Concordent',
    amountMismatch: 'Montants différents',
    feeMismatch: 'Frais différents',
    missingInLedger: 'Au relevé, absents du registre',
    missingAtOperator: 'Au registre, absents du relevé',
  },
  inboundKeywords: { coverage: 'couverture', help: 'aide', stop: 'arrêt des SMS', start: 'reprise des SMS', callback: "demande d'appel" },
  unansweredReasons: {
    rate_limited: 'sans réponse: limite par heure atteinte',
    country: 'sans réponse: numéro étranger',
    recipient: 'sans réponse: numéro fixe ou court',
  },
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
export const dayField = (error: string) =>
  z.preprocess(
    (v) => (typeof v === 'string' ? parseDay(v) : v),
    z.iso
      .date({ error })
      .optional()
      .or(z.literal('').transform(() => undefined)),
  );

/** A record's id in the URL. */
export const idParam = z.coerce.number().int().positive();

export function createPageContext(d: OfficeDeps): PageContext {
  const eta = new Eta({ views: VIEWS, cache: true });
  const page = (res: Response, view: string, data: Record<string, unknown>, status = 200) => {
    const session = (res.locals as Partial<OfficeLocals>).session;
    res
      .status(status)
      .type('html')
      .send(eta.render(view, { session, f, esc, dayInput, dayTimeInput, ...LABELS, ...data }));
  };
  const forbidden = (res: Response) =>
    page(
      res,
      'message',
      {
        title: 'Accès réservé aux responsables',
        text: "Cette page est réservée aux comptes « responsable ». Demandez à un responsable de l'UTM si vous en avez besoin.",
      },
      403,
    );
  return {
    ...d,
    page,
    notFound: (res, what) =>
      page(res, 'message', { title: what, text: 'Vérifiez le lien, ou cherchez le ménage depuis la page Membres.' }, 404),
    officer: requireStaff('officer', forbidden),
    manager: requireStaff('manager', forbidden),
    form: express.urlencoded({ extended: false, limit: '64kb' }),
    csrf: requireCsrf,
    uploads: csvUploads(uploadsDir(d.db.name), d.clock),
    districts: () => d.mutuelles.districts().map((district) => ({ district, mutuelles: d.mutuelles.inDistrict(district) })),
    today: () => bamakoDay(d.clock.now()),
  };
}
