import { afterEach, describe, expect, it } from 'vitest';
import { type AudienceFilter, createAudienceReader } from '../../src/campaigns/audience.ts';
import { CampaignError, controlDraw } from '../../src/campaigns/campaigns.ts';
import { createHouseholdStore } from '../../src/db/households.ts';
import { createPreferenceStore } from '../../src/db/preferences.ts';
import { HELD_MS } from '../../src/sms/outbox.ts';
import { campaignWorld, type MemberSpec, memberPhone, START } from './campaign-fixture.ts';

const T0 = Date.parse(START);
const LONG_BM =
  'I ni ce {prenom}! {mutuelle} ka kunnafoni: i ka sara ka kan ka kɛ {montant_du} ye walasa i ka to lafiya la. ' +
  'I ka sara laban tun ye {couvert_jusqu_au} ye. Aw ye {code_ussd} wele ka sara kɛ Orange Money fɛ, walima aw ye taa mutuɛli bɔrɔ la.';

let world: ReturnType<typeof campaignWorld> | undefined;
afterEach(() => {
  world?.cleanup();
  world = undefined;
});

function refused(fn: () => unknown): CampaignError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CampaignError) return err;
    throw err;
  }
  throw new Error('expected a CampaignError');
}

/** n members in French and Bambara, lapsed (never paid) except every third, who paid this month. */
function mixed(n: number): MemberSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    language: i % 2 === 0 ? 'fr' : 'bm',
    payments: i % 3 === 0 ? [{ amount: 500, paidOn: '2026-03-02' }] : [],
  }));
}

