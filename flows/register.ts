import { assign, fromPromise, setup } from 'xstate';
import type { CallbackInput, CallbackReceipt } from './callback.ts';
import { choice, choiceValue, failedState, handOff, hopOf, slowState, type FlowEvent, type FlowInput, type FlowOutput, type ScreenMeta } from './lib.ts';

/** The product a newcomer would join, in force today. */
export interface Offer {
  contribution: number;
  monthly: number;
  subsidised: number;
  percent: number;
  joiningFee: number;
  days: number;
}

export interface DistrictMutuelles {
  district: string;
  mutuelles: string[];
}

interface Context extends FlowInput {
  offer: Offer | null;
  districts: DistrictMutuelles[];
  district: string | null;
  receipt: CallbackReceipt | null;
}

/** A caller whose number is not registered: what the mutuelle offers, what it costs, how and where to join. */
export const registerMachine = setup({
  types: {
    context: {} as Context,
    input: {} as FlowInput,
    events: {} as FlowEvent,
    output: {} as FlowOutput,
    meta: {} as ScreenMeta<Context>,
  },
  actors: {
    loadOffer: fromPromise<Offer, Record<string, never>>(() => {
      throw new Error('loadOffer is provided by src/ussd/providers.ts');
    }),
    listMutuelles: fromPromise<DistrictMutuelles[], Record<string, never>>(() => {
      throw new Error('listMutuelles is provided by src/ussd/providers.ts');
    }),
    requestCallback: fromPromise<CallbackReceipt, CallbackInput>(() => {
      throw new Error('requestCallback is provided by src/ussd/providers.ts');
    }),
  },
}).createMachine({
  id: 'register',
  context: ({ input }) => ({ ...input, offer: null, districts: [], district: null, receipt: null }),
  initial: 'welcome',
  output: handOff,
  states: {
    welcome: {
      meta: {
        screen: 'register.welcome',
        choices: [
          choice('offer', 'register.offer'),
          choice('price', 'register.price'),
          choice('join', 'register.join'),
          choice('nearby', 'register.nearby'),
          choice('callback', 'register.callback'),
          choice('language', 'main.language'),
        ],
      },
      on: {
        'choice.offer': 'offer',
        'choice.price': 'loadingOffer',
        'choice.join': 'join',
        'choice.nearby': 'loadingMutuelles',
        'choice.callback': 'saving',
        'choice.language': 'toLanguage',
      },
    },
    offer: { meta: { screen: 'register.offer.text' }, on: { back: 'welcome' } },
    join: { meta: { screen: 'register.join.text' }, on: { back: 'welcome' } },
    loadingOffer: {
      tags: ['busy'],
      invoke: {
        src: 'loadOffer',
        input: () => ({}),
        onDone: { target: 'price', actions: assign({ offer: ({ event }) => event.output }) },
        onError: 'failed',
      },
      on: { 'budget.exceeded': 'offerSlow' },
    },
    offerSlow: slowState('loadingOffer'),
    price: {
      meta: { screen: 'register.price.text', params: (c) => ({ ...(c.offer as Offer) }) },
      on: { back: 'welcome' },
    },
    loadingMutuelles: {
      tags: ['busy'],
      invoke: {
        src: 'listMutuelles',
        input: () => ({}),
        onDone: { target: 'districts', actions: assign({ districts: ({ event }) => event.output }) },
        onError: 'failed',
      },
      on: { 'budget.exceeded': 'mutuellesSlow' },
    },
    mutuellesSlow: slowState('loadingMutuelles'),
    districts: {
      meta: {
        screen: 'register.districts',
        choices: (c) => c.districts.map((d) => ({ value: d.district, label: d.district })),
      },
      on: {
        'choice.*': { target: 'mutuelles', actions: assign({ district: ({ event }) => choiceValue(event) }) },
        back: 'welcome',
      },
    },
    mutuelles: {
      meta: {
        screen: 'register.mutuelles',
        params: (c) => ({ district: c.district ?? '' }),
        lines: {
          key: 'register.mutuelle',
          items: (c) => (c.districts.find((d) => d.district === c.district)?.mutuelles ?? []).map((m) => ({ mutuelle: m })),
        },
      },
      on: { back: 'districts' },
    },
    saving: {
      tags: ['busy'],
      invoke: {
        src: 'requestCallback',
        input: ({ context, event }) => ({
          phone: context.phone,
          householdId: null,
          reason: 'registration' as const,
          key: `ussd:${context.sessionId}:${hopOf(event)}`,
        }),
        onDone: [
          { guard: ({ event }) => event.output.alreadyOpen, target: 'alreadyQueued', actions: assign({ receipt: ({ event }) => event.output }) },
          { target: 'queued', actions: assign({ receipt: ({ event }) => event.output }) },
        ],
        onError: 'failed',
      },
      on: { 'budget.exceeded': 'savingSlow' },
    },
    savingSlow: slowState('saving'),
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
    toLanguage: { type: 'final', output: { next: 'language' } },
  },
});
