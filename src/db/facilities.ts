import type { CareKind, CareTariff } from '../domain/care.ts';
import type { Language } from '../i18n/catalog.ts';
import type { Db } from './connection.ts';
import type { ChangeWatch } from './freshness.ts';

export type FacilityKind = 'cscom' | 'csref' | 'hospital';

export interface Facility {
  id: number;
  code: string;
  name: string;
  kind: FacilityKind;
  district: string;
  /** The mobile-money number UTM pays the facility's claims to (E.164). */
  paymentMsisdn: string;
  active: boolean;
  /** The mutuelles whose members it treats. */
  mutuelleIds: string[];
}

export interface NewFacility {
  code: string;
  name: string;
  kind: FacilityKind;
  district: string;
  paymentMsisdn: string;
  mutuelleIds: readonly string[];
}

/** A facility's agent, as the USSD menu needs them: who they are and where they work. */
export interface Agent {
  id: number;
  phone: string;
  name: string;
  language: Language;
  facilityId: number;
  facilityName: string;
  facilityKind: FacilityKind;
  district: string;
}

export interface NewAgent {
  facilityId: number;
  phone: string;
  name: string;
  language: Language;
}

const AGENT = `SELECT a.id, a.phone, a.name, a.language, a.facility_id AS facilityId, f.name AS facilityName,
  f.kind AS facilityKind, f.district
  FROM facility_agents a JOIN facilities f ON f.id = a.facility_id`;

const FACILITY = `SELECT f.id, f.code, f.name, f.kind, f.district, f.payment_msisdn AS paymentMsisdn, f.active,
  (SELECT group_concat(mutuelle_id) FROM facility_mutuelles WHERE facility_id = f.id) AS mutuelles
  FROM facilities f`;

interface FacilityRow extends Omit<Facility, 'active' | 'mutuelleIds'> {
  active: number;
  mutuelles: string | null;
}

const toFacility = ({ mutuelles, active, ...f }: FacilityRow): Facility => ({
  ...f,
  active: active === 1,
  mutuelleIds: mutuelles ? mutuelles.split(',').sort() : [],
});

/**
 * The phones of active agents at active facilities, per connection: telling an agent from a member
 * (once per new USSD session) is then a lookup in memory, not a query. Shared by every store on the
 * connection, so that a write through any of them forgets it; a write by another connection too
 * (ChangeWatch).
 */
const agentPhones = new WeakMap<Db, Set<string>>();

/**
 * Owner of facilities, facility_mutuelles, facility_agents and care_tariffs: the health facilities
 * UTM pays, the agents who record visits there, and what each product pays per kind of care. Every
 * write to facilities or agents forgets the agents' phones kept in memory (`changed`).
 */
