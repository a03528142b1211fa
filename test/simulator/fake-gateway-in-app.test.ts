import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

describe("the fake Africa's Talking gateway served by the app", () => {
  let app: TestApp;
  beforeAll(async () => {
    const port = await freePort();
    app = await startTestApp({
      port,
      env: {
        SMS_TRANSPORT: 'africastalking',
        AT_USERNAME: 'sabatili',
        AT_API_KEY: 'local-test-api-key-0001',
        AT_SMS_URL: `http://127.0.0.1:${port}/version1/messaging`,
        SIMULATOR_DELIVERY_DELAY_MS: '0',
      },
    });
  });
  afterAll(() => app.close());

  it("takes the real SDK's sends, fills the simulated inbox and reports delivery back", async () => {
    const queued = app.services.outbox.enqueue({ to: '+22376000001', text: 'Test par le SDK', lang: 'fr', kind: 'transactional' });
    expect(queued.status).toBe('queued');
    expect(await app.services.dispatcher.drain()).toMatchObject({ sent: 1 });
    const inbox = (await (await fetch(`${app.url}/simulator/api/sms?phone=%2B22376000001`)).json()) as Array<{ id: string; text: string }>;
    expect(inbox.map((m) => m.text)).toEqual(['Test par le SDK']);
    const id = queued.status === 'queued' ? queued.id : 0;
    expect(app.services.outbox.get(id)?.providerMessageId).toBe(inbox[0]?.id);
    await expect.poll(() => app.services.outbox.get(id)?.status, { timeout: 3000 }).toBe('delivered');
  });
});
