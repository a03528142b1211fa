import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connection.ts';
import { Refusal } from '../../src/domain/refusal.ts';
import { computeKpis, type Kpis, kpisToCsv, kpiTables } from '../../src/office/kpi.ts';
import { fixtureDb, PERIOD } from './kpi-fixture.ts';

let db: Db;
let k: Kpis;
const mutuelle = (id: string) => k.mutuelles.find((m) => m.id === id)!;
const district = (name: string) => k.districts.find((d) => d.district === name)!;

beforeAll(() => {
  db = fixtureDb();
  k = computeKpis(db, PERIOD);
});
afterAll(() => db.close());

describe('computeKpis on a network worked out by hand', () => {
  it('penetration today: covered persons (active, waiting, grace) over the target, per mutuelle, district and in total', () => {
    // H1 active (3 persons), H2 grace (1), H5 waiting (2); H3 lapsed, H4 never covered.
    expect(mutuelle('m1').penetration).toMatchObject({ coveredPersons: 4, rate: 4 / 100 });
    expect(mutuelle('m2').penetration).toMatchObject({ coveredPersons: 0, rate: 0 });
    expect(mutuelle('m3').penetration).toMatchObject({ coveredPersons: 2, rate: 2 / 40 });
    expect(district('A')).toMatchObject({ targetPopulation: 150, penetration: { coveredPersons: 4, rate: 4 / 150 } });
    expect(district('B')).toMatchObject({ targetPopulation: 40, penetration: { coveredPersons: 2, rate: 2 / 40 } });
    expect(k.totals).toMatchObject({ targetPopulation: 190, penetration: { coveredPersons: 6, rate: 6 / 190 } });
  });

  it('the trend is the figure at the end of each month, the last one on `to`', () => {
    expect(k.trendDays).toEqual(['2026-01-31', '2026-02-28', '2026-03-10']);
    // 31 January: H1 active (3), H2 waiting (1); H5 has not paid yet. 28 February: H1, H2 active. 10 March: + H5 waiting (2).
    expect(k.totals.penetration.trend.map((t) => t.coveredPersons)).toEqual([4, 4, 6]);
    expect(mutuelle('m3').penetration.trend.map((t) => t.coveredPersons)).toEqual([0, 0, 2]);
    expect(mutuelle('m1').penetration.trend.map((t) => t.rate)).toEqual([0.04, 0.04, 0.04]);
  });

  it('households and beneficiaries by status today', () => {
    expect(k.totals.households).toEqual({ active: 1, waiting: 1, grace: 1, lapsed: 2, neverCovered: 1, total: 5 });
    expect(k.totals.beneficiaries).toEqual({ active: 3, waiting: 2, grace: 1, lapsed: 3, inactive: 1, total: 10 });
    expect(mutuelle('m1').households).toEqual({ active: 1, waiting: 0, grace: 1, lapsed: 0, neverCovered: 0, total: 2 });
    expect(mutuelle('m2').beneficiaries).toEqual({ active: 0, waiting: 0, grace: 0, lapsed: 2, inactive: 0, total: 2 });
  });

  it('subsidised share among covered persons and among active beneficiaries', () => {
    expect(k.totals.subsidised).toEqual({ covered: 2, coveredShare: 2 / 6, active: 4, activeShare: 4 / 9 });
    expect(mutuelle('m2').subsidised).toEqual({ covered: 0, coveredShare: null, active: 2, activeShare: 1 });
  });

  it('contributions of the period per month and channel, and the mobile-money share', () => {
    const months = k.totals.contributions.months.map((m) => [
      m.month,
      m.count,
      m.amount,
      m.byChannel.orange_money.amount,
      m.byChannel.agent.amount,
    ]);
    expect(months).toEqual([
      ['2026-01', 1, 2000, 2000, 0],
      ['2026-02', 1, 5000, 5000, 0],
      ['2026-03', 1, 1500, 0, 1500],
    ]);
    expect(k.totals.contributions.total).toMatchObject({ count: 3, amount: 8500 });
    expect(k.totals.contributions.mobileMoneyShare).toEqual({ count: 2 / 3, amount: 7000 / 8500 });
    expect(mutuelle('m2').contributions.total.count).toBe(0);
    expect(mutuelle('m2').contributions.mobileMoneyShare).toEqual({ count: null, amount: null });
  });

  it('payments: success rate over the decided ones, failure reasons', () => {
    expect(mutuelle('m1').payments.byStatus).toEqual({
      initiated: 0,
      pending: 0,
      succeeded: 2,
      failed: 1,
      expired: 1,
      cancelled: 1,
      review: 0,
    });
    expect(mutuelle('m1').payments.successRate).toBe(0.5);
    expect(mutuelle('m1').payments.amountSucceeded).toBe(7000);
    expect(k.totals.payments.successRate).toBe(2 / 5);
    expect(k.totals.payments.failureReasons).toEqual([
      { status: 'failed', reason: 'insufficient_funds', count: 2 },
      { status: 'expired', reason: 'no answer', count: 1 },
    ]);
  });

  it('SMS sent, delivered and cost; a number that is no member counted apart', () => {
    expect(mutuelle('m1').sms).toEqual({
      messages: 2,
      sent: 2,
      delivered: 1,
      failed: 1,
      expired: 0,
      waiting: 0,
      deliveryRate: 0.5,
      segments: 3,
      cost: { XOF: 50 },
    });
    expect(mutuelle('m2').sms).toMatchObject({ messages: 1, sent: 0, waiting: 1, deliveryRate: null, cost: {} });
    expect(k.nonMembers.sms).toMatchObject({ messages: 1, sent: 1, delivered: 1, cost: { XOF: 25 } });
    expect(k.totals.sms).toMatchObject({ messages: 4, sent: 3, delivered: 2, deliveryRate: 2 / 3, segments: 4, cost: { XOF: 75 } });
  });

  it('USSD sessions, completion rate, drop-off per screen and the gateway notifications', () => {
    expect(mutuelle('m1').ussd).toEqual({
      sessions: 3,
      completed: 1,
      completionRate: 1 / 3,
      dropOff: [
        { screen: 'contribute.quote', sessions: 1 },
        { screen: 'coverage.summary', sessions: 1 },
      ],
      gateway: { Success: 1, Incomplete: 1, Failed: 0 },
    });
    expect(k.nonMembers.ussd).toMatchObject({
      sessions: 1,
      completed: 0,
      dropOff: [{ screen: 'register.menu', sessions: 1 }],
      gateway: { Failed: 1 },
    });
    expect(k.totals.ussd).toMatchObject({ sessions: 4, completed: 1, completionRate: 0.25 });
  });

  it('a district or a mutuelle alone: the same figures for it, and no non-members in its totals', () => {
    const b = computeKpis(db, { ...PERIOD, district: 'B' });
    expect(b.mutuelles.map((m) => m.id)).toEqual(['m3']);
    const { district: _name, ...figuresOfB } = district('B');
    expect(b.totals).toEqual(figuresOfB);
    const m1 = computeKpis(db, { ...PERIOD, mutuelleId: 'm1' });
    expect(m1.totals.sms.messages).toBe(2);
    expect(m1.totals.penetration.coveredPersons).toBe(4);
  });

  it('refuses a bad day, an inverted period and an unknown district with a Refusal naming the field', () => {
    expect(() => computeKpis(db, { ...PERIOD, from: '2026-02-30' })).toThrow(Refusal);
    expect(() => computeKpis(db, { ...PERIOD, from: '2026-03-11', to: '2026-03-01' })).toThrow(/inverted/);
    expect(() => computeKpis(db, { ...PERIOD, district: 'Kayes' })).toThrow(/no district "Kayes"/);
    expect(() => computeKpis(db, { ...PERIOD, mutuelleId: 'nope' })).toThrow(Refusal);
    const fieldOf = (opts: Partial<typeof PERIOD> & { district?: string; mutuelleId?: string }) => {
      try {
        computeKpis(db, { ...PERIOD, ...opts });
      } catch (err) {
        return err instanceof Refusal ? [err.field, err.status] : err;
      }
      return 'accepted';
    };
    expect(fieldOf({ from: '2026-02-30' })).toEqual(['from', 400]);
    expect(fieldOf({ district: 'Kayes' })).toEqual(['district', 400]);
    expect(fieldOf({ mutuelleId: 'nope' })).toEqual(['mutuelle', 400]);
  });

  it('is JSON as it is (no Map, no undefined) and the reminder and campaign conversions are present', () => {
    expect(JSON.parse(JSON.stringify(k))).toEqual(k);
    expect(k.conversions).toEqual({ reminders: [], campaigns: null });
  });
});

