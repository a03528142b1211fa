/**
 * The reminders job against the real app: demo network seeded on Tuesday 2026-03-10 (Bamako, UTC+0),
 * the clock moved by hand, the real outbox, dispatcher and simulated phones. Moussa (+22376000001,
 * French) is covered through 30/04/2026; Bakary (+22376000003, Bambara) and Hawa (+22366000004,
 * French, urban product) through 31/03/2026; Aminata (+22376000002) lapsed in 2025. Every product
 * of the demo has 15 days of grace in 2026.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ReminderRun, SLICE_SIZE } from '../../src/campaigns/reminders.ts';
import { DEFAULT_RULES } from '../../src/domain/reminders.ts';
import { confirmPin, inbox, ussd } from '../payments/support.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const MOUSSA = '+22376000001';
const BAKARY = '+22376000003';
const HAWA = '+22366000004';

const TEXT = {
  bakaryBeforeEnd:
    'Kénéya Sabatili hakilijigin: Bakary Diarra, i ka denbaya lakanali bè ban 31/03/2026.\n2 000 FCFA sara awirili kama. *384*123# wele',
  hawaBeforeEnd:
    'Kénéya Sabatili: Hawa Konaté, la couverture de votre ménage se termine le 31/03/2026. Payez\n1 100 FCFA pour avril. Menu: *384*123#',
  hawaLastDay:
    "Kénéya Sabatili: Hawa Konaté, la couverture de votre ménage se termine aujourd'hui. Payez\n1 100 FCFA pour avril. Menu: *384*123#",
  hawaGrace:
    'Kénéya Sabatili: Hawa Konaté, couverture finie le 31/03/2026. Payez\n1 100 FCFA avant le 16/04/2026 pour la garder. Menu: *384*123#',
  moussaBeforeEnd:
    'Kénéya Sabatili: Moussa Traoré, la couverture de votre ménage se termine le 30/04/2026. Payez\n1 250 FCFA pour mai. Menu: *384*123#',
};

let app: TestApp;
beforeEach(async () => {
  app = await startTestApp({ env: { SIMULATOR_DELIVERY_DELAY_MS: '600000' } });
});
afterEach(() => app.close());

const at = (iso: string): ReminderRun => {
  app.clock.set(iso);
  return app.services.reminders.run();
};
const brief = (r: ReminderRun) => r.entries.map((e) => `${e.phone} ${e.rule} ${e.outcome}`);

interface SendRow {
  householdId: number;
  rule: string;
  period: string;
  message: string | null;
  status: string;
  outboxId: number | null;
}
const sends = (): SendRow[] =>
  app.services.db
    .prepare('SELECT household_id AS householdId, rule, period, message, status, outbox_id AS outboxId FROM reminder_sends ORDER BY id')
    .all() as SendRow[];
const reminderTexts = (phone: string) =>
  app.services.db
    .prepare(`SELECT text FROM sms_outbox WHERE kind = 'reminder' AND recipient = ? ORDER BY id`)
    .pluck()
    .all(phone) as string[];

/** Sends what is due, then the texts that reached `phone`, oldest first. */
async function delivered(phone: string): Promise<string[]> {
  await app.services.dispatcher.drain();
  return (await inbox(app, phone)).map((m) => m.text);
}

describe('a household still in its waiting period', () => {
  it('is not told its cover ends: its reminder says when care is covered and what to pay before', () => {
    // A household that joined on 05/03/2026 and paid March: paid through 31/03, waiting until 03/04.
    const mutuelleId = app.services.households.findByPhone(MOUSSA)?.mutuelleId as string;
    const id = app.services.households.create(
      {
        cardNumber: 'SIK-KLE-0099',
        adherentName: 'Ousmane Diallo',
        phone: '+22376000098',
        language: 'fr',
        mutuelleId,
        joinedOn: '2026-03-05',
        beneficiaries: [{ name: 'Ousmane Diallo', relation: 'adherent', subsidised: false }],
      },
      app.clock.now(),
    );
    app.services.households.addContribution(
      { householdId: id, amount: 500, fee: 0, channel: 'cash', operatorTxnId: null, paidOn: '2026-03-05', paidAt: '2026-03-05T10:00:00Z' },
      app.clock.now(),
    );
    expect(brief(at('2026-03-24T09:00:00Z'))).toContain('+22376000098 before_end queued');
    expect(reminderTexts('+22376000098')).toEqual([
      'Kénéya Sabatili: Ousmane Diallo, pas encore couvert. Payez 500 FCFA avant le 04/04/2026: soins couverts dès le 04/04/2026. *384*123#',
    ]);
  });
});

