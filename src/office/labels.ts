/**
 * What the console calls things: every status, kind, channel, rule and screen by its French name,
 * never an internal key. A value without a name here is shown as « autre (key) » rather than raw,
 * so a new code shows up as obviously untranslated instead of passing for a word.
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { flows } from '../../flows/index.ts';
import type { ScreenMeta } from '../../flows/lib.ts';
import { loadCatalogs } from '../i18n/catalog.ts';

export const SMS_KINDS: Record<string, string> = {
  transactional: 'reçu ou réponse',
  reminder: 'alerte de fin de couverture',
  campaign: 'campagne',
};

export const SMS_STATUSES: Record<string, string> = {
  queued: 'en file',
  sending: 'en cours d’envoi',
  sent: 'envoyé',
  delivered: 'reçu par le téléphone',
  failed: 'échec',
  expired: 'abandonné (trop tard)',
};

/** A USSD session as the app saw it, and as the gateway reported its end. */
export const SESSION_STATUSES: Record<string, string> = {
  open: 'coupée avant la fin',
  ended: 'terminée',
  resumed: 'reprise dans un autre appel',
  Success: 'terminée normalement',
  Incomplete: 'interrompue',
  Failed: 'échouée',
};

export const CALLBACK_STATUSES: Record<string, string> = { open: 'à faire', claimed: 'en cours', done: 'terminée' };

export const CALLBACK_CHANNELS: Record<string, string> = { ussd: 'menu USSD', sms: 'SMS', office: 'au bureau', voice: 'appel vocal' };

/** The reminder rules by what they do (the codes are those of the SMS templates sms.reminder.*). */
export const REMINDER_RULES: Record<string, string> = {
  before_end: 'avant la fin de la couverture',
  last_day: 'le dernier jour couvert',
  grace: 'pendant le délai de grâce',
  lapsed: 'après la fin de la couverture',
};

/** Why a mobile payment failed, as the operator or the app reported it. */
export const FAILURE_REASONS: Record<string, string> = {
  INSUFFICIENT_FUNDS: 'solde insuffisant',
  WRONG_PIN: 'code secret incorrect',
  REFUSED: 'refusé par l’opérateur',
  REFUSED_AFTER_REVIEW: 'refusé après vérification',
  EXPIRED: 'pas confirmé à temps',
  PAYMENT_EXPIRED: 'pas confirmé à temps',
  UNKNOWN_AT_OPERATOR: 'inconnu de l’opérateur',
  UNKNOWN_WALLET: 'compte Orange Money inconnu',
  WALLET_BLOCKED: 'compte Orange Money bloqué',
  INVALID_REQUEST: 'demande refusée par l’opérateur',
  DUPLICATE_REFERENCE: 'référence en double',
  PENDING_EXISTS: 'un autre paiement attendait déjà',
  NO_PENDING_PAYMENT: 'aucun paiement en attente',
  FAILED: 'échec chez l’opérateur',
};

export const PAYMENT_FINAL: Record<string, string> = { failed: 'échoué', expired: 'expiré' };

