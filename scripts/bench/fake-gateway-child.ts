/** The fake Africa's Talking SMS API in its own process, so the drain bench measures sabatili's side only. */
import { startFakeAtGateway } from '../../src/simulator/fake-at-gateway.ts';

const gateway = await startFakeAtGateway({ apiKey: process.env.BENCH_AT_KEY ?? 'bench-key', username: 'bench' });
process.send?.({ type: 'ready', smsUrl: gateway.smsUrl });
process.on('message', (m: { type: string }) => {
  if (m.type === 'count') process.send?.({ type: 'count', accepted: gateway.accepted.length, requests: gateway.requests.length });
  if (m.type === 'exit') void gateway.close().then(() => process.exit(0));
});
