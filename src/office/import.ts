import { createReadStream } from 'node:fs';
import { CsvError, parse } from 'csv-parse';
import { bamakoDay } from '../clock.ts';
import { restoreCell } from '../csv.ts';
import type { Db } from '../db/connection.ts';
import type { HouseholdStore, NewHousehold } from '../db/households.ts';
import type { MutuelleStore } from '../db/mutuelles.ts';
import type { Actor, Audit } from './audit.ts';
import { checkBeneficiary, checkHousehold, mutuelleIds, type FormValues } from './registration.ts';

/**
 * Members from a CSV file, one line per beneficiary; the household's columns repeat on each of its
 * lines, which must follow one another:
 *
 *   card_number,adherent_name,phone,language,mutuelle,joined_on,beneficiary_name,relation,birth_year,subsidised
 *
 * The file is read twice, as a stream both times: once to check every line (nothing written), once,
 * after the officer confirms, to write the valid households in one transaction. Memory holds one
 * household at a time and the set of cards and phones seen, never the file.
 */
export const COLUMNS = ['card_number', 'adherent_name', 'phone', 'language', 'mutuelle', 'joined_on', 'beneficiary_name', 'relation', 'birth_year', 'subsidised'] as const;

export interface ImportProblem {
  line: number;
  message: string;
}

export interface ImportPreview {
  households: number;
  beneficiaries: number;
  /** Households that would be imported, per mutuelle. */
  perMutuelle: Record<string, number>;
  /** Every problem, by line (the first 1 000). */
  problems: ImportProblem[];
  problemCount: number;
  /** Households left out because one of their lines has a problem. */
  rejectedHouseholds: number;
  lines: number;
}

const MAX_PROBLEMS = 1000;
const YES = new Set(['1', 'oui', 'yes', 'o', 'y', 'true', 'x']);

interface Pending {
  card: string;
  firstLine: number;
  form: FormValues;
  beneficiaries: NewHousehold['beneficiaries'];
  bad: boolean;
}

type Row = Record<(typeof COLUMNS)[number], string>;

export interface ImportDeps {
  db: Db;
  households: HouseholdStore;
  mutuelles: MutuelleStore;
  audit: Audit;
}

/**
 * Walks the file, calling `accept` for each household whose lines are all valid. Problems are
 * collected with their line numbers; `onProgress` reports the bytes read.
 */