describe('a campaign previewed, then sent', () => {
  it('sends exactly what the preview announced: counts, segments and characters per language, exclusions, samples', () => {
    const members: MemberSpec[] = [...mixed(40), { phone: '+22320212345', language: 'fr' }];
    world = campaignWorld(members);
    const w = world;
    const c = w.campaigns.create({
      name: 'Relance',
      messages: { fr: 'Bonjour {prenom}, {mutuelle}: il reste {montant_du} a payer. Composez {code_ussd}.', bm: LONG_BM },
      controlShare: 0.2,
    });
    // A member who would be messaged (not held out) texted STOP.
    const stop = memberPhone(w.ids.findIndex((id) => controlDraw(c.id, id) >= 0.2));
    w.outbox.setOptOut(stop, true, 'sms');
    const preview = w.campaigns.preview(c.id);

    w.campaigns.startSend(c.id);
    const sent = w.campaigns.enqueueAll(c.id);
    const rows = w.rows(c.id);
    const results = w.campaigns.results(c.id);

    expect(preview.audience).toBe(45); // ours, the fixed line and the demo's four
    expect(rows).toHaveLength(preview.messages);
    for (const lang of ['fr', 'bm'] as const) {
      const mine = rows.filter((r) => r.language === lang);
      expect(mine.length).toBe(preview.byLanguage[lang].messages);
      expect(mine.reduce((n, r) => n + r.segments, 0)).toBe(preview.byLanguage[lang].segments);
      expect(mine.reduce((n, r) => n + r.text.length, 0)).toBe(preview.byLanguage[lang].characters);
      expect(Math.max(...mine.map((r) => r.text.length))).toBe(preview.byLanguage[lang].maxCharacters);
    }
    expect(preview.byLanguage.bm.maxSegments).toBe(2); // the Bambara text needs two segments
    expect(preview.segments).toBe(rows.reduce((n, r) => n + r.segments, 0));
    expect(preview.estimatedCostFcfa).toBe(preview.segments * 20);
    expect(preview.samples.map((s) => s.text)).toEqual(rows.slice(0, 3).map((r) => r.text));
    expect(preview.optedOut).toBe(1);
    expect(preview.rejected).toBe(1);
    expect(preview.rejectedSamples[0]).toMatchObject({ phone: '+22320212345' });
    expect(preview.control).toBeGreaterThan(0);
    expect(results.counts).toMatchObject({
      audience: preview.audience,
      control: preview.control,
      optedOutBefore: preview.optedOut,
      rejected: preview.rejected,
      queued: preview.messages,
    });
    expect(sent.progress).toMatchObject({ queued: preview.messages, control: preview.control, enqueueDone: true });
    expect(rows.some((r) => r.recipient === stop)).toBe(false);
  });

  it('writes one row per member: the message of a member messaged names the household, the others a recipient row', () => {
    world = campaignWorld([...mixed(30), { phone: '+22320212345', language: 'fr' }]);
    const w = world;
    const c = w.campaigns.create({ name: 'Rows', messages: { fr: 'Bonjour {prenom}', bm: 'I ni ce {prenom}' }, controlShare: 0.2 });
    const stop = w.ids.findIndex((id) => controlDraw(c.id, id) >= 0.2);
    w.outbox.setOptOut(memberPhone(stop), true, 'sms');
    w.campaigns.startSend(c.id);
    const sent = w.campaigns.enqueueAll(c.id);

    const messaged = w.db
      .prepare('SELECT household_id AS householdId, recipient FROM sms_outbox WHERE campaign_id = ? ORDER BY household_id')
      .all(c.id) as Array<{ householdId: number; recipient: string }>;
    const others = w.db
      .prepare('SELECT household_id AS householdId, outcome FROM campaign_recipients WHERE campaign_id = ? ORDER BY household_id')
      .all(c.id) as Array<{ householdId: number; outcome: string }>;
    const phoneOf = w.db.prepare('SELECT phone FROM households WHERE id = ?').pluck();
    expect(messaged).toHaveLength(sent.progress.queued);
    for (const m of messaged) expect(m.recipient).toBe(phoneOf.get(m.householdId));
    expect(others.map((o) => o.outcome).sort()).toEqual([...Array(sent.progress.control).fill('control'), 'opted-out', 'rejected'].sort());
    expect(others.find((o) => o.outcome === 'opted-out')?.householdId).toBe(w.ids[stop]);
    const all = [...messaged, ...others].map((m) => m.householdId);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(sent.progress.scanned);
    expect(w.campaigns.results(c.id).counts).toMatchObject({
      audience: sent.progress.scanned,
      queued: sent.progress.queued,
      control: sent.progress.control,
      optedOutBefore: 1,
      rejected: 1,
    });
  });

  it("sees each member's STOP and START as of the chunk that writes the member", () => {
    world = campaignWorld(mixed(20), { chunkSize: 5 });
    const w = world;
    // Phones that are no member's texted STOP: they change nothing for the members.
    for (let i = 0; i < 50; i++) w.outbox.setOptOut(`+22365${String(i).padStart(6, '0')}`, true, 'sms');
    // Stopped, then started again before the send: messaged.
    w.outbox.setOptOut(memberPhone(17), true, 'sms');
    w.outbox.setOptOut(memberPhone(17), false, 'sms');
    const c = w.campaigns.create({ name: 'Stops', messages: { fr: 'Bonjour', bm: 'I ni ce' } });
    w.campaigns.startSend(c.id);
    let chunks = 0;
    const sent = w.campaigns.enqueueAll(c.id, () => {
      if (++chunks !== 1) return;
      // Between two chunks, as another process would: one member already queued, one not yet read.
      expect(w.rows(c.id).map((r) => r.recipient)).toContain(memberPhone(0));
      w.outbox.setOptOut(memberPhone(0), true, 'sms');
      w.outbox.setOptOut(memberPhone(18), true, 'sms');
    });

    const optedOut = w.db
      .prepare(`SELECT household_id FROM campaign_recipients WHERE campaign_id = ? AND outcome = 'opted-out'`)
      .pluck()
      .all(c.id);
    expect(optedOut).toEqual([w.ids[18]]);
    const queued = w.rows(c.id).map((r) => r.recipient);
    expect(queued).toContain(memberPhone(0));
    expect(queued).toContain(memberPhone(17));
    expect(queued).not.toContain(memberPhone(18));
    expect(sent.progress).toMatchObject({ optedOut: 1, queued: sent.progress.scanned - 1, enqueueDone: true });
  });

  it("fills the placeholders with each member's values, folded to GSM-7", () => {
    world = campaignWorld([]);
    const c = world.campaigns.create({
      name: 'Lapsed',
      audience: { statuses: ['lapsed'] },
      messages: { fr: '{prenom} ({mutuelle}): {montant_du}, couvert jusqu\u2019au {couvert_jusqu_au}. {code_ussd}' },
      fallbackLanguage: 'fr',
    });
    const p = world.campaigns.preview(c.id);
    // The demo's lapsed member: Aminata Sangaré, lapsed seven months ago with credit, 500 FCFA restarts her cover.
    expect(p.audience).toBe(1);
    expect(p.samples[0]).toMatchObject({
      phone: '+22376000002',
      text: "Aminata (Mutuelle Sabatili de Niéna): 500 FCFA, couvert jusqu'au 31/07/2025. *384*123#",
    });
  });
});

