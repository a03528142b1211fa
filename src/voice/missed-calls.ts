/**
 * Missed calls cost the member nothing ("bip"): with VOICE_CALL_BACK_MISSED=true, a registered
 * member's call is rejected (`<Reject/>`: the caller pays nothing) and UTM calls back at once,
 * at most once per phone in 10 minutes. The /voice route asks `decideInbound` on the first
 * notification of an inbound call and answers `<Reject/>` or the menu (the lead wires it).
 *
 * Call-backs ring at once, whatever the hour: the member has just called, so is awake and holding
 * the phone; waiting for the reminders' sending hours would miss them, and the 10-minute rule
 * already bounds what a caller can make UTM spend. Callers who are not members are answered (the
 * joining information and the call-back offer of the voice menu): a call-back costs UTM, and is a
 * member's benefit. Only valid Malian mobiles are called back.
 */

import type { Clock } from '../clock.ts';
import type { HouseholdStore } from '../db/households.ts';
import type { VoiceCallStore } from '../db/voice-outbox.ts';
import { CALL_BACK_WINDOW_MS, type InboundAction, inboundAction } from '../domain/calls.ts';
import { mobilePattern } from '../phone.ts';
import type { Calls } from './outbound.ts';

/** What the route does with the call, and what was recorded: the call-back queued or already on its way. */
export type InboundDecision = InboundAction & { callId: number | null };

const ML = mobilePattern('ML');
const MALIAN_MOBILE = ML ? new RegExp(`^\\+${ML.code}${ML.national}$`) : null;

/** A valid Malian mobile number, E.164 (the only numbers UTM calls back). */
export function isMalianMobile(phone: string): boolean {
  return MALIAN_MOBILE?.test(phone) === true;
}

/** The statuses of a call-back still to ring or ringing: a second flash meanwhile gets no second call. */
const ON_ITS_WAY = new Set(['queued', 'placing', 'ringing']);

export function createMissedCalls(d: {
  enabled: boolean;
  households: Pick<HouseholdStore, 'findByPhone'>;
  calls: Pick<Calls, 'queueCallBack'>;
  store: Pick<VoiceCallStore, 'lastCallBack'>;
  clock: Clock;
}) {
  return {
    /** Answer or reject an inbound call from `phone` (E.164) at `now`; a reject has queued (or found) the call-back. */
    decideInbound(phone: string, now: Date = d.clock.now()): InboundDecision {
      if (!d.enabled) return { action: 'answer', why: 'missed-call mode off', callId: null };
      const h = d.households.findByPhone(phone);
      const recent = h ? d.store.lastCallBack(phone, now.getTime() - CALL_BACK_WINDOW_MS) : undefined;
      const decision = inboundAction({
        callBackMissed: true,
        member: h !== undefined,
        malianMobile: isMalianMobile(phone),
        recentCallBack: !recent ? 'none' : ON_ITS_WAY.has(recent.status) ? 'pending' : 'done',
      });
      if (decision.action === 'answer' || !h) return { ...decision, callId: null };
      if (decision.why === 'call-back pending') return { ...decision, callId: recent?.id ?? null };
      // The check above is a read; queueCallBack repeats it inside its transaction, so two flashes at
      // the same instant (or two processes) still queue one call: the second finds the first.
      const r = d.calls.queueCallBack(phone, h.id, h.language, now);
      if (r.queued) return { ...decision, callId: r.callId };
      return ON_ITS_WAY.has(r.existing.status)
        ? { action: 'reject', why: 'call-back pending', callId: r.existing.id }
        : { action: 'answer', why: 'called back recently', callId: null };
    },
  };
}

export type MissedCalls = ReturnType<typeof createMissedCalls>;
