import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../src/db/migrations.ts';
import type { Health } from '../../src/http/health.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ clock: '2026-03-10T09:00:00Z' });
});
afterAll(() => t.close());

async function healthz(): Promise<{ status: number; body: Health }> {
  const res = await fetch(`${t.url}/healthz`);
  return { status: res.status, body: (await res.json()) as Health };
}

const LATEST = Math.max(...migrations.map((m) => m.version));

describe('GET /healthz', () => {
  it('reports the database with its migrations, and the dispatcher with its queue', async () => {
    const now = t.clock.now().getTime();
    const insert = t.services.db.prepare(
      `INSERT INTO sms_outbox (recipient, text, language, encoding, segments, kind, priority, status, next_attempt_ms, expires_ms, created_ms, updated_ms)
       VALUES ('+22376000001', 'x', 'fr', 'GSM-7', 1, 'reminder', 1, ?, ?, ?, ?, ?)`,
    );
    insert.run('queued', now - 120_000, now + 86_400_000, now - 300_000, now - 300_000); // due for 2 minutes
    insert.run('queued', now + 3_600_000, now + 86_400_000, now, now); // not due yet
    insert.run('failed', now, now, now - 600_000, now - 600_000); // given up 10 minutes ago
    insert.run('failed', now, now, now - 7_200_000, now - 7_200_000); // 2 hours ago

    const r = await healthz();
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      status: 'ok',
      time: '2026-03-10T09:00:00.000Z',
      database: { ok: true, migrations: { applied: migrations.length, latest: LATEST, expected: LATEST } },
      dispatcher: { running: false, queued: 2, oldestQueuedAgeSeconds: 120, failedLastHour: 1 },
    });
  });

  it('says when the dispatcher runs', async () => {
    t.services.dispatcher.start();
    try {
      expect((await healthz()).body.dispatcher?.running).toBe(true);
    } finally {
      await t.services.dispatcher.stop();
    }
    expect((await healthz()).body.dispatcher?.running).toBe(false);
  });

  it('answers 503 when the database cannot be read', async () => {
    t.services.db.close();
    const r = await healthz();
    expect(r.status).toBe(503);
    expect(r.body.status).toBe('error');
    expect(r.body.database.ok).toBe(false);
    expect(r.body.database.error).toMatch(/not open/);
  });
});
