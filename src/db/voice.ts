import { type Db, inTransaction } from './connection.ts';

export type CallDirection = 'Inbound' | 'Outbound';

export interface VoiceCall {
  sessionId: string;
  phone: string;
  direction: CallDirection;
  status: 'active' | 'ended';
  /** The number of the prompt the caller is hearing: its digits come back with `?step=` this. */
  step: number;
  /** Timeouts in a row without a key pressed. */
  silences: number;
}

export interface NewCall {
  sessionId: string;
  phone: string;
  direction: CallDirection;
  destination: string | null;
  clientRequestId: string | null;
}

export interface CallEnd {
  sessionId: string;
  durationSeconds: number | null;
  amount: string | null;
  currency: string | null;
  hangupCause: string | null;
  callStartTime: string | null;
}

export interface VoiceStep {
  step: number;
  digits: string | null;
  screen: string | null;
  caption: string;
  xml: string;
}

export type PromptStatus = 'recorded' | 'synthetic' | 'missing';

export interface PromptRow {
  lang: string;
  slot: string;
  text: string;
  status: PromptStatus;
  /** Why a recording is not used (unreadable, wrong format), or how the placeholder is read. */
  problem: string | null;
}

/** How a call ended, from its last prompt: rejected (to be called back), ended by the app (a final screen or a goodbye), or the member hung up while a prompt waited for keys. */
export type CallOutcome = 'rejected' | 'completed' | 'hung-up';

export interface CallOutcomeCount {
  direction: CallDirection;
  outcome: CallOutcome;
  /** The message key of the last prompt (null: the voice channel's own words). */
  screen: string | null;
  calls: number;
}

/**
 * Owner of voice_calls (one row per call: who, how it ended), voice_steps (what was pressed and
 * answered at each prompt, so a gateway retry gets the same answer; the latest one is where the call
 * stands) and voice_prompts (per language and recording slot: recorded, synthetic placeholder or missing).
 *
 * A step writes one row: the call's position (step, silences, the prompt heard) is its latest step
 * row, never an update of the call's, and step rows are appended in rowid order, found by
 * (session_id, step) through a small index: half the pages a step wrote when the call's row moved
 * with each step and the steps were a WITHOUT ROWID table of ~1 KB rows keyed by random session ids.
 */
