import { assign, setup } from 'xstate';
import { isLanguage, type Language } from '../src/i18n/catalog.ts';
import { choice, choiceValue, type FlowInput, failedState, flowTypes, handOff, loadingFor, provided, slowState } from './lib.ts';

const flow = setup({
  types: flowTypes<FlowInput>(),
  actors: {
    saveLanguage: provided<void, { phone: string; householdId: number | null; lang: Language }>('saveLanguage'),
  },
  guards: {
    languageOffered: ({ event }) => isLanguage(choiceValue(event)),
  },
});
const loading = loadingFor(flow);

/** French or Bamanankan, remembered for the phone: every later screen and SMS uses it. */
export const languageMachine = flow.createMachine({
  id: 'language',
  context: ({ input }) => input,
  initial: 'choosing',
  output: handOff,
  states: {
    choosing: {
      meta: { screen: 'language.choose', choices: [choice('fr', 'language.fr'), choice('bm', 'language.bm')] },
      on: {
        'choice.*': {
          guard: 'languageOffered',
          target: 'saving',
          actions: assign({ lang: ({ event }) => choiceValue(event) as Language }),
        },
      },
    },
    saving: loading({
      src: 'saveLanguage',
      input: ({ context }) => ({ phone: context.phone, householdId: context.householdId, lang: context.lang }),
      onDone: 'toHome',
      slow: 'slow',
    }),
    slow: slowState('saving'),
    failed: failedState,
    toHome: { type: 'final', output: { next: 'home' } },
  },
});
