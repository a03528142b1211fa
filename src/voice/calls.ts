import type { Clock } from '../clock.ts';
import type { CallDirection, NewCall, VoiceCall, VoiceStore } from '../db/voice.ts';
import type { Catalogs, Language } from '../i18n/catalog.ts';
import type { Logger } from '../log.ts';
import type { StepRequest, StepResult } from '../ussd/engine.ts';
import type { PromptLibrary } from './library.ts';
import type { AnsweredCall, Calls } from './outbound.ts';
import { type Prompt, type SpeakOptions, speakMessages, speakScreen, VOICE_KEYS } from './speech.ts';
import { type Action, response } from './xml.ts';

/** One notification of Africa's Talking's voice callback, validated (src/http/voice.ts). */
export interface VoiceCallback {
  sessionId: string;
  isActive: boolean;
  direction: CallDirection;
  callerNumber: string;
  destinationNumber?: string | undefined;
  dtmfDigits?: string | undefined;
  clientRequestId?: string | undefined;
  durationInSeconds?: number | undefined;
  amount?: string | undefined;
  currencyCode?: string | undefined;
  hangupCause?: string | undefined;
  callStartTime?: string | undefined;
}

/** Where the gateway finds what the answer names: the digits' callback for a prompt, a prompt's audio. Built by the HTTP layer. */
export interface VoiceLinks {
  callback(step: number): string;
  audio(name: string): string;
}

export type InboundDecision = 'answer' | 'reject';

/** The calls UTM places (src/voice/outbound.ts), as the voice route reports to them. */
export type OutboundCalls = Pick<Calls, 'answered' | 'keyPressed' | 'settle'>;

/**
 * What the caller is hearing, stored with its step (voice_steps.prompt): the prompt, and `offer`
 * when it is a reminder call's "1 to pay now", which the voice channel answers itself.
 */
interface Heard extends Prompt {
  offer?: 'pay';
}

/** The key a reminder call offers to pay with. */
const PAY_NOW = '1';

export interface VoiceDeps {
  engine: { step(req: StepRequest): Promise<StepResult>; forget(sessionId: string): void };
  /** Closes the engine's session when the call hangs up. */
  endSession(sessionId: string): void;
  store: VoiceStore;
  library: PromptLibrary;
  catalogs: Catalogs;
  clock: Clock;
  logger: Logger;
  /** The language of a facility agent's phone (their menu is USSD only), null for anyone else. */
  agentLanguage(phone: string): Language | null;
  /** The USSD code, said to agents. */
  serviceCode: string;
  /**
   * Whether an inbound call is answered or rejected (free for the caller, to be called back): the
   * one place a call-back policy plugs in. Outbound calls (placed by UTM, answered) are never asked.
   */
  onInboundCall(phone: string): InboundDecision;
  /** Told when a call UTM placed is answered, what is pressed first, and how it ended. */
  outbound: OutboundCalls;
  /** Render a prompt's audio as soon as it is answered, before the gateway fetches it. */
  prerender: boolean;
  /** Seconds the gateway waits for a key on a menu, and for digits ended by '#'. */
  timeouts: { key: number; number: number };
}

/** Stored as the session's service code: the figures tell voice sessions from USSD ones by it. */
export const VOICE_CHANNEL = 'voice';
/** Timeouts in a row before the goodbye. */
const MAX_SILENCES = 2;
/** Calls in progress whose prompt is kept parsed (a call that never sends its last notification is forgotten in turn). */
const HEARD_KEPT = 5000;

export class VoiceSessionMismatch extends Error {
  constructor() {
    super('sessionId already belongs to another callerNumber');
  }
}

/**
 * The voice channel over the same engine and flows as USSD: each notification of a call becomes one
 * engine step (the digits as input), and the screen it leads to one spoken prompt. Every prompt is
 * numbered; its digits come back with that number (`?step=`), so a gateway retry of a notification
 * already answered gets the same answer, and nothing is played twice to the flow. Notifications of
 * one call are handled one at a time.
 */
/** A call as this step knows it: `opening` until its row exists (its first prompt creates it). */
type CallInHand = VoiceCall & { opening?: NewCall };