export function createVoiceStore(db: Db) {
  const insertCall = db.prepare(
    `INSERT INTO voice_calls (session_id, phone, direction, destination, client_request_id, started_at)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) DO NOTHING`,
  );
  const callById = db.prepare(
    `SELECT c.session_id AS sessionId, c.phone, c.direction, c.status, COALESCE(s.step, 0) AS step,
       COALESCE(s.silences, 0) AS silences
     FROM voice_calls c LEFT JOIN voice_steps s ON s.session_id = c.session_id
     WHERE c.session_id = ? ORDER BY s.step DESC LIMIT 1`,
  );
  const insertStep = db.prepare(
    `INSERT INTO voice_steps (session_id, step, digits, screen, caption, xml, at, silences, prompt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (session_id, step) DO NOTHING`,
  );
  const endByPrompt = db.prepare(`UPDATE voice_calls SET status = 'ended' WHERE session_id = ? AND status = 'active'`);
  const promptOf = db.prepare('SELECT prompt FROM voice_steps WHERE session_id = ? AND step = ?').pluck();
  const stepOf = db.prepare('SELECT step, digits, screen, caption, xml FROM voice_steps WHERE session_id = ? AND step = ?');
  const stepsOf = db.prepare('SELECT step, digits, screen, caption, xml FROM voice_steps WHERE session_id = ? ORDER BY step');
  const endCall = db.prepare(
    `UPDATE voice_calls SET status = 'ended', ended_at = COALESCE(ended_at, ?), duration_seconds = ?, amount = ?, currency = ?,
       hangup_cause = ?, call_start_time = ? WHERE session_id = ?`,
  );
  const upsertPrompt = db.prepare(
    `INSERT INTO voice_prompts (lang, slot, text, status, problem, checked_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (lang, slot) DO UPDATE SET text = excluded.text, status = excluded.status, problem = excluded.problem,
       checked_at = excluded.checked_at`,
  );
  const prompts = db.prepare('SELECT lang, slot, text, status, problem FROM voice_prompts ORDER BY lang, slot');
  const deletePrompts = db.prepare('DELETE FROM voice_prompts');
  // The call's last prompt is its latest step; a call with no prompt yet counts as hung up.
  const outcomes = db.prepare(
    `SELECT c.direction,
       CASE WHEN s.xml LIKE '%<Reject/>%' THEN 'rejected' WHEN s.xml IS NULL OR s.xml LIKE '%<GetDigits%' THEN 'hung-up'
         ELSE 'completed' END AS outcome,
       s.screen, COUNT(*) AS calls
     FROM voice_calls c
       LEFT JOIN voice_steps s ON s.session_id = c.session_id
         AND s.step = (SELECT MAX(l.step) FROM voice_steps l WHERE l.session_id = c.session_id)
     WHERE c.started_at >= ? AND c.started_at < ?
     GROUP BY 1, 2, 3 ORDER BY 1, 2, 4 DESC, 3`,
  );
  const promptCounts = db.prepare('SELECT lang, status, COUNT(*) AS n FROM voice_prompts GROUP BY lang, status ORDER BY lang, status');

  /**
   * A prompt answered: the call's row on its first prompt, its step row, and the call ended by a
   * prompt that collects nothing, in one transaction; a step already recorded changes nothing.
   */
  const write = (
    sessionId: string,
    s: VoiceStep,
    silences: number,
    prompt: string | null,
    ended: boolean,
    at: string,
    opening: NewCall | undefined,
  ) => {
    if (opening) insertCall.run(opening.sessionId, opening.phone, opening.direction, opening.destination, opening.clientRequestId, at);
    const added = insertStep.run(sessionId, s.step, s.digits, s.screen, s.caption, s.xml, at, silences, prompt).changes > 0;
    if (ended && added) endByPrompt.run(sessionId);
  };
  const advance = db.transaction(write);
  const survey = db.transaction((rows: readonly PromptRow[], at: string) => {
    deletePrompts.run();
    for (const r of rows) upsertPrompt.run(r.lang, r.slot, r.text, r.status, r.problem, at);
  });

  return {
    call(sessionId: string): VoiceCall | undefined {
      return callById.get(sessionId) as VoiceCall | undefined;
    },
    /**
     * Records the answer to a prompt and moves the call to the new prompt; `opening` (the call's first
     * prompt) creates the call's row in the same transaction, a retry of it changing nothing. Called
     * inside a transaction (the engine's, for a step it answers), its writes join it: a savepoint of
     * their own would cost each step two more statements for nothing, the caller's failing whole.
     */
    advance(
      sessionId: string,
      s: VoiceStep,
      opts: { silences: number; prompt: string | null; ended: boolean; opening?: NewCall | undefined },
      at: Date,
    ): void {
      (inTransaction(db) ? write : advance)(sessionId, s, opts.silences, opts.prompt, opts.ended, at.toISOString(), opts.opening);
    },
    /** The prompt heard at a step of a call, as JSON (the voice renderer's), to repeat it; null for none. */
    prompt(sessionId: string, step: number): string | null {
      return (promptOf.get(sessionId, step) as string | null | undefined) ?? null;
    },
    step(sessionId: string, step: number): VoiceStep | undefined {
      return stepOf.get(sessionId, step) as VoiceStep | undefined;
    },
    steps(sessionId: string): VoiceStep[] {
      return stepsOf.all(sessionId) as VoiceStep[];
    },
    /** The gateway's last notification: duration, cost and hang-up cause. Harmless for a call never seen or already ended. */
    end(e: CallEnd, at: Date): boolean {
      return (
        endCall.run(at.toISOString(), e.durationSeconds, e.amount, e.currency, e.hangupCause, e.callStartTime, e.sessionId).changes > 0
      );
    },
    /** Replaces the prompt library's status with a fresh survey. */
    recordSurvey(rows: readonly PromptRow[], at: Date): void {
      survey(rows, at.toISOString());
    },
    prompts(): PromptRow[] {
      return prompts.all() as PromptRow[];
    },
    /** Calls started in [fromIso, toIso), by direction, outcome and last prompt (the figures). */
    outcomes(fromIso: string, toIso: string): CallOutcomeCount[] {
      return outcomes.all(fromIso, toIso) as CallOutcomeCount[];
    },
    /** Slots per language and status, as the last survey left them. */
    promptCounts(): Array<{ lang: string; status: PromptStatus; n: number }> {
      return promptCounts.all() as Array<{ lang: string; status: PromptStatus; n: number }>;
    },
  };
}

export type VoiceStore = ReturnType<typeof createVoiceStore>;
