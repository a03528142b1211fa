/**
 * Who a campaign speaks to: a filter over the households, read in pages of household ids so that a
 * preview or a send of 200,000 members never holds more than one page in memory.
 *
 * District, mutuelle, language, subsidised, wallet, the reminders' channel and the explicit phone list are SQL conditions
 * (src/db/audience.ts); coverage status and days since the last payment come from the coverage read
 * model (src/db/coverage.ts), joined to the page's query, with the domain's rules applied in JavaScript.
 */
import { z } from 'zod';
import { type AudienceHousehold, createAudienceHouseholds } from '../db/audience.ts';
import type { Db } from '../db/connection.ts';
import { type CoverageRow, createCoverageStore } from '../db/coverage.ts';
import { createHouseholdStore } from '../db/households.ts';
import { beneficiariesOfCounts, type Coverage, type CoverageStatus, coverageAt, coverageOn, type LocalDate } from '../domain/coverage.ts';
import { toDayNumber } from '../domain/dates.ts';
import { LANGUAGES, type Language } from '../i18n/catalog.ts';

export const COVERAGE_STATUSES = ['active', 'waiting', 'grace', 'lapsed'] as const satisfies readonly CoverageStatus[];

const names = z.array(z.string().trim().min(1)).min(1, { error: 'give at least one, or leave the filter out' });

export const audienceSchema = z
  .object({
    districts: names.optional(),
    mutuelles: names.optional(),
    /** Coverage status today; 'lapsed' includes households never covered. */
    statuses: z.array(z.enum(COVERAGE_STATUSES)).min(1).optional(),
    languages: z.array(z.enum(LANGUAGES)).min(1).optional(),
    /** true: households with at least one subsidised active beneficiary; false: with none. */
    subsidised: z.boolean().optional(),
    /** true: an Orange Money wallet linked at UTM's office; false: none. */
    wallet: z.boolean().optional(),
    /** How the household asked to get its reminders: by call (members who cannot read) or by SMS (the default). */
    remindersBy: z.enum(['sms', 'voice']).optional(),
    /** Whole days since the last payment, inclusive bounds; a household that never paid has no bound above it. */
    daysSinceLastPayment: z
      .object({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() })
      .strict()
      .refine((d) => d.min === undefined || d.max === undefined || d.min <= d.max, { error: 'min must not exceed max' })
      .optional(),
  })
  .strict();

export type AudienceFilter = z.infer<typeof audienceSchema>;

export interface Member {
  householdId: number;
  phone: string;
  language: Language;
  adherentName: string;
  mutuelleName: string;
  status: CoverageStatus;
  paidThrough: LocalDate | null;
  /** What remains to pay for the next month (FCFA). */
  remaining: number;
}

export interface AudiencePage {
  members: Member[];
  /** Households read from SQL on this page (before the coverage filters): the progress unit. */
  scanned: number;
  /** The last household id read; the next page starts after it. */
  lastId: number;
}

export interface AudienceQuery {
  filter: AudienceFilter;
  /** Restrict to the campaign's explicit phone list (campaign_phones). */
  phoneListOf?: number | undefined;
  today: LocalDate;
  /** Whether the values need the coverage (status filter, amount or date placeholders). */
  needsCoverage: boolean;
}

/**
 * Distinct coverage inputs a reader keeps computed: households of a network share few (same counts,
 * same month paid through, same credit), and the bound keeps a huge audience from filling memory.
 */
const COVERAGE_MEMO = 20_000;

