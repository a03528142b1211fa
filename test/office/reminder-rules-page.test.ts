/**
 * The reminder rules, read and changed by a manager in the console: a change is audited and the
 * next run of the reminders follows it; a mutuelle can have its own set, and go back to the default.
 */
import { describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.ts';
import { type Browser, eachTestLoggedIn, loggedIn } from './support.ts';

describe('reminder rules in the console', () => {
  let app: TestApp;
  let manager: Browser;
  eachTestLoggedIn('chef@utm.ml', 'manager', (a, b) => ((app = a), (manager = b)));

  const rule = (code: string, mutuelleId: string | null = null) =>
    app.services.office.reminderRules.list().find((r) => r.code === code && r.mutuelleId === mutuelleId);

  it('lists the default rules and changes one; the next run follows it', async () => {
    const page = await manager.get('/admin/reminder-rules');
    expect(page.body).toContain('-7 j après la fin payée');
    const beforeEnd = rule('before_end');
    // Seven days before the end of March: Bakary's and Hawa's reminder is due, unless the rule says otherwise.
    await manager.post(`/admin/reminder-rules/${beforeEnd?.id}`, { offsetDays: '-3', enabled: 'on' });
    expect(rule('before_end')).toMatchObject({ offsetDays: -3, enabled: true });
    app.clock.set('2026-03-24T09:00:00Z');
    const early = app.services.reminders.run();
    expect(early.entries.filter((e) => e.rule === 'before_end')).toEqual([]);
    app.clock.set('2026-03-28T09:00:00Z');
    const due = app.services.reminders.run();
    expect(
      due.entries
        .filter((e) => e.rule === 'before_end')
        .map((e) => e.phone)
        .sort(),
    ).toEqual(['+22366000004', '+22376000003']);
    const audit = app.services.office.audit.list({ action: 'reminder-rule.change' })[0];
    expect([JSON.parse(audit?.before as string).offsetDays, JSON.parse(audit?.after as string).offsetDays]).toEqual([-7, -3]);
  });

  it('refuses an offset that is not a number of days, and turns a rule off', async () => {
    const id = rule('lapsed')?.id;
    const bad = await manager.post(`/admin/reminder-rules/${id}`, { offsetDays: 'demain', enabled: 'on' });
    expect([bad.status, bad.body.includes('le décalage doit être un nombre de jours entre -60 et 90')]).toEqual([400, true]);
    await manager.post(`/admin/reminder-rules/${id}`, { offsetDays: '30' });
    expect(rule('lapsed')?.enabled).toBe(false);
    expect((await manager.get('/admin/reminder-rules')).body).toContain('désactivée');
  });

  it('gives a mutuelle its own rules, then takes them back', async () => {
    await manager.post('/admin/reminder-rules/customise', { mutuelleId: 'kou-mpesso' });
    expect(app.services.office.reminderRules.list().filter((r) => r.mutuelleId === 'kou-mpesso')).toHaveLength(4);
    const again = await manager.post('/admin/reminder-rules/customise', { mutuelleId: 'kou-mpesso' });
    expect([again.status, again.body.includes('déjà ses propres règles')]).toEqual([400, true]);
    expect((await manager.get('/admin/reminder-rules')).body).toContain('data-testid="rules-kou-mpesso"');
    await manager.post('/admin/reminder-rules/mutuelles/kou-mpesso/reset', {});
    expect(app.services.office.reminderRules.list().filter((r) => r.mutuelleId === 'kou-mpesso')).toEqual([]);
    const officer = await loggedIn(app, 'awa@utm.ml', 'officer');
    expect((await officer.get('/admin/reminder-rules')).status).toBe(403);
  });
});
