import { expect, it } from 'vitest';

/**
 * What every callback-table row asserts of an answer: never a 5xx, the row's status (and, when
 * the answer's type is given, text/plain), and each expected fragment of the body.
 */
export function expectAnswer(
  res: { status: number; body: string; type?: string },
  row: { status: number; says: string | readonly string[] },
): void {
  expect(res.status, res.body).toBeLessThan(500);
  if (res.type === undefined) expect(res.status, res.body).toBe(row.status);
  else
    expect({ status: res.status, type: res.type }, res.body).toEqual({ status: row.status, type: expect.stringMatching(/^text\/plain/) });
  for (const fragment of [row.says].flat()) expect(res.body).toContain(fragment);
}

/** The table's last test: every label distinct, every row answered, none with a 5xx. */
export function itAnsweredEveryRow(rows: ReadonlyArray<{ label: string }>, statuses: ReadonlyMap<string, number>): void {
  it('answered every row of the table, and none with a 5xx', () => {
    expect(new Set(rows.map((r) => r.label)).size).toBe(rows.length);
    expect(statuses.size).toBe(rows.length);
    expect([...statuses].filter(([, status]) => status >= 500)).toEqual([]);
  });
}
