import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connection.ts';
import { computeKpis, type Kpis, kpisToCsv } from '../../src/office/kpi.ts';
import { fixtureDb, PERIOD } from './kpi-fixture.ts';

/**
 * The claims figures on the hand-worked network of kpi-fixture.ts (contributions in the period:
 * m1 7 000 FCFA, m2 none, m3 1 500), with two facilities and five claims:
 * - F1 (district A): H1's visit of 20 December 2025 (3 000, approved, paid 5 January: 16 days),
 *   of 10 February (1 500, approved, paid 20 February: 10 days), of 1 March (2 000, pending);
 * - F2 (district B): H5's visit of 5 March (1 000, rejected); H4's of 11 March, after the period (500).
 */
let db: Db;
let k: Kpis;
const mutuelle = (id: string) => k.mutuelles.find((m) => m.id === id)!;

beforeAll(() => {
  db = fixtureDb();
  db.exec(`
    INSERT INTO facilities (id, code, name, kind, district, payment_msisdn, created_at) VALUES
      (1, 'F1', 'CSCom Un', 'cscom', 'A', '+22379000001', ''), (2, 'F2', 'CSRef Deux', 'csref', 'B', '+22379000002', '');
    INSERT INTO facility_agents (id, facility_id, phone, name, created_at) VALUES (1, 1, '+22377000001', 'a', ''), (2, 2, '+22377000002', 'b', '');
    INSERT INTO staff (id, email, name, role, password_hash, created_at) VALUES (1, 'o@x', 'O', 'officer', 'x', ''), (2, 'm@x', 'M', 'manager', 'x', '');
  `);
  const beneficiaryOf = (h: number) => db.prepare('SELECT MIN(id) FROM beneficiaries WHERE household_id = ?').pluck().get(h);
  const claim = db.prepare(
    `INSERT INTO claims (id, request_key, facility_id, agent_id, household_id, beneficiary_id, care, tariff, amount, visit_on, recorded_at, status)
     VALUES (?, ?, ?, ?, ?, ?, 'consultation', 5000, ?, ?, '', ?)`,
  );
  const visit = (id: number, facility: number, h: number, amount: number, day: string, status: string) =>
    claim.run(id, `k${id}`, facility, facility, h, beneficiaryOf(h), amount, day, status);
  visit(1, 1, 1, 3000, '2025-12-20', 'approved');
  visit(2, 1, 1, 1500, '2026-02-10', 'approved');
  visit(3, 1, 1, 2000, '2026-03-01', 'pending');
  visit(4, 2, 5, 1000, '2026-03-05', 'rejected');
  visit(5, 2, 4, 500, '2026-03-11', 'pending');
  const paid = (batch: number, claimId: number, amount: number, day: string) => {
    db.prepare(
      `INSERT INTO payment_batches (id, reference, facility_id, msisdn, amount, claims_count, status, prepared_by, prepared_at,
         approved_by, approved_at, attempts, updated_at) VALUES (?, ?, 1, '+22379000001', ?, 1, 'approved', 1, '', 2, '', 1, '')`,
    ).run(batch, `B${batch}`, amount);
    db.prepare('UPDATE claims SET batch_id = ? WHERE id = ?').run(batch, claimId);
    db.prepare(`UPDATE payment_batches SET status = 'paid' WHERE id = ?`).run(batch);
    db.prepare(
      `INSERT INTO disbursement_ledger (batch_id, facility_id, reference, msisdn, amount, operator_txn_id, paid_on, paid_at, recorded_at)
       VALUES (?, 1, ?, '+22379000001', ?, ?, ?, ?, ?)`,
    ).run(batch, `B${batch}`, amount, `T${batch}`, day, `${day}T10:00:00Z`, `${day}T10:00:00Z`);
  };
  paid(1, 1, 3000, '2026-01-05');
  paid(2, 2, 1500, '2026-02-20');
  k = computeKpis(db, PERIOD);
});
afterAll(() => db.close());

