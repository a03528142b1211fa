import { assign, setup } from 'xstate';
import { coverageMessage, type CoverageView } from '../src/domain/coverage.ts';
import { choice, failedState, handOff, loadingFor, slowState, type FlowInput, flowTypes, provided } from './lib.ts';

interface Context extends FlowInput {
  view: CoverageView | null;
}

const summary = (c: Context) => coverageMessage(c.view as CoverageView).params;
const kind = (c: Context) => (c.view ? coverageMessage(c.view).status : 'never');

const summaryChoices = [choice('beneficiaries', 'coverage.beneficiaries'), choice('pay', 'coverage.pay')];

const flow = setup({
  types: flowTypes<Context>(),
  actors: {
    lookupCoverage: provided<CoverageView, { householdId: number }>('lookupCoverage'),
  },
});
const loading = loadingFor(flow);

/** Is the household covered, until when, what remains to pay, and each beneficiary's status. */
export const coverageMachine = flow.createMachine({
  id: 'coverage',
  context: ({ input }) => ({ ...input, view: null }),
  initial: 'loading',
  output: handOff,
  states: {
    loading: loading({
      src: 'lookupCoverage',
      input: ({ context }) => ({ householdId: context.householdId ?? 0 }),
      onDone: { target: 'summary', actions: assign({ view: ({ event }) => event.output }) },
      slow: 'slow',
    }),
    slow: slowState('loading'),
    failed: failedState,
    summary: {
      initial: 'deciding',
      on: {
        'choice.beneficiaries': 'beneficiaries',
        'choice.pay': 'toContribute',
      },
      states: {
        deciding: {
          // One message per situation (src/domain/coverage.ts situationOf): never "covered" while waiting.
          always: [
            { guard: ({ context }) => kind(context) === 'never', target: 'never' },
            { guard: ({ context }) => kind(context) === 'active', target: 'active' },
            { guard: ({ context }) => kind(context) === 'waiting', target: 'waiting' },
            { guard: ({ context }) => kind(context) === 'waitingUnpaid', target: 'waitingUnpaid' },
            { guard: ({ context }) => kind(context) === 'grace', target: 'grace' },
            { target: 'lapsed' },
          ],
        },
        active: { meta: { screen: 'coverage.active', params: summary, choices: summaryChoices } },
        waiting: { meta: { screen: 'coverage.waiting', params: summary, choices: summaryChoices } },
        waitingUnpaid: { meta: { screen: 'coverage.waitingUnpaid', params: summary, choices: summaryChoices } },
        grace: { meta: { screen: 'coverage.grace', params: summary, choices: summaryChoices } },
        lapsed: { meta: { screen: 'coverage.lapsed', params: summary, choices: summaryChoices } },
        never: { meta: { screen: 'coverage.never', params: summary, choices: summaryChoices } },
      },
    },
    beneficiaries: {
      meta: {
        screen: 'coverage.beneficiaries.title',
        params: (c) => ({ count: c.view?.beneficiaries.length ?? 0 }),
        lines: {
          key: 'coverage.beneficiary',
          items: (c) => (c.view?.beneficiaries ?? []).map((b) => ({ name: b.name, status: b.status })),
        },
      },
      on: { back: 'summary' },
    },
    toContribute: { type: 'final', output: { next: 'contribute' } },
  },
});