describe('a send sees changes made while it runs', () => {
  it('fills the amounts with the product parameters of when each chunk is written', () => {
    world = campaignWorld([{ mutuelleId: 'sik-klela' }, { mutuelleId: 'sik-klela' }], { chunkSize: 1 });
    const w = world;
    const c = w.campaigns.create({
      name: 'Due',
      audience: { mutuelles: ['sik-klela'], statuses: ['lapsed'] },
      messages: { fr: '{montant_du}' },
      fallbackLanguage: 'fr',
    });
    w.campaigns.startSend(c.id);
    const households = createHouseholdStore(w.db);
    let changed = false;
    w.campaigns.enqueueAll(c.id, () => {
      // Once the first new member is queued, the rural product's contribution doubles.
      if (changed || !w.rows(c.id).some((r) => r.recipient === memberPhone(0))) return;
      households.setProductParameters('rural', {
        effectiveFrom: '2026-01-01',
        annualContribution: 12000,
        subsidyPercent: 50,
        joiningFee: 500,
        waitingDays: 30,
        graceDays: 15,
      });
      changed = true;
    });
    const text = (phone: string) => w.rows(c.id).find((r) => r.recipient === phone)?.text;
    expect(changed).toBe(true);
    expect(text(memberPhone(0))).toBe('500 FCFA');
    expect(text(memberPhone(1))).toBe('1 000 FCFA');
  });
});

describe('send time and rate', () => {
  it('spreads the messages at the rate from the send time; nothing leaves before it', async () => {
    world = campaignWorld(mixed(12));
    const w = world;
    const c = w.campaigns.create({
      name: 'Later',
      messages: { fr: 'Bonjour {prenom}', bm: 'I ni ce {prenom}' },
      sendAt: '2026-03-10T11:00:00Z',
      ratePerMinute: 6,
    });
    expect(w.campaigns.startSend(c.id).campaign.state).toBe('scheduled');
    w.campaigns.enqueueAll(c.id);
    const rows = w.rows(c.id);
    const sendAt = Date.parse('2026-03-10T11:00:00Z');
    expect(rows.map((r) => r.nextAttemptMs)).toEqual(rows.map((_, k) => sendAt + k * 10_000));

    expect((await w.dispatcher.drain()).sent).toBe(0);
    w.clock.set('2026-03-10T11:00:25Z'); // 0, 10 and 20 s are due
    expect((await w.dispatcher.drain()).sent).toBe(3);
    expect(w.campaigns.get(c.id).state).toBe('sending');
    w.clock.set('2026-03-10T12:00:00Z');
    await w.dispatcher.drain();
    expect(w.received).toHaveLength(rows.length);
    expect(w.campaigns.get(c.id).state).toBe('done');
  });
});