export function createVoiceCalls(deps: VoiceDeps) {
  const { store, clock, logger, catalogs } = deps;
  const queues = new Map<string, Promise<unknown>>();
  const engineId = (sessionId: string) => `voice:${sessionId}`;
  const idsOf = (cb: VoiceCallback) => ({ clientRequestId: cb.clientRequestId ?? null, sessionId: cb.sessionId });
  /**
   * The prompt each call in progress hears, as its latest step recorded it: a step takes it from
   * here rather than parsing the ~1.5 KB of JSON the step before wrote. A step row never changes, so
   * an entry for the step the database names is that prompt; any other step is read from the row.
   */
  const heardNow = new Map<string, { step: number; heard: Heard }>();
  function heardOf(call: VoiceCall): Heard | null {
    const kept = heardNow.get(call.sessionId);
    if (kept?.step === call.step) return kept.heard;
    const recorded = store.prompt(call.sessionId, call.step);
    return recorded ? (JSON.parse(recorded) as Heard) : null;
  }
  /** Kept once its step is committed; a call ended by its prompt has nothing more to hear. */
  function remember(sessionId: string, step: number, heard: Heard, ended: boolean): void {
    heardNow.delete(sessionId);
    if (ended) return;
    if (heardNow.size >= HEARD_KEPT) heardNow.delete(heardNow.keys().next().value as string);
    heardNow.set(sessionId, { step, heard });
  }

  function xmlOf(prompt: Prompt, step: number, links: VoiceLinks): string {
    const said: Action = deps.library.playable(prompt)
      ? { play: links.audio(`${deps.library.prepare(prompt, deps.prerender)}.wav`) }
      : { say: prompt.caption };
    if (prompt.collect === null) return response([said]);
    const prompted = said as { say: string } | { play: string };
    return response([
      {
        getDigits:
          prompt.collect === 'key'
            ? { prompt: prompted, timeoutSeconds: deps.timeouts.key, numDigits: 1, callbackUrl: links.callback(step) }
            : { prompt: prompted, timeoutSeconds: deps.timeouts.number, finishOnKey: '#', callbackUrl: links.callback(step) },
      },
    ]);
  }

  /** The next prompt: its answer, and the write that records it with the call (and creates the call's row on its first prompt). */
  function prepare(call: CallInHand, prompt: Heard, digits: string | null, silences: number, links: VoiceLinks) {
    const step = call.step + 1;
    const xml = xmlOf(prompt, step, links);
    const ended = prompt.collect === null;
    const record = () =>
      store.advance(
        call.sessionId,
        { step, digits, screen: prompt.screen, caption: prompt.caption, xml },
        { silences, prompt: JSON.stringify(prompt), ended, opening: call.opening },
        clock.now(),
      );
    /** Once the step is committed: what the call now hears, and the engine's session closed if it ended. */
    const recorded = () => {
      remember(call.sessionId, step, prompt, ended);
      if (ended) deps.endSession(engineId(call.sessionId));
    };
    return { xml, record, recorded };
  }

  /** The next prompt answered and recorded with the call; the call ends with it when nothing is collected. */
  function answer(call: CallInHand, prompt: Heard, digits: string | null, silences: number, links: VoiceLinks): string {
    const next = prepare(call, prompt, digits, silences, links);
    next.record();
    next.recorded();
    return next.xml;
  }

  /**
   * The engine's step for these digits and the prompt it leads to, recorded in the engine's own
   * transaction (one commit per step); when the engine persisted nothing (a retry it had answered),
   * recorded on its own.
   */
  async function stepTo(
    call: CallInHand,
    input: string | null,
    digits: string | null,
    links: VoiceLinks,
    opts: SpeakOptions = {},
  ): Promise<string> {
    const promptOf = (r: StepResult): Heard =>
      r.screen ? speakScreen(catalogs, r.screen, opts) : goodbye(heardOf(call)?.lang ?? 'fr', 'voice.ended');
    let prepared: ReturnType<typeof prepare> | undefined;
    const result = await deps.engine.step({
      sessionId: engineId(call.sessionId),
      phoneNumber: call.phone,
      serviceCode: VOICE_CHANNEL,
      input,
      alongside: (r) => {
        prepared = prepare(call, promptOf(r), digits, 0, links);
        return prepared.record;
      },
    });
    if (!prepared) return answer(call, promptOf(result), digits, 0, links);
    prepared.recorded();
    return prepared.xml;
  }

  async function start(cb: VoiceCallback, links: VoiceLinks): Promise<string> {
    // The call's row is written with its first prompt, in that prompt's transaction: one commit per step.
    const call: CallInHand = {
      sessionId: cb.sessionId,
      phone: cb.callerNumber,
      direction: cb.direction,
      status: 'active',
      step: 0,
      silences: 0,
      opening: {
        sessionId: cb.sessionId,
        phone: cb.callerNumber,
        direction: cb.direction,
        destination: cb.destinationNumber ?? null,
        clientRequestId: cb.clientRequestId ?? null,
      },
    };
    if (cb.direction === 'Inbound' && deps.onInboundCall(cb.callerNumber) === 'reject') {
      const xml = response([{ reject: true }]);
      store.advance(
        call.sessionId,
        { step: 1, digits: null, screen: null, caption: '', xml },
        { silences: 0, prompt: null, ended: true, opening: call.opening },
        clock.now(),
      );
      return xml;
    }
    // A call UTM placed, answered: a reminder call speaks its reminder first; a call-back (or a
    // call not found in the outbox) goes on to the main menu, as an inbound call does.
    const placed = cb.direction === 'Outbound' ? deps.outbound.answered(idsOf(cb), clock.now()) : undefined;
    if (placed?.message) return answer(call, reminderOffer(placed.language, placed.message), null, 0, links);
    const agent = deps.agentLanguage(cb.callerNumber);
    if (agent)
      return answer(call, speakMessages(catalogs, agent, [{ key: 'voice.agent', params: { code: deps.serviceCode } }]), null, 0, links);
    return stepTo(call, null, null, links, { before: ['voice.keys'] });
  }

  const goodbye = (lang: Language, key: string) => speakMessages(catalogs, lang, [{ key }]);

  /**
   * A reminder call's first prompt: the SMS reminder's own message (names left out by the renderer),
   * then "for Pay now, press 1", spoken by the same renderer as a one-choice screen. This prompt is
   * the voice channel's own, like the agents' notice: flows know nothing of calls.
   */
  function reminderOffer(lang: Language, message: NonNullable<AnsweredCall['message']>): Heard {
    const prompt = speakScreen(catalogs, {
      lang,
      key: message.key,
      params: { code: deps.serviceCode, ...message.params },
      lines: null,
      choices: [{ value: 'pay', labelKey: 'voice.reminder.pay', number: Number(PAY_NOW) }],
      input: 'choice',
      end: false,
      error: null,
      back: false,
      home: false,
    });
    return { ...prompt, offer: 'pay' };
  }

  /**
   * "1" on a reminder call: the engine's session starts at the member's home menu and is given that
   * menu's contribute choice, as if the member had picked it, so the contribute flow runs unchanged
   * (amount, fee, total, cover, confirm key, the operator's PIN prompt) and 0 and 9 lead where they
   * lead on any call. The keys are announced here, where the menus begin.
   */
  async function payNow(call: VoiceCall, lang: Language): Promise<Prompt> {
    const step = (input: string | null) =>
      deps.engine.step({ sessionId: engineId(call.sessionId), phoneNumber: call.phone, serviceCode: VOICE_CHANNEL, input });
    const home = await step(null);
    const contribute = home.screen?.choices.find((c) => c.value === 'contribute');
    const result = contribute ? await step(String(contribute.number)) : home;
    if (!result.screen) return goodbye(lang, 'voice.ended');
    return speakScreen(catalogs, result.screen, { before: ['voice.keys'] });
  }

  async function next(call: VoiceCall, cb: VoiceCallback, links: VoiceLinks): Promise<string> {
    const heard = heardOf(call);
    const lang = heard?.lang ?? 'fr';
    const digits = (cb.dtmfDigits ?? '').replace(/#$/, '');
    // The first keys pressed on a call UTM placed (every prompt before was a silence) are its outcome.
    if (call.direction === 'Outbound' && digits !== '' && call.silences === call.step - 1)
      deps.outbound.keyPressed(idsOf(cb), digits, clock.now());
    if (heard?.offer === 'pay') {
      // Only the pay key goes on; silence or any other key ends the reminder call politely.
      if (digits === '') return answer(call, goodbye(lang, 'voice.goodbye'), '', call.silences + 1, links);
      if (digits === VOICE_KEYS.repeat) return answer(call, { ...heard }, digits, 0, links);
      if (digits !== PAY_NOW) return answer(call, goodbye(lang, 'voice.ended'), digits, 0, links);
      return answer(call, await payNow(call, lang), digits, 0, links);
    }
    if (digits === '') {
      // The prompt timed out: said again once, then a goodbye that says how to be called back.
      const silences = call.silences + 1;
      if (silences >= MAX_SILENCES || !heard) return answer(call, goodbye(lang, 'voice.goodbye'), '', silences, links);
      return answer(call, withSilence(heard), '', silences, links);
    }
    if (digits === VOICE_KEYS.repeat && heard) return answer(call, { ...heard }, digits, 0, links);
    return stepTo(call, digits === VOICE_KEYS.home ? '00' : digits, digits, links);
  }

  /** The prompt again, after "we heard nothing". */
  function withSilence(p: Prompt): Prompt {
    const notice = speakMessages(catalogs, p.lang, [{ key: 'voice.silence' }]);
    return { ...p, fragments: [...notice.fragments, ...p.fragments], caption: `${notice.caption} ${p.caption}` };
  }

  async function notify(cb: VoiceCallback, step: number | null, links: VoiceLinks): Promise<string> {
    if (!cb.isActive) {
      // The last notification: stored, the session closed; nothing is played any more.
      const known = store.end(
        {
          sessionId: cb.sessionId,
          durationSeconds: cb.durationInSeconds ?? null,
          amount: cb.amount ?? null,
          currency: cb.currencyCode ?? null,
          hangupCause: cb.hangupCause ?? null,
          callStartTime: cb.callStartTime ?? null,
        },
        clock.now(),
      );
      if (!known) logger.info({ sessionId: cb.sessionId }, 'voice: end of a call never answered here');
      // A call UTM placed is settled whether or not it was answered (idempotent: a repeat changes nothing).
      if (cb.direction === 'Outbound')
        deps.outbound.settle(
          {
            ...idsOf(cb),
            hangupCause: cb.hangupCause ?? null,
            durationInSeconds: cb.durationInSeconds ?? null,
            amount: cb.amount ?? null,
            currencyCode: cb.currencyCode ?? null,
          },
          clock.now(),
        );
      heardNow.delete(cb.sessionId);
      deps.endSession(engineId(cb.sessionId));
      deps.engine.forget(engineId(cb.sessionId));
      return response([]);
    }
    const call = store.call(cb.sessionId);
    // A call never seen, whatever it carries (digits included), starts at its home menu.
    if (!call) return start(cb, links);
    if (call.phone !== cb.callerNumber) throw new VoiceSessionMismatch();
    if (call.status === 'ended') return response([]);
    // A retry of a prompt already answered: the same answer. A number from the future: the current prompt again.
    if (step !== null && step !== call.step) {
      const again = store.step(call.sessionId, step < call.step ? step + 1 : call.step);
      if (again) return again.xml;
    }
    // No step and no digits: the first notification again.
    if (step === null && cb.dtmfDigits === undefined) return store.step(call.sessionId, call.step)?.xml ?? response([]);
    return next(call, cb, links);
  }

  return {
    /** One notification of a call; the XML to answer. */
    handle(cb: VoiceCallback, step: number | null, links: VoiceLinks): Promise<string> {
      const before = queues.get(cb.sessionId) ?? Promise.resolve();
      const run = before.then(
        () => notify(cb, step, links),
        () => notify(cb, step, links),
      );
      const tail = run.catch(() => undefined);
      queues.set(cb.sessionId, tail);
      tail.then(() => {
        if (queues.get(cb.sessionId) === tail) queues.delete(cb.sessionId);
      });
      return run;
    },
  };
}

export type VoiceCalls = ReturnType<typeof createVoiceCalls>;
