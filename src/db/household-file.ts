import type { Db } from './connection.ts';
import { type HouseholdSummary, SUMMARY } from './households.ts';

/**
 * The household family as the office reads it (src/db/households.ts writes it): finding a
 * household by phone, card or name, and what a member's file shows beyond the coverage record
 * (the ledger newest first, linked wallets). Also the office's notes on a household
 * (`household_notes`), owned here.
 */

/** Lower case without accents: "Sangaré" and "sangare" are the same name to an officer typing fast. */
export function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

export interface NoteRow {
  at: string;
  author: string;
  text: string;
}

export interface LedgerLine {
  paidOn: string;
  amount: number;
  fee: number;
  channel: string;
  operatorTxnId: string | null;
}

/** Finding households as an officer types: by phone, card, or a part of a name without its accents. */
export function createHouseholdSearch(db: Db) {
  db.function('sabatili_fold', { deterministic: true }, (v: unknown) => (typeof v === 'string' ? fold(v) : v));
  const byPhone = db.prepare(`${SUMMARY} WHERE h.phone = ?`);
  const byCard = db.prepare(`${SUMMARY} WHERE h.card_number = ? COLLATE NOCASE`);
  const byName = db.prepare(`${SUMMARY} WHERE sabatili_fold(h.adherent_name) LIKE ? ESCAPE '\\' ORDER BY h.adherent_name LIMIT ?`);
  const byBeneficiary = db.prepare(
    `${SUMMARY} WHERE h.id IN (SELECT household_id FROM beneficiaries WHERE sabatili_fold(name) LIKE ? ESCAPE '\\') ORDER BY h.adherent_name LIMIT ?`,
  );

  return {
    /** Households whose head's phone is exactly this E.164 number. */
    withPhone(phone: string): HouseholdSummary[] {
      return byPhone.all(phone) as HouseholdSummary[];
    },
    /** The household of a card number, whatever its case. */
    withCard(card: string): HouseholdSummary[] {
      return byCard.all(card) as HouseholdSummary[];
    },
    /**
     * Households whose adherent's name, folded (`fold`), is LIKE the pattern (escape `\`), by name.
     * The pattern is bound as a parameter: quotes and other SQL characters are just characters.
     */
    withAdherentLike(pattern: string, limit: number): HouseholdSummary[] {
      return byName.all(pattern, limit) as HouseholdSummary[];
    },
    /** Households with a beneficiary whose folded name is LIKE the pattern, by adherent's name. */
    withBeneficiaryLike(pattern: string, limit: number): HouseholdSummary[] {
      return byBeneficiary.all(pattern, limit) as HouseholdSummary[];
    },
  };
}

export type HouseholdSearch = ReturnType<typeof createHouseholdSearch>;

/** A member's file beyond the coverage record, the office's notes on it, and how many files there are. */
export function createHouseholdFile(db: Db) {
  const ledger = db.prepare(
    `SELECT paid_on AS paidOn, amount, fee, channel, operator_txn_id AS operatorTxnId FROM contributions WHERE household_id = ? ORDER BY paid_at DESC, id DESC`,
  );
  const wallets = db.prepare('SELECT msisdn, linked_at AS linkedAt FROM wallets WHERE household_id = ? AND unlinked_at IS NULL');
  const notes = db.prepare(
    `SELECT n.at, s.name AS author, n.text FROM household_notes n JOIN staff s ON s.id = n.staff_id WHERE n.household_id = ? ORDER BY n.id DESC`,
  );
  const addNote = db.prepare('INSERT INTO household_notes (household_id, staff_id, at, text) VALUES (?, ?, ?, ?)');
  const count = db.prepare('SELECT COUNT(*) FROM households').pluck();

  return {
    /** Households registered, all mutuelles together. */
    count(): number {
      return count.get() as number;
    },
    /** The whole ledger of the household, newest first. */
    ledgerNewestFirst(householdId: number): LedgerLine[] {
      return ledger.all(householdId) as LedgerLine[];
    },
    linkedWallets(householdId: number): Array<{ msisdn: string; linkedAt: string }> {
      return wallets.all(householdId) as Array<{ msisdn: string; linkedAt: string }>;
    },
    /** The office's notes on the household, newest first, with their author's name. */
    notes(householdId: number): NoteRow[] {
      return notes.all(householdId) as NoteRow[];
    },
    /** Returns the note's id. */
    addNote(householdId: number, staffId: number | null, at: Date, text: string): number {
      return Number(addNote.run(householdId, staffId, at.toISOString(), text).lastInsertRowid);
    },
  };
}

export type HouseholdFile = ReturnType<typeof createHouseholdFile>;
