import type { Clock } from '../clock.ts';
import type { Db } from '../db/connection.ts';
import { createSimulatedInboxStore, type SimSmsRow } from '../db/simulator.ts';
import { withGatewayKey } from '../http/gateway-key.ts';
import { smsEncoding } from '../i18n/gsm7.ts';
import { type IdSource, randomIds } from '../ids.ts';
import type { Logger } from '../log.ts';
import type { RecipientOutcome, SmsBatch, SmsTransport } from '../sms/transport.ts';

/** A message in a simulated phone's inbox, as the simulator's API shows it (an ISO time). */
export interface SimulatedSms extends Omit<SimSmsRow, 'createdMs'> {
  createdAt: string;
}

export interface SimulatorSmsOptions {
  /** Phones that are "switched off": their delivery reports say AbsentSubscriber. */
  absentPhones: ReadonlySet<string>;
  /** How long after sending the delivery report is posted. */
  deliveryDelayMs: number;
  /** Where delivery reports go (the app's own `/sms/delivery`), once the server listens. */
  deliveryUrl: () => string | undefined;
  /** GATEWAY_CALLBACK_KEY: the gateway's callback URLs carry it. */
  gatewayKey?: string;
  /** Where the random part of a message's gateway id comes from. Default: random. */
  ids?: IdSource;
}

/** Simulated handsets' SMS inboxes, and the gateway side of sending to them. */
export function createSimulatorSms(db: Db, clock: Clock, logger: Logger, opts: SimulatorSmsOptions) {
  const inboxes = createSimulatedInboxStore(db);
  const pending = new Set<NodeJS.Timeout>();
  const ids = opts.ids ?? randomIds;

  function store(batch: SmsBatch, segments: number, nowMs: number) {
    const messages = batch.recipients.map(({ messageId, to }) => ({
      outboxId: messageId,
      to,
      providerId: `SIM-${messageId}-${ids.hex(4)}`,
    }));
    const kept = inboxes.storeSent(messages, batch.from ?? null, batch.text, segments, nowMs);
    return messages.map((m, i) => ({ messageId: m.outboxId, to: m.to, providerId: kept[i] as string }));
  }

  function report(providerId: string, to: string): void {
    const url = opts.deliveryUrl();
    if (!url) return;
    const status = opts.absentPhones.has(to) ? 'AbsentSubscriber' : 'Success';
    const t = setTimeout(() => {
      pending.delete(t);
      inboxes.setStatus(providerId, status);
      const form: Record<string, string> = { id: providerId, status, phoneNumber: to, networkCode: '61001', retryCount: '0' };
      if (status !== 'Success') form.failureReason = 'AbsentSubscriber';
      fetch(withGatewayKey(`${url}/sms/delivery`, opts.gatewayKey), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      }).catch((err: unknown) => logger.warn({ err, to }, 'simulator: delivery report not posted'));
    }, opts.deliveryDelayMs);
    pending.add(t);
  }

  const transport: SmsTransport & { confirm(messageIds: number[]): Map<number, string> } = {
    name: 'simulator',
    maxBatch: 1000,
    async send(batch: SmsBatch): Promise<RecipientOutcome[]> {
      const segments = smsEncoding(batch.text).segments;
      const stored = store(batch, segments, clock.now().getTime());
      return stored.map(({ messageId, to, providerId }) => {
        report(providerId, to);
        return { messageId, to, outcome: 'accepted', providerId, cost: `XOF ${25 * segments}`, code: 101 } as const;
      });
    },
    confirm(messageIds: number[]): Map<number, string> {
      const out = new Map<number, string>();
      for (const id of messageIds) {
        const providerId = inboxes.providerIdOf(id);
        if (providerId) out.set(id, providerId);
      }
      return out;
    },
  };

  return {
    transport,
    /** A message the fake Africa's Talking gateway accepted: into the handset's inbox, with its delivery report. */
    receive(m: { providerId: string; to: string; from: string | null; text: string; segments: number }): void {
      inboxes.receive(m, clock.now().getTime());
      report(m.providerId, m.to);
    },
    /** Messages a simulated phone received, oldest first. */
    inbox(phone: string): SimulatedSms[] {
      return inboxes.inbox(phone).map(({ createdMs, ...m }) => ({
        ...m,
        createdAt: new Date(createdMs).toISOString(),
      }));
    },
    /** Cancels delivery reports not yet posted (shutdown, tests). */
    close(): void {
      for (const t of pending) clearTimeout(t);
      pending.clear();
    },
  };
}

export type SimulatorSms = ReturnType<typeof createSimulatorSms>;
