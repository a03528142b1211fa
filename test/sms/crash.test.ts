import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { type Db, openDatabase } from '../../src/db/connection.ts';
import { createLogger } from '../../src/log.ts';
import { createSimulatorSms } from '../../src/simulator/sms.ts';
import { createDispatcher } from '../../src/sms/dispatcher.ts';
import { createOutbox } from '../../src/sms/outbox.ts';
import type { SmsTransport } from '../../src/sms/transport.ts';
import { mobile, type TempDb, tempDb } from '../support/sms-db.ts';

/**
 * A real `kill -9` in the middle of a batch. The child (test/support/sms-crash-child.ts) runs the
 * dispatcher loop over N queued receipts with the simulator transport, 20 messages claimed per
 * pass and sent as two bulk calls of 10; it announces each gateway call before (`sending`) and
 * after the gateway stored it (`accepted`) and waits for our go-ahead, so we SIGKILL it at a
 * chosen point. Then we restart on the same database file, as the server does: recover(), drain().
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('../support/sms-crash-child.ts', import.meta.url));
const START = '2026-03-10T09:00:00Z';
const N = 300;
const TEXT = 'Sabatili: votre cotisation de 1500 FCFA est reçue. Merci.';
const logger = createLogger('silent');

type Stage = 'sending' | 'accepted';

interface Killed {
  signal: NodeJS.Signals | null;
  stage: Stage;
  /** The ids of the gateway call the kill interrupted. */
  ids: number[];
  /** Messages the gateway had stored when the kill came (including the interrupted call at 'accepted'). */
  accepted: number;
}

