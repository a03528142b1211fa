/**
 * Native review of the Bambara catalog, as a workflow: an export a reviewer at UTM opens in a
 * spreadsheet (key, French, Bambara, where the member meets it, status, doubt), an import that applies
 * the corrections and marks them reviewed, and the list the console shows (doubtful terms first).
 *
 * An import is all or nothing: every bad line is reported with its number, and nothing is written
 * unless the whole file is good and the catalogs still pass `flows check` with it.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CsvError, parse } from 'csv-parse/sync';
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { flows } from '../../flows/index.ts';
import { type Choice, FLOW_NAMES, type ScreenMeta } from '../../flows/lib.ts';
import { restoreCell, toCsv } from '../csv.ts';
import { type Catalogs, type Entry, loadCatalogs, placeholders } from '../i18n/catalog.ts';
import { unfoldable } from '../i18n/gsm7.ts';
import { checkFlows } from './check.ts';

export const CATALOG_DIR = fileURLToPath(new URL('../../flows/messages/', import.meta.url));

/** The spreadsheet's columns, in French for UTM's reviewers. */
export const REVIEW_HEADER = ['clé', 'français', 'bambara', 'où', 'statut', 'doute'] as const;

const STATUS_FR = { pending: 'à relire', reviewed: 'relu' } as const;

export interface ReviewItem {
  key: string;
  fr: string;
  bm: string;
  where: string[];
  status: 'pending' | 'reviewed';
  doubt: string | null;
}

const allNodes = (node: AnyStateNode): AnyStateNode[] => [
  node,
  ...Object.values(node.states as Record<string, AnyStateNode>).flatMap(allNodes),
];

/** Screens the engine shows by itself, and the words every screen may carry. */
const ENGINE_USES: Record<string, string> = {
  'resume.offer': 'moteur: reprise de session',
  'resume.yes': 'moteur: reprise de session',
  'resume.no': 'moteur: reprise de session',
  'error.tooMany': 'moteur: trop d’erreurs',
  'common.failed': 'moteur: service indisponible',
  'session.moved': 'moteur: session déplacée',
};

const PREFIX_USES: Array<[string, string]> = [
  ['nav.', 'navigation, sur tous les écrans'],
  ['error.', 'ligne d’erreur, au-dessus de l’écran'],
  ['status.', 'état de couverture, dans les écrans et SMS'],
  ['month.', 'nom de mois, dans les écrans et SMS'],
  ['channel.', 'moyen de paiement, dans l’historique'],
  ['bearer.', 'qui paie les frais, à la confirmation'],
  ['sms.receipt.', 'SMS: reçu de paiement'],
  ['sms.payment.', 'SMS: paiement non abouti'],
  ['sms.coverage.', 'SMS: réponse au mot-clé de couverture'],
  ['sms.reminder.', 'SMS: rappel de fin de couverture'],
  ['sms.callback', 'SMS: demande d’appel enregistrée'],
  ['sms.', 'SMS: réponse à un mot-clé'],
  ['facility.sms.', 'SMS: visite enregistrée par un centre de santé, et la réponse NON'],
  ['facility.care.', 'nature des soins, au centre de santé et dans le SMS de visite'],
];

/** Where each message key appears: flow and state for a screen or a choice, or the SMS kind. */
export function usesOf(): Map<string, string[]> {
  const uses = new Map<string, Set<string>>();
  const add = (key: string | undefined, where: string) => {
    if (!key) return;
    if (!uses.has(key)) uses.set(key, new Set());
    uses.get(key)?.add(where);
  };
  for (const name of FLOW_NAMES) {
    const machine = flows[name] as AnyStateMachine;
    for (const node of allNodes(machine.root as AnyStateNode)) {
      const meta = node.meta as ScreenMeta<unknown> | undefined;
      if (!meta?.screen) continue;
      const where = `${name}/${node.path.join('.')}`;
      add(meta.screen, where);
      add(meta.lines?.key, where);
      if (typeof meta.choices !== 'function')
        for (const c of (meta.choices as readonly Choice[] | undefined) ?? []) add(c.labelKey ?? c.value, where);
    }
  }
  for (const [key, where] of Object.entries(ENGINE_USES)) add(key, where);
  const out = new Map<string, string[]>();
  for (const [k, v] of uses) out.set(k, [...v]);
  return out;
}

