import { createReadStream } from 'node:fs';
import { CsvError, parse } from 'csv-parse';
import { restoreCell } from '../csv.ts';
import type { Db } from '../db/connection.ts';
import type { FacilityKind, FacilityStore, NewAgent, NewFacility } from '../db/facilities.ts';
import { atomically } from '../db/transaction.ts';
import type { Actor, Audit } from './audit.ts';
import { ImportFileError, type ImportProblem } from './import.ts';
import { type Checked, type FieldErrors, type FormValues, mobileNumber } from './registration.ts';

/** The kinds of facility by the name the console gives them. */
export const FACILITY_KINDS: Record<FacilityKind, string> = { cscom: 'CSCom', csref: 'CSRef', hospital: 'hôpital' };

/** A Malian mobile number however it is typed, in E.164; null for anything else (a fixed line, a foreign number). */
export function malianMobile(typed: string): string | null {
  const n = mobileNumber(typed);
  return n?.startsWith('+223') ? n : null;
}

const PHONE_HINT = 'numéro de mobile malien invalide (ex. 77 00 00 01 ou +22377000001)';

/** A registration refused by the database because someone else took the code or phone in between. */
export const isTaken = (err: unknown): boolean => (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE';

/**
 * The facility form: every problem against its field. `mutuelleIds` are the boxes ticked; `known`
 * the districts and their mutuelles.
 */
export function checkFacility(
  v: FormValues,
  mutuelleIds: readonly string[],
  deps: { facilities: FacilityStore; known: ReadonlyArray<{ district: string; mutuelles: ReadonlyArray<{ id: string }> }> },
): Checked<NewFacility> {
  const errors: FieldErrors = {};
  const code = (v.code ?? '').trim().toUpperCase();
  const taken = code ? deps.facilities.facilityByCode(code) : undefined;
  if (!/^[A-Z0-9][A-Z0-9-]{2,19}$/.test(code)) errors.code = 'de 3 à 20 lettres, chiffres ou tirets (ex. CSCOM-KLE)';
  else if (taken) errors.code = `déjà le code de ${taken.name}`;
  const name = (v.name ?? '').trim();
  if (name.length < 3) errors.name = "le nom de l'établissement est requis";
  else if (name.length > 120) errors.name = '120 caractères au plus';
  const kind = v.kind ?? '';
  if (!Object.hasOwn(FACILITY_KINDS, kind)) errors.kind = 'choisissez CSCom, CSRef ou hôpital';
  const district = v.district ?? '';
  if (!deps.known.some((d) => d.district === district)) errors.district = 'choisissez un district';
  const paymentMsisdn = malianMobile(v.paymentMsisdn ?? '');
  if (!paymentMsisdn) errors.paymentMsisdn = PHONE_HINT;
  const all = new Set(deps.known.flatMap((d) => d.mutuelles.map((m) => m.id)));
  const unknown = mutuelleIds.filter((m) => !all.has(m));
  if (unknown.length) errors.mutuelleIds = `mutuelle inconnue: ${unknown.join(', ')}`;
  else if (mutuelleIds.length === 0) errors.mutuelleIds = 'cochez au moins une mutuelle servie';
  if (Object.keys(errors).length) return { ok: false, errors };
  return {
    ok: true,
    value: {
      code,
      name,
      kind: kind as FacilityKind,
      district,
      paymentMsisdn: paymentMsisdn as string,
      mutuelleIds: [...new Set(mutuelleIds)],
    },
  };
}

/** An agent (phone, name, language) for a facility; the phone must not be another active agent's. */
export function checkAgent(v: FormValues, facilityId: number, facilities: FacilityStore): Checked<NewAgent> {
  const errors: FieldErrors = {};
  const phone = malianMobile(v.phone ?? '');
  const holder = phone ? facilities.agentHoldingPhone(phone) : undefined;
  if (!phone) errors.phone = PHONE_HINT;
  else if (holder) errors.phone = `déjà le numéro de l'agent ${holder.name} (${holder.facilityName})`;
  const name = (v.name ?? '').trim();
  if (name.length < 3) errors.name = "le nom de l'agent est requis";
  else if (name.length > 120) errors.name = '120 caractères au plus';
  const language = (v.language ?? '').trim() || 'fr';
  if (language !== 'fr' && language !== 'bm') errors.language = 'fr (français) ou bm (bambara)';
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, value: { facilityId, phone: phone as string, name, language: language as NewAgent['language'] } };
}

