/**
 * A member on a feature phone, as the crash tests and scripts/crash-run.ts play one: walks the
 * menus over POST /ussd with a cumulative `text`, finding options by their number and screens by
 * their shape rather than their wording (the wording changes; the contracts below do not):
 *
 * - main menu: `2` is contribute (design.md, Contracts);
 * - contribute menu: the suggested amounts first, then "other amount", then "another household";
 * - the quote offers `1` confirm and `2` cancel (isQuote);
 * - a payment already waiting shows one choice (cancel it) and its amounts;
 * - the resume offer after a cut contribution: the main menu with its usual numbers and one more
 *   choice after them, which resumes (isResumeOffer, resumeKey).
 */
import { type Client, isQuote, isResumeOffer, options, resumeKey, type Screen } from './server-child.ts';

export type Walk =
  | { kind: 'quote'; texts: string[]; screen: Screen }
  | { kind: 'waiting'; texts: string[]; screen: Screen }
  | { kind: 'other'; texts: string[]; screen: Screen };

export class Session {
  readonly inputs: string[] = [];
  last: Screen | undefined;
  constructor(
    readonly client: Client,
    readonly id: string,
    readonly phone: string,
  ) {}

  get text(): string {
    return this.inputs.join('*');
  }

  /** Dials (the first hop, empty text). */
  async dial(): Promise<Screen> {
    this.last = await this.client.ussd(this.id, this.phone, '');
    return this.last;
  }

  /** Types an answer: the next hop, with the cumulative text. */
  async answer(input: string): Promise<Screen> {
    this.inputs.push(input);
    this.last = await this.client.ussd(this.id, this.phone, this.text);
    return this.last;
  }

  /** The same hop again, as the gateway does after a lost answer. */
  async retry(): Promise<Screen> {
    this.last = await this.client.ussd(this.id, this.phone, this.text);
    return this.last;
  }

  /** Sends the next answer without waiting for the screen (for a kill in flight); never rejects. */
  answerInFlight(input: string): Promise<Screen | Error> {
    this.inputs.push(input);
    return this.client.ussd(this.id, this.phone, this.text).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
  }
}

/** What a contribute menu offers: the suggested amounts' options, "other amount", "another household". */
export function contributeMenu(body: string): { suggested: string[]; other: string; household: string } | undefined {
  const o = options(body);
  if (o.length < 3 || !/FCFA/.test(body)) return undefined;
  return { suggested: o.slice(0, -2), other: o[o.length - 2] as string, household: o[o.length - 1] as string };
}

/** A payment already waiting for the PIN: its screen offers a single choice (cancel it) and shows its amounts. */
export function isWaitingPayment(body: string): boolean {
  return body.startsWith('CON') && /FCFA/.test(body) && options(body).length === 1;
}

/**
 * From dialling to the quote: home, `2`, then a suggested amount (index `suggested`) or "other
 * amount" and `amount`. Stops early on any other screen (a payment already waiting, an error).
 */
export async function walkToQuote(s: Session, pick: { suggested: number } | { amount: number }): Promise<Walk> {
  await s.dial(); // a resume offer keeps the main menu's numbers: `2` still contributes
  const menu = await s.answer('2');
  if (isWaitingPayment(menu.body)) return { kind: 'waiting', texts: [...s.inputs], screen: menu };
  const m = contributeMenu(menu.body);
  if (!m) return { kind: 'other', texts: [...s.inputs], screen: menu };
  let screen: Screen;
  if ('suggested' in pick && m.suggested.length > 0) {
    screen = await s.answer(m.suggested[pick.suggested % m.suggested.length] as string);
  } else {
    const ask = await s.answer(m.other);
    if (ask.end) return { kind: 'other', texts: [...s.inputs], screen: ask };
    screen = await s.answer(String('amount' in pick ? pick.amount : 1000));
  }
  if (isQuote(screen.body)) return { kind: 'quote', texts: [...s.inputs], screen };
  return { kind: 'other', texts: [...s.inputs], screen };
}

/**
 * Redials after a cut: accepts the resume offer when there is one (its last choice) and, if that brings back a
 * quote, confirms it again. Returns what happened, for the report.
 */
export async function redialResumeConfirm(s: Session): Promise<'no-offer' | 'resumed-no-quote' | 'confirmed-again'> {
  const first = await s.dial();
  if (!isResumeOffer(first.body)) return 'no-offer';
  const resumed = await s.answer(resumeKey(first.body));
  if (!isQuote(resumed.body)) return 'resumed-no-quote';
  await s.answer('1');
  return 'confirmed-again';
}

export { isQuote, isResumeOffer, resumeKey };
