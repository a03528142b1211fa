/**
 * The process test/sms/crash.test.ts kills with SIGKILL: it opens the outbox database given in
 * argv (the parent has already queued the messages) and runs the dispatcher loop the way the
 * server does, with the simulator transport made slow (each gateway call takes 5–20 ms) and
 * observable. Around each gateway call it prints a line and waits for the parent to answer one
 * on stdin, so the parent chooses exactly where the kill lands:
 *
 *   sending <ids>    the batch is claimed (`sending` committed), the gateway has not seen it yet
 *   accepted <ids>   the gateway (simulator) has stored it, the dispatcher has not recorded it yet
 *
 * With a third argument `free` it does not wait: the parent's kill then lands wherever the child
 * happens to be (sleeping, inside a commit, between two calls).
 *
 * Run: node --import tsx test/support/sms-crash-child.ts <db path> <clock ISO time> [free]
 */
import { createInterface } from 'node:readline';
import { ManualClock } from '../../src/clock.ts';
import { openDatabase } from '../../src/db/connection.ts';
import { createLogger } from '../../src/log.ts';
import { createSimulatorSms } from '../../src/simulator/sms.ts';
import { createDispatcher } from '../../src/sms/dispatcher.ts';
import type { RecipientOutcome, SmsBatch, SmsTransport } from '../../src/sms/transport.ts';

const [dbPath, at, mode] = process.argv.slice(2);
if (!dbPath || !at) throw new Error('usage: sms-crash-child.ts <db path> <clock ISO time>');

const db = openDatabase(dbPath);
const clock = new ManualClock(at);
const logger = createLogger('silent');
const sim = createSimulatorSms(db, clock, logger, { absentPhones: new Set(), deliveryDelayMs: 0, deliveryUrl: () => undefined });

// Lines from the parent, handed out in order to whoever waits.
const acks: string[] = [];
const waiting: Array<(line: string) => void> = [];
createInterface({ input: process.stdin }).on('line', (line) => {
  const w = waiting.shift();
  if (w) w(line);
  else acks.push(line);
});
const ack = () =>
  mode === 'free'
    ? Promise.resolve('')
    : new Promise<string>((resolve) => (acks.length > 0 ? resolve(acks.shift() as string) : waiting.push(resolve)));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// Pipes are written synchronously on Linux: a line printed is a line the parent will read.
const say = (line: string) => process.stdout.write(`${line}\n`);

const slow: SmsTransport = {
  name: 'simulator',
  maxBatch: sim.transport.maxBatch,
  async send(batch: SmsBatch): Promise<RecipientOutcome[]> {
    const ids = batch.recipients.map((r) => r.messageId).join(',');
    say(`sending ${ids}`);
    await ack();
    await sleep(5 + Math.floor(Math.random() * 16)); // network and gateway latency
    const outcomes = await sim.transport.send(batch);
    say(`accepted ${ids}`);
    await ack();
    return outcomes;
  },
};

const dispatcher = createDispatcher(db, slow, clock, logger, {
  ratePerSecond: 1000, // with pollMs 20: 20 messages claimed per pass, two bulk calls of 10
  pollMs: 20,
  bulkSize: 10,
  dailyCap: 0,
  maxAttempts: 5,
  retryBaseMs: 1000,
  staleSendingMs: 60_000,
});
say('ready');
dispatcher.start();
