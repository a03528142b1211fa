/**
 * Who a campaign speaks to: a filter over the households, read in pages of household ids so that a
 * preview or a send of 200,000 members never holds more than one page in memory.
 *
 * District, mutuelle, language, subsidised, wallet and the explicit phone list are SQL conditions
 * (src/db/audience.ts); coverage status and days since the last payment come from the coverage read
 * model (src/db/coverage.ts), one range read per page, with the domain's rules applied in JavaScript.
 */
import { z } from 'zod';
import { createAudienceHouseholds } from '../db/audience.ts';
import type { Db } from '../db/connection.ts';
import { createCoverageStore, type CoverageRow } from '../db/coverage.ts';
import { createHouseholdStore } from '../db/households.ts';
import { beneficiariesOfCounts, coverageAt, coverageOn, type Coverage, type CoverageStatus, type LocalDate } from '../domain/coverage.ts';
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

/** Pages of the audience in household id order, from `afterId` on. */
export function createAudienceReader(db: Db, q: AudienceQuery) {
  const f = q.filter;
  const households = createAudienceHouseholds(db, {
    districts: f.districts, mutuelles: f.mutuelles, languages: f.languages, phoneListOf: q.phoneListOf, wallet: f.wallet, subsidised: f.subsidised,
  });
  const coverage = createCoverageStore(db);
  const store = createHouseholdStore(db);
  const needsRow = q.needsCoverage || f.daysSinceLastPayment !== undefined;
  const today = toDayNumber(q.today);
  const days = f.daysSinceLastPayment;
  const statuses = f.statuses ? new Set<CoverageStatus>(f.statuses) : null;

  /** The household's coverage today: from its read-model row, or its ledger for a day before its last payment. */
  function coverageOf(id: number, productId: string, row: CoverageRow): Coverage {
    const household = { beneficiaries: beneficiariesOfCounts(row), parameters: store.parametersOf(productId) };
    if (row.lastPaidOn === null || row.lastPaidOn <= q.today) return coverageAt(row, household, q.today);
    return coverageOn({ ...household, ledger: store.load(id)?.ledger ?? [], today: q.today });
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
      // The page's read-model rows in one range read (other households in the range are ignored).
      const byId = new Map(needsRow ? coverage.range(rows[0]!.id, lastId).map((c) => [c.householdId, c]) : []);
      const members: Member[] = [];
      for (const r of rows) {
        const row = byId.get(r.id);
        if (needsRow && !row) throw new Error(`household ${r.id} has no coverage row: run sabatili coverage rebuild`);
        if (days) {
          const last = row!.lastPaidOn !== null ? today - toDayNumber(row!.lastPaidOn) : Infinity;
          if ((days.min !== undefined && last < days.min) || (days.max !== undefined && last > days.max)) continue;
        }
        let status: CoverageStatus = 'lapsed';
        let paidThrough: LocalDate | null = null;
        let remaining = 0;
        if (q.needsCoverage) {
          const cov = coverageOf(r.id, r.productId, row!);
          if (statuses && !statuses.has(cov.status)) continue;
          ({ status, paidThrough, remaining } = cov);
        }
        members.push({
          householdId: r.id, phone: r.phone, language: r.language, adherentName: r.adherentName, mutuelleName: r.mutuelleName,
          status, paidThrough, remaining,
        });
      }
      return { members, scanned: rows.length, lastId };
    },
  };
}

export type AudienceReader = ReturnType<typeof createAudienceReader>;
