import { assign, setup } from 'xstate';
import { type CoverageView, coverageMessage } from '../src/domain/coverage.ts';
import { choice, type FlowInput, failedState, flowTypes, handOff, loadingFor, provided, slowState } from './lib.ts';

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
  guards: {
    situation: ({ context }, status: ReturnType<typeof kind>) => kind(context) === status,
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
            { guard: { type: 'situation', params: 'never' }, target: 'never' },
            { guard: { type: 'situation', params: 'active' }, target: 'active' },
            { guard: { type: 'situation', params: 'waiting' }, target: 'waiting' },
            { guard: { type: 'situation', params: 'waitingUnpaid' }, target: 'waitingUnpaid' },
            { guard: { type: 'situation', params: 'grace' }, target: 'grace' },
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
