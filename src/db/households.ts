import type { Db } from './connection.ts';
import { Lru, type ChangeWatch } from './freshness.ts';
import type { Beneficiary, Payment, ProductParameters } from '../domain/coverage.ts';
import type { Language } from '../i18n/catalog.ts';

export interface HouseholdSummary {
  id: number;
  cardNumber: string;
  adherentName: string;
  phone: string;
  language: Language;
  mutuelleId: string;
  mutuelleName: string;
  district: string;
  productId: string;
}

export interface LedgerEntry extends Payment {
  id: number;
  fee: number;
  channel: 'orange_money' | 'cash' | 'agent';
  operatorTxnId: string | null;
  paidAt: string;
}

export interface HouseholdRecord {
  household: HouseholdSummary;
  beneficiaries: Beneficiary[];
  parameters: ProductParameters[];
  ledger: LedgerEntry[];
}

export interface NewHousehold {
  cardNumber: string;
  adherentName: string;
  phone: string;
  language: Language;
  mutuelleId: string;
  joinedOn: string;
  beneficiaries: Array<{ name: string; relation: string; birthYear?: number; subsidised: boolean; active?: boolean }>;
}

/** What an officer may change on a household itself (beneficiaries and wallets have their own calls). */
export interface HouseholdChanges {
  adherentName: string;
  phone: string;
  language: Language;
  mutuelleId: string;
}

export interface NewContribution {
  householdId: number;
  amount: number;
  fee: number;
  channel: LedgerEntry['channel'];
  operatorTxnId: string | null;
  paidOn: string;
  paidAt: string;
}

/** A household's summary with its mutuelle: the one query every lookup by phone, card or name extends. */
export const SUMMARY = `SELECT h.id, h.card_number AS cardNumber, h.adherent_name AS adherentName, h.phone,
  h.language, h.mutuelle_id AS mutuelleId, m.name AS mutuelleName, m.district, m.product_id AS productId
  FROM households h JOIN mutuelles m ON m.id = h.mutuelle_id`;

/**
 * Households, their beneficiaries and their ledger: everything the coverage rules need.
 * Every write to these tables by this process goes through here, so the copies kept in memory
 * (a USSD hop would otherwise pay four WAL read locks for them) are updated with each write; a
 * write by another connection clears them (ChangeWatch).
 */
