/**
 * What every flow shares: the input the engine gives a machine, the events it sends, and how a
 * state describes its screen. Flows say *what* to tell the member; the engine decides how a
 * channel shows it (numbering, CON/END, pages, character set).
 */
import { fromPromise } from 'xstate';
import type { Language, Params } from '../src/i18n/catalog.ts';
import type catalog from './messages/fr.json';

export type { Language, Params };

/**
 * A key of the message catalogs (French is the reference; `flows check` holds Bambara to the same
 * keys): a screen, label or hint a flow names must exist, or `tsc` fails.
 */
export type MessageKey = Exclude<keyof typeof catalog, '$comment'>;

export const FLOW_NAMES = [
  'main',
  'register',
  'coverage',
  'contribute',
  'history',
  'reminders',
  'callback',
  'language',
  'resume',
  'facility',
] as const;
export type FlowName = (typeof FLOW_NAMES)[number];

/** Given to every machine when the engine starts it. */
export interface FlowInput {
  sessionId: string;
  phone: string;
  lang: Language;
  householdId: number | null;
  /** The health facility's agent using the facility menu (src/db/facilities.ts), for that flow only. */
  agentId?: number | undefined;
  /** Why the engine sent the member here (the call-back flow files the request under it instead of asking). */
  reason?: string;
  /** The session this phone had cut off mid-way, given to the resume flow only. */
  resume?: SavedFlow;
}

/** A flow cut off mid-way, as its session stored it, to be offered again and continued. */
export interface SavedFlow {
  /** The session it was cut in: closed once the offer is taken or declined. */
  from: string;
  machine: FlowName;
  version: number;
  /** Its persisted XState snapshot. */
  snapshot: unknown;
  page: number;
  /** The line offering it (its screen's `resume` key, with that screen's parameters). */
  line: { key: MessageKey; params: Params };
}

/** Events the engine sends. `hop` numbers the member's inputs in the session: side effects key on it. */
export type FlowEvent =
  | { type: `choice.${string}`; value: string; hop: number }
  | { type: 'text'; value: string; hop: number }
  | { type: 'back'; hop: number }
  /** 00, sent only to a flow that takes it (the resume offer closes before home); any other flow goes home. */
  | { type: 'home'; hop: number }
  | { type: 'budget.exceeded'; hop: number }
  /** Sent once to a flow restored from a cut-off session: it may check that what it shows still holds. */
  | { type: 'resumed'; hop: number };

/**
 * A machine that finishes hands the member to another flow ('home' = the caller's home menu: the main
 * menu, the joining menu or the facility menu),
 * continues a saved one (`restore`, the resume flow), or ends the session.
 */
export interface FlowOutput {
  next?: FlowName | 'home';
  restore?: SavedFlow;
}

/** A choice keeps the value the flow branches on apart from the words the member sees. */
export interface Choice {
  value: string;
  /** Catalog key of the label; or `label` for names that come from data (a mutuelle, a district). */
  labelKey?: MessageKey;
  labelParams?: Params;
  label?: string;
}

/**
 * A flow that refuses what the member typed (an amount, a card number) sets `error` to the
 * message key saying why, and stays; the engine shows it above the screen and counts it like a
 * wrong key. A valid input clears it.
 */
export interface WithError {
  error: MessageKey | null;
}

/** Lines listed under a screen's text, all in one message shape (one beneficiary, one payment…). */
export interface Lines<C> {
  key: MessageKey;
  items: (context: C) => Params[];
}

