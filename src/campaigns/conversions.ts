// Did the message make members pay? Members reached (message delivered) who paid within the window
// after delivery, against a comparison group over the same window from the campaign's start: a
// held-out control share when the campaign has one, otherwise the audience not reached (yet).
// Pure: the caller reads the rows.

export const CONVERSION_WINDOW_DAYS = 14;
const DAY_MS = 86_400_000;

export interface ConversionInput {
  /** Members whose message was delivered, and when. */
  reached: ReadonlyArray<{ householdId: number; deliveredMs: number }>;
  /** The comparison group, each from the instant its window opens. */
  comparison: ReadonlyArray<{ householdId: number; fromMs: number }>;
  comparisonKind: 'control' | 'not-reached';
  payments: ReadonlyArray<{ householdId: number; paidMs: number }>;
  windowDays?: number;
}

export interface GroupFigures {
  size: number;
  paid: number;
  /** paid / size, null for an empty group. */
  rate: number | null;
}

export interface Conversions {
  windowDays: number;
  reached: GroupFigures;
  comparisonKind: 'control' | 'not-reached';
  comparison: GroupFigures;
  /** reached.rate − comparison.rate (percentage points as a fraction), null when either is unknown. */
  difference: number | null;
}

/** Households with at least one payment in [from, from + window]. */
function countPaid(
  group: ReadonlyArray<{ householdId: number; fromMs: number }>,
  byHousehold: Map<number, number[]>,
  windowMs: number,
): number {
  let paid = 0;
  for (const m of group) {
    const times = byHousehold.get(m.householdId);
    if (times?.some((t) => t >= m.fromMs && t <= m.fromMs + windowMs)) paid++;
  }
  return paid;
}

const figures = (size: number, paid: number): GroupFigures => ({ size, paid, rate: size === 0 ? null : paid / size });

export function conversions(input: ConversionInput): Conversions {
  const windowDays = input.windowDays ?? CONVERSION_WINDOW_DAYS;
  const windowMs = windowDays * DAY_MS;
  const byHousehold = new Map<number, number[]>();
  for (const p of input.payments) {
    const list = byHousehold.get(p.householdId);
    if (list) list.push(p.paidMs);
    else byHousehold.set(p.householdId, [p.paidMs]);
  }
  const reachedGroup = input.reached.map((r) => ({ householdId: r.householdId, fromMs: r.deliveredMs }));
  const reached = figures(reachedGroup.length, countPaid(reachedGroup, byHousehold, windowMs));
  const comparison = figures(input.comparison.length, countPaid(input.comparison, byHousehold, windowMs));
  return {
    windowDays,
    reached,
    comparisonKind: input.comparisonKind,
    comparison,
    difference: reached.rate === null || comparison.rate === null ? null : reached.rate - comparison.rate,
  };
}