async function walk(path: string, deps: ImportDeps, today: string, accept: (h: NewHousehold) => void, onProgress?: (bytesRead: number) => void): Promise<ImportPreview> {
  const preview: ImportPreview = { households: 0, beneficiaries: 0, perMutuelle: {}, problems: [], problemCount: 0, rejectedHouseholds: 0, lines: 0 };
  const problem = (line: number, message: string) => {
    preview.problemCount++;
    if (preview.problems.length < MAX_PROBLEMS) preview.problems.push({ line, message });
  };
  const known = mutuelleIds(deps.mutuelles);
  const seenCards = new Set<string>();
  const seenPhones = new Map<string, string>();
  let current = null as Pending | null;

  const finish = (p: Pending | null) => {
    if (!p) return;
    if (p.bad || p.beneficiaries.length === 0) {
      preview.rejectedHouseholds++;
      return;
    }
    const checked = checkHousehold({ ...p.form }, deps, { today, withBeneficiaries: false, mutuelleIds: known });
    if (!checked.ok) {
      problem(p.firstLine, `ménage ${p.card}: ${Object.values(checked.errors).join('; ')}`);
      preview.rejectedHouseholds++;
      return;
    }
    const h = { ...checked.value, beneficiaries: p.beneficiaries };
    preview.households++;
    preview.beneficiaries += h.beneficiaries.length;
    preview.perMutuelle[h.mutuelleId] = (preview.perMutuelle[h.mutuelleId] ?? 0) + 1;
    accept(h);
  };

  const input = createReadStream(path);
  const parser = input.pipe(
    // cast: a phone our exports (or a spreadsheet) wrote as '+223… is read as +223….
    parse({ bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, info: true, cast: restoreCell, columns: (header: string[]) => checkHeader(header) }),
  );
  // pipe() does not pass on a read error (a missing file): the parser must end with it.
  input.on('error', (err) => parser.destroy(err));
  try {
    for await (const { record: row, info } of parser as AsyncIterable<{ record: Row; info: { lines: number } }>) {
      const line = info.lines;
      preview.lines = line;
      onProgress?.(parser.info.bytes);
      const card = row.card_number.toUpperCase();
      if (!card) {
        problem(line, 'card_number: manquant');
        continue;
      }
      if (current?.card !== card) {
        finish(current);
        const again = seenCards.has(card);
        if (again) problem(line, `card_number: ${card} revient après d'autres ménages (ses lignes doivent se suivre)`);
        seenCards.add(card);
        const form: FormValues = {
          cardNumber: card, adherentName: row.adherent_name, phone: row.phone, language: row.language || 'fr', mutuelleId: row.mutuelle, joinedOn: row.joined_on,
        };
        current = { card, firstLine: line, form, beneficiaries: [], bad: again };
        const phone = row.phone.replace(/\s/g, '');
        const owner = seenPhones.get(phone);
        if (owner && owner !== card) {
          problem(line, `phone: ${row.phone} est déjà le téléphone de ${owner} dans ce fichier`);
          current.bad = true;
        } else seenPhones.set(phone, card);
      } else if (row.adherent_name !== current.form.adherentName || row.phone !== current.form.phone || row.mutuelle !== current.form.mutuelleId) {
        problem(line, `ménage ${card}: adherent_name, phone et mutuelle doivent être les mêmes sur chacune de ses lignes`);
        current.bad = true;
      }
      const b = checkBeneficiary(
        { name: row.beneficiary_name, relation: row.relation, birthYear: row.birth_year, subsidised: YES.has(row.subsidised.toLowerCase()) ? 'on' : '' },
        '',
        today,
      );
      if (b === null) {
        problem(line, 'beneficiary_name: manquant');
        current.bad = true;
      } else if ('error' in b) {
        problem(line, `bénéficiaire: ${b.error}`);
        current.bad = true;
      } else current.beneficiaries.push(b.value);
    }
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    throw new ImportFileError(`ligne ${(err as CsvError & { lines?: number }).lines ?? parser.info.lines}: ${err.message}`);
  }
  finish(current);
  return preview;
}

export class ImportFileError extends Error {}

function checkHeader(header: string[]): string[] {
  const names = header.map((h) => h.trim().toLowerCase());
  const missing = COLUMNS.filter((c) => !names.includes(c));
  if (missing.length) throw new ImportFileError(`ligne 1: colonne(s) manquante(s) ${missing.join(', ')}; attendu: ${COLUMNS.join(',')}`);
  return names;
}

/** Checks the whole file and says what an import would do; writes nothing. */
export function previewImport(path: string, deps: ImportDeps, today: string, onProgress?: (bytesRead: number) => void): Promise<ImportPreview> {
  return walk(path, deps, today, () => {}, onProgress);
}

/**
 * Imports the valid households of the file in one transaction (all of them or none), with one
 * audit row for the import. The file is read and checked again: what is written is what the check
 * accepts now. The valid households are gathered first (a few hundred bytes each) so that the
 * transaction is one synchronous write, never held open across reads of the file, on a connection
 * the server's other requests share.
 */
export async function runImport(path: string, deps: ImportDeps, actor: Actor, now: Date, onProgress?: (bytesRead: number) => void): Promise<ImportPreview> {
  const valid: NewHousehold[] = [];
  const preview = await walk(path, deps, bamakoDay(now), (h) => valid.push(h), onProgress);
  deps.db.transaction(() => {
    for (const h of valid) deps.households.create(h, now);
    deps.audit.record(actor, now, {
      action: 'members.import', entity: 'import', entityId: path.split('/').pop() ?? path,
      after: { households: preview.households, beneficiaries: preview.beneficiaries, rejectedHouseholds: preview.rejectedHouseholds, problems: preview.problemCount },
    });
  })();
  return preview;
}
