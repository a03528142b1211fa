import type { Db } from './connection.ts';
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

export interface NewContribution {
  householdId: number;
  amount: number;
  fee: number;
  channel: LedgerEntry['channel'];
  operatorTxnId: string | null;
  paidOn: string;
  paidAt: string;
}

const SUMMARY = `SELECT h.id, h.card_number AS cardNumber, h.adherent_name AS adherentName, h.phone,
  h.language, h.mutuelle_id AS mutuelleId, m.name AS mutuelleName, m.district, m.product_id AS productId
  FROM households h JOIN mutuelles m ON m.id = h.mutuelle_id`;

/** Households, their beneficiaries and their ledger: everything the coverage rules need, read in a few indexed queries. */
export function createHouseholdStore(db: Db) {
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

  function parametersOf(productId: string): ProductParameters[] {
    return parameters.all(productId) as ProductParameters[];
  }

  return {
    findByPhone(phone: string): HouseholdSummary | undefined {
      return byPhone.get(phone) as HouseholdSummary | undefined;
    },
    load(householdId: number): HouseholdRecord | undefined {
      const household = byId.get(householdId) as HouseholdSummary | undefined;
      if (!household) return undefined;
      const rows = beneficiaries.all(householdId) as Array<{ id: number; name: string; subsidised: number; active: number }>;
      return {
        household,
        beneficiaries: rows.map((b) => ({ id: b.id, name: b.name, subsidised: b.subsidised === 1, active: b.active === 1 })),
        parameters: parametersOf(household.productId),
        ledger: ledger.all(householdId) as LedgerEntry[],
      };
    },
    parametersOf,
    setLanguage(householdId: number, language: Language, now: Date): void {
      setHouseholdLanguage.run(language, now.toISOString(), householdId);
    },
    create(h: NewHousehold, now: Date): number {
      return db.transaction(() => {
        const id = Number(insertHousehold.run({ ...h, now: now.toISOString() }).lastInsertRowid);
        for (const b of h.beneficiaries) {
          insertBeneficiary.run(id, b.name, b.relation, b.birthYear ?? null, b.subsidised ? 1 : 0, b.active === false ? 0 : 1);
        }
        return id;
      })();
    },
    /** Appends to the ledger; a repeated operator transaction id is ignored (returns false). */
    addContribution(c: NewContribution, now: Date): boolean {
      return insertContribution.run({ ...c, recordedAt: now.toISOString() }).changes === 1;
    },
  };
}

export type HouseholdStore = ReturnType<typeof createHouseholdStore>;
