import { parsePhoneNumberFromString } from 'libphonenumber-js/mobile';
import { bamakoDay } from '../clock.ts';
import { createCallbackQueueStore, type MemberCallbackRow } from '../db/callbacks.ts';
import type { Db } from '../db/connection.ts';
import { createHouseholdFile, createHouseholdSearch, fold, type LedgerLine, type NoteRow } from '../db/household-file.ts';
import type { HouseholdStore, HouseholdSummary } from '../db/households.ts';
import { createOutboxStore, type SentMessage } from '../db/outbox.ts';
import type { PreferenceStore, ReminderChannel } from '../db/preferences.ts';
import type { RecentSession, SessionStore } from '../db/sessions.ts';
import { addMonths, type CoverageView, coverageView, lastDayOfMonth, monthOf } from '../domain/coverage.ts';
import type { Payment, Payments } from '../payments/payments.ts';
import type { Outbox } from '../sms/outbox.ts';

/** A LIKE pattern matching `s` anywhere, with the user's % and _ taken literally. */
function containing(s: string): string {
  return `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface SearchHit extends HouseholdSummary {
  matched: 'phone' | 'card' | 'name' | 'beneficiary';
}

/**
 * Finds households by phone (any way it is written: 76 00 00 01, 0022376000001, +223…), card
 * number, or name of the adherent or a beneficiary, accent-insensitive.
 */
export function createMemberSearch(db: Db) {
  const households = createHouseholdSearch(db);

  return function search(query: string, limit = 50): SearchHit[] {
    const q = query.trim();
    if (!q) return [];
    const hits = new Map<number, SearchHit>();
    const add = (rows: HouseholdSummary[], matched: SearchHit['matched']) => {
      for (const r of rows) if (!hits.has(r.id)) hits.set(r.id, { ...r, matched });
    };
    const phone = parsePhoneNumberFromString(q.replace(/^00/, '+'), 'ML');
    if (phone?.isValid()) add(households.withPhone(phone.number), 'phone');
    add(households.withCard(q), 'card');
    if (q.length >= 2) {
      const pattern = containing(fold(q));
      add(households.withAdherentLike(pattern, limit), 'name');
      add(households.withBeneficiaryLike(pattern, limit), 'beneficiary');
    }
    return [...hits.values()].slice(0, limit);
  };
}

export interface SupportView {
  household: HouseholdSummary;
  coverage: CoverageView;
  /** The household's coverage at the end of each of the last months, oldest first: how it changed. */
  history: Array<{ day: string; status: CoverageView['status']; paidThrough: string | null }>;
  beneficiaries: Array<{ id: number; name: string; subsidised: boolean; active: boolean; status: string }>;
  ledger: LedgerLine[];
  payments: Payment[];
  sms: SentMessage[];
  sessions: Array<
    RecentSession & {
      /** What the member typed and saw at each hop. */
      screens: Array<{ hop: number; text: string; reply: string }>;
    }
  >;
  callbacks: MemberCallbackRow[];
  remindersEnabled: boolean;
  /** Reminders by SMS, or by call (members who cannot read). */
  reminderChannel: ReminderChannel;
  optedOut: boolean;
  wallets: Array<{ msisdn: string; linkedAt: string }>;
  notes: NoteRow[];
}

/** Everything an officer needs on one page when a member calls UTM. */
export function createSupport(
  db: Db,
  deps: { households: HouseholdStore; preferences: PreferenceStore; payments: Payments; sessions: SessionStore; outbox: Outbox },
) {
  const file = createHouseholdFile(db);
  const messages = createOutboxStore(db);
  const callbacks = createCallbackQueueStore(db);

  return function supportView(householdId: number, now: Date): SupportView | undefined {
    const record = deps.households.load(householdId);
    if (!record) return undefined;
    const h = record.household;
    const today = bamakoDay(now);
    const coverage = coverageView({ adherentName: h.adherentName, ...record }, today);
    const history: SupportView['history'] = [];
    for (let back = 5; back >= 1; back--) {
      const end = lastDayOfMonth(addMonths(monthOf(today), -back));
      const v = coverageView({ adherentName: h.adherentName, ...record }, end);
      history.push({ day: end, status: v.status, paidThrough: v.paidThrough });
    }
    history.push({ day: today, status: coverage.status, paidThrough: coverage.paidThrough });
    return {
      household: h,
      coverage,
      history,
      beneficiaries: record.beneficiaries.map((b, i) => ({
        id: b.id,
        name: b.name,
        subsidised: b.subsidised,
        active: b.active,
        status: coverage.beneficiaries[i]?.status ?? 'inactive',
      })),
      ledger: file.ledgerNewestFirst(householdId),
      payments: deps.payments.recent(householdId, 30),
      sms: messages.latestOfHousehold(h.phone, householdId, 30),
      sessions: deps.sessions.recentOf(h.phone).map((x) => ({ ...x, screens: deps.sessions.hops(x.sessionId) })),
      callbacks: callbacks.ofMember(h.phone, householdId),
      remindersEnabled: deps.preferences.remindersEnabled(householdId),
      reminderChannel: deps.preferences.reminderChannel(householdId),
      optedOut: deps.outbox.isOptedOut(h.phone),
      wallets: file.linkedWallets(householdId),
      notes: file.notes(householdId),
    };
  };
}

export type SupportViewFn = ReturnType<typeof createSupport>;
