import { setup } from 'xstate';
import { choice, type FlowInput, flowTypes, handOff } from './lib.ts';

/** The main menu's choices, in the contract order; each value is the flow it leads to. */
export const MAIN_MENU = [
  choice('coverage', 'main.coverage'),
  choice('contribute', 'main.contribute'),
  choice('history', 'main.history'),
  choice('reminders', 'main.reminders'),
  choice('callback', 'main.callback'),
  choice('language', 'main.language'),
] as const;

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
      meta: { screen: 'main.title', choices: MAIN_MENU },
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