describe('the schedule, with the clock moved day by day', () => {
  it('each household gets 7 days before its end, on its last day, during grace and 30 days after lapse, and nothing else', async () => {
    const log: string[] = [];
    for (let day = Date.parse('2026-03-10T09:00:00Z'); day <= Date.parse('2026-06-30T09:00:00Z'); day += 86_400_000) {
      // Twice a day, like a scheduler: the second run of each day finds nothing new.
      for (const hour of [9, 15]) {
        const r = at(new Date(day + (hour - 9) * 3600_000).toISOString());
        for (const e of r.entries) log.push(`${new Date(day).toISOString().slice(0, 10)} ${e.phone} ${e.rule} ${e.message} ${e.outcome}`);
      }
    }
    expect(log).toEqual([
      `2026-03-24 ${BAKARY} before_end before_end queued`,
      `2026-03-24 ${HAWA} before_end before_end queued`,
      `2026-03-31 ${BAKARY} last_day last_day queued`,
      `2026-03-31 ${HAWA} last_day last_day queued`,
      // grace until 15/04: a week before it ends
      `2026-04-09 ${BAKARY} grace grace queued`,
      `2026-04-09 ${HAWA} grace grace queued`,
      `2026-04-23 ${MOUSSA} before_end before_end queued`,
      `2026-04-30 ${MOUSSA} last_day last_day queued`,
      `2026-05-09 ${MOUSSA} grace grace queued`,
      // lapsed from 16/04: 30 days later
      `2026-05-16 ${BAKARY} lapsed lapsed queued`,
      `2026-05-16 ${HAWA} lapsed lapsed queued`,
      `2026-06-15 ${MOUSSA} lapsed lapsed queued`,
    ]);
    expect(sends()).toHaveLength(12);
    expect(reminderTexts(HAWA)).toHaveLength(4);
    expect(reminderTexts(HAWA)[2]).toBe(TEXT.hawaGrace);
  });

  it("a week before the end: in each member's language, with the amount for the next month and the USSD code", async () => {
    expect(brief(at('2026-03-24T09:00:00Z'))).toEqual([`${BAKARY} before_end queued`, `${HAWA} before_end queued`]);
    expect(await delivered(BAKARY)).toEqual([TEXT.bakaryBeforeEnd]);
    expect(await delivered(HAWA)).toEqual([TEXT.hawaBeforeEnd]);
    expect(sends()).toEqual([
      { householdId: 3, rule: 'before_end', period: '2026-03-31', message: 'before_end', status: 'queued', outboxId: expect.any(Number) },
      { householdId: 4, rule: 'before_end', period: '2026-03-31', message: 'before_end', status: 'queued', outboxId: expect.any(Number) },
    ]);
    // Sent as reminders: after transactional messages, never at night.
    expect(app.services.outbox.get(sends()[0]!.outboxId!)).toMatchObject({
      kind: 'reminder',
      expiresMs: Date.parse('2026-03-24T20:00:00Z'),
    });
  });
});

describe('idempotence', () => {
  it('one reminder per household, rule and period, however often the job runs', async () => {
    at('2026-03-24T09:00:00Z');
    expect(await delivered(HAWA)).toEqual([TEXT.hawaBeforeEnd]);
    for (let i = 0; i < 5; i++) expect(at('2026-03-24T09:00:00Z').entries).toEqual([]);
    // the catch-up days after it
    expect(at('2026-03-25T10:00:00Z').entries).toEqual([]);
    expect(at('2026-03-26T19:00:00Z').entries).toEqual([]);
    expect(await delivered(HAWA)).toEqual([TEXT.hawaBeforeEnd]);
    expect(reminderTexts(BAKARY)).toEqual([TEXT.bakaryBeforeEnd]);
    expect(app.services.db.prepare('SELECT COUNT(*) FROM reminder_sends').pluck().get()).toBe(2);
  });

  it('a dry run says who would get what and writes nothing', () => {
    app.clock.set('2026-03-24T09:00:00Z');
    const dry = app.services.reminders.run({ dryRun: true });
    expect(dry.entries.map((e) => [e.phone, e.outcome, e.text])).toEqual([
      [BAKARY, 'queued', expect.stringContaining('Bakary Diarra, i ka denbaya lakanali bɛ ban 31/03/2026')],
      [HAWA, 'queued', expect.stringContaining('Hawa Konaté, la couverture de votre ménage se termine le 31/03/2026')],
    ]);
    expect(sends()).toEqual([]);
    expect(reminderTexts(HAWA)).toEqual([]);
    // the real run that follows does the same
    expect(brief(app.services.reminders.run())).toEqual(brief(dry));
  });
});

