/** The statuses a refusal is answered with over HTTP: the caller's fault, never the server's. */
export type RefusalStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422;

/**
 * What a caller asked for that the system declines: a bad field, an unknown id, a state that does
 * not allow the action. Its message is written for the person who asked (a member, an officer, a
 * tester at a terminal). Each edge maps it in one place: HTTP answers `status` (a 4xx), the CLI
 * exits 2. Anything else thrown is a bug: 5xx or exit 1, logged.
 */
export class Refusal extends Error {
  override readonly name: string = 'Refusal';

  constructor(
    message: string,
    /** The request field or option at fault, when there is one. */
    readonly field?: string,
    /** The HTTP status this refusal is answered with. */
    readonly status: RefusalStatus = 400,
    /** What a caller can act on beyond the message (e.g. `errors: [{ line, message }]`): merged into a JSON answer, listed by the CLI. */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

export const isRefusal = (err: unknown): err is Refusal => err instanceof Refusal;

/** The field a message written as `field: what is wrong` names (`messages.fr: …` → `messages.fr`). */
export function fieldOf(message: string): string | undefined {
  return /^([A-Za-z][\w.-]*): /.exec(message)?.[1];
}