/** Pages of the audience in household id order, from `afterId` on. */
export function createAudienceReader(db: Db, q: AudienceQuery) {
  const f = q.filter;
  const needsRow = q.needsCoverage || f.daysSinceLastPayment !== undefined;
  const households = createAudienceHouseholds(
    db,
    {
      districts: f.districts,
      mutuelles: f.mutuelles,
      languages: f.languages,
      phoneListOf: q.phoneListOf,
      wallet: f.wallet,
      subsidised: f.subsidised,
      remindersBy: f.remindersBy,
    },
    needsRow,
  );
  const coverage = createCoverageStore(db);
  const store = createHouseholdStore(db);
  const today = toDayNumber(q.today);
  const days = f.daysSinceLastPayment;
  const statuses = f.statuses ? new Set<CoverageStatus>(f.statuses) : null;
  /** Coverages by product, then by the read-model row's key; `memoSize` of them in all. */
  const memo = new Map<string, Map<string, Coverage>>();
  let memoSize = 0;
  const forget = () => {
    memo.clear();
    memoSize = 0;
  };
  /** The parameters each product had when the memo's coverages of it were computed, and the products checked on this page. */
  const parametersSeen = new Map<string, string>();
  const checkedOnPage = new Set<string>();

  /** Product parameters are read again on each page: a change made during a send empties the memo. */
  function checkParameters(productId: string): void {
    if (checkedOnPage.has(productId)) return;
    checkedOnPage.add(productId);
    const now = JSON.stringify(store.parametersOf(productId));
    const seen = parametersSeen.get(productId);
    if (seen !== undefined && seen !== now) forget();
    parametersSeen.set(productId, now);
  }

  /**
   * The household's coverage today: from its read-model row, computed once per product and
   * distinct row (its key holds every other input), or from its ledger for a day before its last payment.
   */
  function coverageOf(h: AudienceHousehold): Coverage {
    const key = h.coverageKey as string;
    const beforeLast = h.lastPaidOn !== null && (h.lastPaidOn as string) > q.today;
    checkParameters(h.productId);
    let cov = beforeLast ? undefined : memo.get(h.productId)?.get(key);
    if (cov) return cov;
    const row = coverage.range(h.id, h.id)[0] as CoverageRow;
    const household = { beneficiaries: beneficiariesOfCounts(row), parameters: store.parametersOf(h.productId) };
    if (beforeLast) return coverageOn({ ...household, ledger: store.load(h.id)?.ledger ?? [], today: q.today });
    cov = coverageAt(row, household, q.today);
    if (memoSize >= COVERAGE_MEMO) forget();
    let ofProduct = memo.get(h.productId);
    if (ofProduct === undefined) memo.set(h.productId, (ofProduct = new Map()));
    ofProduct.set(key, cov);
    memoSize++;
    return cov;
  }

  return {
    /** Households passing the SQL conditions (an upper bound of the audience: the progress total). */
    candidates(): number {
      return households.count();
    },
    page(afterId: number, limit: number): AudiencePage {
      const rows = households.page(afterId, limit);
      const lastId = rows.length > 0 ? rows[rows.length - 1]!.id : afterId;
      if (rows.length === 0) return { members: [], scanned: 0, lastId };
      store.forgetParameters();
      checkedOnPage.clear();
      const members: Member[] = [];
      for (const r of rows) {
        if (needsRow && r.coverageKey === null) throw new Error(`household ${r.id} has no coverage row: run sabatili coverage rebuild`);
        if (days) {
          const last = r.lastPaidOn != null ? today - toDayNumber(r.lastPaidOn) : Infinity;
          if ((days.min !== undefined && last < days.min) || (days.max !== undefined && last > days.max)) continue;
        }
        let status: CoverageStatus = 'lapsed';
        let paidThrough: LocalDate | null = null;
        let remaining = 0;
        if (q.needsCoverage) {
          const cov = coverageOf(r);
          if (statuses && !statuses.has(cov.status)) continue;
          ({ status, paidThrough, remaining } = cov);
        }
        members.push({
          householdId: r.id,
          phone: r.phone,
          language: r.language,
          adherentName: r.adherentName,
          mutuelleName: r.mutuelleName,
          status,
          paidThrough,
          remaining,
        });
      }
      return { members, scanned: rows.length, lastId };
    },
  };
}

export type AudienceReader = ReturnType<typeof createAudienceReader>;
