/**
 * The outbound calls' tables, their one owner: voice_outbox (one row per call UTM places: a call-back
 * of a missed call or a reminder call) and voice_outbox_history (every change of status, with its
 * time). The rules (when to call, how often to retry, what a hang-up cause means) are src/voice's;
 * this is only how they are stored.
 */

import type { Language } from '../i18n/catalog.ts';
import type { Db } from './connection.ts';

export type CallPurpose = 'call-back' | 'reminder';
export type CallStatus = 'queued' | 'placing' | 'ringing' | 'answered' | 'completed' | 'no-answer' | 'failed' | 'expired' | 'cancelled';
export type CallOutcome = 'answered' | 'unanswered' | 'failed';

export interface VoiceCallRow {
  id: number;
  clientRequestId: string;
  phone: string;
  householdId: number | null;
  language: Language;
  purpose: CallPurpose;
  sourceKey: string | null;
  /** What a reminder call says: a catalog key and its parameters (JSON), read by the /voice route. */
  messageKey: string | null;
  messageParams: string | null;
  status: CallStatus;
  /** Times the gateway's call API was asked to place it. */
  attempts: number;
  /** Times the gateway accepted it and rang the phone. */
  rings: number;
  nextAttemptMs: number;
  expiresMs: number;
  sessionId: string | null;
  outcome: CallOutcome | null;
  hangupCause: string | null;
  durationSeconds: number | null;
  cost: string | null;
  keyPressed: string | null;
  lastError: string | null;
  createdMs: number;
  updatedMs: number;
}

/** A call to queue: the row's fields chosen by the caller (the rest start as queued, never tried). */
export type NewCall = Pick<
  VoiceCallRow,
  | 'clientRequestId'
  | 'phone'
  | 'householdId'
  | 'language'
  | 'purpose'
  | 'sourceKey'
  | 'messageKey'
  | 'messageParams'
  | 'nextAttemptMs'
  | 'expiresMs'
>;

/** The final notification's facts about one ring. */
export interface CallSettlement {
  status: CallStatus;
  outcome: CallOutcome;
  hangupCause: string | null;
  durationSeconds: number | null;
  cost: string | null;
  /** Set when the call is rung again later (status 'queued'). */
  nextAttemptMs?: number;
}

const COLUMNS = `id, client_request_id AS clientRequestId, phone, household_id AS householdId, language, purpose,
  source_key AS sourceKey, message_key AS messageKey, message_params AS messageParams, status, attempts, rings,
  next_attempt_ms AS nextAttemptMs, expires_ms AS expiresMs, session_id AS sessionId, outcome, hangup_cause AS hangupCause,
  duration_seconds AS durationSeconds, cost, key_pressed AS keyPressed, last_error AS lastError,
  created_ms AS createdMs, updated_ms AS updatedMs`;

