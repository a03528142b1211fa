/**
 * What the logs may never hold (issue 9, "Bad input and security"): a staff password, a member's
 * full phone number, a wallet PIN. Everything a busy day does is played with the most verbose log
 * level, and every line is searched.
 */
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app.ts';
import { addStaff, browser, PASSWORD } from './support.ts';

describe('the logs', () => {
  it('hold no password, no full phone number and no PIN, even at trace level', async () => {
    const lines: string[] = [];
    const app = await startTestApp({ env: { LOG_LEVEL: 'trace' }, logDestination: { write: (l) => void lines.push(l) } });
    try {
      app.services.dispatcher.start();
      app.services.orange.start();
      await addStaff(app, 'awa@utm.ml', 'officer');
      const b = browser(app);
      await b.post('/admin/login', { email: 'awa@utm.ml', password: 'not the password at all' }, { csrf: false });
      await b.post('/admin/login', { email: 'awa@utm.ml', password: PASSWORD }, { csrf: false });
      await b.get('/admin/members?q=%2B22376000001');
      // A contribution with the PIN typed at the operator's prompt, and a wrong PIN before it.
      for (const text of ['', '2', '2*1', '2*1*1']) await app.hop('log-1', '+22376000001', text);
      const post = (path: string, body: unknown) =>
        fetch(app.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await post('/simulator/api/wallet/confirm', { phone: '+22376000001', pin: '9876' });
      await post('/simulator/api/wallet/confirm', { phone: '+22376000001', pin: '1234' });
      await app.services.orange.flush();
      await app.services.dispatcher.drain();
      await post('/simulator/api/sms', { from: '+22376000003', text: 'SOLDE' });
      await app.services.dispatcher.drain();
    } finally {
      await app.close();
    }
    const log = lines.join('');
    // The paths that handle those secrets did log.
    for (const msg of [
      'office: login refused',
      'office: login',
      'orange simulator: payment prompt',
      'payments: callback',
      'sms: inbound',
    ]) {
      expect(log).toContain(`"msg":"${msg}"`);
    }
    // Timestamps are digits too: "time":1796298763742 holds 9876 by chance.
    const logged = log.replace(/"time":\d+/g, '"time":0');
    for (const secret of [PASSWORD, 'not the password at all', '22376000001', '22376000003', '76000001', '"pin"', '9876']) {
      expect(logged, secret).not.toContain(secret);
    }
    expect(log).toContain('+223******01');
  });
});
