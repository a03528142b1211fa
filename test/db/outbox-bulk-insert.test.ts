/**
 * The outbox's multi-row INSERTs: a hundred rows that share their encoding, kind, campaign and
 * priority bind those once (named parameters), any other hundred binds every value of every row.
 * Either way each row holds exactly what it was given, with the id insertQueued returned for it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createOutboxStore, type QueuedInsert } from '../../src/db/outbox.ts';
import { memoryDatabase } from '../support/databases.ts';

const NOW = 1_700_000_000_000;

const row = fc.record({
  recipient: fc.integer({ min: 0, max: 9_999_999 }).map((n) => `+2237${String(n).padStart(7, '0')}`),
  text: fc.string({ minLength: 1, maxLength: 40 }),
  language: fc.constantFrom('fr' as const, 'bm' as const),
  encoding: fc.constantFrom('GSM-7' as const, 'UCS-2' as const),
  segments: fc.integer({ min: 1, max: 6 }),
  kind: fc.constantFrom('transactional' as const, 'reminder' as const, 'campaign' as const),
  nextAttemptMs: fc.integer({ min: 0, max: 2 ** 40 }),
  expiresMs: fc.integer({ min: 0, max: 2 ** 40 }),
  campaignId: fc.constant(null),
  householdId: fc.constant(null),
  priority: fc.integer({ min: 0, max: 2 }),
  sourceKey: fc.constant(null),
});

function stored(db: ReturnType<typeof memoryDatabase>, id: number) {
  return db
    .prepare(
      `SELECT recipient, text, language, encoding, segments, kind, next_attempt_ms AS nextAttemptMs, expires_ms AS expiresMs,
         campaign_id AS campaignId, household_id AS householdId, priority, source_key AS sourceKey, status, created_ms, updated_ms
       FROM sms_outbox WHERE id = ?`,
    )
    .get(id);
}

describe('the outbox’s bulk insert', () => {
  it('stores each row as given, whether its hundred shares encoding, kind and priority or not', () => {
    fc.assert(
      fc.property(
        row,
        fc.array(fc.tuple(fc.nat(259), fc.constantFrom('encoding' as const, 'kind' as const, 'priority' as const)), { maxLength: 4 }),
        fc.integer({ min: 1, max: 260 }),
        (common, odd, n) => {
          const db = memoryDatabase();
          const store = createOutboxStore(db);
          // Mostly one shape (a campaign's chunk), with a few rows that break their hundred's sharing.
          const rows: QueuedInsert[] = Array.from({ length: n }, (_, i) => ({
            ...common,
            recipient: `+2237${String(i).padStart(7, '0')}`,
          }));
          // Each odd row differs from the others in one of the values a hundred may share.
          const other = {
            encoding: common.encoding === 'GSM-7' ? 'UCS-2' : 'GSM-7',
            kind: common.kind === 'campaign' ? 'reminder' : 'campaign',
            priority: (common.priority + 1) % 3,
          } as const;
          for (const [at, field] of odd) if (at < n) rows[at] = { ...(rows[at] as QueuedInsert), [field]: other[field] };
          const ids = store.insertQueued(rows, NOW);
          expect(new Set(ids).size).toBe(n);
          rows.forEach((r, i) =>
            expect(stored(db, ids[i] as number)).toEqual({ ...r, status: 'queued', created_ms: NOW, updated_ms: NOW }),
          );
          db.close();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('stores a campaign’s hundred with its campaign and households', () => {
    const db = memoryDatabase();
    db.exec(`INSERT INTO products VALUES ('p', 'P'); INSERT INTO mutuelles VALUES ('m', 'M', 'D', 100, 'p');`);
    const household = db.prepare(
      `INSERT INTO households (card_number, adherent_name, phone, language, mutuelle_id, joined_on, created_at, updated_at)
       VALUES (?, 'H', ?, 'fr', 'm', '2026-01-01', 'x', 'x')`,
    );
    for (let i = 1; i <= 100; i++) household.run(`C-${i}`, `+2237${String(i).padStart(7, '0')}`);
    db.prepare(`INSERT INTO campaigns (id, name, audience, messages, created_at, updated_at) VALUES (7, 'c', '{}', '{}', 'x', 'x')`).run();
    const store = createOutboxStore(db);
    const rows: QueuedInsert[] = Array.from({ length: 100 }, (_, i) => ({
      recipient: `+2237${String(i + 1).padStart(7, '0')}`,
      text: `Bonjour ${i}`,
      language: i % 3 === 0 ? 'bm' : 'fr',
      encoding: 'GSM-7',
      segments: 1,
      kind: 'campaign',
      nextAttemptMs: NOW + i * 1000,
      expiresMs: NOW + i * 1000 + 86_400_000,
      campaignId: 7,
      householdId: i + 1,
      priority: 2,
      sourceKey: null,
    }));
    const ids = store.insertQueued(rows, NOW);
    rows.forEach((r, i) => expect(stored(db, ids[i] as number)).toEqual({ ...r, status: 'queued', created_ms: NOW, updated_ms: NOW }));
    db.close();
  });
});