export function createHouseholdStore(db: Db, watch?: ChangeWatch, cacheSize = 5000) {
  const byPhone = db.prepare(`${SUMMARY} WHERE h.phone = ?`);
  const byId = db.prepare(`${SUMMARY} WHERE h.id = ?`);
  const beneficiaries = db.prepare(
    `SELECT id, name, subsidised, active FROM beneficiaries WHERE household_id = ? ORDER BY id`,
  );
  const parameters = db.prepare(
    `SELECT effective_from AS effectiveFrom, annual_contribution AS annualContribution,
       subsidy_percent AS subsidyPercent, joining_fee AS joiningFee, waiting_days AS waitingDays,
       grace_days AS graceDays
     FROM product_parameters WHERE product_id = ? ORDER BY effective_from`,
  );
  const ledger = db.prepare(
    `SELECT id, amount, fee, channel, operator_txn_id AS operatorTxnId, paid_on AS paidOn, paid_at AS paidAt
     FROM contributions WHERE household_id = ? ORDER BY paid_at, id`,
  );
  const setHouseholdLanguage = db.prepare(
    `UPDATE households SET language = ?, updated_at = ?, version = version + 1 WHERE id = ?`,
  );
  const insertHousehold = db.prepare(
    `INSERT INTO households (card_number, adherent_name, phone, language, mutuelle_id, joined_on, created_at, updated_at)
     VALUES (@cardNumber, @adherentName, @phone, @language, @mutuelleId, @joinedOn, @now, @now)`,
  );
  const insertBeneficiary = db.prepare(
    `INSERT INTO beneficiaries (household_id, name, relation, birth_year, subsidised, active)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const insertContribution = db.prepare(
    `INSERT INTO contributions (household_id, amount, fee, channel, operator_txn_id, paid_on, paid_at, recorded_at)
     VALUES (@householdId, @amount, @fee, @channel, @operatorTxnId, @paidOn, @paidAt, @recordedAt)
     ON CONFLICT (operator_txn_id) DO NOTHING`,
  );

  const versionOf = db.prepare('SELECT version FROM households WHERE id = ?').pluck();
  const updateHousehold = db.prepare(
    `UPDATE households SET adherent_name = @adherentName, phone = @phone, language = @language, mutuelle_id = @mutuelleId,
       version = version + 1, updated_at = @now
     WHERE id = @id AND version = @version`,
  );
  const bump = db.prepare('UPDATE households SET version = version + 1, updated_at = ? WHERE id = ?');
  const setBeneficiaryActive = db.prepare('UPDATE beneficiaries SET active = ? WHERE id = ? AND household_id = ?');
  const insertWallet = db.prepare("INSERT INTO wallets (household_id, operator, msisdn, linked_at) VALUES (?, 'orange_money', ?, ?)");
  const unlinkWallet = db.prepare(
    "UPDATE wallets SET unlinked_at = ? WHERE household_id = ? AND msisdn = ? AND operator = 'orange_money' AND unlinked_at IS NULL",
  );

  const records = new Lru<number, HouseholdRecord>(cacheSize);
  /** null: a number known not to be registered. */
  // Made once: better-sqlite3 builds a transaction function's variants on each db.transaction() call,
  // a cost an import of 50 000 households paid 50 000 times.
  const createHousehold = db.transaction((h: NewHousehold, now: Date): number => {
    const id = Number(insertHousehold.run({ ...h, now: now.toISOString() }).lastInsertRowid);
    for (const b of h.beneficiaries) {
      insertBeneficiary.run(id, b.name, b.relation, b.birthYear ?? null, b.subsidised ? 1 : 0, b.active === false ? 0 : 1);
    }
    return id;
  });
  const phones = new Lru<string, HouseholdSummary | null>(cacheSize);
  const products = new Map<string, ProductParameters[]>();
  const forgetAll = () => {
    records.clear();
    phones.clear();
    products.clear();
  };
  watch?.onChangeElsewhere(forgetAll);
  const forget = (householdId: number) => {
    const phone = records.get(householdId)?.household.phone;
    records.delete(householdId);
    if (phone) phones.delete(phone);
    else phones.clear();
  };

  const walletFor = db.prepare(
    `SELECT 1 FROM wallets WHERE operator = 'orange_money' AND msisdn = ? AND unlinked_at IS NULL`,
  ).pluck();
  const byCard = db.prepare(`${SUMMARY} WHERE h.card_number = ?`);
  // A card typed without its dashes or with other separators (kou mpe 0003, KOUMPE0003, kou.mpe.0003).
  const byCardChars = db.prepare(`${SUMMARY} WHERE replace(replace(replace(h.card_number, '-', ''), ' ', ''), '.', '') = ? LIMIT 2`);
  // Cards whose number ends with these digits (checked exactly in JS: the card's digits, all of them).
  const byCardEnd = db.prepare(`${SUMMARY} WHERE h.card_number LIKE '%' || ? LIMIT 50`);

  function parametersOf(productId: string): ProductParameters[] {
    watch?.check();
    let p = products.get(productId);
    if (!p) products.set(productId, (p = parameters.all(productId) as ProductParameters[]));
    return p;
  }

  function findByPhone(phone: string): HouseholdSummary | undefined {
    watch?.check();
    let h = phones.get(phone);
    if (h === undefined) phones.set(phone, (h = (byPhone.get(phone) as HouseholdSummary | undefined) ?? null));
    return h ?? undefined;
  }
  const findByCard = (cardNumber: string): HouseholdSummary | undefined => byCard.get(cardNumber.trim().toUpperCase()) as HouseholdSummary | undefined;

  return {
    findByPhone,
    load(householdId: number): HouseholdRecord | undefined {
      watch?.check();
      const kept = records.get(householdId);
      if (kept) return kept;
      const household = byId.get(householdId) as HouseholdSummary | undefined;
      if (!household) return undefined;
      const rows = beneficiaries.all(householdId) as Array<{ id: number; name: string; subsidised: number; active: number }>;
      const record: HouseholdRecord = {
        household,
        beneficiaries: rows.map((b) => ({ id: b.id, name: b.name, subsidised: b.subsidised === 1, active: b.active === 1 })),
        parameters: parametersOf(household.productId),
        ledger: ledger.all(householdId) as LedgerEntry[],
      };
      records.set(householdId, record);
      return record;
    },
    parametersOf,
    /** Only a wallet linked at UTM's office can contribute from USSD. */
    hasWallet(msisdn: string): boolean {
      return walletFor.get(msisdn) === 1;
    },
    findByCard,
    /**
     * The household a member means when paying for it from a handset: its head's phone number as
     * typed (76000003, 76 00 00 03, +22376000003, 0022376000003), or its card, whatever the
     * separators (KOU-MPE-0003, kou mpe 0003, KOUMPE0003), or only the card's digits (0003) when
     * they are those of one card only: 'ambiguous' when they are several cards' digits.
     */
    findForPayment(typed: string): HouseholdSummary | 'ambiguous' | undefined {
      const chars = typed.toUpperCase().replace(/[^0-9A-Z+]/g, '');
      const phone = /^(?:\+223|00223|223)?([0-9]{8})$/.exec(chars);
      if (phone) {
        const h = findByPhone(`+223${phone[1]}`);
        if (h) return h;
      }
      const exact = findByCard(typed);
      if (exact) return exact;
      const letters = chars.replace(/\+/g, '');
      if (letters === '') return undefined;
      if (/[A-Z]/.test(letters)) {
        const rows = byCardChars.all(letters) as HouseholdSummary[];
        return rows.length === 1 ? rows[0] : rows.length > 1 ? 'ambiguous' : undefined;
      }
      const rows = (byCardEnd.all(letters) as HouseholdSummary[]).filter((h) => h.cardNumber.replace(/[^0-9]/g, '') === letters);
      return rows.length === 1 ? rows[0] : rows.length > 1 ? 'ambiguous' : undefined;
    },
    setLanguage(householdId: number, language: Language, now: Date): void {
      setHouseholdLanguage.run(language, now.toISOString(), householdId);
      forget(householdId);
    },
    create(h: NewHousehold, now: Date): number {
      phones.delete(h.phone);
      return createHousehold(h, now);
    },
    /** The household's row version, raised by every change, for an edit form to detect a concurrent one. */
    versionOf(householdId: number): number | undefined {
      return versionOf.get(householdId) as number | undefined;
    },
    /**
     * Changes the household if nobody else did since `version` was read: false (nothing written)
     * otherwise. A move to another mutuelle changes the product, so every cached copy goes.
     */
    update(householdId: number, version: number, c: HouseholdChanges, now: Date): boolean {
      const changed = updateHousehold.run({ ...c, id: householdId, version, now: now.toISOString() }).changes === 1;
      if (changed) {
        forget(householdId);
        phones.clear();
      }
      return changed;
    },
    addBeneficiary(householdId: number, b: NewHousehold['beneficiaries'][number], now: Date): number {
      const id = db.transaction(() => {
        bump.run(now.toISOString(), householdId);
        return Number(insertBeneficiary.run(householdId, b.name, b.relation, b.birthYear ?? null, b.subsidised ? 1 : 0, 1).lastInsertRowid);
      })();
      forget(householdId);
      return id;
    },
    /** A beneficiary who left (or came back): kept for history, no longer counted in the due. */
    setBeneficiaryActive(householdId: number, beneficiaryId: number, active: boolean, now: Date): boolean {
      const changed = db.transaction(() => {
        const n = setBeneficiaryActive.run(active ? 1 : 0, beneficiaryId, householdId).changes;
        if (n) bump.run(now.toISOString(), householdId);
        return n === 1;
      })();
      forget(householdId);
      return changed;
    },
    /** Links an Orange Money wallet to the household; false when that number is already linked (here or elsewhere). */
    linkWallet(householdId: number, msisdn: string, now: Date): boolean {
      if (walletFor.get(msisdn) === 1) return false;
      insertWallet.run(householdId, msisdn, now.toISOString());
      return true;
    },
    unlinkWallet(householdId: number, msisdn: string, now: Date): boolean {
      return unlinkWallet.run(now.toISOString(), householdId, msisdn).changes === 1;
    },
    /** Appends to the ledger; a repeated operator transaction id is ignored (returns false). */
    addContribution(c: NewContribution, now: Date): boolean {
      const added = insertContribution.run({ ...c, recordedAt: now.toISOString() }).changes === 1;
      forget(c.householdId);
      return added;
    },
  };
}

export type HouseholdStore = ReturnType<typeof createHouseholdStore>;
