import autocannon from 'autocannon';

/** GATEWAY_CALLBACK_KEY of the sabatili child; every target gets it in the query string (the others ignore it). */
export const GATEWAY_KEY = 'bench-gateway-callback-key-0123456789abcdef';

/** The three demo members with a household (fixtures/demo.json). */
export const PHONES = ['+22376000001', '+22376000002', '+22376000003'] as const;

/** Cumulative `text` of each hop, as the gateway sends it: coverage → beneficiaries, and payments → next page. */
export const PATHS = [
  ['', '1', '1*1'],
  ['', '3', '3*98'],
] as const;

export interface LoadOptions {
  port: number;
  connections: number;
  /** Seconds of load before the measured window: the same connections go on into the window, warm. */
  warmup: number;
  /** Seconds of the measured window. */
  duration: number;
  /** Prefix of the session ids. */
  tag: string;
  serviceCode: string;
  /** Called for each reply counted in the measured window. */
  onResponse?: () => void;
  /** Ends the measured window as soon as this many replies were counted in it (before `duration` if need be). */
  stopAfter?: number;
  /** Called as the measured window opens and closes (e.g. to sample the server's CPU and memory). */
  onWindow?: (edge: 'start' | 'end') => Promise<void>;
}

export interface LoadFigures {
  /** Replies to requests sent and answered within the measured window. */
  responses: number;
  /** Seconds: the window's length. */
  duration: number;
  rps: number;
  /** Milliseconds, exact (autocannon's own histogram rounds to whole milliseconds). */
  p50: number;
  p99: number;
  max: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  /** 2xx replies that do not start with `CON ` or `END `. */
  badBodies: number;
  /** A few offending replies, to show what went wrong. */
  samples: string[];
  /** Warm-up replies (not counted above). */
  warmupResponses: number;
}

const isScreen = (body: string) => body.startsWith('CON ') || body.startsWith('END ');

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/**
 * `connections` connections, each playing 3-hop sessions back to back: `warmup` seconds not
 * counted, then a `duration`-second window that is. Warm-up and window are one autocannon run,
 * so the window starts on warm keep-alive connections (a fresh batch of connections against a
 * saturated server waits up to seconds for its first replies, which would swamp a short run's p99).
 * Session n (a counter shared by all connections, so ids are distinct) takes path n % 2 with
 * phone ⌊n/2⌋ % 3, so every (path, phone) pair comes round every six sessions.
 */
export async function runLoad(o: LoadOptions): Promise<LoadFigures> {
  let sessions = 0;
  // The window, in performance.now() milliseconds; a reply counts when its request was sent and answered in it.
  let windowStart = Infinity;
  let windowEnd = Infinity;
  const inWindow = (sentAt: number, now: number) => sentAt >= windowStart && now <= windowEnd;

  let badBodies = 0;
  let errors = 0;
  let non2xx = 0;
  let warmupResponses = 0;
  const latencies: number[] = [];
  let reached: () => void = () => {};
  const enough = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const samples: string[] = [];
  const note = (what: string) => {
    if (samples.length < 3) samples.push(what.length > 160 ? `${what.slice(0, 160)}…` : what);
  };

  const requests: autocannon.Request[] = [0, 1, 2].map((hop) => ({
    method: 'POST',
    path: `/ussd?key=${GATEWAY_KEY}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    setupRequest(req, context) {
      // autocannon gives each connection a fresh context at the start of each pass over `requests`, i.e. each session.
      if (hop === 0) {
        const n = sessions++;
        context.sessionId = `${o.tag}-${n}`;
        context.path = PATHS[n % PATHS.length];
        context.phone = PHONES[Math.floor(n / PATHS.length) % PHONES.length];
      }
      const body = new URLSearchParams({
        sessionId: context.sessionId as string,
        serviceCode: o.serviceCode,
        phoneNumber: context.phone as string,
        networkCode: '61001',
        text: (context.path as readonly string[])[hop] as string,
      }).toString();
      return { ...req, body };
    },
    onResponse(status, body, context) {
      const now = performance.now();
      if (now < windowStart || now > windowEnd) return;
      if (status < 200 || status >= 300) note(`hop ${hop} of ${String(context.sessionId)}: HTTP ${status} ${JSON.stringify(body)}`);
      else if (!isScreen(body)) {
        badBodies++;
        note(`hop ${hop} of ${String(context.sessionId)}: ${JSON.stringify(body)}`);
      }
    },
  }));

  const instance = autocannon({
    url: `http://127.0.0.1:${o.port}`,
    connections: o.connections,
    // Stopped by hand when the window closes; autocannon stops at its next one-second tick.
    duration: o.warmup + o.duration + 60,
    pipelining: 1,
    timeout: 10,
    requests,
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    const now = performance.now();
    if (!inWindow(now - ms, now)) {
      if (now < windowStart) warmupResponses++;
      return;
    }
    latencies.push(ms);
    if (status < 200 || status >= 300) non2xx++;
    o.onResponse?.();
    if (o.stopAfter !== undefined && latencies.length >= o.stopAfter) reached();
  });
  instance.on('reqError', () => {
    const now = performance.now();
    if (now >= windowStart && now <= windowEnd) errors++;
  });

  const sleep = (s: number) => new Promise((resolve) => setTimeout(resolve, s * 1000));
  const drive = (async () => {
    await sleep(o.warmup);
    await o.onWindow?.('start');
    windowStart = performance.now();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, o.duration * 1000))), enough]);
    clearTimeout(timer);
    windowEnd = performance.now();
    await o.onWindow?.('end');
    instance.stop();
  })().catch((err: unknown) => {
    instance.stop();
    throw err;
  });
  await Promise.all([drive, instance]);

  const sorted = Float64Array.from(latencies).sort();
  const seconds = (windowEnd - windowStart) / 1000;
  return {
    responses: latencies.length,
    duration: seconds,
    rps: latencies.length / seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.length ? (sorted[sorted.length - 1] as number) : 0,
    non2xx,
    errors,
    badBodies,
    samples,
    warmupResponses,
  };
}
