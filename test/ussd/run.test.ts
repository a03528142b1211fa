import { describe, expect, it } from 'vitest';
import { type AnyStateMachine, assign, createActor, setup } from 'xstate';
import { flows } from '../../flows/index.ts';
import type { FlowEvent, FlowInput } from '../../flows/lib.ts';
import { runsWithoutActor, SnapshotRun } from '../../src/ussd/run.ts';

const input: FlowInput = { sessionId: 's-1', phone: '+22376000001', lang: 'fr', householdId: 1 };
const pick = (value: string): FlowEvent => ({ type: `choice.${value}`, value, hop: 1 });

describe('flows stepped without an actor', () => {
  it('are those that invoke nothing, wait for nothing and delay nothing', () => {
    expect(runsWithoutActor(flows.main)).toBe(true);
    for (const name of ['coverage', 'contribute', 'history', 'register', 'resume', 'language'] as const) {
      expect(runsWithoutActor(flows[name]), name).toBe(false);
    }
    const delayed = setup({}).createMachine({ initial: 'a', states: { a: { after: { 1000: 'b' } }, b: {} } });
    expect(runsWithoutActor(delayed)).toBe(false);
  });

  it('reach the states and persist the snapshots an actor would, and restore either', () => {
    const scope = SnapshotRun.scopeFor(flows.main);
    const run = SnapshotRun.start(flows.main, scope, input);
    const actor = createActor(flows.main, { input }).start();
    expect(run.getPersistedSnapshot()).toEqual(actor.getPersistedSnapshot());

    // An actor restored from the run's snapshot and a run restored from the actor's go on alike.
    const fromRun = createActor(flows.main as AnyStateMachine, {
      snapshot: JSON.parse(JSON.stringify(run.getPersistedSnapshot())),
    }).start();
    const fromActor = SnapshotRun.restore(flows.main, scope, JSON.parse(JSON.stringify(actor.getPersistedSnapshot())));
    fromRun.send(pick('history'));
    fromActor.send(pick('history'));
    expect(fromActor.getSnapshot().status).toBe('done');
    expect(fromActor.getSnapshot().output).toEqual({ next: 'history' });
    expect(fromActor.getPersistedSnapshot()).toEqual(fromRun.getPersistedSnapshot());
    actor.stop();
    fromRun.stop();
  });

  it('ignore an event once done, and end in error when the machine throws, as an actor does', () => {
    const scope = SnapshotRun.scopeFor(flows.main);
    const run = SnapshotRun.start(flows.main, scope, input);
    run.send(pick('coverage'));
    run.send(pick('history'));
    expect(run.getSnapshot().output).toEqual({ next: 'coverage' });

    const failing = setup({ types: { context: {} as { n: number } } }).createMachine({
      context: { n: 0 },
      initial: 'a',
      states: {
        a: {
          on: {
            go: {
              actions: assign({
                n: () => {
                  throw new Error('broken');
                },
              }),
            },
          },
        },
      },
    });
    const broken = SnapshotRun.start(failing, SnapshotRun.scopeFor(failing), input);
    broken.send({ type: 'go' } as never);
    expect(broken.getSnapshot().status).toBe('error');
    expect((broken.getSnapshot().error as Error).message).toBe('broken');
  });
});