function whereOf(key: string, uses: Map<string, string[]>): string[] {
  const found = uses.get(key);
  if (found?.length) return found;
  const prefix = PREFIX_USES.find(([p]) => key.startsWith(p));
  return prefix ? [prefix[1]] : ['choix ou écran construit par un parcours (voir flows/)'];
}

/** Every Bambara message: doubtful ones first, then those awaiting review, then the reviewed; by key within each. */
export function reviewItems(catalogs: Catalogs = loadCatalogs()): ReviewItem[] {
  const uses = usesOf();
  const items = [...catalogs.bm.entries()].map(
    ([key, e]): ReviewItem => ({
      key,
      fr: catalogs.fr.get(key)?.text ?? '',
      bm: e.text,
      where: whereOf(key, uses),
      status: e.review === 'reviewed' ? 'reviewed' : 'pending',
      doubt: e.doubt ?? null,
    }),
  );
  const rank = (i: ReviewItem) => (i.status === 'reviewed' ? 2 : i.doubt ? 0 : 1);
  return items.sort((a, b) => rank(a) - rank(b) || a.key.localeCompare(b.key));
}

/** The review spreadsheet: UTF-8 with a BOM (so Excel reads the Bambara letters), formula cells neutralised. */
export function exportReviewCsv(catalogs: Catalogs = loadCatalogs()): string {
  const rows = reviewItems(catalogs).map((i) => [i.key, i.fr, i.bm, i.where.join('; '), STATUS_FR[i.status], i.doubt ?? '']);
  return `\uFEFF${toCsv([[...REVIEW_HEADER], ...rows])}`;
}

export interface ReviewImportError {
  line: number;
  message: string;
}

export interface ReviewImportResult {
  errors: ReviewImportError[];
  /** Keys whose Bambara text changed. */
  changed: string[];
  /** Keys newly marked reviewed. */
  reviewed: string[];
  /** The Bambara catalog as it would be written (null on error). */
  bm: Record<string, unknown> | null;
}

const HEADER_NAMES: Record<string, (typeof REVIEW_HEADER)[number]> = {
  clé: 'clé',
  cle: 'clé',
  key: 'clé',
  français: 'français',
  francais: 'français',
  french: 'français',
  fr: 'français',
  bambara: 'bambara',
  bamanankan: 'bambara',
  bm: 'bambara',
  où: 'où',
  ou: 'où',
  where: 'où',
  statut: 'statut',
  status: 'statut',
  doute: 'doute',
  doubt: 'doute',
};

function statusOf(cell: string): 'pending' | 'reviewed' | null {
  const s = cell.trim().toLowerCase();
  if (s === '' || s === 'relu' || s === 'reviewed') return 'reviewed';
  if (s === 'à relire' || s === 'a relire' || s === 'pending') return 'pending';
  return null;
}

/**
 * Applies a review spreadsheet to the Bambara catalog (as read from `dir`). Each row's Bambara text
 * replaces the catalog's; its status is `relu` (also when left empty: the reviewer read it) or
 * `à relire`; a reviewed message loses its doubt, one still to review keeps the doubt as written.
 */
