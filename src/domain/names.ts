/** A head of household's name as shown to someone else: first name and initials ("Bakary D."), enough to recognise, not to identify. */
export function maskName(fullName: string): string {
  const [first = '', ...rest] = fullName.trim().split(/\s+/);
  return `${first} ${rest.map((w) => `${w[0] ?? ''}.`).join(' ')}`.trim();
}

/** The first word of a name: what a health facility is shown of a patient (with the birth year to tell two apart). */
export function firstName(fullName: string): string {
  return fullName.trim().split(/\s+/)[0] ?? '';
}
