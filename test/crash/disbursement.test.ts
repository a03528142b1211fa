import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchReference } from '../../src/claims/batches.ts';
import { createClaimStore } from '../../src/db/claims.ts';
import { openDatabase } from '../../src/db/connection.ts';
import { createDisbursementStore } from '../../src/db/disbursements.ts';
import { createFacilityStore } from '../../src/db/facilities.ts';
import { createHouseholdStore } from '../../src/db/households.ts';
import { createStaffRepository } from '../../src/db/staff.ts';
import { freePort, ServerChild, sleep } from '../support/server-child.ts';

/**
 * Issue 20, "each batch pays once whatever the retries or a crash": a real `kill -9` of the real
 * server (`node bin/sabatili.js serve` on a temp database) while a payment batch is being sent,
 * then a restart on the same file and the recovery sweep. Each kill is placed exactly (the child
 * pauses after a chosen statement, test/support/pause-after-sql.mjs, and is killed while paused):
 *
 * 1. after the batch is durably `sending`, before the operator is called;
 * 2. inside the simulated operator's transfer (float debited, wallet credited, not committed);
 * 3. after the operator's transfer committed, before its callback left;
 * 4. inside the settlement of the callback (the ledger row written, not committed).
 *
 * Each batch is approved while the server is down (as if the approval's request was the last thing
 * it did); the sweep at start-up sends it, which is where the kill lands. After a last clean restart,
 * every batch must be paid exactly once: one successful transfer at the operator, one ledger row,
 * the facility's wallet grown by the batch's amount, the float shrunk by it, one SMS per agent.
 */

const KLELA_WALLET = '+22379000001';
const POINTS = [
  { label: 'sending committed, operator not called', sql: String.raw`WHERE b\.id = \?` },
  { label: 'inside the operator transfer', sql: String.raw`insert\s+into\s+sim_disbursements` },
  { label: 'transfer committed, callback not sent', sql: String.raw`update\s+payment_batches\s+set\s+operator_txn_id` },
  { label: 'inside the settlement of the callback', sql: String.raw`insert\s+into\s+disbursement_ledger` },
] as const;

let dir: string;
let server: ServerChild;
const batches: Array<{ id: number; reference: string; amount: number; label: string; landed: string }> = [];
let openingFloat = 0;
let openingWallet = 0;

const read = <T>(sql: string, ...args: unknown[]): T => {
  const db = new Database(server.opts.dbPath, { readonly: true, timeout: 5000 });
  try {
    return db.prepare(sql).get(...args) as T;
  } finally {
    db.close();
  }
};

/** With the server down: approved claims at Kléla, a batch prepared by one person and approved by another. */
function approvedBatch(amounts: number[]): { id: number; reference: string; amount: number } {
  const db = openDatabase(server.opts.dbPath);
  try {
    const now = new Date();
    const staff = createStaffRepository(db);
    const person = (email: string, role: 'officer' | 'manager') =>
      staff.byEmail(email)?.id ?? staff.add({ email, name: email, role, passwordHash: 'x', createdAt: now.toISOString() });
    const officer = person('agent@utm.ml', 'officer');
    const manager = person('chef@utm.ml', 'manager');
    const facilities = createFacilityStore(db);
    const claims = createClaimStore(db);
    const households = createHouseholdStore(db);
    const kle = facilities.facilityByCode('CSCOM-KLE');
    const agent = kle && facilities.agentsOf(kle.id)[0];
    const h = households.findByPhone('+22376000001');
    const patient = h && households.load(h.id)?.beneficiaries[0];
    if (!kle || !agent || !h || !patient) throw new Error('demo data missing');
    const ids = amounts.map((amount, i) => {
      const c = claims.record(
        {
          requestKey: `crash:${now.getTime()}:${i}`,
          facilityId: kle.id,
          agentId: agent.id,
          householdId: h.id,
          beneficiaryId: patient.id,
          care: 'consultation',
          days: 1,
          tariff: amount,
          amount,
          visitOn: now.toISOString().slice(0, 10),
        },
        now,
      );
      claims.decide(c.id, 'approved', manager, null, now);
      return c.id;
    });
    const store = createDisbursementStore(db);
    return db.transaction(() => {
      const amount = amounts.reduce((a, b) => a + b, 0);
      const b = store.record(
        { facilityId: kle.id, msisdn: kle.paymentMsisdn, amount, claimsCount: ids.length, preparedBy: officer, now: now.toISOString() },
        (id) => batchReference(id, now.toISOString().slice(0, 10)),
      );
      claims.joinBatch(b.id, ids);
      store.approve(b.id, manager, now.toISOString());
      return { id: b.id, reference: b.reference, amount };
    })();
  } finally {
    db.close();
  }
}

