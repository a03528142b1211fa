/**
 * What a caller asked for that the system declines: a bad field, an unknown id, a state that does
 * not allow the action. Its message is written for the person who asked (a member, an officer, a
 * tester at a terminal). Each edge maps it in one place: HTTP answers `status` (a 4xx), the CLI
 * exits 2. Anything else thrown is a bug: 5xx or exit 1, logged.
 */
export class Refusal extends Error {
  override readonly name = 'Refusal';

  constructor(
    message: string,
    /** The request field or option at fault, when there is one. */
    readonly field?: string,
    /** The HTTP status this refusal is answered with. */
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 = 400,
  ) {
    super(message);
  }
}

export const isRefusal = (err: unknown): err is Refusal => err instanceof Refusal;
