import {
  type AnyActor,
  type AnyActorLogic,
  type AnyActorScope,
  type AnyStateMachine,
  type AnyStateNode,
  createActor,
  type EventObject,
  fromPromise,
  type Snapshot,
  type SnapshotFrom,
} from 'xstate';
import type { FlowEvent, FlowInput } from '../../flows/lib.ts';

type Snap = SnapshotFrom<AnyStateMachine>;

/** The answers of services computed synchronously, by the logic an invoke names. */
const answers = new WeakMap<AnyActorLogic, (input: never) => unknown>();

/**
 * A service whose answer is computed synchronously (a read or write of SQLite): an actor runs it as
 * any promise service, and a flow whose every service is one needs no actor (`runsWithoutActor`).
 */
export function synchronous<Output, Input>(answer: (input: Input) => Output) {
  const logic = fromPromise<Output, Input>(async ({ input }) => answer(input));
  answers.set(logic, answer);
  return logic;
}

/**
 * A flow whose invoked services all answer synchronously and which has no delayed transition:
 * its states are reached by the machine's own transition functions, without an actor, each service
 * answered in the same step. Creating, starting and stopping an actor, and waiting for its promise
 * services, costs several times the transition itself, and such a flow has nothing to wait for.
 */
export function runsWithoutActor(machine: AnyStateMachine): boolean {
  const actors = machine.implementations.actors as Record<string, AnyActorLogic | undefined>;
  const answered = (src: string | AnyActorLogic) => answers.has((typeof src === 'string' ? actors[src] : src) as AnyActorLogic);
  const calm = (node: AnyStateNode): boolean =>
    node.after.length === 0 && node.invoke.every((i) => answered(i.src)) && Object.values(node.states).every(calm);
  return calm(machine.root);
}

/**
 * A snapshot stepped by the machine's transition functions, with the same methods as the actor the
 * engine would otherwise create: what it shows, send, the snapshot to persist, stop (nothing to stop).
 * The scope is the one an actor gives its machine, built once per flow: it executes actions as an
 * actor does (flows only assign, which the transition applies itself), leaves invoked services
 * unstarted (the run answers them) and refuses to defer, which only delayed events need and
 * `runsWithoutActor` rules out.
 */
export class SnapshotRun {
  private constructor(
    readonly machine: AnyStateMachine,
    private readonly scope: AnyActorScope,
    private snapshot: Snap,
  ) {
    this.answerServices();
  }

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
      // Starting an invoked service is the one action deferred; the run answers the service instead.
      actionExecutor: (action) => {
        if (action.type !== 'xstate.spawnChild') action.exec?.(action.info, action.params);
      },
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
    this.step(event);
    this.answerServices();
  }

  /**
   * What XState's getPersistedSnapshot gives, built field by field: XState copies the snapshot through
   * an object rest of ten keys (a slow path of V8, about 4 µs a hop) to keep these few. Its own
   * serialisation is kept for what it converts: a child, a history state, an actor in the context.
   */
  getPersistedSnapshot(): Snapshot<unknown> {
    const s = this.snapshot;
    if (!isEmpty(s.children) || !isEmpty(s.historyValue) || holdsActor(s.context)) return this.machine.getPersistedSnapshot(s);
    const { status, output, error, value, context } = s;
    return { status, output, error, value, historyValue: {}, context, children: {} } as Snapshot<unknown>;
  }

  stop(): void {}

  private step(event: EventObject): void {
    // An actor that is done or failed ignores events, and one whose machine throws ends in error: so does this.
    if (this.snapshot.status !== 'active') return;
    try {
      this.snapshot = this.machine.transition(this.snapshot, event, this.scope);
    } catch (error) {
      const { value, context } = this.snapshot;
      this.snapshot = this.machine.resolveState({ value, context, status: 'error', error });
    }
  }

  /**
   * Each service the flow waits for, answered as its actor would: its output (or its error) is the
   * event the machine receives next. The state it leads to may invoke another service; a flow that
   * keeps invoking is stopped at a bound rather than looping.
   */
  private answerServices(): void {
    for (let answered = 0; answered < 16 && this.snapshot.status === 'active'; answered++) {
      const child = pendingService(this.snapshot);
      if (!child) return;
      const answer = answers.get(child.logic) as (input: unknown) => unknown;
      const { input } = child.getSnapshot() as { input: unknown };
      let event: EventObject;
      try {
        event = { type: `xstate.done.actor.${child.id}`, output: answer(input), actorId: child.id } as EventObject;
      } catch (error) {
        event = { type: `xstate.error.actor.${child.id}`, error, actorId: child.id } as EventObject;
      }
      this.step(event);
    }
    if (this.snapshot.status === 'active' && pendingService(this.snapshot)) {
      this.snapshot = this.machine.resolveState({
        value: this.snapshot.value,
        context: this.snapshot.context,
        status: 'error',
        error: new Error(`flow ${this.machine.id} invoked services without end`),
      });
    }
  }
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/** Whether XState's persistContext would find an actor to replace, walking the context as it does. */
function holdsActor(part: unknown): boolean {
  for (const key in part as Record<string, unknown>) {
    const value = (part as Record<string, unknown>)[key];
    if (value && typeof value === 'object' && (('sessionId' in value && 'send' in value && 'ref' in value) || holdsActor(value)))
      return true;
  }
  return false;
}

function pendingService(snapshot: Snap): AnyActor | undefined {
  for (const id in snapshot.children) {
    const child = snapshot.children[id] as AnyActor | undefined;
    if (child && answers.has(child.logic)) return child;
  }
  return undefined;
}

/** A flow under way: an actor, or a snapshot stepped without one. */
export type FlowRun = AnyActor | SnapshotRun;
