/**
 * Who a campaign speaks to: a filter over the households, read in pages of household ids so that a
 * preview or a send of 200,000 members never holds more than one page in memory.
 *
 * District, mutuelle, language, subsidised, wallet and the explicit phone list are SQL conditions;
 * coverage status and days since the last payment need the coverage rules, so they are applied in
 * JavaScript on each page (with the page's beneficiaries and ledger read in two queries).
 */
import { z } from 'zod';
import type { Db } from '../db/connection.ts';
import { coverageOn, type Beneficiary, type CoverageStatus, type LocalDate, type Payment, type ProductParameters } from '../domain/coverage.ts';
import { toDayNumber } from '../domain/dates.ts';
import { LANGUAGES, type Language } from '../i18n/catalog.ts';

const SUBSIDISED: Beneficiary = { id: 0, name: '', subsidised: true, active: true };
const FULL: Beneficiary = { id: 0, name: '', subsidised: false, active: true };

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

interface Row {
  id: number;
  phone: string;
  language: Language;
  adherentName: string;
  mutuelleName: string;
  productId: string;
}

function where(q: AudienceQuery): { sql: string; params: Record<string, unknown> } {
  const f = q.filter;
  const parts: string[] = [];
  const params: Record<string, unknown> = {};
  if (f.districts) {
    parts.push('m.district IN (SELECT value FROM json_each(@districts))');
    params.districts = JSON.stringify(f.districts);
  }
  if (f.mutuelles) {
    parts.push('h.mutuelle_id IN (SELECT value FROM json_each(@mutuelles))');
    params.mutuelles = JSON.stringify(f.mutuelles);
  }
  if (f.languages) {
    parts.push('h.language IN (SELECT value FROM json_each(@languages))');
    params.languages = JSON.stringify(f.languages);
  }
  if (q.phoneListOf !== undefined) {
    parts.push('h.phone IN (SELECT phone FROM campaign_phones WHERE campaign_id = @phoneList)');
    params.phoneList = q.phoneListOf;
  }
  if (f.wallet !== undefined) {
    parts.push(`${f.wallet ? '' : 'NOT '}EXISTS (SELECT 1 FROM wallets w WHERE w.household_id = h.id AND w.unlinked_at IS NULL)`);
  }
  if (f.subsidised !== undefined) {
    parts.push(
      `${f.subsidised ? '' : 'NOT '}EXISTS (SELECT 1 FROM beneficiaries b WHERE b.household_id = h.id AND b.subsidised = 1 AND b.active = 1)`,
    );
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(''), params };
}

/** Pages of the audience in household id order, from `afterId` on. */
export function createAudienceReader(db: Db, q: AudienceQuery) {
  const w = where(q);
  const from = `FROM households h JOIN mutuelles m ON m.id = h.mutuelle_id WHERE h.id > @after${w.sql}`;
  const page = db.prepare(
    `SELECT h.id, h.phone, h.language, h.adherent_name AS adherentName, m.name AS mutuelleName, m.product_id AS productId
     ${from} ORDER BY h.id LIMIT @limit`,
  );
  const count = db.prepare(`SELECT COUNT(*) ${from}`).pluck();
  const needsLedger = q.needsCoverage || q.filter.daysSinceLastPayment !== undefined;
  // Only how many active beneficiaries are subsidised or not matters to the dues: counted in SQL.
  // A page's households are read by id range when they are dense (no filter left gaps): a range scan
  // of the index costs about half the lookups of a list; other households in the range are ignored.
  const inPage = { list: 'household_id IN (SELECT value FROM json_each(@ids))', range: 'household_id BETWEEN @first AND @last' };
  const beneficiaryQuery = (where: string) =>
    db.prepare(
      `SELECT household_id, SUM(active = 1 AND subsidised = 1), SUM(active = 1 AND subsidised = 0) FROM beneficiaries
       WHERE ${where} GROUP BY household_id`,
    ).raw();
  const ledgerQuery = (where: string) =>
    db.prepare(`SELECT household_id, amount, paid_on FROM contributions WHERE ${where} ORDER BY household_id, paid_at, id`).raw();
  const beneficiaries = { list: beneficiaryQuery(inPage.list), range: beneficiaryQuery(inPage.range) };
  const ledger = { list: ledgerQuery(inPage.list), range: ledgerQuery(inPage.range) };
  const parameters = db.prepare(
    `SELECT effective_from AS effectiveFrom, annual_contribution AS annualContribution, subsidy_percent AS subsidyPercent,
       joining_fee AS joiningFee, waiting_days AS waitingDays, grace_days AS graceDays
     FROM product_parameters WHERE product_id = ? ORDER BY effective_from`,
  );
  const products = new Map<string, ProductParameters[]>();
  const parametersOf = (id: string) => {
    let p = products.get(id);
    if (!p) products.set(id, (p = parameters.all(id) as ProductParameters[]));
    return p;
  };
  const today = toDayNumber(q.today);
  const days = q.filter.daysSinceLastPayment;
  const statuses = q.filter.statuses ? new Set<CoverageStatus>(q.filter.statuses) : null;

  function group<T>(rows: unknown[][], map: (r: unknown[]) => T): Map<number, T[]> {
    const out = new Map<number, T[]>();
    for (const r of rows) {
      const id = r[0] as number;
      const list = out.get(id);
      if (list) list.push(map(r));
      else out.set(id, [map(r)]);
    }
    return out;
  }

  return {
    /** Households passing the SQL conditions (an upper bound of the audience: the progress total). */
    candidates(): number {
      return count.get({ after: 0, ...w.params }) as number;
    },
    page(afterId: number, limit: number): AudiencePage {
      const rows = page.all({ after: afterId, limit, ...w.params }) as Row[];
      const lastId = rows.length > 0 ? (rows[rows.length - 1] as Row).id : afterId;
      if (rows.length === 0) return { members: [], scanned: 0, lastId };
      const first = (rows[0] as Row).id;
      const how = lastId - first < 2 * rows.length ? 'range' : 'list';
      const keys = how === 'range' ? { first, last: lastId } : { ids: JSON.stringify(rows.map((r) => r.id)) };
      const bens = new Map<number, Beneficiary[]>();
      if (q.needsCoverage) {
        for (const [id, subsidised, full] of beneficiaries[how].all(keys) as Array<[number, number, number]>) {
          bens.set(id, [...Array.from({ length: subsidised }, () => SUBSIDISED), ...Array.from({ length: full }, () => FULL)]);
        }
      }
      const pays = needsLedger ? group(ledger[how].all(keys) as unknown[][], (r): Payment => ({ amount: r[1] as number, paidOn: r[2] as string })) : new Map<number, Payment[]>();
      const members: Member[] = [];
      for (const r of rows) {
        const payments = pays.get(r.id) ?? [];
        if (days) {
          const last = payments.length > 0 ? today - toDayNumber((payments[payments.length - 1] as Payment).paidOn) : Infinity;
          if ((days.min !== undefined && last < days.min) || (days.max !== undefined && last > days.max)) continue;
        }
        let status: CoverageStatus = 'lapsed';
        let paidThrough: LocalDate | null = null;
        let remaining = 0;
        if (q.needsCoverage) {
          const cov = coverageOn({ beneficiaries: bens.get(r.id) ?? [], parameters: parametersOf(r.productId), ledger: payments, today: q.today });
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