export function createVoiceCallStore(db: Db) {
  const insert = db.prepare(
    `INSERT INTO voice_outbox (client_request_id, phone, household_id, language, purpose, source_key, message_key, message_params,
       next_attempt_ms, expires_ms, created_ms, updated_ms)
     VALUES (@clientRequestId, @phone, @householdId, @language, @purpose, @sourceKey, @messageKey, @messageParams,
       @nextAttemptMs, @expiresMs, @now, @now)
     ON CONFLICT (source_key) WHERE source_key IS NOT NULL DO NOTHING`,
  );
  const history = db.prepare('INSERT INTO voice_outbox_history (call_id, status, detail, at_ms) VALUES (?, ?, ?, ?)');
  const byId = db.prepare(`SELECT ${COLUMNS} FROM voice_outbox WHERE id = ?`);
  const byClientRequestId = db.prepare(`SELECT ${COLUMNS} FROM voice_outbox WHERE client_request_id = ?`);
  const bySession = db.prepare(`SELECT ${COLUMNS} FROM voice_outbox WHERE session_id = ?`);
  const ofPhone = db.prepare(`SELECT ${COLUMNS} FROM voice_outbox WHERE phone = ? ORDER BY id`);
  const lastCallBack = db.prepare(
    `SELECT ${COLUMNS} FROM voice_outbox WHERE phone = ? AND purpose = 'call-back' AND created_ms > ? ORDER BY created_ms DESC LIMIT 1`,
  );
  const historyOf = db.prepare('SELECT status, detail, at_ms AS atMs FROM voice_outbox_history WHERE call_id = ? ORDER BY id');
  const expireOverdue = db.prepare(
    `UPDATE voice_outbox SET status = 'expired', updated_ms = @now WHERE status = 'queued' AND expires_ms <= @now RETURNING id`,
  );
  const due = db.prepare(
    `SELECT ${COLUMNS} FROM voice_outbox WHERE status = 'queued' AND next_attempt_ms <= ? ORDER BY next_attempt_ms, id LIMIT ?`,
  );
  const markPlacing = db.prepare(`UPDATE voice_outbox SET status = 'placing', attempts = attempts + 1, updated_ms = ? WHERE id = ?`);
  const markRinging = db.prepare(
    `UPDATE voice_outbox SET status = 'ringing', rings = rings + 1, session_id = ?, last_error = NULL, updated_ms = ? WHERE id = ?`,
  );
  const requeue = db.prepare(`UPDATE voice_outbox SET status = 'queued', next_attempt_ms = ?, last_error = ?, updated_ms = ? WHERE id = ?`);
  const postpone = db.prepare(`UPDATE voice_outbox SET next_attempt_ms = ?, updated_ms = ? WHERE id = ? AND status = 'queued'`);
  const markFailed = db.prepare(
    `UPDATE voice_outbox SET status = 'failed', outcome = 'failed', last_error = ?, updated_ms = ? WHERE id = ?`,
  );
  const markAnswered = db.prepare(
    `UPDATE voice_outbox SET status = 'answered', session_id = COALESCE(session_id, ?), updated_ms = ?
     WHERE id = ? AND status IN ('placing', 'ringing', 'queued')`,
  );
  const setKey = db.prepare('UPDATE voice_outbox SET key_pressed = ?, updated_ms = ? WHERE id = ? AND key_pressed IS NULL');
  const settle = db.prepare(
    `UPDATE voice_outbox SET status = @status, outcome = @outcome, hangup_cause = @hangupCause, duration_seconds = @durationSeconds,
       cost = @cost, next_attempt_ms = COALESCE(@nextAttemptMs, next_attempt_ms), updated_ms = @now WHERE id = @id`,
  );
  const cancelQueued = db.prepare(
    `UPDATE voice_outbox SET status = 'cancelled', last_error = ?, updated_ms = ? WHERE id = ? AND status = 'queued'`,
  );
  const stuck = db.prepare(`SELECT ${COLUMNS} FROM voice_outbox WHERE status = ? AND updated_ms <= ? ORDER BY id`);
  const counts = db.prepare('SELECT purpose, status, COUNT(*) AS n FROM voice_outbox GROUP BY purpose, status');
  const countsBetween = db.prepare(
    'SELECT purpose, status, COUNT(*) AS n FROM voice_outbox WHERE created_ms >= ? AND created_ms < ? GROUP BY purpose, status',
  );

  const change = (id: number, status: CallStatus, detail: string | null, nowMs: number) => history.run(id, status, detail, nowMs);

  return {
    /** Queues a call; null when its source key was queued before. */
    insert(c: NewCall, nowMs: number): number | null {
      const r = insert.run({ ...c, now: nowMs });
      if (r.changes === 0) return null;
      const id = Number(r.lastInsertRowid);
      change(id, 'queued', c.purpose, nowMs);
      return id;
    },
    get(id: number): VoiceCallRow | undefined {
      return byId.get(id) as VoiceCallRow | undefined;
    },
    byClientRequestId(clientRequestId: string): VoiceCallRow | undefined {
      return byClientRequestId.get(clientRequestId) as VoiceCallRow | undefined;
    },
    bySession(sessionId: string): VoiceCallRow | undefined {
      return bySession.get(sessionId) as VoiceCallRow | undefined;
    },
    ofPhone(phone: string): VoiceCallRow[] {
      return ofPhone.all(phone) as VoiceCallRow[];
    },
    /** The phone's latest call-back queued after `sinceMs`. */
    lastCallBack(phone: string, sinceMs: number): VoiceCallRow | undefined {
      return lastCallBack.get(phone, sinceMs) as VoiceCallRow | undefined;
    },
    historyOf(id: number): Array<{ status: string; detail: string | null; atMs: number }> {
      return historyOf.all(id) as Array<{ status: string; detail: string | null; atMs: number }>;
    },
    expireOverdue(nowMs: number): number[] {
      const ids = expireOverdue.pluck().all({ now: nowMs }) as number[];
      for (const id of ids) change(id, 'expired', null, nowMs);
      return ids;
    },
    due(nowMs: number, limit: number): VoiceCallRow[] {
      return due.all(nowMs, limit) as VoiceCallRow[];
    },
    markPlacing(id: number, detail: string, nowMs: number): void {
      markPlacing.run(nowMs, id);
      change(id, 'placing', detail, nowMs);
    },
    markRinging(id: number, sessionId: string | null, nowMs: number): void {
      markRinging.run(sessionId, nowMs, id);
      change(id, 'ringing', sessionId, nowMs);
    },
    requeue(id: number, nextMs: number, why: string, nowMs: number): void {
      requeue.run(nextMs, why, nowMs, id);
      change(id, 'queued', why, nowMs);
    },
    /** Moves a queued call's next attempt (a reminder call waiting for the sending hours). */
    postpone(id: number, nextMs: number, nowMs: number): void {
      postpone.run(nextMs, nowMs, id);
    },
    markFailed(id: number, why: string, nowMs: number): void {
      markFailed.run(why, nowMs, id);
      change(id, 'failed', why, nowMs);
    },
    /** The callee picked up: false when the call was already past that (a late or repeated notification). */
    markAnswered(id: number, sessionId: string | null, nowMs: number): boolean {
      const done = markAnswered.run(sessionId, nowMs, id).changes > 0;
      if (done) change(id, 'answered', sessionId, nowMs);
      return done;
    },
    /** The first key the callee pressed (the answer to the call's own question); later ones are the menus'. */
    setKeyPressed(id: number, key: string, nowMs: number): boolean {
      return setKey.run(key, nowMs, id).changes > 0;
    },
    settle(id: number, s: CallSettlement, nowMs: number): void {
      settle.run({ id, ...s, nextAttemptMs: s.nextAttemptMs ?? null, now: nowMs });
      change(id, s.status, s.hangupCause, nowMs);
    },
    cancelQueued(id: number, why: string, nowMs: number): boolean {
      const done = cancelQueued.run(why, nowMs, id).changes > 0;
      if (done) change(id, 'cancelled', why, nowMs);
      return done;
    },
    /** Calls in `status` not changed since `beforeMs` (left by a crash, or a notification that never came). */
    stuck(status: 'placing' | 'ringing' | 'answered', beforeMs: number): VoiceCallRow[] {
      return stuck.all(status, beforeMs) as VoiceCallRow[];
    },
    counts(): Array<{ purpose: CallPurpose; status: CallStatus; n: number }> {
      return counts.all() as Array<{ purpose: CallPurpose; status: CallStatus; n: number }>;
    },
    /** The same, for calls queued in [fromMs, toMs) (the figures of a period). */
    countsBetween(fromMs: number, toMs: number): Array<{ purpose: CallPurpose; status: CallStatus; n: number }> {
      return countsBetween.all(fromMs, toMs) as Array<{ purpose: CallPurpose; status: CallStatus; n: number }>;
    },
  };
}

export type VoiceCallStore = ReturnType<typeof createVoiceCallStore>;
