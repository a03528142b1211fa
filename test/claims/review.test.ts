/**
 * The claims review's automatic checks, each found true and false (the pure rule), then computed
 * from the stores for the demo's households, and the decision's rules: a reason to reject, a reason
 * to approve a flagged claim, and one decision only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type ClaimFacts, checksPass, claimChecks, createClaimReview } from '../../src/claims/review.ts';
import { ManualClock } from '../../src/clock.ts';
import { createClaimStore } from '../../src/db/claims.ts';
import type { Db } from '../../src/db/connection.ts';
import { createFacilityStore } from '../../src/db/facilities.ts';
import { createHouseholdStore } from '../../src/db/households.ts';
import { seedDemo } from '../../src/db/seed.ts';
import type { CareTariff } from '../../src/domain/care.ts';
import { isRefusal, type Refusal } from '../../src/domain/refusal.ts';
import { memoryDatabase } from '../support/databases.ts';

const TARIFFS: CareTariff[] = [
  { care: 'consultation', effectiveFrom: '2024-01-01', unit: 'visit', tariff: 1500, maxDays: 1 },
  { care: 'consultation', effectiveFrom: '2026-07-01', unit: 'visit', tariff: 2000, maxDays: 1 },
  { care: 'hospitalisation', effectiveFrom: '2024-01-01', unit: 'day', tariff: 3000, maxDays: 15 },
];

/** A claim that passes every check; each test changes one fact. */
const facts = (change: Partial<ClaimFacts> = {}, claim: Partial<ClaimFacts['claim']> = {}): ClaimFacts => ({
  claim: { care: 'consultation', days: 1, amount: 1500, visitOn: '2026-03-10', disputedAt: null, ...claim },
  coverage: { status: 'active', paidThrough: '2026-04-30', waitingUntil: null, graceUntil: null },
  beneficiaryActive: true,
  sameVisit: [],
  tariffVersions: TARIFFS,
  serves: true,
  ...change,
});

describe('the checks of a claim', () => {
  it('all pass for a covered patient, alone that day, within the tariff, undisputed, at a facility serving the mutuelle', () => {
    const c = claimChecks(facts());
    expect(checksPass(c)).toBe(true);
    expect(c.tariff).toMatchObject({ ok: true, allowed: 1500 });
  });

  it('(a) cover on the visit day: waiting, grace and lapsed are not cover for care, nor a withdrawn patient', () => {
    const cover = (status: 'waiting' | 'grace' | 'lapsed') => ({ status, paidThrough: null, waitingUntil: '2026-04-09', graceUntil: null });
    expect(claimChecks(facts({ coverage: cover('waiting') })).covered).toMatchObject({
      ok: false,
      status: 'waiting',
      waitingUntil: '2026-04-09',
    });
    expect(claimChecks(facts({ coverage: cover('grace') })).covered).toMatchObject({ ok: false, status: 'grace' });
    expect(claimChecks(facts({ coverage: cover('lapsed') })).covered).toMatchObject({ ok: false, status: 'lapsed' });
    expect(claimChecks(facts({ beneficiaryActive: false })).covered).toMatchObject({ ok: false, status: 'withdrawn' });
    expect(claimChecks(facts({ coverage: undefined })).covered).toMatchObject({ ok: false, status: 'unknown' });
    expect(checksPass(claimChecks(facts({ coverage: cover('grace') })))).toBe(false);
  });

  it('(b) a duplicate visit is another claim for the same visit that was not rejected', () => {
    expect(claimChecks(facts({ sameVisit: [{ id: 7, status: 'pending' }] })).duplicate).toEqual({ ok: false, claimIds: [7] });
    expect(
      claimChecks(
        facts({
          sameVisit: [
            { id: 8, status: 'approved' },
            { id: 9, status: 'rejected' },
          ],
        }),
      ).duplicate,
    ).toEqual({
      ok: false,
      claimIds: [8],
    });
    expect(claimChecks(facts({ sameVisit: [{ id: 9, status: 'rejected' }] })).duplicate).toEqual({ ok: true, claimIds: [] });
  });

  it('(c) the amount is held to the tariff in force on the visit day, per day of stay up to its days', () => {
    expect(claimChecks(facts({}, { amount: 1501 })).tariff).toMatchObject({ ok: false, allowed: 1500 });
    // The July tariff does not apply to a March visit, and does to a July one.
    expect(claimChecks(facts({}, { amount: 2000 })).tariff.ok).toBe(false);
    expect(claimChecks(facts({}, { amount: 2000, visitOn: '2026-07-01' })).tariff).toMatchObject({ ok: true, allowed: 2000 });
    expect(claimChecks(facts({}, { care: 'hospitalisation', days: 3, amount: 9000 })).tariff).toMatchObject({ ok: true, allowed: 9000 });
    expect(claimChecks(facts({}, { care: 'hospitalisation', days: 20, amount: 60000 })).tariff).toMatchObject({
      ok: false,
      allowed: 45000,
    });
    expect(claimChecks(facts({}, { care: 'delivery', amount: 100 })).tariff).toEqual({ ok: false, allowed: null, tariff: null });
  });

  it('(d) the member answered NON', () => {
    expect(claimChecks(facts({}, { disputedAt: '2026-03-10T10:00:00.000Z' })).disputed).toEqual({
      ok: false,
      at: '2026-03-10T10:00:00.000Z',
    });
  });

  it("(e) the facility does not serve the household's mutuelle", () => {
    expect(claimChecks(facts({ serves: false })).mutuelle).toEqual({ ok: false });
  });
});

