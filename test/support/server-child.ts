/**
 * The real server (`node bin/sabatili.js serve`) as a child process, for crash tests and
 * scripts/crash-run.ts: started on a free port and a database file of our choosing, killed with
 * SIGKILL at any moment, restarted on the same file. Plus a client that talks to it the way
 * Africa's Talking and the simulated subscriber do (POST /ussd, the simulator's wallet and SMS
 * APIs).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/sabatili.js', import.meta.url));
const PAUSE_HOOK = fileURLToPath(new URL('./pause-after-sql.mjs', import.meta.url));
export const SERVICE_CODE = '*384*123#';

/** The configuration the crash tests run with (short expiry, fast recovery sweep). */
export const CRASH_ENV = {
  PAYMENT_EXPIRY_SECONDS: '10',
  /** How often the recovery sweep runs (and once at start-up): added by the fix for issue 13. */
  PAYMENT_SWEEP_SECONDS: '1',
  /** How long past expiry before the operator is asked for a payment's status: added by the fix. */
  PAYMENT_STATUS_AFTER_SECONDS: '1',
} as const;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface ServerOptions {
  dbPath: string;
  port: number;
  /** Appended to, one line per line of the child's stdout and stderr (kept across restarts). */
  logFile?: string;
  env?: Record<string, string>;
}

export interface StartOptions {
  /** Pause (and announce `PAUSE …` on stderr) right after the first statement whose SQL matches (see pause-after-sql.mjs). */
  pauseAfterSql?: string;
  pauseMs?: number;
}

export class ServerChild {
  child: ChildProcess | null = null;
  starts = 0;
  kills = 0;
  private paused: Array<(line: string) => void> = [];
  private pausedLine: string | null = null;

