import { parsePhoneNumberFromString } from 'libphonenumber-js/mobile';
import { bamakoDay } from '../clock.ts';
import type { Db } from '../db/connection.ts';
import { SUMMARY, type HouseholdStore, type HouseholdSummary } from '../db/households.ts';
import type { PreferenceStore } from '../db/preferences.ts';
import type { SessionStore } from '../db/sessions.ts';
import { addMonths, coverageView, lastDayOfMonth, monthOf, type CoverageView } from '../domain/coverage.ts';
import type { Payment, Payments } from '../payments/payments.ts';

/** Lower case without accents: "Sangaré" and "sangare" are the same name to an officer typing fast. */
export function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/** A LIKE pattern matching `s` anywhere, with the user's % and _ taken literally. */
function containing(s: string): string {
  return `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface SearchHit extends HouseholdSummary {
  matched: 'phone' | 'card' | 'name' | 'beneficiary';
}

/**
 * Finds households by phone (any way it is written: 76 00 00 01, 0022376000001, +223…), card
 * number, or name of the adherent or a beneficiary, accent-insensitive. Every value is bound as a
 * parameter, so quotes and other SQL characters are just characters.
 */
export function createMemberSearch(db: Db) {
  db.function('sabatili_fold', { deterministic: true }, (v: unknown) => (typeof v === 'string' ? fold(v) : v));
  const byPhone = db.prepare(`${SUMMARY} WHERE h.phone = ?`);
  const byCard = db.prepare(`${SUMMARY} WHERE h.card_number = ? COLLATE NOCASE`);
  const byName = db.prepare(`${SUMMARY} WHERE sabatili_fold(h.adherent_name) LIKE ? ESCAPE '\\' ORDER BY h.adherent_name LIMIT ?`);
  const byBeneficiary = db.prepare(
    `${SUMMARY} WHERE h.id IN (SELECT household_id FROM beneficiaries WHERE sabatili_fold(name) LIKE ? ESCAPE '\\') ORDER BY h.adherent_name LIMIT ?`,
  );

  return function search(query: string, limit = 50): SearchHit[] {
    const q = query.trim();
    if (!q) return [];
    const hits = new Map<number, SearchHit>();
    const add = (rows: unknown[], matched: SearchHit['matched']) => {
      for (const r of rows as HouseholdSummary[]) if (!hits.has(r.id)) hits.set(r.id, { ...r, matched });
    };
    const phone = parsePhoneNumberFromString(q.replace(/^00/, '+'), 'ML');
    if (phone?.isValid()) add(byPhone.all(phone.number), 'phone');
    add(byCard.all(q), 'card');
    if (q.length >= 2) {
      const pattern = containing(fold(q));
      add(byName.all(pattern, limit), 'name');
      add(byBeneficiary.all(pattern, limit), 'beneficiary');
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
  ledger: Array<{ paidOn: string; amount: number; fee: number; channel: string; operatorTxnId: string | null }>;
  payments: Payment[];
  sms: Array<{ id: number; createdMs: number; kind: string; status: string; text: string; lastError: string | null }>;
  sessions: Array<{
    sessionId: string; updatedMs: number; hops: number; lastText: string; lastReply: string; status: string; event: string | null;
    /** What the member typed and saw at each hop. */
    screens: Array<{ hop: number; text: string; reply: string }>;
  }>;
  callbacks: Array<{ id: number; reason: string; status: string; createdAt: string; promisedBy: string; claimedBy: string | null; outcome: string | null }>;
  remindersEnabled: boolean;
  optedOut: boolean;
  wallets: Array<{ msisdn: string; linkedAt: string }>;
  notes: Array<{ at: string; author: string; text: string }>;
}

/** Everything an officer needs on one page when a member calls UTM. */
export function createSupport(db: Db, deps: { households: HouseholdStore; preferences: PreferenceStore; payments: Payments; sessions: SessionStore }) {
  const sms = db.prepare(
    `SELECT id, created_ms AS createdMs, kind, status, text, last_error AS lastError FROM sms_outbox WHERE recipient = ? ORDER BY id DESC LIMIT 30`,
  );
  const sessions = db.prepare(
    `SELECT s.session_id AS sessionId, s.updated_ms AS updatedMs, s.hops, s.last_text AS lastText, s.last_reply AS lastReply, s.status,
       e.status AS event
     FROM ussd_sessions s LEFT JOIN ussd_session_events e ON e.session_id = s.session_id
     WHERE s.phone = ? ORDER BY s.updated_ms DESC LIMIT 10`,
  );
  const callbacks = db.prepare(
    `SELECT id, reason, status, created_at AS createdAt, promised_by AS promisedBy, claimed_by AS claimedBy, outcome
     FROM callback_requests WHERE phone = ? OR household_id = ? ORDER BY id DESC LIMIT 20`,
  );
  const optOut = db.prepare('SELECT opted_out FROM sms_optouts WHERE phone = ?').pluck();
  const wallets = db.prepare('SELECT msisdn, linked_at AS linkedAt FROM wallets WHERE household_id = ? AND unlinked_at IS NULL');
  const notes = db.prepare(
    `SELECT n.at, s.name AS author, n.text FROM household_notes n JOIN staff s ON s.id = n.staff_id WHERE n.household_id = ? ORDER BY n.id DESC`,
  );
  const ledger = db.prepare(
    `SELECT paid_on AS paidOn, amount, fee, channel, operator_txn_id AS operatorTxnId FROM contributions WHERE household_id = ? ORDER BY paid_at DESC, id DESC`,
  );

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
      ledger: ledger.all(householdId) as SupportView['ledger'],
      payments: deps.payments.recent(householdId, 30),
      sms: sms.all(h.phone) as SupportView['sms'],
      sessions: (sessions.all(h.phone) as Array<Omit<SupportView['sessions'][number], 'screens'>>).map((x) => ({ ...x, screens: deps.sessions.hops(x.sessionId) })),
      callbacks: callbacks.all(h.phone, householdId) as SupportView['callbacks'],
      remindersEnabled: deps.preferences.remindersEnabled(householdId),
      optedOut: optOut.get(h.phone) === 1,
      wallets: wallets.all(householdId) as SupportView['wallets'],
      notes: notes.all(householdId) as SupportView['notes'],
    };
  };
}

export type SupportViewFn = ReturnType<typeof createSupport>;
