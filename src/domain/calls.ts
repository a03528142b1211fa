/**
 * The rules of the calls UTM places (call-backs of missed calls, reminder calls): pure, so that
 * they are tested as tables; src/voice applies them to stored calls.
 */

/** A phone that flashed UTM is called back at most once in this window. */
export const CALL_BACK_WINDOW_MS = 10 * 60_000;

/** A reminder call rings at most this many times: the first, then twice more when unanswered. */
export const REMINDER_MAX_RINGS = 3;

/** What the last notification of one ring says happened. */
export type RingResult = 'answered' | 'unanswered';

/**
 * Whether the callee took the call: the app saw it answered (the gateway asked what to play), or
 * the gateway says it cleared normally after some seconds. Busy, no answer, rejected and absent
 * phones all read as unanswered.
 */
export function ringResult(r: { sawAnswer: boolean; hangupCause: string | null; durationSeconds: number | null }): RingResult {
  if (r.sawAnswer) return 'answered';
  return r.hangupCause === 'NORMAL_CLEARING' && (r.durationSeconds ?? 0) > 0 ? 'answered' : 'unanswered';
}

/** After an unanswered ring: ring again (reminders, up to their limit), or give up. */
export function ringAgain(purpose: 'call-back' | 'reminder', rings: number): boolean {
  return purpose === 'reminder' && rings < REMINDER_MAX_RINGS;
}

/** Delay before the n-th attempt at the call API (n ≥ 1 attempts already made): doubled each time. */
export function retryDelayMs(baseMs: number, attemptsMade: number): number {
  return baseMs * 2 ** Math.max(0, attemptsMade - 1);
}

/** What to do with an inbound call, from what is known of the caller. */
export type InboundAction =
  /** Rejected (free for the caller); a call-back was queued now. */
  | { action: 'reject'; why: 'call-back queued' }
  /** Rejected: the call-back of a flash less than 10 minutes ago is still on its way. */
  | { action: 'reject'; why: 'call-back pending' }
  /** Answered (the caller pays, as for any call). */
  | { action: 'answer'; why: 'missed-call mode off' | 'not a member' | 'not a Malian mobile' | 'called back recently' };

export interface InboundFacts {
  callBackMissed: boolean;
  /** The caller is a registered household's phone. */
  member: boolean;
  /** The caller is a valid Malian mobile number (the only numbers UTM calls). */
  malianMobile: boolean;
  /** The latest call-back to this phone within the window: still to ring or ringing (pending), or done. */
  recentCallBack: 'none' | 'pending' | 'done';
}

/**
 * Missed-call mode: a member's call is rejected and called back at once. Only members (a call-back
 * costs UTM; callers who are not members get the joining information, answered), only Malian
 * mobiles. Within 10 minutes of a call-back: rejected while it is still on its way (flashing twice
 * gets one call), answered once it has been placed (the member is never left without an answer).
 */
export function inboundAction(f: InboundFacts): InboundAction {
  if (!f.callBackMissed) return { action: 'answer', why: 'missed-call mode off' };
  if (!f.member) return { action: 'answer', why: 'not a member' };
  if (!f.malianMobile) return { action: 'answer', why: 'not a Malian mobile' };
  if (f.recentCallBack === 'pending') return { action: 'reject', why: 'call-back pending' };
  if (f.recentCallBack === 'done') return { action: 'answer', why: 'called back recently' };
  return { action: 'reject', why: 'call-back queued' };
}