/** Runs the child and SIGKILLs it at the first announcement `when` picks. */
function runAndKill(dbPath: string, when: (stage: Stage, accepted: number) => boolean, opts: { free?: boolean } = {}): Promise<Killed> {
  return new Promise((resolve, reject) => {
    const args = ['--import', 'tsx', CHILD, dbPath, START, ...(opts.free ? ['free'] : [])];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let accepted = 0;
    let killed: Omit<Killed, 'signal'> | null = null;
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child never reached the kill point (accepted ${accepted}); stderr:\n${stderr}`));
    }, 15_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (killed) return;
      const [stage, list] = line.split(' ');
      if (stage !== 'sending' && stage !== 'accepted') return;
      const ids = (list ?? '').split(',').map(Number);
      if (stage === 'accepted') accepted += ids.length;
      if (when(stage, accepted)) {
        killed = { stage, ids, accepted };
        child.kill('SIGKILL');
      } else if (!opts.free) {
        child.stdin.write('go\n');
      }
    });
    child.stdin.on('error', () => {}); // EPIPE once it is dead
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      if (killed) resolve({ signal, ...killed });
      else reject(new Error(`the child exited by itself (signal ${signal}); stderr:\n${stderr}`));
    });
  });
}

interface Snapshot {
  byStatus: Record<string, number>;
  sending: number[];
  /** outbox id → provider id, as the simulated gateway holds them. */
  atGateway: Map<number, string>;
}

function snapshot(db: Db): Snapshot {
  const byStatus = Object.fromEntries(
    (db.prepare('SELECT status, count(*) AS n FROM sms_outbox GROUP BY status').all() as Array<{ status: string; n: number }>).map((r) => [
      r.status,
      r.n,
    ]),
  );
  const sending = db.prepare(`SELECT id FROM sms_outbox WHERE status = 'sending' ORDER BY id`).pluck().all() as number[];
  const atGateway = new Map(
    (db.prepare('SELECT outbox_id AS id, provider_id AS p FROM sim_sms').all() as Array<{ id: number; p: string }>).map((r) => [r.id, r.p]),
  );
  return { byStatus, sending, atGateway };
}

/** The restarted process: same file, a fresh connection, the simulator transport (optionally without confirm), recorded. */
function restart(path: string, opts: { confirm: boolean }) {
  const db = openDatabase(path);
  const clock = new ManualClock(START);
  const sim = createSimulatorSms(db, clock, logger, { absentPhones: new Set(), deliveryDelayMs: 0, deliveryUrl: () => undefined });
  const sentAgain: number[] = [];
  const send: SmsTransport['send'] = (batch) => {
    sentAgain.push(...batch.recipients.map((r) => r.messageId));
    return sim.transport.send(batch);
  };
  const transport: SmsTransport & { confirm?(ids: number[]): Map<number, string> } = opts.confirm
    ? { name: 'simulator', maxBatch: 1000, send, confirm: (ids) => sim.transport.confirm(ids) }
    : { name: 'simulator', maxBatch: 1000, send }; // like Africa's Talking: no way to ask what went out
  const dispatcher = createDispatcher(db, transport, clock, logger, {
    ratePerSecond: 0,
    pollMs: 20,
    bulkSize: 50,
    dailyCap: 0,
    maxAttempts: 5,
    retryBaseMs: 1000,
    staleSendingMs: 0,
  });
  return { db, dispatcher, sentAgain, outbox: createOutbox(db, clock, { foldMode: 'gsm7', allowUcs2: false }), close: () => sim.close() };
}

/** Every one of the N messages is sent, and is at the gateway exactly once, under the provider id the outbox recorded. */
function expectEachSentExactlyOnce(db: Db, ids: number[]): void {
  const rows = db.prepare('SELECT id, status, provider_message_id AS p FROM sms_outbox ORDER BY id').all() as Array<{
    id: number;
    status: string;
    p: string | null;
  }>;
  expect(rows.map((r) => r.id)).toEqual(ids);
  expect(rows.filter((r) => r.status !== 'sent')).toEqual([]);
  const gateway = db.prepare('SELECT outbox_id AS id, provider_id AS p FROM sim_sms ORDER BY outbox_id').all() as Array<{
    id: number;
    p: string;
  }>;
  expect(gateway).toHaveLength(N); // none duplicated (sim_sms.id is per stored message)...
  expect(gateway.map((g) => g.id)).toEqual(ids); // ...none missing
  expect(gateway.map((g) => g.p)).toEqual(rows.map((r) => r.p));
}

let t: TempDb;
let ids: number[];

beforeEach(() => {
  t = tempDb('sabatili-crash-');
  const outbox = createOutbox(t.db, new ManualClock(START), { foldMode: 'gsm7', allowUcs2: false });
  const results = outbox.enqueueMany(
    Array.from({ length: N }, (_, i) => ({ to: mobile(i + 1), text: TEXT, lang: 'fr' as const, kind: 'transactional' as const })),
  );
  ids = results.map((r) => (r.status === 'queued' ? r.id : -1));
  expect(ids.every((id) => id > 0)).toBe(true);
  t.db.close(); // the child and the restarted process open the file themselves
});
afterEach(() => t.cleanup());

describe('kill -9 in the middle of a batch', () => {
  it('loses nothing and resends nothing blindly: stuck messages the gateway had are confirmed, the others requeued', async () => {
    // Kill just after the gateway stored a call and before the dispatcher recorded it: that call
    // (10 messages) is at the gateway but `sending` here, and so is the rest of its pass (10 more).
    const k = await runAndKill(t.path, (stage, accepted) => stage === 'accepted' && accepted > 100);
    expect(k.signal).toBe('SIGKILL');

    const r = restart(t.path, { confirm: true });
    try {
      const before = snapshot(r.db);
      expect(before.byStatus.sent).toBeGreaterThanOrEqual(100);
      expect((before.byStatus.sent ?? 0) + (before.byStatus.sending ?? 0) + (before.byStatus.queued ?? 0)).toBe(N);
      expect(before.sending).toEqual(expect.arrayContaining(k.ids));
      const had = before.sending.filter((id) => before.atGateway.has(id));
      const notHad = before.sending.filter((id) => !before.atGateway.has(id));
      expect(had).toEqual(k.ids);
      expect(notHad.length).toBeGreaterThan(0);

      expect(r.dispatcher.recover()).toEqual({ confirmed: had.length, requeued: notHad.length });
      for (const id of had) {
        const h = r.outbox.history(id).at(-1);
        expect(h).toMatchObject({ status: 'sent', detail: `confirmed after restart: ${before.atGateway.get(id)}` });
        expect(r.outbox.get(id)).toMatchObject({ status: 'sent', providerMessageId: before.atGateway.get(id), attempts: 1 });
      }
      for (const id of notHad) {
        expect(r.outbox.get(id)).toMatchObject({ status: 'queued', lastError: 'interrupted by a restart' });
        expect(r.outbox.history(id).at(-1)).toMatchObject({ status: 'queued' });
      }

      const drained = await r.dispatcher.drain();
      expect(drained).toMatchObject({ retried: 0, failed: 0 });
      // Nothing the gateway already had went to it again.
      expect(r.sentAgain.filter((id) => before.atGateway.has(id))).toEqual([]);
      expect(drained.sent).toBe(N - before.atGateway.size);
      expectEachSentExactlyOnce(r.db, ids);
      for (const id of notHad) expect(r.outbox.get(id)?.attempts).toBe(2);
    } finally {
      r.close();
      r.db.close();
    }
  });

  it('a kill before the gateway saw the call: every stuck message is requeued and sent once', async () => {
    const k = await runAndKill(t.path, (stage, accepted) => stage === 'sending' && accepted >= 150);
    expect(k.signal).toBe('SIGKILL');

    const r = restart(t.path, { confirm: true });
    try {
      const before = snapshot(r.db);
      expect(before.atGateway.size).toBe(k.accepted);
      expect(before.sending).toEqual(expect.arrayContaining(k.ids));
      expect(before.sending.filter((id) => before.atGateway.has(id))).toEqual([]);

      expect(r.dispatcher.recover()).toEqual({ confirmed: 0, requeued: before.sending.length });
      await r.dispatcher.drain();
      expect(r.sentAgain.filter((id) => before.atGateway.has(id))).toEqual([]);
      expectEachSentExactlyOnce(r.db, ids);
    } finally {
      r.close();
      r.db.close();
    }
  });

  it("with a transport that cannot confirm (Africa's Talking), stuck messages are requeued and sent again", async () => {
    const k = await runAndKill(t.path, (stage, accepted) => stage === 'accepted' && accepted > 100);
    expect(k.signal).toBe('SIGKILL');

    const r = restart(t.path, { confirm: false });
    try {
      const before = snapshot(r.db);
      const had = before.sending.filter((id) => before.atGateway.has(id));
      expect(had).toEqual(k.ids);

      // Without a way to ask the gateway, every `sending` row is requeued.
      expect(r.dispatcher.recover()).toEqual({ confirmed: 0, requeued: before.sending.length });
      for (const id of before.sending) expect(r.outbox.get(id)?.status).toBe('queued');
      await r.dispatcher.drain();

      // THE AT-LEAST-ONCE WINDOW: the call the kill interrupted had been accepted by the gateway
      // but not recorded here (the crash fell between the gateway's answer and our commit), so
      // those messages go to the gateway a second time. Africa's Talking would deliver them twice;
      // the simulator keeps one copy per outbox id (and its first provider id), so the handset
      // inbox below still holds each message once. Nothing is lost either way.
      expect(r.sentAgain.filter((id) => before.atGateway.has(id))).toEqual(had);
      expect(r.sentAgain.filter((id) => before.atGateway.has(id) && !before.sending.includes(id))).toEqual([]);
      expectEachSentExactlyOnce(r.db, ids);
    } finally {
      r.close();
      r.db.close();
    }
  });

  // Uncoordinated kills: the child runs freely and the kill lands wherever it is by the time the
  // signal arrives (possibly inside a commit). Whatever the point, the same guarantees hold.
  it.each([60, 170, 250])('a kill at an arbitrary point after about %i messages: nothing lost, nothing resent blindly', async (after) => {
    const k = await runAndKill(t.path, (_stage, accepted) => accepted >= after, { free: true });
    expect(k.signal).toBe('SIGKILL');

    const r = restart(t.path, { confirm: true });
    try {
      const before = snapshot(r.db);
      expect((before.byStatus.sent ?? 0) + (before.byStatus.sending ?? 0) + (before.byStatus.queued ?? 0)).toBe(N);
      // A message is recorded as sent only after the gateway has it.
      const sent = r.db.prepare(`SELECT id FROM sms_outbox WHERE status = 'sent'`).pluck().all() as number[];
      expect(sent.filter((id) => !before.atGateway.has(id))).toEqual([]);
      const had = before.sending.filter((id) => before.atGateway.has(id)).length;
      expect(r.dispatcher.recover()).toEqual({ confirmed: had, requeued: before.sending.length - had });
      await r.dispatcher.drain();
      expect(r.sentAgain.filter((id) => before.atGateway.has(id))).toEqual([]);
      expectEachSentExactlyOnce(r.db, ids);
    } finally {
      r.close();
      r.db.close();
    }
  });
});
