/**
 * The engine writes where the member is (the flow's state) beside each persisted snapshot, so the
 * figures' drop-off per screen reads a column instead of parsing snapshots.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const row = (id: string) =>
  app.services.db
    .prepare(`SELECT machine, state, json_extract(snapshot, '$.value') AS fromSnapshot FROM ussd_sessions WHERE session_id = ?`)
    .get(id) as { machine: string; state: string | null; fromSnapshot: string | null };

describe('the state column of a USSD session', () => {
  it("follows the member hop by hop, equal to the persisted snapshot's state", async () => {
    expect((await app.hop('st-1', '+22376000001', '')).status).toBe(200);
    expect(row('st-1')).toMatchObject({ machine: 'main', state: 'menu' });
    expect((await app.hop('st-1', '+22376000001', '1')).status).toBe(200);
    const r = row('st-1');
    expect(r.machine).toBe('coverage');
    expect(r.state).toBe(r.fromSnapshot);
    expect(r.state).not.toBeNull();
  });
});
