import { createReadStream, statSync } from 'node:fs';
import Papa from 'papaparse';
import { bamakoDay } from '../clock.ts';
import { restoreCell } from '../csv.ts';
import type { Db } from '../db/connection.ts';
import type { HouseholdStore, NewHousehold } from '../db/households.ts';
import { createImportStore, type ImportStore, type StagedHousehold } from '../db/imports.ts';
import type { MutuelleStore } from '../db/mutuelles.ts';
import { atomically } from '../db/transaction.ts';
import { Refusal } from '../domain/refusal.ts';
import type { Actor, Audit } from './audit.ts';
import { checkBeneficiary, checkHousehold, type FormValues, mobileNumber, mutuelleIds } from './registration.ts';

/**
 * Members from a CSV file, one line per beneficiary; the household's columns repeat on each of its
 * lines, which must follow one another:
 *
 *   card_number,adherent_name,phone,language,mutuelle,joined_on,beneficiary_name,relation,birth_year,subsidised
 *
 * The file is read and checked once, as a stream: the check writes the households it accepts to
 * the database as it goes (src/db/imports.ts), nothing of them to the members' tables. After the
 * officer confirms, those checked households are written in one transaction, without reading the
 * file again. Memory holds a few thousand lines at a time (READ_AHEAD) or a chunk of households
 * (STAGE_CHUNK) and the set of cards and phones seen, never the file, while checking or writing.
 */
export const COLUMNS = [
  'card_number',
  'adherent_name',
  'phone',
  'language',
  'mutuelle',
  'joined_on',
  'beneficiary_name',
  'relation',
  'birth_year',
  'subsidised',
] as const;
/** Each column's place in COLUMNS, and so in the positions read from the header. */
const CARD = COLUMNS.indexOf('card_number');
const ADHERENT = COLUMNS.indexOf('adherent_name');
const PHONE = COLUMNS.indexOf('phone');
const LANGUAGE = COLUMNS.indexOf('language');
const MUTUELLE = COLUMNS.indexOf('mutuelle');
const JOINED = COLUMNS.indexOf('joined_on');
const BENEFICIARY = COLUMNS.indexOf('beneficiary_name');
const RELATION = COLUMNS.indexOf('relation');
const BIRTH_YEAR = COLUMNS.indexOf('birth_year');
const SUBSIDISED = COLUMNS.indexOf('subsidised');

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

export interface ImportDeps {
  db: Db;
  households: HouseholdStore;
  mutuelles: MutuelleStore;
  audit: Audit;
}

/** Lines checked together, their households' cards and phones looked up in one go (bounded: this many records in memory). */
const READ_AHEAD = 2000;

/** Households staged per row (one write each) while checking, and so written per call of createMany. */
const STAGE_CHUNK = 500;

/**
 * Reads and checks the file, handing each household whose lines are all valid to `accept` with
 * its first line. Problems are collected with their line numbers; `onProgress` reports the bytes read.
 */