/** A name from a table, or « autre (code) » when the code has none. */
/** What each audited action did, as the audit log names it (`api.*` is named by its method). */
export const AUDIT_ACTIONS: Record<string, string> = {
  'login.success': 'connexion',
  'login.failure': 'connexion refusée (mot de passe)',
  'login.throttled': 'connexion ralentie (trop d’échecs)',
  'login.disabled': 'connexion refusée (compte désactivé)',
  logout: 'déconnexion',
  'household.view': 'dossier consulté',
  'household.register': 'ménage inscrit',
  'household.edit': 'ménage modifié',
  'household.note': 'note ajoutée',
  'household.language': 'langue changée',
  'beneficiary.add': 'bénéficiaire ajouté',
  'beneficiary.deactivate': 'bénéficiaire retiré',
  'beneficiary.reactivate': 'bénéficiaire réintégré',
  'wallet.link': 'compte Orange Money lié',
  'wallet.unlink': 'compte Orange Money délié',
  'payment.cancel': 'paiement annulé',
  'payment.resend-receipt': 'reçu renvoyé',
  'payment.review.credit': 'paiement vérifié: crédité',
  'payment.review.refuse': 'paiement vérifié: refusé',
  'batch.prepare': 'lot de paiement préparé',
  'batch.approve': 'lot de paiement approuvé et envoyé',
  'batch.retry': 'lot de paiement relancé',
  'batch.cancel': 'lot de paiement annulé',
  'export.disbursements': 'export du registre des paiements aux établissements',
  'callback.claim': "demande d'appel prise",
  'callback.done': "demande d'appel terminée",
  'members.import': 'import de membres',
  'facility.register': 'établissement inscrit',
  'agent.add': "agent d'établissement enregistré",
  'agent.deactivate': "agent d'établissement désactivé",
  'agents.import': "import d'agents d'établissement",
  'claim.approve': 'demande de remboursement approuvée',
  'claim.reject': 'demande de remboursement refusée',
  'reminder-rule.change': 'alerte SMS modifiée',
  'reminder-rule.customise': 'alertes SMS propres à la mutuelle',
  'reminder-rule.reset': 'alertes SMS par défaut',
  'campaign.create': 'campagne créée',
  'campaign.send': 'campagne envoyée',
  'campaign.pause': 'campagne en pause',
  'campaign.resume': 'campagne reprise',
  'campaign.cancel': 'campagne annulée',
  'campaign.test': 'campagne: SMS de test',
  'export.ledger': 'export du registre',
  'export.figures': 'export des chiffres',
  'export.bambara': 'export de la relecture bambara',
  'voice.record': 'enregistrement d’un message vocal',
  'staff.add': 'compte créé',
  'staff.disable': 'compte désactivé',
  'staff.password': 'mot de passe changé',
  'cli.run': 'commande sur le serveur',
  'api.get': 'API: lecture',
  'api.post': 'API: action',
};

export function named(table: Record<string, string>, code: string | null | undefined): string {
  if (code === null || code === undefined || code === '') return '—';
  return table[code] ?? `autre (${code})`;
}

/** The menus, as the member's main menu names them (flows/messages/fr.json main.*). */
export const FLOW_TITLES: Record<string, string> = {
  main: 'Menu principal',
  register: 'Accueil d’un numéro non inscrit',
  coverage: 'Ma couverture',
  contribute: 'Cotiser',
  history: 'Mes paiements',
  reminders: 'Rappels SMS',
  callback: 'Être rappelé par UTM',
  language: 'Langue / Kan',
};

let titles: Map<string, string> | undefined;

/**
 * A USSD screen as the member saw it: the first line of its French text, placeholders as « … ».
 * `screen` is what the figures record: `machine.state.path` (or a message key).
 */
export function screenTitle(screen: string): string {
  if (!titles) {
    const fr = loadCatalogs().fr;
    const text = (key: string) =>
      fr
        .get(key)
        ?.text.split('\n')[0]
        ?.replace(/\{[a-zA-Z]+\}/g, '…');
    titles = new Map();
    for (const [name, machine] of Object.entries(flows)) {
      const visit = (node: AnyStateNode) => {
        const meta = node.meta as ScreenMeta<unknown> | undefined;
        const t = meta?.screen ? text(meta.screen) : undefined;
        if (t) titles?.set([name, ...node.path].join('.'), t);
        for (const child of Object.values(node.states as Record<string, AnyStateNode>)) visit(child);
      };
      visit((machine as AnyStateMachine).root as AnyStateNode);
    }
    for (const key of fr.keys()) if (!titles.has(key)) titles.set(key, text(key) as string);
  }
  const found = titles.get(screen);
  if (found) return found;
  // A compound state: the title of its first screen below.
  for (const [k, t] of titles) if (k.startsWith(`${screen}.`)) return t;
  const flow = screen.split('.')[0] ?? screen;
  return FLOW_TITLES[flow] ? `menu « ${FLOW_TITLES[flow]} »` : 'écran inconnu';
}

/** Where a message appears, as `sabatili flows review export` writes it ('coverage/summary.active'), for the console: the menu and the screen's title. */
export function whereInFrench(where: string): string {
  const m = /^([a-z]+)\/(.+)$/.exec(where);
  if (!m || !FLOW_TITLES[m[1] as string]) return where;
  return `menu « ${FLOW_TITLES[m[1] as string]} », écran « ${screenTitle(`${m[1]}.${m[2]}`)} »`;
}
