/**
 * An explicit audience: a CSV of phone numbers (UTM's staff export them from a spreadsheet).
 *
 * The phone is the first column; other columns (a name, a note) are ignored. A first row whose
 * first field has no digit is a header (`phone`, `téléphone`…). Numbers are E.164 (`+22376000001`)
 * or Malian national numbers of 8 digits (`76 00 00 01`, spaces, dots and dashes allowed). Lines
 * starting with `#` are comments; blank lines are skipped; a number listed twice counts once.
 * One bad line refuses the list, with every bad line and its number, so nobody is silently left out.
 */
import { CsvError, parse } from 'csv-parse/sync';
import { restoreCell } from '../csv.ts';
import { checkRecipient, SmsRejected } from '../sms/outbox.ts';

export interface PhoneListError {
  line: number;
  message: string;
}

export interface PhoneList {
  phones: string[];
  duplicates: number;
  errors: PhoneListError[];
}

function normalise(raw: string): string {
  const compact = raw.replace(/[\s.\-()]/g, '');
  if (/^\d{8}$/.test(compact)) return `+223${compact}`;
  if (/^00[1-9]\d+$/.test(compact)) return `+${compact.slice(2)}`;
  return compact;
}

export function parsePhoneCsv(csvText: string): PhoneList {
  const text = csvText.replace(/^\uFEFF/, '');
  const out: PhoneList = { phones: [], duplicates: 0, errors: [] };
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, {
      comment: '#',
      comment_no_infix: true,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
      info: true,
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    const line = typeof (err as { lines?: unknown }).lines === 'number' ? (err as unknown as { lines: number }).lines : 1;
    out.errors.push({ line, message: `CSV syntax: ${err.message.replace(/\s+at line \d+\b/, '')}` });
    return out;
  }
  const seen = new Set<string>();
  records.forEach(({ record, info }, i) => {
    const raw = restoreCell(record[0] ?? '');
    if (i === 0 && !/\d/.test(raw)) return;
    if (raw === '') {
      out.errors.push({ line: info.lines, message: 'no phone number in the first column' });
      return;
    }
    try {
      const phone = checkRecipient(normalise(raw));
      if (seen.has(phone)) out.duplicates++;
      else {
        seen.add(phone);
        out.phones.push(phone);
      }
    } catch (err) {
      if (!(err instanceof SmsRejected)) throw err;
      out.errors.push({ line: info.lines, message: `${JSON.stringify(raw)}: ${err.message}` });
    }
  });
  if (out.phones.length === 0 && out.errors.length === 0) out.errors.push({ line: 1, message: 'the list has no phone number' });
  return out;
}
