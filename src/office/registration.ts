import { parsePhoneNumberFromString } from 'libphonenumber-js/mobile';
import type { HouseholdStore, NewHousehold } from '../db/households.ts';
import type { MutuelleStore } from '../db/mutuelles.ts';
import { isLocalDate } from '../domain/dates.ts';
import { mobilePattern } from '../phone.ts';
import { parseDay } from './dates.ts';

/** Rows of beneficiaries on the registration form; blank rows are ignored. */
export const BENEFICIARY_ROWS = 8;
export const RELATIONS = ['adherent', 'spouse', 'child', 'parent', 'other'] as const;

export type FieldErrors = Record<string, string>;
/** The form as typed, to show it again next to its errors. */
export type FormValues = Record<string, string>;

export type Checked<T> = { ok: true; value: T } | { ok: false; errors: FieldErrors };

/** A Malian mobile number typed plainly (+22376000001, 0022376000001 once 00 is +, 76000001), what an import mostly holds. */
const PLAIN_MALIAN = ((mali) => mali && { code: `+${mali.code}`, pattern: new RegExp(`^(?:\\+${mali.code})?(${mali.national})$`) })(
  mobilePattern('ML'),
);

/** A Malian mobile number however it is typed (76 00 00 01, 0022376000001, +223…), in E.164, or null. */
export function mobileNumber(typed: string): string | null {
  const number = typed.trim().replace(/^00/, '+');
  // A plainly typed Malian mobile is settled by the expression compiled from the parse's own metadata; the rest is parsed.
  const plain = PLAIN_MALIAN?.pattern.exec(number);
  if (PLAIN_MALIAN && plain) return `${PLAIN_MALIAN.code}${plain[1]}`;
  const n = parsePhoneNumberFromString(number, 'ML');
  return n?.isValid() && (n.getType() === 'MOBILE' || n.getType() === undefined) ? n.number : null;
}

const text = (v: FormValues, k: string) => (v[k] ?? '').trim();

/** The ids of every mutuelle; an import reads them once, not once per household. */
export function mutuelleIds(mutuelles: MutuelleStore): Set<string> {
  return new Set(
    mutuelles
      .districts()
      .flatMap((d) => mutuelles.inDistrict(d))
      .map((m) => m.id),
  );
}

/**
 * Checks a household form (registration or edit): every problem is reported against its field,
 * so the page can show it there with what was typed.
 */
export function checkHousehold(
  v: FormValues,
  /** `households`: the store, or what answers its two lookups otherwise (an import, a chunk of households at a time). */
  deps: { mutuelles: MutuelleStore; households: Pick<HouseholdStore, 'phoneOwner' | 'hasCard'> },
  /** `editing`: the household being edited; `withBeneficiaries: false` when they are checked elsewhere (an import). */
  opts: { today: string; editing?: number; withBeneficiaries?: boolean; mutuelleIds?: ReadonlySet<string> },
): Checked<NewHousehold> {
  const errors: FieldErrors = {};
  const adherentName = text(v, 'adherentName');
  if (adherentName.length < 3) errors.adherentName = "le nom de l'adhérent est requis";
  else if (adherentName.length > 120) errors.adherentName = '120 caractères au plus';

  const phone = mobileNumber(text(v, 'phone'));
  if (!phone) errors.phone = 'numéro de mobile invalide (ex. 76 00 00 01 ou +22376000001)';
  else {
    const owner = deps.households.phoneOwner(phone);
    if (owner && owner.id !== opts.editing) errors.phone = `déjà le téléphone du ménage ${owner.cardNumber} (${owner.adherentName})`;
  }

  const language = text(v, 'language');
  if (language !== 'fr' && language !== 'bm') errors.language = 'choisissez français ou bambara';

  const mutuelleId = text(v, 'mutuelleId');
  const known = (opts.mutuelleIds ?? mutuelleIds(deps.mutuelles)).has(mutuelleId);
  if (!known) errors.mutuelleId = mutuelleId ? `mutuelle inconnue: ${mutuelleId}` : 'choisissez une mutuelle';

  const cardNumber = text(v, 'cardNumber').toUpperCase();
  if (opts.editing === undefined) {
    if (!/^[A-Z]{3}-[A-Z]{3}-\d{4,6}$/.test(cardNumber)) errors.cardNumber = 'format AAA-AAA-0000 (district, mutuelle, numéro)';
    else if (deps.households.hasCard(cardNumber)) errors.cardNumber = 'ce numéro de carte existe déjà';
  }

  const joinedOn = parseDay(text(v, 'joinedOn')) || opts.today;
  if (opts.editing === undefined && (!isLocalDate(joinedOn) || joinedOn > opts.today))
    errors.joinedOn = "date d'adhésion invalide ou future";

  const beneficiaries: NewHousehold['beneficiaries'] = [];
  if (opts.editing === undefined && opts.withBeneficiaries !== false) {
    for (let i = 0; i < BENEFICIARY_ROWS; i++) {
      const b = checkBeneficiary(v, `b${i}_`, opts.today);
      if (b === null) continue;
      if ('error' in b) errors[`b${i}_name`] = b.error;
      else beneficiaries.push(b.value);
    }
    if (beneficiaries.length === 0 && !Object.keys(errors).some((k) => k.startsWith('b'))) errors.b0_name = 'au moins un bénéficiaire';
    if (beneficiaries.filter((b) => b.relation === 'adherent').length > 1) errors.b0_name = 'un seul adhérent par ménage';
  }

  if (Object.keys(errors).length) return { ok: false, errors };
  return {
    ok: true,
    value: { cardNumber, adherentName, phone: phone as string, language: language as 'fr' | 'bm', mutuelleId, joinedOn, beneficiaries },
  };
}

/** One beneficiary row (`prefix` + name, relation, birthYear, subsidised): null when blank. */
export function checkBeneficiary(
  v: FormValues,
  prefix: string,
  today: string,
): null | { error: string } | { value: NewHousehold['beneficiaries'][number] } {
  const name = text(v, `${prefix}name`);
  const relation = text(v, `${prefix}relation`) || 'other';
  const year = text(v, `${prefix}birthYear`);
  if (!name) return null;
  if (name.length > 120) return { error: '120 caractères au plus' };
  if (!(RELATIONS as readonly string[]).includes(relation)) return { error: `lien inconnu: ${relation}` };
  const thisYear = Number(today.slice(0, 4));
  const birthYear = year ? Number(year) : undefined;
  if (birthYear !== undefined && !(Number.isInteger(birthYear) && birthYear >= thisYear - 120 && birthYear <= thisYear)) {
    return { error: `année de naissance invalide: ${year}` };
  }
  return { value: { name, relation, birthYear, subsidised: v[`${prefix}subsidised`] === 'on' } };
}
