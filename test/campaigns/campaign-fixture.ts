import { createCampaigns } from '../../src/campaigns/campaigns.ts';
import { ManualClock } from '../../src/clock.ts';
import { createHouseholdStore } from '../../src/db/households.ts';
import { seedDemo } from '../../src/db/seed.ts';
import type { Language } from '../../src/i18n/catalog.ts';
import { createLogger } from '../../src/log.ts';
import { createDispatcher } from '../../src/sms/dispatcher.ts';
import { createOutbox } from '../../src/sms/outbox.ts';
import type { RecipientOutcome, SmsTransport } from '../../src/sms/transport.ts';
import { tempDb } from '../support/sms-db.ts';

export const START = '2026-03-10T09:00:00Z';

export interface MemberSpec {
  phone?: string;
  language?: Language;
  /** A rural mutuelle by default (500 FCFA a month for the adherent alone). */
  mutuelleId?: string;
  name?: string;
  payments?: Array<{ amount: number; paidOn: string }>;
}

/** Members beyond the demo's four: +22377000000 + i, lapsed unless they paid. */
export const memberPhone = (i: number) => `+22377${String(i).padStart(6, '0')}`;

/**
 * A seeded database with extra members, the outbox, campaigns (small chunks, so a test can pause
 * between them) and a dispatcher whose gateway accepts everything and records what it got.
 */
export function campaignWorld(members: MemberSpec[], opts: { chunkSize?: number; hours?: { startHour: number; endHour: number } } = {}) {
  const t = tempDb('sabatili-campaign-');
  const clock = new ManualClock(START);
  seedDemo(t.db, clock);
  const households = createHouseholdStore(t.db);
  const ids = members.map((m, i) => {
    const id = households.create(
      {
        cardNumber: `TEST-${i}`,
        adherentName: m.name ?? `Awa${i} Keita`,
        phone: m.phone ?? memberPhone(i),
        language: m.language ?? 'fr',
        mutuelleId: m.mutuelleId ?? 'sik-klela',
        joinedOn: '2025-01-01',
        beneficiaries: [{ name: m.name ?? `Awa${i} Keita`, relation: 'adherent', subsidised: false }],
      },
      clock.now(),
    );
    for (const p of m.payments ?? []) {
      households.addContribution(
        {
          householdId: id,
          amount: p.amount,
          fee: 0,
          channel: 'cash',
          operatorTxnId: null,
          paidOn: p.paidOn,
          paidAt: `${p.paidOn}T09:00:00.000Z`,
        },
        clock.now(),
      );
    }
    return id;
  });
  const outbox = createOutbox(t.db, clock, { foldMode: 'gsm7', allowUcs2: false });
  const campaigns = createCampaigns({
    db: t.db,
    clock,
    outbox,
    serviceCode: '*384*123#',
    costPerSegmentFcfa: 20,
    chunkSize: opts.chunkSize ?? 5,
    ...(opts.hours ? { hours: opts.hours } : {}),
  });
  const received: Array<{ to: string; text: string; messageId: number }> = [];
  const transport: SmsTransport = {
    name: 'simulator',
    maxBatch: 100,
    send: async (batch) =>
      batch.recipients.map((r): RecipientOutcome => {
        received.push({ to: r.to, text: batch.text, messageId: r.messageId });
        return { messageId: r.messageId, to: r.to, outcome: 'accepted', providerId: `gw-${r.messageId}`, cost: 'XOF 20', code: 101 };
      }),
  };
  const dispatcher = createDispatcher(t.db, transport, clock, createLogger('silent'), {
    ratePerSecond: 0,
    dailyCap: 0,
    bulkSize: 100,
    maxAttempts: 3,
    retryBaseMs: 1000,
    pollMs: 100,
    staleSendingMs: 30_000,
  });
  /** The campaign's outbox rows, oldest first. */
  const rows = (campaignId: number) =>
    t.db
      .prepare(
        `SELECT id, recipient, text, language, segments, status, next_attempt_ms AS nextAttemptMs FROM sms_outbox WHERE campaign_id = ? ORDER BY id`,
      )
      .all(campaignId) as Array<{
      id: number;
      recipient: string;
      text: string;
      language: Language;
      segments: number;
      status: string;
      nextAttemptMs: number;
    }>;
  return { db: t.db, clock, outbox, campaigns, dispatcher, received, ids, rows, cleanup: () => t.cleanup() };
}
