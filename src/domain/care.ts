// What a mutuelle pays a health facility for: the kinds of care of a product, their dated tariffs,
// and whether a patient's care is covered on a day. Pure rules, shared by the facility's USSD menu
// (before a visit is recorded) and the claims review (after), so both say the same.

import type { CoverageStatus, LocalDate, SituationKind } from './coverage.ts';
import { Refusal } from './refusal.ts';

export const CARE_KINDS = ['consultation', 'delivery', 'hospitalisation'] as const;
export type CareKind = (typeof CARE_KINDS)[number];

/** A version of a care's tariff, in force from `effectiveFrom` (like product parameters). */
export interface CareTariff {
  care: CareKind;
  effectiveFrom: LocalDate;
  /** 'visit': one tariff per visit; 'day': per day of stay, up to `maxDays`. */
  unit: 'visit' | 'day';
  /** Integer FCFA: the most the mutuelle pays per visit or per day. */
  tariff: number;
  maxDays: number;
}

/** The tariff of each kind of care in force on `day` (the latest version not after it), in CARE_KINDS order. */
export function tariffsOn(versions: readonly CareTariff[], day: LocalDate): CareTariff[] {
  const latest = new Map<CareKind, CareTariff>();
  for (const v of versions) {
    if (v.effectiveFrom > day) continue;
    const kept = latest.get(v.care);
    if (!kept || kept.effectiveFrom < v.effectiveFrom) latest.set(v.care, v);
  }
  return CARE_KINDS.flatMap((care) => latest.get(care) ?? []);
}

/** The most that may be claimed for this care over `days` (1 for a visit). */
export function allowedAmount(t: CareTariff, days: number): number {
  return t.unit === 'day' ? t.tariff * days : t.tariff;
}

/** Refuses days outside 1..maxDays for care paid per day; a visit is always one. */
export function checkDays(t: CareTariff, days: number): void {
  const max = t.unit === 'day' ? t.maxDays : 1;
  if (!Number.isInteger(days) || days < 1 || days > max) {
    throw new Refusal(`days must be between 1 and ${max}`, 'days', 422, { max });
  }
}

/** Refuses an amount that is not a whole FCFA between 1 and what the tariff allows. */
export function checkAmount(t: CareTariff, days: number, amount: number): void {
  const max = allowedAmount(t, days);
  if (!Number.isInteger(amount) || amount < 1 || amount > max) {
    throw new Refusal(`amount must be between 1 and ${max} FCFA`, 'amount', 422, { max });
  }
}

/**
 * Whether a patient's care is covered on a day: only while the household's cover is active and the
 * beneficiary is. The waiting period and grace are not cover for care (members are told "covered
 * from" and "cover ended" for them), so a facility is told NON then.
 */
export function careCovered(household: CoverageStatus, beneficiaryActive: boolean): boolean {
  return household === 'active' && beneficiaryActive;
}

/** A patient as a facility's agent sees them: first name and birth year to pick the right one, covered or not today. */
export interface CarePatient {
  beneficiaryId: number;
  firstName: string;
  birthYear: number | null;
  covered: boolean;
}

/**
 * What a facility's agent learns of a member they look up, and nothing more about the household:
 * whether care is covered today (the member's own situation, with its date), the patients, and the
 * care the member's product pays with today's tariffs. `notServed`: the facility does not treat
 * members of that mutuelle, so no visit can be recorded there.
 */
export type MemberCheck =
  | { kind: 'unknown' }
  | { kind: 'ambiguous' }
  | { kind: 'notServed'; mutuelle: string }
  | {
      kind: 'found';
      /** The day the check is for: today, the visit's day. */
      day: LocalDate;
      householdId: number;
      situation: SituationKind;
      until: LocalDate | null;
      from: LocalDate | null;
      patients: CarePatient[];
      cares: CareTariff[];
    };

/** A visit an agent confirmed: `requestKey` names the confirmation (`ussd:<sessionId>:<hop>`), so that it records once. */
export interface VisitRequest {
  requestKey: string;
  agentId: number;
  householdId: number;
  beneficiaryId: number;
  care: CareKind;
  days: number;
  amount: number;
}

/**
 * What recording a visit did. Refused when, at the moment of recording, the patient is no longer
 * covered or the facility no longer serves the mutuelle (`cover`), the care or amount is outside the
 * tariff in force (`tariff`), or the phone is no longer an active agent (`agent`).
 */
export type VisitOutcome = { status: 'recorded'; claimId: number } | { status: 'refused'; reason: 'cover' | 'tariff' | 'agent' };