describe('kpisToCsv', () => {
  it('one section per figure, each a CSV table with the level of each row', () => {
    const csv = kpisToCsv(k);
    const sections = csv.split(/^# /m).filter(Boolean);
    expect(sections.map((s) => s.split('\n')[0])).toEqual(Object.keys(kpiTables(k)));
    const penetration = parse(sections[0]!.split('\n').slice(1).join('\n'), { columns: true, skip_empty_lines: true }) as Array<
      Record<string, string>
    >;
    expect(penetration.find((r) => r.level === 'total')).toMatchObject({
      target_population: '190',
      covered_persons: '6',
      rate: '0.031579',
    });
    expect(penetration.find((r) => r.mutuelle_id === 'm3')).toMatchObject({ district: 'B', covered_persons: '2', rate: '0.05' });
    const months = parse(sections[5]!.split('\n').slice(1).join('\n'), { columns: true, skip_empty_lines: true }) as Array<
      Record<string, string>
    >;
    expect(months.filter((r) => r.level === 'total').map((r) => [r.month, r.amount_fcfa, r.orange_money_amount_fcfa])).toEqual([
      ['2026-01', '2000', '2000'],
      ['2026-02', '5000', '5000'],
      ['2026-03', '1500', '0'],
    ]);
  });

  it('only the sections asked for', () => {
    expect(kpisToCsv(k, ['sms']).startsWith('# sms\nlevel,district,mutuelle_id,mutuelle,messages,')).toBe(true);
    expect(kpisToCsv(k, ['sms'])).not.toContain('# ussd');
  });
});
