import { setup } from 'xstate';
import { handOff, type FlowInput, flowTypes } from './lib.ts';

/**
 * Contributing by Orange Money lands with the payments work (issue 5); until then the menu
 * says so honestly and tells the member how to pay today.
 */
export const contributeMachine = setup({
  types: flowTypes<FlowInput>(),
}).createMachine({
  id: 'contribute',
  context: ({ input }) => input,
  initial: 'comingSoon',
  output: handOff,
  states: {
    comingSoon: {
      meta: { screen: 'contribute.soon' },
    },
  },
});
