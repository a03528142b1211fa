import type { Language } from '../i18n/catalog.ts';
import type { Db } from './connection.ts';

/** The SQL side of a campaign's audience (src/campaigns/audience.ts): households by the filters SQL can apply. */
export interface AudienceConditions {
  districts?: readonly string[] | undefined;
  mutuelles?: readonly string[] | undefined;
  languages?: readonly Language[] | undefined;
  /** Restrict to the campaign's explicit phone list (campaign_phones). */
  phoneListOf?: number | undefined;
  /** true: an Orange Money wallet linked at UTM's office; false: none. */
  wallet?: boolean | undefined;
  /** true: at least one subsidised active beneficiary; false: none. */
  subsidised?: boolean | undefined;
  /** The channel the household prefers for its reminders ('sms' when it never chose). */
  remindersBy?: 'sms' | 'voice' | undefined;
}

export interface AudienceHousehold {
  id: number;
  phone: string;
  language: Language;
  adherentName: string;
  mutuelleName: string;
  productId: string;
  /**
   * With `withCoverage`: every input of the household's coverage in its read-model row but the
   * product (counts of beneficiaries, ledger state) in one string, equal for two households of a
   * product exactly when their rows say the same (a campaign computes each distinct one once);
   * null when the household has no row. Otherwise undefined.
   */
  coverageKey?: string | null;
  /** With `withCoverage`: the day of its last payment (null: none), for the days-since filter. */
  lastPaidOn?: string | null;
}

function where(c: AudienceConditions): { sql: string; params: Record<string, unknown> } {
  const parts: string[] = [];
  const params: Record<string, unknown> = {};
  if (c.districts) {
    parts.push('h.mutuelle_id IN (SELECT id FROM mutuelles WHERE district IN (SELECT value FROM json_each(@districts)))');
    params.districts = JSON.stringify(c.districts);
  }
  if (c.mutuelles) {
    parts.push('h.mutuelle_id IN (SELECT value FROM json_each(@mutuelles))');
    params.mutuelles = JSON.stringify(c.mutuelles);
  }
  if (c.languages) {
    parts.push('h.language IN (SELECT value FROM json_each(@languages))');
    params.languages = JSON.stringify(c.languages);
  }
  if (c.phoneListOf !== undefined) {
    parts.push('h.phone IN (SELECT phone FROM campaign_phones WHERE campaign_id = @phoneList)');
    params.phoneList = c.phoneListOf;
  }
  if (c.wallet !== undefined) {
    parts.push(`${c.wallet ? '' : 'NOT '}EXISTS (SELECT 1 FROM wallets w WHERE w.household_id = h.id AND w.unlinked_at IS NULL)`);
  }
  if (c.subsidised !== undefined) {
    parts.push(
      `${c.subsidised ? '' : 'NOT '}EXISTS (SELECT 1 FROM beneficiaries b WHERE b.household_id = h.id AND b.subsidised = 1 AND b.active = 1)`,
    );
  }
  if (c.remindersBy !== undefined) {
    parts.push(`COALESCE((SELECT p.channel FROM reminder_preferences p WHERE p.household_id = h.id), 'sms') = @remindersBy`);
    params.remindersBy = c.remindersBy;
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(''), params };
}

/**
 * The households passing the conditions, in id order, a page at a time; with `withCoverage`, each
 * with its coverage read-model row's key, joined here rather than read in a second query. The
 * mutuelles (a handful) are read once a page rather than joined to every household: about a sixth
 * of a page's read (measured).
 */
export function createAudienceHouseholds(db: Db, c: AudienceConditions, withCoverage = false) {
  const w = where(c);
  // Rows as arrays, made objects here: better-sqlite3 builds a row object property by property
  // through V8's API, which cost about a third more for these pages (measured).
  const page = db
    .prepare(
      `SELECT h.id, h.phone, h.language, h.adherent_name, h.mutuelle_id
       ${withCoverage ? ', c.inputs_key, c.last_paid_on' : ''}
       FROM households h
       ${withCoverage ? 'LEFT JOIN household_coverage c ON c.household_id = h.id' : ''}
       WHERE h.id > @after${w.sql} ORDER BY h.id LIMIT @limit`,
    )
    .raw();
  const mutuelles = db.prepare('SELECT id, name, product_id FROM mutuelles').raw();
  const count = db.prepare(`SELECT COUNT(*) FROM households h WHERE h.id > @after${w.sql}`).pluck();
  return {
    /** How many households pass the conditions. */
    count(): number {
      return count.get({ after: 0, ...w.params }) as number;
    },
    /** Up to `limit` of them after household `afterId`. */
    page(afterId: number, limit: number): AudienceHousehold[] {
      const rows = page.all({ after: afterId, limit, ...w.params }) as Array<
        [number, string, Language, string, string, string | null, string | null]
      >;
      const mutuelleOf = new Map((mutuelles.all() as Array<[string, string, string]>).map((m) => [m[0], m]));
      // Without withCoverage the row has five cells: the last two are then undefined.
      return rows.map((r) => {
        const m = mutuelleOf.get(r[4]) as [string, string, string];
        return {
          id: r[0],
          phone: r[1],
          language: r[2],
          adherentName: r[3],
          mutuelleName: m[1],
          productId: m[2],
          coverageKey: r[5],
          lastPaidOn: r[6],
        };
      });
    },
  };
}
