import type { AnyStateMachine } from 'xstate';
import { callbackMachine } from './callback.ts';
import { contributeMachine } from './contribute.ts';
import { coverageMachine } from './coverage.ts';
import { facilityMachine } from './facility.ts';
import { historyMachine } from './history.ts';
import { languageMachine } from './language.ts';
import type { FlowName } from './lib.ts';
import { mainMachine } from './main.ts';
import { registerMachine } from './register.ts';
import { remindersMachine } from './reminders.ts';
import { resumeMachine } from './resume.ts';

/** Every menu a caller can reach (a facility's agent: the facility menu), by the name the engine stores with the session. */
export const flows = {
  main: mainMachine,
  register: registerMachine,
  coverage: coverageMachine,
  contribute: contributeMachine,
  history: historyMachine,
  reminders: remindersMachine,
  callback: callbackMachine,
  language: languageMachine,
  resume: resumeMachine,
  facility: facilityMachine,
} satisfies Record<FlowName, AnyStateMachine>;

export type Flows = typeof flows;
