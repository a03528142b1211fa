/**
 * What a newcomer adding a menu option is told by the tools rather than by a member: an unknown
 * message key fails `tsc` (the `@ts-expect-error` lines below fail the type check if it ever stops
 * failing), and a listed choice without a handler fails `flows check`.
 */

import { describe, expect, it } from 'vitest';
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { createMachine } from 'xstate';
import { type Choice, choice, type ScreenMeta } from '../flows/lib.ts';
import { unhandledChoices } from '../src/ussd/check.ts';

describe('message keys are typed from the catalog', () => {
  it('a known key is accepted, an unknown one is a type error', () => {
    const known: ScreenMeta<unknown> = { screen: 'coverage.active' };
    // @ts-expect-error: 'coverage.summry' is not a key of flows/messages/fr.json
    const unknown: ScreenMeta<unknown> = { screen: 'coverage.summry' };
    // @ts-expect-error: a choice's label must be a catalog key too
    const label: Choice = choice('confirm', 'contribute.confirmm');
    expect([known.screen, unknown.screen, label.labelKey]).toEqual(['coverage.active', 'coverage.summry', 'contribute.confirmm']);
  });
});

describe('flows check: every listed choice has a handler', () => {
  const machine = createMachine({
    initial: 'menu',
    on: { 'choice.help': '.menu' },
    states: {
      menu: {
        meta: {
          screen: 'main.title',
          choices: [choice('coverage', 'main.coverage'), choice('history', 'main.history'), choice('help', 'main.callback')],
        },
        on: { 'choice.coverage': 'done' },
      },
      picked: {
        meta: { screen: 'main.title', choices: () => [] },
        on: { 'choice.*': 'done' },
      },
      unpicked: {
        meta: { screen: 'main.title', choices: () => [] },
      },
      done: { type: 'final' },
    },
  }) as AnyStateMachine;
  const node = (key: string) => machine.root.states[key] as AnyStateNode;
  const meta = (key: string) => node(key).meta as ScreenMeta<unknown>;

  it('names a static choice that nothing takes; a handler above the state counts', () => {
    expect(unhandledChoices(node('menu'), meta('menu'))).toEqual(['history']);
  });

  it('computed choices need a choice.* wildcard', () => {
    expect(unhandledChoices(node('picked'), meta('picked'))).toEqual([]);
    expect(unhandledChoices(node('unpicked'), meta('unpicked'))).toEqual(['(computed)']);
  });
});
