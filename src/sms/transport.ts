/**
 * How an SMS leaves sabatili. The dispatcher hands a transport one gateway call's worth of
 * messages (one text, one or more recipients) and gets one outcome per recipient.
 */
export interface SmsBatch {
  text: string;
  /** E.164 numbers; all receive `text`. */
  recipients: Array<{ messageId: number; to: string }>;
  /** Sender id or short code, when configured. */
  from?: string | undefined;
}

export type RecipientOutcome =
  /** The gateway accepted the message (AT 100 Processed, 101 Sent, 102 Queued). */
  | { messageId: number; to: string; outcome: 'accepted'; providerId: string; cost: string | null; code: number }
  /** Worth trying again later (AT 405, 500–502, a timeout, a gateway error). */
  | { messageId: number; to: string; outcome: 'retry'; code: number | null; reason: string }
  /** Final for this number (AT 401, 402, 403, 404, 406, 407, 409). */
  | { messageId: number; to: string; outcome: 'failed'; code: number | null; reason: string };

export interface SmsTransport {
  readonly name: 'simulator' | 'africastalking';
  /** Largest number of recipients it takes in one call. */
  readonly maxBatch: number;
  /** Never rejects: a gateway failure is a 'retry' outcome for every recipient. */
  send(batch: SmsBatch): Promise<RecipientOutcome[]>;
}

/** Africa's Talking per-recipient status codes (reference/africastalking.md) and what each means for us. */
export function outcomeOfCode(code: number): 'accepted' | 'retry' | 'failed' {
  if (code >= 100 && code <= 102) return 'accepted';
  if (code === 405 || (code >= 500 && code <= 502)) return 'retry';
  return 'failed';
}