export function createFacilityStore(db: Db, watch?: ChangeWatch) {
  const changed = () => agentPhones.delete(db);
  watch?.onChangeElsewhere(changed);
  const activePhones = db
    .prepare('SELECT a.phone FROM facility_agents a JOIN facilities f ON f.id = a.facility_id WHERE a.active = 1 AND f.active = 1')
    .pluck();
  const agentByPhone = db.prepare(`${AGENT} WHERE a.phone = ? AND a.active = 1 AND f.active = 1`);
  const agentById = db.prepare(`${AGENT} WHERE a.id = ?`);
  const agentsOf = db.prepare(`${AGENT} WHERE a.facility_id = ? AND a.active = 1 ORDER BY a.name`);
  const activeAgentWithPhone = db.prepare(`${AGENT} WHERE a.phone = ? AND a.active = 1`);
  const allFacilities = db.prepare(`${FACILITY} ORDER BY f.district, f.name`);
  const facilityById = db.prepare(`${FACILITY} WHERE f.id = ?`);
  const facilityByCode = db.prepare(`${FACILITY} WHERE f.code = ?`);
  const serves = db.prepare('SELECT 1 FROM facility_mutuelles WHERE facility_id = ? AND mutuelle_id = ?').pluck();
  const insertFacility = db.prepare(
    `INSERT INTO facilities (code, name, kind, district, payment_msisdn, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const insertServed = db.prepare('INSERT INTO facility_mutuelles (facility_id, mutuelle_id) VALUES (?, ?) ON CONFLICT DO NOTHING');
  const insertAgent = db.prepare('INSERT INTO facility_agents (facility_id, phone, name, language, created_at) VALUES (?, ?, ?, ?, ?)');
  const deactivateAgent = db.prepare('UPDATE facility_agents SET active = 0 WHERE id = ? AND active = 1');
  const tariffs = db.prepare(
    `SELECT care, effective_from AS effectiveFrom, unit, tariff, max_days AS maxDays
     FROM care_tariffs WHERE product_id = ? ORDER BY care, effective_from`,
  );
  const insertTariff = db.prepare(
    `INSERT INTO care_tariffs (product_id, care, effective_from, unit, tariff, max_days) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (product_id, care, effective_from) DO NOTHING`,
  );

  return {
    /** Whether an active agent at an active facility uses this phone: cheap enough to ask for every caller. */
    isAgentPhone(phone: string): boolean {
      watch?.check();
      let phones = agentPhones.get(db);
      if (!phones) agentPhones.set(db, (phones = new Set(activePhones.all() as string[])));
      return phones.has(phone);
    },
    /** The active agent using this phone at an active facility, if any: they get the facility menu. */
    agentByPhone(phone: string): Agent | undefined {
      return agentByPhone.get(phone) as Agent | undefined;
    },
    agent(id: number): Agent | undefined {
      return agentById.get(id) as Agent | undefined;
    },
    /** The active agent holding this phone at any facility, active or not: the phone cannot be given to another agent. */
    agentHoldingPhone(phone: string): Agent | undefined {
      return activeAgentWithPhone.get(phone) as Agent | undefined;
    },
    agentsOf(facilityId: number): Agent[] {
      return agentsOf.all(facilityId) as Agent[];
    },
    facilities(): Facility[] {
      return (allFacilities.all() as FacilityRow[]).map(toFacility);
    },
    facility(id: number): Facility | undefined {
      const row = facilityById.get(id) as FacilityRow | undefined;
      return row && toFacility(row);
    },
    facilityByCode(code: string): Facility | undefined {
      const row = facilityByCode.get(code) as FacilityRow | undefined;
      return row && toFacility(row);
    },
    /** Whether the facility treats members of this mutuelle (its claims are paid by UTM). */
    serves(facilityId: number, mutuelleId: string): boolean {
      return serves.get(facilityId, mutuelleId) === 1;
    },
    /** Registers a facility with the mutuelles it serves; a code already taken throws SQLite's constraint error. */
    createFacility(f: NewFacility, now: Date): number {
      return db.transaction(() => {
        const id = Number(insertFacility.run(f.code, f.name, f.kind, f.district, f.paymentMsisdn, now.toISOString()).lastInsertRowid);
        for (const m of f.mutuelleIds) insertServed.run(id, m);
        changed();
        return id;
      })();
    },
    /** Registers an agent; a phone already used by an active agent throws SQLite's constraint error. */
    addAgent(a: NewAgent, now: Date): number {
      const id = Number(insertAgent.run(a.facilityId, a.phone, a.name, a.language, now.toISOString()).lastInsertRowid);
      changed();
      return id;
    },
    /** The agent no longer records visits (their phone gets the member or joining menu again). */
    deactivateAgent(id: number): boolean {
      const done = deactivateAgent.run(id).changes === 1;
      changed();
      return done;
    },
    /** Every version of every care tariff of the product (domain/care.ts tariffsOn picks the one of a day). */
    tariffVersions(productId: string): CareTariff[] {
      return tariffs.all(productId) as CareTariff[];
    },
    /** Adds a tariff version; one already there for that day is kept as it is. */
    setTariff(productId: string, t: CareTariff): boolean {
      return insertTariff.run(productId, t.care satisfies CareKind, t.effectiveFrom, t.unit, t.tariff, t.maxDays).changes === 1;
    },
  };
}

export type FacilityStore = ReturnType<typeof createFacilityStore>;
