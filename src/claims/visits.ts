import { bamakoDay, type Clock } from '../clock.ts';
import type { ClaimStore } from '../db/claims.ts';
import type { Db } from '../db/connection.ts';
import type { Agent, FacilityStore } from '../db/facilities.ts';
import type { HouseholdStore } from '../db/households.ts';
import { atomically } from '../db/transaction.ts';
import { careCovered, checkAmount, checkDays, type MemberCheck, tariffsOn, type VisitOutcome, type VisitRequest } from '../domain/care.ts';
import { coverageMessage } from '../domain/coverage.ts';
import { firstName } from '../domain/names.ts';
import { isRefusal } from '../domain/refusal.ts';
import type { Language } from '../i18n/catalog.ts';
import type { Logger } from '../log.ts';
import { type Outbox, SmsRejected } from '../sms/outbox.ts';

export interface VisitsDeps {
  db: Db;
  facilities: FacilityStore;
  claims: ClaimStore;
  households: HouseholdStore;
  outbox: Pick<Outbox, 'enqueue'>;
  clock: Clock;
  logger: Logger;
  /** A catalog message in a language, filled (the composition root gives the catalogs). */
  text: (lang: Language, key: string, params: Record<string, string | number>) => string;
}

/**
 * Visits at health facilities, as their agents check and record them from the facility menu. What
 * an agent is told and what is recorded follow the same rules (src/domain/care.ts), applied again at
 * the moment of recording: a member who lapsed, a beneficiary removed or a tariff changed meanwhile
 * is refused, never recorded on the strength of an older screen.
 */
export function createVisits(d: VisitsDeps) {
  /** The agent, while they may still record visits (an active agent at an active facility). */
  function activeAgent(agentId: number): Agent | undefined {
    const agent = d.facilities.agent(agentId);
    return agent && d.facilities.agentByPhone(agent.phone)?.id === agent.id ? agent : undefined;
  }

  function agentOf(agentId: number): Agent {
    const agent = d.facilities.agent(agentId);
    if (!agent) throw new Error(`facility agent ${agentId} not found`);
    return agent;
  }

  /** The member's SMS, in the household's language: a visit they did not make is theirs to dispute (NON). */
  function tellMember(claimId: number, agent: Agent, to: string, lang: Language, params: Record<string, string | number>): void {
    try {
      d.outbox.enqueue({
        to,
        text: d.text(lang, 'facility.sms.visit', { facility: agent.facilityName, ...params }),
        lang,
        kind: 'transactional',
        sourceKey: `claim:${claimId}`,
      });
    } catch (err) {
      if (!(err instanceof SmsRejected)) throw err;
      d.logger.warn({ claimId, reason: err.message }, 'claims: the member cannot be told of a recorded visit by SMS');
    }
  }

  return {
    /** The name of the facility the agent works at, for the facility menu. */
    facilityName(agentId: number): string {
      return agentOf(agentId).facilityName;
    },

    /**
     * A member as the agent typed them (the head's phone or the card, as a relative paying would):
     * covered today or not, as the member's own coverage screen says it, and the patients.
     */
    findMember(agentId: number, typed: string): MemberCheck {
      const agent = agentOf(agentId);
      const found = d.households.findForPayment(typed);
      if (found === 'ambiguous') return { kind: 'ambiguous' };
      if (!found) return { kind: 'unknown' };
      if (!d.facilities.serves(agent.facilityId, found.mutuelleId)) return { kind: 'notServed', mutuelle: found.mutuelleName };
      const day = bamakoDay(d.clock.now());
      const view = d.households.coverageView(found.id, day);
      if (!view) throw new Error(`household ${found.id} not found`);
      const { status, params } = coverageMessage(view);
      return {
        kind: 'found',
        day,
        householdId: found.id,
        situation: status,
        until: params.until || null,
        from: params.from || null,
        patients: d.households.beneficiariesWithBirthYears(found.id).map((b) => ({
          beneficiaryId: b.id,
          firstName: firstName(b.name),
          birthYear: b.birthYear,
          covered: careCovered(view.status, b.active),
        })),
        cares: tariffsOn(d.facilities.tariffVersions(found.productId), day),
      };
    },

    /**
     * Records a confirmed visit as a claim, with the member's SMS queued in the same transaction.
     * A request key already recorded answers with that claim and changes nothing: a retried hop or a
     * second tap records the visit once and texts the member once.
     */
    record(v: VisitRequest): VisitOutcome {
      const now = d.clock.now();
      const day = bamakoDay(now);
      return atomically(d.db, (): VisitOutcome => {
        const done = d.claims.byRequestKey(v.requestKey);
        if (done) return { status: 'recorded', claimId: done.id };
        const agent = activeAgent(v.agentId);
        if (!agent) return { status: 'refused', reason: 'agent' };
        const household = d.households.load(v.householdId)?.household;
        const view = household && d.households.coverageView(household.id, day);
        const patient = d.households.beneficiariesWithBirthYears(v.householdId).find((b) => b.id === v.beneficiaryId);
        if (
          !household ||
          !view ||
          !patient ||
          !d.facilities.serves(agent.facilityId, household.mutuelleId) ||
          !careCovered(view.status, patient.active)
        ) {
          return { status: 'refused', reason: 'cover' };
        }
        const tariff = tariffsOn(d.facilities.tariffVersions(household.productId), day).find((t) => t.care === v.care);
        if (!tariff) return { status: 'refused', reason: 'tariff' };
        try {
          checkDays(tariff, v.days);
          checkAmount(tariff, v.days, v.amount);
        } catch (err) {
          if (isRefusal(err)) return { status: 'refused', reason: 'tariff' };
          throw err;
        }
        const claim = d.claims.record(
          {
            requestKey: v.requestKey,
            facilityId: agent.facilityId,
            agentId: agent.id,
            householdId: household.id,
            beneficiaryId: patient.id,
            care: v.care,
            days: v.days,
            tariff: tariff.tariff,
            amount: v.amount,
            visitOn: day,
          },
          now,
        );
        tellMember(claim.id, agent, household.phone, household.language, {
          date: day,
          name: firstName(patient.name),
          care: v.care,
          amount: v.amount,
        });
        return { status: 'recorded', claimId: claim.id };
      });
    },
  };
}

export type Visits = ReturnType<typeof createVisits>;