describe('pause, resume and cancel', () => {
  it('pauses between two chunks of the enqueue, holds what was written, and resumes where it stopped', async () => {
    world = campaignWorld(mixed(23), { chunkSize: 5 });
    const w = world;
    const c = w.campaigns.create({ name: 'Pause', messages: { fr: 'Bonjour {prenom}', bm: 'I ni ce {prenom}' }, ratePerMinute: 60 });
    const { total } = w.campaigns.startSend(c.id);
    expect(total).toBe(27); // every household: ours and the demo's four
    let chunks = 0;
    // As another process would: the pause lands between two chunk transactions.
    const paused = w.campaigns.enqueueAll(c.id, () => {
      if (++chunks === 2) w.campaigns.pause(c.id);
    });
    expect(paused.state).toBe('paused');
    expect(paused.progress).toMatchObject({ scanned: 10, enqueueDone: false });
    const written = w.rows(c.id);
    expect(written).toHaveLength(10);
    expect(written.every((r) => r.nextAttemptMs === HELD_MS)).toBe(true);

    w.clock.advance(3600_000);
    expect((await w.dispatcher.drain()).sent).toBe(0);

    const resumeAt = w.clock.now().getTime();
    expect(w.campaigns.resume(c.id).state).toBe('sending');
    const done = w.campaigns.enqueueAll(c.id);
    expect(done.progress).toMatchObject({ scanned: 27, queued: 27, enqueueDone: true });
    const rows = w.rows(c.id);
    // Spread again from the resume, one a second, the held ones first.
    expect(rows.map((r) => r.nextAttemptMs)).toEqual(rows.map((_, k) => resumeAt + k * 1000));
    w.clock.advance(60_000);
    await w.dispatcher.drain();
    expect(w.received).toHaveLength(27);
    expect(new Set(w.received.map((m) => m.to)).size).toBe(27);
  });

  it('pauses mid-dispatch: nothing more leaves until resumed, then the rest at the rate', async () => {
    world = campaignWorld(mixed(16));
    const w = world;
    const c = w.campaigns.create({ name: 'Mid', messages: { fr: 'Bonjour {prenom}', bm: 'I ni ce {prenom}' }, ratePerMinute: 60 });
    w.campaigns.startSend(c.id);
    w.campaigns.enqueueAll(c.id);
    w.clock.advance(4_500); // 0..4 s are due
    expect((await w.dispatcher.drain()).sent).toBe(5);
    w.campaigns.pause(c.id);
    w.clock.advance(86_400_000 * 3); // longer than a campaign message's validity: held ones do not expire
    expect((await w.dispatcher.drain()).sent).toBe(0);
    expect(w.campaigns.results(c.id).counts).toMatchObject({ sent: 5, waiting: 15, expired: 0 });

    w.campaigns.resume(c.id);
    expect((await w.dispatcher.drain()).sent).toBe(1); // the first released one is due at once
    w.clock.advance(20_000);
    await w.dispatcher.drain();
    expect(w.received).toHaveLength(20);
    expect(w.campaigns.results(c.id).counts).toMatchObject({ sent: 20, waiting: 0 });
    expect(w.campaigns.get(c.id).state).toBe('done');
  });

  it('keeps back a message that comes back from a gateway retry after the pause, until resumed', async () => {
    world = campaignWorld(mixed(2));
    const w = world;
    const c = w.campaigns.create({ name: 'Retry', messages: { fr: 'Bonjour {prenom}', bm: 'I ni ce {prenom}' } });
    w.campaigns.startSend(c.id);
    w.campaigns.enqueueAll(c.id);
    const [inFlight] = w.rows(c.id);
    // In a gateway call when the pause lands, so not held; then queued again for a retry, as the dispatcher does.
    w.db.prepare(`UPDATE sms_outbox SET status = 'sending' WHERE id = ?`).run(inFlight?.id);
    w.campaigns.pause(c.id);
    w.db.prepare(`UPDATE sms_outbox SET status = 'queued', next_attempt_ms = ? WHERE id = ?`).run(T0, inFlight?.id);
    expect((await w.dispatcher.drain()).sent).toBe(0);
    w.campaigns.resume(c.id);
    expect((await w.dispatcher.drain()).sent).toBe(6);
    expect(w.received.filter((m) => m.messageId === inFlight?.id)).toHaveLength(1);
  });

  it('cancels mid-dispatch: the messages not sent are expired, with the reason in their history', async () => {
    world = campaignWorld(mixed(10));
    const w = world;
    const c = w.campaigns.create({ name: 'Cancel', messages: { fr: 'Bonjour {prenom}', bm: 'I ni ce {prenom}' }, ratePerMinute: 60 });
    w.campaigns.startSend(c.id);
    w.campaigns.enqueueAll(c.id);
    w.clock.advance(2_500);
    expect((await w.dispatcher.drain()).sent).toBe(3);
    const cancelled = w.campaigns.cancel(c.id);
    expect(cancelled).toMatchObject({ state: 'cancelled', expired: 11 });
    w.clock.advance(60_000);
    expect((await w.dispatcher.drain()).sent).toBe(0);
    const last = w.rows(c.id).at(-1);
    expect(w.outbox.history(last?.id ?? 0).at(-1)).toMatchObject({ status: 'expired', detail: 'campaign cancelled' });
    expect(w.campaigns.results(c.id).counts).toMatchObject({ sent: 3, expired: 11, waiting: 0 });
    expect(refused(() => w.campaigns.cancel(c.id)).status).toBe(409);
    expect(refused(() => w.campaigns.resume(c.id)).status).toBe(409);
  });

  it('stops the enqueue at the next chunk when cancelled mid-way', () => {
    world = campaignWorld(mixed(20), { chunkSize: 5 });
    const w = world;
    const c = w.campaigns.create({ name: 'Stop', messages: { fr: 'Bonjour', bm: 'I ni ce' } });
    w.campaigns.startSend(c.id);
    const r = w.campaigns.enqueueAll(c.id, () => {
      if (w.campaigns.get(c.id).state !== 'cancelled') w.campaigns.cancel(c.id);
    });
    expect(r.state).toBe('cancelled');
    expect(r.progress.scanned).toBe(5);
    expect(w.rows(c.id).every((row) => row.status === 'expired')).toBe(true);
  });
});

