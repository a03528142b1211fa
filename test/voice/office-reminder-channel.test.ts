/** The office sets a household's reminders to calls (a member who cannot read, asked at the counter): audited, shown, refused when unknown. */
import { expect, it } from 'vitest';
import { type Browser, eachTestLoggedIn } from '../office/support.ts';
import type { TestApp } from '../support/app.ts';

let app: TestApp;
let b: Browser;
eachTestLoggedIn('awa@utm.ml', 'officer', (a, browser) => {
  app = a;
  b = browser;
});

it('switches a household to reminder calls and back, each change audited with before and after', async () => {
  expect((await b.get('/admin/households/1')).body).toContain('alertes de fin de couverture activées (par SMS)');
  const res = await b.post('/admin/households/1/reminder-channel', { channel: 'voice' });
  expect([res.status, res.location]).toEqual([303, '/admin/households/1?ok=reminder-channel-changed']);
  expect(app.services.preferences.reminderChannel(1)).toBe('voice');
  const page = await b.get('/admin/households/1?ok=reminder-channel-changed');
  expect(page.body).toContain('alertes de fin de couverture activées (par appel vocal)');
  expect(page.body).toContain('Canal des rappels changé.');
  expect(page.body).toContain('<option value="voice" selected>');

  await b.post('/admin/households/1/reminder-channel', { channel: 'sms' });
  expect(app.services.preferences.reminderChannel(1)).toBe('sms');
  const rows = app.services.office.audit.list({ action: 'household.reminder-channel' });
  expect(rows.map((r) => [r.actor, r.entityId, r.before, r.after])).toEqual([
    ['awa@utm.ml', '1', '{"channel":"voice"}', '{"channel":"sms"}'],
    ['awa@utm.ml', '1', '{"channel":"sms"}', '{"channel":"voice"}'],
  ]);
});

it('refuses an unknown channel (400) and changes nothing', async () => {
  const res = await b.post('/admin/households/1/reminder-channel', { channel: 'fax' });
  expect([res.status, res.body.includes('Canal inconnu.')]).toEqual([400, true]);
  expect(app.services.preferences.reminderChannel(1)).toBe('sms');
  expect(app.services.office.audit.list({ action: 'household.reminder-channel' })).toEqual([]);
});
