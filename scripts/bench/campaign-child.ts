/** The measured part of the campaign bench, in a fresh process: open, preview, send (write the outbox). */
import { createCampaigns } from '../../src/campaigns/campaigns.ts';
import { ManualClock } from '../../src/clock.ts';
import { openDatabase } from '../../src/db/connection.ts';
import { createOutbox } from '../../src/sms/outbox.ts';
import type { ChildResult } from './campaign.ts';

const clock = new ManualClock('2026-03-10T09:00:00Z');
const db = openDatabase(process.env.BENCH_DB as string);
const outbox = createOutbox(db, clock, { foldMode: 'gsm7', allowUcs2: false });
// The sending hours of the production configuration (REMINDER_START_HOUR, REMINDER_END_HOUR defaults), as
// `sabatili campaign send` has them: each message's time is counted in open hours. The clock is within them.
const campaigns = createCampaigns({
  db,
  clock,
  outbox,
  serviceCode: '*384*123#',
  costPerSegmentFcfa: 20,
  hours: { startHour: 8, endHour: 20 },
});
const rssStart = process.memoryUsage().rss;
const c = campaigns.create({
  name: 'bench',
  messages: {
    fr: "Kénéya Sabatili: {prenom}, votre ménage est couvert jusqu'au {couvert_jusqu_au}. Reste {montant_du} pour le mois prochain. Composez {code_ussd}",
    bm: 'Kénéya Sabatili: {prenom}, i ka lakanali bɛ ban {couvert_jusqu_au}. {montant_du} sara kalo nata kama. {code_ussd} wele',
  },
});

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const preview = campaigns.preview(c.id);
const previewMs = performance.now() - t0;

const rssByChunk: number[] = [];
const t1 = performance.now();
campaigns.startSend(c.id);
const done = campaigns.enqueueAll(c.id, () => rssByChunk.push(process.memoryUsage().rss));
const enqueueMs = performance.now() - t1;
const cpu = process.cpuUsage(cpu0);
db.close();

const result: ChildResult = {
  previewMs,
  enqueueMs,
  cpuMs: (cpu.user + cpu.system) / 1000,
  messages: preview.messages,
  segments: preview.segments,
  queued: done.progress.queued,
  rssStart,
  maxRss: process.resourceUsage().maxRSS * 1024,
  rssByChunk,
};
if (done.progress.queued !== preview.messages)
  throw new Error(`preview said ${preview.messages} messages, the send queued ${done.progress.queued}`);
// Exiting through process.exit lets --cpu-prof write its file.
process.send?.(result, () => process.exit(0));