describe('bad input', () => {
  it('an unknown placeholder: the error lists the valid ones', () => {
    world = campaignWorld([]);
    const w = world;
    const e = refused(() => w.campaigns.create({ name: 'x', messages: { fr: 'Bonjour {nom} {prenom}', bm: 'x' } }));
    expect(e.status).toBe(400);
    expect(e.message).toBe(
      'messages.fr: unknown placeholder {nom}; the valid ones are {prenom}, {mutuelle}, {montant_du}, {couvert_jusqu_au}, {code_ussd}',
    );
  });

  it('a language without a message is refused unless a fallback is chosen', () => {
    world = campaignWorld([{ language: 'bm' }]);
    const w = world;
    expect(refused(() => w.campaigns.create({ name: 'x', messages: { fr: 'Bonjour' } })).message).toMatch(
      /^messages\.bm: no message for members speaking bm; .*fallbackLanguage/,
    );
    expect(refused(() => w.campaigns.create({ name: 'x', messages: { fr: 'Bonjour' }, fallbackLanguage: 'bm' })).message).toMatch(
      /^fallbackLanguage: there is no bm message/,
    );
    const c = w.campaigns.create({ name: 'x', messages: { fr: 'Bonjour' }, fallbackLanguage: 'fr' });
    const p = w.campaigns.preview(c.id);
    expect(p.byLanguage.bm).toMatchObject({ messages: 0, fallback: 2 }); // ours and the demo's Bambara speaker
    expect(p.byLanguage.fr.messages).toBe(p.messages);
  });

  it('a send time in the past is refused', () => {
    world = campaignWorld([]);
    const w = world;
    const e = refused(() => w.campaigns.create({ name: 'x', messages: { fr: 'a', bm: 'b' }, sendAt: '2026-03-10T08:59' }));
    expect(e.message).toBe('sendAt: 2026-03-10T08:59:00.000Z is in the past (now 2026-03-10T09:00:00.000Z); leave it out to send at once');
  });

  it('a CSV of phones with bad lines: every bad line with its number, nothing created', () => {
    world = campaignWorld([]);
    const w = world;
    const csv = 'telephone,nom\n+22376000001,Moussa\n# a comment\n7600000x,Bad\n\n+22320212345,Fixed line\n76 00 00 02,Aminata\n';
    const e = refused(() => w.campaigns.create({ name: 'x', messages: { fr: 'a', bm: 'b' }, phonesCsv: csv }));
    expect(e.message).toBe('phonesCsv: 2 bad lines; nothing was created');
    expect(e.details.errors).toEqual([
      { line: 4, message: expect.stringMatching(/^"7600000x": recipient "7600000x" is not an E\.164 number/) },
      { line: 6, message: expect.stringMatching(/^"\+22320212345": .*not a mobile number/) },
    ]);
    expect(w.campaigns.list()).toHaveLength(0);
  });

  it('an explicit phone list: only those members; listed phones that are not members are counted', () => {
    world = campaignWorld([]);
    const c = world.campaigns.create({ name: 'x', messages: { fr: 'a', bm: 'b' }, phonesCsv: '76 00 00 02\n+22376000003\n+22377999999\n' });
    const p = world.campaigns.preview(c.id);
    expect(p).toMatchObject({ audience: 2, messages: 2, notMembers: 1 });
    expect(p.samples.map((s) => s.phone)).toEqual(['+22376000002', '+22376000003']);
  });

  it('an empty audience: a clear warning in the preview, and the send refused', () => {
    world = campaignWorld([]);
    const w = world;
    const c = w.campaigns.create({ name: 'x', audience: { districts: ['Kayes'] }, messages: { fr: 'a', bm: 'b' } });
    expect(w.campaigns.preview(c.id)).toMatchObject({
      audience: 0,
      messages: 0,
      warnings: ['the audience is empty: no member matches these filters, nothing would be sent'],
    });
    const e = refused(() => w.campaigns.startSend(c.id));
    expect([e.status, e.message]).toEqual([409, 'the audience is empty: no member matches these filters; nothing was sent']);
    expect(w.campaigns.get(c.id).state).toBe('draft');
  });

  it('a campaign sent twice is refused, and nobody gets it twice', async () => {
    world = campaignWorld(mixed(3));
    const w = world;
    const c = w.campaigns.create({ name: 'Once', messages: { fr: 'a', bm: 'b' } });
    w.campaigns.startSend(c.id);
    w.campaigns.enqueueAll(c.id);
    const e = refused(() => w.campaigns.startSend(c.id));
    expect([e.status, e.message]).toEqual([
      409,
      `campaign ${c.id} was already sent (it is sending): a campaign is sent once; create a new one to send again`,
    ]);
    w.campaigns.enqueueAll(c.id); // a second enqueue run (another process) writes nothing more
    expect(w.rows(c.id)).toHaveLength(7);
  });
});

