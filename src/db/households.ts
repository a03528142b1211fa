import {
  applyPayment,
  type Beneficiary,
  type BeneficiaryCounts,
  beneficiariesOfCounts,
  type CoverageView,
  countBeneficiaries,
  coverageAt,
  coverageOn,
  coverageViewOf,
  type LocalDate,
  ledgerState,
  type Payment,
  type ProductParameters,
} from '../domain/coverage.ts';
import type { Language } from '../i18n/catalog.ts';
import type { Db } from './connection.ts';
import { COVERAGE_CELLS, type CoverageRow, coverageCells, coverageRowOf, createCoverageStore, type FullCoverageRow } from './coverage.ts';
import { type ChangeWatch, Lru } from './freshness.ts';

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

/** Beneficiaries per multi-row INSERT of an import. */
const BULK = 100;

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

/** The household a phone is the head's phone of, as a registration or an import names it. */
export interface PhoneOwner {
  id: number;
  cardNumber: string;
  adherentName: string;
}

/** A household's coverage read model disagreeing with its ledger (`sabatili coverage check`). */
export interface CoverageDifference {
  householdId: number;
  /** The row as stored (null: missing) and as the ledger gives it (null: no such household). */
  stored: FullCoverageRow | null;
  computed: FullCoverageRow | null;
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
  const beneficiaries = db.prepare(`SELECT id, name, subsidised, active FROM beneficiaries WHERE household_id = ? ORDER BY id`);
  // What the coverage screen reads, in one statement (one WAL read lock instead of three): the
  // household's product, name and read-model row on every row, then one beneficiary per row.
  const viewOf = db
    .prepare(
      `SELECT m.product_id, h.adherent_name, ${coverageCells('c')}, b.id, b.name, b.subsidised, b.active
       FROM households h JOIN mutuelles m ON m.id = h.mutuelle_id
       LEFT JOIN household_coverage c ON c.household_id = h.id
       LEFT JOIN beneficiaries b ON b.household_id = h.id
       WHERE h.id = ? ORDER BY b.id`,
    )
    .raw();
  const withBirthYears = db.prepare(
    `SELECT id, name, birth_year AS birthYear, active = 1 AS active FROM beneficiaries WHERE household_id = ? ORDER BY id`,
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
  const setHouseholdLanguage = db.prepare(`UPDATE households SET language = ?, updated_at = ?, version = version + 1 WHERE id = ?`);
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

  const coverage = createCoverageStore(db);
  const householdsOfProduct = db
    .prepare('SELECT h.id FROM households h JOIN mutuelles m ON m.id = h.mutuelle_id WHERE m.product_id = ? ORDER BY h.id')
    .pluck();
  const upsertParameters = db.prepare(
    `INSERT INTO product_parameters (product_id, effective_from, annual_contribution, subsidy_percent, joining_fee, waiting_days, grace_days)
     VALUES (@productId, @effectiveFrom, @annualContribution, @subsidyPercent, @joiningFee, @waitingDays, @graceDays)
     ON CONFLICT (product_id, effective_from) DO UPDATE SET annual_contribution = excluded.annual_contribution,
       subsidy_percent = excluded.subsidy_percent, joining_fee = excluded.joining_fee, waiting_days = excluded.waiting_days,
       grace_days = excluded.grace_days
     WHERE (annual_contribution, subsidy_percent, joining_fee, waiting_days, grace_days)
       IS NOT (excluded.annual_contribution, excluded.subsidy_percent, excluded.joining_fee, excluded.waiting_days, excluded.grace_days)`,
  );
  const allParameters = db.prepare(
    `SELECT product_id AS productId, effective_from AS effectiveFrom, annual_contribution AS annualContribution,
       subsidy_percent AS subsidyPercent, joining_fee AS joiningFee, waiting_days AS waitingDays, grace_days AS graceDays
     FROM product_parameters ORDER BY product_id, effective_from`,
  );
  // The coverage inputs of a page of households, by id range: the rebuild and the check read every household so.
  const pageOfHouseholds = db.prepare(
    'SELECT h.id, h.mutuelle_id AS mutuelleId, m.product_id AS productId FROM households h JOIN mutuelles m ON m.id = h.mutuelle_id WHERE h.id > ? ORDER BY h.id LIMIT ?',
  );
  const pageOfCounts = db
    .prepare(
      `SELECT household_id, SUM(active = 1 AND subsidised = 0), SUM(active = 1 AND subsidised = 1), SUM(active = 0)
     FROM beneficiaries WHERE household_id BETWEEN ? AND ? GROUP BY household_id`,
    )
    .raw();
  const pageOfLedgers = db
    .prepare(
      'SELECT household_id, amount, paid_on FROM contributions WHERE household_id BETWEEN ? AND ? ORDER BY household_id, paid_at, id',
    )
    .raw();

  const records = new Lru<number, HouseholdRecord>(cacheSize);
  // Made once: better-sqlite3 builds a transaction function's variants on each db.transaction() call,
  // a cost an import of 50 000 households paid 50 000 times.
  const createHousehold = db.transaction((h: NewHousehold, now: Date): number => {
    const id = Number(insertHousehold.run({ ...h, now: now.toISOString() }).lastInsertRowid);
    for (const b of h.beneficiaries) {
      insertBeneficiary.run(id, b.name, b.relation, b.birthYear ?? null, b.subsidised ? 1 : 0, b.active === false ? 0 : 1);
    }
    // Its coverage row from what was just written (no ledger yet), not read back from the tables.
    const created = byId.get(id) as HouseholdSummary;
    const counts = countBeneficiaries(
      h.beneficiaries.map((b) => ({ id: 0, name: b.name, subsidised: b.subsidised === true, active: b.active !== false })),
    );
    coverage.put(computeCoverage(id, created.mutuelleId, counts, parametersOf(created.productId), []));
    return id;
  });
  // The bulk path of an import: a taken card or phone leaves the household out instead of failing,
  // and beneficiaries go in multi-row statements (see BULK in outbox.ts).
  const insertHouseholdUnlessTaken = db.prepare(
    `INSERT INTO households (card_number, adherent_name, phone, language, mutuelle_id, joined_on, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  const BENEFICIARY = '(?, ?, ?, ?, ?, ?)';
  const insertBeneficiaries = db.prepare(
    `INSERT INTO beneficiaries (household_id, name, relation, birth_year, subsidised, active) VALUES ${Array<string>(BULK).fill(BENEFICIARY).join(', ')}`,
  );
  const beneficiaryArgs = new Array<unknown>(BULK * 6);
  const productOf = db.prepare('SELECT product_id FROM mutuelles WHERE id = ?').pluck();
  const createMany = db.transaction((list: readonly NewHousehold[], now: Date): Array<number | null> => {
    const at = now.toISOString();
    const ids = new Array<number | null>(list.length);
    const rows: FullCoverageRow[] = [];
    // Each mutuelle's product parameters and their shapes (see createdShapes), found once per call.
    const products = new Map<string, { parameters: ProductParameters[]; shapes: Map<string, FullCoverageRow> }>();
    let pending = 0;
    list.forEach((h, i) => {
      phones.delete(h.phone);
      const res = insertHouseholdUnlessTaken.run(h.cardNumber, h.adherentName, h.phone, h.language, h.mutuelleId, h.joinedOn, at, at);
      if (res.changes === 0) {
        ids[i] = null;
        return;
      }
      const id = Number(res.lastInsertRowid);
      ids[i] = id;
      for (const b of h.beneficiaries) {
        const a = pending * 6;
        beneficiaryArgs[a] = id;
        beneficiaryArgs[a + 1] = b.name;
        beneficiaryArgs[a + 2] = b.relation;
        beneficiaryArgs[a + 3] = b.birthYear ?? null;
        beneficiaryArgs[a + 4] = b.subsidised ? 1 : 0;
        beneficiaryArgs[a + 5] = b.active === false ? 0 : 1;
        if (++pending === BULK) {
          insertBeneficiaries.run(beneficiaryArgs);
          pending = 0;
        }
      }
      const counts = countBeneficiaries(
        h.beneficiaries.map((b) => ({ id: 0, name: b.name, subsidised: b.subsidised === true, active: b.active !== false })),
      );
      let product = products.get(h.mutuelleId);
      if (!product) {
        const parameters = parametersOf(productOf.get(h.mutuelleId) as string);
        let shapes = createdShapes.get(parameters);
        if (!shapes) createdShapes.set(parameters, (shapes = new Map()));
        products.set(h.mutuelleId, (product = { parameters, shapes }));
      }
      const key = `${counts.full}|${counts.subsidised}|${counts.inactive}`;
      let shape = product.shapes.get(key);
      if (!shape) product.shapes.set(key, (shape = computeCoverage(0, '', counts, product.parameters, [])));
      rows.push({ ...shape, householdId: id, mutuelleId: h.mutuelleId, periods: shape.periods });
    });
    for (let k = 0; k < pending; k++) {
      const a = k * 6;
      insertBeneficiary.run(...beneficiaryArgs.slice(a, a + 6));
    }
    coverage.putCreated(rows);
    return ids;
  });
  /** null: a number known not to be registered. */
  const phones = new Lru<string, HouseholdSummary | null>(cacheSize);
  const products = new Map<string, ProductParameters[]>();
  /**
   * A new household's row depends only on its product's parameters and its counts (no ledger yet):
   * each computed once per parameters read, for every chunk of an import (an array read again when
   * they change, see parametersOf, is a new key).
   */
  const createdShapes = new WeakMap<readonly ProductParameters[], Map<string, FullCoverageRow>>();
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

  const walletFor = db.prepare(`SELECT 1 FROM wallets WHERE operator = 'orange_money' AND msisdn = ? AND unlinked_at IS NULL`).pluck();
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

  /** The read model's row of a household, from its ledger, beneficiaries and product as they are now. */
  function computeCoverage(
    householdId: number,
    mutuelleId: string,
    counts: BeneficiaryCounts,
    parameters: readonly ProductParameters[],
    ledger: readonly Payment[],
  ): FullCoverageRow {
    return { householdId, mutuelleId, ...counts, ...ledgerState({ beneficiaries: beneficiariesOfCounts(counts), parameters, ledger }) };
  }

  /** Rewrites the household's coverage row from what is in the database now (in the caller's transaction). */
  function refreshCoverage(householdId: number): void {
    const h = byId.get(householdId) as HouseholdSummary | undefined;
    if (!h) return;
    const rows = beneficiaries.all(householdId) as Array<{ subsidised: number; active: number }>;
    const counts = countBeneficiaries(rows.map((b) => ({ id: 0, name: '', subsidised: b.subsidised === 1, active: b.active === 1 })));
    coverage.put(computeCoverage(householdId, h.mutuelleId, counts, parametersOf(h.productId), ledger.all(householdId) as LedgerEntry[]));
  }

  /** Every household's coverage row from its ledger, a page at a time, in id order. */
  function* computeAll(pageSize = 2000): Generator<FullCoverageRow> {
    const params = new Map<string, ProductParameters[]>();
    for (const p of allParameters.all() as Array<ProductParameters & { productId: string }>) {
      const { productId, ...v } = p;
      params.set(productId, [...(params.get(productId) ?? []), v]);
    }
    let after = 0;
    for (;;) {
      const page = pageOfHouseholds.all(after, pageSize) as Array<{ id: number; mutuelleId: string; productId: string }>;
      if (page.length === 0) return;
      const first = page[0]!.id;
      after = page[page.length - 1]!.id;
      const counts = new Map<number, BeneficiaryCounts>();
      for (const [id, full, subsidised, inactive] of pageOfCounts.all(first, after) as Array<[number, number, number, number]>) {
        counts.set(id, { full, subsidised, inactive });
      }
      const ledgers = new Map<number, Payment[]>();
      for (const [id, amount, paidOn] of pageOfLedgers.all(first, after) as Array<[number, number, string]>) {
        const list = ledgers.get(id);
        if (list) list.push({ amount, paidOn });
        else ledgers.set(id, [{ amount, paidOn }]);
      }
      for (const h of page) {
        const parameters = params.get(h.productId);
        if (!parameters) throw new Error(`household ${h.id}: product ${h.productId} has no parameters`);
        yield computeCoverage(
          h.id,
          h.mutuelleId,
          counts.get(h.id) ?? { full: 0, subsidised: 0, inactive: 0 },
          parameters,
          ledgers.get(h.id) ?? [],
        );
      }
    }
  }

  function findByPhone(phone: string): HouseholdSummary | undefined {
    watch?.check();
    let h = phones.get(phone);
    if (h === undefined) phones.set(phone, (h = (byPhone.get(phone) as HouseholdSummary | undefined) ?? null));
    return h ?? undefined;
  }
  const findByCard = (cardNumber: string): HouseholdSummary | undefined =>
    byCard.get(cardNumber.trim().toUpperCase()) as HouseholdSummary | undefined;
  // What a registration or an import checks: no join, and nothing kept in the cache of phones the USSD hops read.
  const cardTaken = db.prepare('SELECT 1 FROM households WHERE card_number = ?').pluck();
  const ownerOfPhone = db.prepare('SELECT id, card_number AS cardNumber, adherent_name AS adherentName FROM households WHERE phone = ?');
  // The same for a chunk of an import's households at once: one statement for hundreds of lookups (a JSON array of keys).
  const cardsTaken = db.prepare('SELECT card_number FROM households WHERE card_number IN (SELECT value FROM json_each(?))').pluck();
  const ownersOfPhones = db
    .prepare(
      'SELECT phone, id, card_number AS cardNumber, adherent_name AS adherentName FROM households WHERE phone IN (SELECT value FROM json_each(?))',
    )
    .raw();

  const pageAfter = db.prepare(`${SUMMARY} WHERE h.id > ? ORDER BY h.id LIMIT ?`);

  return {
    findByPhone,
    /** Up to `limit` households after id `afterId`, in id order. */
    page(afterId: number, limit: number): HouseholdSummary[] {
      return pageAfter.all(afterId, limit) as HouseholdSummary[];
    },
    /** The read-model rows of households `first..last` (see src/db/coverage.ts). */
    coverageRows(first: number, last: number): CoverageRow[] {
      return coverage.range(first, last);
    },
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
    /** Forgets the product parameters kept in memory: a long read (a campaign's send) sees a change made meanwhile. */
    forgetParameters(): void {
      products.clear();
    },
    /**
     * What the coverage screen shows on `today`: from the household's read-model row and its
     * beneficiaries, without its ledger; from the ledger only when `today` is before its last payment.
     */
    coverageView(householdId: number, today: LocalDate): CoverageView | undefined {
      watch?.check();
      const rows = viewOf.all(householdId) as unknown[][];
      const first = rows[0];
      if (!first) return undefined;
      const b = 2 + COVERAGE_CELLS;
      const household = {
        adherentName: first[1] as string,
        // A household without beneficiaries has one row, its beneficiary cells null.
        beneficiaries: (first[b] === null ? [] : rows).map((r) => ({
          id: r[b] as number,
          name: r[b + 1] as string,
          subsidised: r[b + 2] === 1,
          active: r[b + 3] === 1,
        })),
        parameters: parametersOf(first[0] as string),
      };
      const row = coverageRowOf(first, 2);
      const cov =
        row && (row.lastPaidOn === null || row.lastPaidOn <= today)
          ? coverageAt(row, household, today)
          : coverageOn({ ...household, ledger: ledger.all(householdId) as LedgerEntry[], today });
      return coverageViewOf(household, cov, today);
    },
    /** The household's beneficiaries with their birth years, as a health facility tells patients apart. */
    beneficiariesWithBirthYears(householdId: number): Array<{ id: number; name: string; birthYear: number | null; active: boolean }> {
      return (withBirthYears.all(householdId) as Array<{ id: number; name: string; birthYear: number | null; active: number }>).map(
        (b) => ({ ...b, active: b.active === 1 }),
      );
    },
    /** Only a wallet linked at UTM's office can contribute from USSD. */
    hasWallet(msisdn: string): boolean {
      return walletFor.get(msisdn) === 1;
    },
    findByCard,
    /** Whether a household has this card (as registered: upper case, trimmed). */
    hasCard(cardNumber: string): boolean {
      return cardTaken.get(cardNumber) === 1;
    },
    /** The household whose head's phone this is (E.164), if any. */
    phoneOwner(phone: string): PhoneOwner | undefined {
      return ownerOfPhone.get(phone) as PhoneOwner | undefined;
    },
    /**
     * hasCard and phoneOwner for many cards and phones at once: each card asked, whether it is
     * registered; each phone asked, its household or null.
     */
    takenAmong(
      cards: readonly string[],
      phones: readonly string[],
    ): { cards: Map<string, boolean>; phones: Map<string, PhoneOwner | null> } {
      const taken = new Map<string, boolean>(cards.map((c) => [c, false]));
      for (const card of cardsTaken.all(JSON.stringify(cards)) as string[]) taken.set(card, true);
      const owners = new Map<string, PhoneOwner | null>(phones.map((p) => [p, null]));
      for (const [phone, id, cardNumber, adherentName] of ownersOfPhones.all(JSON.stringify(phones)) as Array<
        [string, number, string, string]
      >)
        owners.set(phone, { id, cardNumber, adherentName });
      return { cards: taken, phones: owners };
    },
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
    /**
     * Creates households in the caller's transaction (an import), each with its beneficiaries and
     * coverage row as create does; one whose card or phone is already registered is left out: its
     * id is null.
     */
    createMany(list: readonly NewHousehold[], now: Date): Array<number | null> {
      return createMany(list, now);
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
      const changed = db.transaction(() => {
        if (updateHousehold.run({ ...c, id: householdId, version, now: now.toISOString() }).changes !== 1) return false;
        refreshCoverage(householdId); // another mutuelle may mean another product
        return true;
      })();
      if (changed) {
        forget(householdId);
        phones.clear();
      }
      return changed;
    },
    addBeneficiary(householdId: number, b: NewHousehold['beneficiaries'][number], now: Date): number {
      const id = db.transaction(() => {
        bump.run(now.toISOString(), householdId);
        const id = Number(
          insertBeneficiary.run(householdId, b.name, b.relation, b.birthYear ?? null, b.subsidised ? 1 : 0, 1).lastInsertRowid,
        );
        refreshCoverage(householdId);
        return id;
      })();
      forget(householdId);
      return id;
    },
    /** A beneficiary who left (or came back): kept for history, no longer counted in the due. */
    setBeneficiaryActive(householdId: number, beneficiaryId: number, active: boolean, now: Date): boolean {
      const changed = db.transaction(() => {
        const n = setBeneficiaryActive.run(active ? 1 : 0, beneficiaryId, householdId).changes;
        if (n) {
          bump.run(now.toISOString(), householdId);
          refreshCoverage(householdId);
        }
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
      const added = db.transaction(() => {
        if (insertContribution.run({ ...c, recordedAt: now.toISOString() }).changes !== 1) return false;
        // The payment moves the stored state on; one dated before the last payment needs the whole ledger again.
        const row = coverage.get(c.householdId);
        const h = byId.get(c.householdId) as HouseholdSummary | undefined;
        const next =
          row && h && row.mutuelleId === h.mutuelleId
            ? applyPayment(row, { beneficiaries: beneficiariesOfCounts(row), parameters: parametersOf(h.productId) }, c)
            : null;
        if (next && row) coverage.put({ ...row, ...next });
        else refreshCoverage(c.householdId);
        return true;
      })();
      forget(c.householdId);
      return added;
    },
    /**
     * Adds or changes a dated version of a product's parameters; every household of the product gets
     * its coverage recomputed in the same transaction. Returns whether anything changed.
     */
    setProductParameters(productId: string, p: ProductParameters): boolean {
      return db.transaction(() => {
        if (upsertParameters.run({ productId, ...p }).changes === 0) return false;
        products.delete(productId);
        // The records kept hold the product's parameters as they were read.
        records.clear();
        for (const id of householdsOfProduct.all(productId) as number[]) refreshCoverage(id);
        return true;
      })();
    },
    /** Recomputes every household's coverage row from its ledger (`sabatili coverage rebuild`, migration 12). Returns how many. */
    rebuildCoverage(): number {
      return db.transaction(() => {
        coverage.clear();
        return coverage.putAll(computeAll());
      })();
    },
    /** The households whose coverage row differs from their ledger (`sabatili coverage check`); checked: how many households. */
    checkCoverage(): { checked: number; differences: CoverageDifference[]; sumsAgree: boolean } {
      return db.transaction(() => {
        const differences: CoverageDifference[] = [];
        const seen = new Set<number>();
        for (const computed of computeAll()) {
          seen.add(computed.householdId);
          const stored = coverage.get(computed.householdId) ?? null;
          if (!stored || JSON.stringify(canonical(stored)) !== JSON.stringify(canonical(computed))) {
            differences.push({ householdId: computed.householdId, stored, computed });
          }
        }
        for (const id of coverage.householdIds()) {
          if (!seen.has(id)) differences.push({ householdId: id, stored: coverage.get(id) ?? null, computed: null });
        }
        return { checked: seen.size, differences, sumsAgree: coverage.sumsAgree() };
      })();
    },
  };
}

export type HouseholdStore = ReturnType<typeof createHouseholdStore>;

/** A row's fields in one order, for comparing two rows. */
function canonical(r: FullCoverageRow): unknown[] {
  return [
    r.householdId,
    r.mutuelleId,
    r.lastPaidOn,
    r.credit,
    r.paidThrough,
    r.graceUntil,
    r.episodeStart,
    r.waitingUntil,
    r.pendingStart,
    r.full,
    r.subsidised,
    r.inactive,
    r.periods.map((p) => [p.from, p.until]),
  ];
}
