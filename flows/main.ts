import { setup } from 'xstate';
import { choice, handOff, type FlowInput, flowTypes } from './lib.ts';

/** The registered member's main menu, in the contract order: coverage, contribute, payments, reminders, call-back, language. */
export const mainMachine = setup({
  types: flowTypes<FlowInput>(),
}).createMachine({
  id: 'main',
  context: ({ input }) => input,
  initial: 'menu',
  output: handOff,
  states: {
    menu: {
      meta: {
        screen: 'main.title',
        choices: [
          choice('coverage', 'main.coverage'),
          choice('contribute', 'main.contribute'),
          choice('history', 'main.history'),
          choice('reminders', 'main.reminders'),
          choice('callback', 'main.callback'),
          choice('language', 'main.language'),
        ],
      },
      on: {
        'choice.coverage': 'toCoverage',
        'choice.contribute': 'toContribute',
        'choice.history': 'toHistory',
        'choice.reminders': 'toReminders',
        'choice.callback': 'toCallback',
        'choice.language': 'toLanguage',
      },
    },
    toCoverage: { type: 'final', output: { next: 'coverage' } },
    toContribute: { type: 'final', output: { next: 'contribute' } },
    toHistory: { type: 'final', output: { next: 'history' } },
    toReminders: { type: 'final', output: { next: 'reminders' } },
    toCallback: { type: 'final', output: { next: 'callback' } },
    toLanguage: { type: 'final', output: { next: 'language' } },
  },
});
