/**
 * Migration 30: voice steps appended in rowid order, each carrying where its call stands (silences,
 * the prompt heard), the call's row no longer moved by each step. Every call and step is kept; each
 * call's position moves to its latest step, so a call in progress goes on where it was.
 */

import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, migrations } from '../../src/db/migrations.ts';
import { createVoiceStore } from '../../src/db/voice.ts';
import { databaseBefore, queryPlan as plan } from '../support/migrated.ts';

const MENU = '{"lang":"bm","fragments":[{"slot":"menu.main","text":"Sugandi"}],"caption":"Sugandi.","collect":"key","screen":"menu.main"}';
const BYE = '{"lang":"fr","fragments":[{"slot":"voice.ended","text":"Au revoir"}],"caption":"Au revoir.","collect":null,"screen":null}';
const ask = (step: number) =>
  `<?xml version="1.0" encoding="UTF-8"?><Response><GetDigits timeout="10" numDigits="1" callbackUrl="http://x/voice?step=${step}"><Say>Sugandi.</Say></GetDigits></Response>`;
const SAID = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Au revoir.</Say></Response>';
const REJECT = '<?xml version="1.0" encoding="UTF-8"?><Response><Reject/></Response>';

describe('migration 30: voice steps appended, the call’s position in its latest step', () => {
  /**
   * Before migration 30: a call in progress on its third prompt after a silence, a call ended by its
   * goodbye then hung up, a rejected call, and a call whose row has no step (its first prompt never written).
   */
  function before30(): Database.Database {
    const db = databaseBefore(30);
    const call = db.prepare(
      `INSERT INTO voice_calls (session_id, phone, direction, destination, client_request_id, status, step, silences, prompt,
         started_at, ended_at, duration_seconds, amount, currency, hangup_cause, call_start_time)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const step = db.prepare('INSERT INTO voice_steps (session_id, step, digits, screen, caption, xml, at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    call.run('zz-live', '+22376000001', 'Inbound', null, null, 'active', 3, 1, MENU, '2026-12-01T10:00:00.000Z', ...Array(6).fill(null));
    call.run(
      'aa-done',
      '+22376000002',
      'Outbound',
      '+22376000002',
      'req-7',
      'ended',
      2,
      0,
      BYE,
      '2026-12-01T09:00:00.000Z',
      '2026-12-01T09:01:00.000Z',
      42,
      '0.50',
      'USD',
      'NORMAL_CLEARING',
      '2026-12-01 09:00:10',
    );
    call.run(
      'mm-rejected',
      '+22376000003',
      'Inbound',
      '+22320000000',
      null,
      'ended',
      1,
      0,
      null,
      '2026-12-01T11:00:00.000Z',
      ...Array(6).fill(null),
    );
    call.run('bb-none', '+22376000004', 'Inbound', null, null, 'active', 0, 0, null, '2026-12-01T12:00:00.000Z', ...Array(6).fill(null));
    step.run('zz-live', 1, null, 'menu.main', 'Sugandi.', ask(1), '2026-12-01T10:00:00.000Z');
    step.run('aa-done', 1, null, 'menu.main', 'Sugandi.', ask(1), '2026-12-01T09:00:00.000Z');
    step.run('zz-live', 2, '7', 'menu.main', 'Sugandi.', ask(2), '2026-12-01T10:00:20.000Z');
    step.run('aa-done', 2, '4', null, 'Au revoir.', SAID, '2026-12-01T09:00:30.000Z');
    step.run('zz-live', 3, '', 'menu.main', 'Nous n’avons rien entendu. Sugandi.', ask(3), '2026-12-01T10:00:40.000Z');
    step.run('mm-rejected', 1, null, null, '', REJECT, '2026-12-01T11:00:00.000Z');
    return db;
  }

  const STEPS = 'SELECT session_id, step, digits, screen, caption, xml, at FROM voice_steps ORDER BY session_id, step';
  const CALLS = `SELECT session_id, phone, direction, destination, client_request_id, status, started_at, ended_at, duration_seconds,
    amount, currency, hangup_cause, call_start_time FROM voice_calls ORDER BY session_id`;

  it('keeps every call and step; each call stands where it stood, its figures unchanged', () => {
    const db = before30();
    const steps = db.prepare(STEPS).all();
    const calls = db.prepare(CALLS).all();
    expect(migrate(db)).toBe(migrations.filter((m) => m.version >= 30).length);
    expect(db.prepare(STEPS).all()).toEqual(steps);
    expect(db.prepare(CALLS).all()).toEqual(calls);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const store = createVoiceStore(db);
    expect(store.call('zz-live')).toEqual({
      sessionId: 'zz-live',
      phone: '+22376000001',
      direction: 'Inbound',
      status: 'active',
      step: 3,
      silences: 1,
    });
    expect(store.prompt('zz-live', 3)).toBe(MENU);
    expect(store.call('aa-done')).toMatchObject({ status: 'ended', step: 2, silences: 0 });
    expect(store.prompt('aa-done', 2)).toBe(BYE);
    expect(store.call('mm-rejected')).toMatchObject({ status: 'ended', step: 1 });
    expect(store.prompt('mm-rejected', 1)).toBeNull();
    expect(store.call('bb-none')).toMatchObject({ status: 'active', step: 0, silences: 0 });
    expect(store.prompt('bb-none', 0)).toBeNull();
    expect(store.step('zz-live', 2)?.xml).toBe(ask(2));
    expect(store.steps('aa-done').map((s) => s.caption)).toEqual(['Sugandi.', 'Au revoir.']);
    expect(store.outcomes('2026-12-01T00:00:00Z', '2026-12-02T00:00:00Z')).toEqual([
      { direction: 'Inbound', outcome: 'hung-up', screen: null, calls: 1 },
      { direction: 'Inbound', outcome: 'hung-up', screen: 'menu.main', calls: 1 },
      { direction: 'Inbound', outcome: 'rejected', screen: null, calls: 1 },
      { direction: 'Outbound', outcome: 'completed', screen: null, calls: 1 },
    ]);
    db.close();
  });

  it('goes on from the latest step: a new step moves the call, a retry of a step changes nothing', () => {
    const db = before30();
    migrate(db);
    const store = createVoiceStore(db);
    const at = new Date('2026-12-01T10:01:00Z');
    store.advance(
      'zz-live',
      { step: 4, digits: '1', screen: 'menu.main', caption: 'Sugandi.', xml: ask(4) },
      { silences: 0, prompt: MENU, ended: false },
      at,
    );
    store.advance(
      'zz-live',
      { step: 4, digits: '2', screen: null, caption: 'x', xml: SAID },
      { silences: 1, prompt: BYE, ended: true },
      at,
    );
    expect(store.call('zz-live')).toMatchObject({ status: 'active', step: 4, silences: 0 });
    expect(store.prompt('zz-live', 4)).toBe(MENU);
    expect(store.step('zz-live', 4)?.xml).toBe(ask(4));
    store.advance(
      'zz-live',
      { step: 5, digits: '4', screen: null, caption: 'Au revoir.', xml: SAID },
      { silences: 0, prompt: BYE, ended: true },
      at,
    );
    expect(store.call('zz-live')).toMatchObject({ status: 'ended', step: 5 });
    expect(store.prompt('zz-live', 5)).toBe(BYE);
    db.close();
  });

  it('finds a call’s latest step, a step, and each call’s last prompt by the index, without a sort', () => {
    const db = before30();
    migrate(db);
    const call = plan(
      db,
      `SELECT c.session_id, s.step FROM voice_calls c LEFT JOIN voice_steps s ON s.session_id = c.session_id
       WHERE c.session_id = 'x' ORDER BY s.step DESC LIMIT 1`,
    );
    expect(call).toContain('INDEX voice_steps_call (session_id=?)');
    expect(call).not.toContain('TEMP B-TREE');
    expect(plan(db, `SELECT xml FROM voice_steps WHERE session_id = 'x' AND step = 2`)).toContain(
      'INDEX voice_steps_call (session_id=? AND step=?)',
    );
    const last = plan(
      db,
      `SELECT s.screen FROM voice_calls c LEFT JOIN voice_steps s ON s.session_id = c.session_id
         AND s.step = (SELECT MAX(l.step) FROM voice_steps l WHERE l.session_id = c.session_id)`,
    );
    expect(last).toContain('INDEX voice_steps_call (session_id=? AND step=?)');
    expect(last).not.toContain('SCAN l');
    db.close();
  });
});
