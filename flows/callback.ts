import { assign, setup } from 'xstate';
import type { CallbackReason, CallbackReceipt } from '../src/domain/callbacks.ts';
import {
  choice,
  choiceValue,
  type FlowInput,
  failedState,
  flowTypes,
  handOff,
  hopOf,
  loadingFor,
  outputOf,
  provided,
  slowState,
} from './lib.ts';

export interface CallbackInput {
  phone: string;
  householdId: number | null;
  reason: CallbackReason;
  /** Idempotence: one request per session hop, however often the gateway retries it. */
  key: string;
}

interface Context extends FlowInput {
  reason: CallbackReason;
  /** The engine gave the reason (after too many wrong keys): file the request without asking. */
  given: boolean;
  receipt: CallbackReceipt | null;
}

const REASONS: readonly CallbackReason[] = ['payment', 'coverage', 'registration', 'other'];

const flow = setup({
  types: flowTypes<Context>(),
  actors: {
    requestCallback: provided<CallbackReceipt, CallbackInput>('requestCallback'),
  },
  guards: {
    notRegistered: ({ context }) => context.householdId === null,
    reasonGiven: ({ context }) => context.given,
    alreadyWaitingForCall: (_, receipt: CallbackReceipt) => receipt.alreadyOpen,
  },
});
const loading = loadingFor(flow);

/** Members call UTM, not the operator: this queues a call-back for UTM's staff and says when to expect it. */
export const callbackMachine = flow.createMachine({
  id: 'callback',
  context: ({ input }) => {
    const given = (REASONS as readonly string[]).includes(input.reason ?? '');
    return { ...input, reason: given ? (input.reason as CallbackReason) : 'other', given, receipt: null };
  },
  initial: 'start',
  output: handOff,
  states: {
    start: {
      always: [
        // A number that is not registered can only want to join.
        { guard: 'notRegistered', target: 'saving', actions: assign({ reason: 'registration' }) },
        { guard: 'reasonGiven', target: 'saving' },
        { target: 'reason' },
      ],
    },
    reason: {
      meta: { screen: 'callback.reason', choices: REASONS.map((r) => choice(r, `callback.${r}`)) },
      on: {
        'choice.*': {
          target: 'saving',
          actions: assign({ reason: ({ event }) => choiceValue(event) as CallbackReason }),
        },
      },
    },
    saving: loading({
      src: 'requestCallback',
      input: ({ context, event }) => ({
        phone: context.phone,
        householdId: context.householdId,
        reason: context.reason,
        key: `ussd:${context.sessionId}:${hopOf(event)}`,
      }),
      onDone: [
        {
          guard: { type: 'alreadyWaitingForCall', params: outputOf },
          target: 'alreadyQueued',
          actions: assign({ receipt: ({ event }) => event.output }),
        },
        { target: 'queued', actions: assign({ receipt: ({ event }) => event.output }) },
      ],
      slow: 'slow',
    }),
    slow: slowState('saving'),
    failed: failedState,
    queued: {
      type: 'final',
      meta: { screen: 'callback.queued', end: true, params: (c) => ({ date: c.receipt?.callBy ?? '' }) },
    },
    alreadyQueued: {
      type: 'final',
      meta: {
        screen: 'callback.already',
        end: true,
        params: (c) => ({ since: c.receipt?.requestedOn ?? '', date: c.receipt?.callBy ?? '' }),
      },
    },
  },
});
