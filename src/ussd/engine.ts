import { type AnyActorScope, type AnyStateMachine, createActor, type SnapshotFrom, waitFor } from 'xstate';
import type { FlowEvent, FlowInput, FlowName, FlowOutput, MessageKey, SavedFlow, ScreenMeta, WithError } from '../../flows/lib.ts';
import { choice } from '../../flows/lib.ts';
import type { Clock } from '../clock.ts';
import type { ChangeWatch } from '../db/freshness.ts';
import type { SessionRow, SessionStore } from '../db/sessions.ts';
import type { Catalogs, Language, Params } from '../i18n/catalog.ts';
import type { FoldMode } from '../i18n/gsm7.ts';
import type { Logger } from '../log.ts';
import { createLiveSessions } from './live.ts';
import { choicesOf, describeScreen, navigation, type RenderedScreen, renderScreen, type ScreenData } from './render.ts';
import { type FlowRun, runsWithoutActor, SnapshotRun } from './run.ts';

export interface UssdRequest {
  sessionId: string;
  serviceCode: string;
  phoneNumber: string;
  networkCode?: string | undefined;
  text: string;
  /**
   * Given the hop's reply before it is persisted, writes of the caller's own to commit in the same
   * transaction as the session (the voice channel's step): one commit per hop instead of two. Not
   * called when the hop persists nothing (a stored reply given again, a request already in flight).
   */
  alongside?: ((reply: UssdReply) => (() => void) | undefined) | undefined;
}

export interface UssdReply {
  /** The body sent to the gateway: `CON …` or `END …`. */
  body: string;
  end: boolean;
  /** The screen this hop laid out (absent when a stored reply was given again): voice reads it as data. */
  screen?: RenderedScreen;
}

/**
 * One step of a session driven by another channel than USSD (voice): the member's new input only,
 * null when the call starts. The engine keeps the cumulative text itself, so the same rules hold
 * (input suffix, stored replies, persistence per step, the time budget).
 */
export interface StepRequest {
  sessionId: string;
  phoneNumber: string;
  /** Stored with the session in place of a USSD code: says which channel it came through. */
  serviceCode: string;
  input: string | null;
  /** As UssdRequest's: the caller's writes, given the step's result, committed with the session. */
  alongside?: ((result: StepResult) => (() => void) | undefined) | undefined;
}

export interface StepResult {
  end: boolean;
  /** The screen as data; null when the session had already ended or moved (nothing new to show). */
  screen: ScreenData | null;
}

export interface FlowEntry {
  machine: AnyStateMachine;
  /** Fingerprint of the machine's states and transitions, stored with each snapshot. */
  version: number;
}

export interface Caller {
  /** The menu the caller starts on and `00` leads back to: the main menu, the joining menu or the facility menu. */
  home: FlowName;
  householdId: number | null;
  /** A health facility's agent, for the facility menu. */
  agentId?: number | undefined;
  lang: Language;
}

export interface EngineDeps {
  flows: Record<FlowName, FlowEntry>;
  sessions: SessionStore;
  /** Says when rows kept in memory may have been changed by another connection. */
  watch: ChangeWatch;
  catalogs: Catalogs;
  clock: Clock;
  /** Who is calling: decides the home menu and the first language. */
  identify: (phone: string) => Caller;
  logger: Logger;
  serviceCode: string;
  /** How long a hop may wait for invoked services before the member gets a "try again" screen. */
  budgetMs: number;
  /** A session cut off mid-way can be resumed by the same phone within this window. */
  resumeMs: number;
  foldMode: FoldMode;
  /** How many sessions stay live in memory between hops (0: restore every hop from SQLite). */
  liveMax?: number;
}

/** After too many wrong keys: a call-back from UTM, or the menu. The engine's own screen, outside any flow. */
const HELP = '@help';
const MAX_INVALID = 3;
/** The most inputs a shortcut dial (*384*123*2*1#) may carry. */
const MAX_SHORTCUT = 8;
/** Longer than anything a handset lets a member type in one hop. */
const MAX_INPUT = 182;