export interface ScreenMeta<C> {
  /** Catalog key of the screen's text. */
  screen: MessageKey;
  params?: (context: C) => Params;
  /** Lines listed under the text (beneficiaries, payments); the engine paginates them. */
  lines?: Lines<C>;
  choices?: readonly Choice[] | ((context: C) => Choice[]);
  /** 'text': the member types a value (sent as a `text` event) instead of picking a numbered choice. */
  input?: 'text';
  /** Final screen: the session ends here. */
  end?: boolean;
  /** A home menu outside the home flow (the main menu offering a resume): 0 has nowhere further back. */
  home?: true;
  /** On a text screen, the catalog key of the line that says what to type after a wrong input. */
  hint?: MessageKey;
  /** Its first choice moves money (a quote): a shortcut dialled with inputs stops here, whatever follows. */
  quote?: true;
  /**
   * A session cut off on this screen (a contribution under way) is offered again, as an extra line
   * under the main menu when the member redials: this line's catalog key and parameters.
   */
  resume?: { key: MessageKey; params?: (context: C) => Params };
}

/** The types every flow machine declares, for `setup({ types: flowTypes<Context>() })`. */
export function flowTypes<C extends FlowInput>() {
  return {
    context: {} as C,
    input: {} as FlowInput,
    events: {} as FlowEvent,
    output: {} as FlowOutput,
    meta: {} as ScreenMeta<C>,
  };
}

/** A numbered choice; its label is the catalog key `labelKey`, or the value itself when that is a key. */
export function choice(value: MessageKey): Choice;
export function choice(value: string, labelKey: MessageKey): Choice;
export function choice(value: string, labelKey: MessageKey = value as MessageKey): Choice {
  return { value, labelKey };
}

export function choiceValue(event: FlowEvent): string {
  return 'value' in event ? event.value : '';
}

/** Every machine's output is the hand-off named by its final state. */
export function handOff({ event }: { event: { output?: unknown } }): FlowOutput {
  return (event.output ?? {}) as FlowOutput;
}

/** What a flow's `setup(...)` returns, as far as the helpers below need it. */
type AnySetup = { createStateConfig: (config: never) => unknown };
/** A state config typed by a flow's setup: its context, events, named actors and named guards. */
type StateConfigOf<S extends AnySetup> = Parameters<S['createStateConfig']>[0];
type InvokeOf<S extends AnySetup> = Exclude<NonNullable<StateConfigOf<S>['invoke']>, readonly unknown[] | string>;

/**
 * "Load, then show", for a flow's setup: `loading({ src, input, onDone, slow })` is a state with no
 * screen that asks one named service and moves on with its answer. It is tagged busy (the engine
 * waits for it within its time budget), a failure goes to the flow's `failed` state, and an overrun
 * goes to `slow` (a slowState, or a final screen when a retry would be unsafe), leaving nothing running.
 * `onDone` is typed by the service named in `src`, guards by the flow's named guards.
 */
export function loadingFor<S extends AnySetup>(_flow: S) {
  return (state: InvokeOf<S> & { slow: string }): StateConfigOf<S> => {
    const { slow, ...invoke } = state as { slow: string };
    return { tags: ['busy'], invoke: { ...invoke, onError: 'failed' }, on: { 'budget.exceeded': slow } } as StateConfigOf<S>;
  };
}

/** The screen after an invoked service overran the engine's time budget: nothing is left running. */
export function slowState(retryTarget: string) {
  return {
    meta: { screen: 'common.slow' as const, choices: [choice('retry', 'common.retry')] },
    on: { 'choice.retry': retryTarget },
  };
}

/** A service failed: say so plainly and end, the member can dial again. */
export const failedState = {
  type: 'final',
  meta: { screen: 'common.failed', end: true },
} as const;

/** Dynamic guard parameters: the answer of the service a loading state asked (`guard: { type: 'noWallet', params: outputOf }`). */
export function outputOf<T>({ event }: { event: { output: T } }): T {
  return event.output;
}

/** The hop that caused a transition, for idempotence keys of side effects. */
export function hopOf(event: { type: string }): number {
  return 'hop' in event && typeof event.hop === 'number' ? event.hop : 0;
}

/** A service the machine names; src/ussd/providers.ts gives the implementation with machine.provide. */
export function provided<Output, Input>(name: string) {
  return fromPromise<Output, Input>(() => {
    throw new Error(`${name} is provided by src/ussd/providers.ts`);
  });
}