export function importReviewCsv(csvText: string, dir: string = CATALOG_DIR): ReviewImportResult {
  const fail = (errors: ReviewImportError[]): ReviewImportResult => ({ errors, changed: [], reviewed: [], bm: null });
  const text = csvText.replace(/^\uFEFF/, '');
  let records: Array<{ record: string[]; info: { lines: number }; raw: string }>;
  try {
    records = parse(text, { skip_empty_lines: true, relax_column_count: true, info: true, raw: true }) as unknown as typeof records;
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    const line = typeof (err as { lines?: unknown }).lines === 'number' ? (err as unknown as { lines: number }).lines : 1;
    return fail([{ line, message: `CSV illisible: ${err.message.replace(/\s+at line \d+\b/, '')}` }]);
  }
  // A record's first line: where it ends, less the line breaks inside it (multi-line cells).
  const lineOf = (r: (typeof records)[number]) => r.info.lines - (r.raw.replace(/\r?\n$/, '').match(/\n/g)?.length ?? 0);
  const head = records[0];
  if (!head) return fail([{ line: 1, message: 'fichier vide' }]);
  const columns = head.record.map((c) => HEADER_NAMES[restoreCell(c).trim().toLowerCase()]);
  const col = (name: (typeof REVIEW_HEADER)[number]) => columns.indexOf(name);
  const missing = (['clé', 'bambara', 'statut'] as const).filter((c) => col(c) < 0);
  if (missing.length)
    return fail([{ line: lineOf(head), message: `colonnes manquantes: ${missing.join(', ')} (attendu: ${REVIEW_HEADER.join(', ')})` }]);

  const raw = JSON.parse(readFileSync(`${dir}/bm.json`, 'utf8')) as Record<string, unknown>;
  const catalogs = loadCatalogs(dir);
  const errors: ReviewImportError[] = [];
  const changed: string[] = [];
  const reviewed: string[] = [];
  const lineOfKey = new Map<string, number>();
  const next: Record<string, unknown> = { ...raw };
  for (const r of records.slice(1)) {
    const line = lineOf(r);
    const cell = (name: (typeof REVIEW_HEADER)[number]) => (col(name) >= 0 ? restoreCell(r.record[col(name)] ?? '') : '');
    const key = cell('clé').trim();
    const bm = cell('bambara').replace(/\r\n/g, '\n').trim();
    const status = statusOf(cell('statut'));
    const doubt = cell('doute').trim();
    if (key === '') {
      errors.push({ line, message: 'clé vide' });
      continue;
    }
    const entry = catalogs.bm.get(key);
    const fr = catalogs.fr.get(key);
    if (!entry || !fr) {
      errors.push({ line, message: `clé inconnue "${key}"` });
      continue;
    }
    if (lineOfKey.has(key)) {
      errors.push({ line, message: `clé "${key}" déjà vue ligne ${lineOfKey.get(key)}` });
      continue;
    }
    lineOfKey.set(key, line);
    if (status === null) {
      errors.push({ line, message: `statut "${cell('statut')}" inconnu: "relu" ou "à relire"` });
      continue;
    }
    if (bm === '') {
      errors.push({ line, message: `"${key}": texte bambara vide` });
      continue;
    }
    const bad = unfoldable(bm);
    if (bad.length) {
      errors.push({ line, message: `"${key}": caractères impossibles à envoyer en GSM-7: ${bad.join(' ')}` });
      continue;
    }
    const want = placeholders(fr.text).sort().join(', ');
    const got = placeholders(bm).sort().join(', ');
    if (want !== got) {
      errors.push({
        line,
        message: `"${key}": les champs entre accolades doivent être ceux du français ({${want || '—'}}), trouvé ({${got || '—'}})`,
      });
      continue;
    }
    const updated: Entry = { text: bm, review: status };
    if (status === 'pending' && doubt) updated.doubt = doubt;
    if (bm !== entry.text) changed.push(key);
    if (status === 'reviewed' && entry.review !== 'reviewed') reviewed.push(key);
    next[key] = updated;
  }
  if (errors.length) return fail(errors);

  // The corrected catalog must still fit every screen and SMS (20 columns included).
  const trial: Catalogs = {
    fr: catalogs.fr,
    bm: new Map(Object.entries(next).filter(([k]) => !k.startsWith('$')) as Array<[string, Entry]>),
  };
  const problems = checkFlows(trial).problems.filter((p) => /\(bm\)|^bm |bm\.json/.test(p));
  for (const p of problems) {
    const key = [...lineOfKey.keys()].find((k) => p.includes(`"${k}"`) || p.includes(` ${k} `));
    errors.push({ line: key ? (lineOfKey.get(key) as number) : 1, message: `écran ou SMS refusé par flows check: ${p}` });
  }
  if (errors.length) return fail(errors.sort((a, b) => a.line - b.line));
  return { errors: [], changed, reviewed, bm: next };
}

/** Writes the Bambara catalog atomically, in the file's own layout (two-space JSON, final newline). */
export function writeBambaraCatalog(bm: Record<string, unknown>, dir: string = CATALOG_DIR): void {
  const path = `${dir}/bm.json`;
  writeFileSync(`${path}.tmp`, `${JSON.stringify(bm, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}