describe('sending hours', () => {
  it('due at 21:00: held, still held at 07:59, queued at 08:00 and sent then', async () => {
    const night = at('2026-03-24T21:00:00Z');
    expect(night.entries.map((e) => [e.phone, e.outcome, e.holdUntil?.toISOString()])).toEqual([
      [BAKARY, 'held', '2026-03-25T08:00:00.000Z'],
      [HAWA, 'held', '2026-03-25T08:00:00.000Z'],
    ]);
    expect(sends().map((s) => s.status)).toEqual(['held', 'held']);
    expect(await delivered(HAWA)).toEqual([]);

    expect(at('2026-03-25T07:59:00Z').entries).toEqual([]);
    expect(await delivered(HAWA)).toEqual([]);

    const morning = at('2026-03-25T08:00:00Z');
    expect(morning.entries.map((e) => [e.phone, e.outcome, e.released])).toEqual([
      [BAKARY, 'queued', true],
      [HAWA, 'queued', true],
    ]);
    expect(await delivered(HAWA)).toEqual([TEXT.hawaBeforeEnd]);
    expect(await delivered(BAKARY)).toEqual([TEXT.bakaryBeforeEnd]);
    expect(at('2026-03-25T09:00:00Z').entries).toEqual([]);
  });

  it('the last-day reminder held overnight says, the next morning, what is true then: ended, grace until 15/04', async () => {
    at('2026-03-24T09:00:00Z');
    await app.services.dispatcher.drain();
    expect(brief(at('2026-03-31T20:30:00Z'))).toEqual([`${BAKARY} last_day held`, `${HAWA} last_day held`]);
    expect(at('2026-04-01T08:05:00Z').entries.map((e) => [e.rule, e.message])).toEqual([
      ['last_day', 'grace'],
      ['last_day', 'grace'],
    ]);
    expect(await delivered(HAWA)).toEqual([TEXT.hawaBeforeEnd, TEXT.hawaGrace]);
  });

  it('a reminder the dispatcher could not send before 20:00 expires instead of arriving at night', async () => {
    at('2026-03-24T19:55:00Z');
    app.clock.set('2026-03-24T20:00:00Z');
    expect(await delivered(HAWA)).toEqual([]);
    expect(app.services.outbox.get(sends()[1]!.outboxId!)?.status).toBe('expired');
  });

  it('follows REMINDER_START_HOUR and REMINDER_END_HOUR', async () => {
    await app.close();
    app = await startTestApp({ env: { REMINDER_START_HOUR: '10', REMINDER_END_HOUR: '12' } });
    expect(brief(at('2026-03-24T09:00:00Z'))).toEqual([`${BAKARY} before_end held`, `${HAWA} before_end held`]);
    expect(brief(at('2026-03-24T10:00:00Z'))).toEqual([`${BAKARY} before_end queued`, `${HAWA} before_end queued`]);
    expect(app.services.outbox.get(sends()[1]!.outboxId!)?.expiresMs).toBe(Date.parse('2026-03-24T12:00:00Z'));
  });
});

