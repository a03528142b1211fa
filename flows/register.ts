import { assign, setup } from 'xstate';
import { choice, choiceValue, type FlowInput, failedState, flowTypes, handOff, loadingFor, provided, slowState } from './lib.ts';

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
}

const flow = setup({
  types: flowTypes<Context>(),
  actors: {
    loadOffer: provided<Offer, Record<string, never>>('loadOffer'),
    listMutuelles: provided<DistrictMutuelles[], Record<string, never>>('listMutuelles'),
  },
});
const loading = loadingFor(flow);

/** A caller whose number is not registered: what the mutuelle offers, what it costs, how and where to join. */
export const registerMachine = flow.createMachine({
  id: 'register',
  context: ({ input }) => ({ ...input, offer: null, districts: [], district: null }),
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
        'choice.callback': 'toCallback',
        'choice.language': 'toLanguage',
      },
    },
    offer: { meta: { screen: 'register.offer.text' }, on: { back: 'welcome' } },
    join: { meta: { screen: 'register.join.text' }, on: { back: 'welcome' } },
    loadingOffer: loading({
      src: 'loadOffer',
      input: () => ({}),
      onDone: { target: 'price', actions: assign({ offer: ({ event }) => event.output }) },
      slow: 'offerSlow',
    }),
    offerSlow: slowState('loadingOffer'),
    price: {
      meta: { screen: 'register.price.text', params: (c) => ({ ...(c.offer as Offer) }) },
      on: { back: 'welcome' },
    },
    loadingMutuelles: loading({
      src: 'listMutuelles',
      input: () => ({}),
      onDone: { target: 'districts', actions: assign({ districts: ({ event }) => event.output }) },
      slow: 'mutuellesSlow',
    }),
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
    failed: failedState,
    toCallback: { type: 'final', output: { next: 'callback' } },
    toLanguage: { type: 'final', output: { next: 'language' } },
  },
});
