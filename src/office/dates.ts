/**
 * Dates in the console are typed and shown as JJ/MM/AAAA, whatever the browser's language: the
 * forms use text fields with that pattern (an `<input type="date">` shows the browser's own format,
 * MM/DD/YYYY on an English Windows, and cannot be told otherwise), parsed here on the server.
 * ISO dates (AAAA-MM-JJ) are still accepted, for links and bookmarks made before.
 */
const DMY = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
const DMY_TIME = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+|\s*à\s*)(\d{1,2})[:h](\d{2})$/;

const pad = (n: string) => n.padStart(2, '0');

/** 'JJ/MM/AAAA' → 'AAAA-MM-JJ'; anything else is returned as it came, for the validator to refuse. */
export function parseDay(input: string): string {
  const s = input.trim();
  const m = DMY.exec(s);
  return m ? `${m[3]}-${pad(m[2] as string)}-${pad(m[1] as string)}` : s;
}

/** 'JJ/MM/AAAA HH:MM' (Bamako) → 'AAAA-MM-JJTHH:MM'; anything else as it came. */
export function parseDayTime(input: string): string {
  const s = input.trim();
  const m = DMY_TIME.exec(s);
  return m ? `${m[3]}-${pad(m[2] as string)}-${pad(m[1] as string)}T${pad(m[4] as string)}:${m[5]}` : s;
}

/** A day as the forms show it: 'AAAA-MM-JJ' → 'JJ/MM/AAAA'; empty stays empty; other text is kept to be corrected. */
export function dayInput(value: string | null | undefined): string {
  if (!value) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : value;
}

/** A time as the campaign form shows it: 'AAAA-MM-JJTHH:MM' → 'JJ/MM/AAAA HH:MM'. */
export function dayTimeInput(value: string | null | undefined): string {
  if (!value) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})/.exec(value);
  return m ? `${m[3]}/${m[2]}/${m[1]} ${m[4]}:${m[5]}` : value;
}