/** The phone texts the app through the simulator, as a handset would. */
async function text(from: string, body: string): Promise<void> {
  const res = await fetch(`${app.url}/simulator/api/sms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from, text: body }),
  });
  expect(res.status).toBe(202);
}

describe("the member's choice", () => {
  it('a phone that texted STOP gets no reminder (recorded as skipped); after START, the next rule is sent', async () => {
    await text(HAWA, 'STOP');
    const r = at('2026-03-24T09:00:00Z');
    expect(r.entries.map((e) => [e.phone, e.outcome, e.detail])).toEqual([
      [BAKARY, 'queued', null],
      [HAWA, 'skipped', 'STOP'],
    ]);
    expect(reminderTexts(HAWA)).toEqual([]);
    expect(sends().map((s) => [s.householdId, s.status, s.outboxId])).toEqual([
      [3, 'queued', expect.any(Number)],
      [4, 'skipped', null],
    ]);
    expect(at('2026-03-25T09:00:00Z').entries).toEqual([]);

    await text(HAWA, 'START');
    expect(brief(at('2026-03-31T09:00:00Z'))).toEqual([`${BAKARY} last_day queued`, `${HAWA} last_day queued`]);
    expect((await delivered(HAWA)).filter((t) => t.includes('couverture de votre'))).toEqual([TEXT.hawaLastDay]);
  });

  it('a household whose phone is abroad (outside SMS_ALLOWED_COUNTRIES) is skipped with the reason, the others still queued', () => {
    app.services.db.prepare('UPDATE households SET phone = ? WHERE phone = ?').run('+33612345678', HAWA);
    const r = at('2026-03-24T09:00:00Z');
    expect(r.entries.map((e) => [e.phone, e.outcome, e.detail])).toEqual([
      [BAKARY, 'queued', null],
      ['+33612345678', 'skipped', 'recipient +33612345678 is outside the countries SMS may go to (SMS_ALLOWED_COUNTRIES=ML)'],
    ]);
    expect(reminderTexts('+33612345678')).toEqual([]);
  });

  it('a member who turned reminders off in the USSD menu gets none; turned on again, gets them', async () => {
    const s = ussd(app, BAKARY, 'rem-off');
    await s.send();
    await s.send('4');
    expect(await s.send('1')).toBe('END Hakilijigin dabilara. Sarali seereyasèbèn bè na SMS fè hali bi.');

    expect(at('2026-03-24T09:00:00Z').entries.map((e) => [e.phone, e.outcome, e.detail])).toEqual([
      [BAKARY, 'skipped', 'reminders turned off'],
      [HAWA, 'queued', null],
    ]);
    expect(await delivered(BAKARY)).toEqual([]);

    const on = ussd(app, BAKARY, 'rem-on');
    await on.send();
    await on.send('4');
    await on.send('1');
    expect(brief(at('2026-03-31T09:00:00Z'))).toEqual([`${BAKARY} last_day queued`, `${HAWA} last_day queued`]);
  });

  it('STOP or reminders off during the night: the held reminder is not sent in the morning', async () => {
    at('2026-03-24T21:00:00Z');
    await text(HAWA, 'STOP');
    const morning = at('2026-03-25T08:00:00Z');
    expect(morning.entries.map((e) => [e.phone, e.outcome, e.detail])).toEqual([
      [BAKARY, 'queued', null],
      [HAWA, 'skipped', 'STOP'],
    ]);
    expect(sends().map((s) => s.status)).toEqual(['queued', 'skipped']);
    expect(reminderTexts(HAWA)).toEqual([]);
  });
});

describe('a payment received before sending', () => {
  /** Bakary pays `amount` FCFA from the USSD menu and types his PIN; the operator's callback is credited. */
  async function bakaryPays(amount: string): Promise<void> {
    const s = ussd(app, BAKARY, `pay-${amount}-${app.clock.now().getTime()}`);
    await s.send();
    await s.send('2');
    await s.send('3'); // "other amount", after the two suggestions
    await s.send(amount);
    await s.send('1');
    expect((await confirmPin(app, BAKARY, '1234')).status).toBe(200);
    await app.services.orange.flush();
  }

  it('cancels the queued reminder: the receipt arrives, the reminder never does', async () => {
    at('2026-03-24T09:00:00Z');
    const [bakary] = sends();
    expect(app.services.outbox.get(bakary!.outboxId!)?.status).toBe('queued');

    app.clock.set('2026-03-24T09:10:00Z');
    await bakaryPays('2000');
    const got = await delivered(BAKARY);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^Seereyasèbèn:\n2 000 FCFA/);

    expect(sends()[0]).toMatchObject({ householdId: 3, status: 'cancelled' });
    expect(app.services.outbox.get(bakary!.outboxId!)).toMatchObject({
      status: 'expired',
      lastError: 'cancelled: a contribution arrived before sending',
    });
    expect(app.services.outbox.history(bakary!.outboxId!).map((h) => h.status)).toEqual(['queued', 'expired']);
    // Hawa did not pay: hers goes out.
    expect(await delivered(HAWA)).toEqual([TEXT.hawaBeforeEnd]);
    // Covered through April now: the rules of the new period, nothing more for the old one.
    expect(at('2026-03-31T09:00:00Z').entries.map((e) => `${e.phone} ${e.rule} ${e.period}`)).toEqual([`${HAWA} last_day 2026-03-31`]);
    expect(at('2026-04-23T09:00:00Z').entries.map((e) => `${e.phone} ${e.rule} ${e.period}`)).toEqual([
      `${MOUSSA} before_end 2026-04-30`,
      `${BAKARY} before_end 2026-04-30`,
    ]);
  });

  it('cancels a held reminder: nothing goes out in the morning', async () => {
    at('2026-03-24T21:00:00Z');
    app.clock.set('2026-03-24T21:30:00Z');
    await bakaryPays('500'); // not even a month: any contribution cancels the pending reminder
    expect(sends().map((s) => [s.householdId, s.status])).toEqual([
      [3, 'cancelled'],
      [4, 'held'],
    ]);
    expect(brief(at('2026-03-25T08:00:00Z'))).toEqual([`${HAWA} before_end queued`]);
    expect(reminderTexts(BAKARY)).toEqual([]);
  });

  it('once the dispatcher has sent it, a payment changes nothing', async () => {
    at('2026-03-24T09:00:00Z');
    await app.services.dispatcher.drain();
    await bakaryPays('2000');
    expect(sends()[0]).toMatchObject({ status: 'queued' });
    expect(app.services.outbox.get(sends()[0]!.outboxId!)?.status).toBe('sent');
  });
});

describe('many households', () => {
  it('are decided slice by slice, none left out at the slice boundaries; in the server, between USSD hops', async () => {
    const count = 2 * SLICE_SIZE + 7;
    const { households } = app.services;
    app.services.db.transaction(() => {
      for (let i = 0; i < count; i++) {
        const id = households.create(
          {
            cardNumber: `T-${i}`,
            adherentName: `Membre ${i}`,
            phone: `+2237${String(5_000_000 + i)}`,
            language: i % 2 ? 'fr' : 'bm',
            mutuelleId: 'sik-niena',
            joinedOn: '2026-01-01',
            beneficiaries: [{ name: 'A', relation: 'adherent', subsidised: false }],
          },
          new Date('2026-03-10T09:00:00Z'),
        );
        households.addContribution(
          {
            householdId: id,
            amount: 1500,
            fee: 0,
            channel: 'cash',
            operatorTxnId: null,
            paidOn: '2026-01-05',
            paidAt: '2026-01-05T09:00:00Z',
          },
          new Date('2026-03-10T09:00:00Z'),
        );
      }
    })();
    app.clock.set('2026-03-24T09:00:00Z');
    const r = await app.services.reminders.runInSlices();
    expect(r.counts).toEqual({ queued: count + 2, held: 0, cancelled: 0, skipped: 0 });
    expect(new Set(r.entries.map((e) => e.householdId)).size).toBe(count + 2);
    expect(app.services.reminders.run().entries).toEqual([]);
  });
});

describe('rules per mutuelle', () => {
  it('the migration seeds the default set the rules module knows', () => {
    const rows = app.services.db
      .prepare('SELECT code, anchor, offset_days AS offsetDays FROM reminder_rules WHERE mutuelle_id IS NULL ORDER BY id')
      .all();
    expect(rows).toEqual(DEFAULT_RULES);
  });

  it('a mutuelle with rules of its own uses only those; the others keep the default set', () => {
    // Hawa's mutuelle (kou-ville): only 3 days before the end.
    app.services.db
      .prepare(`INSERT INTO reminder_rules (mutuelle_id, code, anchor, offset_days) VALUES ('kou-ville', 'three_days', 'end', -3)`)
      .run();
    expect(brief(at('2026-03-24T09:00:00Z'))).toEqual([`${BAKARY} before_end queued`]);
    expect(brief(at('2026-03-28T09:00:00Z'))).toEqual([`${HAWA} three_days queued`]);
    expect(brief(at('2026-03-31T09:00:00Z'))).toEqual([`${BAKARY} last_day queued`]);
    // all of its rules turned off: no reminders for that mutuelle
    app.services.db.prepare(`UPDATE reminder_rules SET enabled = 0 WHERE mutuelle_id = 'kou-ville'`).run();
    expect(brief(at('2026-04-09T09:00:00Z'))).toEqual([`${BAKARY} grace queued`]);
  });
});