describe('the claims review service', () => {
  const clock = new ManualClock('2026-03-10T09:00:00Z');
  let db: Db;
  afterEach(() => db.close());
  const open = () => {
    db = memoryDatabase();
    seedDemo(db, clock);
    const households = createHouseholdStore(db);
    const facilities = createFacilityStore(db);
    const claims = createClaimStore(db);
    const agent = facilities.agentByPhone('+22377000001');
    if (!agent) throw new Error('no demo agent');
    let key = 0;
    /** A consultation at Kléla for the household on that phone, its `nth` beneficiary. */
    const visit = (phone: string, visitOn = '2026-03-10', nth = 0, amount = 1500) => {
      const h = households.findByPhone(phone);
      const b = h && households.load(h.id)?.beneficiaries[nth];
      if (!h || !b) throw new Error(`no household ${phone}`);
      return claims.record(
        {
          requestKey: `test:${++key}`,
          facilityId: agent.facilityId,
          agentId: agent.id,
          householdId: h.id,
          beneficiaryId: b.id,
          care: 'consultation',
          days: 1,
          tariff: 1500,
          amount,
          visitOn,
        },
        clock.now(),
      );
    };
    const staffId = Number(
      db.prepare(`INSERT INTO staff (email, name, role, password_hash, created_at) VALUES ('o@utm.ml', 'Awa', 'officer', 'x', '')`).run()
        .lastInsertRowid,
    );
    return { review: createClaimReview({ db, households, facilities, claims }), visit, claims, agent, staffId };
  };
  const refusal = (run: () => unknown): Refusal => {
    try {
      run();
    } catch (err) {
      if (isRefusal(err)) return err;
      throw err;
    }
    throw new Error('not refused');
  };

  it('computes the checks from the stores: covered Moussa, lapsed Aminata, Bakary in grace next month and from an unserved mutuelle', () => {
    const { review, visit, agent } = open();
    const moussa = visit('+22376000001', '2026-03-10', 1);
    const aminata = visit('+22376000002');
    const bakary = visit('+22376000003', '2026-04-05');
    const twice = visit('+22376000001', '2026-03-10', 1, 1800);
    const queue = review.queue(agent.facilityId);
    const of = (id: number) => queue.pending.find((c) => c.id === id);
    expect(of(moussa.id)).toMatchObject({
      patientName: 'Awa Coulibaly',
      patientBirthYear: 1985,
      cardNumber: 'SIK-KLE-0001',
      agentName: 'Mariam Diarra',
    });
    expect(of(moussa.id)?.checks.covered.ok).toBe(true);
    expect(of(moussa.id)?.checks.duplicate).toEqual({ ok: false, claimIds: [twice.id] });
    expect(of(aminata.id)?.checks).toMatchObject({
      covered: { ok: false, status: 'lapsed' },
      duplicate: { ok: true },
      mutuelle: { ok: true },
    });
    expect(of(bakary.id)?.checks).toMatchObject({
      covered: { ok: false, status: 'grace', paidThrough: '2026-03-31' },
      mutuelle: { ok: false },
    });
    expect(of(twice.id)?.checks.tariff).toMatchObject({ ok: false, allowed: 1500 });
    expect(review.counts()).toEqual([{ facilityId: agent.facilityId, status: 'pending', claims: 4, amount: 6300 }]);
  });

  it('wants a reason to reject, and to approve a flagged claim; decides once, with the record in the same transaction', () => {
    const { review, visit, agent, staffId, claims } = open();
    const good = visit('+22376000001');
    const lapsed = visit('+22376000002');
    const recorded: string[] = [];
    const record = (before: { status: string }, after: { status: string }) => recorded.push(`${before.status}→${after.status}`);
    expect(refusal(() => review.decide(lapsed.id, 'rejected', '  ', staffId, clock.now(), record))).toMatchObject({
      field: 'reason',
      status: 400,
    });
    expect(refusal(() => review.decide(lapsed.id, 'approved', '', staffId, clock.now(), record)).message).toContain('indiquez pourquoi');
    expect(claims.get(lapsed.id)?.status).toBe('pending');

    expect(review.decide(good.id, 'approved', '', staffId, clock.now(), record)).toMatchObject({
      status: 'approved',
      decidedBy: staffId,
      decisionReason: null,
    });
    expect(review.decide(lapsed.id, 'rejected', 'couverture finie', staffId, clock.now(), record).decisionReason).toBe('couverture finie');
    const again = refusal(() => review.decide(good.id, 'rejected', 'erreur', staffId, clock.now(), record));
    expect([again.status, again.message]).toEqual([409, 'Cette demande a déjà été approuvée par Awa: une décision est définitive.']);
    expect(recorded).toEqual(['pending→approved', 'pending→rejected']);
    expect(review.queue(agent.facilityId).decided.map((c) => [c.id, c.status, c.decidedByName])).toEqual([
      [lapsed.id, 'rejected', 'Awa'],
      [good.id, 'approved', 'Awa'],
    ]);

    // A record that fails undoes the decision with it.
    const third = visit('+22376000001', '2026-03-09');
    expect(() =>
      review.decide(third.id, 'approved', '', staffId, clock.now(), () => {
        throw new Error('audit down');
      }),
    ).toThrow('audit down');
    expect(claims.get(third.id)?.status).toBe('pending');
  });
});
