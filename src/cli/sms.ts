import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { smsStats } from '../sms/stats.ts';
import type { Cli } from './context.ts';

/** `sabatili sms dispatch`: everything due now, then exit. */
export async function dispatch(cli: Cli): Promise<void> {
  const s = await cli.services();
  // Only what a crash left behind: a running server's calls in flight are younger than this.
  const recovered = s.dispatcher.recover(3 * s.config.SMS_TIMEOUT_MS);
  const r = await s.dispatcher.drain();
  cli.print(
    `SMS dispatched via ${s.transport.name}: ${r.sent} sent, ${r.retried} to retry later, ${r.failed} failed, ${r.expired} expired` +
      (recovered.confirmed + recovered.requeued > 0
        ? ` (after a crash: ${recovered.confirmed} confirmed, ${recovered.requeued} requeued)`
        : ''),
  );
}

/** `sabatili sms stats`. */
export async function stats(cli: Cli, opts: { json?: boolean }): Promise<void> {
  const st = smsStats((await cli.services()).db);
  if (opts.json) return cli.print(JSON.stringify(st, null, 2));
  // console.table's layout, written where the command writes.
  const out = new Writable({ write: (chunk, _enc, done) => void (cli.stdout.write(String(chunk)), done()) });
  new Console(out).table(st.byKind);
  const rate = st.deliveryRate === null ? 'n/a' : `${(st.deliveryRate * 100).toFixed(1)}%`;
  const cost =
    Object.entries(st.cost)
      .map(([cur, v]) => `${v} ${cur === 'XOF' ? 'FCFA' : cur}`)
      .join(', ') || '0';
  cli.print(
    `delivery rate ${rate}; cost ${cost}; ${st.segments} segments sent; ${st.optedOut} phones opted out; ${st.inboundUnmatched} inbound texts not understood (for UTM staff)`,
  );
}