function whereItLanded(id: number): string {
  const b = read<{ status: string; attempts: number; reference: string }>(
    'SELECT status, attempts, reference FROM payment_batches WHERE id = ?',
    id,
  );
  const t = read<{ n: number }>("SELECT COUNT(*) AS n FROM sim_disbursements WHERE reference LIKE ? || '-%'", b.reference);
  return `batch ${b.status} (attempt ${b.attempts}), ${t.n} transfer(s) at the operator`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sabatili-crash-disburse-'));
  server = new ServerChild({ dbPath: join(dir, 'db.sqlite'), port: await freePort(), logFile: join(dir, 'server.log') });
  await server.start();
  await server.kill();
  openingFloat = read<{ balance: number }>('SELECT balance FROM sim_float').balance;
  openingWallet = read<{ balance: number }>('SELECT balance FROM sim_wallets WHERE msisdn = ?', KLELA_WALLET).balance;
}, 60_000);

afterAll(async () => {
  await server?.kill();
  if (batches.length) console.log(`where the kills landed:\n  ${batches.map((b) => `${b.label}: ${b.landed}`).join('\n  ')}`);
  if (process.env.KEEP_CRASH_DIR) console.log(`database and server log kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});

describe.sequential('kill -9 while a payment batch is sent', () => {
  for (const [i, point] of POINTS.entries()) {
    it(`a kill ${point.label}, then a restart`, async () => {
      const b = approvedBatch([1500 * (i + 1), 500]);
      // The sweep at start-up sends the approved batch and pauses at the statement; the kill lands there.
      const starting = server.start({ pauseAfterSql: point.sql, pauseMs: 15_000 }).catch(() => undefined);
      const pause = await server.waitPause(20_000);
      expect(pause, `the server never reached ${point.sql}`).not.toBeNull();
      await server.kill();
      await starting;
      batches.push({ ...b, label: point.label, landed: whereItLanded(b.id) });
      await server.start();
      await server.kill();
    }, 60_000);
  }

  it('after a clean restart and the sweep, every batch is paid exactly once', async () => {
    await server.start();
    const deadline = Date.now() + 20_000;
    const unpaid = () =>
      batches.filter((b) => read<{ status: string }>('SELECT status FROM payment_batches WHERE id = ?', b.id).status !== 'paid');
    while (unpaid().length && Date.now() < deadline) await sleep(250);
    expect(unpaid().map((b) => `${b.label}: ${whereItLanded(b.id)}`)).toEqual([]);

    const total = batches.reduce((n, b) => n + b.amount, 0);
    for (const b of batches) {
      const transfers = read<{ ok: number; amount: number }>(
        "SELECT COUNT(*) AS ok, COALESCE(SUM(amount), 0) AS amount FROM sim_disbursements WHERE reference LIKE ? || '-%' AND status = 'succeeded'",
        b.reference,
      );
      const ledger = read<{ rows: number; amount: number }>(
        'SELECT COUNT(*) AS rows, COALESCE(SUM(amount), 0) AS amount FROM disbursement_ledger WHERE batch_id = ?',
        b.id,
      );
      const sms = read<{ n: number }>('SELECT COUNT(*) AS n FROM sms_outbox WHERE source_key LIKE ?', `disbursement:${b.id}:%`);
      expect({ batch: b.label, transfers, ledger, sms: sms.n }).toEqual({
        batch: b.label,
        transfers: { ok: 1, amount: b.amount },
        ledger: { rows: 1, amount: b.amount },
        sms: 1,
      });
    }
    expect(read<{ balance: number }>('SELECT balance FROM sim_wallets WHERE msisdn = ?', KLELA_WALLET).balance).toBe(openingWallet + total);
    expect(read<{ balance: number }>('SELECT balance FROM sim_float').balance).toBe(openingFloat - total);
  }, 60_000);
});
