import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { createClaimStore } from '../../src/db/claims.ts';
import type { Db } from '../../src/db/connection.ts';
import { createFacilityStore } from '../../src/db/facilities.ts';
import { createHouseholdStore } from '../../src/db/households.ts';
import { seedDemo } from '../../src/db/seed.ts';
import { tariffsOn } from '../../src/domain/care.ts';
import { memoryDatabase } from '../support/databases.ts';

describe('facilities, agents and claims (their owners in src/db)', () => {
  const clock = new ManualClock('2026-12-03T09:00:00Z');
  let db: Db;
  afterEach(() => db.close());
  const open = () => {
    db = memoryDatabase();
    seedDemo(db, clock);
    return { facilities: createFacilityStore(db), claims: createClaimStore(db), households: createHouseholdStore(db) };
  };

  it('seeds one CSCom per district with its agent, the mutuelles it serves and the products’ tariffs; seeding again adds nothing', () => {
    const { facilities } = open();
    expect(facilities.facilities().map((f) => [f.code, f.kind, f.district, f.mutuelleIds.length])).toEqual([
      ['CSCOM-MPE', 'cscom', 'Koutiala', 3],
      ['CSCOM-KLE', 'cscom', 'Sikasso', 4],
    ]);
    expect(facilities.agentByPhone('+22377000001')).toMatchObject({
      name: 'Mariam Diarra',
      language: 'fr',
      district: 'Sikasso',
      facilityKind: 'cscom',
    });
    expect(facilities.agentByPhone('+22377000002')).toMatchObject({ language: 'bm', district: 'Koutiala' });
    expect(facilities.agentByPhone('+22376000001')).toBeUndefined();
    expect(tariffsOn(facilities.tariffVersions('rural'), '2026-12-03').map((t) => [t.care, t.unit, t.tariff])).toEqual([
      ['consultation', 'visit', 1500],
      ['delivery', 'visit', 7500],
      ['hospitalisation', 'day', 3000],
    ]);
    seedDemo(db, clock);
    expect(facilities.facilities()).toHaveLength(2);
    expect(facilities.agentsOf(facilities.facilityByCode('CSCOM-KLE')!.id)).toHaveLength(1);
  });

  it('an agent deactivated no longer gets the facility menu, and the phone can be registered again', () => {
    const { facilities } = open();
    const agent = facilities.agentByPhone('+22377000001')!;
    expect(facilities.deactivateAgent(agent.id)).toBe(true);
    expect(facilities.deactivateAgent(agent.id)).toBe(false);
    expect(facilities.agentByPhone('+22377000001')).toBeUndefined();
    const again = facilities.addAgent(
      { facilityId: agent.facilityId, phone: '+22377000001', name: 'Mariam D.', language: 'bm' },
      clock.now(),
    );
    expect(facilities.agentByPhone('+22377000001')?.id).toBe(again);
    expect(() =>
      facilities.addAgent({ facilityId: agent.facilityId, phone: '+22377000001', name: 'X', language: 'fr' }, clock.now()),
    ).toThrow(/UNIQUE/);
  });

  it('records a visit once per request key, finds the same visit, takes the member’s NON once and a decision once', () => {
    const { facilities, claims, households } = open();
    const agent = facilities.agentByPhone('+22377000001')!;
    const h = households.findByPhone('+22376000001')!;
    const patient = households.load(h.id)!.beneficiaries[1]!;
    const visit = {
      facilityId: agent.facilityId,
      agentId: agent.id,
      householdId: h.id,
      beneficiaryId: patient.id,
      care: 'consultation' as const,
      days: 1,
      tariff: 1500,
      amount: 1500,
      visitOn: '2026-12-03',
    };
    const first = claims.record({ ...visit, requestKey: 'ussd:s1:3' }, clock.now());
    expect(claims.record({ ...visit, requestKey: 'ussd:s1:3', amount: 900 }, clock.now())).toEqual(first);
    expect(first).toMatchObject({ status: 'pending', amount: 1500, disputedAt: null, recordedAt: '2026-12-03T09:00:00.000Z' });
    expect(claims.sameVisit(first)).toEqual([]);
    const second = claims.record({ ...visit, requestKey: 'ussd:s2:3' }, clock.now());
    expect(claims.sameVisit(second).map((c) => c.id)).toEqual([first.id]);
    expect(claims.queue(agent.facilityId, 'pending').map((c) => c.id)).toEqual([first.id, second.id]);

    clock.advance(60_000);
    expect(claims.disputeLatest(h.id, new Date('2026-12-01T00:00:00Z'), null, clock.now())).toBe(second.id);
    expect(claims.disputeLatest(h.id, new Date('2026-12-01T00:00:00Z'), null, clock.now())).toBe(first.id);
    expect(claims.disputeLatest(h.id, new Date('2026-12-01T00:00:00Z'), null, clock.now())).toBeNull();
    expect(claims.get(first.id)?.disputedAt).toBe('2026-12-03T09:01:00.000Z');

    const staffId = Number(
      db.prepare(`INSERT INTO staff (email, name, role, password_hash, created_at) VALUES ('o@utm.ml', 'O', 'officer', 'x', '')`).run()
        .lastInsertRowid,
    );
    expect(claims.decide(first.id, 'rejected', staffId, 'not the member', clock.now())).toBe(true);
    expect(claims.decide(first.id, 'approved', staffId, null, clock.now())).toBe(false);
    expect(claims.get(first.id)).toMatchObject({ status: 'rejected', decidedBy: staffId, decisionReason: 'not the member' });
  });
});
