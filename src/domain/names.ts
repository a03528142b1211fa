/** A head of household's name as shown to someone else: first name and initials ("Bakary D."), enough to recognise, not to identify. */
export function maskName(fullName: string): string {
  const [first = '', ...rest] = fullName.trim().split(/\s+/);
  return `${first} ${rest.map((w) => `${w[0] ?? ''}.`).join(' ')}`.trim();
}
