import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { bamakoDay, type Clock } from '../clock.ts';
import { CARE_KINDS } from '../domain/care.ts';
import { addMonths, lastDayOfMonth, monthOf } from '../domain/coverage.ts';
import type { Db } from './connection.ts';
import { createFacilityStore } from './facilities.ts';
import { createHouseholdStore } from './households.ts';
import { createSimulatedFloatStore } from './simulator.ts';

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const fcfa = z.number().int().nonnegative();

const demoSchema = z.object({
  products: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      parameters: z.array(
        z.object({
          effectiveFrom: day,
          annualContribution: fcfa,
          subsidyPercent: z.number().int().min(0).max(100),
          joiningFee: fcfa,
          waitingDays: z.number().int().nonnegative(),
          graceDays: z.number().int().nonnegative(),
        }),
      ),
      careTariffs: z
        .array(
          z.object({
            care: z.enum(CARE_KINDS),
            effectiveFrom: day,
            unit: z.enum(['visit', 'day']),
            tariff: z.number().int().positive(),
            maxDays: z.number().int().min(1).max(60),
          }),
        )
        .default([]),
    }),
  ),
  mutuelles: z.array(z.object({ id: z.string(), name: z.string(), district: z.string(), targetPopulation: fcfa, productId: z.string() })),
  facilities: z
    .array(
      z.object({
        code: z.string(),
        name: z.string(),
        kind: z.enum(['cscom', 'csref', 'hospital']),
        district: z.string(),
        paymentMsisdn: z.string().regex(/^\+223\d{8}$/),
        mutuelleIds: z.array(z.string()),
        agents: z.array(z.object({ phone: z.string().regex(/^\+223\d{8}$/), name: z.string(), language: z.enum(['fr', 'bm']) })),
      }),
    )
    .default([]),
  households: z.array(
    z.object({
      cardNumber: z.string(),
      adherentName: z.string(),
      phone: z.string().regex(/^\+223\d{8}$/),
      language: z.enum(['fr', 'bm']),
      mutuelleId: z.string(),
      joinedMonthsAgo: z.number().int().nonnegative(),
      wallet: z
        .object({
          operator: z.literal('orange_money'),
          msisdn: z.string(),
          balance: z.number().int().nonnegative(),
          pin: z.string().regex(/^\d{4}$/),
        })
        .nullable(),
      beneficiaries: z.array(
        z.object({
          name: z.string(),
          relation: z.enum(['adherent', 'spouse', 'child', 'parent', 'other']),
          birthYear: z.number().int(),
          subsidised: z.boolean(),
        }),
      ),
      payments: z.array(
        z.object({
          monthsAgo: z.number().int().nonnegative(),
          day: z.number().int().min(1).max(31),
          amount: z.number().int().positive(),
          channel: z.enum(['orange_money', 'cash', 'agent']),
        }),
      ),
    }),
  ),
});

export type DemoData = z.infer<typeof demoSchema>;

export function readDemoData(path = fileURLToPath(new URL('../../fixtures/demo.json', import.meta.url))): DemoData {
  return demoSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

/** True when the database holds no network yet (a first start). */
export function isEmpty(db: Db): boolean {
  return db.prepare('SELECT COUNT(*) FROM mutuelles').pluck().get() === 0;
}

/** The demo's opening float at the simulated operator: enough for the demo's claims, small enough to run out. */
const DEMO_FLOAT = 1_000_000;

export interface SeedResult {
  households: number;
  payments: number;
}

/**
 * Loads the demo network. Payment dates are placed relative to the clock's day, so the demo
 * phones show the same situation whenever they are seeded. Re-running adds only what is missing.
 */
export function seedDemo(db: Db, clock: Clock, data: DemoData = readDemoData()): SeedResult {
  const households = createHouseholdStore(db);
  const facilities = createFacilityStore(db);
  const now = clock.now();
  const thisMonth = monthOf(bamakoDay(now));
  const dayIn = (monthsAgo: number, d: number) => {
    const month = addMonths(thisMonth, -monthsAgo);
    const last = lastDayOfMonth(month);
    return `${month}-${String(Math.min(d, Number(last.slice(8)))).padStart(2, '0')}`;
  };
  const result: SeedResult = { households: 0, payments: 0 };
  db.transaction(() => {
    const product = db.prepare('INSERT INTO products (id, name) VALUES (?, ?) ON CONFLICT (id) DO NOTHING');
    const mutuelle = db.prepare(
      `INSERT INTO mutuelles (id, name, district, target_population, product_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    );
    const wallet = db.prepare(`INSERT INTO wallets (household_id, operator, msisdn, linked_at) VALUES (?, ?, ?, ?)`);
    // The simulated operator's side of the demo wallets: balance and PIN live with the operator, not with UTM.
    const simWallet = db.prepare(`INSERT INTO sim_wallets (msisdn, balance, pin) VALUES (?, ?, ?) ON CONFLICT (msisdn) DO NOTHING`);
    for (const p of data.products) {
      product.run(p.id, p.name);
      for (const v of p.parameters) {
        // A version already there is kept as it is (re-running adds only what is missing).
        if (households.parametersOf(p.id).some((x) => x.effectiveFrom === v.effectiveFrom)) continue;
        households.setProductParameters(p.id, {
          effectiveFrom: v.effectiveFrom,
          annualContribution: v.annualContribution,
          subsidyPercent: v.subsidyPercent,
          joiningFee: v.joiningFee,
          waitingDays: v.waitingDays,
          graceDays: v.graceDays,
        });
      }
    }
    for (const m of data.mutuelles) mutuelle.run(m.id, m.name, m.district, m.targetPopulation, m.productId);
    for (const p of data.products) for (const t of p.careTariffs) facilities.setTariff(p.id, t);
    // UTM's float at the simulated operator, from which facilities are paid (kept if it exists).
    createSimulatedFloatStore(db).seed(DEMO_FLOAT);
    for (const f of data.facilities) {
      if (facilities.facilityByCode(f.code)) continue;
      const facilityId = facilities.createFacility(f, now);
      for (const a of f.agents) facilities.addAgent({ ...a, facilityId }, now);
      // The facility's wallet at the simulated operator, where its claims are paid.
      simWallet.run(f.paymentMsisdn, 0, '0000');
    }
    for (const h of data.households) {
      if (households.findByPhone(h.phone)) continue;
      const id = households.create({ ...h, joinedOn: dayIn(h.joinedMonthsAgo, 1) }, now);
      if (h.wallet) {
        wallet.run(id, h.wallet.operator, h.wallet.msisdn, now.toISOString());
        simWallet.run(h.wallet.msisdn, h.wallet.balance, h.wallet.pin);
      }
      h.payments.forEach((p, i) => {
        const paidOn = dayIn(p.monthsAgo, p.day);
        households.addContribution(
          {
            householdId: id,
            amount: p.amount,
            fee: 0,
            channel: p.channel,
            operatorTxnId: p.channel === 'orange_money' ? `DEMO-${h.cardNumber}-${i + 1}` : null,
            paidOn,
            paidAt: `${paidOn}T09:00:00.000Z`,
          },
          now,
        );
        result.payments++;
      });
      result.households++;
    }
  })();
  return result;
}