/**
 * The navigation keys, the same on every screen and handled in one place (`navigate`): 98 the next
 * page; 0 the previous page, else back in the flow, else home; 00 home.
 */
type NavKey = 'more' | 'back' | 'home';
const NAV_KEYS: ReadonlyMap<string, NavKey> = new Map([
  ['98', 'more'],
  ['0', 'back'],
  ['00', 'home'],
]);

const BACK: FlowEvent = { type: 'back', hop: 0 };

const HELP_META: ScreenMeta<unknown> = {
  screen: 'tooMany.offer',
  choices: [choice('callback', 'tooMany.callback')],
};

/** Under which reason a member stuck in a flow is called back. */
const CALLBACK_REASON: Readonly<Record<string, string>> = {
  contribute: 'payment',
  history: 'payment',
  coverage: 'coverage',
  register: 'registration',
};

type Screen = RenderedScreen;

/** What the error line asks the member to type on this screen. */
export function hintFor(meta: ScreenMeta<unknown> | undefined, choices: number, showsHome: boolean): { key: string; params?: Params } {
  if (meta?.input === 'text') return { key: meta.hint ?? 'hint.digits' };
  if (choices === 0) return { key: showsHome ? 'error.back' : 'error.backOnly' };
  if (choices === 1) return { key: 'error.pickOne' };
  return { key: 'error.pick', params: { count: choices } };
}

interface Hop {
  row: SessionRow;
  input: string | null;
  /** The session's flow still running from its previous hop, if it was kept. */
  live: FlowRun | null;
  /** Set when the hop did not move the flow (paging, a wrong key). */
  unchanged?: boolean;
}

type Snap = SnapshotFrom<AnyStateMachine>;

/** The deepest active state's screen. */
function screenMeta(snapshot: Snap): { meta: ScreenMeta<unknown>; stateId: string } | undefined {
  let found: { meta: ScreenMeta<unknown>; stateId: string } | undefined;
  const metas = snapshot.getMeta() as Record<string, ScreenMeta<unknown> | undefined>;
  for (const stateId in metas) {
    const meta = metas[stateId];
    if (meta?.screen && (!found || stateId.length > found.stateId.length)) found = { meta, stateId };
  }
  return found;
}

/** A home menu: the home flow's, or one a flow marks as such (the resume offer). 0 leads nowhere from it. */
function isHome(row: SessionRow, meta: ScreenMeta<unknown> | undefined): boolean {
  return row.machine === row.home || meta?.home === true;
}