describe('audience filters', () => {
  it('district, language, status, wallet, subsidised and days since the last payment', () => {
    world = campaignWorld([
      { language: 'fr', payments: [{ amount: 500, paidOn: '2026-03-01' }] }, // covered (waiting period), paid 9 days ago
      { language: 'bm', payments: [{ amount: 500, paidOn: '2026-01-05' }] }, // lapsed, paid 64 days ago
      { language: 'fr', mutuelleId: 'kou-mpesso' },
    ]);
    const w = world;
    const audience = (filter: AudienceFilter) => {
      const p = w.campaigns.preview(w.campaigns.create({ name: 'f', audience: filter, messages: { fr: 'a', bm: 'b' } }).id);
      const phones = createAudienceReader(w.db, { filter, today: '2026-03-10', needsCoverage: true })
        .page(0, 100)
        .members.map((m) => m.phone);
      expect(p.audience).toBe(phones.length);
      return phones;
    };
    expect(audience({ districts: ['Koutiala'], languages: ['fr'] })).toEqual(['+22366000004', memberPhone(2)]);
    expect(audience({ statuses: ['active', 'waiting'], mutuelles: ['sik-klela'] })).toEqual(['+22376000001', memberPhone(0)]);
    expect(audience({ daysSinceLastPayment: { min: 30, max: 100 } })).toEqual(['+22376000003', memberPhone(1)]);
    expect(audience({ wallet: true, subsidised: true, languages: ['fr'] })).toEqual(['+22376000001', '+22376000002']);
    expect(audience({ wallet: false })).toEqual(['+22366000004', memberPhone(0), memberPhone(1), memberPhone(2)]);
    // Households that asked for their reminders by call (the default is SMS).
    const prefs = createPreferenceStore(w.db);
    prefs.setReminderChannel(createHouseholdStore(w.db).findByPhone(memberPhone(1))!.id, 'voice', 'ussd', new Date('2026-03-10T09:00:00Z'));
    expect(audience({ remindersBy: 'voice' })).toEqual([memberPhone(1)]);
    expect(audience({ remindersBy: 'sms', languages: ['bm'] })).toEqual(['+22376000003']);
  });
});

