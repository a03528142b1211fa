import { assign, setup } from 'xstate';
import { choice, type FlowInput, failedState, flowTypes, handOff, loadingFor, outputOf, provided, slowState } from './lib.ts';

interface Context extends FlowInput {
  enabled: boolean;
}

const flow = setup({
  types: flowTypes<Context>(),
  actors: {
    loadReminders: provided<boolean, { householdId: number; phone: string }>('loadReminders'),
    saveReminders: provided<void, { householdId: number; phone: string; enabled: boolean }>('saveReminders'),
  },
  guards: {
    remindersWereOn: (_, enabled: boolean) => enabled,
    turnedOn: ({ context }) => context.enabled,
  },
});
const loading = loadingFor(flow);

/** Turn the SMS reminders before coverage ends on or off (receipts always go). */
export const remindersMachine = flow.createMachine({
  id: 'reminders',
  context: ({ input }) => ({ ...input, enabled: true }),
  initial: 'loading',
  output: handOff,
  states: {
    loading: loading({
      src: 'loadReminders',
      input: ({ context }) => ({ householdId: context.householdId ?? 0, phone: context.phone }),
      onDone: [
        { guard: { type: 'remindersWereOn', params: outputOf }, target: 'on', actions: assign({ enabled: true }) },
        { target: 'off', actions: assign({ enabled: false }) },
      ],
      slow: 'slow',
    }),
    slow: slowState('loading'),
    failed: failedState,
    on: {
      meta: { screen: 'reminders.on', choices: [choice('turnOff', 'reminders.turnOff')] },
      on: { 'choice.turnOff': { target: 'saving', actions: assign({ enabled: false }) } },
    },
    off: {
      meta: { screen: 'reminders.off', choices: [choice('turnOn', 'reminders.turnOn')] },
      on: { 'choice.turnOn': { target: 'saving', actions: assign({ enabled: true }) } },
    },
    saving: loading({
      src: 'saveReminders',
      input: ({ context }) => ({ householdId: context.householdId ?? 0, phone: context.phone, enabled: context.enabled }),
      onDone: [{ guard: 'turnedOn', target: 'nowOn' }, { target: 'nowOff' }],
      slow: 'savingSlow',
    }),
    savingSlow: slowState('saving'),
    nowOn: { type: 'final', meta: { screen: 'reminders.nowOn', end: true } },
    nowOff: { type: 'final', meta: { screen: 'reminders.nowOff', end: true } },
  },
});