async function walk(
  path: string,
  deps: ImportDeps,
  today: string,
  accept: (h: NewHousehold, line: number) => void,
  onProgress?: (bytesRead: number) => void,
): Promise<ImportPreview> {
  const preview: ImportPreview = {
    households: 0,
    beneficiaries: 0,
    perMutuelle: {},
    problems: [],
    problemCount: 0,
    rejectedHouseholds: 0,
    lines: 0,
  };
  const problem = (line: number, message: string) => {
    preview.problemCount++;
    if (preview.problems.length < MAX_PROBLEMS) preview.problems.push({ line, message: detached(message) });
  };
  const known = mutuelleIds(deps.mutuelles);
  const seenCards = new Set<string>();
  const seenPhones = new Map<string, string>();
  let current = null as Pending | null;
  /** What the database says of the cards and phones of the records read ahead (see flush). */
  let taken: ReturnType<HouseholdStore['takenAmong']> = { cards: new Map(), phones: new Map() };
  const lookups: Pick<HouseholdStore, 'hasCard' | 'phoneOwner'> = {
    hasCard: (card) => taken.cards.get(card) ?? deps.households.hasCard(card),
    phoneOwner: (phone) => {
      const owner = taken.phones.get(phone);
      return owner === undefined ? deps.households.phoneOwner(phone) : (owner ?? undefined);
    },
  };
  const checkDeps = { mutuelles: deps.mutuelles, households: lookups };

  const finish = (p: Pending | null) => {
    if (!p) return;
    if (p.bad || p.beneficiaries.length === 0) {
      preview.rejectedHouseholds++;
      return;
    }
    const checked = checkHousehold({ ...p.form }, checkDeps, { today, withBeneficiaries: false, mutuelleIds: known });
    if (!checked.ok) {
      problem(p.firstLine, `ménage ${p.card}: ${Object.values(checked.errors).join('; ')}`);
      preview.rejectedHouseholds++;
      return;
    }
    const h = { ...checked.value, beneficiaries: p.beneficiaries };
    preview.households++;
    preview.beneficiaries += h.beneficiaries.length;
    preview.perMutuelle[h.mutuelleId] = (preview.perMutuelle[h.mutuelleId] ?? 0) + 1;
    accept(h, p.firstLine);
  };

  /** Column positions, from the header, in the order of COLUMNS. */
  let at: number[] | undefined;
  /**
   * The cell of a column (its place in COLUMNS), trimmed as a spreadsheet's spaces around a value are
   * not part of it (trim() also drops a byte-order mark); what our exports (or a spreadsheet) wrote
   * as '+223… is read as +223….
   */
  const cell = (fields: string[], column: number) => restoreCell((fields[(at as number[])[column] as number] ?? '').trim());
  /**
   * Records read ahead: the database is asked about their households' cards and phones in one go
   * (takenAmong), then they are checked in order as they would be one by one.
   */
  const ahead: Array<[string[], number]> = [];
  const flush = () => {
    // Nothing read since: the household under way keeps the answers it was read with.
    if (ahead.length === 0) return;
    const cards = new Set<string>();
    const phones = new Set<string>();
    const ask = (card: string, phoneTyped: string) => {
      cards.add(card);
      const phone = mobileNumber(phoneTyped);
      if (phone) phones.add(phone);
    };
    // The household under way is finished (and checked) by the first record of another.
    if (current) ask(current.card, current.form.phone ?? '');
    let card: string | undefined = current?.card;
    for (const [fields] of ahead) {
      const next = cell(fields, CARD).toUpperCase();
      if (next !== card) ask((card = next), cell(fields, PHONE));
    }
    taken = deps.households.takenAmong([...cards], [...phones]);
    for (const [fields, line] of ahead) onLine(fields, line);
    ahead.length = 0;
  };
  const onRecord = (fields: string[], line: number) => {
    if (!at) {
      at = checkHeader(fields);
      return;
    }
    ahead.push([fields, line]);
    if (ahead.length === READ_AHEAD) flush();
  };
  const onLine = (fields: string[], line: number) => {
    preview.lines = line;
    const card = cell(fields, CARD).toUpperCase();
    if (!card) {
      problem(line, 'card_number: manquant');
      return;
    }
    const adherentName = cell(fields, ADHERENT);
    const phoneTyped = cell(fields, PHONE);
    const mutuelle = cell(fields, MUTUELLE);
    if (current?.card !== card) {
      finish(current);
      const again = seenCards.has(card);
      if (again) problem(line, `card_number: ${card} revient après d'autres ménages (ses lignes doivent se suivre)`);
      seenCards.add(detached(card));
      const form: FormValues = {
        cardNumber: card,
        adherentName,
        phone: phoneTyped,
        language: cell(fields, LANGUAGE) || 'fr',
        mutuelleId: mutuelle,
        joinedOn: cell(fields, JOINED),
      };
      current = { card, firstLine: line, form, beneficiaries: [], bad: again };
      const phone = phoneTyped.replace(/\s/g, '');
      const owner = seenPhones.get(phone);
      if (owner && owner !== card) {
        problem(line, `phone: ${phoneTyped} est déjà le téléphone de ${owner} dans ce fichier`);
        current.bad = true;
      } else seenPhones.set(detached(phone), detached(card));
    } else if (adherentName !== current.form.adherentName || phoneTyped !== current.form.phone || mutuelle !== current.form.mutuelleId) {
      problem(line, `ménage ${card}: adherent_name, phone et mutuelle doivent être les mêmes sur chacune de ses lignes`);
      current.bad = true;
    }
    const b = checkBeneficiary(
      {
        name: cell(fields, BENEFICIARY),
        relation: cell(fields, RELATION),
        birthYear: cell(fields, BIRTH_YEAR),
        subsidised: YES.has(cell(fields, SUBSIDISED).toLowerCase()) ? 'on' : '',
      },
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
  };

  await readRecords(path, onRecord, onProgress);
  flush();
  finish(current);
  return preview;
}

/**
 * A copy of a field that does not keep the text it was cut from alive. V8 keeps a substring of 13
 * characters or more as a view of its parent, and the parser's fields are substrings of the file's
 * 64 KB chunks: kept in the cards and phones seen, each card kept its chunk, by the end of a check
 * the whole file (a 50 000-household check's heap grew by some 20 MB, measured), and each of the
 * first 1 000 problems (a message built around a card or a phone) its own. Flattening the
 * concatenation copies the characters into a string of their own, which the slice then views.
 */
function detached(field: string): string {
  return ` ${field}`.slice(1);
}

/** A members file that cannot be read as one (the line at fault in French, for the office). */
export class ImportFileError extends Refusal {
  constructor(message: string) {
    super(message, 'file');
  }
}

/** Where each of COLUMNS is in the file, in the order of COLUMNS. */
function checkHeader(header: string[]): number[] {
  const names = header.map((h) => h.trim().toLowerCase());
  const missing = COLUMNS.filter((c) => !names.includes(c));
  if (missing.length) throw new ImportFileError(`ligne 1: colonne(s) manquante(s) ${missing.join(', ')}; attendu: ${COLUMNS.join(',')}`);
  return COLUMNS.map((c) => names.indexOf(c));
}

/** What a quote error of the parser means, for the office. */
const QUOTE_PROBLEMS: Readonly<Record<string, string>> = {
  MissingQuotes: 'guillemet ouvert jamais fermé',
  InvalidQuotes: 'guillemet mal placé (un champ entre guillemets doit finir par un guillemet suivi de la virgule)',
};

/**
 * Reads the file as a stream, handing each record to `onRecord` with the line it ends on: quoted
 * newlines and blank lines counted, as a spreadsheet numbers them; blank lines skipped. PapaParse
 * rather than csv-parse, which reads the other, small CSV files: on a file of 50 000 households it parses
 * in a quarter of the time (measured), and this is the one bulk file. A quote left open or
 * misplaced is an ImportFileError naming the line where its record starts.
 */
function readRecords(
  path: string,
  onRecord: (fields: string[], line: number) => void,
  onProgress?: (bytesRead: number) => void,
): Promise<void> {
  // Decoded as UTF-8 by the stream, so that a character split across two chunks stays whole.
  const input = createReadStream(path, { encoding: 'utf8' });
  if (onProgress) input.on('data', () => onProgress(input.bytesRead));
  let line = 0;
  return new Promise((resolve, reject) => {
    Papa.parse<string[]>(input, {
      delimiter: ',',
      step: (row, parser) => {
        const start = line + 1;
        const fields = row.data;
        line = start;
        for (const f of fields) for (let i = f.indexOf('\n'); i >= 0; i = f.indexOf('\n', i + 1)) line++;
        try {
          const quote = row.errors.find((e) => e.type === 'Quotes');
          if (quote) throw new ImportFileError(`ligne ${start}: ${QUOTE_PROBLEMS[quote.code] ?? quote.message}`);
          if (fields.length === 1 && fields[0] === '') return;
          onRecord(fields, line);
        } catch (err) {
          // Rejected first: aborting calls `complete`, whose resolve then changes nothing.
          reject(err);
          parser.abort();
          input.destroy();
        }
      },
      complete: () => resolve(),
      error: (err: Error) => reject(err),
    });
  });
}

/** Checks the file and keeps what it accepts under `path` (src/db/imports.ts), with what it reports. */
async function check(
  path: string,
  deps: ImportDeps,
  store: ImportStore,
  today: string,
  onProgress?: (bytesRead: number) => void,
): Promise<ImportPreview> {
  const { size, mtimeMs } = statSync(path);
  store.begin(path, { size, mtimeMs: Math.trunc(mtimeMs), today });
  try {
    const staged: StagedHousehold[] = [];
    const preview = await walk(
      path,
      deps,
      today,
      (household, line) => {
        staged.push({ line, household });
        if (staged.length === STAGE_CHUNK) store.stage(path, staged.splice(0));
      },
      onProgress,
    );
    store.stage(path, staged);
    store.finish(path, preview);
    return preview;
  } catch (err) {
    store.discard(path);
    throw err;
  }
}

/**
 * Checks the whole file and says what an import would do, keeping what it accepts for runImport
 * (`keep: false`, a check alone: nothing kept). Writes nothing to the members' tables.
 */
export function previewImport(
  path: string,
  deps: ImportDeps,
  today: string,
  onProgress?: (bytesRead: number) => void,
  opts: { keep?: boolean } = {},
): Promise<ImportPreview> {
  if (opts.keep === false) return walk(path, deps, today, () => {}, onProgress);
  return check(path, deps, createImportStore(deps.db), today, onProgress);
}

/** Forgets the check of a file that will not be imported (the officer said no). */
export function forgetImport(path: string, deps: ImportDeps): void {
  createImportStore(deps.db).discard(path);
}

/**
 * Imports the households the check of the file accepted, in one transaction (all of them or
 * none), with one audit row for the import. The file is checked first if it was not, or if it
 * changed, or on another day, since. The database guards the one thing another writer can change
 * meanwhile, cards and phones: a household whose card or phone was registered since the check is
 * left out with the problem the check would now report. The transaction is one synchronous write,
 * never held open across reads of the file, on a connection the server's other requests share.
 */
export async function runImport(
  path: string,
  deps: ImportDeps,
  actor: Actor,
  now: Date,
  onProgress?: (bytesRead: number) => void,
): Promise<ImportPreview> {
  const store = createImportStore(deps.db);
  const today = bamakoDay(now);
  const { size, mtimeMs } = statSync(path);
  let checked = store.checked<ImportPreview>(path);
  if (!checked || checked.size !== size || checked.mtimeMs !== Math.trunc(mtimeMs) || checked.today !== today) {
    await check(path, deps, store, today, onProgress);
    checked = store.checked<ImportPreview>(path) as NonNullable<typeof checked>;
  } else onProgress?.(size);
  const preview = checked.preview;
  atomically(deps.db, () => {
    for (let chunk = store.next(path, 0); chunk; chunk = store.next(path, chunk.seq)) {
      const page = chunk.households;
      const ids = deps.households.createMany(
        page.map((s) => s.household),
        now,
      );
      page.forEach((s, i) => {
        if (ids[i] === null) leftOut(s, deps, preview);
      });
    }
    deps.audit.record(actor, now, {
      action: 'members.import',
      entity: 'import',
      entityId: path.split('/').pop() ?? path,
      after: {
        households: preview.households,
        beneficiaries: preview.beneficiaries,
        rejectedHouseholds: preview.rejectedHouseholds,
        problems: preview.problemCount,
      },
    });
    store.discard(path);
  });
  return preview;
}

/** A checked household whose card or phone was registered since the check: counted out, with the problem the check would now report. */
function leftOut(s: StagedHousehold, deps: ImportDeps, preview: ImportPreview): void {
  const h = s.household;
  const owner = deps.households.findByPhone(h.phone);
  const why = deps.households.findByCard(h.cardNumber)
    ? 'ce numéro de carte existe déjà'
    : owner
      ? `déjà le téléphone du ménage ${owner.cardNumber} (${owner.adherentName})`
      : undefined;
  if (why === undefined)
    throw new Error(`ménage ${h.cardNumber}: refused by the database, though neither its card nor its phone is registered`);
  preview.problemCount++;
  if (preview.problems.length < MAX_PROBLEMS) preview.problems.push({ line: s.line, message: `ménage ${h.cardNumber}: ${why}` });
  preview.households--;
  preview.beneficiaries -= h.beneficiaries.length;
  preview.perMutuelle[h.mutuelleId] = (preview.perMutuelle[h.mutuelleId] ?? 1) - 1;
  preview.rejectedHouseholds++;
}
