import { assign, setup } from 'xstate';
import { type FlowInput, failedState, flowTypes, handOff, loadingFor, outputOf, provided, slowState } from './lib.ts';

export interface PaymentLine {
  date: string;
  amount: number;
  channel: 'orange_money' | 'cash' | 'agent';
}

interface Context extends FlowInput {
  payments: PaymentLine[];
}

const flow = setup({
  types: flowTypes<Context>(),
  actors: {
    listPayments: provided<PaymentLine[], { householdId: number }>('listPayments'),
  },
  guards: {
    neverPaid: (_, payments: PaymentLine[]) => payments.length === 0,
  },
});
const loading = loadingFor(flow);

/** The household's contributions, latest first; the engine pages through them. */
export const historyMachine = flow.createMachine({
  id: 'history',
  context: ({ input }) => ({ ...input, payments: [] }),
  initial: 'loading',
  output: handOff,
  states: {
    loading: loading({
      src: 'listPayments',
      input: ({ context }) => ({ householdId: context.householdId ?? 0 }),
      onDone: [
        { guard: { type: 'neverPaid', params: outputOf }, target: 'empty' },
        { target: 'list', actions: assign({ payments: ({ event }) => event.output }) },
      ],
      slow: 'slow',
    }),
    slow: slowState('loading'),
    failed: failedState,
    empty: { meta: { screen: 'history.empty' } },
    list: {
      meta: {
        screen: 'history.title',
        params: (c) => ({ count: c.payments.length }),
        lines: { key: 'history.item', items: (c) => c.payments.map((p) => ({ date: p.date, amount: p.amount, channel: p.channel })) },
      },
    },
  },
});
