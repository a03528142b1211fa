import {
  type AnyActor,
  type AnyActorScope,
  type AnyStateMachine,
  type AnyStateNode,
  createActor,
  type Snapshot,
  type SnapshotFrom,
} from 'xstate';
import type { FlowEvent, FlowInput } from '../../flows/lib.ts';

type Snap = SnapshotFrom<AnyStateMachine>;

/**
 * A flow that invokes no service, has no delayed transition and never waits (the main menu): its
 * states are reached by the machine's own transition functions, without an actor. Creating, starting
 * and stopping an actor costs several times the transition itself, and such a flow has nothing
 * for an actor to run.
 */
export function runsWithoutActor(machine: AnyStateMachine): boolean {
  const calm = (node: AnyStateNode): boolean =>
    node.invoke.length === 0 && node.after.length === 0 && !node.tags.includes('busy') && Object.values(node.states).every(calm);
  return calm(machine.root);
}

/**
 * A snapshot stepped by the machine's transition functions, with the same methods as the actor the
 * engine would otherwise create: what it shows, send, the snapshot to persist, stop (nothing to stop).
 * The scope is the one an actor gives its machine, built once per flow: it executes actions as an
 * actor does (flows only assign, which the transition applies itself) and refuses to defer, which
 * only spawned children and delayed events need and `runsWithoutActor` rules out.
 */
export class SnapshotRun {
  private constructor(
    readonly machine: AnyStateMachine,
    private readonly scope: AnyActorScope,
    private snapshot: Snap,
  ) {}

  static scopeFor(machine: AnyStateMachine): AnyActorScope {
    // An actor never started: its system and ref are what the machine's functions look up.
    const self = createActor(machine);
    return {
      self,
      id: '',
      sessionId: '',
      system: self.system,
      logger: () => {},
      emit: () => {},
      stopChild: () => {},
      defer: () => {
        throw new Error(`flow ${machine.id} deferred work that needs an actor`);
      },
      actionExecutor: (action) => action.exec?.(action.info, action.params),
    };
  }

  static start(machine: AnyStateMachine, scope: AnyActorScope, input: FlowInput): SnapshotRun {
    return new SnapshotRun(machine, scope, machine.getInitialSnapshot(scope, input));
  }

  static restore(machine: AnyStateMachine, scope: AnyActorScope, persisted: unknown): SnapshotRun {
    return new SnapshotRun(machine, scope, machine.restoreSnapshot(persisted as Snapshot<unknown>, scope));
  }

  getSnapshot(): Snap {
    return this.snapshot;
  }

  send(event: FlowEvent): void {
    // An actor that is done or failed ignores events, and one whose machine throws ends in error: so does this.
    if (this.snapshot.status !== 'active') return;
    try {
      this.snapshot = this.machine.transition(this.snapshot, event, this.scope);
    } catch (error) {
      const { value, context } = this.snapshot;
      this.snapshot = this.machine.resolveState({ value, context, status: 'error', error });
    }
  }

  getPersistedSnapshot(): Snapshot<unknown> {
    return this.machine.getPersistedSnapshot(this.snapshot);
  }

  stop(): void {}
}

/** A flow under way: an actor, or a snapshot stepped without one. */
export type FlowRun = AnyActor | SnapshotRun;