export function createUssdEngine(deps: EngineDeps) {
  const { flows, sessions, catalogs, clock, logger } = deps;
  const inflight = new Map<string, Promise<UssdReply>>();
  const fixedScreens = new Map<string, RenderedScreen>();
  // A failure screen says which code to redial, whichever flow shows it.
  const baseParams: Params = { code: deps.serviceCode };
  const live = createLiveSessions({ max: deps.liveMax ?? 1000, idleMs: 180_000 });
  deps.watch.onChangeElsewhere(live.clear);

  // Flows with nothing for an actor to run (the main menu) are stepped without one.
  const scopes = new Map<AnyStateMachine, AnyActorScope>();
  for (const flow of Object.values(flows)) if (runsWithoutActor(flow.machine)) scopes.set(flow.machine, SnapshotRun.scopeFor(flow.machine));

  const flowOf = (name: string): FlowEntry | undefined => (Object.hasOwn(flows, name) ? flows[name as FlowName] : undefined);

  /**
   * One gateway hop, in five steps: load the session, decide what the input is, move the flow,
   * render its screen, persist. Each hop works on a copy of the row, so a failure leaves nothing
   * half-changed behind.
   */
  async function process(req: UssdRequest): Promise<UssdReply> {
    const nowMs = clock.now().getTime();
    // 1. Load: the session kept live since its previous hop, else its row.
    deps.watch.check();
    const kept = live.take(req.sessionId, nowMs);
    const existing = kept?.row ?? sessions.get(req.sessionId);
    if (existing && existing.phone !== req.phoneNumber) {
      if (kept) live.put(req.sessionId, kept);
      throw new SessionPhoneMismatch();
    }
    // 2. Decide the input: the text minus what was processed before; a hop already answered gets its stored reply.
    const input = existing ? inputSuffix(existing.lastText, req.text) : null;
    const stored = existing ? storedReply(existing, req, input) : undefined;
    if (stored) {
      if (kept) live.put(req.sessionId, kept);
      return stored;
    }
    const caller = existing ? null : deps.identify(req.phoneNumber);
    const row: SessionRow = existing ? { ...existing } : newRow(req, caller as Caller, nowMs);
    const hop = row.hops++;

    const actors: FlowRun[] = [];
    const keep = (a: FlowRun) => {
      actors.push(a);
    };
    let done = false;
    try {
      // 3 and 4. Move the flow and render where it stands.
      const h: Hop = { row, input, live: kept?.actor ?? null };
      const screen = await (caller ? firstHop(h, caller, req.text, hop, nowMs, keep) : nextHop(h, hop, keep));
      // 5. Persist the row, its snapshot and the reply, committed before the reply leaves.
      // A text out of step with ours is answered but not kept, so the next good hop still lines up.
      const out = reply(row, screen, existing && input === null ? existing.lastText : req.text, nowMs);
      const actor = actors.at(-1) ?? null;
      await persist(row, h.unchanged ? null : actor, req.alongside?.(out));
      if (row.status === 'open') {
        live.put(row.sessionId, { row, actor: row.machine === HELP ? null : actor, seenMs: nowMs });
        done = true;
      }
      return out;
    } finally {
      // Every actor of the hop stops, except the one kept live for the next hop.
      const keptActor = done && row.machine !== HELP ? actors.at(-1) : undefined;
      for (const a of actors) if (a !== keptActor) a.stop();
      if (!done && kept?.actor && !actors.includes(kept.actor)) kept.actor.stop();
    }
  }

  /** A hop answered before: a gateway retry, a session ended or moved to a newer call, a late retry of an earlier hop. */
  function storedReply(s: SessionRow, req: UssdRequest, input: string | null): UssdReply | undefined {
    if (req.text === s.lastText) return { body: s.lastReply, end: s.lastReply.startsWith('END') };
    // Continued on a newer call: this one can only end.
    if (s.status === 'resumed') return { body: `END ${endScreen('session.moved', deps.identify(req.phoneNumber).lang).text}`, end: true };
    if (s.status !== 'open') return { body: s.lastReply, end: true };
    // A late retry of an earlier hop: the member already saw the current screen; nothing to do.
    if (input === null && (req.text === '' || s.lastText.startsWith(`${req.text}*`))) return { body: s.lastReply, end: false };
    return undefined;
  }

  function newRow(req: UssdRequest, caller: Caller, nowMs: number): SessionRow {
    return {
      sessionId: req.sessionId,
      phone: req.phoneNumber,
      serviceCode: req.serviceCode,
      machine: '',
      version: 0,
      snapshot: '',
      state: null,
      home: caller.home,
      page: 0,
      invalid: 0,
      hops: 0,
      lastText: '',
      lastReply: '',
      status: 'open',
      createdMs: nowMs,
      updatedMs: nowMs,
    };
  }

  /** Sends an event, then lets invoked services settle within the budget; never leaves one running. */
  async function settle(actor: FlowRun, hop: number): Promise<void> {
    // A flow run without an actor has nothing to wait for.
    if (actor instanceof SnapshotRun || !actor.getSnapshot().hasTag('busy')) return;
    try {
      await waitFor(actor, (s) => !s.hasTag('busy'), { timeout: deps.budgetMs });
    } catch {
      logger.warn({ budgetMs: deps.budgetMs }, 'ussd: invoked service overran its budget');
      const overrun: FlowEvent = { type: 'budget.exceeded', hop };
      actor.send(overrun);
    }
  }

  function persist(row: SessionRow, actor: FlowRun | null, also?: () => void): Promise<void> {
    if (actor) {
      const persisted = actor.getPersistedSnapshot() as { value?: unknown };
      row.snapshot = JSON.stringify(persisted);
      row.state = typeof persisted.value === 'string' ? persisted.value : JSON.stringify(persisted.value ?? null);
    }
    return sessions.save(row, also);
  }

  function reply(row: SessionRow, screen: Screen, text: string, now: number): UssdReply {
    const body = `${screen.end ? 'END' : 'CON'} ${screen.text}`;
    row.lastText = text;
    row.lastReply = body;
    row.updatedMs = now;
    if (screen.end) row.status = 'ended';
    return { body, end: screen.end, screen };
  }

  function render(row: SessionRow, snapshot: Snap, lang: Language, errorKey?: string, errorParams?: Params): RenderedScreen {
    const found = screenMeta(snapshot);
    if (!found) throw new Error(`state ${JSON.stringify(snapshot.value)} of ${row.machine} has no screen`);
    const { meta } = found;
    const end = snapshot.status !== 'active' || meta.end === true;
    const canBack = snapshot.can(BACK);
    const atHome = isHome(row, meta);
    // A screen that depends on nothing but its state (a menu) is laid out once per language.
    const fixed = !meta.params && !meta.lines && typeof meta.choices !== 'function' && !errorParams;
    const key = fixed ? `${lang}|${row.machine}|${found.stateId}|${row.page}|${errorKey ?? ''}|${end}|${canBack}|${atHome}` : '';
    const cached = fixed ? fixedScreens.get(key) : undefined;
    if (cached) return cached;
    const screen = renderScreen({
      catalogs,
      lang,
      meta: end ? { ...meta, end: true } : meta,
      context: snapshot.context,
      page: row.page,
      errorKey,
      errorParams,
      baseParams,
      ...navigation(canBack, atHome),
      foldMode: deps.foldMode,
    });
    if (fixed) fixedScreens.set(key, screen);
    return screen;
  }

  function renderHelp(lang: Language, errorKey?: string): RenderedScreen {
    return renderScreen({
      catalogs,
      lang,
      meta: HELP_META,
      context: null,
      page: 0,
      errorKey,
      baseParams,
      showBack: false,
      showHome: true,
      foldMode: deps.foldMode,
    });
  }

  /** Too many wrong keys in a row: instead of cutting the member off, offer a call-back (or the menu). */
  function offerHelp(h: Hop, lang: Language): Screen {
    const { row } = h;
    h.unchanged = true;
    row.snapshot = JSON.stringify({ lang, reason: CALLBACK_REASON[row.machine] ?? 'other' });
    row.state = null;
    Object.assign(row, { machine: HELP, version: 0, page: 0, invalid: 0 });
    return renderHelp(lang);
  }

  function endScreen(key: MessageKey, lang: Language): RenderedScreen {
    const meta: ScreenMeta<unknown> = { screen: key, end: true };
    const screen = renderScreen({
      catalogs,
      lang,
      meta,
      context: null,
      page: 0,
      baseParams,
      showBack: false,
      showHome: false,
      foldMode: deps.foldMode,
    });
    return screen;
  }

  function start(row: SessionRow, name: FlowName, input: FlowInput): FlowRun {
    const flow = flows[name] as FlowEntry;
    row.machine = name;
    row.version = flow.version;
    const scope = scopes.get(flow.machine);
    return scope ? SnapshotRun.start(flow.machine, scope, input) : createActor(flow.machine, { input }).start();
  }

  /** A flow again where its persisted snapshot left it. */
  function resume(flow: FlowEntry, persisted: unknown): FlowRun {
    const scope = scopes.get(flow.machine);
    return scope ? SnapshotRun.restore(flow.machine, scope, persisted) : createActor(flow.machine, { snapshot: persisted as Snap }).start();
  }

  /** Starts a flow and follows its hand-offs until one shows a screen. */
  async function enter(row: SessionRow, name: FlowName, input: FlowInput, hop: number): Promise<FlowRun> {
    let actor = start(row, name, input);
    row.page = 0;
    for (let handOffs = 0; ; handOffs++) {
      await settle(actor, hop);
      const snap = actor.getSnapshot();
      const next = snap.status === 'done' ? (snap.output as FlowOutput | undefined)?.next : undefined;
      if (!next || handOffs > 8) return actor;
      const ctx = snap.context as FlowInput;
      actor.stop();
      actor = start(row, (next === 'home' ? row.home : next) as FlowName, { ...input, lang: ctx.lang });
    }
  }

  /**
   * A new session starts at home, or on the resume flow when this phone just had a contribution cut
   * off; what a shortcut dial carried is then played.
   */
  async function firstHop(h: Hop, caller: Caller, text: string, hop: number, nowMs: number, keep: (a: FlowRun) => void): Promise<Screen> {
    const { row } = h;
    const input: FlowInput = {
      sessionId: row.sessionId,
      phone: row.phone,
      lang: caller.lang,
      householdId: caller.householdId,
      agentId: caller.agentId,
    };
    const cut = text === '' ? cutContribution(row, caller, nowMs) : undefined;
    const actor = await enter(row, cut ? 'resume' : (row.home as FlowName), cut ? { ...input, resume: cut } : input, hop);
    keep(actor);
    // Only what a handset can dial is played: a few keys, each digits; anything else shows the home menu.
    const parts = text === '' ? [] : text.split('*');
    if (parts.length === 0 || parts.length > MAX_SHORTCUT || !parts.every((p) => /^\d{1,7}$/.test(p))) {
      return render(row, actor.getSnapshot(), caller.lang);
    }
    return playShortcut(h, actor, parts, hop, keep);
  }

  /** A hop of a session under way: its flow (kept live, or restored from its snapshot), then the input on its screen. */
  async function nextHop(h: Hop, hop: number, keep: (a: FlowRun) => void): Promise<Screen> {
    const { row } = h;
    if (row.machine === HELP) return helpStep(h, hop, keep);
    const actor = restore(row, h.live);
    // Deployed while the member was mid-way, or a snapshot that cannot be read: start again, politely.
    if (!actor) return restartHome(row, hop, keep, 'common.restarted');
    keep(actor);
    return advance(h, actor, h.input, hop, keep);
  }

  /** The session's flow, if this version of it wrote the snapshot. */
  function restore(row: SessionRow, kept: FlowRun | null): FlowRun | null {
    const flow = flowOf(row.machine);
    if (!flow || flow.version !== row.version) return null;
    if (kept) return kept;
    try {
      return resume(flow, JSON.parse(row.snapshot));
    } catch (err) {
      logger.error({ err, machine: row.machine }, 'ussd: could not restore a snapshot');
      return null;
    }
  }

  /**
   * A dial such as *384*123*2*1# arrives with text "2*1": its inputs are played one by one from the home
   * menu, each as its own hop. It stops at a mistake, at a final screen, and at a quote: money never moves
   * from a shortcut alone, a confirmation inside it is not applied.
   */
  async function playShortcut(h: Hop, home: FlowRun, parts: string[], hop: number, keep: (a: FlowRun) => void): Promise<Screen> {
    const { row } = h;
    let actor = home;
    const track = (a: FlowRun) => {
      actor = a;
      keep(a);
    };
    let screen: Screen = render(row, home.getSnapshot(), (home.getSnapshot().context as FlowInput).lang);
    for (const part of parts) {
      if (screen.end || row.machine === HELP || screenMeta(actor.getSnapshot())?.meta.quote) break;
      const mistakes = row.invalid;
      h.unchanged = false;
      screen = await advance(h, actor, part, row.hops++, track);
      if (h.unchanged || row.invalid > mistakes) break;
    }
    logger.debug({ hop, inputs: parts.length, hops: row.hops }, 'ussd: shortcut dialled');
    // The flow moved during this hop: its snapshot is saved, unless the member was handed to an engine screen.
    h.unchanged = row.machine === HELP;
    return screen;
  }

  /** One input on the current screen of a running flow: what it means here, then the flow moved by it. */
  async function advance(h: Hop, actor: FlowRun, input: string | null, hop: number, keep: (a: FlowRun) => void): Promise<Screen> {
    const snap = actor.getSnapshot();
    const lang = (snap.context as FlowInput).lang;
    const meta = screenMeta(snap)?.meta;
    if (input === null) return mistake(h, snap, meta, lang, 'error.unexpected');
    const nav = NAV_KEYS.get(input);
    const move = nav ? navigate(h, nav, snap, meta, lang, hop) : eventOf(input, meta, snap, hop);
    if (move === 'home') return restartHome(h.row, hop, keep, undefined, lang);
    if (move === undefined) return mistake(h, snap, meta, lang);
    if (!('type' in move)) return move;
    return transition(h, actor, move, lang, hop, keep);
  }

  /**
   * The navigation keys, for every screen. 98 and 0 page through a long screen without moving the
   * flow (its stored snapshot stays valid as it is); 0 on the first page goes back where the flow
   * allows it, else home, or nowhere from a home menu; 00 goes home, through the flow when it takes
   * 'home' (the resume offer closes first). The same screen again is not a mistake: nothing is counted.
   * Returns the event for the flow, the screen to show, or 'home' to start the home flow again.
   */
  function navigate(
    h: Hop,
    key: NavKey,
    snap: Snap,
    meta: ScreenMeta<unknown> | undefined,
    lang: Language,
    hop: number,
  ): FlowEvent | Screen | 'home' {
    const { row } = h;
    if (key === 'home') {
      const home: FlowEvent = { type: 'home', hop };
      return snap.can(home) ? home : 'home';
    }
    if (key === 'more') {
      h.unchanged = true;
      // Laid out once: past the last page, the renderer shows the last one again (not counted).
      row.page++;
      const next = render(row, snap, lang);
      if (next.page < row.page) row.page--;
      else row.invalid = 0;
      return next;
    }
    if (row.page > 0) {
      h.unchanged = true;
      row.page--;
      row.invalid = 0;
      return render(row, snap, lang);
    }
    const back: FlowEvent = { type: 'back', hop };
    if (snap.can(back)) return back;
    if (!isHome(row, meta)) return 'home';
    h.unchanged = true;
    return render(row, snap, lang);
  }

  /** What a typed input means on this screen: a text, or a numbered choice; undefined when nothing here takes it. */
  function eventOf(input: string, meta: ScreenMeta<unknown> | undefined, snap: Snap, hop: number): FlowEvent | undefined {
    if (input.length > MAX_INPUT || !meta) return undefined;
    let event: FlowEvent | undefined;
    if (meta.input === 'text') {
      event = { type: 'text', value: input, hop };
    } else if (/^[1-9]\d?$/.test(input)) {
      const picked = choicesOf(meta, snap.context)[Number(input) - 1];
      if (picked) event = { type: `choice.${picked.value}`, value: picked.value, hop };
    }
    return event && snap.can(event) ? event : undefined;
  }

  /** A key this screen does not take: the same screen under a line saying what to type; the third in a row offers help. */
  function mistake(h: Hop, snap: Snap, meta: ScreenMeta<unknown> | undefined, lang: Language, key?: string): Screen {
    const { row } = h;
    h.unchanged = true;
    row.invalid++;
    if (row.invalid >= MAX_INVALID) return offerHelp(h, lang);
    if (key) return render(row, snap, lang, key);
    const choices = meta ? choicesOf(meta, snap.context).length : 0;
    const hint = hintFor(meta, choices, navigation(snap.can(BACK), isHome(row, meta)).showHome);
    return render(row, snap, lang, hint.key, hint.params);
  }

  /** The member's event sent to the flow, its services awaited; then its screen, or where it handed the member over. */
  async function transition(
    h: Hop,
    actor: FlowRun,
    event: FlowEvent,
    lang: Language,
    hop: number,
    keep: (a: FlowRun) => void,
  ): Promise<Screen> {
    const { row } = h;
    actor.send(event);
    await settle(actor, hop);
    const snap = actor.getSnapshot();
    row.page = 0;
    // Going back clears what was wrong on the screen the member left.
    const refused = event.type === 'back' ? null : (snap.context as Partial<WithError>).error;
    if (refused && snap.status === 'active') {
      row.invalid++;
      if (row.invalid >= MAX_INVALID) return offerHelp(h, lang);
      return render(row, snap, lang, refused);
    }
    row.invalid = 0;
    const out = snap.status === 'done' ? (snap.output as FlowOutput | undefined) : undefined;
    if (out?.restore) return continueSaved(row, actor, out.restore, hop, keep);
    if (out?.next) {
      const ctx = snap.context as FlowInput;
      actor.stop();
      const input: FlowInput = {
        sessionId: row.sessionId,
        phone: row.phone,
        lang: ctx.lang,
        householdId: ctx.householdId,
        agentId: ctx.agentId,
      };
      const entered = await enter(row, (out.next === 'home' ? row.home : out.next) as FlowName, input, hop);
      keep(entered);
      return render(row, entered.getSnapshot(), (entered.getSnapshot().context as FlowInput).lang);
    }
    if (snap.status === 'error') {
      logger.error({ err: snap.error, machine: row.machine }, 'ussd: flow failed');
      return endScreen('common.failed', lang);
    }
    return render(row, snap, (snap.context as FlowInput).lang);
  }

  /** A flow handed over a saved one (the resume flow, an offer taken): it goes on where it was cut, if its version still runs. */
  async function continueSaved(
    row: SessionRow,
    actor: FlowRun,
    saved: SavedFlow,
    hop: number,
    keep: (a: FlowRun) => void,
  ): Promise<Screen> {
    actor.stop();
    const flow = flowOf(saved.machine);
    if (!flow || flow.version !== saved.version) return restartHome(row, hop, keep, 'common.restarted');
    const continued = resume(flow, saved.snapshot);
    keep(continued);
    Object.assign(row, { machine: saved.machine, version: saved.version, page: saved.page });
    // The flow may check that its screen still holds (a quote confirmed before the cut is not shown again).
    const resumed: FlowEvent = { type: 'resumed', hop };
    if (continued.getSnapshot().can(resumed)) {
      continued.send(resumed);
      await settle(continued, hop);
      row.page = 0;
    }
    return render(row, continued.getSnapshot(), (continued.getSnapshot().context as FlowInput).lang);
  }

  async function restartHome(
    row: SessionRow,
    hop: number,
    keep: (a: FlowRun) => void,
    notice?: string,
    knownLang?: Language,
  ): Promise<Screen> {
    const caller = deps.identify(row.phone);
    const lang = knownLang ?? caller.lang;
    row.invalid = 0;
    const actor = await enter(
      row,
      row.home as FlowName,
      { sessionId: row.sessionId, phone: row.phone, lang, householdId: caller.householdId, agentId: caller.agentId },
      hop,
    );
    keep(actor);
    return render(row, actor.getSnapshot(), lang, notice);
  }

  /**
   * A contribution cut off within the window (amount or card entry, or its quote) is offered again on
   * redial; a session cut anywhere else is not: the member starts at the main menu. The offer stands
   * on the main menu, so members only (a contribution needs a household anyway).
   */
  function cutContribution(row: SessionRow, caller: Caller, nowMs: number): SavedFlow | undefined {
    if (deps.resumeMs <= 0 || caller.householdId === null) return undefined;
    const cut = sessions.resumable(row.phone, nowMs - deps.resumeMs, row.sessionId);
    const flow = cut ? flowOf(cut.machine) : undefined;
    if (!cut || !flow || flow.version !== cut.version) return undefined;
    try {
      const saved = JSON.parse(cut.snapshot) as { value: unknown; context: unknown };
      const snap = flow.machine.resolveState({ value: saved.value as never, context: saved.context as never });
      const resume = screenMeta(snap)?.meta.resume;
      if (!resume) return undefined;
      return {
        from: cut.sessionId,
        machine: cut.machine as FlowName,
        version: cut.version,
        snapshot: saved,
        page: cut.page,
        line: { key: resume.key, params: resume.params?.(snap.context) ?? {} },
      };
    } catch (err) {
      logger.warn({ err, machine: cut.machine }, 'ussd: a cut-off session could not be read for a resume offer');
      return undefined;
    }
  }

  /** After too many wrong keys: 1 queues a call-back (the reason is the flow the member was stuck in), 0/00 the menu. */
  async function helpStep(h: Hop, hop: number, keep: (a: FlowRun) => void): Promise<Screen> {
    const { row, input } = h;
    const saved = JSON.parse(row.snapshot) as { lang: Language; reason: string };
    if (input === '1') {
      const caller = deps.identify(row.phone);
      row.invalid = 0;
      const actor = await enter(
        row,
        'callback',
        { sessionId: row.sessionId, phone: row.phone, lang: saved.lang, householdId: caller.householdId, reason: saved.reason },
        hop,
      );
      keep(actor);
      return render(row, actor.getSnapshot(), saved.lang);
    }
    if (input === '0' || input === '00') return restartHome(row, hop, keep, undefined, saved.lang);
    h.unchanged = true;
    row.invalid++;
    if (row.invalid >= MAX_INVALID) return endScreen('error.tooMany', saved.lang);
    return renderHelp(saved.lang, 'error.pickOne');
  }

  /** The text a session has processed so far: from memory while it is kept live, else from its row. */
  function lastTextOf(sessionId: string): string | undefined {
    deps.watch.check();
    return (live.peek(sessionId, clock.now().getTime()) ?? sessions.get(sessionId))?.lastText;
  }

  /** One gateway hop. Concurrent retries of the same hop share one computation. */
  function handle(req: UssdRequest): Promise<UssdReply> {
    const key = `${req.sessionId}\u0000${req.phoneNumber}\u0000${req.text}`;
    const running = inflight.get(key);
    if (running) return running;
    const p = process(req).finally(() => inflight.delete(key));
    inflight.set(key, p);
    return p;
  }

  return {
    handle,
    /**
     * The channel-neutral entry: one input of a session (null: it starts), played as the USSD hop
     * that would carry it (the stored text, `*`, the input), and the screen it leads to as data.
     * A session not known yet starts at home whatever the input.
     */
    async step(req: StepRequest): Promise<StepResult> {
      const previous = req.input === null ? undefined : lastTextOf(req.sessionId);
      const text = previous === undefined ? '' : previous === '' ? (req.input as string) : `${previous}*${req.input}`;
      // Described once: the reply given alongside is the one returned (a screen's parameters and choices are computed again by each description).
      let described: { out: UssdReply; result: StepResult } | undefined;
      const resultOf = (out: UssdReply): StepResult => {
        if (described?.out !== out)
          described = { out, result: { end: out.end, screen: out.screen ? describeScreen(out.screen.from) : null } };
        return described.result;
      };
      const alongside = req.alongside;
      const out = await handle({
        sessionId: req.sessionId,
        serviceCode: req.serviceCode,
        phoneNumber: req.phoneNumber,
        text,
        alongside: alongside && ((o) => alongside(resultOf(o))),
      });
      return resultOf(out);
    },
    /** Forgets what is kept in memory of a session whose row was changed outside the engine. */
    forget(sessionId: string): void {
      live.drop(sessionId);
    },
    /** The screen shown when the engine itself fails: a polite END in the caller's language, never a 5xx to the gateway. */
    failureReply(phone: string): UssdReply {
      let lang: Language = 'fr';
      try {
        lang = deps.identify(phone).lang;
      } catch (err) {
        logger.error({ err }, 'ussd: caller unknown while answering a failure; French it is');
      }
      return { body: `END ${endScreen('common.failed', lang).text}`, end: true };
    },
  };
}

export class SessionPhoneMismatch extends Error {
  constructor() {
    super('sessionId already belongs to another phoneNumber');
  }
}

/**
 * The member's new input: what follows the previously processed text and its `*` separator.
 * The stored prefix is removed as a whole, never split on `*`, because inputs may contain `*`.
 * Returns null when `text` does not extend the previous text (a gateway out of step).
 */
export function inputSuffix(previous: string, text: string): string | null {
  if (previous === '') return text;
  if (text.length > previous.length && text.startsWith(previous) && text[previous.length] === '*') {
    return text.slice(previous.length + 1);
  }
  return null;
}

export type UssdEngine = ReturnType<typeof createUssdEngine>;
