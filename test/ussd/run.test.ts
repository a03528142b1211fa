import { describe, expect, it } from 'vitest';
import { type AnyStateMachine, assign, createActor, fromPromise, setup, waitFor } from 'xstate';
import { flows } from '../../flows/index.ts';
import type { FlowEvent, FlowInput } from '../../flows/lib.ts';
import type { CoverageView } from '../../src/domain/coverage.ts';
import { runsWithoutActor, SnapshotRun, synchronous } from '../../src/ussd/run.ts';

const input: FlowInput = { sessionId: 's-1', phone: '+22376000001', lang: 'fr', householdId: 1 };
const view: CoverageView = {
  adherentName: 'Awa Traoré',
  size: 2,
  status: 'active',
  paidThrough: '2026-12-31',
  waitingUntil: null,
  graceUntil: '2027-01-31',
  nextMonth: '2027-01',
  remaining: 0,
  beneficiaries: [
    { name: 'Awa', status: 'active' },
    { name: 'Moussa', status: 'active' },
  ],
};
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

  it('include those whose every invoked service answers synchronously', () => {
    const lookupCoverage = synchronous<CoverageView, { householdId: number }>(() => view);
    expect(runsWithoutActor(flows.coverage.provide({ actors: { lookupCoverage } }))).toBe(true);
    const promised = fromPromise<CoverageView, { householdId: number }>(async () => view);
    expect(runsWithoutActor(flows.coverage.provide({ actors: { lookupCoverage: promised } }))).toBe(false);
  });

  it('answer a synchronous service in the step that invoked it, as an actor would once it settled', async () => {
    const asked: unknown[] = [];
    const lookupCoverage = synchronous<CoverageView, { householdId: number }>((i) => {
      asked.push(i);
      return view;
    });
    const coverage = flows.coverage.provide({ actors: { lookupCoverage } });
    const run = SnapshotRun.start(coverage, SnapshotRun.scopeFor(coverage), input);
    expect(asked).toEqual([{ householdId: 1 }]);
    expect(run.getSnapshot().hasTag('busy')).toBe(false);
    expect(run.getSnapshot().value).toEqual({ summary: 'active' });

    const actor = createActor(coverage, { input }).start();
    await waitFor(actor, (s) => !s.hasTag('busy'));
    expect(run.getPersistedSnapshot()).toEqual(actor.getPersistedSnapshot());
    run.send(pick('beneficiaries'));
    actor.send(pick('beneficiaries'));
    expect(run.getPersistedSnapshot()).toEqual(actor.getPersistedSnapshot());
    actor.stop();
  });

  it('take a synchronous service that throws as a failed one', () => {
    const lookupCoverage = synchronous<CoverageView, { householdId: number }>(() => {
      throw new Error('household 1 not found');
    });
    const coverage = flows.coverage.provide({ actors: { lookupCoverage } });
    const run = SnapshotRun.start(coverage, SnapshotRun.scopeFor(coverage), input);
    expect(run.getSnapshot().status).toBe('done');
    expect(run.getSnapshot().value).toBe('failed');
  });

  it('end in error instead of looping when services keep invoking each other', () => {
    const again = synchronous<number, Record<string, never>>(() => 1);
    const loop = setup({ actors: { again } }).createMachine({
      initial: 'a',
      states: {
        a: { invoke: { src: 'again', input: {}, onDone: 'b' } },
        b: { invoke: { src: 'again', input: {}, onDone: 'a' } },
      },
    });
    expect(runsWithoutActor(loop)).toBe(true);
    const run = SnapshotRun.start(loop, SnapshotRun.scopeFor(loop), input);
    expect(run.getSnapshot().status).toBe('error');
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

  it("persist the very JSON of XState's own serialisation, children, history states and actors in context included", () => {
    const persistedAlike = (run: SnapshotRun) =>
      expect(JSON.stringify(run.getPersistedSnapshot())).toBe(JSON.stringify(run.machine.getPersistedSnapshot(run.getSnapshot())));
    const lookupCoverage = synchronous<CoverageView, { householdId: number }>(() => view);
    const coverage = flows.coverage.provide({ actors: { lookupCoverage } });
    const run = SnapshotRun.start(coverage, SnapshotRun.scopeFor(coverage), input);
    persistedAlike(run);
    run.send(pick('beneficiaries'));
    persistedAlike(run);
    const main = SnapshotRun.start(flows.main, SnapshotRun.scopeFor(flows.main), input);
    main.send(pick('coverage'));
    expect(main.getSnapshot().status).toBe('done');
    persistedAlike(main);

    const remembering = setup({}).createMachine({
      initial: 'a',
      states: {
        a: { initial: 'x', states: { x: { on: { next: 'y' } }, y: {}, h: { type: 'history' } }, on: { out: 'b' } },
        b: { on: { in: 'a.h' } },
      },
    });
    const recalled = SnapshotRun.start(remembering, SnapshotRun.scopeFor(remembering), input);
    recalled.send({ type: 'next' } as never);
    recalled.send({ type: 'out' } as never);
    persistedAlike(recalled);
    expect(JSON.stringify(recalled.getPersistedSnapshot())).toContain('"historyValue":{"');

    const holding = setup({ types: { context: {} as { held: { ref: unknown } } } }).createMachine({
      context: { held: { ref: createActor(fromPromise(async () => 1)) } },
      initial: 'a',
      states: { a: {} },
    });
    const held = SnapshotRun.start(holding, SnapshotRun.scopeFor(holding), input);
    persistedAlike(held);
    expect(JSON.stringify(held.getPersistedSnapshot())).toContain('xstate$$type');
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
