/**
 * What the disbursement tests share: approved claims at a demo facility (recorded and decided
 * through their owner, as the agent's visit and the officer's review will), staff to prepare and
 * approve, the facility's simulated wallet, UTM's float and the disbursement ledger.
 */

import type { StaffRef } from '../../src/claims/batches.ts';
import type { Claim } from '../../src/db/claims.ts';
import type { Role } from '../../src/office/staff.ts';
import type { TestApp } from '../support/app.ts';

export const KLELA_WALLET = '+22379000001';
export const KLELA_AGENT = '+22377000001'; // French
export const MPESSOBA_WALLET = '+22379000002';
export const MPESSOBA_AGENT = '+22377000002'; // Bambara

export function facilityId(app: TestApp, code: 'CSCOM-KLE' | 'CSCOM-MPE'): number {
  const f = app.services.facilities.facilityByCode(code);
  if (!f) throw new Error(`no facility ${code}`);
  return f.id;
}

let keys = 0;

/** `amounts.length` visits at the facility by its agent for the household's first beneficiary, each approved. */
export function approvedClaims(app: TestApp, code: 'CSCOM-KLE' | 'CSCOM-MPE', amounts: readonly number[], decidedBy: StaffRef): Claim[] {
  const s = app.services;
  const id = facilityId(app, code);
  const agent = s.facilities.agentsOf(id)[0];
  if (!agent) throw new Error(`no agent at ${code}`);
  const phone = code === 'CSCOM-KLE' ? '+22376000001' : '+22376000003';
  const household = s.households.findByPhone(phone);
  const patient = household && s.households.load(household.id)?.beneficiaries[0];
  if (!household || !patient) throw new Error(`no household at ${phone}`);
  return amounts.map((amount) => {
    const c = s.claims.record(
      {
        requestKey: `test:${++keys}`,
        facilityId: id,
        agentId: agent.id,
        householdId: household.id,
        beneficiaryId: patient.id,
        care: 'consultation',
        days: 1,
        tariff: amount,
        amount,
        visitOn: '2026-03-09',
      },
      s.clock.now(),
    );
    if (!s.claims.decide(c.id, 'approved', decidedBy.staffId, null, s.clock.now())) throw new Error('claim not approved');
    return s.claims.get(c.id) as Claim;
  });
}

/** A staff account of that role, as the batches see it. */
export async function staff(app: TestApp, email: string, role: Role): Promise<StaffRef> {
  const added = await app.services.office.staff.add(
    { email, name: email.split('@')[0] as string, role, password: 'correct horse battery' },
    { staffId: null, name: 'test' },
  );
  return { staffId: added.id, name: added.email };
}

export const walletBalance = (app: TestApp, phone: string) => app.services.orange.wallet(phone)?.balance ?? Number.NaN;

/** The ledger rows of a batch (there must be at most one). */
export const ledgerRowsOf = (app: TestApp, batchId: number) =>
  app.services.batches.ledgerBetween(null, null).filter((r) => r.batchId === batchId);

/** The SMS queued for a phone, texts in order. */
export function smsTo(app: TestApp, phone: string): string[] {
  return app.services.outbox.to(phone).map((m) => m.text);
}