describe('claims in the figures', () => {
  it('per mutuelle: claims of the period’s visits by status, claims paid in the period, days to payment and the loss ratio', () => {
    expect(mutuelle('m1').claims).toEqual({
      claimed: { count: 2, amount: 3500 },
      pending: { count: 1, amount: 2000 },
      approved: { count: 1, amount: 1500 },
      rejected: { count: 0, amount: 0 },
      // Paid in the period, the December visit included.
      paid: { count: 2, amount: 4500 },
      meanDaysToPayment: 13,
      lossRatio: 4500 / 7000,
    });
    expect(mutuelle('m3').claims).toMatchObject({
      claimed: { count: 1, amount: 1000 },
      rejected: { count: 1, amount: 1000 },
      paid: { count: 0, amount: 0 },
    });
    expect(mutuelle('m3').claims.lossRatio).toBe(0);
    expect(mutuelle('m3').claims.meanDaysToPayment).toBeNull();
    // No contribution received: no ratio, rather than a division by zero.
    expect(mutuelle('m2').claims.lossRatio).toBeNull();
    expect(k.totals.claims).toMatchObject({
      claimed: { count: 3, amount: 4500 },
      paid: { count: 2, amount: 4500 },
      lossRatio: 4500 / 8500,
    });
    expect(k.districts.find((d) => d.district === 'A')!.claims.lossRatio).toBe(4500 / 7000);
  });

  it('per facility and month: claims in the month of the visit, payments in the month of the payment', () => {
    const rows = k.facilities.map((f) => [
      f.code,
      f.months.map((m) => [m.month, m.claimed.amount, m.approved.amount, m.pending.amount, m.rejected.amount, m.paid.amount]),
    ]);
    expect(rows).toEqual([
      [
        'F1',
        [
          ['2026-01', 0, 0, 0, 0, 3000],
          ['2026-02', 1500, 1500, 0, 0, 1500],
          ['2026-03', 2000, 0, 2000, 0, 0],
        ],
      ],
      ['F2', [['2026-03', 1000, 0, 0, 1000, 0]]],
    ]);
    expect(k.facilities[0]!.total).toMatchObject({
      claimed: { count: 2, amount: 3500 },
      paid: { count: 2, amount: 4500 },
      meanDaysToPayment: 13,
    });
    expect(k.facilities[0]!.months[0]!.meanDaysToPayment).toBe(16);
  });

  it('a district keeps its facilities and the claims of its members only', () => {
    const b = computeKpis(db, { ...PERIOD, district: 'B' });
    expect(b.facilities.map((f) => [f.code, f.total.claimed.amount])).toEqual([['F2', 1000]]);
    expect(b.totals.claims.claimed).toEqual({ count: 1, amount: 1000 });
    const m1 = computeKpis(db, { ...PERIOD, mutuelleId: 'm1' });
    // F2 is listed (no district asked) with nothing of m1's members.
    expect(m1.facilities.map((f) => [f.code, f.total.claimed.count])).toEqual([
      ['F1', 2],
      ['F2', 0],
    ]);
  });

  it('the CSV has the loss ratio per level and the claims per facility and month', () => {
    const csv = kpisToCsv(k, ['claims', 'claims_by_facility_month']);
    const [claims, perFacility] = csv.split('\n\n').map((block) => parse(block.replace(/^# .*\n/, ''), { columns: true })) as [
      Array<Record<string, string>>,
      Array<Record<string, string>>,
    ];
    expect(claims.find((r) => r.mutuelle_id === 'm1')).toMatchObject({
      claimed_fcfa: '3500',
      paid_fcfa: '4500',
      contributions_fcfa: '7000',
      loss_ratio: '0.642857',
      mean_days_to_payment: '13',
    });
    expect(perFacility.filter((r) => r.facility_code === 'F1').map((r) => [r.month, r.paid_fcfa])).toEqual([
      ['2026-01', '3000'],
      ['2026-02', '1500'],
      ['2026-03', '0'],
      ['total', '4500'],
    ]);
  });
});
