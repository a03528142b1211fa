import { assign, setup } from 'xstate';
import {
  type Choice,
  choiceValue,
  type FlowInput,
  type FlowName,
  failedState,
  flowTypes,
  handOff,
  loadingFor,
  provided,
  type SavedFlow,
  slowState,
} from './lib.ts';
import { MAIN_MENU } from './main.ts';

interface Context extends FlowInput {
  resume: SavedFlow;
  /** Where the member went instead of continuing: a main menu choice, or home. */
  instead: FlowName | 'home';
}

const flow = setup({
  types: flowTypes<Context>(),
  actors: {
    closeCutSession: provided<void, { sessionId: string }>('closeCutSession'),
  },
});
const loading = loadingFor(flow);

const offerLine = (c: Context): Choice => ({ value: 'resume', labelKey: c.resume.line.key, labelParams: c.resume.line.params });

/**
 * A member redials within minutes of a contribution cut off mid-way: the main menu, each number
 * leading where it always does, and one more line to continue where the call stopped. Taken or
 * declined, the offer is made once: the cut session is closed either way.
 */
export const resumeMachine = flow.createMachine({
  id: 'resume',
  context: ({ input }) => ({ ...input, resume: input.resume as SavedFlow, instead: 'home' }),
  initial: 'offer',
  output: handOff,
  states: {
    offer: {
      meta: { screen: 'main.title', home: true, choices: (c) => [...MAIN_MENU, offerLine(c)] },
      on: {
        'choice.resume': 'taking',
        // The main menu's values are the flows they lead to.
        'choice.*': { target: 'declining', actions: assign({ instead: ({ event }) => choiceValue(event) as FlowName }) },
        home: { target: 'declining', actions: assign({ instead: 'home' }) },
      },
    },
    taking: loading({
      src: 'closeCutSession',
      input: ({ context }) => ({ sessionId: context.resume.from }),
      onDone: 'taken',
      slow: 'slow',
    }),
    declining: loading({
      src: 'closeCutSession',
      input: ({ context }) => ({ sessionId: context.resume.from }),
      onDone: 'declined',
      slow: 'slow',
    }),
    slow: slowState('offer'),
    failed: failedState,
    taken: { type: 'final', output: ({ context }) => ({ restore: context.resume }) },
    declined: { type: 'final', output: ({ context }) => ({ next: context.instead }) },
  },
});
