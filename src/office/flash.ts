import type { Request } from 'express';

/**
 * What a redirect after a form may say, by code: `?ok=<code>` shows only one of these fixed texts,
 * never text from the URL (a link could otherwise put any words on the console's pages). A
 * refusal is shown on the page it answers, with its 4xx status, not through the URL.
 */
export const FLASH = {
  'household-registered': 'Ménage inscrit.',
  'household-edited': 'Ménage modifié.',
  'note-saved': 'Note enregistrée.',
  'language-changed': 'Langue changée.',
  'reminder-channel-changed': 'Canal des rappels changé.',
  'receipt-resent': 'Reçu renvoyé.',
  'payment-cancelled': 'Paiement annulé.',
  'beneficiary-added': 'Bénéficiaire ajouté.',
  'beneficiary-reactivated': 'Bénéficiaire réactivé.',
  'beneficiary-withdrawn': 'Bénéficiaire retiré.',
  'wallet-linked': 'Portefeuille lié: ce numéro peut cotiser par USSD.',
  'wallet-unlinked': 'Portefeuille délié.',
  'callback-claimed': "Demande d'appel prise.",
  'callback-done': "Demande d'appel terminée.",
  'rules-customised': 'Règles copiées pour cette mutuelle.',
  'rules-reset': 'La mutuelle suit de nouveau les règles par défaut.',
  'rule-saved': 'Règle enregistrée.',
  'campaign-test': 'Message de test mis en file.',
  'campaign-send': 'Envoi lancé.',
  'campaign-pause': 'Campagne en pause.',
  'campaign-resume': 'Campagne reprise.',
  'campaign-cancel': 'Campagne annulée: les messages non envoyés ne partiront pas.',
  'password-changed': 'Mot de passe changé; vos autres sessions sont fermées.',
} as const;
export type FlashCode = keyof typeof FLASH;
export interface Flash {
  kind: 'ok' | 'error';
  text: string;
}

/** `path?ok=code`, for the redirect after a successful form. */
export const withFlash = (path: string, code: FlashCode): string => `${path}?ok=${code}`;

/** The fixed text of a known `?ok=` code; anything else shows nothing. */
export function flashOf(req: Request): Flash | undefined {
  const { ok } = req.query;
  return typeof ok === 'string' && Object.hasOwn(FLASH, ok) ? { kind: 'ok', text: FLASH[ok as FlashCode] } : undefined;
}
