import { createActor, waitFor, type AnyActor, type AnyStateMachine, type SnapshotFrom } from 'xstate';
import type { Choice, FlowEvent, FlowInput, FlowName, FlowOutput, MessageKey, ScreenMeta, WithError } from '../../flows/lib.ts';
import { choice } from '../../flows/lib.ts';
import type { Clock } from '../clock.ts';
import type { ChangeWatch } from '../db/freshness.ts';
import type { SessionRow, SessionStore } from '../db/sessions.ts';
import type { Catalogs, Language, Params } from '../i18n/catalog.ts';
import type { FoldMode } from '../i18n/gsm7.ts';
import type { Logger } from '../log.ts';
import { createLiveSessions } from './live.ts';
import { choicesOf, navigation, renderScreen, type RenderedScreen } from './render.ts';

export interface UssdRequest {
  sessionId: string;
  serviceCode: string;
  phoneNumber: string;
  networkCode?: string | undefined;
  text: string;
}

export interface UssdReply {
  /** The body sent to the gateway: `CON …` or `END …`. */
  body: string;
  end: boolean;
}

export interface FlowEntry {
  machine: AnyStateMachine;
  /** Fingerprint of the machine's states and transitions, stored with each snapshot. */
  version: number;
}

export interface Caller {
  householdId: number | null;
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

/** A redial offered to continue a cut-off contribution: the home menu with one more line. */
const RESUME = '@resume';
/** After too many wrong keys: a call-back from UTM, or the menu. */
const HELP = '@help';
const MAX_INVALID = 3;
/** The most inputs a shortcut dial (*384*123*2*1#) may carry. */
const MAX_SHORTCUT = 8;
/** Longer than anything a handset lets a member type in one hop. */
const MAX_INPUT = 182;

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

/** What a redial offers to continue, kept in the row while the offer stands. */
interface ResumeOffer {
  from: string;
  machine: FlowName;
  version: number;
  snapshot: string;
  page: number;
  lang: Language;
  /** The extra line under the home menu ("Continuer le paiement de 1 250 FCFA ?"). */
  line: { key: MessageKey; params: Params };
}

type Screen = { text: string; end: boolean };

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
  /** The session's actor still running from its previous hop, if it was kept. */
  live: AnyActor | null;
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

export function createUssdEngine(deps: EngineDeps) {
  const { flows, sessions, catalogs, clock, logger } = deps;
  const inflight = new Map<string, Promise<UssdReply>>();
  const fixedScreens = new Map<string, RenderedScreen>();
  // A failure screen says which code to redial, whichever flow shows it.
  const baseParams: Params = { code: deps.serviceCode };
  const live = createLiveSessions({ max: deps.liveMax ?? 1000, idleMs: 180_000 });
  deps.watch.onChangeElsewhere(live.clear);

  const flowOf = (name: string): FlowEntry | undefined => (Object.hasOwn(flows, name) ? flows[name as FlowName] : undefined);

  /** Sends an event, then lets invoked services settle within the budget; never leaves one running. */
  async function settle(actor: AnyActor, hop: number): Promise<void> {
    if (!actor.getSnapshot().hasTag('busy')) return;
    try {
      await waitFor(actor, (s) => !s.hasTag('busy'), { timeout: deps.budgetMs });
    } catch {
      logger.warn({ budgetMs: deps.budgetMs }, 'ussd: invoked service overran its budget');
      const overrun: FlowEvent = { type: 'budget.exceeded', hop };
      actor.send(overrun);
    }
  }

  function start(name: FlowName, input: FlowInput): AnyActor {
    return createActor((flows[name] as FlowEntry).machine, { input }).start();
  }

  function persist(row: SessionRow, actor: AnyActor | null): Promise<void> {
    if (actor) {
      const persisted = actor.getPersistedSnapshot() as { value?: unknown };
      row.snapshot = JSON.stringify(persisted);
      row.state = typeof persisted.value === 'string' ? persisted.value : JSON.stringify(persisted.value ?? null);
    }
    return sessions.save(row);
  }

  function reply(row: SessionRow, screen: { text: string; end: boolean }, text: string, now: number): UssdReply {
    const body = `${screen.end ? 'END' : 'CON'} ${screen.text}`;
    row.lastText = text;
    row.lastReply = body;
    row.updatedMs = now;
    if (screen.end) row.status = 'ended';
    return { body, end: screen.end };
  }

  function render(row: SessionRow, snapshot: Snap, lang: Language, errorKey?: string, errorParams?: Params, extra?: Choice): RenderedScreen {
    const found = screenMeta(snapshot);
    if (!found) throw new Error(`state ${JSON.stringify(snapshot.value)} of ${row.machine} has no screen`);
    const end = snapshot.status !== 'active' || found.meta.end === true;
    const canBack = snapshot.can(BACK);
    const atHome = row.machine === row.home || row.machine === RESUME;
    // A screen that depends on nothing but its state (a menu) is laid out once per language.
    const meta = extra ? { ...found.meta, choices: [...choicesOf(found.meta, snapshot.context), extra] } : found.meta;
    const fixed = !extra && !meta.params && !meta.lines && typeof meta.choices !== 'function' && !errorParams;
    const key = fixed ? `${lang}|${row.machine}|${found.stateId}|${row.page}|${errorKey ?? ''}|${end}|${canBack}|${atHome}` : '';
    const cached = fixed ? fixedScreens.get(key) : undefined;
    if (cached) return cached;
    const screen = renderScreen({
      catalogs, lang, meta: end ? { ...meta, end: true } : meta, context: snapshot.context, page: row.page,
      errorKey, errorParams, baseParams, ...navigation(canBack, atHome), foldMode: deps.foldMode,
    });
    if (fixed) fixedScreens.set(key, screen);
    return screen;
  }

  function renderHelp(lang: Language, errorKey?: string): RenderedScreen {
    return renderScreen({
      catalogs, lang, meta: HELP_META, context: null, page: 0, errorKey, baseParams,
      showBack: false, showHome: true, foldMode: deps.foldMode,
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

  function endScreen(key: MessageKey, lang: Language): { text: string; end: true } {
    const meta: ScreenMeta<unknown> = { screen: key, end: true };
    const screen = renderScreen({ catalogs, lang, meta, context: null, page: 0, baseParams, showBack: false, showHome: false, foldMode: deps.foldMode });
    return { text: screen.text, end: true };
  }

  /** Starts the home flow (or the one a finished flow hands over to) and follows hand-offs. */
  async function enter(row: SessionRow, name: FlowName, input: FlowInput, hop: number): Promise<AnyActor> {
    let actor = start(name, input);
    row.machine = name;
    row.version = (flows[name] as FlowEntry).version;
    row.page = 0;
    for (let guard = 0; ; guard++) {
      await settle(actor, hop);
      const snap = actor.getSnapshot();
      const next = snap.status === 'done' ? (snap.output as FlowOutput | undefined)?.next : undefined;
      if (!next || guard > 8) return actor;
      const target = (next === 'home' ? row.home : next) as FlowName;
      const ctx = snap.context as FlowInput;
      actor.stop();
      actor = start(target, { ...input, lang: ctx.lang });
      row.machine = target;
      row.version = (flows[target] as FlowEntry).version;
    }
  }

  async function process(req: UssdRequest): Promise<UssdReply> {
    const nowMs = clock.now().getTime();
    deps.watch.check();
    const kept = live.take(req.sessionId, nowMs);
    const existing = kept?.row ?? sessions.get(req.sessionId);

    const answered = (body: string, end: boolean): UssdReply => {
      if (kept) live.put(req.sessionId, kept);
      return { body, end };
    };
    if (existing) {
      if (existing.phone !== req.phoneNumber) {
        if (kept) live.put(req.sessionId, kept);
        throw new SessionPhoneMismatch();
      }
      if (req.text === existing.lastText) return answered(existing.lastReply, existing.lastReply.startsWith('END'));
      // Continued on a newer call: this one can only end.
      if (existing.status === 'resumed') return answered(`END ${endScreen('session.moved', deps.identify(req.phoneNumber).lang).text}`, true);
      if (existing.status !== 'open') return answered(existing.lastReply, true);
    }
    const input = existing ? inputSuffix(existing.lastText, req.text) : null;
    // A late retry of an earlier hop: the member already saw the current screen; nothing to do.
    if (existing && input === null && (req.text === '' || existing.lastText.startsWith(`${req.text}*`))) {
      return answered(existing.lastReply, false);
    }

    const caller = existing ? null : deps.identify(req.phoneNumber);
    // The hop works on a copy, so a failure leaves nothing half-changed behind.
    const row: SessionRow = existing
      ? { ...existing }
      : {
          sessionId: req.sessionId,
          phone: req.phoneNumber,
          serviceCode: req.serviceCode,
          machine: '',
          version: 0,
          snapshot: '',
          state: null,
          home: caller?.householdId ? 'main' : 'register',
          page: 0,
          invalid: 0,
          hops: 0,
          lastText: '',
          lastReply: '',
          status: 'open',
          createdMs: nowMs,
          updatedMs: nowMs,
        };
    const hop = row.hops;
    row.hops++;

    const actors: AnyActor[] = [];
    let done = false;
    try {
      const h: Hop = { row, input, live: kept?.actor ?? null };
      const screen = await step(h, caller, req, hop, nowMs, (a) => actors.push(a));
      // A text out of step with ours is answered but not kept, so the next good hop still lines up.
      const out = reply(row, screen, existing && input === null ? existing.lastText : req.text, nowMs);
      const actor = actors.at(-1) ?? null;
      await persist(row, h.unchanged ? null : actor);
      if (row.status === 'open') {
        live.put(row.sessionId, { row, actor: row.machine.startsWith('@') ? null : actor, seenMs: nowMs });
        done = true;
      }
      return out;
    } finally {
      // Every actor of the hop stops, except the one kept live for the next hop.
      const keptActor = done && !row.machine.startsWith('@') ? actors.at(-1) : undefined;
      for (const a of actors) if (a !== keptActor) a.stop();
      if (!done && kept?.actor && !actors.includes(kept.actor)) kept.actor.stop();
    }
  }

  async function step(
    h: Hop,
    caller: Caller | null,
    req: UssdRequest,
    hop: number,
    nowMs: number,
    keep: (a: AnyActor) => void,
  ): Promise<Screen> {
    const { row } = h;

    // First hop of a new session (or a session we never saw): the home menu, with what the dial carried.
    if (caller) return firstHop(h, caller, req.text, hop, nowMs, keep);
    if (row.machine === RESUME) return resumeStep(h, hop, keep);
    if (row.machine === HELP) return helpStep(h, hop, keep);

    const flow = flowOf(row.machine);
    if (!flow || flow.version !== row.version) {
      // Deployed while the member was mid-way: a snapshot of another machine version cannot be trusted.
      return restartHome(row, hop, keep, 'common.restarted');
    }
    let actor: AnyActor;
    if (h.live) {
      actor = h.live;
    } else {
      try {
        actor = createActor(flow.machine, { snapshot: JSON.parse(row.snapshot) }).start();
      } catch (err) {
        logger.error({ err, machine: row.machine }, 'ussd: could not restore a snapshot');
        return restartHome(row, hop, keep, 'common.restarted');
      }
    }
    keep(actor);
    return advance(h, actor, h.input, hop, keep);
  }

  async function firstHop(h: Hop, caller: Caller, text: string, hop: number, nowMs: number, keep: (a: AnyActor) => void): Promise<Screen> {
    const { row } = h;
    const input: FlowInput = { sessionId: row.sessionId, phone: row.phone, lang: caller.lang, householdId: caller.householdId };
    const offer = text === '' ? resumeOffer(row, caller, nowMs) : undefined;
    const actor = await enter(row, row.home as FlowName, input, hop);
    if (offer) {
      // The home menu with its usual numbers, and the interrupted contribution as one more line.
      const screen = render(row, actor.getSnapshot(), caller.lang, undefined, undefined, offerLine(offer));
      actor.stop();
      Object.assign(row, { machine: RESUME, version: 0, snapshot: JSON.stringify(offer), state: null });
      return screen;
    }
    keep(actor);
    const parts = text.split('*');
    // Only what a handset can dial is played: a few keys, each digits; anything else shows the home menu.
    if (text === '' || parts.length > MAX_SHORTCUT || !parts.every((p) => /^\d{1,7}$/.test(p))) {
      return render(row, actor.getSnapshot(), caller.lang);
    }
    return playShortcut(h, actor, parts, hop, keep);
  }

  /**
   * A dial such as *384*123*2*1# arrives with text "2*1": its inputs are played one by one from the home
   * menu, each as its own hop. It stops at a mistake, at a final screen, and at a quote: money never moves
   * from a shortcut alone, a confirmation inside it is not applied.
   */
  async function playShortcut(h: Hop, home: AnyActor, parts: string[], hop: number, keep: (a: AnyActor) => void): Promise<Screen> {
    const { row } = h;
    let actor = home;
    const track = (a: AnyActor) => {
      actor = a;
      keep(a);
    };
    let screen: Screen = render(row, home.getSnapshot(), (home.getSnapshot().context as FlowInput).lang);
    for (const part of parts) {
      if (screen.end || row.machine.startsWith('@') || screenMeta(actor.getSnapshot())?.meta.quote) break;
      const mistakes = row.invalid;
      h.unchanged = false;
      screen = await advance(h, actor, part, row.hops++, track);
      if (h.unchanged || row.invalid > mistakes) break;
    }
    logger.debug({ hop, inputs: parts.length, hops: row.hops }, 'ussd: shortcut dialled');
    // The flow moved during this hop: its snapshot is saved, unless the member was handed to an engine screen.
    h.unchanged = row.machine.startsWith('@');
    return screen;
  }

  /** One input on the current screen of a running flow. */
  async function advance(h: Hop, actor: AnyActor, input: string | null, hop: number, keep: (a: AnyActor) => void): Promise<Screen> {
    const { row } = h;
    const baseInput = (lang: Language): FlowInput => ({ sessionId: row.sessionId, phone: row.phone, lang, householdId: null });
    let snap = actor.getSnapshot();
    const lang = (snap.context as FlowInput).lang;
    const meta = screenMeta(snap)?.meta;
    // The screen the member answered is laid out again only when needed (paging, a hint, the same screen):
    // a pick needs its choices alone.
    const answered = snap;
    let shown: RenderedScreen | undefined;
    const current = () => (shown ??= render(row, answered, lang));
    const choices = meta ? choicesOf(meta, snap.context) : current().choices;

    // Paging and wrong keys leave the flow where it was: its stored snapshot stays valid as it is.
    const invalid = (key?: string): Screen => {
      h.unchanged = true;
      row.invalid++;
      if (row.invalid >= MAX_INVALID) return offerHelp(h, lang);
      const hint = hintFor(meta, choices.length, navigation(snap.can({ type: 'back', hop }), row.machine === row.home).showHome);
      return render(row, snap, lang, key ?? hint.key, key ? undefined : hint.params);
    };
    /** Not a mistake (98 on the last page, 0 with nowhere to go back): the same screen, nothing counted. */
    const same = (): Screen => {
      h.unchanged = true;
      return current();
    };

    if (input === null) return invalid('error.unexpected');
    if (input === '00') return restartHome(row, hop, keep, undefined, lang);
    if (input === '98') {
      if (row.page + 1 >= current().pages) return same();
      h.unchanged = true;
      row.page++;
      row.invalid = 0;
      return render(row, snap, lang);
    }
    if (input === '0' && row.page > 0) {
      h.unchanged = true;
      row.page--;
      row.invalid = 0;
      return render(row, snap, lang);
    }

    let event: FlowEvent | null = null;
    if (input === '0') {
      event = { type: 'back', hop };
      if (!snap.can(event)) {
        if (row.machine === row.home) return same();
        return restartHome(row, hop, keep, undefined, lang);
      }
    } else if (input.length > MAX_INPUT) {
      return invalid();
    } else if (meta?.input === 'text') {
      event = { type: 'text', value: input, hop };
    } else if (/^[1-9]\d?$/.test(input)) {
      const picked = choices[Number(input) - 1];
      if (picked) event = { type: `choice.${picked.value}`, value: picked.value, hop };
    }
    if (!event || !snap.can(event)) return invalid();

    actor.send(event);
    await settle(actor, hop);
    snap = actor.getSnapshot();
    row.page = 0;
    // Going back clears what was wrong on the screen the member left.
    const refused = event.type === 'back' ? null : (snap.context as Partial<WithError>).error;
    if (refused && snap.status === 'active') {
      row.invalid++;
      if (row.invalid >= MAX_INVALID) return offerHelp(h, lang);
      return render(row, snap, lang, refused);
    }
    row.invalid = 0;

    const next = snap.status === 'done' ? (snap.output as FlowOutput | undefined)?.next : undefined;
    if (next) {
      const ctx = snap.context as FlowInput;
      actor.stop();
      const target = (next === 'home' ? row.home : next) as FlowName;
      const entered = await enter(row, target, { ...baseInput(ctx.lang), householdId: ctx.householdId }, hop);
      keep(entered);
      return render(row, entered.getSnapshot(), (entered.getSnapshot().context as FlowInput).lang);
    }
    if (snap.status === 'error') {
      logger.error({ err: snap.error, machine: row.machine }, 'ussd: flow failed');
      return endScreen('common.failed', lang);
    }
    return render(row, snap, (snap.context as FlowInput).lang);
  }

  async function restartHome(
    row: SessionRow,
    hop: number,
    keep: (a: AnyActor) => void,
    notice?: string,
    knownLang?: Language,
  ): Promise<Screen> {
    const caller = deps.identify(row.phone);
    const lang = knownLang ?? caller.lang;
    row.invalid = 0;
    const actor = await enter(row, row.home as FlowName, { sessionId: row.sessionId, phone: row.phone, lang, householdId: caller.householdId }, hop);
    keep(actor);
    return render(row, actor.getSnapshot(), lang, notice);
  }

  /**
   * A contribution cut off within the window (amount or card entry, or its quote) is offered again on
   * redial; a session cut anywhere else is not: the member starts at the main menu.
   */
  function resumeOffer(row: SessionRow, caller: Caller, nowMs: number): ResumeOffer | undefined {
    if (deps.resumeMs <= 0) return undefined;
    const cut = sessions.resumable(row.phone, nowMs - deps.resumeMs, row.sessionId);
    const flow = cut ? flowOf(cut.machine) : undefined;
    if (!cut || !flow || flow.version !== cut.version) return undefined;
    try {
      const saved = JSON.parse(cut.snapshot) as { value: unknown; context: unknown };
      const snap = flow.machine.resolveState({ value: saved.value as never, context: saved.context as never });
      const resume = screenMeta(snap)?.meta.resume;
      if (!resume) return undefined;
      return {
        from: cut.sessionId, machine: cut.machine as FlowName, version: cut.version, snapshot: cut.snapshot, page: cut.page,
        lang: caller.lang, line: { key: resume.key, params: resume.params?.(snap.context) ?? {} },
      };
    } catch (err) {
      logger.warn({ err, machine: cut.machine }, 'ussd: a cut-off session could not be read for a resume offer');
      return undefined;
    }
  }

  const offerLine = (offer: ResumeOffer): Choice => ({ value: 'resume', labelKey: offer.line.key, labelParams: offer.line.params });

  async function resumeStep(h: Hop, hop: number, keep: (a: AnyActor) => void): Promise<Screen> {
    const { row, input } = h;
    const saved = JSON.parse(row.snapshot) as ResumeOffer;
    const caller = deps.identify(row.phone);
    const home = await enter(row, row.home as FlowName, { sessionId: row.sessionId, phone: row.phone, lang: saved.lang, householdId: caller.householdId }, hop);
    const menu = render(row, home.getSnapshot(), saved.lang, undefined, undefined, offerLine(saved));
    const offerKey = String(menu.choices.length);
    /** The offer stands: back to the menu with its extra line. */
    const stay = (errorKey?: string, errorParams?: Params): Screen => {
      h.unchanged = true;
      const screen = errorKey ? render(row, home.getSnapshot(), saved.lang, errorKey, errorParams, offerLine(saved)) : menu;
      home.stop();
      Object.assign(row, { machine: RESUME, version: 0, page: 0 });
      return screen;
    };
    const menuKey = input !== null && /^[1-9]\d?$/.test(input) && Number(input) < menu.choices.length;
    if (input === offerKey || input === '00' || menuKey) {
      // Taken or declined: offered once.
      sessions.markResumed(saved.from);
      live.drop(saved.from);
    }
    if (input === offerKey) {
      home.stop();
      const flow = flows[saved.machine];
      if (!flow || flow.version !== saved.version) return restartHome(row, hop, keep, 'common.restarted');
      const actor = createActor(flow.machine, { snapshot: JSON.parse(saved.snapshot) }).start();
      keep(actor);
      Object.assign(row, { machine: saved.machine, version: saved.version, page: saved.page, invalid: 0 });
      // The flow may check that its screen still holds (a quote confirmed before the cut is not shown again).
      const resumed: FlowEvent = { type: 'resumed', hop };
      if (actor.getSnapshot().can(resumed)) {
        actor.send(resumed);
        await settle(actor, hop);
        row.page = 0;
      }
      return render(row, actor.getSnapshot(), (actor.getSnapshot().context as FlowInput).lang);
    }
    if (input === '00') {
      keep(home);
      row.invalid = 0;
      return render(row, home.getSnapshot(), saved.lang);
    }
    if (menuKey) {
      // One of the menu's usual numbers: the member goes on as from the menu.
      keep(home);
      return advance(h, home, input, hop, keep);
    }
    if (input === '0' || input === '98') return stay();
    row.invalid++;
    if (row.invalid >= MAX_INVALID) {
      home.stop();
      return offerHelp(h, saved.lang);
    }
    return stay('error.pick', { count: menu.choices.length });
  }

  /** After too many wrong keys: 1 queues a call-back (the reason is the flow the member was stuck in), 0/00 the menu. */
  async function helpStep(h: Hop, hop: number, keep: (a: AnyActor) => void): Promise<Screen> {
    const { row, input } = h;
    const saved = JSON.parse(row.snapshot) as { lang: Language; reason: string };
    if (input === '1') {
      const caller = deps.identify(row.phone);
      row.invalid = 0;
      const actor = await enter(row, 'callback', { sessionId: row.sessionId, phone: row.phone, lang: saved.lang, householdId: caller.householdId, reason: saved.reason }, hop);
      keep(actor);
      return render(row, actor.getSnapshot(), saved.lang);
    }
    if (input === '0' || input === '00') return restartHome(row, hop, keep, undefined, saved.lang);
    h.unchanged = true;
    row.invalid++;
    if (row.invalid >= MAX_INVALID) return endScreen('error.tooMany', saved.lang);
    return renderHelp(saved.lang, 'error.pickOne');
  }

  return {
    /** One gateway hop. Concurrent retries of the same hop share one computation. */
    handle(req: UssdRequest): Promise<UssdReply> {
      const key = `${req.sessionId}\u0000${req.phoneNumber}\u0000${req.text}`;
      const running = inflight.get(key);
      if (running) return running;
      const p = process(req).finally(() => inflight.delete(key));
      inflight.set(key, p);
      return p;
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