  constructor(readonly opts: ServerOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.opts.port}`;
  }

  /** Starts the server on the database and resolves once GET /healthz answers 200. */
  async start(s: StartOptions = {}): Promise<void> {
    if (this.child) throw new Error('server already running');
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      NODE_ENV: 'development',
      PORT: String(this.opts.port),
      HOST: '127.0.0.1',
      DATABASE_PATH: this.opts.dbPath,
      LOG_LEVEL: 'info',
      ...CRASH_ENV,
      ...this.opts.env,
    };
    delete env.SABATILI_PAUSE_AFTER_SQL;
    if (s.pauseAfterSql) {
      env.SABATILI_PAUSE_AFTER_SQL = s.pauseAfterSql;
      env.SABATILI_PAUSE_MS = String(s.pauseMs ?? 5000);
    }
    const args = s.pauseAfterSql ? ['--import', PAUSE_HOOK, BIN, 'serve'] : [BIN, 'serve'];
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.starts++;
    this.pausedLine = null;
    const n = this.starts;
    let tail = '';
    const onData = (stream: string) => (d: Buffer) => {
      const text = d.toString();
      tail = (tail + text).slice(-4000);
      if (this.opts.logFile)
        appendFileSync(
          this.opts.logFile,
          text
            .split('\n')
            .filter(Boolean)
            .map((l) => `[${n} ${stream}] ${l}\n`)
            .join(''),
        );
      for (const line of text.split('\n')) {
        if (line.startsWith('PAUSE ')) {
          this.pausedLine = line;
          for (const w of this.paused.splice(0)) w(line);
        }
      }
    };
    child.stdout?.on('data', onData('out'));
    child.stderr?.on('data', onData('err'));
    let exited: string | null = null;
    child.once('exit', (code, signal) => {
      exited = `exit ${code ?? ''} ${signal ?? ''}`;
      if (this.child === child) this.child = null;
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exited) throw new Error(`the server exited while starting (${exited}):\n${tail}`);
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`the server did not answer /healthz within 30 s:\n${tail}`);
      }
      try {
        const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
  }

  /** Resolves with the PAUSE line once the child announced it (see StartOptions.pauseAfterSql). */
  waitPause(timeoutMs: number): Promise<string | null> {
    if (this.pausedLine) return Promise.resolve(this.pausedLine);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(null), timeoutMs);
      this.paused.push((line) => {
        clearTimeout(t);
        resolve(line);
      });
    });
  }

  /** kill -9, and waits until the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const gone = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    child.kill('SIGKILL');
    this.kills++;
    await gone;
    this.child = null;
  }

  /** A clean stop (SIGTERM), for the end of a run. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(t);
    this.child = null;
  }
}

// ---- the client: the gateway and the simulated subscriber ----

export interface Screen {
  status: number;
  body: string;
  end: boolean;
}

export class Client {
  constructor(readonly base: () => string) {}

  async ussd(sessionId: string, phone: string, text: string, timeoutMs = 10_000): Promise<Screen> {
    const res = await fetch(`${this.base()}/ussd`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ sessionId, serviceCode: SERVICE_CODE, phoneNumber: phone, networkCode: '61002', text }).toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await res.text();
    return { status: res.status, body, end: body.startsWith('END') };
  }

  async wallet(phone: string): Promise<WalletView | undefined> {
    const res = await fetch(`${this.base()}/simulator/api/wallet?phone=${encodeURIComponent(phone)}`, {
      signal: AbortSignal.timeout(5000),
    });
    return res.ok ? ((await res.json()) as WalletView) : undefined;
  }

  async openWallet(phone: string, balance: number, pin = '1234'): Promise<number> {
    const res = await fetch(`${this.base()}/simulator/api/wallet`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone, balance, pin }),
      signal: AbortSignal.timeout(5000),
    });
    return res.status;
  }

  async confirm(phone: string, pin = '1234'): Promise<{ status: number; body: Record<string, unknown> }> {
    return this.post('/simulator/api/wallet/confirm', { phone, pin });
  }

  async refuse(phone: string): Promise<{ status: number; body: Record<string, unknown> }> {
    return this.post('/simulator/api/wallet/refuse', { phone });
  }

  async smsIn(from: string, text: string): Promise<number> {
    return (await this.post('/simulator/api/sms', { from, text })).status;
  }

  async inbox(phone: string): Promise<Array<{ id: string; text: string; status: string }>> {
    const res = await fetch(`${this.base()}/simulator/api/sms?phone=${encodeURIComponent(phone)}`, { signal: AbortSignal.timeout(5000) });
    return res.ok ? ((await res.json()) as Array<{ id: string; text: string; status: string }>) : [];
  }

  private async post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${this.base()}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { text };
    }
    return { status: res.status, body: parsed };
  }
}

export interface WalletView {
  phone: string;
  balance: number;
  state: string;
  pinFailures: number;
  pending: { txnId: string; amount: number; fee: number; debit: number; merchantReference: string; expiresAt: string } | null;
}

// ---- reading screens without depending on their exact wording ----

/** The number of the menu line that matches, e.g. `2 Cotiser` → '2'. */
export function optionNumber(body: string, line: RegExp): string | undefined {
  for (const l of body.split('\n')) {
    const m = /^(\d+) (.*)$/.exec(l.trim());
    if (m && line.test(m[2] as string)) return m[1];
  }
  return undefined;
}

/** The numbered options of a screen, in order ('0'/'00' back and home excluded). */
export function options(body: string): string[] {
  return body
    .split('\n')
    .map((l) => /^(\d+) /.exec(l.trim())?.[1])
    .filter((n): n is string => n !== undefined && n !== '0' && n !== '00');
}

/** A quote: it shows an amount in FCFA, a total, and offers 1 (confirm) and 2 (cancel). */
export function isQuote(body: string): boolean {
  const o = options(body);
  return (
    body.startsWith('CON') &&
    /FCFA/.test(body) &&
    o[0] === '1' &&
    o[1] === '2' &&
    o.length === 2 &&
    /\d[\d  ]* FCFA[\s\S]*\d[\d  ]* FCFA/.test(body)
  );
}

/** The resume offer after a cut contribution: the main menu's six choices, with one more (the offer) after them. */
export function isResumeOffer(body: string): boolean {
  return body.startsWith('CON') && options(body).length === 7;
}

/** The key that takes a resume offer: its last choice. */
export function resumeKey(body: string): string {
  return options(body).at(-1) ?? '';
}

// ---- members beyond the demo ----

export interface Member {
  phone: string;
  lang: 'fr' | 'bm';
}

/**
 * Registers `count` households with an Orange wallet: `sabatili import members --yes` with a CSV
 * (one adherent each, French and Bambara alternating), their wallets linked as the office does
 * (a `wallets` row), and a simulated account opened through the simulator API with `balance`.
 * The server must be running (the simulator account is opened through it).
 */
export async function addMembers(
  server: ServerChild,
  client: Client,
  dir: string,
  count: number,
  balance: (i: number) => number,
): Promise<Member[]> {
  const members: Member[] = [];
  const lines = ['card_number,adherent_name,phone,language,mutuelle,joined_on,beneficiary_name,relation,birth_year,subsidised'];
  for (let i = 0; i < count; i++) {
    const local = `765${String(10000 + i).slice(-5)}`; // 76510000 …
    const phone = `+223${local}`;
    const lang = i % 2 === 0 ? 'fr' : 'bm';
    const mutuelle = i % 2 === 0 ? 'sik-klela' : 'kou-mpesso';
    const card = `${i % 2 === 0 ? 'SIK-KLE' : 'KOU-MPE'}-${5000 + i}`;
    const name = `Membre Crash${i}`;
    lines.push(`${card},${name},${local},${lang},${mutuelle},2026-01-05,${name},adherent,1980,non`);
    lines.push(`${card},${name},${local},${lang},${mutuelle},2026-01-05,Enfant Crash${i},child,2015,oui`);
    members.push({ phone, lang });
  }
  const csv = `${dir}/crash-members.csv`;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(csv, `${lines.join('\n')}\n`);
  const env = { ...process.env, NODE_ENV: 'development', DATABASE_PATH: server.opts.dbPath, LOG_LEVEL: 'warn' };
  const r = spawnSync(process.execPath, [BIN, 'import', 'members', csv, '--yes'], { cwd: ROOT, env, encoding: 'utf8' });
  if (r.status !== 0 || !new RegExp(`${count} households \\(\\d+ beneficiaries\\) imported`).test(r.stdout))
    throw new Error(`import members failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  // Link each household's wallet, as the office's "link a wallet" action does.
  const db = new Database(server.opts.dbPath, { timeout: 10_000 });
  try {
    const link = db.prepare(
      `INSERT INTO wallets (household_id, operator, msisdn, linked_at)
       SELECT id, 'orange_money', phone, ? FROM households h WHERE phone = ?
         AND NOT EXISTS (SELECT 1 FROM wallets w WHERE w.msisdn = h.phone AND w.unlinked_at IS NULL)`,
    );
    db.transaction(() => {
      for (const m of members) {
        if (link.run(new Date().toISOString(), m.phone).changes !== 1) {
          const known = db.prepare('SELECT count(*) FROM households WHERE phone = ?').pluck().get(m.phone);
          if (!known) throw new Error(`household of ${m.phone} not imported`);
        }
      }
    })();
  } finally {
    db.close();
  }
  for (let i = 0; i < members.length; i++) {
    const m = members[i] as Member;
    const status = await client.openWallet(m.phone, balance(i));
    if (status >= 300 && status !== 409) throw new Error(`opening the simulated wallet of ${m.phone}: HTTP ${status}`);
  }
  return members;
}

/** The demo members with an Orange wallet (seed: fixtures/demo.json). */
export const DEMO_MEMBERS: Member[] = [
  { phone: '+22376000001', lang: 'fr' },
  { phone: '+22376000002', lang: 'fr' },
  { phone: '+22376000003', lang: 'bm' },
];
