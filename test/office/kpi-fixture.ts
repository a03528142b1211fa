// A small network whose figures can be worked out by hand (see kpi.test.ts for the arithmetic).
import { type Db, openDatabase } from '../../src/db/connection.ts';
import { createHouseholdStore } from '../../src/db/households.ts';

export const TODAY = '2026-03-10';
export const PERIOD = { from: '2026-01-01', to: '2026-03-10', today: TODAY };
export const PHONES = {
  h1: '+22370000001',
  h2: '+22370000002',
  h3: '+22370000003',
  h4: '+22370000004',
  h5: '+22370000005',
  stranger: '+22370000099',
};

/**
 * Product: 12 000 FCFA a year (1 000 a month, 500 subsidised), waiting 30 days, grace 15 days.
 * District A: m1 (target 100), m2 (target 50). District B: m3 (target 40).
 */
export function fixtureDb(path = ':memory:'): Db {
  const db = openDatabase(path);
  db.exec(`
    INSERT INTO products (id, name) VALUES ('p', 'Produit');
    INSERT INTO product_parameters VALUES ('p', '2025-01-01', 12000, 50, 0, 30, 15);
    INSERT INTO mutuelles VALUES ('m1', 'Mutuelle Un', 'A', 100, 'p'), ('m2', 'Mutuelle Deux', 'A', 50, 'p'), ('m3', 'Mutuelle Trois', 'B', 40, 'p');
  `);
  const household = db.prepare(
    `INSERT INTO households (id, card_number, adherent_name, phone, mutuelle_id, joined_on, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, '2025-01-01', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')`,
  );
  const beneficiary = db.prepare('INSERT INTO beneficiaries (household_id, name, relation, subsidised, active) VALUES (?, ?, ?, ?, ?)');
  const contribution = db.prepare(
    `INSERT INTO contributions (household_id, amount, channel, operator_txn_id, paid_on, paid_at, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const pay = (h: number, amount: number, channel: string, day: string) =>
    contribution.run(
      h,
      amount,
      channel,
      channel === 'orange_money' ? `T-${h}-${day}` : null,
      day,
      `${day}T10:00:00.000Z`,
      `${day}T10:00:00.000Z`,
    );
  const payment = db.prepare(
    `INSERT INTO payments (reference, household_id, payer_msisdn, amount, fee, fee_bearer, total, fee_grid, status, failure_reason, created_at, updated_at)
     VALUES (?, ?, ?, ?, 0, 'member', ?, 'g', ?, ?, ?, ?)`,
  );
  const attempt = (ref: string, h: number, amount: number, status: string, reason: string | null, at: string) =>
    payment.run(ref, h, `+2237000000${h}`, amount, amount, status, reason, at, at);
  const sms = db.prepare(
    `INSERT INTO sms_outbox (recipient, text, language, encoding, segments, kind, priority, status, next_attempt_ms, expires_ms,
       provider_message_id, cost, created_ms, updated_ms) VALUES (?, 'x', 'fr', 'GSM-7', ?, 'transactional', 0, ?, 0, 0, ?, ?, ?, ?)`,
  );
  const text = (to: string, segments: number, status: string, providerId: string | null, cost: string | null, at: string) =>
    sms.run(to, segments, status, providerId, cost, Date.parse(at), Date.parse(at));
  const session = db.prepare(
    `INSERT INTO ussd_sessions (session_id, phone, service_code, machine, version, snapshot, state, home, hops, last_text, last_reply, status, created_ms, updated_ms)
     VALUES (?, ?, '*384*123#', ?, 1, ?, ?, 'main', 2, '', '', ?, ?, ?)`,
  );
  // The state beside the snapshot, as the engine writes both.
  const dial = (id: string, phone: string, machine: string, value: string, status: string, at: string) =>
    session.run(id, phone, machine, JSON.stringify({ status: 'active', value }), value, status, Date.parse(at), Date.parse(at));
  const event = db.prepare('INSERT INTO ussd_session_events (session_id, phone, status, received_at) VALUES (?, ?, ?, ?)');

  db.transaction(() => {
    // H1 (m1): 2 full + 1 subsidised active, 1 inactive: 2 500 a month.
    household.run(1, 'C1', 'Un', PHONES.h1, 'm1');
    beneficiary.run(1, 'a', 'adherent', 0, 1);
    beneficiary.run(1, 'b', 'spouse', 0, 1);
    beneficiary.run(1, 'c', 'child', 1, 1);
    beneficiary.run(1, 'd', 'child', 0, 0);
    pay(1, 5000, 'cash', '2025-12-05'); // December and January; waiting until 2026-01-03
    pay(1, 5000, 'orange_money', '2026-02-03'); // February and March
    // H2 (m1): 1 full: 1 000 a month.
    household.run(2, 'C2', 'Deux', PHONES.h2, 'm1');
    beneficiary.run(2, 'a', 'adherent', 0, 1);
    pay(2, 1000, 'orange_money', '2025-11-10'); // November, grace until 15 December
    pay(2, 2000, 'orange_money', '2026-01-20'); // lapsed: restarts in January, January and February; waiting until 2026-02-18; grace until 15 March
    // H3 (m2): 2 subsidised: 1 000 a month; covered in October 2025 only.
    household.run(3, 'C3', 'Trois', PHONES.h3, 'm2');
    beneficiary.run(3, 'a', 'adherent', 1, 1);
    beneficiary.run(3, 'b', 'child', 1, 1);
    pay(3, 1000, 'cash', '2025-10-01');
    // H4 (m3): 1 full, never paid.
    household.run(4, 'C4', 'Quatre', PHONES.h4, 'm3');
    beneficiary.run(4, 'a', 'adherent', 0, 1);
    // H5 (m3): 1 full + 1 subsidised: 1 500 a month; pays March on the 1st: waiting until 30 March.
    household.run(5, 'C5', 'Cinq', PHONES.h5, 'm3');
    beneficiary.run(5, 'a', 'adherent', 0, 1);
    beneficiary.run(5, 'b', 'child', 1, 1);
    pay(5, 1500, 'agent', '2026-03-01');

    attempt('R0', 2, 1000, 'succeeded', null, '2025-11-10T10:00:00.000Z'); // before the period
    attempt('R1', 1, 5000, 'succeeded', null, '2026-02-03T10:00:00.000Z');
    attempt('R2', 2, 2000, 'succeeded', null, '2026-01-20T10:00:00.000Z');
    attempt('R3', 2, 2000, 'failed', 'insufficient_funds', '2026-01-19T10:00:00.000Z');
    attempt('R4', 2, 2000, 'expired', 'no answer', '2026-01-19T11:00:00.000Z');
    attempt('R5', 1, 500, 'cancelled', null, '2026-01-05T11:00:00.000Z');
    attempt('R6', 5, 500, 'failed', 'insufficient_funds', '2026-03-10T23:59:59.000Z'); // last instant of the period

    text(PHONES.h1, 1, 'delivered', 'AT1', 'XOF 25.0000', '2026-02-03T10:00:00Z');
    text(PHONES.h2, 2, 'failed', 'AT2', 'XOF 25.0000', '2026-01-20T10:00:00Z');
    text(PHONES.h3, 1, 'queued', null, null, '2026-03-09T10:00:00Z');
    text(PHONES.stranger, 1, 'delivered', 'AT3', 'XOF 25.0000', '2026-03-01T10:00:00Z');
    text(PHONES.h1, 1, 'delivered', 'AT0', 'XOF 25.0000', '2025-12-31T23:59:59Z'); // before the period

    dial('s1', PHONES.h1, 'main', 'menu', 'ended', '2026-02-01T10:00:00Z');
    dial('s2', PHONES.h1, 'coverage', 'summary', 'open', '2026-02-02T10:00:00Z');
    dial('s3', PHONES.h2, 'contribute', 'quote', 'open', '2026-02-03T10:00:00Z');
    dial('s4', PHONES.stranger, 'register', 'menu', 'open', '2026-03-03T10:00:00Z');
    dial('s5', PHONES.h2, 'contribute', 'quote', 'open', '2026-03-11T00:00:00Z'); // after the period
    event.run('s1', PHONES.h1, 'Success', '2026-02-01T10:01:00Z');
    event.run('s3', PHONES.h2, 'Incomplete', '2026-02-03T10:01:00Z');
    event.run('s4', PHONES.stranger, 'Failed', '2026-03-03T10:01:00Z');
  })();
  // Inserted past the household store: the coverage read model is built from them once.
  createHouseholdStore(db).rebuildCoverage();
  return db;
}