/** The agents file: one agent a line; `language` may be empty (French). */
export const AGENT_COLUMNS = ['phone', 'name', 'language', 'facility_code'] as const;
/** An agents file is a facility's staff list, not a population: a longer one is a mistake. */
export const MAX_AGENT_LINES = 2000;

export interface AgentsImport {
  /** The lines of agents read (the header not counted). */
  agents: number;
  /** Every bad line with its number; when there is one, nothing was written. */
  problems: ImportProblem[];
  /** The agents registered (none when there is a problem). */
  added: Array<NewAgent & { facilityCode: string }>;
}

/**
 * Registers the agents of a CSV file, all of them or none: every bad line is reported with its
 * number, and any bad line means nothing is written (an agents file is short: it is corrected and
 * sent again, rather than half imported). The import is one transaction with its audit row.
 */
export async function importAgents(
  path: string,
  deps: { db: Db; facilities: FacilityStore; audit: Audit },
  actor: Actor,
  now: Date,
): Promise<AgentsImport> {
  const result: AgentsImport = { agents: 0, problems: [], added: [] };
  const seen = new Map<string, number>();
  let at: Record<(typeof AGENT_COLUMNS)[number], number> | undefined;
  const input = createReadStream(path);
  const parser = input.pipe(parse({ bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, info: true }));
  // pipe() does not pass on a read error: the parser must end with it.
  input.on('error', (err) => parser.destroy(err));
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const line = info.lines;
      if (!at) {
        at = agentHeader(record);
        continue;
      }
      if (++result.agents > MAX_AGENT_LINES) throw new ImportFileError(`plus de ${MAX_AGENT_LINES} agents: découpez le fichier`);
      const cell = (c: (typeof AGENT_COLUMNS)[number]) => restoreCell(record[at?.[c] as number] ?? '');
      const code = cell('facility_code').toUpperCase();
      const facility = code ? deps.facilities.facilityByCode(code) : undefined;
      const problems: string[] = [];
      if (!facility?.active) problems.push(`facility_code: ${code ? `établissement inconnu: ${code}` : 'manquant'}`);
      const checked = checkAgent(
        { phone: cell('phone'), name: cell('name'), language: cell('language') },
        facility?.id ?? 0,
        deps.facilities,
      );
      if (!checked.ok) problems.push(...Object.entries(checked.errors).map(([k, m]) => `${k}: ${m}`));
      else {
        const first = seen.get(checked.value.phone);
        if (first !== undefined) problems.push(`phone: ${cell('phone')} est déjà à la ligne ${first}`);
        else seen.set(checked.value.phone, line);
      }
      if (problems.length) result.problems.push({ line, message: problems.join('; ') });
      else if (checked.ok) result.added.push({ ...checked.value, facilityCode: code });
    }
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    throw new ImportFileError(`ligne ${(err as CsvError & { lines?: number }).lines ?? '?'}: ${err.message}`);
  } finally {
    input.destroy();
  }
  if (!at) throw new ImportFileError(`fichier vide; attendu: ${AGENT_COLUMNS.join(',')}`);
  if (result.agents === 0) throw new ImportFileError('aucun agent dans le fichier');
  if (result.problems.length) return { ...result, added: [] };
  try {
    atomically(deps.db, () => {
      for (const a of result.added) deps.facilities.addAgent(a, now);
      deps.audit.record(actor, now, {
        action: 'agents.import',
        entity: 'facility_agent',
        after: { agents: result.added.map(({ phone, name, language, facilityCode }) => ({ phone, name, language, facilityCode })) },
      });
    });
  } catch (err) {
    if (!isTaken(err)) throw err;
    throw new ImportFileError("un de ces numéros vient d'être donné à un autre agent: rien n'a été importé, envoyez le fichier à nouveau");
  }
  return result;
}

function agentHeader(header: string[]): Record<(typeof AGENT_COLUMNS)[number], number> {
  const names = header.map((h) => h.trim().toLowerCase());
  const missing = AGENT_COLUMNS.filter((c) => !names.includes(c));
  if (missing.length)
    throw new ImportFileError(`ligne 1: colonne(s) manquante(s) ${missing.join(', ')}; attendu: ${AGENT_COLUMNS.join(',')}`);
  return Object.fromEntries(AGENT_COLUMNS.map((c) => [c, names.indexOf(c)])) as Record<(typeof AGENT_COLUMNS)[number], number>;
}
