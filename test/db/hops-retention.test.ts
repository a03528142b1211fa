/**
 * The screens of each USSD hop, kept for the office's support view, are forgotten after
 * USSD_HOPS_RETENTION_DAYS by the server's daily job; recent ones stay.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';

describe('the screens of USSD hops', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await startTestApp({ env: { USSD_HOPS_RETENTION_DAYS: '30' } });
  });
  afterEach(() => app.close());

  it('are kept with what was typed, then pruned once older than the retention', async () => {
    await app.hop('old', '+22376000001', '');
    await app.hop('old', '+22376000001', '1');
    expect(app.services.sessions.hops('old').map((h) => [h.hop, h.text, h.reply.split('\n')[0]])).toEqual([
      [1, '', 'CON Kénéya Sabatili'],
      [2, '1', 'CON Moussa Traoré, 5 pers.'],
    ]);
    app.clock.advance(29 * 86_400_000);
    await app.hop('recent', '+22376000003', '');
    app.clock.advance(2 * 86_400_000);
    app.services.hopsRetention.start();
    await app.services.hopsRetention.stop();
    expect(app.services.sessions.hops('old')).toEqual([]);
    expect(app.services.sessions.hops('recent')).toHaveLength(1);
  });
});