describe('results and conversions', () => {
  it('reports delivery, opt-outs after the campaign and conversions on known payments', async () => {
    world = campaignWorld(mixed(6));
    const w = world;
    const c = w.campaigns.create({
      name: 'Conv',
      audience: { mutuelles: ['sik-klela'], statuses: ['lapsed'] },
      messages: { fr: 'Payez {montant_du}', bm: 'Sara {montant_du}' },
    });
    w.campaigns.startSend(c.id);
    w.campaigns.enqueueAll(c.id);
    await w.dispatcher.drain();
    // Lapsed members of Kléla: ours 1, 2, 4, 5 (0 and 3 paid this month; the demo's Kléla member is covered).
    const rows = w.rows(c.id);
    expect(rows.map((r) => r.recipient)).toEqual([1, 2, 4, 5].map(memberPhone));
    w.clock.advance(60_000);
    for (const r of rows.slice(0, 3)) w.outbox.recordDelivery({ providerId: `gw-${r.id}`, status: 'Success' });
    w.outbox.recordDelivery({ providerId: `gw-${rows[3]?.id}`, status: 'AbsentSubscriber' });
    const deliveredAt = w.clock.now().getTime();

    const pay = (i: number, at: number) =>
      w.db
        .prepare(
          `INSERT INTO contributions (household_id, amount, channel, paid_on, paid_at, recorded_at) VALUES (?, 500, 'cash', ?, ?, ?)`,
        )
        .run(w.ids[i], new Date(at).toISOString().slice(0, 10), new Date(at).toISOString(), new Date(at).toISOString());
    pay(1, deliveredAt + 3 * 86_400_000); // reached, paid within 14 days
    pay(2, deliveredAt + 20 * 86_400_000); // reached, paid too late to count
    pay(5, deliveredAt + 86_400_000); // not reached (failed), paid anyway
    w.clock.advance(3600_000);
    w.outbox.setOptOut(memberPhone(4), true, 'sms'); // reached, then texted STOP

    const r = w.campaigns.results(c.id);
    expect(r.counts).toMatchObject({ audience: 4, queued: 4, sent: 4, delivered: 3, failed: 1, waiting: 0 });
    expect(r.optedOutAfter).toBe(1);
    expect(r.conversions).toEqual({
      windowDays: 14,
      reached: { size: 3, paid: 1, rate: 1 / 3 },
      comparisonKind: 'not-reached',
      comparison: { size: 1, paid: 1, rate: 1 },
      difference: 1 / 3 - 1,
    });
    expect(T0).toBeLessThan(deliveredAt);
  });

  it('compares with the held-out control group when there is one', async () => {
    world = campaignWorld(mixed(40));
    const w = world;
    const c = w.campaigns.create({ name: 'Ctl', messages: { fr: 'a', bm: 'b' }, controlShare: 0.5 });
    w.campaigns.startSend(c.id);
    w.campaigns.enqueueAll(c.id);
    await w.dispatcher.drain();
    const rows = w.rows(c.id);
    for (const r of rows) w.outbox.recordDelivery({ providerId: `gw-${r.id}`, status: 'Success' });
    const control = w.db
      .prepare(`SELECT household_id FROM campaign_recipients WHERE campaign_id = ? AND control = 1 ORDER BY household_id`)
      .pluck()
      .all(c.id) as number[];
    // The members messaged: their outbox rows name them (migration 26).
    const reached = w.db
      .prepare(`SELECT household_id FROM sms_outbox WHERE campaign_id = ? AND household_id IS NOT NULL ORDER BY household_id`)
      .pluck()
      .all(c.id) as number[];
    expect(control.length).toBeGreaterThan(5);
    expect(reached.length).toBe(rows.length);
    const pay = (household: number, days: number) => {
      const at = new Date(T0 + days * 86_400_000).toISOString();
      w.db
        .prepare(
          `INSERT INTO contributions (household_id, amount, channel, paid_on, paid_at, recorded_at) VALUES (?, 500, 'cash', ?, ?, ?)`,
        )
        .run(household, at.slice(0, 10), at, at);
    };
    pay(control[0] as number, 2);
    pay(control[1] as number, 10);
    pay(control[2] as number, 30); // outside the window
    for (const h of reached.slice(0, 4)) pay(h, 5);
    const conv = w.campaigns.results(c.id).conversions;
    expect(conv.comparisonKind).toBe('control');
    expect(conv.comparison).toEqual({ size: control.length, paid: 2, rate: 2 / control.length });
    expect(conv.reached).toEqual({ size: reached.length, paid: 4, rate: 4 / reached.length });
  });

  it('reports the same figures per reminder rule', () => {
    world = campaignWorld(mixed(4));
    const w = world;
    const queue = (i: number) => {
      const r = w.outbox.enqueue({ to: memberPhone(i), text: 'Rappel', lang: 'fr', kind: 'reminder' });
      return r.status === 'queued' ? r.id : 0;
    };
    const send = w.db.prepare(
      `INSERT INTO reminder_sends (household_id, rule, period, outbox_id, status, created_ms, updated_ms) VALUES (?, ?, '2026-02-28', ?, ?, ?, ?)`,
    );
    const ids = [queue(0), queue(1), queue(2)];
    send.run(w.ids[0], 'lapsed', ids[0], 'queued', T0, T0);
    send.run(w.ids[1], 'lapsed', ids[1], 'queued', T0, T0);
    send.run(w.ids[2], 'grace', ids[2], 'queued', T0, T0);
    send.run(w.ids[3], 'lapsed', null, 'cancelled', T0, T0);
    w.db.prepare(`UPDATE sms_outbox SET status = 'sent', provider_message_id = 'gw-' || id WHERE id IN (?, ?, ?)`).run(...ids);
    w.clock.advance(60_000);
    w.outbox.recordDelivery({ providerId: `gw-${ids[0]}`, status: 'Success' });
    w.outbox.recordDelivery({ providerId: `gw-${ids[2]}`, status: 'Success' });
    const at = new Date(T0 + 2 * 86_400_000).toISOString();
    w.db
      .prepare(`INSERT INTO contributions (household_id, amount, channel, paid_on, paid_at, recorded_at) VALUES (?, 500, 'cash', ?, ?, ?)`)
      .run(w.ids[0], at.slice(0, 10), at, at);
    const rules = w.campaigns.reminderResults();
    expect(rules.map((r) => r.rule)).toEqual(['grace', 'lapsed']);
    const lapsed = rules.find((r) => r.rule === 'lapsed');
    expect(lapsed?.counts).toMatchObject({ decided: 3, queued: 2, cancelled: 1, sent: 2, delivered: 1 });
    expect(lapsed?.conversions.reached).toEqual({ size: 1, paid: 1, rate: 1 });
    expect(lapsed?.conversions.comparison).toEqual({ size: 1, paid: 0, rate: 0 });
  });
});
